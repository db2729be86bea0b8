//! Signing in to the web UI through the council's OpenID Connect
//! provider: the authorisation code flow with PKCE (S256), `state` and
//! `nonce`. `/oidc/start` sends the browser to the provider with a fresh
//! state, nonce and code challenge, keeping them (and the verifier) in a
//! short-lived cookie of their own, so nothing is stored on the server
//! before sign-in; `/oidc/callback` checks the state, exchanges the code
//! (with the verifier) at the token endpoint, verifies the ID token
//! (signature against the provider's keys, issuer, audience, expiry, and
//! the nonce), reads the role from the configured claim and starts a
//! session. Sign-out ends the session.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::session::{cookie_named, random_hex};
use super::sign_in::sign_in_page;
use crate::AppState;

/// The cookie holding a sign-in's state, nonce and PKCE verifier.
const FLOW_COOKIE: &str = "wherry_oidc";
/// How long a sign-in at the provider may take.
const FLOW_SECONDS: u32 = 600;

/// The provider's endpoints for the code flow, resolved at start.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// Where the browser is sent.
    pub authorization: String,
    /// Where the code is exchanged.
    pub token: String,
}

impl Endpoints {
    /// The endpoints the settings name, or those of the provider's
    /// discovery document (fetched once, at start).
    pub fn resolve(s: &wherry_access::oidc::Settings) -> Result<Self, String> {
        if let (Some(a), Some(t)) = (&s.authorization_endpoint, &s.token_endpoint) {
            return Ok(Self {
                authorization: a.clone(),
                token: t.clone(),
            });
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            s.issuer.trim_end_matches('/')
        );
        let doc: serde_json::Value = ureq::get(&url)
            .call()
            .and_then(|mut r| r.body_mut().read_json())
            .map_err(|e| format!("the provider's discovery document {url}: {e}"))?;
        let field = |k: &str| {
            doc[k]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("{url} names no {k}"))
        };
        Ok(Self {
            authorization: s
                .authorization_endpoint
                .clone()
                .map_or_else(|| field("authorization_endpoint"), Ok)?,
            token: s
                .token_endpoint
                .clone()
                .map_or_else(|| field("token_endpoint"), Ok)?,
        })
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A query parameter's value, percent-encoded.
fn enc(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `GET /oidc/start`: to the provider.
pub(crate) async fn start(State(state): State<Arc<AppState>>) -> Response {
    let (Some(v), Some(ends)) = (&state.oidc, &state.oidc_endpoints) else {
        return Redirect::to("/sign-in").into_response();
    };
    let s = v.settings();
    let redirect = s.redirect_uri.as_deref().unwrap_or_default();
    let (flow, nonce) = (random_hex(), random_hex());
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's randomness");
    let verifier = b64(&bytes);
    let challenge = b64(&Sha256::digest(verifier.as_bytes()));
    let scope = format!("openid {}", s.scopes.trim());
    let url = format!(
        "{}?response_type=code&client_id={}&redirect_uri={}&scope={}&state={flow}&nonce={nonce}&code_challenge={challenge}&code_challenge_method=S256",
        ends.authorization,
        enc(&s.audience),
        enc(redirect),
        enc(scope.trim()),
    );
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    // Lax: the provider's redirect back is a navigation from another site.
    let cookie = format!(
        "{FLOW_COOKIE}={flow}.{nonce}.{verifier}; Path=/oidc; HttpOnly; SameSite=Lax; Max-Age={FLOW_SECONDS}{secure}"
    );
    let mut r = Redirect::to(&url).into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).expect("hex and base64url"),
    );
    r
}

/// The provider's answer.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Callback {
    #[serde(default)]
    code: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    error: String,
}

async fn refused(state: &AppState, why: &str) -> Response {
    if let Err(e) = super::session::record_sign_in(state, None, "openid_connect").await {
        return e.into_response();
    }
    let mut r = sign_in_page(state, StatusCode::FORBIDDEN, Some(why));
    r.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static("wherry_oidc=; Path=/oidc; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    r
}

/// `GET /oidc/callback?code=&state=`: back from the provider.
pub(crate) async fn callback(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    answer: Result<Query<Callback>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let (Some(v), Some(ends)) = (&state.oidc, &state.oidc_endpoints) else {
        return Redirect::to("/sign-in").into_response();
    };
    let Query(answer) = answer.unwrap_or_default();
    let flow = cookie_named(&headers, FLOW_COOKIE).unwrap_or_default();
    let mut parts = flow.splitn(3, '.');
    let (Some(expected), Some(nonce), Some(verifier)) = (parts.next(), parts.next(), parts.next())
    else {
        return refused(
            &state,
            "Your sign-in had expired or did not start here. Sign in again.",
        )
        .await;
    };
    if !crate::metrics::constant_time_eq(expected.as_bytes(), answer.state.as_bytes()) {
        return refused(
            &state,
            "Your sign-in had expired or did not start here. Sign in again.",
        )
        .await;
    }
    if !answer.error.is_empty() || answer.code.is_empty() {
        return refused(
            &state,
            "Your council account did not sign you in. Try again, or ask your administrator.",
        )
        .await;
    }
    let s = v.settings().clone();
    let (token_url, code, verifier) = (
        ends.token.clone(),
        answer.code.clone(),
        verifier.to_string(),
    );
    let exchanged = tokio::task::spawn_blocking(move || exchange(&s, &token_url, &code, &verifier))
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
    let id_token = match exchanged {
        Ok(t) => t,
        Err(why) => {
            crate::request::log_error("oidc_exchange_failed", "", &why);
            return refused(
                &state,
                "Your council account could not be checked. Try again later.",
            )
            .await;
        }
    };
    let (name, role) = match v.verify_id_token(&id_token, nonce) {
        Ok(who) => who,
        Err(e) => {
            crate::request::log_error("oidc_id_token_refused", "", &e.to_string());
            return refused(&state, "Your council account does not give you a role in this service. Ask your administrator.").await;
        }
    };
    let mut r = super::session::signed_in(&state, &name, role, "openid_connect").await;
    r.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static("wherry_oidc=; Path=/oidc; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    r
}

/// The code, exchanged at the token endpoint with the PKCE verifier: the
/// ID token.
fn exchange(
    s: &wherry_access::oidc::Settings,
    token_url: &str,
    code: &str,
    verifier: &str,
) -> Result<String, String> {
    let redirect = s.redirect_uri.clone().unwrap_or_default();
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect.as_str()),
        ("code_verifier", verifier),
    ];
    let mut request = ureq::post(token_url).header("accept", "application/json");
    let basic;
    match &s.client_secret {
        Some(secret) => {
            basic = base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                enc(&s.audience),
                enc(secret)
            ));
            request = request.header("authorization", &format!("Basic {basic}"));
        }
        None => form.push(("client_id", s.audience.as_str())),
    }
    let answer: serde_json::Value = request
        .send_form(form)
        .and_then(|mut r| r.body_mut().read_json())
        .map_err(|e| format!("the token endpoint {token_url}: {e}"))?;
    answer["id_token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("the token endpoint {token_url} sent no id_token"))
}
