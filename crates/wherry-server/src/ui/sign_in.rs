//! Signing in and out (with a Wherry token, checked as the API checks it)
//! and choosing the purpose the session acts for.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use wherry_core::Purpose;

use super::render::{page, purpose_label};
use super::session::{
    CLEAR_COOKIE, Posted, SIGN_IN_COOKIE, Who, cookie, cookie_named, random_hex, read_form,
};
use crate::AppState;

pub(crate) fn sign_in_page(state: &AppState, status: StatusCode, error: Option<&str>) -> Response {
    // The form's CSRF token is a cookie the form repeats: nothing is kept
    // on the server until someone signs in.
    let csrf = random_hex();
    let errors = super::render::error_summary(error.map(|m| ("token", m)));
    let council = state.oidc_endpoints.is_some();
    let mut r = page(
        status,
        "sign_in.html",
        context! {title => "Sign in", csrf, errors, council},
    );
    r.headers_mut().insert(
        header::SET_COOKIE,
        cookie(state, SIGN_IN_COOKIE, &csrf, "/sign-in"),
    );
    r
}

/// `GET /`.
pub(crate) async fn home(who: Result<Who, Response>) -> Response {
    match who {
        Ok(w) if w.purpose.is_none() => Redirect::to("/purpose").into_response(),
        // Pseudonymised data only: no search; counts are where they start.
        Ok(w) if w.role.pseudonymised_only() => Redirect::to("/activity").into_response(),
        Ok(_) => Redirect::to("/search").into_response(),
        Err(r) => r,
    }
}

/// `GET /sign-in`.
pub(crate) async fn sign_in_form(State(state): State<Arc<AppState>>) -> Response {
    sign_in_page(&state, StatusCode::OK, None)
}

/// `POST /sign-in`: the token is checked as the API checks it; the session
/// gets a new id (no fixation).
pub(crate) async fn sign_in(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let headers: HeaderMap = req.headers().clone();
    let from = crate::security::client(req.extensions());
    let form = match read_form(req, &state).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let sent = form.get("csrf").map(String::as_bytes);
    let expected = cookie_named(&headers, SIGN_IN_COOKIE);
    match (expected, sent) {
        (Some(want), Some(got)) if crate::metrics::constant_time_eq(want.as_bytes(), got) => {}
        (None, _) => {
            return sign_in_page(
                &state,
                StatusCode::FORBIDDEN,
                Some("Your sign-in form had expired. Enter your token again."),
            );
        }
        _ => {
            return sign_in_page(
                &state,
                StatusCode::FORBIDDEN,
                Some(
                    "The sign-in form was not sent from this browser session. Enter your token again.",
                ),
            );
        }
    }
    let token = form.get("token").map(|t| t.trim()).unwrap_or("");
    if token.is_empty() {
        return sign_in_page(&state, StatusCode::BAD_REQUEST, Some("Enter your token"));
    }
    let (name, role) = match crate::identity::identify(&state, token, &from).await {
        Ok(who) => (who.name, who.role),
        Err(e) if e.status() == StatusCode::TOO_MANY_REQUESTS => {
            return sign_in_page(
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                Some(
                    "Too many tokens that were not valid were tried from here. Wait a minute, then try again.",
                ),
            );
        }
        Err(_) => {
            if let Err(e) = super::session::record_sign_in(&state, None, "token").await {
                return e.into_response();
            }
            return sign_in_page(
                &state,
                StatusCode::UNAUTHORIZED,
                Some("That token is not valid. Check it and try again, or ask your administrator."),
            );
        }
    };
    super::session::signed_in(&state, &name, role, "token").await
}

/// `POST /sign-out`.
pub(crate) async fn sign_out(State(state): State<Arc<AppState>>, posted: Posted) -> Response {
    if let Err(e) = super::session::end(&state, &posted.who.session).await {
        return e.into_response();
    }
    let mut r = Redirect::to("/sign-in").into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, HeaderValue::from_static(CLEAR_COOKIE));
    r
}

fn purpose_page(state: &AppState, who: &Who, status: StatusCode, error: Option<&str>) -> Response {
    let purposes: Vec<minijinja::Value> = state
        .access
        .policy()
        .purposes(who.role)
        .map(|p| context! {name => p.as_str(), label => purpose_label(p)})
        .collect();
    let errors = super::render::error_summary(error.map(|m| ("purpose", m)));
    page(
        status,
        "purpose.html",
        context! {title => "Choose your purpose", user => who.ctx(), csrf => who.csrf, purposes, errors},
    )
}

/// `GET /purpose`.
pub(crate) async fn purpose_form(State(state): State<Arc<AppState>>, who: Who) -> Response {
    purpose_page(&state, &who, StatusCode::OK, None)
}

/// `POST /purpose`: kept for the session.
pub(crate) async fn choose_purpose(State(state): State<Arc<AppState>>, posted: Posted) -> Response {
    let Posted { who, form, .. } = posted;
    let chosen = form.get("purpose").and_then(|p| p.parse::<Purpose>().ok());
    let Some(p) = chosen.filter(|p| state.access.policy().check(who.role, *p).is_ok()) else {
        return purpose_page(
            &state,
            &who,
            StatusCode::BAD_REQUEST,
            Some("Select one of the purposes your role may use"),
        );
    };
    if let Err(e) = super::session::choose(&state, &who.session, p).await {
        return super::render::failed(&who, e);
    }
    if who.role.pseudonymised_only() {
        return Redirect::to("/activity").into_response();
    }
    Redirect::to("/search").into_response()
}
