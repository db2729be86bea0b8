//! Prometheus metrics at `/metrics` and one structured log line per
//! request, both from one middleware. Neither holds personal data: the
//! route is the path's template (`/api/v1/residents/{id}`), never the path
//! itself, and there are no query strings, headers or bodies.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0,
];

/// Whether two byte strings are equal, in time that does not depend on
/// where they differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Debug, Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// Request counts and latencies by method, route and status; refusals by
/// status.
#[derive(Debug, Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
    /// Status → (refusals, of which not written to the security log).
    refusals: Mutex<BTreeMap<u16, (u64, u64)>>,
}

impl Metrics {
    /// Counts a refusal, `logged` or not (an address over its log limit).
    pub(crate) fn refused(&self, status: u16, logged: bool) {
        let mut all = self.refusals.lock().unwrap_or_else(|e| e.into_inner());
        let (n, unlogged) = all.entry(status).or_default();
        *n += 1;
        if !logged {
            *unlogged += 1;
        }
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut all = self.series.lock().unwrap_or_else(|e| e.into_inner());
        let s = all
            .entry((method.to_string(), route.to_string(), status))
            .or_default();
        s.count += 1;
        s.sum += seconds;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                s.buckets[i] += 1;
            }
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        {
            let refusals = self.refusals.lock().unwrap_or_else(|e| e.into_inner());
            out.push_str(
                "# HELP wherry_security_refusals_total Requests refused (400, 401, 403, 429).\n",
            );
            out.push_str("# TYPE wherry_security_refusals_total counter\n");
            for (status, (n, _)) in refusals.iter() {
                let _ = writeln!(
                    out,
                    "wherry_security_refusals_total{{status=\"{status}\"}} {n}"
                );
            }
            out.push_str("# HELP wherry_security_refusals_unlogged_total Refusals over an address's security-log limit: counted, not written.\n");
            out.push_str("# TYPE wherry_security_refusals_unlogged_total counter\n");
            for (status, (_, u)) in refusals.iter() {
                let _ = writeln!(
                    out,
                    "wherry_security_refusals_unlogged_total{{status=\"{status}\"}} {u}"
                );
            }
        }
        let all = self.series.lock().unwrap_or_else(|e| e.into_inner());
        out.push_str("# HELP wherry_http_requests_total HTTP requests answered.\n");
        out.push_str("# TYPE wherry_http_requests_total counter\n");
        for ((m, r, s), v) in all.iter() {
            let _ = writeln!(
                out,
                "wherry_http_requests_total{{method=\"{m}\",route=\"{r}\",status=\"{s}\"}} {}",
                v.count
            );
        }
        out.push_str("# HELP wherry_http_request_duration_seconds Time to answer.\n");
        out.push_str("# TYPE wherry_http_request_duration_seconds histogram\n");
        for ((m, r, s), v) in all.iter() {
            let labels = format!("method=\"{m}\",route=\"{r}\",status=\"{s}\"");
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "wherry_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}",
                    v.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "wherry_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                v.count
            );
            let _ = writeln!(
                out,
                "wherry_http_request_duration_seconds_sum{{{labels}}} {}",
                v.sum
            );
            let _ = writeln!(
                out,
                "wherry_http_request_duration_seconds_count{{{labels}}} {}",
                v.count
            );
        }
        out
    }
}

/// The method as a label: one of HTTP's standard methods, or `other`, so
/// that requests with invented methods cannot grow `/metrics` without end.
pub(crate) fn method_label(m: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// A request's method and route template as labels (bounded sets of
/// values: never the path itself).
pub(crate) fn labels(request: &Request) -> (&'static str, String) {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_string();
    (method_label(request.method()), route)
}

/// Times each request, counts it, and logs one JSON line (when logging
/// is on) with the request id the request layer gave it.
pub(crate) async fn observe(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let (method, route) = labels(&request);
    let response = next.run(request).await;
    let seconds = start.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    state.metrics.observe(method, &route, status, seconds);
    if state.log_requests {
        let id = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let line = serde_json::json!({
            "at": wherry_core::clock::now(),
            "level": if status >= 500 { "error" } else { "info" },
            "event": "request",
            "request_id": id,
            "method": method,
            "route": route,
            "status": status,
            "ms": (seconds * 1000.0 * 1000.0).round() / 1000.0,
        });
        eprintln!("{line}");
    }
    response
}

/// `GET /metrics`: open, unless the configuration names a token
/// (`metrics_token`), which must then come as `Authorization: Bearer …`.
pub(crate) async fn metrics(
    State(state): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
) -> Response {
    if let Some(want) = &state.metrics_token {
        let sent = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !sent.is_some_and(|t| constant_time_eq(t.as_bytes(), want.as_bytes())) {
            return crate::ApiError::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "unauthorised",
                "/metrics needs the metrics token as `Authorization: Bearer <token>`",
            )
            .into_response();
        }
    }
    let mut text = state.metrics.render();
    crate::integrations::render(&state, &mut text);
    ([("content-type", "text/plain; version=0.0.4")], text).into_response()
}
