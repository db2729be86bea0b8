//! The data steward's endpoints (role `steward`, purpose `data_quality`,
//! also called `record_matching`): the review queue with explanations,
//! accepting or rejecting an item, and linking or unlinking two records by
//! hand; and the person change feed for partner systems. The rules and the
//! audit are `wherry-access`'s and `wherry-hub`'s; this renders them.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use wherry_store::{RecordKey, ReviewStatus};

use crate::{ApiCaller, ApiError, AppState, json_body};

/// `?status=open|accepted|rejected|all`.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct ReviewQuery {
    status: Option<String>,
}

/// `GET /api/v1/review?status=open`: review items with their explanations.
pub(crate) async fn review_list(
    State(state): State<Arc<AppState>>,
    ApiCaller { caller, request }: ApiCaller,
    query: Result<Query<ReviewQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let bad = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_query",
            "status must be open, accepted, rejected or all",
        )
    };
    let Query(q) = query.map_err(|_| bad())?;
    let status = match q.status.as_deref().unwrap_or("open") {
        "all" => None,
        s => Some(s.parse::<ReviewStatus>().map_err(|_| bad())?),
    };
    let items = state
        .access
        .review_list(&caller, status, request.as_str())
        .await?;
    let items: Vec<Value> = items
        .into_iter()
        .map(|i| {
            json!({
                "id": i.id,
                "left": i.left,
                "right": i.right,
                "probability": i.probability,
                "explanation": wherry_link::explain::Stored::parse(&i.explanation).text(),
                "status": i.status,
            })
        })
        .collect();
    Ok(Json(json!({"items": items})))
}

/// A steward's reason.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Reason {
    #[serde(default)]
    reason: String,
}

/// `POST /api/v1/review/{id}/accept` and `/reject`.
pub(crate) async fn review_settle(
    State(state): State<Arc<AppState>>,
    Path((id, verb)): Path<(String, String)>,
    ApiCaller { caller, request }: ApiCaller,
    headers: axum::http::HeaderMap,
    body: Result<Json<Reason>, JsonRejection>,
) -> Result<Json<wherry_hub::steward::Effect>, ApiError> {
    let accept = match verb.as_str() {
        "accept" => true,
        "reject" => false,
        _ => return Err(crate::no_route().await),
    };
    let id: i64 = id.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_id",
            "a review item id is a whole number",
        )
    })?;
    // The body (a reason) may be left out altogether.
    let bodiless = !headers.contains_key(axum::http::header::CONTENT_TYPE)
        && headers
            .get(axum::http::header::CONTENT_LENGTH)
            .is_none_or(|v| v.as_bytes() == b"0");
    let reason = if bodiless {
        String::new()
    } else {
        json_body(body)?.reason
    };
    wherry_hub::steward::settle(
        &state.access,
        &caller,
        id,
        accept,
        &reason,
        request.as_str(),
    )
    .await?
    .map(Json)
    .ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no open review item has that id",
        )
    })
}

/// `{left, right, reason}`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Pair {
    left: RecordKey,
    right: RecordKey,
    #[serde(default)]
    reason: String,
}

/// `POST /api/v1/links`: a steward's manual link (the two records' persons
/// merge); it stands on every later linkage run.
pub(crate) async fn link(
    state: State<Arc<AppState>>,
    caller: ApiCaller,
    body: Result<Json<Pair>, JsonRejection>,
) -> Result<Json<wherry_hub::steward::Effect>, ApiError> {
    manual(state, caller, body, true).await
}

/// `POST /api/v1/unlinks`: a steward's manual unlink (the right record
/// moves to a person of its own); it stands on every later linkage run.
pub(crate) async fn unlink(
    state: State<Arc<AppState>>,
    caller: ApiCaller,
    body: Result<Json<Pair>, JsonRejection>,
) -> Result<Json<wherry_hub::steward::Effect>, ApiError> {
    manual(state, caller, body, false).await
}

async fn manual(
    State(state): State<Arc<AppState>>,
    ApiCaller { caller, request }: ApiCaller,
    body: Result<Json<Pair>, JsonRejection>,
    link: bool,
) -> Result<Json<wherry_hub::steward::Effect>, ApiError> {
    let pair = json_body(body)?;
    let reason = pair.reason;
    let records = (&pair.left, &pair.right);
    let r = request.as_str();
    let effect = if link {
        wherry_hub::steward::link(&state.access, &caller, records, &reason, r).await
    } else {
        wherry_hub::steward::unlink(&state.access, &caller, records, &reason, r).await
    }?;
    Ok(Json(effect))
}

/// `?since=SEQ&limit=N`.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct ChangesQuery {
    #[serde(default)]
    since: i64,
    limit: Option<usize>,
}

/// Most changes in one page.
const MAX_CHANGES: usize = 1_000;

/// `GET /api/v1/changes?since=SEQ`: persons created, merged, split and
/// retired after `since`, oldest first, for partner systems to follow; the
/// next page starts after the last `seq`.
pub(crate) async fn changes(
    State(state): State<Arc<AppState>>,
    ApiCaller { caller, request }: ApiCaller,
    query: Result<Query<ChangesQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_query",
            "since and limit must be whole numbers",
        )
    })?;
    let limit = q.limit.unwrap_or(MAX_CHANGES);
    if q.since < 0 || !(1..=MAX_CHANGES).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_query",
            format!("since must be 0 or more and limit from 1 to {MAX_CHANGES}"),
        ));
    }
    let rows = state
        .access
        .changes(&caller, q.since, limit, request.as_str())
        .await?;
    let next = rows.last().map_or(q.since, |r| r.seq);
    Ok(Json(json!({"changes": rows, "next_since": next})))
}
