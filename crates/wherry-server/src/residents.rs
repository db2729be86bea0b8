//! The resident search and the resident view (the API's; the UI's pages
//! share [`search_fields`] and [`rank`]).

use std::collections::BTreeMap;
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
}

/// Longest search value taken.
const MAX_TERM: usize = 100;

/// `GET /api/v1/residents?name=&dob=&postcode=&nhs_number=`: persons ranked
/// by the real-time matcher's probability that they are the one described.
/// The answer is person ids and scores; the search is audited with the
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
    ];
    let fields = search_fields(&terms).map_err(|(_, m)| bad(m))?;
    let ranked = rank(matcher, &fields, 20).await?;
    let by_person: Vec<(String, f64)> = ranked.iter().map(|r| (r.0.clone(), r.1)).collect();
    let searched: Vec<&str> = fields.keys().map(String::as_str).collect();
    state
        .access
        .search_results(&caller, &searched, &by_person, false, request.as_str())
        .await?;
    let results: Vec<Value> = ranked
        .into_iter()
        .map(|(person, probability, weight)| {
            json!({"person": person, "probability": probability, "match_weight": weight})
        })
        .collect();
    Ok(Json(json!({"results": results})))
}

/// The canonical fields a search describes, from (parameter, value) pairs:
/// `name` split into given and family name, dates, postcodes and NHS
/// numbers checked as at ingest. The error names the parameter.
pub(crate) fn search_fields(
    terms: &[(&'static str, Option<&str>)],
) -> Result<BTreeMap<String, String>, (&'static str, String)> {
    let mut fields = BTreeMap::new();
    for (key, value) in terms {
        let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            continue;
        };
        if v.chars().count() > MAX_TERM {
            return Err((key, format!("{key} is longer than {MAX_TERM} characters")));
        }
        let invalid = |e: wherry_core::Error| (*key, format!("{key}: {e}"));
        match *key {
            "name" => {
                let words: Vec<&str> = v.split_whitespace().collect();
                if let [first, .., last] = words.as_slice() {
                    fields
                        .entry("given_name".into())
                        .or_insert(first.to_string());
                    fields
                        .entry("family_name".into())
                        .or_insert(last.to_string());
                } else {
                    fields.entry("family_name".into()).or_insert(v.to_string());
                }
            }
            "dob" => {
                let d = wherry_core::Date::parse(v).map_err(invalid)?;
                fields.insert("dob".into(), d.to_string());
            }
            "postcode" => {
                let p = wherry_core::Postcode::parse(v).map_err(invalid)?;
                fields.insert("postcode".into(), p.as_str().to_string());
            }
            "nhs_number" => {
                let n = wherry_core::NhsNumber::parse(v).map_err(invalid)?;
                fields.insert("nhs_number".into(), n.to_string());
            }
            _ => {
                fields.insert(key.to_string(), v.to_string());
            }
        }
    }
    if fields.is_empty() {
        return Err((
            "name",
            "give at least one of name, given_name, family_name, dob, postcode, nhs_number".into(),
        ));
    }
    Ok(fields)
}

/// Persons ranked by the best match weight of their records against
/// `fields`, strongest first, at most `limit`: (person, probability, weight).
pub(crate) async fn rank(
    matcher: &wherry_hub::Matcher,
    fields: &BTreeMap<String, String>,
    limit: usize,
) -> Result<Vec<(String, f64, f64)>, ApiError> {
    let found = matcher.candidates(fields, 50).await?;
    let mut best: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for c in found {
        if let Some(p) = c.person {
            let e = best.entry(p).or_insert((c.probability, c.weight));
            if c.weight > e.1 {
                *e = (c.probability, c.weight);
            }
        }
    }
    let mut ranked: Vec<(String, f64, f64)> =
        best.into_iter().map(|(p, (pr, w))| (p, pr, w)).collect();
    ranked.sort_by(|a, b| b.2.total_cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    ranked.truncate(limit);
    Ok(ranked)
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
