//! The data protection officer's pages for a resident's rights (role
//! `admin`, purpose `subject_rights`): a subject access export (every
//! record, version and contact held, and who has seen them, as one JSON
//! file) and erasure with its reason, both `wherry-access`'s, as the API's.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use minijinja::context;

use super::render::{OrPage, Page, error_page, page};
use super::session::{Acting, Posted, Who};
use crate::AppState;

/// `?person=` on the rights page.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Chosen {
    #[serde(default)]
    person: String,
}

fn rights_page(
    who: &Who,
    status: StatusCode,
    person: &str,
    error: Option<(&str, String)>,
    reason: &str,
    done: Option<String>,
) -> axum::response::Response {
    let errors = super::render::error_summary(error.as_ref().map(|(f, m)| (*f, m.as_str())));
    let (person_error, reason_error) = match &error {
        Some(("person", m)) => (Some(m.clone()), None),
        Some((_, m)) => (None, Some(m.clone())),
        None => (None, None),
    };
    page(
        status,
        "rights.html",
        context! {
            title => "A resident's data protection rights", user => who.ctx(), csrf => who.csrf,
            person, errors, person_error, reason_error, reason, done,
            min => wherry_access::rights::MIN_ERASURE_REASON,
        },
    )
}

/// A person reference as the hub writes them, `P` and nine digits.
fn is_person(p: &str) -> bool {
    p.len() == 10 && p.starts_with('P') && p[1..].bytes().all(|b| b.is_ascii_digit())
}

/// `GET /rights[?person=]`: choose a resident; then their export and the
/// erasure form.
pub(crate) async fn rights(
    State(state): State<Arc<AppState>>,
    acting: Acting,
    query: Result<Query<Chosen>, axum::extract::rejection::QueryRejection>,
) -> Page {
    acting
        .caller
        .require(&[wherry_core::Role::Admin], "residents' rights")
        .or_page(&acting.who)?;
    let person = query.map(|Query(q)| q.person).unwrap_or_default();
    let person = person.trim();
    if person.is_empty() {
        return Ok(rights_page(&acting.who, StatusCode::OK, "", None, "", None));
    }
    if !is_person(person)
        || !state
            .store()
            .person_exists(person)
            .await
            .or_page(&acting.who)?
    {
        return Ok(rights_page(
            &acting.who,
            StatusCode::NOT_FOUND,
            "",
            Some((
                "person",
                format!(
                    "There is no resident {person}: enter a reference such as P000000001, or find them by search"
                ),
            )),
            "",
            None,
        ));
    }
    Ok(rights_page(
        &acting.who,
        StatusCode::OK,
        person,
        None,
        "",
        None,
    ))
}

/// `GET /rights/{id}/subject-access.json`: the export, as a file.
pub(crate) async fn subject_access(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    acting: Acting,
) -> Page {
    let Acting {
        who,
        caller,
        request,
    } = acting;
    let Some(export) = state
        .access
        .subject_access(&caller, &id, request.as_str())
        .await
        .or_page(&who)?
    else {
        return Err(error_page(
            StatusCode::NOT_FOUND,
            Some(&who),
            "Resident not found",
            "There is no resident with that reference.",
            Some(("/rights", "Go back")),
        ));
    };
    let body = serde_json::to_vec_pretty(&export).expect("JSON serialises");
    let name: String = id.chars().filter(char::is_ascii_alphanumeric).collect();
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"subject-access-{name}.json\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// `POST /rights/{id}/erase` with a reason: the erasure, then what was
/// erased; a reason too short or too long, the form again saying so.
pub(crate) async fn erase(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    posted: Posted,
) -> Page {
    let (acting, form) = posted.acting(&state).await?;
    let reason = form.get("reason").map(String::as_str).unwrap_or_default();
    let removed = state
        .access
        .erase(&acting.caller, &id, reason, acting.request.as_str())
        .await;
    match removed {
        Ok(removed) => {
            if let Some(m) = &state.matcher {
                m.forget(&removed.records).await;
            }
            let sources: Vec<String> = removed
                .records
                .keys()
                .map(|s| super::render::code_label(s))
                .collect();
            let done = if removed.count() == 0 {
                format!("{id} had been erased already: nothing was left to erase.")
            } else {
                format!(
                    "{id} erased: {} {} from {}. The reason is kept in the audit log.",
                    removed.count(),
                    if removed.count() == 1 {
                        "record"
                    } else {
                        "records"
                    },
                    sources.join(", ")
                )
            };
            Ok(rights_page(
                &acting.who,
                StatusCode::OK,
                "",
                None,
                "",
                Some(done),
            ))
        }
        Err(e) => {
            let message = super::render::form_error(&acting.who, e)?;
            Ok(rights_page(
                &acting.who,
                StatusCode::BAD_REQUEST,
                &id,
                Some(("reason", message)),
                reason,
                None,
            ))
        }
    }
}
