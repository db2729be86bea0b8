//! Partner systems pushing records.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::StringRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use wherry_core::Role;
use wherry_store::AuditEntry;

use crate::{ApiError, AppState, MAX_BODY, audit, caller, matcher, request_id, with_request_id};

/// `POST /api/v1/sources/{source}/records`: a partner's system pushes one
/// record in its source's layout; it is validated as an extract row would
/// be, stored, matched in real time and placed with a person, whose id is
/// the answer.
pub(crate) async fn push(
    State(state): State<Arc<AppState>>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Result<String, StringRejection>,
) -> Result<Response, ApiError> {
    let caller = caller(&state, &headers).await?;
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
    if caller.role != Role::PartnerSystem {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "push_not_allowed",
            "only a partner_system user may push records",
        ));
    }
    let request = request_id();
    let matcher = matcher(&state)?;
    let manifest = state
        .store
        .source_manifests()
        .await
        .map_err(|e| ApiError::internal("reading sources", e))?
        .into_iter()
        .find(|(id, _)| *id == source)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_source",
                "no source has that id",
            )
        })?;
    let manifest: wherry_ingest::Manifest = serde_json::from_str(&manifest.1)
        .map_err(|e| ApiError::internal("a stored manifest", e))?;
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
    let placed = matcher
        .place(&source, &row, &caller.name)
        .await
        .map_err(|e| ApiError::internal("placing a pushed record", e))?;
    audit(
        &state,
        AuditEntry {
            sources: serde_json::to_string(&[&source]).expect("strings serialise"),
            ..caller.entry("push", Some(placed.person.clone()), &request)
        },
    )
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
    Ok(with_request_id(
        (status, Json(body)).into_response(),
        &request,
    ))
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
}

/// Longest text taken in a pushed event's fields.
const MAX_EVENT_TEXT: usize = 200;

/// `POST /api/v1/sources/{source}/events`: a partner's system records one
/// contact with one of its records (which must be current); the event joins
/// the resident's timeline and the answer names the person.
pub(crate) async fn push_event(
    State(state): State<Arc<AppState>>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Result<Json<PushedEvent>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let caller = caller(&state, &headers).await?;
    if caller.role != Role::PartnerSystem {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "push_not_allowed",
            "only a partner_system user may push contact events",
        ));
    }
    let e = crate::json_body(body)?;
    let invalid = |field: &str, why: &str| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_event",
            format!("{field}: {why}; nothing was stored"),
        )
    };
    for (field, value, required) in [
        ("record_id", &e.record_id, true),
        ("service", &e.service, true),
        ("contact_type", &e.contact_type, true),
        ("practitioner", &e.practitioner, false),
    ] {
        if required && value.trim().is_empty() {
            return Err(invalid(field, "missing"));
        }
        if value.chars().count() > MAX_EVENT_TEXT {
            return Err(invalid(field, "longer than 200 characters"));
        }
    }
    let today = wherry_core::Date::today_utc();
    let date = match wherry_core::Date::parse(e.date.trim()) {
        Ok(d) if d <= today => d,
        Ok(_) => return Err(invalid("date", "future_date")),
        Err(_) => return Err(invalid("date", "invalid_date")),
    };
    let request = request_id();
    let failed = |e| ApiError::internal("storing a pushed event", e);
    let mut tx = state.store.begin().await.map_err(failed)?;
    if !tx.source_exists(&source).await.map_err(failed)? {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_source",
            "no source has that id",
        ));
    }
    let current = matches!(
        tx.record_state(&source, &e.record_id)
            .await
            .map_err(failed)?,
        Some((_, _, false))
    );
    let person = tx.person_of(&source, &e.record_id).await.map_err(failed)?;
    let Some(person) = person.filter(|_| current) else {
        return Err(invalid(
            "record_id",
            "not a current, linked record of this source",
        ));
    };
    let event = wherry_store::Event {
        record_id: e.record_id,
        date: date.to_string(),
        service: e.service.trim().to_string(),
        contact_type: e.contact_type.trim().to_string(),
        practitioner: e.practitioner.trim().to_string(),
    };
    let hash = wherry_access::token::token_hash(&format!("{event:?}"));
    let extract = tx
        .new_extract(&source, "push", &hash, "push", &caller.name)
        .await
        .map_err(failed)?;
    tx.events(extract, &source, std::slice::from_ref(&event))
        .await
        .map_err(failed)?;
    tx.commit().await.map_err(failed)?;
    audit(
        &state,
        AuditEntry {
            sources: serde_json::to_string(&[&source]).expect("strings serialise"),
            ..caller.entry("push_event", Some(person.clone()), &request)
        },
    )
    .await?;
    let body =
        serde_json::json!({"person": person, "record_id": event.record_id, "date": event.date});
    Ok(with_request_id(
        (StatusCode::CREATED, Json(body)).into_response(),
        &request,
    ))
}
