//! Wherry's HTTP API (issue 5, in progress): the resident view, shown to
//! each caller only as their role, their declared purpose and each source's
//! data sharing agreement allow, with every disclosure in the audit log
//! before the response leaves.
//!
//! Built so far: bearer-token identity, the `Wherry-Purpose` header checked
//! against the role's purposes, `GET /api/v1/residents/{id}` (the person's
//! linked records, each cut down to what its agreement grants the purpose,
//! and the sources withheld named without their content), `/healthz`, JSON
//! errors, request ids.
//!
//! Invariant: a response that discloses personal data is sent only after
//! its audit entry is committed; a refused request discloses nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

mod cache;
pub mod config;
mod fhir;
pub mod limits;
pub mod metrics;
mod push;
mod residents;
mod rights;
mod steward;
mod ui;
pub mod view;

use serde_json::{Value, json};
use wherry_access::Policy;
use wherry_core::{Purpose, Role};
use wherry_hub::Matcher;
use wherry_store::{AuditEntry, Store};

/// What every request handler shares.
pub struct AppState {
    /// The store.
    pub store: Store,
    /// Which purposes each role may use.
    pub policy: Policy,
    /// The real-time matcher for search, partner pushes and `$match`
    /// (`None` until a linkage run has stored a model).
    pub matcher: Option<Matcher>,
    /// OpenID Connect token verification, when configured.
    pub oidc: Option<wherry_access::oidc::Verifier>,
    /// Per-caller rate limits.
    pub limiter: limits::RateLimiter,
    /// Request counts and latencies for `/metrics`.
    pub metrics: metrics::Metrics,
    /// Whether to log a JSON line per request on standard error.
    pub log_requests: bool,
    /// Whether the UI's session cookie is marked `Secure` (set when the
    /// server is reached over TLS, as in production behind a proxy).
    pub secure_cookies: bool,
    auditor: cache::Auditor,
    sessions: ui::Sessions,
    tokens: cache::Tokens,
    manifests: cache::ManifestCache,
}

impl AppState {
    /// The state over `store`, with the default policy, no OpenID Connect,
    /// the default rate limits and no request log.
    pub fn new(store: Store, matcher: Option<Matcher>) -> Self {
        Self {
            store,
            policy: Policy::default(),
            matcher,
            oidc: None,
            limiter: limits::RateLimiter::new(config::Limits::default()),
            metrics: metrics::Metrics::default(),
            log_requests: false,
            secure_cookies: false,
            auditor: cache::Auditor::default(),
            sessions: ui::Sessions::default(),
            tokens: cache::Tokens::default(),
            manifests: cache::ManifestCache::default(),
        }
    }
}

/// The API as a router over `state`.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/v1/residents", get(residents::search))
        .route("/api/v1/residents/{id}", get(residents::resident))
        .route("/api/v1/sources/{source}/records", post(push::push))
        .route("/api/v1/sources/{source}/events", post(push::push_event))
        .route(
            "/api/v1/residents/{id}/subject-access",
            get(rights::subject_access),
        )
        .route("/api/v1/residents/{id}/erasure", post(rights::erasure))
        .route("/api/v1/review", get(steward::review_list))
        .route("/api/v1/review/{id}/{verb}", post(steward::review_settle))
        .route("/api/v1/links", post(steward::link))
        .route("/api/v1/unlinks", post(steward::unlink))
        .route("/api/v1/changes", get(steward::changes))
        .route("/fhir/Patient/$match", post(fhir::patient_match))
        .route("/metrics", get(metrics::metrics))
        .merge(ui::routes())
        .route("/openapi.json", get(openapi))
        .fallback(no_route)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn(ui::security_headers))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::observe,
        ))
        .with_state(state)
}

/// Largest request body taken (a pushed record is a few kilobytes).
pub const MAX_BODY: usize = 1 << 20;

/// Any path the API does not have.
pub(crate) async fn no_route() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_route",
        "the API has no such path",
    )
}

/// Serves `app` on `listen` until interrupted (Ctrl-C or SIGTERM),
/// finishing requests in flight. Every `reload_seconds` the matcher looks
/// for ingests and linkage runs made outside the server and re-reads its
/// index when there are any.
pub async fn serve(listen: &str, state: Arc<AppState>, reload_seconds: u64) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    serve_on(listener, state, reload_seconds).await
}

