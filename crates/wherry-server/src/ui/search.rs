//! Finding a resident: a POST (names and dates never appear in URLs or
//! logs), ranked by the real-time matcher, each resident named as the
//! caller's purpose allows; the search and each listing are audited.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;

use super::render::{OrPage, Page, error_page, page};
use super::session::{Acting, Posted, Who};
use crate::AppState;
use wherry_hub::search::{fields as search_fields, rank};

/// Residents listed for a search.
const RESULTS: usize = 10;

const SEARCH_FIELDS: &[(&str, &str, &str, &str)] = &[
    (
        "name",
        "Full name",
        "For example, Margaret Thrower. Any one detail is enough; spelling need not be exact.",
        "govuk-input--width-30",
    ),
    (
        "dob",
        "Date of birth",
        "For example, 07/03/1948",
        "govuk-input--width-10",
    ),
    ("postcode", "Postcode", "", "govuk-input--width-10"),
    ("nhs_number", "NHS number", "", "govuk-input--width-10"),
    (
        "phone",
        "Mobile phone number",
        "For example, 07700 900123",
        "govuk-input--width-20",
    ),
];

/// More candidates than this without a date of birth: the page suggests one.
const MANY: usize = 5;

fn search_page(
    who: &Who,
    status: StatusCode,
    values: &HashMap<String, String>,
    error: Option<(&str, String)>,
    results: Option<(Vec<minijinja::Value>, usize)>,
) -> Response {
    let fields: Vec<minijinja::Value> = SEARCH_FIELDS
        .iter()
        .map(|(name, label, hint, width)| {
            let value: String = values
                .get(*name)
                .map(|v| v.chars().take(100).collect())
                .unwrap_or_default();
            let error = error
                .as_ref()
                .filter(|(f, _)| f == name)
                .map(|(_, m)| m.clone());
            context! {name, label, hint => (!hint.is_empty()).then_some(*hint), width, value, error}
        })
        .collect();
    let errors = super::render::error_summary(error.as_ref().map(|(f, m)| (*f, m.as_str())));
    let searched = results.is_some();
    let (results, total) = results.unwrap_or_default();
    let narrow = total > MANY && values.get("dob").is_none_or(|d| d.trim().is_empty());
    page(
        status,
        "search.html",
        context! {title => "Find a resident", user => who.ctx(), csrf => who.csrf, fields, errors, searched, results, total, narrow},
    )
}

/// `GET /search`.
pub(crate) async fn search_form(acting: Acting) -> Response {
    search_page(&acting.who, StatusCode::OK, &HashMap::new(), None, None)
}

/// `POST /search`: ranked residents, each named as the caller's purpose
/// allows; the search and each resident listed are audited.
pub(crate) async fn search(State(state): State<Arc<AppState>>, posted: Posted) -> Page {
    let (
        Acting {
            who,
            caller,
            request,
        },
        form,
    ) = posted.acting(&state).await?;
    if caller.role.pseudonymised_only() {
        return Err(error_page(
            StatusCode::FORBIDDEN,
            Some(&who),
            "Search is not open to your role",
            "Analysts see pseudonymised data only, so they cannot search by name or date of birth.",
            None,
        ));
    }
    if state.limiter.take(&who.name).is_err() {
        return Err(error_page(
            StatusCode::TOO_MANY_REQUESTS,
            Some(&who),
            "Too many searches",
            "You have searched many times in a short time. Wait a few seconds and try again.",
            None,
        ));
    }
    let terms: Vec<(&'static str, Option<&str>)> = SEARCH_FIELDS
        .iter()
        .map(|(name, ..)| (*name, form.get(*name).map(String::as_str)))
        .collect();
    let fields = match search_fields(&terms) {
        Ok(f) => f,
        Err((field, message)) => {
            let message = message.replacen(field, label_of(field), 1);
            return Ok(search_page(
                &who,
                StatusCode::BAD_REQUEST,
                &form,
                Some((field, message)),
                None,
            ));
        }
    };
    let Some(matcher) = state.matcher.as_ref() else {
        return Err(error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            Some(&who),
            "Search is not available yet",
            "No linkage run has been made, so there is nothing to search. Ask your data steward.",
            None,
        ));
    };
    let found = rank(matcher, &fields, RESULTS).await.or_page(&who)?;
    let ranked: Vec<(String, f64)> = found
        .ranked
        .into_iter()
        .map(|r| (r.person, r.probability))
        .collect();
    let searched: Vec<&str> = fields.keys().map(String::as_str).collect();
    let listed = state
        .access
        .search_results(&caller, &searched, &ranked, true, request.as_str())
        .await
        .or_page(&who)?;
    let rows: Vec<minijinja::Value> = listed
        .into_iter()
        .map(|l| {
            context! {
                person => l.person,
                name => l.name,
                dob => l.dob.as_deref().map(super::render::govuk_date),
                postcode => l.postcode,
                score => format!("{:.0}%", l.probability * 100.0),
            }
        })
        .collect();
    Ok(search_page(
        &who,
        StatusCode::OK,
        &form,
        None,
        Some((rows, found.total)),
    ))
}

fn label_of(field: &str) -> &'static str {
    SEARCH_FIELDS
        .iter()
        .find(|(n, ..)| *n == field)
        .map_or("Search", |(_, l, ..)| l)
}
