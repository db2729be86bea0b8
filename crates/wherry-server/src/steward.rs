//! The data steward's endpoints (role `steward`, purpose `data_quality`):
//! the review queue with explanations, accepting or rejecting an item, and
//! linking or unlinking two records by hand; and the person change feed
//! for partner systems. Every call is audited.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use wherry_core::Role;

use crate::{ApiError, AppState, Caller, audit, caller, json_body, request_id, with_request_id};

/// Refuses a caller whose role is not one of `roles`.
pub(crate) fn require(caller: &Caller, roles: &[Role], what: &str) -> Result<(), ApiError> {
    if roles.contains(&caller.role) {
        return Ok(());
    }
    let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "role_not_allowed",
        format!("{what} is for the {} role", names.join(" or ")),
    ))
}

/// `?status=open|accepted|rejected|all`.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct ReviewQuery {
    status: Option<String>,
}

/// `GET /api/v1/review?status=open`: review items with their explanations.
pub(crate) async fn review_list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    query: Result<Query<ReviewQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let caller = caller(&state, &headers).await?;
    require(&caller, &[Role::Steward], "the review queue")?;
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
        s @ ("open" | "accepted" | "rejected") => Some(s),
        _ => return Err(bad()),
    };
    let request = request_id();
    let items = state
        .store
        .review_items(status)
        .await
        .map_err(|e| ApiError::internal("reading the review queue", e))?;
    audit(&state, caller.entry("review_list", None, &request)).await?;
    let items: Vec<Value> = items
        .into_iter()
        .map(|(id, sl, rl, sr, rr, probability, explanation, status)| {
            json!({
                "id": id,
                "left": {"source": sl, "record_id": rl},
                "right": {"source": sr, "record_id": rr},
                "probability": probability,
                "explanation": explanation,
                "status": status,
            })
        })
        .collect();
    Ok(with_request_id(
        Json(json!({"items": items})).into_response(),
        &request,
    ))
}

/// A steward's reason.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Reason {
    #[serde(default)]
    reason: String,
}

/// Longest reason taken.
const MAX_REASON: usize = 500;

fn reason_of(reason: String) -> Result<String, ApiError> {
    if reason.chars().count() > MAX_REASON {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "reason_too_long",
            format!("a reason may be at most {MAX_REASON} characters"),
        ));
    }
    Ok(reason)
}

/// `POST /api/v1/review/{id}/accept` and `/reject`.
pub(crate) async fn review_settle(
    State(state): State<Arc<AppState>>,
    Path((id, verb)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Json<Reason>, JsonRejection>,
) -> Result<Response, ApiError> {
    let caller = caller(&state, &headers).await?;
    require(&caller, &[Role::Steward], "settling review items")?;
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
    let reason = reason_of(json_body(body)?.reason)?;
    let request = request_id();
    let effect = wherry_hub::steward::settle(&state.store, id, accept, &caller.name, &reason)
        .await
        .map_err(hub_error)?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no open review item has that id",
            )
        })?;
    audit(
        &state,
        caller.entry(
            if accept {
                "review_accept"
            } else {
                "review_reject"
            },
            Some(effect.person.clone()),
            &request,
        ),
    )
    .await?;
    Ok(with_request_id(Json(effect).into_response(), &request))
}

/// A record named in a request body.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecordRef {
    source: String,
    record_id: String,
}

/// `{left, right, reason}`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Pair {
    left: RecordRef,
    right: RecordRef,
    #[serde(default)]
    reason: String,
}

/// `POST /api/v1/links` and `POST /api/v1/unlinks`: a steward's manual
/// link (the two records' persons merge) or unlink (the right record moves
/// to a person of its own); each stands on every later linkage run.
pub(crate) async fn link(
    state: State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Json<Pair>, JsonRejection>,
) -> Result<Response, ApiError> {
    manual(state, headers, body, true).await
}

/// `POST /api/v1/unlinks`: see [`link`].
pub(crate) async fn unlink(
    state: State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Json<Pair>, JsonRejection>,
) -> Result<Response, ApiError> {
    manual(state, headers, body, false).await
}

async fn manual(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Json<Pair>, JsonRejection>,
    link: bool,
) -> Result<Response, ApiError> {
    let caller = caller(&state, &headers).await?;
    require(&caller, &[Role::Steward], "linking records by hand")?;
    let pair = json_body(body)?;
    let reason = reason_of(pair.reason)?;
    let left = (pair.left.source, pair.left.record_id);
    let right = (pair.right.source, pair.right.record_id);
    if left == right {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "same_record",
            "left and right name the same record",
        ));
    }
    let request = request_id();
    let effect = if link {
        wherry_hub::steward::link(&state.store, &left, &right, &caller.name, &reason).await
    } else {
        wherry_hub::steward::unlink(&state.store, &left, &right, &caller.name, &reason).await
    }
    .map_err(hub_error)?;
    audit(
        &state,
        caller.entry(
            if link { "link" } else { "unlink" },
            Some(effect.person.clone()),
            &request,
        ),
    )
    .await?;
    Ok(with_request_id(Json(effect).into_response(), &request))
}

/// A hub error as an API error: what the caller can fix is a 4xx.
pub(crate) fn hub_error(e: wherry_hub::Error) -> ApiError {
    match e {
        wherry_hub::Error::NotLinked(..) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_linked_record",
            "a record named is not a current, linked record",
        ),
        wherry_hub::Error::NoSuchPerson => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no resident has that id",
        ),
        e => ApiError::internal("a hub operation", e),
    }
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
    headers: HeaderMap,
    query: Result<Query<ChangesQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let caller = caller(&state, &headers).await?;
    require(
        &caller,
        &[Role::PartnerSystem, Role::Steward],
        "the change feed",
    )?;
    let Query(q) = query.map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_query",
            "since and limit must be whole numbers",
        )
    })?;
    let limit = q.limit.unwrap_or(MAX_CHANGES).clamp(1, MAX_CHANGES);
    let request = request_id();
    let rows = state
        .store
        .changes(q.since, limit)
        .await
        .map_err(|e| ApiError::internal("reading the change feed", e))?;
    audit(&state, caller.entry("changes", None, &request)).await?;
    let next = rows.last().map_or(q.since, |r| r.0);
    let changes: Vec<Value> = rows
        .into_iter()
        .map(|(seq, kind, person, others, at, _)| {
            let others: Value = serde_json::from_str(&others).unwrap_or(Value::Null);
            json!({"seq": seq, "kind": kind, "person": person, "others": others, "at": at})
        })
        .collect();
    Ok(with_request_id(
        Json(json!({"changes": changes, "next_since": next})).into_response(),
        &request,
    ))
}
