//! The OpenAPI document served at /openapi.json is valid OpenAPI 3.1 (by
//! openapi-spec-validator from PyPI) and names exactly the routes the code
//! serves, method by method.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use wherry_server::AppState;
use wherry_store::testing::stores;

use crate::{python, send};

/// (method, path) of every `.route(...)` in the router's source.
fn routes_in_code() -> BTreeSet<(String, String)> {
    let src = include_str!("../../src/lib.rs");
    let mut out = BTreeSet::new();
    let mut rest = src;
    while let Some(i) = rest.find(".route(") {
        rest = &rest[i + ".route(".len()..];
        let path = rest.split('"').nth(1).unwrap().to_string();
        // `get(handler)` or a chain, `post(a).delete(b)`.
        let mut after = rest[rest.find(',').unwrap() + 1..].trim_start();
        loop {
            let (method, tail) = after.split_once('(').unwrap();
            out.insert((method.to_string(), path.clone()));
            let close = tail.find(')').unwrap();
            match tail[close + 1..].strip_prefix('.') {
                Some(next) => after = next,
                None => break,
            }
        }
    }
    out
}

#[tokio::test]
async fn the_served_document_is_valid_openapi_3_1_and_matches_the_routes() {
    let t = stores().await.into_iter().next().unwrap();
    t.store.migrate().await.unwrap();
    let state = Arc::new(AppState::new(t.store.clone(), None));
    let (status, doc) = send(
        &state,
        Request::get("/openapi.json").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");

    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            documented.insert((method.clone(), path.clone()));
            assert!(
                op["responses"].is_object(),
                "{method} {path} documents its responses"
            );
        }
    }
    let code = routes_in_code();
    assert!(code.len() >= 14, "{code:?}");
    assert_eq!(
        documented, code,
        "the document and the router name the same operations"
    );

    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), doc.to_string()).unwrap();
    let out = std::process::Command::new(python())
        .args(["-c", "import json, sys\nfrom openapi_spec_validator import validate\nvalidate(json.load(open(sys.argv[1])))"])
        .arg(file.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    t.finish().await;
}
