//! The web UI's sessions and the extractors every page starts with.
//!
//! Sessions live in the server's memory: a random id in a cookie that is
//! `HttpOnly`, `SameSite=Strict` and, when the server is behind TLS
//! (`secure_cookies`), `Secure`; they expire after [`SESSION_IDLE`] unused,
//! on the server's clock. [`Who`] is the signed-in user, [`Acting`] adds the
//! purpose they chose (as an access [`Caller`]) and the request id, and
//! [`Posted`] is a form whose CSRF token is the session's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Form;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use wherry_access::Caller;
use wherry_core::clock::Instant;
use wherry_core::{Purpose, Role};

use super::render::{error_page, failed};
use super::sign_in::sign_in_page;
use crate::AppState;
use crate::request::RequestId;

/// How long a session lasts without use.
pub const SESSION_IDLE: Duration = Duration::from_secs(30 * 60);
const COOKIE: &str = "wherry_session";

/// One browser's session.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// Signed-in user, once signed in.
    pub user: Option<(String, Role)>,
    pub purpose: Option<Purpose>,
    pub csrf: String,
    pub last: Instant,
}

/// The sessions, by id.
#[derive(Debug, Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// The live session `id` at `now` (touched), if any.
    pub(crate) fn get(&self, id: &str, now: Instant) -> Option<Session> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let s = map.get_mut(id)?;
        if now.since(s.last) > SESSION_IDLE {
            map.remove(id);
            return None;
        }
        s.last = now;
        Some(s.clone())
    }

    pub(crate) fn put(&self, id: String, s: Session) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            let now = s.last;
            map.retain(|_, s| now.since(s.last) <= SESSION_IDLE);
        }
        map.insert(id, s);
    }

    pub(crate) fn remove(&self, id: &str) {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }
}

/// 32 random bytes, hex: a session id or CSRF token.
pub(crate) fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's randomness");
    wherry_core::clock::hex(&bytes)
}

pub(crate) fn cookie_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

pub(crate) fn set_cookie(state: &AppState, id: &str) -> HeaderValue {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict{secure}"
    ))
    .expect("a cookie of hex digits")
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
        let id = cookie_of(&parts.headers);
        let now = state.clock.now();
        let session = id.as_deref().and_then(|id| state.sessions.get(id, now));
        match (id, session) {
            (
                Some(id),
                Some(Session {
                    user: Some((name, role)),
                    purpose,
                    csrf,
                    ..
                }),
            ) => Ok(Who {
                session: id,
                name,
                role,
                purpose,
                csrf,
            }),
            (Some(_), None) => Err(sign_in_page(
                state,
                StatusCode::UNAUTHORIZED,
                Some("Your session has ended or is not valid. Sign in again."),
            )),
            _ => Err(Redirect::to("/sign-in").into_response()),
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

#[cfg(test)]
mod tests {
    use super::*;
    use wherry_core::clock::Clock;

    #[test]
    fn a_session_ends_after_thirty_minutes_unused_on_the_clock() {
        let clock = Clock::manual();
        let sessions = Sessions::default();
        let s = Session {
            user: Some(("ann".into(), Role::Advisor)),
            purpose: None,
            csrf: "c".into(),
            last: clock.now(),
        };
        sessions.put("a".into(), s.clone());
        sessions.put("b".into(), s);
        clock.advance(SESSION_IDLE);
        assert!(
            sessions.get("a", clock.now()).is_some(),
            "used at 30 minutes: still live"
        );
        clock.advance(SESSION_IDLE);
        assert!(
            sessions.get("a", clock.now()).is_some(),
            "its use just now kept it alive"
        );
        clock.advance(SESSION_IDLE + Duration::from_secs(1));
        assert!(
            sessions.get("a", clock.now()).is_none(),
            "30 minutes and a second unused"
        );
        assert!(sessions.get("b", clock.now()).is_none());
    }
}
