//! Residents' data protection rights (role `admin`, purpose
//! `subject_rights`): a subject access request answered as one JSON
//! document, and erasure. Both are `wherry-access`'s; this renders them.

use std::sync::Arc;

use axum::Json;
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

/// `POST /api/v1/residents/{id}/erasure`: erases every record of the
/// person (all versions, links, contact events), retires the person, and
/// leaves a tombstone in the audit log.
pub(crate) async fn erasure(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    ApiCaller { caller, request }: ApiCaller,
) -> Result<Json<Value>, ApiError> {
    let removed = state.access.erase(&caller, &id, request.as_str()).await?;
    if let Some(m) = &state.matcher {
        m.forget(&removed.records).await;
    }
    Ok(Json(json!({
        "person": id,
        "records_erased": removed.count(),
        "sources": removed.records.keys().collect::<Vec<_>>(),
        "retired": removed.retired,
    })))
}
