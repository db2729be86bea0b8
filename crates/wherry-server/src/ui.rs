//! The web UI: server-rendered pages in the GOV.UK Design System's look
//! (its CSS and JavaScript vendored under `assets/govuk`), over the same
//! access and audit rules as the API: every page that shows personal data
//! goes through [`crate::residents::gather`] and writes its audit entry
//! before it is sent.
//!
//! Sessions live in the server's memory: a random id in a cookie that is
//! `HttpOnly`, `SameSite=Strict` and, when the server is behind TLS
//! (`secure_cookies`), `Secure`. Every form carries the session's CSRF
//! token. Every response has a strict Content-Security-Policy (no inline
//! script or style). Search is a POST, so names and dates never appear in
//! URLs or logs. Pages work without JavaScript.

// The `Err` of the helpers below is the page to send instead (a redirect
// or an error page), returned once per request, not an error passed up.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::{Environment, context};
use serde_json::Value;
use wherry_core::{Purpose, Role};
use wherry_store::AuditEntry;

use crate::residents::{gather, rank, resident_view, search_fields};
use crate::{AppState, Caller, audit, audit_all, request_id, view};

/// The UI's pages (the JSON API's routes are in the crate root, and the
/// OpenAPI document covers those only).
pub(crate) fn routes() -> axum::Router<Arc<AppState>> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/", get(home))
        .route("/sign-in", get(sign_in_form).post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/purpose", get(purpose_form).post(choose_purpose))
        .route("/search", get(search_form).post(search))
        .route("/residents/{id}", get(resident))
        .route("/review", get(review))
        .route("/review/{id}", get(review_item).post(review_decide))
        .route("/audit", get(audit_log))
        .route("/audit/verify", post(audit_verify))
        .route("/assets/{name}", get(asset))
}

/// How long a session lasts without use.
pub const SESSION_IDLE: Duration = Duration::from_secs(30 * 60);
/// Residents listed for a search.
const RESULTS: usize = 10;
/// Most audit entries listed on one page.
const AUDIT_PAGE: usize = 500;
const COOKIE: &str = "wherry_session";

/// The Content-Security-Policy of every response.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// One browser's session.
#[derive(Debug, Clone)]
struct Session {
    /// Signed-in user, once signed in.
    user: Option<(String, Role)>,
    purpose: Option<Purpose>,
    csrf: String,
    last: Instant,
}

/// The sessions, by id.
#[derive(Debug, Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    fn get(&self, id: &str) -> Option<Session> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let s = map.get_mut(id)?;
        if s.last.elapsed() > SESSION_IDLE {
            map.remove(id);
            return None;
        }
        s.last = Instant::now();
        Some(s.clone())
    }

    fn put(&self, id: String, s: Session) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, s| s.last.elapsed() <= SESSION_IDLE);
        }
        map.insert(id, s);
    }

    fn remove(&self, id: &str) {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's randomness");
    wherry_store::hex(&bytes)
}

const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../templates/layout.html")),
    ("sign_in.html", include_str!("../templates/sign_in.html")),
    ("purpose.html", include_str!("../templates/purpose.html")),
    ("search.html", include_str!("../templates/search.html")),
    ("resident.html", include_str!("../templates/resident.html")),
    ("review.html", include_str!("../templates/review.html")),
    (
        "review_item.html",
        include_str!("../templates/review_item.html"),
    ),
    ("audit.html", include_str!("../templates/audit.html")),
    ("error.html", include_str!("../templates/error.html")),
];

fn templates() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, text) in TEMPLATES {
            env.add_template(name, text)
                .unwrap_or_else(|e| panic!("template {name}: {e}"));
        }
        env
    })
}

