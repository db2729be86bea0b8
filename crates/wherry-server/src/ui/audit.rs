//! The admin's views: the audit log, newest first, with filters, and a
//! check of its hash chain; and the security log of refused requests.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use minijinja::context;
use wherry_core::Role;

use super::render::{OrPage, Page, page};
use super::session::{Acting, Posted};
use crate::AppState;

/// Most audit entries listed on one page.
const AUDIT_PAGE: usize = 500;

/// `?user=&resident=&purpose=&from=&to=` on the audit page.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct AuditFilter {
    #[serde(default)]
    user: String,
    #[serde(default)]
    resident: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

async fn audit_page(
    state: &AppState,
    acting: &Acting,
    f: AuditFilter,
    verified: Option<String>,
) -> Page {
    let who = &acting.who;
    let t = |v: &str| v.trim().to_string();
    let filter = wherry_store::AuditFilter {
        user: t(&f.user),
        person: t(&f.resident),
        purpose: t(&f.purpose),
        from: t(&f.from),
        to: t(&f.to),
    };
    let mut entries = state
        .access
        .audit_entries(&acting.caller, &filter, AUDIT_PAGE as i64 + 1)
        .await
        .or_page(who)?;
    let capped = entries.len() > AUDIT_PAGE;
    entries.truncate(AUDIT_PAGE);
    let filters: Vec<minijinja::Value> = [
        ("user", "User", &f.user),
        ("resident", "Resident", &f.resident),
        ("purpose", "Purpose", &f.purpose),
        ("from", "From (YYYY-MM-DD)", &f.from),
        ("to", "To (YYYY-MM-DD)", &f.to),
    ]
    .into_iter()
    .map(|(name, label, value)| context! {name, label, value})
    .collect();
    Ok(page(
        StatusCode::OK,
        "audit.html",
        context! {title => "Audit log", user => who.ctx(), csrf => who.csrf, entries, capped, filters, verified},
    ))
}

/// `GET /audit`: the admin's view of the audit log, newest first.
pub(crate) async fn audit_log(
    State(state): State<Arc<AppState>>,
    acting: Acting,
    filter: Result<Query<AuditFilter>, axum::extract::rejection::QueryRejection>,
) -> Page {
    audit_page(
        &state,
        &acting,
        filter.map(|Query(f)| f).unwrap_or_default(),
        None,
    )
    .await
}

/// `POST /audit/verify`: checks the hash chain.
pub(crate) async fn audit_verify(State(state): State<Arc<AppState>>, posted: Posted) -> Page {
    let (acting, _) = posted.acting(&state).await?;
    acting
        .caller
        .require(&[Role::Admin], "the audit log")
        .or_page(&acting.who)?;
    let message = match wherry_access::audit::verify_store(state.store())
        .await
        .or_page(&acting.who)?
    {
        Ok(n) => format!("The chain holds: {n} entries, each linked to the one before."),
        Err(broken) => format!("The chain is broken: {broken}."),
    };
    audit_page(&state, &acting, AuditFilter::default(), Some(message)).await
}

/// Most refusals listed on the security page.
const SECURITY_PAGE: usize = 500;

/// `GET /security`: the admin's view of the security log, newest first.
pub(crate) async fn security_log(State(state): State<Arc<AppState>>, acting: Acting) -> Page {
    let who = &acting.who;
    acting
        .caller
        .require(&[Role::Admin], "the security log")
        .or_page(who)?;
    let mut refusals = state
        .store()
        .refusals(SECURITY_PAGE as i64 + 1)
        .await
        .or_page(who)?;
    let capped = refusals.len() > SECURITY_PAGE;
    refusals.truncate(SECURITY_PAGE);
    Ok(page(
        StatusCode::OK,
        "security.html",
        context! {title => "Security log", user => who.ctx(), csrf => who.csrf, refusals, capped},
    ))
}
