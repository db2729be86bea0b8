//! OpenID Connect bearer tokens, rate limits and metrics. The identity
//! provider is a test double (a council's provider cannot run here): the
//! test makes a P-256 key pair, publishes the public half as a JWKS file,
//! and signs tokens as the provider would.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::pkcs8::EncodePrivateKey;
use serde_json::{Value, json};
use tower::ServiceExt;
use wherry_access::limits::RateLimiter;
use wherry_access::oidc::{Settings, Verifier};
use wherry_server::config::Limits;
use wherry_server::{AppState, app};
use wherry_store::testing::stores;

use crate::access::{PERSON, hub};
use crate::{call, send};

const ISSUER: &str = "https://login.example.gov.uk/";

struct Provider {
    key: EncodingKey,
    kid: &'static str,
}

impl Provider {
    /// A key pair; the public key goes to `jwks` as the provider publishes it.
    fn new(jwks: &std::path::Path, kid: &'static str) -> Self {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).unwrap();
        let secret = p256::SecretKey::from_slice(&bytes).unwrap();
        let mut jwk: Value = serde_json::from_str(&secret.public_key().to_jwk_string()).unwrap();
        jwk["kid"] = json!(kid);
        jwk["alg"] = json!("ES256");
        jwk["use"] = json!("sig");
        std::fs::write(jwks, json!({"keys": [jwk]}).to_string()).unwrap();
        let der = secret.to_pkcs8_der().unwrap();
        Self {
            key: EncodingKey::from_ec_der(der.as_bytes()),
            kid,
        }
    }

    fn token(&self, claims: Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.into());
        jsonwebtoken::encode(&header, &claims, &self.key).unwrap()
    }
}

fn in_an_hour() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600
}

#[tokio::test]
async fn oidc_tokens_from_the_councils_provider_are_verified_and_mapped_to_roles() {
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("jwks.json");
    let provider = Provider::new(&jwks, "council-1");
    let stranger = Provider::new(&dir.path().join("other.json"), "council-1");
    for t in stores().await {
        hub(&t.store, dir.path()).await;
        let mut state = AppState::new(t.store.clone(), None);
        state.oidc = Some(
            Verifier::new(Settings {
                issuer: ISSUER.into(),
                audience: "wherry".into(),
                jwks_file: jwks.clone(),
                role_claim: "roles".into(),
                name_claim: "preferred_username".into(),
                redirect_uri: None,
                authorization_endpoint: None,
                token_endpoint: None,
                client_secret: None,
                scopes: "profile".into(),
            })
            .unwrap(),
        );
        let state = Arc::new(state);
        let uri = format!("/api/v1/residents/{PERSON}");
        // As if Cath had found the resident by a search.
        t.store
            .relate(
                "oidc:cath.worker",
                &[PERSON.to_string()],
                "search",
                i64::MAX,
            )
            .await
            .unwrap();
        let claims = |roles: Value| json!({"iss": ISSUER, "aud": "wherry", "exp": in_an_hour(), "sub": "u-17", "preferred_username": "cath.worker", "roles": roles});
        let good = provider.token(claims(json!(["staff", "caseworker"])));
        let (status, body) = call(&state, "GET", &uri, &good, "safeguarding", None).await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", t.name);
        let last = t.store.audit_log(0).await.unwrap().pop().unwrap();
        assert_eq!(
            (last.user_name.as_str(), last.role.as_str()),
            ("oidc:cath.worker", "caseworker")
        );
        // The role from the token bounds the purposes as for any user.
        let (status, _) = call(&state, "GET", &uri, &good, "fire_prevention", None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        let mut expired = claims(json!(["caseworker"]));
        expired["exp"] = json!(1_000_000_000);
        let mut wrong_audience = claims(json!(["caseworker"]));
        wrong_audience["aud"] = json!("another-app");
        let mut wrong_issuer = claims(json!(["caseworker"]));
        wrong_issuer["iss"] = json!("https://evil.example/");
        let hs256 = jsonwebtoken::encode(
            &Header {
                kid: Some("council-1".into()),
                ..Header::new(Algorithm::HS256)
            },
            &claims(json!(["caseworker"])),
            &EncodingKey::from_secret(b"guessable"),
        )
        .unwrap();
        let tampered = {
            let mut parts: Vec<String> = good.split('.').map(String::from).collect();
            let payload = claims(json!(["admin"])).to_string();
            use base64::Engine;
            parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload);
            parts.join(".")
        };
        for (why, token) in [
            ("expired", provider.token(expired)),
            ("another audience", provider.token(wrong_audience)),
            ("another issuer", provider.token(wrong_issuer)),
            (
                "signed by a key the provider does not publish",
                stranger.token(claims(json!(["caseworker"]))),
            ),
            ("a shared-secret algorithm", hs256),
            ("a payload changed after signing", tampered),
            ("no Wherry role", provider.token(claims(json!(["staff"])))),
        ] {
            let (status, body) = call(&state, "GET", &uri, &token, "safeguarding", None).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{why}: {body}");
            assert!(!body.to_string().contains("Thrower"));
        }
        assert_eq!(
            t.store.audit_log(0).await.unwrap().len(),
            1,
            "refusals disclose nothing"
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn a_caller_over_their_rate_limit_gets_429_and_metrics_count_requests_by_route() {
    let dir = tempfile::tempdir().unwrap();
    for t in stores().await {
        let [(advisor, _), (fire, _), ..] = hub(&t.store, dir.path()).await;
        let mut state = AppState::new(t.store.clone(), None);
        state.limiter = RateLimiter::new(Limits {
            requests_per_second: 0.001,
            burst: 3,
        });
        let state = Arc::new(state);
        let uri = format!("/api/v1/residents/{PERSON}");
        for _ in 0..3 {
            let (status, _) = call(&state, "GET", &uri, &advisor, "contact_centre", None).await;
            assert_eq!(status, StatusCode::OK);
        }
        let req = Request::get(&uri)
            .header("authorization", format!("Bearer {advisor}"))
            .header("wherry-purpose", "contact_centre")
            .body(Body::empty())
            .unwrap();
        let res = app(state.clone()).oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(res.headers().contains_key("retry-after"));
        let (status, _) = call(&state, "GET", &uri, &fire, "fire_prevention", None).await;
        assert_eq!(status, StatusCode::OK, "another caller is not slowed");
        assert_eq!(
            t.store.audit_log(0).await.unwrap().len(),
            4,
            "the refused read disclosed nothing"
        );

        let res = app(state.clone())
            .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let text = String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec())
            .unwrap();
        let line = |status: u16| {
            format!(
                "wherry_http_requests_total{{method=\"GET\",route=\"/api/v1/residents/{{id}}\",status=\"{status}\"}}"
            )
        };
        assert!(text.contains(&format!("{} 4", line(200))), "{text}");
        assert!(text.contains(&format!("{} 1", line(429))), "{text}");
        assert!(!text.contains(PERSON), "metrics name routes, not people");
        let (_, body) = send(
            &state,
            Request::get("/healthz").body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(body["status"], "ok");
        t.finish().await;
    }
}
