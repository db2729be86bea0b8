//! The web UI: server-rendered pages in the GOV.UK Design System's look
//! (its CSS and JavaScript vendored under `assets/govuk`), over the same
//! access and audit rules as the API: every page that shows personal data
//! calls `wherry-access`, which writes its audit entry before it returns.
//!
//! Modules: [`session`] (sessions, the [`session::Who`], [`session::Acting`]
//! and [`session::Posted`] extractors, CSRF), [`render`] (templates, error
//! pages, labels), [`assets`] (vendored files, security headers), and a
//! module per page group: [`sign_in`] (sign-in with a Wherry token,
//! sign-out, purpose), [`oidc`] (sign-in through the council's OpenID
//! Connect provider), [`search`], [`resident`] (and the caseload),
//! [`review`] and [`quality`] (the data team's extracts, quarantine and
//! figures), [`audit`] (the officer's pages), [`rights`] (subject access
//! and erasure), [`tec`] (the TEC team's sensor alerts and homes), [`about`] (the
//! accessibility statement, the privacy notice from the agreements, and
//! service activity in aggregate, where an analyst lands). Every response has a
//! strict Content-Security-Policy (no inline script or style). Search is a
//! POST, so names and dates never appear in URLs or logs. Pages work
//! without JavaScript.

// The `Err` of the extractors is the page to send instead (a redirect or
// an error page), returned once per request, not an error passed up.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

pub(crate) mod about;
pub(crate) mod assets;
pub(crate) mod audit;
pub(crate) mod insight;
pub mod oidc;
pub(crate) mod quality;
pub(crate) mod render;
pub(crate) mod resident;
pub(crate) mod review;
pub(crate) mod rights;
pub(crate) mod search;
pub(crate) mod session;
pub(crate) mod sign_in;
pub(crate) mod tec;

pub(crate) use assets::security_headers;

use crate::AppState;

/// The UI's pages (the JSON API's routes are in the crate root, and the
/// OpenAPI document covers those only).
pub(crate) fn routes() -> axum::Router<Arc<AppState>> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/", get(sign_in::home))
        .route(
            "/sign-in",
            get(sign_in::sign_in_form).post(sign_in::sign_in),
        )
        .route("/sign-out", post(sign_in::sign_out))
        .route("/oidc/start", get(oidc::start))
        .route("/oidc/callback", get(oidc::callback))
        .route(
            "/purpose",
            get(sign_in::purpose_form).post(sign_in::choose_purpose),
        )
        .route("/search", get(search::search_form).post(search::search))
        .route("/residents/{id}", get(resident::resident))
        .route("/residents/{id}/caseload", post(resident::caseload_change))
        .route("/residents/{id}/break-glass", post(resident::break_glass))
        .route("/caseload", get(resident::caseload))
        .route("/unusual", get(audit::unusual))
        .route("/review", get(review::review))
        .route(
            "/review/{id}",
            get(review::review_item).post(review::review_decide),
        )
        .route("/audit", get(audit::audit_log))
        .route("/audit.csv", get(audit::audit_csv))
        .route("/audit/verify", post(audit::audit_verify))
        .route("/security", get(audit::security_log))
        .route("/break-glass", get(audit::overrides))
        .route("/break-glass/{id}", post(audit::sign_off))
        .route("/assets/{name}", get(assets::asset))
        .route("/privacy", get(about::privacy))
        .route("/quarantine", get(quality::extracts))
        .route("/quarantine/{id}", get(quality::quarantine))
        .route("/quarantine/{id}/rows.csv", get(quality::quarantine_csv))
        .route("/quality", get(quality::quality))
        .route("/rights", get(rights::rights))
        .route(
            "/rights/{id}/subject-access.json",
            get(rights::subject_access),
        )
        .route("/rights/{id}/erase", post(rights::erase))
        .route("/accessibility", get(about::accessibility))
        .route("/activity", get(about::activity))
        .route("/open-data", get(crate::open_data::page))
        .route("/insight/fire-targets", get(insight::fire_targets))
        .route("/insight/fire-targets.csv", get(insight::fire_targets_csv))
        .route("/insight/visits", get(insight::visits))
        .route("/insight/demand", get(insight::demand))
        .route("/insight/demand.csv", get(insight::demand_csv))
        .route("/tec", get(tec::alerts))
        .route("/tec/homes/{person}", get(tec::home))
        .route("/tec/alerts/{id}", post(tec::alert_step))
}
