//! The resident search and the resident view (the API's; the UI's pages
//! share `wherry_hub::search` with it).

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::{ApiCaller, ApiError, AppState};

/// The search parameters (all optional; at least one needed).
#[derive(Debug, serde::Deserialize)]
pub(crate) struct SearchQuery {
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    dob: Option<String>,
    postcode: Option<String>,
    nhs_number: Option<String>,
    phone: Option<String>,
}

/// `GET /api/v1/residents?name=&dob=&postcode=&nhs_number=&phone=`: any one
/// is enough; persons ranked by `wherry_hub::search::rank`, at most 20, with
/// `total` candidates found. The answer is person ids and scores; the search is audited with the
/// parameters' names, not their values.
pub(crate) async fn search(
    State(state): State<Arc<AppState>>,
    ApiCaller { caller, request }: ApiCaller,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.require_identifying("searching by identifying details")?;
    let bad = |m: String| ApiError::new(StatusCode::BAD_REQUEST, "bad_search", m);
    let Query(q) = query.map_err(|_| bad("the search parameters could not be read".into()))?;
    let matcher = state.matcher()?;
    let terms = [
        ("name", q.name.as_deref()),
        ("given_name", q.given_name.as_deref()),
        ("family_name", q.family_name.as_deref()),
        ("dob", q.dob.as_deref()),
        ("postcode", q.postcode.as_deref()),
        ("nhs_number", q.nhs_number.as_deref()),
        ("phone", q.phone.as_deref()),
    ];
    let fields = wherry_hub::search::fields(&terms).map_err(|(_, m)| bad(m))?;
    let found = wherry_hub::search::rank(matcher, &fields, 20).await?;
    let by_person: Vec<(String, f64)> = found
        .ranked
        .iter()
        .map(|r| (r.person.clone(), r.probability))
        .collect();
    let searched: Vec<&str> = fields.keys().map(String::as_str).collect();
    state
        .access
        .search_results(&caller, &searched, &by_person, false, request.as_str())
        .await?;
    let results: Vec<Value> = found
        .ranked
        .into_iter()
        .map(
            |r| json!({"person": r.person, "probability": r.probability, "match_weight": r.weight}),
        )
        .collect();
    Ok(Json(json!({"results": results, "total": found.total})))
}

/// `GET /api/v1/residents/{id}`: the resident view (see
/// `wherry_access::disclose`), audited before it is sent.
pub(crate) async fn resident(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    ApiCaller { caller, request }: ApiCaller,
) -> Result<Json<wherry_access::ResidentView>, ApiError> {
    state
        .access
        .resident(&caller, &id, request.as_str())
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("resident"))
}
