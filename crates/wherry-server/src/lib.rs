//! Wherry's HTTP server: the JSON API (`/api/v1`, FHIR `$match`,
//! documented in `/openapi.json`) and the web UI, over the same access and
//! audit rules.
//!
//! The server is thin: handlers parse, call `wherry-access` (every
//! disclosure, audited before it returns) or `wherry-hub` (linking, the
//! steward's decisions, real-time placement), and render. [`ApiCaller`]
//! authenticates the API's caller and checks the declared purpose; the UI's
//! session extractor does the same for a signed-in browser. Request ids
//! come from a layer ([`request::layer`]); errors are one [`ApiError`].
//!
//! Invariant: a response that discloses personal data is sent only after
//! its audit entry is committed; a refused request discloses nothing.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use tower::ServiceExt;
//! let dir = std::env::temp_dir().join(format!("wherry-server-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let store = wherry_store::Store::connect(&format!("sqlite://{}", dir.join("hub.db").display()))
//!     .await
//!     .unwrap();
//! store.migrate().await.unwrap();
//! let state = Arc::new(wherry_server::AppState::new(store, None));
//! // No token: refused, with a JSON error and nothing disclosed.
//! let req = axum::http::Request::get("/api/v1/residents/P000000001")
//!     .body(axum::body::Body::empty())
//!     .unwrap();
//! let res = wherry_server::app(state).oneshot(req).await.unwrap();
//! assert_eq!(res.status(), 401);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # });
//! ```

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};

mod caseload;
pub mod config;
mod error;
mod fhir;
pub mod identity;
mod insight;
pub mod integrations;
pub mod metrics;
mod open_data;
mod push;
pub mod request;
mod residents;
mod rights;
pub mod security;
mod sensors;
mod steward;
pub mod ui;

use serde_json::{Value, json};
use wherry_access::{Access, Policy};
use wherry_core::clock::Clock;
use wherry_hub::Matcher;
use wherry_store::Store;

pub use error::ApiError;
pub use identity::ApiCaller;

/// What every request handler shares.
pub struct AppState {
    /// The disclosures: store, policy, agreements, audit writer.
    pub access: Access,
    /// The real-time matcher for search, partner pushes and `$match`
    /// (`None` until a linkage run has stored a model).
    pub matcher: Option<Matcher>,
    /// OpenID Connect token verification, when configured.
    pub oidc: Option<wherry_access::oidc::Verifier>,
    /// The provider's endpoints, when the web UI signs in through it.
    pub oidc_endpoints: Option<ui::oidc::Endpoints>,
    /// Per-caller rate limits.
    pub limiter: wherry_access::limits::RateLimiter,
    /// Failed authentications per client address.
    pub auth_failures: wherry_access::limits::RateLimiter,
    /// Refusals written to the security log per client address.
    pub refusal_log: wherry_access::limits::RateLimiter,
    /// Request counts and latencies for `/metrics`.
    pub metrics: metrics::Metrics,
    /// Whether to log a JSON line per request on standard error.
    pub log_requests: bool,
    /// Whether the UI's session cookie is marked `Secure` (set when the
    /// server is reached over TLS, as in production behind a proxy).
    pub secure_cookies: bool,
    /// The token `/metrics` requires, when set.
    pub metrics_token: Option<String>,
    /// The clock sessions and caches expire by (a test's manual clock).
    pub clock: Clock,
    /// How long a web session lasts at most, however busy.
    pub session_lifetime: std::time::Duration,
    /// The sensors' intake: network-server events in.
    pub intake: Arc<wherry_sensors::Intake>,
    /// The MQTT broker to subscribe to, when configured.
    pub mqtt: Option<wherry_sensors::mqtt::MqttSettings>,
    /// The network-server integrations' secrets (closed without one).
    pub integration_secrets: integrations::Secrets,
    /// The care system's webhook for sensor alerts, when configured.
    pub care_webhook: Option<wherry_sensors::notify::Webhook>,
    /// The fire-risk model's points (`[insight] fire_weights`, else the
    /// documented defaults).
    pub fire_weights: wherry_insight::weights::Weights,
    /// The ward lookup demand is reported by (`[insight] wards`), if any.
    pub wards: Option<std::collections::BTreeMap<String, String>>,
    tokens: identity::Tokens,
}

impl AppState {
    /// The state over `store`, with the default policy, no OpenID Connect,
    /// the default rate limits and no request log.
    pub fn new(store: Store, matcher: Option<Matcher>) -> Self {
        Self::with_policy(store, Policy::default(), matcher, Clock::system())
    }

    /// The state over `store` under `policy`, expiring by `clock`.
    pub fn with_policy(
        store: Store,
        policy: Policy,
        matcher: Option<Matcher>,
        clock: Clock,
    ) -> Self {
        Self {
            access: Access::with_clock(store.clone(), policy, clock.clone()),
            matcher,
            oidc: None,
            oidc_endpoints: None,
            limiter: wherry_access::limits::RateLimiter::new(config::Limits::default()),
            auth_failures: wherry_access::limits::RateLimiter::new(
                wherry_access::limits::AUTH_FAILURES,
            ),
            refusal_log: wherry_access::limits::RateLimiter::new(security::LOGGED_PER_ADDRESS),
            metrics: metrics::Metrics::default(),
            log_requests: false,
            secure_cookies: false,
            metrics_token: None,
            clock,
            session_lifetime: ui::session::SESSION_LIFETIME,
            intake: Arc::new(wherry_sensors::Intake::new(store.clone())),
            mqtt: None,
            integration_secrets: integrations::Secrets::default(),
            care_webhook: None,
            fire_weights: Default::default(),
            wards: None,
            tokens: identity::Tokens::default(),
        }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        self.access.store()
    }

