//! Wherry's HTTP API (issue 5, in progress): the resident view, shown to
//! each caller only as their role, their declared purpose and each source's
//! data sharing agreement allow, with every disclosure in the audit log
//! before the response leaves.
//!
//! Built so far: bearer-token identity, the `Wherry-Purpose` header checked
//! against the role's purposes, `GET /api/v1/residents/{id}` (the person's
//! linked records, each cut down to what its agreement grants the purpose,
//! and the sources withheld named without their content), `/healthz`, JSON
//! errors, request ids.
//!
//! Invariant: a response that discloses personal data is sent only after
//! its audit entry is committed; a refused request discloses nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::extract::rejection::{QueryRejection, StringRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use wherry_access::Policy;
use wherry_core::{Agreement, Purpose, Role};
use wherry_hub::Matcher;
use wherry_store::{AuditEntry, Store};

/// What every request handler shares.
pub struct AppState {
    /// The store.
    pub store: Store,
    /// Which purposes each role may use.
    pub policy: Policy,
    /// The real-time matcher for partner pushes (`None` until a linkage run
    /// has stored a model).
    pub matcher: Option<Matcher>,
}

/// The API as a router over `state`.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/v1/residents", get(search))
        .route("/api/v1/residents/{id}", get(resident))
        .route("/api/v1/sources/{source}/records", post(push))
        .fallback(no_route)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// Largest request body taken (a pushed record is a few kilobytes).
pub const MAX_BODY: usize = 1 << 20;

/// Any path the API does not have.
async fn no_route() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_route",
        "the API has no such path",
    )
}

/// Serves `app` on `listen` until interrupted (Ctrl-C), finishing requests
/// in flight.
pub async fn serve(listen: &str, state: Arc<AppState>) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    axum::serve(listener, app(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}

/// A refused or failed request: a status and a JSON body that names the
/// reason and never personal data.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    fn internal(what: &str, e: impl std::fmt::Display) -> Self {
        // The log names the operation and the error kind only.
        eprintln!("error: {what}: {e}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the request could not be completed",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.code, "message": self.message});
        (self.status, Json(body)).into_response()
    }
}

/// Who is asking, and why.
struct Caller {
    name: String,
    role: Role,
    purpose: Purpose,
    /// The written reason, when the role's purposes were overridden.
    break_glass: Option<String>,
}

/// Longest break-glass reason taken.
const MAX_REASON: usize = 500;

/// The caller from `Authorization: Bearer …` and the purpose from
/// `Wherry-Purpose`, which the role must be allowed to use.
async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let unauthorised = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorised",
            "send an API token as `Authorization: Bearer <token>`",
        )
    };
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(unauthorised)?;
    let hash = wherry_access::token::token_hash(token.trim());
    let (name, role) = state
        .store
        .user_by_token(&hash)
        .await
        .map_err(|e| ApiError::internal("reading users", e))?
        .ok_or_else(unauthorised)?;
    let role: Role = role
        .parse()
        .map_err(|e: String| ApiError::internal("a stored role", e))?;
    let purpose = headers
        .get("wherry-purpose")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "purpose_required",
                format!(
                    "name the purpose of this read in the Wherry-Purpose header: one of {}",
                    Purpose::NAMES.join(", ")
                ),
            )
        })?
        .parse::<Purpose>()
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "unknown_purpose", e))?;
    // Break-glass: a person (not a partner's system, not an analyst, who
    // sees pseudonymised data only) may override the role's purposes with
    // a written reason; the audit entry carries it, for review.
    let reason = headers
        .get("wherry-break-glass")
        .map(|v| v.to_str().map(str::trim).unwrap_or(""));
    let break_glass = match (state.policy.check(role, purpose), reason) {
        (Ok(()), _) => None,
        (Err(e), None) => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "purpose_not_allowed",
                e.to_string(),
            ));
        }
        (Err(_), Some(_)) if matches!(role, Role::PartnerSystem | Role::Analyst) => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "break_glass_not_allowed",
                format!("the {role} role may not override its purposes"),
            ));
        }
        (Err(_), Some(r)) if r.is_empty() || r.len() > MAX_REASON => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "break_glass_reason",
                format!(
                    "a break-glass override needs a written reason of 1 to {MAX_REASON} characters"
                ),
            ));
        }
        (Err(_), Some(r)) => Some(r.to_string()),
    };
    Ok(Caller {
        name,
        role,
        purpose,
        break_glass,
    })
}