/// [`serve`] on a listener already bound (a test binds port 0).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    reload_seconds: u64,
) -> std::io::Result<()> {
    let mut background = Vec::new();
    if state.store.backend() == wherry_store::Backend::Sqlite {
        let store = state.store.clone();
        background.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_millis(250));
            loop {
                tick.tick().await;
                if let Err(e) = store.checkpoint().await {
                    eprintln!("{}", json!({"at": wherry_store::now(), "level": "error", "event": "checkpoint_failed", "error": e.to_string()}));
                }
            }
        }));
    }
    if state.matcher.is_some() && reload_seconds > 0 {
        let watched = state.clone();
        background.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(reload_seconds));
            loop {
                tick.tick().await;
                if let Some(m) = &watched.matcher {
                    match m.refresh().await {
                        Ok(true) => eprintln!(
                            "{}",
                            json!({"at": wherry_store::now(), "level": "info", "event": "matcher_reloaded"})
                        ),
                        Ok(false) => {}
                        Err(e) => eprintln!(
                            "{}",
                            json!({"at": wherry_store::now(), "level": "error", "event": "matcher_reload_failed", "error": e.to_string()})
                        ),
                    }
                }
            }
        }));
    }
    let served = axum::serve(listener, app(state))
        .with_graceful_shutdown(async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("a SIGTERM handler");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        })
        .await;
    for task in background {
        task.abort();
    }
    served
}

/// A refused or failed request: a status and a JSON body that names the
/// reason and never personal data.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after: Option<u64>,
}

impl ApiError {
    fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    fn internal(what: &str, e: impl std::fmt::Display) -> Self {
        // The log names the operation and the store's or engine's error,
        // which name tables, rules and paths, never values.
        eprintln!(
            "{}",
            json!({"at": wherry_store::now(), "level": "error", "event": "internal", "during": what, "error": e.to_string()})
        );
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the request could not be completed",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.code, "message": self.message});
        let mut response = (self.status, Json(body)).into_response();
        if let Some(s) = self.retry_after {
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from(s));
        }
        response
    }
}

/// Who is asking, and why.
pub(crate) struct Caller {
    name: String,
    role: Role,
    purpose: Purpose,
    /// The written reason, when the role's purposes were overridden.
    break_glass: Option<String>,
}

impl Caller {
    /// An audit entry for this caller's request: who, role, purpose,
    /// break-glass reason, `action`, `person`, the request id; no sources
    /// or fields (set them where something is disclosed).
    fn entry(&self, action: &str, person: Option<String>, request: &str) -> AuditEntry {
        AuditEntry {
            user_name: self.name.clone(),
            role: self.role.to_string(),
            purpose: self.purpose.to_string(),
            action: action.into(),
            person_id: person,
            sources: "[]".into(),
            fields: "[]".into(),
            request_id: request.into(),
            break_glass: self.break_glass.clone(),
            ..AuditEntry::default()
        }
    }
}

/// Longest break-glass reason taken.
const MAX_REASON: usize = 500;

/// The caller from `Authorization: Bearer …` and the purpose from
/// `Wherry-Purpose`, which the role must be allowed to use.
async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let unauthorised = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorised",
            "send an API token as `Authorization: Bearer <token>`",
        )
    };
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(unauthorised)?;
    let (name, role) = identify(state, token).await?;
    if let Err(wait) = state.limiter.take(&name) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many requests from this caller: try again in {wait} s"),
        )
        .retry_after(wait));
    }
    let purpose = headers
        .get("wherry-purpose")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "purpose_required",
                format!(
                    "name the purpose of this read in the Wherry-Purpose header: one of {}",
                    Purpose::NAMES.join(", ")
                ),
            )
        })?
        .parse::<Purpose>()
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "unknown_purpose", e))?;
    // Break-glass: a person (not a partner's system, not an analyst, who
    // sees pseudonymised data only) may override the role's purposes with
    // a written reason; the audit entry carries it, for review.
    let reason = headers
        .get("wherry-break-glass")
        .map(|v| v.to_str().map(str::trim).unwrap_or(""));
    let break_glass = match (state.policy.check(role, purpose), reason) {
        (Ok(()), _) => None,
        (Err(e), None) => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "purpose_not_allowed",
                e.to_string(),
            ));
        }
        (Err(_), Some(_)) if matches!(role, Role::PartnerSystem | Role::Analyst) => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "break_glass_not_allowed",
                format!("the {role} role may not override its purposes"),
            ));
        }
        (Err(_), Some(r)) if r.is_empty() || r.len() > MAX_REASON => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "break_glass_reason",
                format!(
                    "a break-glass override needs a written reason of 1 to {MAX_REASON} characters"
                ),
            ));
        }
        (Err(_), Some(r)) => Some(r.to_string()),
    };
    Ok(Caller {
        name,
        role,
        purpose,
        break_glass,
    })
}

