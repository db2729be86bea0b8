//! Refused requests. A layer gives every request its client's address and
//! a slot the identity extractors fill with the caller's name; when the
//! answer is a refusal (400, 401, 403, 429) it is counted in `/metrics`
//! and written to the store's security log: who (if identified), from
//! where, the method and route template asked for, the status and the
//! refusal's code and reason. Never a path, query, header value or body,
//! so never the personal data asked for.
//!
//! The log is written at most [`LOGGED_PER_ADDRESS`] a second per address
//! (a flood is counted, not written row by row), and failed
//! authentications are limited per address ([`AUTH_FAILURES`]): past the
//! limit the answer is 429 without looking the token up.
//!
//! [`AUTH_FAILURES`]: wherry_access::limits::AUTH_FAILURES

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use wherry_access::limits::Limits;

use crate::AppState;

/// Refusals written to the security log per second per address, after a
/// burst of 50.
pub const LOGGED_PER_ADDRESS: Limits = Limits {
    requests_per_second: 2.0,
    burst: 50,
};

/// The client's address (the peer's IP; `unknown` in-process).
#[derive(Debug, Clone)]
pub struct Client(pub String);

/// Where the identity extractors write who the caller is.
#[derive(Debug, Clone, Default)]
pub(crate) struct Identified(Arc<Mutex<Option<String>>>);

impl Identified {
    pub(crate) fn set(&self, name: &str) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(name.to_string());
    }

    fn get(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// A refusal's code and reason, as the response told the caller (set by
/// `ApiError`; a page's refusal has none).
#[derive(Debug, Clone)]
pub(crate) struct Refused {
    pub code: &'static str,
    pub reason: String,
}

/// Notes who a request's caller is, for the security log.
pub(crate) fn identified(extensions: &axum::http::Extensions, name: &str) {
    if let Some(slot) = extensions.get::<Identified>() {
        slot.set(name);
    }
}

/// The client address of a request.
pub(crate) fn client(extensions: &axum::http::Extensions) -> String {
    extensions
        .get::<Client>()
        .map_or_else(|| "unknown".to_string(), |c| c.0.clone())
}

/// The layer: address and slot in, refusals counted and logged out.
pub(crate) async fn observe(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string());
    let slot = Identified::default();
    request.extensions_mut().insert(Client(address.clone()));
    request.extensions_mut().insert(slot.clone());
    let (method, route) = crate::metrics::labels(&request);
    let response = next.run(request).await;
    let status = response.status().as_u16();
    if !matches!(status, 400 | 401 | 403 | 429) {
        return response;
    }
    let logged = state.refusal_log.take(&address).is_ok();
    state.metrics.refused(status, logged);
    if logged {
        let (code, reason) = match response.extensions().get::<Refused>() {
            Some(r) => (r.code.to_string(), r.reason.clone()),
            None => (
                "page".to_string(),
                response
                    .status()
                    .canonical_reason()
                    .unwrap_or("refused")
                    .to_string(),
            ),
        };
        let refusal = wherry_store::Refusal {
            at: wherry_core::clock::now(),
            user_name: slot.get(),
            address,
            method: method.to_string(),
            route,
            status: i64::from(status),
            code,
            reason,
            ..Default::default()
        };
        if let Err(e) = state.store().record_refusal(&refusal).await {
            crate::request::log_error("security_log_failed", "", &e.to_string());
        }
    }
    response
}