/// The real-time matcher, or 503 until a linkage run has stored a model.
fn matcher(state: &AppState) -> Result<&Matcher, ApiError> {
    state.matcher.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_linked",
            "no linkage run has been made yet: run `wherry link run`, then restart the server",
        )
    })
}

/// `response` with the request's id in `x-request-id`.
fn with_request_id(mut response: Response, request: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(request) {
        response.headers_mut().insert("x-request-id", v);
    }
    response
}

/// A new request id: 16 random bytes, hex.
fn request_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        return "unavailable".into();
    }
    wherry_store::hex(&bytes)
}

async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Each source's agreement, from the manifests the store holds.
async fn agreements(store: &Store) -> Result<BTreeMap<String, Agreement>, ApiError> {
    let mut out = BTreeMap::new();
    for (id, manifest) in store
        .source_manifests()
        .await
        .map_err(|e| ApiError::internal("reading sources", e))?
    {
        let v: Value = serde_json::from_str(&manifest)
            .map_err(|e| ApiError::internal("a stored manifest", e))?;
        let a: Agreement = serde_json::from_value(v["agreement"].clone())
            .map_err(|e| ApiError::internal("a stored agreement", e))?;
        out.insert(id, a);
    }
    Ok(out)
}

/// Appends one audit entry in a transaction of its own.
async fn audit(store: &Store, entry: AuditEntry) -> Result<(), ApiError> {
    let mut tx = store
        .begin()
        .await
        .map_err(|e| ApiError::internal("auditing", e))?;
    wherry_access::audit::append(&mut tx, entry)
        .await
        .map_err(|e| ApiError::internal("auditing", e))?;
    tx.commit()
        .await
        .map_err(|e| ApiError::internal("auditing", e))
}

