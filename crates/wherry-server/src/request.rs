//! Every request's id, as a layer: a random id put in the request's
//! extensions (handlers take it as [`RequestId`], and audit entries carry
//! it) and sent back in `x-request-id`; a failure of ours (5xx) is logged
//! as one JSON line naming that id.

use axum::extract::{FromRequestParts, Request};
use axum::http::HeaderValue;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use serde_json::json;

use crate::error::{ApiError, Internal};

/// This request's id: 16 random bytes, hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

impl RequestId {
    fn new() -> Self {
        let mut bytes = [0u8; 16];
        Self(match getrandom::fill(&mut bytes) {
            Ok(()) => wherry_core::clock::hex(&bytes),
            Err(_) => "unavailable".into(),
        })
    }

    /// As text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Gives the request its id, sends the id back, and logs a 5xx's cause.
pub async fn layer(mut request: Request, next: Next) -> Response {
    let id = RequestId::new();
    request.extensions_mut().insert(id.clone());
    let mut response = next.run(request).await;
    if let Ok(v) = HeaderValue::from_str(&id.0) {
        response.headers_mut().insert("x-request-id", v);
    }
    if let Some(Internal(why)) = response.extensions_mut().remove::<Internal>() {
        log_error("internal", &id.0, &why);
    }
    response
}

/// One JSON line on standard error: an error of ours, with the request id
/// (`why` names tables, rules and paths, never personal data).
pub fn log_error(event: &str, request: &str, why: &str) {
    eprintln!(
        "{}",
        json!({"at": wherry_core::clock::now(), "level": "error", "event": event, "request_id": request, "error": why})
    );
}

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(RequestId::new))
    }
}
