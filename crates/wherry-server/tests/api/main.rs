//! The API through the router, in process (`app(state).oneshot(request)`),
//! on SQLite and on PostgreSQL.

mod access;
mod attack;
mod fhir;
mod identity;
mod insight;
mod journeys;
mod openapi;
mod push;
mod search;
mod sensors;
mod steward;
mod ui;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::Mutex;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use wherry_server::{AppState, app};

/// A shipped example manifest.
pub fn manifest(source: &str) -> wherry_ingest::Manifest {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/sources")
        .join(format!("{source}.toml"));
    wherry_ingest::load_manifest(&path).unwrap().0
}

/// Sends `req` and reads the JSON answer.
pub async fn send(state: &Arc<AppState>, req: Request<Body>) -> (StatusCode, Value) {
    let res = app(state.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "{status}: not JSON ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (status, body)
}

/// `method uri` as `token` for `purpose`, with a JSON `body` if given.
pub async fn call(
    state: &Arc<AppState>,
    method: &str,
    uri: &str,
    token: &str,
    purpose: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let body = body.map(|b| ("application/json", b.to_string()));
    call_raw(state, method, uri, token, purpose, body).await
}

/// `method uri` as `token` for `purpose`, with a body of a content type.
pub async fn call_raw(
    state: &Arc<AppState>,
    method: &str,
    uri: &str,
    token: &str,
    purpose: &str,
    body: Option<(&str, String)>,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("wherry-purpose", purpose);
    let req = match body {
        Some((kind, b)) => req.header("content-type", kind).body(Body::from(b)),
        None => req.body(Body::empty()),
    };
    send(state, req.unwrap()).await
}

/// A Python with fhir.resources and openapi-spec-validator from PyPI, made
/// once under the target directory.
pub fn python() -> PathBuf {
    static MADE: Mutex<()> = Mutex::new(());
    let _one_at_a_time = MADE.lock().unwrap_or_else(|e| e.into_inner());
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("py-venv");
    let python = venv.join("bin/python");
    // Named for the packages it holds: a venv made for fewer is made again.
    let ready = venv.join("ready-chirpstack-api");
    if !ready.exists() {
        let run = |cmd: &mut Command| {
            let out = cmd.output().expect("python3 runs");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv));
        run(Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "-q",
            "fhir.resources==8.3.0",
            "openapi-spec-validator==0.7.2",
            "chirpstack-api==4.20.0",
        ]));
        std::fs::write(&ready, "").unwrap();
    }
    python
}
