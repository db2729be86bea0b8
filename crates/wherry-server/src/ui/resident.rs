//! The resident view in the browser: the golden record with provenance,
//! services involved and the suggested lead, a filterable timeline, and
//! each record as the purpose may see it; audited before it is sent.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use minijinja::context;
use wherry_access::survivorship::Contact;

use super::render::{OrPage, Page, error_page, field_label, page, value_text};
use super::session::{Acting, Posted};
use crate::AppState;

/// `?service=&from=&to=` on the resident page.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct TimelineFilter {
    #[serde(default)]
    service: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// `GET /residents/{id}`: the resident view, audited before it is sent.
pub(crate) async fn resident(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Acting {
        who,
        caller,
        request,
    }: Acting,
    filter: Result<Query<TimelineFilter>, axum::extract::rejection::QueryRejection>,
) -> Page {
    let filter = filter.map(|Query(f)| f).unwrap_or_default();
    resident_page(
        &state,
        &id,
        Acting {
            who,
            caller,
            request,
        },
        filter,
        None,
    )
    .await
}

async fn resident_page(
    state: &AppState,
    id: &str,
    Acting {
        who,
        caller,
        request,
    }: Acting,
    filter: TimelineFilter,
    done: Option<String>,
) -> Page {
    let bad_date = |d: &str| !d.is_empty() && wherry_core::Date::parse(d).is_err();
    let filter_error = (bad_date(&filter.from) || bad_date(&filter.to))
        .then_some("Enter dates as YYYY-MM-DD, for example 2026-01-31");
    let view = match state.access.resident(&caller, id, request.as_str()).await {
        Err(wherry_access::Error::Denied(wherry_access::Denied::NoRelationship))
            if caller.break_glass.is_none() =>
        {
            let mut page = no_relationship(state, &who, id, StatusCode::FORBIDDEN, None, "");
            // The security log names the refusal as the API's would.
            let e: crate::ApiError =
                wherry_access::Error::Denied(wherry_access::Denied::NoRelationship).into();
            page.extensions_mut().insert(crate::security::Refused {
                code: e.code,
                reason: e.message,
            });
            return Err(page);
        }
        other => other,
    };
    let view = view.or_page(&who)?.ok_or_else(|| {
        error_page(
            StatusCode::NOT_FOUND,
            Some(&who),
            "Resident not found",
            "No resident has that reference. Search for them instead.",
            Some(("/search", "Search for a resident")),
        )
    })?;
    let text = |f: &str| {
        view.golden_record
            .get(f)
            .map(|c| value_text(&c.value))
            .unwrap_or_default()
    };
    let heading = match format!("{} {}", text("given_name"), text("family_name")).trim() {
        "" => format!("Resident {id}"),
        name => name.to_string(),
    };
    let golden: Vec<minijinja::Value> = wherry_core::Field::NAMES[2..]
        .iter()
        .filter_map(|f| view.golden_record.get(*f).map(|c| (f, c)))
        .map(|(f, c)| {
            context! {
                field => *f,
                label => field_label(f),
                value => shown(f, &c.value),
                source => super::render::code_label(&c.source),
                record_id => c.record_id,
                changed_at => c.changed_at.as_deref().map(super::render::govuk_date),
                loaded => super::render::govuk_date(&c.updated_at),
                trust => c.trust,
                agreeing => c.agreeing,
                differing => c.differing,
                disagreement => disagreement(c),
            }
        })
        .collect();
    let mut services: Vec<&str> = view.timeline.iter().map(|e| e.service.as_str()).collect();
    services.sort_unstable();
    services.dedup();
    let timeline: Vec<&Contact> = view
        .timeline
        .iter()
        .filter(|e| filter.service.is_empty() || e.service == filter.service)
        .filter(|e| filter_error.is_some() || filter.from.is_empty() || e.date >= filter.from)
        .filter(|e| filter_error.is_some() || filter.to.is_empty() || e.date <= filter.to)
        .collect();
    let records: Vec<minijinja::Value> = view
        .records
        .iter()
        .map(|r| {
            let fields: Vec<(String, String, String)> = r
                .fields
                .iter()
                .chain(&r.attributes)
                .map(|(k, v)| (k.clone(), field_label(k), shown(k, v)))
                .collect();
            context! {source => r.source, record_id => r.record_id, fields}
        })
        .collect();
    let household = household(state, &caller, id, &view, request.as_str())
        .await
        .or_page(&who)?;
    let on_caseload = if wherry_access::relate::CASELOAD_ROLES.contains(&caller.role) {
        let (_, list) = state.access.caseload(&caller).await.or_page(&who)?;
        Some(list.iter().any(|c| c.person == id))
    } else {
        None
    };
    let status = if filter_error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let errors: Vec<minijinja::Value> = filter_error
        .map(|m| context! {field => "from", message => m})
        .into_iter()
        .collect();
    Ok(page(
        status,
        "resident.html",
        context! {
            title => heading.clone(),
            heading,
            person => id,
            user => who.ctx(),
            csrf => who.csrf,
            purpose => caller.purpose.as_str(),
            break_glass => view.break_glass,
            withheld => view.withheld_sources,
            contacts_withheld => view.contacts_withheld.iter().map(|s| super::render::code_label(s)).collect::<Vec<_>>(),
            golden,
            involved => view.involved_services,
            lead => view.lead_practitioner,
            services,
            filter => context!{service => filter.service, from => filter.from, to => filter.to},
            filter_error,
            errors,
            timeline,
            sensor_alerts => view.sensor_alerts.iter().flatten().map(super::tec::shown).collect::<Vec<_>>(),
            records,
            household,
            on_caseload,
            done,
        },
    ))
}

