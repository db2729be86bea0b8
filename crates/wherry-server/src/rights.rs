//! Residents' data protection rights (role `admin`, purpose
//! `subject_rights`): a subject access request answered as one JSON
//! document, and erasure. Both are `wherry-access`'s; this renders them.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use crate::{ApiCaller, ApiError, AppState};

/// `GET /api/v1/residents/{id}/subject-access`: everything held about the
/// person and who has seen it.
pub(crate) async fn subject_access(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    ApiCaller { caller, request }: ApiCaller,
) -> Result<Json<Value>, ApiError> {
    state
        .access
        .subject_access(&caller, &id, request.as_str())
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("resident"))
}

/// An erasure's body: why.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Erasure {
    reason: String,
}

/// `POST /api/v1/residents/{id}/erasure` with `{"reason": "…"}`: erases
/// every record of the person (all versions, links, contact events),
/// retires the person, leaves a tombstone with the reason in the audit
/// log, and has the store keep no copy of what was deleted. A person
/// already erased: nothing is done (`already_erased`).
pub(crate) async fn erasure(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    ApiCaller { caller, request }: ApiCaller,
    body: Result<Json<Erasure>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = crate::json_body(body)?;
    let removed = state
        .access
        .erase(&caller, &id, &body.reason, request.as_str())
        .await?;
    if let Some(m) = &state.matcher {
        m.forget(&removed.records).await;
    }
    Ok(Json(json!({
        "person": id,
        "records_erased": removed.count(),
        "sensor_devices_erased": removed.sensor_devices,
        "sensor_readings_erased": removed.sensor_readings,
        "sources": removed.records.keys().collect::<Vec<_>>(),
        "retired": removed.retired,
        "already_erased": removed.count() == 0 && removed.sensor_devices == 0,
        "reclaimed": removed.reclaimed,
    })))
}
