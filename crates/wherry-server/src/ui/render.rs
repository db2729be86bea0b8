//! Rendering: the templates (minijinja, GOV.UK Frontend markup), pages,
//! error pages in the GOV.UK pattern, and the labels people read.

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::{Environment, context};
use serde_json::Value;
use std::sync::OnceLock;
use wherry_core::Purpose;

use super::session::Who;
use crate::ApiError;

const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../../templates/layout.html")),
    ("sign_in.html", include_str!("../../templates/sign_in.html")),
    ("purpose.html", include_str!("../../templates/purpose.html")),
    ("search.html", include_str!("../../templates/search.html")),
    (
        "resident.html",
        include_str!("../../templates/resident.html"),
    ),
    ("review.html", include_str!("../../templates/review.html")),
    (
        "review_item.html",
        include_str!("../../templates/review_item.html"),
    ),
    ("audit.html", include_str!("../../templates/audit.html")),
    (
        "security.html",
        include_str!("../../templates/security.html"),
    ),
    (
        "break_glass.html",
        include_str!("../../templates/break_glass.html"),
    ),
    (
        "caseload.html",
        include_str!("../../templates/caseload.html"),
    ),
    ("unusual.html", include_str!("../../templates/unusual.html")),
    ("error.html", include_str!("../../templates/error.html")),
    ("privacy.html", include_str!("../../templates/privacy.html")),
    (
        "accessibility.html",
        include_str!("../../templates/accessibility.html"),
    ),
    (
        "activity.html",
        include_str!("../../templates/activity.html"),
    ),
    (
        "extracts.html",
        include_str!("../../templates/extracts.html"),
    ),
    (
        "quarantine.html",
        include_str!("../../templates/quarantine.html"),
    ),
    ("quality.html", include_str!("../../templates/quality.html")),
    ("rights.html", include_str!("../../templates/rights.html")),
    (
        "no_relationship.html",
        include_str!("../../templates/no_relationship.html"),
    ),
    (
        "tec_alerts.html",
        include_str!("../../templates/tec_alerts.html"),
    ),
    (
        "tec_home.html",
        include_str!("../../templates/tec_home.html"),
    ),
    (
        "open_data.html",
        include_str!("../../templates/open_data.html"),
    ),
    (
        "insight_fire.html",
        include_str!("../../templates/insight_fire.html"),
    ),
    (
        "insight_demand.html",
        include_str!("../../templates/insight_demand.html"),
    ),
    (
        "insight_visits.html",
        include_str!("../../templates/insight_visits.html"),
    ),
];

fn templates() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        // Codes as people read them, dates in the GOV.UK style.
        env.add_filter("label", |code: String| code_label(&code));
        env.add_filter("govuk_date", |iso: String| govuk_date(&iso));
        for (name, text) in TEMPLATES {
            env.add_template(name, text)
                .unwrap_or_else(|e| panic!("template {name}: {e}"));
        }
        env
    })
}

/// A page: the template rendered with `ctx`, with `status`.
pub(crate) fn page(status: StatusCode, template: &str, ctx: minijinja::Value) -> Response {
    match templates()
        .get_template(template)
        .and_then(|t| t.render(ctx))
    {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            crate::request::log_error("template", "", &format!("{template}: {e}"));
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<!DOCTYPE html><html lang=\"en\"><title>Sorry</title><h1>Sorry, there is a problem with the service</h1></html>"),
            )
                .into_response()
        }
    }
}

/// An error page in the GOV.UK pattern (a heading, what happened, where to
/// go); never a stack trace, never personal data.
pub(crate) fn error_page(
    status: StatusCode,
    who: Option<&Who>,
    title: &str,
    message: &str,
    link: Option<(&str, &str)>,
) -> Response {
    let link = link.map(|(href, text)| context! {href, text});
    let (user, csrf) = who.map_or((None, String::new()), |w| (Some(w.ctx()), w.csrf.clone()));
    page(
        status,
        "error.html",
        context! {title, message, link, user, csrf},
    )
}

/// A page, or the page to send instead (a refusal, "not found", "sorry").
pub(crate) type Page = Result<Response, Response>;

/// `?` on an access, hub or store result in a page handler: the error
/// becomes its page ([`failed`]).
pub(crate) trait OrPage<T> {
    /// The value, or the error's page for `who`.
    fn or_page(self, who: &Who) -> Result<T, Response>;
}

impl<T, E: Into<ApiError>> OrPage<T> for Result<T, E> {
    fn or_page(self, who: &Who) -> Result<T, Response> {
        self.map_err(|e| failed(who, e))
    }
}

/// An access, hub or store error as a page: a refusal says what the page
/// is for, a missing thing says so, anything else is "Sorry" (and its
/// cause is logged, never shown).
pub(crate) fn failed(who: &Who, e: impl Into<ApiError>) -> Response {
    let e: ApiError = e.into();
    let refused = crate::security::Refused {
        code: e.code,
        reason: e.message.clone(),
    };
    let mut page = failed_page(who, e);
    // The security log names the refusal as the API's would.
    page.extensions_mut().insert(refused);
    page
}

/// The message as a sentence: a capital first letter and a full stop.
pub(crate) fn sentence(message: &str) -> String {
    format!("{}.", capitalised(message))
}