/// A page: the template rendered with `ctx`, with `status`.
fn page(status: StatusCode, template: &str, ctx: minijinja::Value) -> Response {
    match templates()
        .get_template(template)
        .and_then(|t| t.render(ctx))
    {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            eprintln!(
                "{}",
                serde_json::json!({"at": wherry_store::now(), "level": "error", "event": "template", "template": template, "error": e.to_string()})
            );
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
fn error_page(
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

/// The signed-in user of a request.
#[derive(Debug, Clone)]
struct Who {
    session: String,
    name: String,
    role: Role,
    purpose: Option<Purpose>,
    csrf: String,
}

impl Who {
    fn ctx(&self) -> minijinja::Value {
        context! {
            name => self.name,
            role => self.role.as_str(),
            purpose => self.purpose.map(|p| p.as_str()),
        }
    }

    /// The caller for the access rules, with the purpose chosen.
    fn caller(&self) -> Option<Caller> {
        Some(Caller {
            name: self.name.clone(),
            role: self.role,
            purpose: self.purpose?,
            break_glass: None,
        })
    }
}

fn cookie_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

fn set_cookie(state: &AppState, id: &str) -> HeaderValue {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict{secure}"
    ))
    .expect("a cookie of hex digits")
}

/// The signed-in user, or the response to send instead: the sign-in page,
/// with an error when the cookie names no live session (tampered, expired).
fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<Who, Response> {
    let id = cookie_of(headers);
    let session = id.as_deref().and_then(|id| state.sessions.get(id));
    match (id, session) {
        (
            Some(id),
            Some(Session {
                user: Some((name, role)),
                purpose,
                csrf,
                ..
            }),
        ) => Ok(Who {
            session: id,
            name,
            role,
            purpose,
            csrf,
        }),
        (Some(_), None) => Err(sign_in_page(
            state,
            StatusCode::UNAUTHORIZED,
            Some("Your session has ended or is not valid. Sign in again."),
        )),
        _ => Err(Redirect::to("/sign-in").into_response()),
    }
}

/// The signed-in user with a purpose chosen, or where to send them.
fn with_purpose(state: &AppState, headers: &HeaderMap) -> Result<(Who, Caller), Response> {
    let who = signed_in(state, headers)?;
    match who.caller() {
        Some(c) => Ok((who, c)),
        None => Err(Redirect::to("/purpose").into_response()),
    }
}

/// A form's fields, or a plain error page when the body is not a form
/// (wrong content type, too large, not URL-encoded): nothing is done.
fn form_of(
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<HashMap<String, String>, Response> {
    form.map(|Form(f)| f).map_err(|r| {
        error_page(
            r.status(),
            None,
            "This form could not be read",
            "What was sent was not a form from this service, so nothing was done. Go back and try again.",
            Some(("/", "Go to the start")),
        )
    })
}

/// The signed-in user of a form's request whose CSRF token is the
/// session's, or the page to send instead.
fn posted(
    state: &AppState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<Who, Response> {
    let who = signed_in(state, headers)?;
    check_csrf(&who, form)?;
    Ok(who)
}

/// Refuses a form whose CSRF token is not the session's.
fn check_csrf(who: &Who, form: &HashMap<String, String>) -> Result<(), Response> {
    if form.get("csrf").map(String::as_str) == Some(who.csrf.as_str()) {
        Ok(())
    } else {
        Err(error_page(
            StatusCode::FORBIDDEN,
            Some(who),
            "This form could not be accepted",
            "The form was not sent from this session (its security token did not match), so nothing was done. Go back, reload the page and try again.",
            Some(("/search", "Go to search")),
        ))
    }
}

fn sign_in_page(state: &AppState, status: StatusCode, error: Option<&str>) -> Response {
    // A fresh anonymous session carries the sign-in form's CSRF token.
    let id = random_hex();
    let csrf = random_hex();
    state.sessions.put(
        id.clone(),
        Session {
            user: None,
            purpose: None,
            csrf: csrf.clone(),
            last: Instant::now(),
        },
    );
    let errors: Vec<minijinja::Value> = error
        .map(|m| context! {field => "token", message => m})
        .into_iter()
        .collect();
    let mut r = page(
        status,
        "sign_in.html",
        context! {title => "Sign in", csrf, errors},
    );
    r.headers_mut()
        .insert(header::SET_COOKIE, set_cookie(state, &id));
    r
}

/// `GET /`.
pub(crate) async fn home(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    match signed_in(&state, &headers) {
        Ok(w) if w.purpose.is_none() => Redirect::to("/purpose").into_response(),
        Ok(_) => Redirect::to("/search").into_response(),
        Err(r) => r,
    }
}

/// `GET /sign-in`.
pub(crate) async fn sign_in_form(State(state): State<Arc<AppState>>) -> Response {
    sign_in_page(&state, StatusCode::OK, None)
}

/// `POST /sign-in`: the token is checked as the API checks it; the session
/// gets a new id (no fixation).
pub(crate) async fn sign_in(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let form = match form_of(form) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let pending = cookie_of(&headers).and_then(|id| state.sessions.get(&id).map(|s| (id, s)));
    let Some((old, session)) = pending else {
        return sign_in_page(
            &state,
            StatusCode::FORBIDDEN,
            Some("Your sign-in form had expired. Enter your token again."),
        );
    };
    if form.get("csrf") != Some(&session.csrf) {
        return sign_in_page(
            &state,
            StatusCode::FORBIDDEN,
            Some(
                "The sign-in form was not sent from this browser session. Enter your token again.",
            ),
        );
    }
    let token = form.get("token").map(|t| t.trim()).unwrap_or("");
    if token.is_empty() {
        return sign_in_page(&state, StatusCode::BAD_REQUEST, Some("Enter your token"));
    }
    let Some((name, role)) = crate::identify(&state, token).await.ok() else {
        return sign_in_page(
            &state,
            StatusCode::UNAUTHORIZED,
            Some("That token is not valid. Check it and try again, or ask your administrator."),
        );
    };
    state.sessions.remove(&old);
    let id = random_hex();
    let purposes: Vec<Purpose> = state.policy.purposes(role).collect();
    let purpose = (purposes.len() == 1).then(|| purposes[0]);
    state.sessions.put(
        id.clone(),
        Session {
            user: Some((name, role)),
            purpose,
            csrf: random_hex(),
            last: Instant::now(),
        },
    );
    let mut r = Redirect::to(if purpose.is_some() {
        "/search"
    } else {
        "/purpose"
    })
    .into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, set_cookie(&state, &id));
    r
}

/// `POST /sign-out`.
pub(crate) async fn sign_out(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let form = match form_of(form) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let who = match posted(&state, &headers, &form) {
        Ok(w) => w,
        Err(r) => return r,
    };
    state.sessions.remove(&who.session);
    let mut r = Redirect::to("/sign-in").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("wherry_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    r
}

fn purpose_label(p: Purpose) -> &'static str {
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

fn purpose_page(state: &AppState, who: &Who, status: StatusCode, error: Option<&str>) -> Response {
    let purposes: Vec<minijinja::Value> = state
        .policy
        .purposes(who.role)
        .map(|p| context! {name => p.as_str(), label => purpose_label(p)})
        .collect();
    let errors: Vec<minijinja::Value> = error
        .map(|m| context! {field => "purpose", message => m})
        .into_iter()
        .collect();
    page(
        status,
        "purpose.html",
        context! {title => "Choose your purpose", user => who.ctx(), csrf => who.csrf, purposes, errors},
    )
}

/// `GET /purpose`.
pub(crate) async fn purpose_form(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Response {
    match signed_in(&state, &headers) {
        Ok(who) => purpose_page(&state, &who, StatusCode::OK, None),
        Err(r) => r,
    }
}

/// `POST /purpose`: kept for the session.
pub(crate) async fn choose_purpose(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let form = match form_of(form) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let who = match posted(&state, &headers, &form) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let chosen = form.get("purpose").and_then(|p| p.parse::<Purpose>().ok());
    let Some(p) = chosen.filter(|p| state.policy.check(who.role, *p).is_ok()) else {
        return purpose_page(
            &state,
            &who,
            StatusCode::BAD_REQUEST,
            Some("Select one of the purposes your role may use"),
        );
    };
    if let Some(mut s) = state.sessions.get(&who.session) {
        s.purpose = Some(p);
        state.sessions.put(who.session.clone(), s);
    }
    Redirect::to("/search").into_response()
}

const SEARCH_FIELDS: &[(&str, &str, &str, &str)] = &[
    (
        "name",
        "Full name",
        "For example, Margaret Thrower. Spelling need not be exact.",
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
];

fn search_page(
    who: &Who,
    status: StatusCode,
    values: &HashMap<String, String>,
    error: Option<(&str, String)>,
    results: Option<Vec<minijinja::Value>>,
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
    let errors: Vec<minijinja::Value> = error
        .iter()
        .map(|(f, m)| context! {field => f, message => m})
        .collect();
    let searched = results.is_some();
    page(
        status,
        "search.html",
        context! {title => "Find a resident", user => who.ctx(), csrf => who.csrf, fields, errors, searched, results => results.unwrap_or_default()},
    )
}

/// `GET /search`.
pub(crate) async fn search_form(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Response {
    match with_purpose(&state, &headers) {
        Ok((who, _)) => search_page(&who, StatusCode::OK, &HashMap::new(), None, None),
        Err(r) => r,
    }
}

/// `POST /search`: ranked residents, each named as the caller's purpose
/// allows; the search and each resident listed are audited.
pub(crate) async fn search(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let form = match form_of(form) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let (who, caller) = match with_purpose(&state, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Err(r) = check_csrf(&who, &form) {
        return r;
    }
    if caller.role.pseudonymised_only() {
        return error_page(
            StatusCode::FORBIDDEN,
            Some(&who),
            "Search is not open to your role",
            "Analysts see pseudonymised data only, so they cannot search by name or date of birth.",
            None,
        );
    }
    if state.limiter.take(&who.name).is_err() {
        return error_page(
            StatusCode::TOO_MANY_REQUESTS,
            Some(&who),
            "Too many searches",
            "You have searched many times in a short time. Wait a few seconds and try again.",
            None,
        );
    }
    let terms: Vec<(&'static str, Option<&str>)> = SEARCH_FIELDS
        .iter()
        .map(|(name, ..)| (*name, form.get(*name).map(String::as_str)))
        .collect();
    let fields = match search_fields(&terms) {
        Ok(f) => f,
        Err((field, message)) => {
            let message = message.replacen(field, label_of(field), 1);
            return search_page(
                &who,
                StatusCode::BAD_REQUEST,
                &form,
                Some((field, message)),
                None,
            );
        }
    };
    let Some(matcher) = state.matcher.as_ref() else {
        return error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            Some(&who),
            "Search is not available yet",
            "No linkage run has been made, so there is nothing to search. Ask your data steward.",
            None,
        );
    };
    let request = request_id();
    let ranked = match rank(matcher, &fields, RESULTS).await {
        Ok(r) => r,
        Err(_) => return sorry(&who),
    };
    let mut rows = Vec::new();
    let mut entries = vec![AuditEntry {
        fields: serde_json::to_string(&fields.keys().collect::<Vec<_>>())
            .expect("strings serialise"),
        ..caller.entry("search", None, &request)
    }];
    for (person, probability, _) in ranked {
        let Ok(Some(g)) = gather(&state, &person, &caller).await else {
            continue;
        };
        let golden = view::golden_record(&g.visible);
        let text = |f: &str| {
            golden
                .get(f)
                .and_then(|c| c.value.as_str())
                .map(str::to_string)
        };
        let name = match (text("given_name"), text("family_name")) {
            (Some(g), Some(f)) => Some(format!("{g} {f}")),
            (g, f) => g.or(f),
        };
        let shown: Vec<&str> = ["given_name", "family_name", "dob", "postcode"]
            .into_iter()
            .filter(|f| golden.contains_key(*f))
            .collect();
        entries.push(AuditEntry {
            sources: serde_json::to_string(&g.sources).expect("strings serialise"),
            fields: serde_json::to_string(&shown).expect("strings serialise"),
            ..caller.entry("search_result", Some(person.clone()), &request)
        });
        rows.push(context! {
            person,
            name,
            dob => text("dob"),
            postcode => text("postcode"),
            score => format!("{:.0}%", probability * 100.0),
        });
    }
    if audit_all(&state, entries).await.is_err() {
        return sorry(&who);
    }
    search_page(&who, StatusCode::OK, &form, None, Some(rows))
}

fn label_of(field: &str) -> &'static str {
    SEARCH_FIELDS
        .iter()
        .find(|(n, ..)| *n == field)
        .map_or("Search", |(_, l, ..)| l)
}

fn sorry(who: &Who) -> Response {
    error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        Some(who),
        "Sorry, there is a problem with the service",
        "Try again later. Nothing was shown or changed.",
        None,
    )
}

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

fn field_label(f: &str) -> String {
    match f {
        "nhs_number" => "NHS number".into(),
        "dob" => "Date of birth".into(),
        "uprn" => "UPRN".into(),
        other => {
            let t = other.replace('_', " ");
            let mut c = t.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `GET /residents/{id}`: the resident view, audited before it is sent.
pub(crate) async fn resident(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    filter: Result<Query<TimelineFilter>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let (who, caller) = match with_purpose(&state, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let filter = filter.map(|Query(f)| f).unwrap_or_default();
    let bad_date = |d: &str| !d.is_empty() && wherry_core::Date::parse(d).is_err();
    let filter_error = (bad_date(&filter.from) || bad_date(&filter.to))
        .then_some("Enter dates as YYYY-MM-DD, for example 2026-01-31");
    let request = request_id();
    let view = match resident_view(&state, &id, &caller, &request).await {
        Ok(Some(v)) => v,
        Ok(None) => {
            return error_page(
                StatusCode::NOT_FOUND,
                Some(&who),
                "Resident not found",
                "No resident has that reference. Search for them instead.",
                Some(("/search", "Search for a resident")),
            );
        }
        Err(_) => return sorry(&who),
    };
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
                value => value_text(&c.value),
                source => c.source,
                record_id => c.record_id,
                updated_at => c.updated_at.get(..10).unwrap_or(&c.updated_at),
                trust => c.trust,
                agreeing => c.agreeing,
                differing => c.differing,
            }
        })
        .collect();
    let mut services: Vec<&str> = view.timeline.iter().map(|e| e.service.as_str()).collect();
    services.sort_unstable();
    services.dedup();
    let timeline: Vec<&view::Contact> = view
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
            let mut fields: Vec<(String, String, String)> = r["fields"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), field_label(k), value_text(v)))
                .collect();
            fields.extend(
                r["attributes"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), field_label(k), value_text(v))),
            );
            context! {source => r["source"].as_str(), record_id => r["record_id"].as_str(), fields}
        })
        .collect();
    let status = if filter_error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let errors: Vec<minijinja::Value> = filter_error
        .map(|m| context! {field => "from", message => m})
        .into_iter()
        .collect();
    page(
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
            golden,
            involved => view.involved_services,
            lead => view.lead_practitioner,
            services,
            filter => context!{service => filter.service, from => filter.from, to => filter.to},
            filter_error,
            errors,
            timeline,
            records,
        },
    )
}

