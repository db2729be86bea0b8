//! The resident search and the resident view.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use wherry_store::AuditEntry;

use crate::{
    ApiError, AppState, Caller, audit, caller, manifests, matcher, request_id, view,
    with_request_id,
};

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
    headers: HeaderMap,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let caller = caller(&state, &headers).await?;
    if caller.role.pseudonymised_only() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "pseudonymised_only",
            "searching by identifying details is not open to a pseudonymised-only role",
        ));
    }
    let bad = |m: String| ApiError::new(StatusCode::BAD_REQUEST, "bad_search", m);
    let Query(q) = query.map_err(|_| bad("the search parameters could not be read".into()))?;
    let matcher = matcher(&state)?;
    let terms = [
        ("name", q.name.as_deref()),
        ("given_name", q.given_name.as_deref()),
        ("family_name", q.family_name.as_deref()),
        ("dob", q.dob.as_deref()),
        ("postcode", q.postcode.as_deref()),
        ("nhs_number", q.nhs_number.as_deref()),
    ];
    let fields = search_fields(&terms).map_err(|(_, m)| bad(m))?;
    let request = request_id();
    let ranked = rank(matcher, &fields, 20).await?;
    audit(
        &state,
        AuditEntry {
            fields: serde_json::to_string(&fields.keys().collect::<Vec<_>>())
                .expect("strings serialise"),
            ..caller.entry("search", None, &request)
        },
    )
    .await?;
    let results: Vec<Value> = ranked
        .into_iter()
        .map(|(person, probability, weight)| {
            json!({"person": person, "probability": probability, "match_weight": weight})
        })
        .collect();
    Ok(with_request_id(
        Json(json!({"results": results})).into_response(),
        &request,
    ))
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
    let found = matcher
        .candidates(fields, 50)
        .await
        .map_err(|e| ApiError::internal("searching", e))?;
    let mut best: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for (c, person) in found {
        if let Some(p) = person {
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

/// What the caller may see of one person.
pub(crate) struct Gathered {
    /// The records shown, as JSON.
    pub records: Vec<Value>,
    /// The same, for survivorship.
    pub visible: Vec<view::Visible>,
    /// Sources whose agreement grants the purpose nothing.
    pub withheld: BTreeSet<String>,
    /// Sources shown.
    pub sources: BTreeSet<String>,
    /// Fields and attributes shown.
    pub disclosed: BTreeSet<String>,
    /// Sources whose events the purpose may see.
    pub events_from: BTreeSet<String>,
}

/// The person's records cut down to what the caller may see, or `None`
/// when the person has no current records.
pub(crate) async fn gather(
    state: &AppState,
    id: &str,
    caller: &Caller,
) -> Result<Option<Gathered>, ApiError> {
    let rows = state
        .store
        .linked_records(id)
        .await
        .map_err(|e| ApiError::internal("reading a person's records", e))?;
    if rows.is_empty() {
        return Ok(None);
    }
    let pseudonymised = caller.role.pseudonymised_only();
    let manifests = manifests(state).await?;
    let mut records = Vec::new();
    let mut visible = Vec::new();
    let mut withheld = BTreeSet::new();
    let mut sources = BTreeSet::new();
    let mut disclosed = BTreeSet::new();
    let mut events_from = BTreeSet::new();
    for r in rows {
        let Some(m) = manifests.get(&r.source) else {
            withheld.insert(r.source);
            continue;
        };
        let view = wherry_access::view(&m.agreement, caller.purpose);
        if view.is_empty() {
            withheld.insert(r.source);
            continue;
        }
        if view.events {
            events_from.insert(r.source.clone());
        }
        let fields: BTreeMap<String, Value> = serde_json::from_str(&r.fields)
            .map_err(|e| ApiError::internal("a stored record", e))?;
        let attributes: BTreeMap<String, Value> = serde_json::from_str(&r.attributes)
            .map_err(|e| ApiError::internal("a stored record", e))?;
        let mut fields = view.fields_of(&fields);
        let mut attributes = view.attributes_of(&attributes);
        if pseudonymised {
            fields = view::pseudonymised(&fields);
            attributes.clear();
        }
        disclosed.extend(fields.keys().cloned());
        disclosed.extend(attributes.keys().map(|a| format!("attribute:{a}")));
        sources.insert(r.source.clone());
        let record_id = if pseudonymised {
            String::new()
        } else {
            r.record_id.clone()
        };
        records.push(json!({
            "source": r.source,
            "record_id": record_id,
            "version": r.version,
            "updated_at": r.updated_at,
            "link": {"method": r.method, "probability": r.probability},
            "fields": fields,
            "attributes": attributes,
        }));
        visible.push(view::Visible {
            source: r.source,
            record_id,
            trust: m.source.trust,
            updated_at: r.updated_at,
            fields,
        });
    }
    Ok(Some(Gathered {
        records,
        visible,
        withheld,
        sources,
        disclosed,
        events_from,
    }))
}

/// `GET /api/v1/residents/{id}`: the resident view. Each linked record is
/// cut down to what its source's agreement grants the caller's purpose
/// (sources granting nothing are named as withheld, without content); from
/// what remains come the golden record, the timeline of contact events,
/// the services involved and a suggested lead practitioner
/// ([`crate::view`]). A pseudonymised-only role sees birth year, sex and
/// postcode district, and no record ids or practitioners.
pub(crate) async fn resident(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = caller(&state, &headers).await?;
    let request = request_id();
    let body = resident_view(&state, &id, &caller, &request)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no resident has that id",
            )
        })?;
    Ok(with_request_id(Json(body).into_response(), &request))
}

