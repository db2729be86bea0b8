//! The web UI's sessions and the extractors every page starts with.
//!
//! Sessions are kept in the store (by the SHA-256 of their id), so a
//! restart signs no one out and several servers share them. The id is 32
//! random bytes in a cookie that is `HttpOnly`, `SameSite=Strict` and,
//! when the server is reached over TLS (`secure_cookies`), `Secure`. A
//! session ends after [`SESSION_IDLE`] unused (its use is written at most
//! once a minute, so it may end up to a minute early), after its absolute
//! lifetime (`AppState::session_lifetime`, 8 hours by default) however
//! busy, on sign-out, and at once when its user is disabled or their role
//! changes. Nothing is stored before a user signs in: the sign-in form's
//! CSRF token is a cookie of its own that the form must repeat.
//!
//! [`Who`] is the signed-in user, [`Acting`] adds the purpose they chose
//! (as an access [`Caller`]) and the request id, and [`Posted`] is a form
//! whose CSRF token is the session's.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Form;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use wherry_access::Caller;
use wherry_core::{Purpose, Role};

use super::render::{error_page, failed};
use super::sign_in::sign_in_page;
use crate::request::RequestId;
use crate::{ApiError, AppState};

/// How long a session lasts without use.
pub const SESSION_IDLE: Duration = Duration::from_secs(30 * 60);
/// How long a session lasts at most, unless configured otherwise.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 60 * 60);
/// A session's use is written when the last written is older than this.
const TOUCH_EVERY_MS: i64 = 60_000;
const COOKIE: &str = "wherry_session";
/// The sign-in form's CSRF cookie (double-submitted: the form repeats it).
pub(crate) const SIGN_IN_COOKIE: &str = "wherry_sign_in";

/// A live, signed-in session.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub user: String,
    pub role: Role,
    pub purpose: Option<Purpose>,
    pub csrf: String,
}

