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
    state: State<Arc<AppState>>,
    id: Path<String>,
    caller: ApiCaller,
) -> Result<Json<Value>, ApiError> {
    change(state, id, caller, true).await
}

/// `DELETE /api/v1/caseload/{id}`: takes a resident off the caller's
/// team's caseload.
pub(crate) async fn remove(
    state: State<Arc<AppState>>,
    id: Path<String>,
    caller: ApiCaller,
) -> Result<Json<Value>, ApiError> {
    change(state, id, caller, false).await
}

async fn change(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    ApiCaller { caller, request }: ApiCaller,
    add: bool,
) -> Result<Json<Value>, ApiError> {
    let changed = state
        .access
        .caseload_change(&caller, &id, add, request.as_str())
        .await?;
    Ok(Json(json!({"person": id, "changed": changed})))
}
