//! FHIR R4 `POST /fhir/Patient/$match`: a partner's system sends a UK Core
//! `Patient` (bare, or as the `resource` parameter of a `Parameters`, with
//! the optional `count` and `onlyCertainMatches`); the answer is a
//! `searchset` Bundle of the residents it may be, strongest first, each
//! with `search.score` (the real-time matcher's probability) and the
//! match-grade extension:
//!
//! - `certain`: probability ≥ [`CERTAIN`];
//! - `probable`: at or above the model's linking threshold;
//! - `possible`: at or above [`POSSIBLE`] (lower is left out).
//!
//! Each resident is returned as a `Patient` whose id is the Wherry person id,
//! built from the golden record as the caller's purpose may see it; each
//! resident disclosed has its audit entry. Errors are `OperationOutcome`s.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::extract::rejection::StringRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use wherry_access::survivorship::Chosen;

use crate::{ApiCaller, ApiError, AppState, MAX_BODY};

/// Probability from which a match is graded `certain`.
pub const CERTAIN: f64 = 0.99;
/// Probability below which a candidate is not returned.
pub const POSSIBLE: f64 = 0.5;
const MATCH_GRADE: &str = "http://hl7.org/fhir/StructureDefinition/match-grade";

/// An error as a FHIR `OperationOutcome`.
fn outcome(status: StatusCode, code: &str, diagnostics: impl Into<String>) -> Response {
    let diagnostics = diagnostics.into();
    let body = json!({
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}],
    });
    let mut r = fhir_json(status, &body);
    r.extensions_mut().insert(crate::security::Refused {
        code: "fhir_outcome",
        reason: diagnostics,
    });
    r
}

/// A FHIR resource as `application/fhir+json`.
fn fhir_json(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/fhir+json")],
        body.to_string(),
    )
        .into_response()
}

impl<E: Into<ApiError>> From<E> for Outcome {
    fn from(e: E) -> Self {
        Outcome(e.into().into_outcome())
    }
}

/// A failed `$match`, answered as an `OperationOutcome`.
struct Outcome(Response);

impl ApiError {
    fn into_outcome(self) -> Response {
        let status = self.status;
        let internal = status.is_server_error();
        let code = match self.status {
            StatusCode::UNAUTHORIZED => "login",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::SERVICE_UNAVAILABLE => "transient",
            s if s.is_server_error() => "exception",
            _ => "invalid",
        };
        let mut r = outcome(status, code, format!("{}: {}", self.code, self.message));
        if internal {
            // Keeps the cause for the request layer's log.
            let logged = self.into_response();
            if let Some(i) = logged.extensions().get::<crate::error::Internal>() {
                r.extensions_mut().insert(i.clone());
            }
        }
        r
    }
}

/// `POST /fhir/Patient/$match`.
pub(crate) async fn patient_match(
    State(state): State<Arc<AppState>>,
    caller: Result<ApiCaller, ApiError>,
    body: Result<String, StringRejection>,
) -> Response {
    match run(&state, caller, body).await {
        Ok(r) => r,
        Err(Outcome(r)) => r,
    }
}

async fn run(
    state: &AppState,
    caller: Result<ApiCaller, ApiError>,
    body: Result<String, StringRejection>,
) -> Result<Response, Outcome> {
    let ApiCaller { caller, request } = caller?;
    caller
        .require_identifying("matching by identifying details")
        .map_err(ApiError::from)?;
    let body = body.map_err(|r| {
        let status = r.status();
        Outcome(if status == StatusCode::PAYLOAD_TOO_LARGE {
            outcome(
                status,
                "too-costly",
                format!("a request body may be at most {MAX_BODY} bytes"),
            )
        } else {
            outcome(status, "structure", "the body must be UTF-8 JSON")
        })
    })?;
    let invalid = |m: String| Outcome(outcome(StatusCode::BAD_REQUEST, "invalid", m));
    let input: Value =
        serde_json::from_str(&body).map_err(|e| invalid(format!("malformed JSON: {e}")))?;
    let wherry_ingest::fhir::MatchRequest {
        patient,
        count,
        only_certain,
    } = wherry_ingest::fhir::match_request(&input).map_err(|m| invalid(m.into()))?;
    let matcher = state.matcher()?;
    let row = wherry_ingest::read::pushed_row(
        &wherry_ingest::fhir::match_manifest(),
        &patient.to_string(),
        wherry_core::Date::today_utc(),
    )
    .map_err(|q| {
        let code = q.reason.split(':').next().unwrap_or("invalid").to_string();
        let field = q.field.unwrap_or_else(|| "the Patient".into());
        Outcome(outcome(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("{field}: {code}"),
        ))
    })?;
    if row.fields.is_empty() {
        return Err(invalid("the Patient carries nothing to match on".into()));
    }
    let threshold = matcher.threshold();
    let found = matcher.candidates(&row.fields, 50).await?;
    let mut best: BTreeMap<String, f64> = BTreeMap::new();
    for c in found {
        if let Some(p) = c.person {
            let e = best.entry(p).or_insert(c.probability);
            *e = e.max(c.probability);
        }
    }
    let mut ranked: Vec<(String, f64)> = best
        .into_iter()
        .filter(|(_, p)| *p >= POSSIBLE && (!only_certain || *p >= CERTAIN))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ranked.truncate(count);
    let matched = state
        .access
        .matched(&caller, &ranked, "fhir_match", request.as_str())
        .await?;
    let entries: Vec<Value> = matched
        .iter()
        .map(|m| {
            let grade = if m.probability >= CERTAIN {
                "certain"
            } else if m.probability >= threshold {
                "probable"
            } else {
                "possible"
            };
            json!({
                "fullUrl": format!("urn:wherry:person:{}", m.person),
                "resource": wherry_ingest::fhir::patient(&m.person, &values(&m.golden)),
                "search": {
                    "mode": "match",
                    "score": m.probability,
                    "extension": [{"url": MATCH_GRADE, "valueCode": grade}],
                },
            })
        })
        .collect();
    let bundle = json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": entries.len(),
        "entry": entries,
    });
    Ok(fhir_json(StatusCode::OK, &bundle))
}

/// A golden record's values as text, for the Patient built from them.
fn values(golden: &BTreeMap<String, Chosen>) -> BTreeMap<String, String> {
    golden
        .iter()
        .filter_map(|(f, c)| c.value.as_str().map(|v| (f.clone(), v.to_string())))
        .collect()
}
