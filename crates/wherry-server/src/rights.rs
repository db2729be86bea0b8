//! Residents' data protection rights (role `admin`, purpose
//! `subject_rights`): a subject access request answered as one JSON
//! document (every record version, link, contact event, and the audit of
//! who saw the record), and erasure (every record removed, the person
//! retired, a tombstone in the audit log).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use wherry_core::Role;
use wherry_store::AuditEntry;

use crate::steward::{hub_error, require};
use crate::{ApiError, AppState, audit, caller, request_id, with_request_id};

/// `GET /api/v1/residents/{id}/subject-access`: everything held about the
/// person and who has seen it.
pub(crate) async fn subject_access(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = caller(&state, &headers).await?;
    require(&caller, &[Role::Admin], "a subject access request")?;
    let store = &state.store;
    let failed = |e| ApiError::internal("reading for a subject access request", e);
    if !store.person_exists(&id).await.map_err(failed)? {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no resident has that id",
        ));
    }
    let request = request_id();
    let versions = store.person_versions(&id).await.map_err(failed)?;
    let links = store.linked_records(&id).await.map_err(failed)?;
    let events = store.person_events(&id).await.map_err(failed)?;
    // The audit read comes before this request's own entry, which the
    // resident's next request will show.
    let seen = store.audit_about(&id).await.map_err(failed)?;
    let sources: std::collections::BTreeSet<&String> = versions.iter().map(|v| &v.source).collect();
    audit(
        &state,
        AuditEntry {
            sources: serde_json::to_string(&sources).expect("strings serialise"),
            fields: r#"["*"]"#.into(),
            ..caller.entry("subject_access", Some(id.clone()), &request)
        },
    )
    .await?;
    let parse = |s: &str| serde_json::from_str::<Value>(s).unwrap_or(Value::Null);
    let versions: Vec<Value> = versions
        .iter()
        .map(|v| {
            json!({
                "source": v.source, "record_id": v.record_id, "version": v.version,
                "stored_at": v.created_at, "fields": parse(&v.fields),
                "attributes": parse(&v.attributes), "as_sent": parse(&v.raw),
            })
        })
        .collect();
    let links: Vec<Value> = links
        .iter()
        .map(|l| json!({"source": l.source, "record_id": l.record_id, "method": l.method, "probability": l.probability}))
        .collect();
    let seen: Vec<Value> = seen
        .iter()
        .map(|e| {
            json!({
                "at": e.at, "user": e.user_name, "role": e.role, "purpose": e.purpose,
                "action": e.action, "sources": parse(&e.sources), "fields": parse(&e.fields),
                "break_glass": e.break_glass,
            })
        })
        .collect();
    let body = json!({
        "person": id,
        "generated_at": wherry_store::now(),
        "records": versions,
        "links": links,
        "contact_events": events,
        "disclosures": seen,
    });
    Ok(with_request_id(Json(body).into_response(), &request))
}

/// `POST /api/v1/residents/{id}/erasure`: erases every record of the
/// person (all versions, links, contact events), retires the person, and
/// leaves a tombstone in the audit log.
pub(crate) async fn erasure(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = caller(&state, &headers).await?;
    require(&caller, &[Role::Admin], "erasure")?;
    let request = request_id();
    let req = wherry_hub::rights::Requested {
        by: caller.name.clone(),
        role: caller.role.to_string(),
        purpose: caller.purpose.to_string(),
        request_id: request.clone(),
    };
    let removed = wherry_hub::rights::erase_person(&state.store, &id, &req)
        .await
        .map_err(hub_error)?;
    if let Some(m) = &state.matcher {
        m.forget(&removed.records).await;
    }
    let body = json!({
        "person": id,
        "records_erased": removed.count(),
        "sources": removed.records.keys().collect::<Vec<_>>(),
        "retired": removed.retired,
    });
    Ok(with_request_id(Json(body).into_response(), &request))
}