/// A JSON body, or a 400/413/415/422 naming what is wrong with it.
fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    match body {
        Ok(Json(v)) => Ok(v),
        Err(r) => {
            let status = r.status();
            let code = match status {
                StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
                StatusCode::UNSUPPORTED_MEDIA_TYPE => "json_required",
                StatusCode::UNPROCESSABLE_ENTITY => "invalid_body",
                _ => "bad_json",
            };
            // serde's message names the field and the line and column; it
            // holds no submitted value beyond a type's name.
            Err(ApiError::new(status, code, r.body_text()))
        }
    }
}

/// The user a bearer token names: an OpenID Connect JWT verified against
/// the provider's keys, or a Wherry API token looked up by its hash.
pub(crate) async fn identify(state: &AppState, token: &str) -> Result<(String, Role), ApiError> {
    let unauthorised = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorised",
            "send an API token as `Authorization: Bearer <token>`",
        )
    };
    let token = token.trim();
    let who = match &state.oidc {
        Some(v) if wherry_access::oidc::is_jwt(token) => v
            .verify(token)
            .map_err(|e| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorised", e.to_string()))?,
        _ => {
            let hash = wherry_access::token::token_hash(token);
            match state.tokens.get(&hash) {
                Some(known) => known,
                None => {
                    let (name, role) = state
                        .store
                        .user_by_token(&hash)
                        .await
                        .map_err(|e| ApiError::internal("reading users", e))?
                        .ok_or_else(unauthorised)?;
                    let role: Role = role
                        .parse()
                        .map_err(|e: String| ApiError::internal("a stored role", e))?;
                    state.tokens.put(hash, name.clone(), role);
                    (name, role)
                }
            }
        }
    };
    Ok(who)
}

/// The real-time matcher, or 503 until a linkage run has stored a model.
fn matcher(state: &AppState) -> Result<&Matcher, ApiError> {
    state.matcher.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_linked",
            "no linkage run has been made yet: run `wherry link run`, then restart the server",
        )
    })
}

/// `response` with the request's id in `x-request-id`.
fn with_request_id(mut response: Response, request: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(request) {
        response.headers_mut().insert("x-request-id", v);
    }
    response
}

/// A new request id: 16 random bytes, hex.
fn request_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        return "unavailable".into();
    }
    wherry_store::hex(&bytes)
}

/// The OpenAPI 3.1 document of this API (`crates/wherry-server/openapi.json`;
/// a test keeps it in step with the routes).
pub const OPENAPI: &str = include_str!("../openapi.json");

async fn openapi() -> Response {
    ([("content-type", "application/json")], OPENAPI).into_response()
}

async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Each source's manifest (its agreement, trust, partner), from the store
/// or, if read within a few seconds, from the cache.
async fn manifests(state: &AppState) -> Result<cache::Manifests, ApiError> {
    if let Some(m) = state.manifests.get() {
        return Ok(m);
    }
    let mut out = BTreeMap::new();
    for (id, manifest) in state
        .store
        .source_manifests()
        .await
        .map_err(|e| ApiError::internal("reading sources", e))?
    {
        let m: wherry_ingest::Manifest = serde_json::from_str(&manifest)
            .map_err(|e| ApiError::internal("a stored manifest", e))?;
        out.insert(id, m);
    }
    let out = Arc::new(out);
    state.manifests.put(out.clone());
    Ok(out)
}

/// Appends audit entries, committed together, before the caller answers.
async fn audit_all(state: &AppState, entries: Vec<AuditEntry>) -> Result<(), ApiError> {
    state
        .auditor
        .record(&state.store, entries)
        .await
        .map_err(|e| ApiError::internal("auditing", e))
}

/// Appends one audit entry, committed before the caller answers.
async fn audit(state: &AppState, entry: AuditEntry) -> Result<(), ApiError> {
    audit_all(state, vec![entry]).await
}