/// Refuses a user whose role is not `role`.
fn require(who: &Who, role: Role, what: &str) -> Result<(), Response> {
    if who.role == role {
        return Ok(());
    }
    Err(error_page(
        StatusCode::FORBIDDEN,
        Some(who),
        "You cannot use this page",
        &format!("{what} is for the {role} role."),
        Some(("/search", "Go to search")),
    ))
}

/// `GET /review`: the steward's open items.
pub(crate) async fn review(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let (who, caller) = match with_purpose(&state, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Err(r) = require(&who, Role::Steward, "The review queue") {
        return r;
    }
    let Ok(items) = state.store.review_items(Some("open")).await else {
        return sorry(&who);
    };
    let request = request_id();
    if audit(&state, caller.entry("review_list", None, &request))
        .await
        .is_err()
    {
        return sorry(&who);
    }
    let items: Vec<minijinja::Value> = items
        .into_iter()
        .map(|(id, sl, rl, sr, rr, p, ..)| {
            context! {id, left => format!("{sl} {rl}"), right => format!("{sr} {rr}"), probability => format!("{p:.3}")}
        })
        .collect();
    page(
        StatusCode::OK,
        "review.html",
        context! {title => "Review queue", user => who.ctx(), csrf => who.csrf, items},
    )
}

/// `GET /review/{id}`: the pair side by side (as the steward's purpose may
/// see each source) and the waterfall of match weights.
pub(crate) async fn review_item(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (who, caller) = match with_purpose(&state, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Err(r) = require(&who, Role::Steward, "The review queue") {
        return r;
    }
    let not_found = || {
        error_page(
            StatusCode::NOT_FOUND,
            Some(&who),
            "Review item not found",
            "There is no review item with that number.",
            Some(("/review", "Go to the review queue")),
        )
    };
    let Ok(id) = id.parse::<i64>() else {
        return not_found();
    };
    let Ok(items) = state.store.review_items(None).await else {
        return sorry(&who);
    };
    let Some((_, sl, rl, sr, rr, probability, explanation, status)) =
        items.into_iter().find(|i| i.0 == id)
    else {
        return not_found();
    };
    let Ok(manifests) = crate::manifests(&state).await else {
        return sorry(&who);
    };
    let mut sides = Vec::new();
    let mut disclosed = std::collections::BTreeSet::new();
    for (source, record_id) in [(&sl, &rl), (&sr, &rr)] {
        let fields: Vec<(String, String)> = match (
            state.store.current_record(source, record_id).await,
            manifests.get(source),
        ) {
            (Ok(Some((f, _))), Some(m)) => {
                let all: BTreeMap<String, Value> = serde_json::from_str(&f).unwrap_or_default();
                let view = wherry_access::view(&m.agreement, caller.purpose);
                view.fields_of(&all)
                    .into_iter()
                    .map(|(k, v)| {
                        disclosed.insert(k.clone());
                        (field_label(&k), value_text(&v))
                    })
                    .collect()
            }
            (Err(_), _) => return sorry(&who),
            _ => vec![],
        };
        let person = match state.store.begin().await {
            Ok(mut tx) => tx.person_of(source, record_id).await.ok().flatten(),
            Err(_) => None,
        };
        sides.push(context! {source, record_id, fields, person});
    }
    let request = request_id();
    let entry = AuditEntry {
        sources: serde_json::to_string(&[&sl, &sr]).expect("strings serialise"),
        fields: serde_json::to_string(&disclosed).expect("strings serialise"),
        ..caller.entry("review_view", None, &request)
    };
    if audit(&state, entry).await.is_err() {
        return sorry(&who);
    }
    let (steps, chart) = match wherry_link::explain::Explanation::steps_of_text(&explanation) {
        Some((steps, p)) => {
            let chart = wherry_link::explain::waterfall_svg(&steps, p);
            (steps, chart)
        }
        None => (vec![], String::new()),
    };
    let steps: Vec<(String, String)> = steps
        .into_iter()
        .map(|(l, w)| (l, format!("{w:+.2}")))
        .collect();
    page(
        StatusCode::OK,
        "review_item.html",
        context! {
            title => format!("Review item {id}"),
            user => who.ctx(), csrf => who.csrf, id, sides, chart, steps,
            probability => format!("{probability:.3}"),
            open => status == "open", status,
        },
    )
}

/// `POST /review/{id}`: accept or reject, with a reason.
pub(crate) async fn review_decide(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let form = match form_of(form) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let (who, caller) = match with_purpose(&state, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Err(r) = check_csrf(&who, &form) {
        return r;
    }
    if let Err(r) = require(&who, Role::Steward, "The review queue") {
        return r;
    }
    let accept = match form.get("decision").map(String::as_str) {
        Some("accept") => true,
        Some("reject") => false,
        _ => {
            return error_page(
                StatusCode::BAD_REQUEST,
                Some(&who),
                "Choose a decision",
                "Select whether the records are the same resident or different residents, then record your decision.",
                Some((&format!("/review/{id}"), "Go back to the item")),
            );
        }
    };
    let reason: String = form
        .get("reason")
        .map(|r| r.chars().take(500).collect())
        .unwrap_or_default();
    let Ok(n) = id.parse::<i64>() else {
        return Redirect::to("/review").into_response();
    };
    let request = request_id();
    match wherry_hub::steward::settle(&state.store, n, accept, &who.name, &reason).await {
        Ok(Some(effect)) => {
            let action = if accept {
                "review_accept"
            } else {
                "review_reject"
            };
            if audit(&state, caller.entry(action, Some(effect.person), &request))
                .await
                .is_err()
            {
                return sorry(&who);
            }
            Redirect::to("/review").into_response()
        }
        Ok(None) => error_page(
            StatusCode::NOT_FOUND,
            Some(&who),
            "This item is already settled",
            "Another steward may have decided it. Nothing was changed.",
            Some(("/review", "Go to the review queue")),
        ),
        Err(_) => sorry(&who),
    }
}

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
    who: &Who,
    f: AuditFilter,
    verified: Option<String>,
) -> Response {
    let t = |v: &str| v.trim().to_string();
    let Ok(mut entries) = state
        .store
        .audit_search(
            &t(&f.user),
            &t(&f.resident),
            &t(&f.purpose),
            &t(&f.from),
            &t(&f.to),
            AUDIT_PAGE as i64 + 1,
        )
        .await
    else {
        return sorry(who);
    };
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
    page(
        StatusCode::OK,
        "audit.html",
        context! {title => "Audit log", user => who.ctx(), csrf => who.csrf, entries, capped, filters, verified},
    )
}

/// `GET /audit`: the admin's view of the audit log, newest first.
pub(crate) async fn audit_log(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    filter: Result<Query<AuditFilter>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let who = match signed_in(&state, &headers) {
        Ok(w) => w,
        Err(r) => return r,
    };
    if let Err(r) = require(&who, Role::Admin, "The audit log") {
        return r;
    }
    audit_page(
        &state,
        &who,
        filter.map(|Query(f)| f).unwrap_or_default(),
        None,
    )
    .await
}

/// `POST /audit/verify`: checks the hash chain.
pub(crate) async fn audit_verify(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let form = match form_of(form) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let who = match posted(&state, &headers, &form) {
        Ok(w) => w,
        Err(r) => return r,
    };
    if let Err(r) = require(&who, Role::Admin, "The audit log") {
        return r;
    }
    let message = match wherry_access::audit::verify_store(&state.store).await {
        Ok(Ok(n)) => format!("The chain holds: {n} entries, each linked to the one before."),
        Ok(Err(broken)) => format!("The chain is broken: {broken}."),
        Err(_) => return sorry(&who),
    };
    audit_page(&state, &who, AuditFilter::default(), Some(message)).await
}

/// The vendored assets, by name.
pub(crate) async fn asset(Path(name): Path<String>) -> Response {
    let (body, kind): (&'static [u8], &str) = match name.as_str() {
        "govuk-frontend.min.css" => (
            include_bytes!("../assets/govuk/govuk-frontend.min.css"),
            "text/css",
        ),
        "govuk-frontend.min.js" => (
            include_bytes!("../assets/govuk/govuk-frontend.min.js"),
            "text/javascript",
        ),
        "wherry.css" => (include_bytes!("../assets/wherry.css"), "text/css"),
        "init.js" => (include_bytes!("../assets/init.js"), "text/javascript"),
        _ => return (StatusCode::NOT_FOUND, "no such asset").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// Adds the security headers to every response: the CSP, no sniffing, no
/// framing, no referrer, and no caching of pages (they hold personal data).
pub(crate) async fn security_headers(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let mut r = next.run(request).await;
    let h = r.headers_mut();
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    r
}
