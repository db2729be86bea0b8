//! The server's configuration: a TOML file (`wherry serve --config FILE`,
//! or `$WHERRY_CONFIG`), every key optional. Flags beat the environment,
//! which beats the file, which beats the defaults.
//!
//! ```toml
//! listen = "127.0.0.1:8080"
//! database = "postgres://wherry@db/wherry"
//! secure_cookies = true   # the default: the session cookie only over TLS, and
//!                         # HSTS; false only for a server reached over plain
//!                         # HTTP on this machine (as `wherry demo` is)
//! metrics_token = "…"     # /metrics only with this bearer token
//! session_lifetime_hours = 8   # a web session ends this long after sign-in
//!
//! [limits]                # per token (or OpenID Connect user)
//! requests_per_second = 50
//! burst = 100             # 0 turns the limit off
//!
//! [auth_failures]         # failed authentications per client address
//! requests_per_second = 0.1667
//! burst = 10              # 0 turns the limit off (only for a test harness)
//!
//! [matcher]
//! review_low = 0.5        # pushed pairs in [low, high) go to the review queue
//! review_high = 0.95
//! reload_seconds = 30     # how often to look for ingests and linkage runs
//!
//! lead_services = ["older_people_team", "reablement"]  # who may lead a
//!                         # resident's care (default: wherry_access::lead)
//!
//! [roles]                 # replaces a role's default purposes
//! advisor = ["contact_centre"]
//!
//! [break_glass]           # replaces the purposes a role may override into
//! advisor = ["safeguarding"]
//!
//! [oidc]                  # a council's identity provider
//! issuer = "https://login.example.gov.uk/"
//! audience = "wherry"
//! jwks_file = "/etc/wherry/jwks.json"
//! role_claim = "roles"
//! name_claim = "preferred_username"
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use wherry_access::Policy;
pub use wherry_access::limits::Limits;
use wherry_link::ReviewRange;

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: Option<String>,
    /// Store URL.
    pub database: Option<String>,
    /// Mark the web UI's session cookie `Secure` and send HSTS (users reach
    /// the server over TLS, as behind a council's reverse proxy): the
    /// default, see [`Config::secure_cookies`].
    pub secure_cookies: Option<bool>,
    /// The bearer token `/metrics` requires (open when unset).
    pub metrics_token: Option<String>,
    /// Hours after sign-in that a web session ends, however busy (8).
    pub session_lifetime_hours: Option<f64>,
    /// Per-caller rate limits.
    #[serde(default)]
    pub limits: Limits,
    /// Failed authentications allowed per client address (see
    /// [`Config::auth_failures`]).
    pub auth_failures: Option<Limits>,
    /// The real-time matcher.
    #[serde(default)]
    pub matcher: MatcherSettings,
    /// The services that may lead a resident's care (visiting or caring
    /// services), replacing `wherry_access::lead::LEAD_SERVICES`.
    pub lead_services: Option<Vec<String>>,
    /// Role → purposes, replacing the defaults for the roles named.
    #[serde(default)]
    pub roles: BTreeMap<String, Vec<String>>,
    /// Role → purposes it may break glass into, replacing the defaults.
    #[serde(default)]
    pub break_glass: BTreeMap<String, Vec<String>>,
    /// OpenID Connect.
    pub oidc: Option<wherry_access::oidc::Settings>,
    /// The network servers' integrations' secrets.
    #[serde(default)]
    pub integrations: crate::integrations::Secrets,
    /// The MQTT broker the sensors' uplinks come through.
    pub mqtt: Option<wherry_sensors::mqtt::MqttSettings>,
    /// The care system's webhook that sensor alerts are delivered to.
    #[serde(default)]
    pub care_webhook: Option<CareWebhook>,
    /// The insight reports' settings.
    #[serde(default)]
    pub insight: InsightSettings,
}

/// `[insight]`: the reports' settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InsightSettings {
    /// The fire-risk model's weights file (TOML, `[weights]` points per
    /// factor; docs/insight.md); the documented defaults without one.
    pub fire_weights: Option<std::path::PathBuf>,
    /// A ward lookup (CSV with `postcode` and `ward` columns): demand is
    /// reported by ward instead of postcode district.
    pub wards: Option<std::path::PathBuf>,
}

impl InsightSettings {
    /// The fire-risk model's weights: the file's, or the defaults.
    pub fn fire_weights(&self) -> Result<wherry_insight::weights::Weights, String> {
        let Some(path) = &self.fire_weights else {
            return Ok(Default::default());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("[insight] fire_weights: reading {}: {e}", path.display()))?;
        wherry_insight::weights::Weights::from_toml(&path.display().to_string(), &text)
            .map_err(|e| format!("[insight] fire_weights: {e}"))
    }