/// The resident view as the caller may see it (the API's JSON and the
/// UI's page), audited (action `view`) before it is returned; `None` when
/// no resident has that id.
#[derive(Debug, serde::Serialize)]
pub(crate) struct ResidentView {
    pub person: String,
    pub purpose: wherry_core::Purpose,
    pub pseudonymised: bool,
    pub golden_record: BTreeMap<String, view::Chosen>,
    pub records: Vec<Value>,
    pub timeline: Vec<view::Contact>,
    pub involved_services: Vec<view::Involved>,
    pub lead_practitioner: Option<view::Lead>,
    pub withheld_sources: BTreeSet<String>,
    pub break_glass: bool,
}

pub(crate) async fn resident_view(
    state: &AppState,
    id: &str,
    caller: &Caller,
    request: &str,
) -> Result<Option<ResidentView>, ApiError> {
    let Some(Gathered {
        records,
        visible,
        withheld,
        sources,
        mut disclosed,
        events_from,
    }) = gather(state, id, caller).await?
    else {
        return Ok(None);
    };
    let pseudonymised = caller.role.pseudonymised_only();
    let golden = view::golden_record(&visible);
    let mut timeline = Vec::new();
    if !events_from.is_empty() {
        for e in state
            .store
            .person_events(id)
            .await
            .map_err(|e| ApiError::internal("reading contact events", e))?
        {
            if events_from.contains(&e.source) {
                timeline.push(view::Contact {
                    date: e.date,
                    source: e.source,
                    service: e.service,
                    contact_type: e.contact_type,
                    practitioner: if pseudonymised {
                        String::new()
                    } else {
                        e.practitioner
                    },
                });
            }
        }
    }
    if !timeline.is_empty() {
        disclosed.insert("events".into());
    }
    let (involved, lead) = view::involvement(&timeline, wherry_core::Date::today_utc());
    let lead = if pseudonymised { None } else { lead };
    // The disclosure is recorded before anything leaves.
    let entry = AuditEntry {
        sources: serde_json::to_string(&sources).expect("strings serialise"),
        fields: serde_json::to_string(&disclosed).expect("strings serialise"),
        ..caller.entry("view", Some(id.to_string()), request)
    };
    audit(state, entry).await?;
    Ok(Some(ResidentView {
        person: id.to_string(),
        purpose: caller.purpose,
        pseudonymised,
        golden_record: golden,
        records,
        timeline,
        involved_services: involved,
        lead_practitioner: lead,
        withheld_sources: withheld,
        break_glass: caller.break_glass.is_some(),
    }))
}