fn id_hash(id: &str) -> String {
    wherry_access::token::token_hash(id)
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Starts a session for a user who has just signed in: its id.
pub(crate) async fn start(
    state: &AppState,
    user: &str,
    role: Role,
    purpose: Option<Purpose>,
) -> Result<String, ApiError> {
    let id = random_hex();
    let now = state.clock.unix_ms();
    let stored = wherry_store::Session {
        user_name: user.to_string(),
        role: role.as_str().to_string(),
        purpose: purpose.map(|p| p.as_str().to_string()),
        csrf: random_hex(),
        created_ms: now,
        seen_ms: now,
    };
    state.store().create_session(&id_hash(&id), &stored).await?;
    Ok(id)
}

/// The answer to a user who has just signed in (by token or through the
/// provider): a new session, its cookie, and on to search, or to choosing
/// a purpose when the role has several.
pub(crate) async fn signed_in(state: &AppState, name: &str, role: Role, how: &str) -> Response {
    let purposes: Vec<Purpose> = state.access.policy().purposes(role).collect();
    let purpose = (purposes.len() == 1).then(|| purposes[0]);
    let id = match start(state, name, role, purpose).await {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = record_sign_in(state, Some((name, role)), how).await {
        return e.into_response();
    }
    let next = match purpose {
        None => "/purpose",
        Some(_) if role.pseudonymised_only() => "/activity",
        Some(_) => "/search",
    };
    let mut r = Redirect::to(next).into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, set_cookie(state, &id));
    r
}

/// A sign-in in the audit log: `sign_in` with who and their role and
/// `how` (`token` or `openid_connect`), or, when `who` is `None`,
/// `sign_in_failed` for someone not identified (the security log holds the
/// client's address). The admin's audit page lists both.
pub(crate) async fn record_sign_in(
    state: &AppState,
    who: Option<(&str, Role)>,
    how: &str,
) -> Result<(), ApiError> {
    let (user_name, role, action) = match who {
        Some((name, role)) => (name.to_string(), role.to_string(), "sign_in"),
        None => (
            "(not identified)".to_string(),
            String::new(),
            "sign_in_failed",
        ),
    };
    let entry = wherry_store::AuditEntry {
        user_name,
        role,
        action: action.into(),
        sources: "[]".into(),
        fields: serde_json::to_string(&[format!("method:{how}")]).expect("strings serialise"),
        ..wherry_store::AuditEntry::default()
    };
    Ok(state.access.record(vec![entry]).await?)
}

/// The live session `id`, if any: a session past its idle time or its
/// lifetime, or whose user has been disabled or given another role, is
/// ended and is not live.
pub(crate) async fn live(state: &AppState, id: &str) -> Result<Option<Session>, ApiError> {
    let hash = id_hash(id);
    let Some(of) = state.store().session(&hash).await? else {
        return Ok(None);
    };
    let s = of.session;
    let now = state.clock.unix_ms();
    let ended = now - s.seen_ms > ms(SESSION_IDLE)
        || now - s.created_ms > ms(state.session_lifetime)
        || of.user_disabled
        || of.user_role.as_ref().is_some_and(|r| *r != s.role);
    let role = s.role.parse::<Role>().ok();
    let (false, Some(role)) = (ended, role) else {
        state.store().end_session(&hash).await?;
        return Ok(None);
    };
    if now - s.seen_ms > TOUCH_EVERY_MS {
        state.store().touch_session(&hash, now).await?;
    }
    Ok(Some(Session {
        user: s.user_name,
        role,
        purpose: s.purpose.and_then(|p| p.parse().ok()),
        csrf: s.csrf,
    }))
}

/// Sets the purpose session `id` acts for.
pub(crate) async fn choose(state: &AppState, id: &str, purpose: Purpose) -> Result<(), ApiError> {
    Ok(state
        .store()
        .set_session_purpose(&id_hash(id), purpose.as_str())
        .await?)
}

/// Ends session `id`.
pub(crate) async fn end(state: &AppState, id: &str) -> Result<(), ApiError> {
    Ok(state.store().end_session(&id_hash(id)).await?)
}

/// Ends every session past its idle time or lifetime (the server does so
/// every few minutes; a session is also checked each time it is used).
pub async fn end_expired(state: &AppState) -> Result<u64, wherry_store::Error> {
    let now = state.clock.unix_ms();
    state
        .store()
        .end_expired_sessions(now - ms(SESSION_IDLE), now - ms(state.session_lifetime))
        .await
}

/// 32 random bytes, hex: a session id or CSRF token.
pub(crate) fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's randomness");
    wherry_core::clock::hex(&bytes)
}

/// The value of cookie `name`.
pub(crate) fn cookie_named(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

pub(crate) fn cookie_of(headers: &HeaderMap) -> Option<String> {
    cookie_named(headers, COOKIE)
}

/// A cookie `name=value` with the attributes every Wherry cookie has.
pub(crate) fn cookie(state: &AppState, name: &str, value: &str, path: &str) -> HeaderValue {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; HttpOnly; SameSite=Strict{secure}"
    ))
    .expect("a cookie of hex digits")
}

pub(crate) fn set_cookie(state: &AppState, id: &str) -> HeaderValue {
    cookie(state, COOKIE, id, "/")
}

/// The cookie that ends a session in the browser.
pub(crate) const CLEAR_COOKIE: &str =
    "wherry_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub(crate) struct Who {
    pub session: String,
    pub name: String,
    pub role: Role,
    pub purpose: Option<Purpose>,
    pub csrf: String,
}

impl Who {
    /// The user as the templates show them.
    pub fn ctx(&self) -> minijinja::Value {
        context! {
            name => self.name,
            role => self.role.as_str(),
            purpose => self.purpose.map(|p| p.as_str()),
        }
    }
}

impl FromRequestParts<Arc<AppState>> for Who {
    type Rejection = Response;

