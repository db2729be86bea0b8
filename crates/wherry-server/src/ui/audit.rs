//! The admin's views: the audit log, newest first, with filters, and a
//! check of its hash chain; the security log of refused requests; and the
//! break-glass overrides to review and sign off.

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

impl AuditFilter {
    /// The store's filter.
    fn store(&self) -> wherry_store::AuditFilter {
        let t = |v: &str| v.trim().to_string();
        wherry_store::AuditFilter {
            user: t(&self.user),
            person: t(&self.resident),
            purpose: t(&self.purpose),
            from: t(&self.from),
            to: t(&self.to),
        }
    }

    /// The filter as a query string, for the CSV link.
    fn query(&self) -> String {
        [
            ("user", &self.user),
            ("resident", &self.resident),
            ("purpose", &self.purpose),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| {
            let v: String = v
                .trim()
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{k}={v}")
        })
        .collect::<Vec<_>>()
        .join("&")
    }
}

/// Most audit entries in one CSV export.
const AUDIT_CSV: i64 = 1_000_000;

/// `GET /audit.csv`: the filtered audit log as CSV, newest first, for the
/// data protection officer to keep or send; audited like the page.
pub(crate) async fn audit_csv(
    State(state): State<Arc<AppState>>,
    acting: Acting,
    filter: Result<Query<AuditFilter>, axum::extract::rejection::QueryRejection>,
) -> Page {
    let f = filter.map(|Query(f)| f).unwrap_or_default();
    let entries = state
        .access
        .audit_entries(
            &acting.caller,
            &f.store(),
            AUDIT_CSV,
            acting.request.as_str(),
        )
        .await
        .or_page(&acting.who)?;
    let rows = entries.into_iter().map(|e| {
        vec![
            e.seq.to_string(),
            e.at,
            e.user_name,
            e.role,
            e.purpose,
            e.action,
            e.person_id.unwrap_or_default(),
            e.sources,
            e.fields,
            e.break_glass.unwrap_or_default(),
            e.request_id,
            e.hash,
        ]
    });
    super::render::csv_download(
        &acting.who,
        "wherry-audit.csv",
        &[
            "seq",
            "at",
            "user",
            "role",
            "purpose",
            "action",
            "resident",
            "sources",
            "fields",
            "break_glass",
            "request_id",
            "hash",
        ],
        rows,
    )
}

async fn audit_page(
    state: &AppState,
    acting: &Acting,
    f: AuditFilter,
    verified: Option<String>,
) -> Page {
    let who = &acting.who;
    let filter = f.store();
    let mut entries = state
        .access
        .audit_entries(
            &acting.caller,
            &filter,
            AUDIT_PAGE as i64 + 1,
            acting.request.as_str(),
        )
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
        context! {title => "Audit log", user => who.ctx(), csrf => who.csrf, entries, capped, filters, verified, query => f.query()},
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
    let message = match wherry_access::trail::get() {
        Some(trail) => match wherry_access::trail::verify_trail(state.store(), trail)
            .await
            .or_page(&acting.who)?
        {
            Ok(v) => format!(
                "The log holds: {} entries, each linked to the one before and sealed with the audit key; {} checkpoints agree with it.",
                v.entries, v.checkpoints
            ),
            Err(broken) => format!("The log does not hold: {broken}."),
        },
        None => match wherry_access::audit::verify_store(state.store())
            .await
            .or_page(&acting.who)?
        {
            Ok(n) => format!(
                "The chain holds: {n} entries, each linked to the one before (this server has no audit key, so no MAC or checkpoint was checked)."
            ),
            Err(broken) => format!("The chain is broken: {broken}."),
        },
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

async fn overrides_page(state: &AppState, acting: &Acting, done: Option<String>) -> Page {
    let who = &acting.who;
    let list = state
        .access
        .overrides(&acting.caller, true, acting.request.as_str())
        .await
        .or_page(who)?;
    let when = |ms: i64| wherry_core::clock::rfc3339(ms.div_euclid(1000));
    let overrides: Vec<minijinja::Value> = list
        .iter()
        .map(|o| {
            context! {
                id => o.id, user_name => o.user_name, role => o.role, purpose => o.purpose,
                reason => o.reason, first => when(o.first_ms), last => when(o.last_ms), uses => o.uses,
                signed_off_by => o.signed_off_by, signed_off_at => o.signed_off_at, note => o.note,
            }
        })
        .collect();
    Ok(page(
        StatusCode::OK,
        "break_glass.html",
        context! {title => "Break-glass review", user => who.ctx(), csrf => who.csrf, overrides, done},
    ))
}

/// `GET /break-glass`: the overrides awaiting the officer's sign-off.
pub(crate) async fn overrides(State(state): State<Arc<AppState>>, acting: Acting) -> Page {
    overrides_page(&state, &acting, None).await
}

/// `POST /break-glass/{id}`: signs an override off with a note.
pub(crate) async fn sign_off(
    State(state): State<Arc<AppState>>,
    axum::extract::Path(id): axum::extract::Path<String>,
    posted: Posted,
) -> Page {
    let (acting, form) = posted.acting(&state).await?;
    // An override's number, else the plain "not found" page.
    let id: i64 = id.parse().map_err(|_| {
        super::render::failed(&acting.who, wherry_access::Error::NotFound("override"))
    })?;
    let note = form.get("note").map_or("", String::as_str);
    let signed = state
        .access
        .sign_off(&acting.caller, id, note)
        .await
        .or_page(&acting.who)?;
    let done = if signed {
        format!("Override {id} is signed off.")
    } else {
        format!("Override {id} was not awaiting sign-off.")
    };
    overrides_page(&state, &acting, Some(done)).await
}

/// Hours of the audit log the unusual-access review looks at.
const UNUSUAL_HOURS: i64 = 24;

/// `GET /unusual`: users whose access stands out, for the data
/// protection officer.
pub(crate) async fn unusual(State(state): State<Arc<AppState>>, acting: Acting) -> Page {
    let who = &acting.who;
    let since =
        wherry_core::clock::rfc3339(wherry_core::clock::unix_seconds() - UNUSUAL_HOURS * 3600);
    let (flags, reads) = state
        .access
        .unusual_access(&acting.caller, &since, acting.request.as_str())
        .await
        .or_page(who)?;
    Ok(page(
        StatusCode::OK,
        "unusual.html",
        context! {title => "Unusual access", user => who.ctx(), csrf => who.csrf, flags, reads, hours => UNUSUAL_HOURS},
    ))
}
