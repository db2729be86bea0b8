//! A team's caseload over the API: the residents a caseworker's, TEC
//! team's or steward's team works with, each a legitimate reason for the
//! team to open them (see `wherry_access::relate`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use crate::{ApiCaller, ApiError, AppState};

/// `GET /api/v1/caseload`: the caller's team's caseload (person ids).
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    ApiCaller { caller, .. }: ApiCaller,
) -> Result<Json<Value>, ApiError> {
    let (team, people) = state.access.caseload(&caller).await?;
    Ok(Json(json!({"team": team, "residents": people})))
}

/// `POST /api/v1/caseload/{id}`: puts a resident the caller has a reason
/// to open on their team's caseload.
pub(crate) async fn add(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    ApiCaller { caller, request }: ApiCaller,
) -> Result<Json<Value>, ApiError> {
    let added = state
        .access
        .caseload_change(&caller, &id, true, request.as_str())
        .await?;
    Ok(Json(json!({"person": id, "changed": added})))
}

/// `DELETE /api/v1/caseload/{id}`: takes a resident off the caller's
/// team's caseload.
pub(crate) async fn remove(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    ApiCaller { caller, request }: ApiCaller,
) -> Result<Json<Value>, ApiError> {
    let removed = state
        .access
        .caseload_change(&caller, &id, false, request.as_str())
        .await?;
    Ok(Json(json!({"person": id, "changed": removed})))
}