fn failed_page(who: &Who, e: ApiError) -> Response {
    match e.status() {
        StatusCode::FORBIDDEN => error_page(
            StatusCode::FORBIDDEN,
            Some(who),
            "You cannot use this page",
            &sentence(&e.message),
            Some(("/search", "Go to search")),
        ),
        StatusCode::NOT_FOUND => error_page(
            StatusCode::NOT_FOUND,
            Some(who),
            "Page not found",
            "There is nothing with that reference.",
            Some(("/search", "Go to search")),
        ),
        s if s.is_client_error() => error_page(
            s,
            Some(who),
            "This could not be done",
            &format!(
                "{} Nothing was changed. Go back and try again.",
                sentence(&e.message)
            ),
            None,
        ),
        _ => {
            let mut r = sorry(who);
            let logged = e.into_response();
            if let Some(i) = logged.extensions().get::<crate::error::Internal>() {
                r.extensions_mut().insert(i.clone());
            }
            r
        }
    }
}

/// "Sorry, there is a problem with the service."
pub(crate) fn sorry(who: &Who) -> Response {
    error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        Some(who),
        "Sorry, there is a problem with the service",
        "Try again later. Nothing was shown or changed.",
        None,
    )
}

pub(crate) fn purpose_label(p: Purpose) -> &'static str {
    match p {
        Purpose::DirectCare => "Direct care of the person",
        Purpose::Safeguarding => "Safeguarding a person at risk",
        Purpose::FirePrevention => "Fire prevention (home fire safety)",
        Purpose::ContactCentre => "Answering a resident's call",
        Purpose::DataQuality => "Data quality (linkage and the review queue)",
        Purpose::Planning => "Service planning (pseudonymised)",
        Purpose::Research => "Approved research (pseudonymised)",
        Purpose::SubjectRights => "A resident's data protection rights",
    }
}

pub(crate) fn field_label(f: &str) -> String {
    match f {
        "nhs_number" => "NHS number".into(),
        "dob" => "Date of birth".into(),
        "uprn" => "UPRN".into(),
        other => capitalised(&other.replace('_', " ")),
    }
}

/// `text` with a capital first letter.
fn capitalised(text: &str) -> String {
    let mut c = text.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// A code as people read it: `older_people_team` → "Older people's team";
/// codes not listed lose their underscores and gain a capital.
pub(crate) fn code_label(code: &str) -> String {
    let known = match code {
        "older_people_team" => "Older people's team",
        "primary_care" => "GP practice",
        "fire_prevention" => "Fire prevention",
        "operational_response" => "Fire and rescue response",
        "neighbourhood_policing" => "Neighbourhood policing",
        "occupational_therapy" => "Occupational therapy",
        "environmental_health" => "Environmental health",
        "council_tax" => "Council tax",
        "library" => "Libraries",
        "gp_registrations" => "GP registration",
        "social_care" => "Adult social care",
        "fire_rescue" => "Fire and rescue",
        "district_council" => "District council",
        "police_vulnerable" => "Police (vulnerable people)",
        "libraries" => "Libraries",
        "home_fire_safety_check" => "Home fire safety check",
        "safe_and_well_visit" => "Safe and well visit",
        "tec_team" => "Technology-enabled care team",
        "fire_prevention_officer" => "Fire prevention officer",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    capitalised(&code.replace('_', " "))
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// `YYYY-MM-DD…` in the GOV.UK style, "7 March 1948"; anything else as it is.
pub(crate) fn govuk_date(iso: &str) -> String {
    match wherry_core::Date::parse(iso.get(..10).unwrap_or(iso)) {
        Ok(d) => format!(
            "{} {} {}",
            d.day(),
            MONTHS[usize::from(d.month()) - 1],
            d.year()
        ),
        Err(_) => iso.to_string(),
    }
}

/// `YYYY-MM` as "November 2026"; anything else as it is.
pub(crate) fn govuk_month(ym: &str) -> String {
    match govuk_date(&format!("{ym}-01")).split_once(' ') {
        Some((_, rest)) if ym.len() == 7 => rest.to_string(),
        _ => ym.to_string(),
    }
}

pub(crate) fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A CSV file to download: `header`, then `rows`, named `filename`; a
/// failure to write it is the "Sorry" page.
pub(crate) fn csv_download(
    who: &Who,
    filename: &str,
    header: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> Result<Response, Response> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let written = w
        .write_record(header)
        .and_then(|_| rows.into_iter().try_for_each(|r| w.write_record(&r)));
    let bytes = written
        .map_err(std::io::Error::from)
        .and_then(|_| w.into_inner().map_err(|e| e.into_error()))
        .map_err(|e| failed(who, ApiError::internal(e)))?;
    let name: String = filename
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// An error a form's own field should show (400 or 422: the value was
/// refused), as that field's message; any other error, its page.
pub(crate) fn form_error(who: &Who, e: impl Into<ApiError>) -> Result<String, Response> {
    let e: ApiError = e.into();
    if matches!(
        e.status(),
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY
    ) {
        Ok(e.message)
    } else {
        Err(failed(who, e))
    }
}

/// The GOV.UK error summary's entries: the one field at fault, if any,
/// with its message (the summary links to the field).
pub(crate) fn error_summary(error: Option<(&str, &str)>) -> Vec<minijinja::Value> {
    error
        .map(|(field, message)| context! {field, message})
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_parses_and_every_file_is_one() {
        let env = super::templates();
        for (name, _) in super::TEMPLATES {
            assert!(env.get_template(name).is_ok(), "{name}");
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(files.len() >= super::TEMPLATES.len());
        for f in files {
            assert!(
                super::TEMPLATES.iter().any(|(n, _)| *n == f),
                "templates/{f} is not registered"
            );
        }
    }
}