    /// The ward lookup, if one is configured.
    pub fn wards(&self) -> Result<Option<BTreeMap<String, String>>, String> {
        let Some(path) = &self.wards else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("[insight] wards: reading {}: {e}", path.display()))?;
        wherry_insight::demand::ward_lookup(&path.display().to_string(), &text)
            .map(Some)
            .map_err(|e| format!("[insight] wards: {e}"))
    }
}

/// The real-time matcher's settings.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MatcherSettings {
    /// Lowest probability queued for review.
    pub review_low: f64,
    /// Probability from which a pair is not queued.
    pub review_high: f64,
    /// Seconds between checks for ingests and linkage runs made elsewhere.
    pub reload_seconds: u64,
}

impl Default for MatcherSettings {
    fn default() -> Self {
        let r = ReviewRange::default();
        Self {
            review_low: r.low,
            review_high: r.high,
            reload_seconds: 30,
        }
    }
}

impl MatcherSettings {
    /// The review range these settings give.
    pub fn review(&self) -> ReviewRange {
        ReviewRange {
            low: self.review_low,
            high: self.review_high,
        }
    }
}

impl Config {
    /// Reads and checks a configuration file; the error names the file and
    /// what is wrong.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses and checks configuration text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let c: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        c.policy()?;
        if c.limits.requests_per_second.is_nan() || c.limits.requests_per_second <= 0.0 {
            return Err("limits.requests_per_second must be above 0".into());
        }
        let f = c.auth_failures().requests_per_second;
        if f.is_nan() || f <= 0.0 {
            return Err("auth_failures.requests_per_second must be above 0".into());
        }
        if c.session_lifetime_hours
            .is_some_and(|h| !(h > 0.0 && h <= 24.0 * 30.0))
        {
            return Err("session_lifetime_hours must be above 0 and at most 720".into());
        }
        if c.matcher.review().check().is_err() {
            return Err(
                "matcher.review_low and review_high must be probabilities with low ≤ high".into(),
            );
        }
        Ok(c)
    }

    /// Whether cookies are `Secure` (and HSTS sent): yes unless the file
    /// says `secure_cookies = false`.
    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies.unwrap_or(true)
    }

    /// Failed authentications allowed per client address: the file's, or
    /// 10 and then one every 6 seconds.
    pub fn auth_failures(&self) -> Limits {
        self.auth_failures
            .unwrap_or(wherry_access::limits::AUTH_FAILURES)
    }

    /// How long a web session lasts at most, if configured.
    pub fn session_lifetime(&self) -> Option<std::time::Duration> {
        self.session_lifetime_hours
            .map(|h| std::time::Duration::from_secs_f64(h * 3600.0))
    }

    /// The role → purposes policy: the defaults, with the roles named in
    /// `[roles]` replaced.
    pub fn policy(&self) -> Result<Policy, String> {
        let policy = Policy::with_roles(&self.roles)?.with_break_glass(&self.break_glass)?;
        match &self.lead_services {
            Some(services) => policy.with_lead_services(services.clone()),
            None => Ok(policy),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wherry_core::{Purpose, Role};

    #[test]
    fn every_key_is_optional_and_bad_values_are_named() {
        let c = Config::parse("").unwrap();
        assert_eq!(c.limits, Limits::default());
        let c = Config::parse(
            "listen = \"0.0.0.0:9000\"\n[roles]\nadvisor = [\"contact_centre\", \"direct_care\"]\n",
        )
        .unwrap();
        assert!(
            c.policy()
                .unwrap()
                .check(Role::Advisor, Purpose::DirectCare)
                .is_ok()
        );
        for (text, needle) in [
            ("[roles]\nwizard = []", "wizard"),
            ("[roles]\nadvisor = [\"gossip\"]", "gossip"),
            ("[limits]\nrequests_per_second = 0", "requests_per_second"),
            (
                "[matcher]\nreview_low = 0.9\nreview_high = 0.5",
                "review_low",
            ),
            ("listne = \"x\"", "listne"),
            ("session_lifetime_hours = 0", "session_lifetime_hours"),
            ("[break_glass]\nanalyst = [\"direct_care\"]", "analyst"),
            ("[break_glass]\nadvisor = [\"gossip\"]", "gossip"),
        ] {
            let e = Config::parse(text).unwrap_err();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }
}

/// `[care_webhook]`: where sensor alerts are delivered (at least once, with
/// an `Idempotency-Key`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CareWebhook {
    /// The care system's URL.
    pub url: String,
    /// Sent as `Authorization: Bearer …`, when set.
    pub bearer: Option<String>,
}

impl CareWebhook {
    /// The notifier's settings.
    pub fn webhook(&self) -> wherry_sensors::notify::Webhook {
        wherry_sensors::notify::Webhook {
            url: self.url.clone(),
            bearer: self.bearer.clone(),
        }
    }
}
