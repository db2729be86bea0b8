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
