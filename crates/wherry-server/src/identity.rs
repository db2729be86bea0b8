//! Who a bearer token names: an OpenID Connect JWT verified against the
//! provider's keys, or a Wherry API token looked up by its hash; and the
//! API's [`ApiCaller`] extractor, which adds the purpose the role must be
//! allowed to use (or a break-glass reason) and the caller's rate limit.
//!
//! A token looked up is trusted for [`TOKEN_TTL`] on the server's clock:
//! a user disabled in the store is refused within that time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use wherry_access::Caller;
use wherry_core::clock::Instant;
use wherry_core::{Purpose, Role};

use crate::AppState;
use crate::error::ApiError;
use crate::request::RequestId;

/// How long a token looked up in the store is trusted.
pub const TOKEN_TTL: Duration = Duration::from_secs(10);

/// Who a token names: the user, their role and, for a partner system's
/// account, the sources it is registered for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The user's name (`oidc:NAME` for the identity provider's users).
    pub name: String,
    /// Their role.
    pub role: Role,
    /// The sources a partner system may push for.
    pub sources: Vec<String>,
}

/// Tokens recently looked up: SHA-256 → (identity, when).
#[derive(Debug, Default)]
pub struct Tokens {
    seen: Mutex<HashMap<String, (Identity, Instant)>>,
}

impl Tokens {
    /// The user of a token hash, if looked up within [`TOKEN_TTL`] of `now`.
    pub fn get(&self, hash: &str, now: Instant) -> Option<Identity> {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.get(hash)
            .filter(|(_, at)| now.since(*at) < TOKEN_TTL)
            .map(|(who, _)| who.clone())
    }

    /// Remembers a token's user as looked up at `now`.
    pub fn put(&self, hash: String, who: Identity, now: Instant) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() > 10_000 {
            seen.retain(|_, (_, at)| now.since(*at) < TOKEN_TTL);
        }
        seen.insert(hash, (who, now));
    }
}

fn unauthorised() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorised",
        "send an API token as `Authorization: Bearer <token>`",
    )
}

/// The user a bearer token names, for a request from address `from`. An
/// address with too many failed authentications is refused (429) without
/// the token being looked at.
pub(crate) async fn identify(
    state: &AppState,
    token: &str,
    from: &str,
) -> Result<Identity, ApiError> {
    if let Err(wait) = state.auth_failures.check(from) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_failures",
            format!("too many failed authentications from this address: try again in {wait} s"),
        )
        .retry_after(wait));
    }
    let found = look_up(state, token.trim()).await;
    if matches!(&found, Err(e) if e.status() == StatusCode::UNAUTHORIZED) {
        let _ = state.auth_failures.take(from);
    }
    found
}

async fn look_up(state: &AppState, token: &str) -> Result<Identity, ApiError> {
    if let Some(v) = state
        .oidc
        .as_ref()
        .filter(|_| wherry_access::oidc::is_jwt(token))
    {
        let (name, role) = v
            .verify(token)
            .map_err(|e| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorised", e.to_string()))?;
        return Ok(Identity {
            name,
            role,
            sources: Vec::new(),
        });
    }
    let hash = wherry_access::token::token_hash(token);
    let now = state.clock.now();
    if let Some(known) = state.tokens.get(&hash, now) {
        return Ok(known);
    }
    let user = state
        .store()
        .user_by_token(&hash)
        .await?
        .ok_or_else(unauthorised)?;
    let role: Role = user
        .role
        .parse()
        .map_err(|e: String| ApiError::internal(format!("a stored role: {e}")))?;
    let who = Identity {
        name: user.name,
        role,
        sources: user.sources,
    };
    state.tokens.put(hash, who.clone(), now);
    Ok(who)
}

/// An API request's caller (authorised for its declared purpose) and id.
pub struct ApiCaller {
    /// Who, in which role, for which purpose.
    pub caller: Caller,
    /// The request's id.
    pub request: RequestId,
}

fn header<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

impl FromRequestParts<Arc<AppState>> for ApiCaller {
    type Rejection = ApiError;

    /// The caller from `Authorization: Bearer …`, the purpose from
    /// `Wherry-Purpose` and any break-glass reason from
    /// `Wherry-Break-Glass`.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let request = RequestId::from_request_parts(parts, state).await?;
        let token = header(parts, "authorization")
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(unauthorised)?;
        let from = crate::security::client(&parts.extensions);
        let who = identify(state, token, &from).await?;
        crate::security::identified(&parts.extensions, &who.name);
        if let Err(wait) = state.limiter.take(&who.name) {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many requests from this caller: try again in {wait} s"),
            )
            .retry_after(wait));
        }
        let purpose = header(parts, "wherry-purpose")
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
        let break_glass = parts
            .headers
            .get("wherry-break-glass")
            .map(|v| v.to_str().unwrap_or(""));
        // Sent at all, a reason is of the documented length, needed or not.
        let sent = break_glass.map(|r| r.trim().chars().count());
        let (min, max) = (
            wherry_access::caller::MIN_REASON,
            wherry_access::caller::MAX_REASON,
        );
        if sent.is_some_and(|n| !(min..=max).contains(&n)) {
            return Err(wherry_access::Denied::BreakGlassReason.into());
        }
        let caller = state
            .access
            .caller(who.name, who.role, purpose, break_glass)?
            .with_sources(who.sources);
        state.access.break_glass(&caller).await?;
        Ok(Self { caller, request })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wherry_core::clock::Clock;

    #[test]
    fn a_looked_up_token_is_trusted_for_ten_seconds_of_the_clock() {
        let clock = Clock::manual();
        let tokens = Tokens::default();
        let ann = Identity {
            name: "ann".into(),
            role: Role::Advisor,
            sources: vec![],
        };
        tokens.put("h".into(), ann.clone(), clock.now());
        clock.advance(TOKEN_TTL - Duration::from_millis(1));
        assert_eq!(tokens.get("h", clock.now()), Some(ann));
        clock.advance(Duration::from_millis(1));
        assert_eq!(
            tokens.get("h", clock.now()),
            None,
            "looked up again after the TTL"
        );
        assert_eq!(tokens.get("other", clock.now()), None);
    }
}