/// `POST /residents/{id}/caseload` (`action` = `add` or `remove`): the
/// resident on or off the user's team's caseload; the page again.
pub(crate) async fn caseload_change(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    posted: Posted,
) -> Page {
    let (acting, form) = posted.acting(&state).await?;
    let add = form.get("action").map(String::as_str) == Some("add");
    state
        .access
        .caseload_change(&acting.caller, &id, add, acting.request.as_str())
        .await
        .or_page(&acting.who)?;
    let done = if add {
        "Added to your team's caseload."
    } else {
        "Taken off your team's caseload."
    };
    resident_page(
        &state,
        &id,
        acting,
        TimelineFilter::default(),
        Some(done.into()),
    )
    .await
}

/// `GET /caseload`: the user's team's caseload.
pub(crate) async fn caseload(State(state): State<Arc<AppState>>, acting: Acting) -> Page {
    let who = &acting.who;
    let (team, people) = state.access.caseload(&acting.caller).await.or_page(who)?;
    Ok(page(
        StatusCode::OK,
        "caseload.html",
        context! {title => "Caseload", user => who.ctx(), csrf => who.csrf, team, people},
    ))
}

/// A disagreement among sources, said plainly: "4 sources say Richardson;
/// GP registration says O'Brien." `None` when every source agrees.
fn disagreement(c: &wherry_access::survivorship::Chosen) -> Option<String> {
    if c.others.is_empty() {
        return None;
    }
    let say = |sources: &[String], value: &serde_json::Value| {
        let v = value_text(value);
        match sources {
            [one] => format!("{} says {v}", super::render::code_label(one)),
            many => format!("{} sources say {v}", many.len()),
        }
    };
    let mut parts = vec![say(&c.sources, &c.value)];
    parts.extend(c.others.iter().map(|o| say(&o.sources, &o.value)));
    Some(super::render::sentence(&parts.join("; ")))
}

/// A field's value as the page shows it: dates in the GOV.UK style.
fn shown(field: &str, v: &serde_json::Value) -> String {
    let text = value_text(v);
    match field {
        "dob" => super::render::govuk_date(&text),
        _ => text,
    }
}

/// The refusal of a resident opened with no reason on record: how to find
/// them, and the break-glass form (a reason, recorded and reviewed by the
/// data protection officer) for an emergency.
/// The purpose `role` may break glass into, if any: one its role does not
/// hold already (see `wherry_access::Caller::authorise`).
fn glass_purpose(state: &AppState, role: wherry_core::Role) -> Option<wherry_core::Purpose> {
    let policy = state.access.policy();
    policy
        .break_glass(role)
        .find(|p| policy.check(role, *p).is_err())
}

