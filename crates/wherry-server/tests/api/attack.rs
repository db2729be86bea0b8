//! Regression tests for the findings of the attack on the running hub
//! (issue 12), one or more per finding, each named after it and each
//! through the router (HTTP requests and responses) on every backend
//! where storage is involved.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use wherry_server::{AppState, app};
use wherry_store::testing::stores;

/// Sends `req`: status, headers and body text.
pub async fn raw(
    state: &Arc<AppState>,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let res = app(state.clone()).oneshot(req).await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

#[tokio::test]
async fn finding_08_invented_methods_do_not_grow_metrics_and_a_token_can_guard_them() {
    let t = stores().await.into_iter().next().unwrap();
    t.store.migrate().await.unwrap();
    let state = Arc::new(AppState::new(t.store.clone(), None));
    for i in 0..200 {
        let req = Request::builder()
            .method(format!("BREW{i}").as_str())
            .uri(format!("/no/such/path/{i}"))
            .body(Body::empty())
            .unwrap();
        raw(&state, req).await;
    }
    let get = |auth: Option<&str>| {
        let mut r = Request::get("/metrics");
        if let Some(a) = auth {
            r = r.header("authorization", format!("Bearer {a}"));
        }
        r.body(Body::empty()).unwrap()
    };
    let (status, _, text) = raw(&state, get(None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!text.contains("BREW"), "an invented method is no label");
    let series = text
        .lines()
        .filter(|l| l.starts_with("wherry_http_requests_total{"))
        .collect::<Vec<_>>();
    assert_eq!(series.len(), 1, "{series:?}");
    assert!(
        series[0].contains("method=\"other\",route=\"unmatched\"") && series[0].ends_with(" 200"),
        "{series:?}"
    );

    let mut guarded = AppState::new(t.store.clone(), None);
    guarded.metrics_token = Some("s3cret-metrics".into());
    let guarded = Arc::new(guarded);
    for auth in [None, Some("wrong"), Some("s3cret-metric")] {
        let (status, _, body) = raw(&guarded, get(auth)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert!(!body.contains("wherry_http"), "{body}");
    }
    let (status, _, text) = raw(&guarded, get(Some("s3cret-metrics"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("wherry_http_requests_total"), "{text}");
    t.finish().await;
}

#[tokio::test]
async fn finding_15_hsts_when_cookies_are_secure_and_secure_is_the_default_outside_the_demo() {
    let t = stores().await.into_iter().next().unwrap();
    t.store.migrate().await.unwrap();
    let config = wherry_server::config::Config::parse("").unwrap();
    assert!(
        config.secure_cookies(),
        "secure unless configured otherwise"
    );
    let plain = wherry_server::config::Config::parse("secure_cookies = false").unwrap();
    assert!(!plain.secure_cookies());
    for secure in [true, false] {
        let mut state = AppState::new(t.store.clone(), None);
        state.secure_cookies = secure;
        let state = Arc::new(state);
        for uri in ["/sign-in", "/healthz", "/api/v1/residents"] {
            let (_, headers, _) = raw(&state, Request::get(uri).body(Body::empty()).unwrap()).await;
            let hsts = headers
                .get("strict-transport-security")
                .map(|v| v.to_str().unwrap().to_string());
            if secure {
                let hsts = hsts.unwrap_or_else(|| panic!("{uri}: no HSTS"));
                assert!(hsts.contains("max-age=31536000"), "{hsts}");
            } else {
                assert_eq!(hsts, None, "{uri}: HSTS over plain HTTP");
            }
        }
    }
    t.finish().await;
}
