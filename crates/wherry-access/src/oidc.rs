//! OpenID Connect bearer tokens, as a council's identity provider issues
//! them: a signed JWT verified against the provider's published keys (a
//! JWKS file), its issuer, audience and expiry checked, and the user's
//! Wherry role read from a claim (`roles` by default: the first value that
//! names a Wherry role).
//!
//! Only asymmetric algorithms are accepted (RS256/384/512, PS256/384/512,
//! ES256/384, EdDSA): a token signed with a shared secret, or with `none`,
//! is refused whatever its claims say.

use std::collections::HashMap;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use wherry_core::Role;

/// The identity provider's settings (the `[oidc]` table of the config).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The `iss` tokens must carry.
    pub issuer: String,
    /// The `aud` tokens must carry (Wherry's client id).
    pub audience: String,
    /// The provider's JSON Web Key Set, as a file.
    pub jwks_file: std::path::PathBuf,
    /// The claim holding the user's roles.
    #[serde(default = "roles")]
    pub role_claim: String,
    /// The claim naming the user in the audit log.
    #[serde(default = "username")]
    pub name_claim: String,
    /// Signing in to the web UI through the provider (authorisation code
    /// flow with PKCE): where the provider sends the browser back,
    /// `https://HOST/oidc/callback`. Unset, the UI takes Wherry tokens only.
    #[serde(default)]
    pub redirect_uri: Option<String>,
    /// The provider's authorisation endpoint [default: from its discovery
    /// document, `ISSUER/.well-known/openid-configuration`].
    #[serde(default)]
    pub authorization_endpoint: Option<String>,
    /// The provider's token endpoint [default: from discovery].
    #[serde(default)]
    pub token_endpoint: Option<String>,
    /// Wherry's client secret, for a provider that registers Wherry as a
    /// confidential client (sent by HTTP Basic); unset for a public client.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Scopes asked for besides `openid` (for the role and name claims).
    #[serde(default = "scopes")]
    pub scopes: String,
}

fn scopes() -> String {
    "profile".into()
}

fn roles() -> String {
    "roles".into()
}

fn username() -> String {
    "preferred_username".into()
}

/// Why a token was refused (nothing from the token itself).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The key set could not be read.
    #[error("the JWKS file {path}: {why}")]
    Keys {
        /// The file.
        path: String,
        /// Why.
        why: String,
    },
    /// The token is not valid: signature, algorithm, issuer, audience or expiry.
    #[error("the token is not valid: {0}")]
    Invalid(String),
    /// The token names no Wherry role.
    #[error("the token's {0} claim names no Wherry role")]
    NoRole(String),
}

/// Verifies OpenID Connect tokens against one provider.
pub struct Verifier {
    settings: Settings,
    /// Key id → key and its algorithm.
    keys: HashMap<String, (DecodingKey, Algorithm)>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("issuer", &self.settings.issuer)
            .field("keys", &self.keys.len())
            .finish()
    }
}

const ASYMMETRIC: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

impl Verifier {
    /// Reads the key set named in `settings`.
    pub fn new(settings: Settings) -> Result<Self, Error> {
        let path = settings.jwks_file.display().to_string();
        let bad = |why: String| Error::Keys {
            path: path.clone(),
            why,
        };
        let text = std::fs::read_to_string(&settings.jwks_file).map_err(|e| bad(e.to_string()))?;
        let set: JwkSet = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let mut keys = HashMap::new();
        for (i, jwk) in set.keys.iter().enumerate() {
            let kid = jwk
                .common
                .key_id
                .clone()
                .ok_or_else(|| bad(format!("key {} has no kid", i + 1)))?;
            let alg = jwk
                .common
                .key_algorithm
                .and_then(|a| a.to_string().parse::<Algorithm>().ok())
                .filter(|a| ASYMMETRIC.contains(a))
                .ok_or_else(|| bad(format!("key {kid:?} has no asymmetric signing alg")))?;
            let key = DecodingKey::from_jwk(jwk).map_err(|e| bad(format!("key {kid:?}: {e}")))?;
            keys.insert(kid, (key, alg));
        }
        if keys.is_empty() {
            return Err(bad("it holds no keys".into()));
        }
        Ok(Self { settings, keys })
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The user's name and Wherry role from a valid ID token issued for
    /// the sign-in that sent `nonce`.
    pub fn verify_id_token(&self, token: &str, nonce: &str) -> Result<(String, Role), Error> {
        let claims = self.claims(token)?;
        if claims["nonce"].as_str() != Some(nonce) {
            return Err(Error::Invalid(
                "the ID token was not issued for this sign-in (nonce)".into(),
            ));
        }
        self.user_of(&claims)
    }

    /// The user's name and Wherry role from a valid token.
    pub fn verify(&self, token: &str) -> Result<(String, Role), Error> {
        let claims = self.claims(token)?;
        self.user_of(&claims)
    }

    fn claims(&self, token: &str) -> Result<serde_json::Value, Error> {
        let invalid = |e: &dyn std::fmt::Display| Error::Invalid(e.to_string());
        let header = jsonwebtoken::decode_header(token).map_err(|e| invalid(&e))?;
        let kid = header.kid.ok_or_else(|| invalid(&"no kid in the header"))?;
        let (key, alg) = self
            .keys
            .get(&kid)
            .ok_or_else(|| invalid(&"signed by a key the provider does not publish"))?;
        if header.alg != *alg {
            return Err(invalid(&"the algorithm is not the key's"));
        }
        let mut validation = Validation::new(*alg);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&[&self.settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let claims: serde_json::Value = jsonwebtoken::decode(token, key, &validation)
            .map_err(|e| invalid(&e))?
            .claims;
        Ok(claims)
    }

    fn user_of(&self, claims: &serde_json::Value) -> Result<(String, Role), Error> {
        let invalid = |e: &dyn std::fmt::Display| Error::Invalid(e.to_string());
        let name = claims[&self.settings.name_claim]
            .as_str()
            .or_else(|| claims["sub"].as_str())
            .ok_or_else(|| invalid(&"no user name or sub"))?
            .to_string();
        let role_claim = &claims[&self.settings.role_claim];
        let values: Vec<&str> = match role_claim {
            serde_json::Value::String(s) => vec![s.as_str()],
            serde_json::Value::Array(a) => a.iter().filter_map(|v| v.as_str()).collect(),
            _ => vec![],
        };
        let role = values
            .iter()
            .find_map(|v| v.parse::<Role>().ok())
            .ok_or_else(|| Error::NoRole(self.settings.role_claim.clone()))?;
        Ok((format!("oidc:{name}"), role))
    }
}

/// Whether a bearer token looks like a JWT (three dot-separated parts)
/// rather than a Wherry API token.
pub fn is_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}