fn no_relationship(
    state: &AppState,
    who: &super::session::Who,
    id: &str,
    status: StatusCode,
    error: Option<String>,
    reason: &str,
) -> axum::response::Response {
    let glass = glass_purpose(state, who.role).map(super::render::purpose_label);
    let errors = super::render::error_summary(error.as_deref().map(|m| ("reason", m)));
    page(
        status,
        "no_relationship.html",
        context! {
            title => "You have no reason on record to open this resident",
            user => who.ctx(), csrf => who.csrf, person => id, errors, error, reason, glass,
            min => wherry_access::caller::MIN_REASON, max => wherry_access::caller::MAX_REASON,
        },
    )
}

/// `POST /residents/{id}/break-glass` with a reason: the resident opened
/// by break-glass (the override recorded for the data protection
/// officer's review, every audit entry carrying the reason), or the form
/// again saying what is wrong with the reason.
pub(crate) async fn break_glass(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    posted: Posted,
) -> Page {
    let (
        Acting {
            who,
            caller,
            request,
        },
        form,
    ) = posted.acting(&state).await?;
    let reason = form.get("reason").map(|r| r.trim()).unwrap_or_default();
    let n = reason.chars().count();
    let (min, max) = (
        wherry_access::caller::MIN_REASON,
        wherry_access::caller::MAX_REASON,
    );
    if !(min..=max).contains(&n) {
        return Err(no_relationship(
            &state,
            &who,
            &id,
            StatusCode::BAD_REQUEST,
            Some(format!("Give a reason of {min} to {max} characters")),
            reason,
        ));
    }
    // Into the purpose the role may break glass into; the session keeps
    // its own purpose, the override is for this one view.
    let Some(purpose) = glass_purpose(&state, who.role) else {
        return Err(no_relationship(
            &state,
            &who,
            &id,
            StatusCode::FORBIDDEN,
            Some("Your role may not break glass".into()),
            reason,
        ));
    };
    // The override is recorded (and a repeated reason refused) before
    // anything is shown; a refusal comes back on the form.
    let opened: Result<wherry_access::Caller, crate::ApiError> =
        match state
            .access
            .caller(who.name.clone(), who.role, purpose, Some(reason))
        {
            Ok(c) => {
                let c = c.with_sources(caller.sources.clone());
                match state.access.break_glass(&c).await {
                    Ok(()) => Ok(c),
                    Err(e) => Err(e.into()),
                }
            }
            Err(e) => Err(e.into()),
        };
    let glass = match opened {
        Ok(c) => c,
        Err(e) => {
            return Err(no_relationship(
                &state,
                &who,
                &id,
                e.status(),
                Some(e.message),
                reason,
            ));
        }
    };
    resident_page(
        &state,
        &id,
        Acting {
            who,
            caller: glass,
            request,
        },
        TimelineFilter::default(),
        None,
    )
    .await
}

/// Who else lives at the resident's home, as far as the purpose may see:
/// the persons with a record at the same home as the address the golden
/// record shows (same address, not merely the same postcode; a purpose not
/// granted the address sees no household), each named as the purpose
/// allows and audited.
async fn household(
    state: &AppState,
    caller: &wherry_access::Caller,
    id: &str,
    view: &wherry_access::ResidentView,
    request: &str,
) -> Result<Vec<minijinja::Value>, crate::ApiError> {
    let (Some(matcher), Some(address)) = (
        state.matcher.as_ref(),
        view.golden_record
            .get("address")
            .and_then(|c| c.value.as_str()),
    ) else {
        return Ok(Vec::new());
    };
    if view.pseudonymised {
        return Ok(Vec::new());
    }
    let mut fields = std::collections::BTreeMap::new();
    fields.insert("address".to_string(), address.to_string());
    if let Some(p) = view
        .golden_record
        .get("postcode")
        .and_then(|c| c.value.as_str())
    {
        fields.insert("postcode".to_string(), p.to_string());
    }
    let others = matcher.same_home(&fields, 50).await?;
    let listed = state.access.household(caller, id, &others, request).await?;
    Ok(listed
        .into_iter()
        .map(|l| {
            context! {
                name => l.name,
                dob => l.dob.as_deref().map(super::render::govuk_date),
            }
        })
        .collect())
}