    /// The real-time matcher, or 503 until a linkage run has stored a model.
    pub(crate) fn matcher(&self) -> Result<&Matcher, ApiError> {
        self.matcher.as_ref().ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_linked",
                "no linkage run has been made yet: run `wherry link run`, then restart the server",
            )
        })
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
        .route("/api/v1/caseload", get(caseload::list))
        .route(
            "/api/v1/caseload/{id}",
            post(caseload::add).delete(caseload::remove),
        )
        .route("/api/v1/open-data/counters", get(open_data::counters))
        .route("/api/v1/insight/fire-targets", get(insight::fire_targets))
        .route(
            "/api/v1/insight/coordinated-visits",
            get(insight::coordinated_visits),
        )
        .route("/api/v1/insight/demand", get(insight::demand))
        .route("/api/v1/sensors/alerts", get(sensors::alerts))
        .route(
            "/api/v1/sensors/alerts/{id}/{verb}",
            post(sensors::alert_step),
        )
        .route("/api/v1/sensors/homes/{person}", get(sensors::home))
        .route(
            "/api/v1/sensors/homes/{person}/thresholds",
            put(sensors::set_thresholds),
        )
        .route(
            "/api/v1/sensors/devices",
            get(sensors::devices).post(sensors::add_device),
        )
        .route(
            "/api/v1/sensors/devices/{eui}",
            delete(sensors::remove_device),
        )
        .route(
            "/api/v1/sensors/devices/{eui}/withdraw-consent",
            post(sensors::withdraw_consent),
        )
        .route("/fhir/Patient/$match", post(fhir::patient_match))
        .route("/metrics", get(metrics::metrics))
        .route("/integrations/chirpstack", post(integrations::chirpstack))
        .route(
            "/integrations/the-things-stack",
            post(integrations::the_things_stack),
        )
        .merge(ui::routes())
        .route("/openapi.json", get(openapi))
        .fallback(no_route)
        .method_not_allowed_fallback(no_method)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ui::security_headers,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::observe,
        ))
        .layer(axum::middleware::from_fn(request::layer))
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

/// A method the path does not take (axum adds `Allow`).
pub(crate) async fn no_method() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "the path does not take that method",
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

/// Loads every home's routine and starts the rules' scheduler (and the
/// care-system notifier, when a webhook is configured); the intake hands
/// each uplink to the rules once this has loaded.
fn start_watch(state: Arc<AppState>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let deliver = state.care_webhook.is_some();
        let watch = match wherry_sensors::Watch::start(state.store().clone(), deliver).await {
            Ok(w) => w,
            Err(e) => {
                request::log_error("sensor_watch_failed", "", &e.to_string());
                return;
            }
        };
        state.intake.set_watch(watch.clone());
        if let Err(e) = watch.catch_up().await {
            request::log_error("sensor_watch_failed", "", &e.to_string());
        }
        let mut tasks = vec![watch.spawn_scheduler()];
        if let Some(webhook) = state.care_webhook.clone() {
            let raised = watch.raised_signal();
            let access: fn(&AppState) -> &wherry_access::Access = |s| &s.access;
            tasks.push(wherry_sensors::notify::spawn(
                state.clone(),
                access,
                webhook,
                raised,
            ));
        }
        for t in tasks {
            let _ = t.await;
        }
    })
}

/// [`serve`] on a listener already bound (a test binds port 0).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    reload_seconds: u64,
) -> std::io::Result<()> {
    let mut background = Vec::new();
    if state.store().backend() == wherry_store::Backend::Sqlite {
        let store = state.store().clone();
        background.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_millis(250));
            loop {
                tick.tick().await;
                if let Err(e) = store.checkpoint().await {
                    request::log_error("checkpoint_failed", "", &e.to_string());
                }
            }
        }));
    }
    background.push(start_watch(state.clone()));
    if let Some(settings) = state.mqtt.clone() {
        let (task, _) = wherry_sensors::mqtt::spawn(state.intake.clone(), settings);
        background.push(task);
    }
    let sweeper = state.clone();
    background.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(300));
        loop {
            tick.tick().await;
            if let Err(e) = ui::session::end_expired(&sweeper).await {
                request::log_error("session_sweep_failed", "", &e.to_string());
            }
        }
    }));
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
                            json!({"at": wherry_core::clock::now(), "level": "info", "event": "matcher_reloaded"})
                        ),
                        Ok(false) => {}
                        Err(e) => request::log_error("matcher_reload_failed", "", &e.to_string()),
                    }
                }
            }
        }));
    }
    let app = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, app)
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

/// The OpenAPI 3.1 document of this API (`crates/wherry-server/openapi.json`;
/// a test keeps it in step with the routes).
pub const OPENAPI: &str = include_str!("../openapi.json");

async fn openapi() -> Response {
    ([("content-type", "application/json")], OPENAPI).into_response()
}

async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}