    /// The signed-in user, or the response to send instead: the sign-in
    /// page, with an error when the cookie names no live session (tampered,
    /// expired).
    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let Some(id) = cookie_of(&parts.headers) else {
            return Err(Redirect::to("/sign-in").into_response());
        };
        let session = live(state, &id).await.map_err(|e| {
            error_page(
                e.status(),
                None,
                "Sorry, there is a problem with the service",
                "Your session could not be checked. Try again later.",
                None,
            )
        })?;
        match session {
            Some(Session {
                user,
                role,
                purpose,
                csrf,
            }) => {
                crate::security::identified(&parts.extensions, &user);
                // The same per-user rate limit as the API.
                if let Err(wait) = state.limiter.take(&user) {
                    let mut page = error_page(
                        StatusCode::TOO_MANY_REQUESTS,
                        None,
                        "Too many pages at once",
                        &format!(
                            "You have asked for pages faster than anyone reads them. Wait {wait} seconds, then try again."
                        ),
                        None,
                    );
                    page.headers_mut().insert(
                        header::RETRY_AFTER,
                        HeaderValue::from_str(&wait.to_string()).expect("digits"),
                    );
                    return Err(page);
                }
                Ok(Who {
                    session: id,
                    name: user,
                    role,
                    purpose,
                    csrf,
                })
            }
            None => Err(sign_in_page(
                state,
                StatusCode::UNAUTHORIZED,
                Some("Your session has ended or is not valid. Sign in again."),
            )),
        }
    }
}

/// A signed-in user with a purpose chosen: the access rules' caller, and
/// the request's id.
pub(crate) struct Acting {
    pub who: Who,
    pub caller: Caller,
    pub request: RequestId,
}

impl Acting {
    async fn of(who: Who, parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Response> {
        let Some(purpose) = who.purpose else {
            return Err(Redirect::to("/purpose").into_response());
        };
        let request = RequestId::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let caller = state
            .access
            .caller(who.name.clone(), who.role, purpose, None)
            .map_err(|e| failed(&who, e))?;
        Ok(Self {
            who,
            caller,
            request,
        })
    }
}

impl FromRequestParts<Arc<AppState>> for Acting {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let who = Who::from_request_parts(parts, state).await?;
        Self::of(who, parts, state).await
    }
}

/// A form posted from this session (its CSRF token matches), by a signed-in
/// user; with [`Posted::acting`] when a purpose is needed.
pub(crate) struct Posted {
    pub who: Who,
    pub form: HashMap<String, String>,
    parts: Parts,
}

impl Posted {
    /// The user acting for their chosen purpose, or where to send them.
    pub async fn acting(
        mut self,
        state: &Arc<AppState>,
    ) -> Result<(Acting, HashMap<String, String>), Response> {
        let acting = Acting::of(self.who, &mut self.parts, state).await?;
        Ok((acting, self.form))
    }
}

/// A form's fields, or a plain error page when the body is not a form
/// (wrong content type, too large, not URL-encoded): nothing is done.
pub(crate) async fn read_form(
    req: Request,
    state: &Arc<AppState>,
) -> Result<HashMap<String, String>, Response> {
    Form::<HashMap<String, String>>::from_request(req, state)
        .await
        .map(|Form(f)| f)
        .map_err(|r| {
            error_page(
                r.status(),
                None,
                "This form could not be read",
                "What was sent was not a form from this service, so nothing was done. Go back and try again.",
                Some(("/", "Go to the start")),
            )
        })
}

impl FromRequest<Arc<AppState>> for Posted {
    type Rejection = Response;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let head = Request::from_parts(parts.clone(), body);
        let form = read_form(head, state).await?;
        let who = Who::from_request_parts(&mut parts, state).await?;
        if form.get("csrf").map(String::as_str) != Some(who.csrf.as_str()) {
            return Err(error_page(
                StatusCode::FORBIDDEN,
                Some(&who),
                "This form could not be accepted",
                "The form was not sent from this session (its security token did not match), so nothing was done. Go back, reload the page and try again.",
                Some(("/search", "Go to search")),
            ));
        }
        Ok(Self { who, form, parts })
    }
}
