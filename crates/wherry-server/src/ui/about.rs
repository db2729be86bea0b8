//! The pages every public-sector service owes its users, open without
//! signing in: the accessibility statement (a legal requirement for a
//! public-sector website) and the privacy notice, generated from the data
//! sharing agreements the hub holds, so it says what the hub really does;
//! and the service activity page, where an analyst lands.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;

use super::render::{OrPage, Page, field_label, page, purpose_label};
use super::session::{Acting, Who};
use crate::AppState;

/// `GET /accessibility`.
pub(crate) async fn accessibility(who: Result<Who, Response>) -> Response {
    let who = who.ok();
    page(
        StatusCode::OK,
        "accessibility.html",
        context! {title => "Accessibility statement", user => who.as_ref().map(Who::ctx), csrf => who.as_ref().map(|w| w.csrf.clone())},
    )
}

/// A lawful basis as UK GDPR names it.
fn lawful_basis(code: &str) -> String {
    match code {
        "public_task" => "Public task: UK GDPR Article 6(1)(e)".into(),
        "legal_obligation" => "Legal obligation: UK GDPR Article 6(1)(c)".into(),
        "vital_interests" => "Vital interests: UK GDPR Article 6(1)(d)".into(),
        "consent" => "Consent: UK GDPR Article 6(1)(a)".into(),
        "contract" => "Contract: UK GDPR Article 6(1)(b)".into(),
        "legitimate_interests" => "Legitimate interests: UK GDPR Article 6(1)(f)".into(),
        other => other.replace('_', " "),
    }
}

/// A special category condition as UK GDPR names it.
fn condition(code: &str) -> String {
    match code {
        "health_social_care" => "Health or social care: UK GDPR Article 9(2)(h)".into(),
        "substantial_public_interest" => {
            "Substantial public interest: UK GDPR Article 9(2)(g)".into()
        }
        "vital_interests" => "Vital interests: UK GDPR Article 9(2)(c)".into(),
        other => other.replace('_', " "),
    }
}

/// `GET /privacy`: one section per partner's agreement.
pub(crate) async fn privacy(
    State(state): State<Arc<AppState>>,
    who: Result<Who, Response>,
) -> Page {
    let who = who.ok();
    let agreements = match state.access.agreements().await {
        Ok(a) => a,
        Err(e) => {
            crate::request::log_error("privacy", "", &e.to_string());
            return Err(super::render::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                who.as_ref(),
                "Sorry, there is a problem with the service",
                "The privacy notice could not be read. Try again later.",
                None,
            ));
        }
    };
    let sources: Vec<minijinja::Value> = agreements
        .iter()
        .map(|(id, t)| {
            let a = &t.agreement;
            let purposes: Vec<minijinja::Value> = a
                .purposes
                .iter()
                .filter_map(|(p, g)| {
                    let purpose: wherry_core::Purpose = p.parse().ok()?;
                    let fields: Vec<String> = g
                        .fields
                        .iter()
                        .map(|f| field_label(f))
                        .chain(g.attributes.iter().map(|f| field_label(f)))
                        .collect();
                    Some(context! {
                        purpose => purpose_label(purpose),
                        fields => fields.join(", "),
                        events => g.events,
                    })
                })
                .collect();
            context! {
                id,
                partner => t.partner,
                lawful_basis => lawful_basis(&a.lawful_basis),
                condition => a.special_category_condition.as_deref().map(condition),
                retention_years => a.retention_years,
                contact => a.contact,
                review_date => super::render::govuk_date(&a.review_date),
                purposes,
            }
        })
        .collect();
    Ok(page(
        StatusCode::OK,
        "privacy.html",
        context! {title => "Privacy notice", user => who.as_ref().map(Who::ctx), csrf => who.as_ref().map(|w| w.csrf.clone()), sources},
    ))
}

/// `GET /activity`: contacts per partner, service and month, counts only.
pub(crate) async fn activity(State(state): State<Arc<AppState>>, acting: Acting) -> Page {
    let Acting {
        who,
        caller,
        request,
    } = acting;
    let a = state
        .access
        .activity(&caller, request.as_str())
        .await
        .or_page(&who)?;
    let months: Vec<String> = {
        let mut m: Vec<String> = a.cells.iter().map(|c| c.month.clone()).collect();
        m.dedup();
        m.truncate(12);
        m
    };
    let rows: Vec<minijinja::Value> = a
        .cells
        .iter()
        .filter(|c| months.contains(&c.month))
        .map(|c| {
            context! {
                month => super::render::govuk_month(&c.month),
                partner => c.partner,
                service => super::render::code_label(&c.service),
                contacts => c.contacts.map_or_else(|| format!("fewer than {}", wherry_access::activity::SMALL), |n| n.to_string()),
            }
        })
        .collect();
    let total: i64 = a
        .cells
        .iter()
        .filter(|c| months.contains(&c.month))
        .filter_map(|c| c.contacts)
        .sum();
    let withheld: Vec<String> = a
        .withheld
        .iter()
        .map(|s| super::render::code_label(s))
        .collect();
    let withheld = withheld.join(", ");
    Ok(page(
        StatusCode::OK,
        "activity.html",
        context! {title => "Service activity", user => who.ctx(), csrf => who.csrf, rows, total, months => months.len(), withheld},
    ))
}
