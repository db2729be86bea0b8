//! Partner systems pushing records and contact events.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{JsonRejection, StringRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use wherry_core::Role;
use wherry_store::AuditEntry;

use crate::{ApiCaller, ApiError, AppState, MAX_BODY};

/// `POST /api/v1/sources/{source}/records`: a partner's system pushes one
/// record in its source's layout; it is validated as an extract row would
/// be, stored, matched in real time and placed with a person, whose id is
/// the answer.
pub(crate) async fn push(
    State(state): State<Arc<AppState>>,
    Path(source): Path<String>,
    ApiCaller { caller, request }: ApiCaller,
    headers: axum::http::HeaderMap,
    body: Result<String, StringRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|r| {
        let status = r.status();
        let (code, message) = if status == StatusCode::PAYLOAD_TOO_LARGE {
            (
                "body_too_large",
                format!("a request body may be at most {MAX_BODY} bytes"),
            )
        } else {
            ("bad_body", "the body must be UTF-8 text".to_string())
        };
        ApiError::new(status, code, message)
    })?;
    caller.require(&[Role::PartnerSystem], "pushing records")?;
    caller.require_source(&source)?;
    let kind = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if !matches!(
        kind.as_deref(),
        Some("application/json" | "application/fhir+json")
    ) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "json_required",
            "send the record as Content-Type: application/json (or application/fhir+json)",
        ));
    }
    let matcher = state.matcher()?;
    let manifest = wherry_ingest::stored_manifest(state.store(), &source)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_source",
                "no source has that id",
            )
        })?;
    let row = wherry_ingest::read::pushed_row(&manifest, &body, wherry_core::Date::today_utc())
        .map_err(|q| {
            // The reason's code and the field, never the value.
            let code = q.reason.split(':').next().unwrap_or("invalid").to_string();
            let field = q.field.unwrap_or_else(|| "the record".into());
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_record",
                format!("{field}: {code}; nothing was stored"),
            )
        })?;
    let pushed = wherry_hub::Pushed {
        record_id: &row.record_id,
        fields: &row.fields,
        fields_json: &row.fields_json,
        attributes_json: &row.attributes_json,
        raw: &row.raw,
        hash: &row.hash,
    };
    let placed = matcher.place(&source, pushed, &caller.user).await?;
    state
        .access
        .record(vec![AuditEntry {
            sources: serde_json::to_string(&[&source]).expect("strings serialise"),
            ..caller.entry("push", Some(&placed.person), request.as_str())
        }])
        .await?;
    let outcome = match &placed.outcome {
        wherry_hub::Outcome::Kept => "kept",
        wherry_hub::Outcome::Joined { .. } => "joined",
        wherry_hub::Outcome::Created => "created",
    };
    let body = json!({
        "person": placed.person,
        "outcome": outcome,
        "version": placed.version,
        "queued_for_review": placed.review.is_some(),
    });
    let status = if placed.outcome == wherry_hub::Outcome::Created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(body)).into_response())
}

/// A contact event pushed by a partner's system.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PushedEvent {
    record_id: String,
    date: String,
    service: String,
    contact_type: String,
    #[serde(default)]
    practitioner: String,
    #[serde(default)]
    team: String,
    #[serde(default)]
    team_phone: String,
}

/// `POST /api/v1/sources/{source}/events`: a partner's system records one
/// contact with one of its records (which must be current); the event joins
/// the resident's timeline and the answer names the person. The event is
/// checked by the same rule as an events file's rows.
pub(crate) async fn push_event(
    State(state): State<Arc<AppState>>,
    Path(source): Path<String>,
    ApiCaller { caller, request }: ApiCaller,
    body: Result<Json<PushedEvent>, JsonRejection>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::PartnerSystem], "pushing contact events")?;
    caller.require_source(&source)?;
    let e = crate::json_body(body)?;
    let invalid = |field: &str, why: &str| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_event",
            format!("{field}: {why}; nothing was stored"),
        )
    };
    let sent = wherry_ingest::event::SentEvent {
        record_id: &e.record_id,
        date: &e.date,
        service: &e.service,
        contact_type: &e.contact_type,
        practitioner: &e.practitioner,
        team: &e.team,
        team_phone: &e.team_phone,
    };
    let event =
        wherry_ingest::event::check(&sent, wherry_core::Date::today_utc()).map_err(|p| {
            let code = p.reason.split(':').next().unwrap_or("invalid").to_string();
            invalid(p.field, &code)
        })?;
    let person = wherry_hub::events::add(state.store(), &source, &caller.user, &event)
        .await?
        .ok_or_else(|| invalid("record_id", "not a current, linked record of this source"))?;
    state
        .access
        .record(vec![AuditEntry {
            sources: serde_json::to_string(&[&source]).expect("strings serialise"),
            ..caller.entry("push_event", Some(&person), request.as_str())
        }])
        .await?;
    let body = json!({"person": person, "record_id": event.record_id, "date": event.date});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}
