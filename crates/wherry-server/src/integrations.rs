//! The network servers' integrations: ChirpStack v4's HTTP integration
//! (`POST /integrations/chirpstack?event=up`, also `status` and `join`) and
//! The Things Stack v3's webhooks (`POST /integrations/the-things-stack`),
//! each authenticated by its own secret in the `Wherry-Integration-Secret`
//! header, compared in constant time. The body goes to
//! `wherry_sensors::Intake`; an uplink is stored before the answer is sent.
//! Nothing of the body is logged.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use wherry_lorawan::Network;

use crate::{ApiError, AppState};

/// The header carrying an integration's secret.
pub const SECRET_HEADER: &str = "wherry-integration-secret";

/// The integrations' secrets; an integration without one is closed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Secrets {
    /// ChirpStack's HTTP integration.
    pub chirpstack: Option<String>,
    /// The Things Stack's webhook.
    pub the_things_stack: Option<String>,
}

/// ChirpStack's event type, `?event=up`.
#[derive(Debug, Deserialize)]
pub(crate) struct EventQuery {
    event: Option<String>,
}

/// `POST /integrations/chirpstack?event=…`.
pub(crate) async fn chirpstack(
    State(state): State<Arc<AppState>>,
    query: Result<Query<EventQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let kind = query.ok().and_then(|Query(q)| q.event).unwrap_or_default();
    take(&state, Network::Chirpstack, &kind, &headers, &body).await
}

/// `POST /integrations/the-things-stack`.
pub(crate) async fn the_things_stack(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    take(&state, Network::TheThingsStack, "up", &headers, &body).await
}

async fn take(
    state: &AppState,
    network: Network,
    kind: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Json<Value>, ApiError> {
    let expected = match network {
        Network::Chirpstack => state.integration_secrets.chirpstack.as_deref(),
        Network::TheThingsStack => state.integration_secrets.the_things_stack.as_deref(),
    };
    let Some(expected) = expected else {
        // Closed: no secret can be right (401, as a wrong one).
        state.intake.count_rejection("integration_closed");
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "integration_closed",
            "this integration has no secret configured ([integrations] in the server's config), so it takes nothing",
        ));
    };
    let given = headers
        .get(SECRET_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !crate::metrics::constant_time_eq(given, expected.as_bytes()) {
        state.intake.count_rejection("bad_secret");
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_secret",
            "the Wherry-Integration-Secret header is missing or wrong",
        ));
    }
    let now = state.clock.unix_ms();
    match state.intake.handle(network, kind, body, now).await {
        Ok(outcome) => Ok(Json(json!({"outcome": outcome.code()}))),
        Err(r) if r.reason == "store_unavailable" => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            "the store did not answer: send the event again",
        )),
        Err(r) => Err(ApiError::new(StatusCode::BAD_REQUEST, r.reason, r.message)),
    }
}

/// The intake's counters in the Prometheus text format.
pub(crate) fn render(state: &AppState, out: &mut String) {
    use std::fmt::Write as _;
    let counts = state.intake.counters().snapshot();
    let by_kind = |kind: &str| -> HashMap<&'static str, u64> {
        counts
            .iter()
            .filter(|(k, _, _)| *k == kind)
            .map(|(_, code, n)| (*code, *n))
            .collect()
    };
    out.push_str("# HELP wherry_sensor_events_total Network-server events taken, by outcome.\n");
    out.push_str("# TYPE wherry_sensor_events_total counter\n");
    let mut outcomes: Vec<_> = by_kind("outcome").into_iter().collect();
    outcomes.sort();
    for (code, n) in outcomes {
        let _ = writeln!(out, "wherry_sensor_events_total{{outcome=\"{code}\"}} {n}");
    }
    out.push_str(
        "# HELP wherry_sensor_rejections_total Network-server events refused, by reason.\n",
    );
    out.push_str("# TYPE wherry_sensor_rejections_total counter\n");
    let mut rejected: Vec<_> = by_kind("rejected").into_iter().collect();
    rejected.sort();
    for (code, n) in rejected {
        let _ = writeln!(
            out,
            "wherry_sensor_rejections_total{{reason=\"{code}\"}} {n}"
        );
    }
}