/// The search parameters (all optional; at least one needed).
#[derive(Debug, serde::Deserialize)]
struct SearchQuery {
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
async fn search(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let caller = caller(&state, &headers).await?;
    let bad = |m: String| ApiError::new(StatusCode::BAD_REQUEST, "bad_search", m);
    let Query(q) = query.map_err(|_| bad("the search parameters could not be read".into()))?;
    let matcher = matcher(&state)?;
    let mut fields = BTreeMap::new();
    let terms = [
        ("name", &q.name),
        ("given_name", &q.given_name),
        ("family_name", &q.family_name),
        ("dob", &q.dob),
        ("postcode", &q.postcode),
        ("nhs_number", &q.nhs_number),
    ];
    for (key, value) in terms {
        let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) else {
            continue;
        };
        if v.chars().count() > MAX_TERM {
            return Err(bad(format!("{key} is longer than {MAX_TERM} characters")));
        }
        let invalid = |e: wherry_core::Error| bad(format!("{key}: {e}"));
        match key {
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
        return Err(bad(
            "give at least one of name, given_name, family_name, dob, postcode, nhs_number".into(),
        ));
    }
    let request = request_id();
    let found = matcher
        .candidates(&fields, 50)
        .await
        .map_err(|e| ApiError::internal("searching", e))?;
    // The best record of each person, strongest first.
    let mut best: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for (c, person) in found {
        if let Some(p) = person {
            let e = best.entry(p).or_insert((c.probability, c.weight));
            if c.weight > e.1 {
                *e = (c.probability, c.weight);
            }
        }
    }
    let mut ranked: Vec<(String, (f64, f64))> = best.into_iter().collect();
    ranked.sort_by(|a, b| b.1.1.total_cmp(&a.1.1).then_with(|| a.0.cmp(&b.0)));
    ranked.truncate(20);
    audit(
        &state.store,
        AuditEntry {
            user_name: caller.name,
            role: caller.role.to_string(),
            purpose: caller.purpose.to_string(),
            action: "search".into(),
            person_id: None,
            sources: "[]".into(),
            fields: serde_json::to_string(&fields.keys().collect::<Vec<_>>())
                .expect("strings serialise"),
            request_id: request.clone(),
            break_glass: caller.break_glass,
            ..AuditEntry::default()
        },
    )
    .await?;
    let results: Vec<Value> = ranked
        .into_iter()
        .map(|(person, (probability, weight))| {
            json!({"person": person, "probability": probability, "match_weight": weight})
        })
        .collect();
    Ok(with_request_id(
        Json(json!({"results": results})).into_response(),
        &request,
    ))
}

/// `POST /api/v1/sources/{source}/records`: a partner's system pushes one
/// record in its source's layout; it is validated as an extract row would
/// be, stored, matched in real time and placed with a person, whose id is
/// the answer.
async fn push(
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
        &state.store,
        AuditEntry {
            user_name: caller.name,
            role: caller.role.to_string(),
            purpose: caller.purpose.to_string(),
            action: "push".into(),
            person_id: Some(placed.person.clone()),
            sources: serde_json::to_string(&[&source]).expect("strings serialise"),
            fields: "[]".into(),
            request_id: request.clone(),
            break_glass: caller.break_glass,
            ..AuditEntry::default()
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

/// `GET /api/v1/residents/{id}`: the person's records, each cut down to
/// what its source's agreement grants the caller's purpose.
async fn resident(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = caller(&state, &headers).await?;
    let request = request_id();
    let rows = state
        .store
        .person_records(&id)
        .await
        .map_err(|e| ApiError::internal("reading a person's records", e))?;
    if rows.is_empty() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no resident has that id",
        ));
    }
    let agreements = agreements(&state.store).await?;
    let mut records = Vec::new();
    let mut withheld = BTreeSet::new();
    let mut sources = BTreeSet::new();
    let mut disclosed = BTreeSet::new();
    for (source, record_id, fields, attributes) in rows {
        let view = agreements
            .get(&source)
            .map(|a| wherry_access::view(a, caller.purpose))
            .unwrap_or_default();
        if view.is_empty() {
            withheld.insert(source);
            continue;
        }
        let fields: BTreeMap<String, Value> =
            serde_json::from_str(&fields).map_err(|e| ApiError::internal("a stored record", e))?;
        let attributes: BTreeMap<String, Value> = serde_json::from_str(&attributes)
            .map_err(|e| ApiError::internal("a stored record", e))?;
        let fields = view.fields_of(&fields);
        let attributes = view.attributes_of(&attributes);
        disclosed.extend(fields.keys().cloned());
        disclosed.extend(attributes.keys().map(|a| format!("attribute:{a}")));
        sources.insert(source.clone());
        records.push(json!({
            "source": source,
            "record_id": record_id,
            "fields": fields,
            "attributes": attributes,
        }));
    }
    // The disclosure is recorded before anything leaves.
    let entry = AuditEntry {
        user_name: caller.name,
        role: caller.role.to_string(),
        purpose: caller.purpose.to_string(),
        action: "view".into(),
        person_id: Some(id.clone()),
        sources: serde_json::to_string(&sources).expect("strings serialise"),
        fields: serde_json::to_string(&disclosed).expect("strings serialise"),
        request_id: request.clone(),
        break_glass: caller.break_glass.clone(),
        ..AuditEntry::default()
    };
    audit(&state.store, entry).await?;
    let body = json!({
        "person": id,
        "purpose": caller.purpose,
        "records": records,
        "withheld_sources": withheld,
        "break_glass": caller.break_glass.is_some(),
    });
    Ok(with_request_id(Json(body).into_response(), &request))
}
