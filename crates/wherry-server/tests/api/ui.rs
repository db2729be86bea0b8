//! The web UI through the router: sessions, CSRF, the security headers,
//! the GOV.UK error pattern for bad input, and the same access and audit
//! rules as the API (the fire view holds no field the fire agreement
//! withholds; each resident page is one audit entry).

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use wherry_core::Purpose;
use wherry_server::{AppState, app};
use wherry_store::testing::stores;

use crate::access::{PERSON, hub};
use crate::manifest;

pub struct Page {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub html: String,
}

pub async fn fetch(
    state: &Arc<AppState>,
    method: &str,
    uri: &str,
    cookie: Option<&str>,
    form: Option<&[(&str, &str)]>,
) -> Page {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(c) = cookie {
        // A bare value is the session's; `name=value` is sent as it is.
        let c = if c.contains('=') {
            c.to_string()
        } else {
            format!("wherry_session={c}")
        };
        req = req.header("cookie", c);
    }
    let req = match form {
        Some(f) => {
            let body: String = f
                .iter()
                .map(|(k, v)| format!("{k}={}", urlencode(v)))
                .collect::<Vec<_>>()
                .join("&");
            req.header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(body))
        }
        None => req.body(Body::empty()),
    };
    let res = app(state.clone()).oneshot(req.unwrap()).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Page {
        status,
        headers,
        html: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn cookie_of(p: &Page) -> String {
    let c = p.headers["set-cookie"].to_str().unwrap();
    assert!(
        c.contains("HttpOnly") && c.contains("SameSite=Strict"),
        "{c}"
    );
    c.split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_string()
}

pub fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    html[at..at + 64].to_string()
}

/// Signs in with `token`: (session cookie, CSRF token of the session).
pub async fn sign_in(state: &Arc<AppState>, token: &str) -> (String, String) {
    let form = fetch(state, "GET", "/sign-in", None, None).await;
    assert_eq!(form.status, StatusCode::OK);
    let (pending, csrf) = (cookie_of(&form), csrf_of(&form.html));
    assert_eq!(pending, csrf, "the form repeats its CSRF cookie");
    let done = fetch(
        state,
        "POST",
        "/sign-in",
        Some(&format!("wherry_sign_in={pending}")),
        Some(&[("csrf", &csrf), ("token", token)]),
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let session = cookie_of(&done);
    assert_ne!(session, pending, "a new session id on sign-in");
    let page = fetch(state, "GET", "/search", Some(&session), None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    (session, csrf_of(&page.html))
}

/// Signs in with `token` and chooses `purpose`: the session cookie, and
/// where the choice led.
pub async fn signed_in_for(state: &Arc<AppState>, token: &str, purpose: &str) -> (String, String) {
    let form = fetch(state, "GET", "/sign-in", None, None).await;
    let pending = crate::ui::cookie_of(&form);
    let csrf = crate::ui::csrf_of(&form.html);
    let done = fetch(
        state,
        "POST",
        "/sign-in",
        Some(&format!("wherry_sign_in={pending}")),
        Some(&[("csrf", &csrf), ("token", token)]),
    )
    .await;
    let session = crate::ui::cookie_of(&done);
    let page = fetch(state, "GET", "/purpose", Some(&session), None).await;
    let csrf = crate::ui::csrf_of(&page.html);
    let chosen = fetch(
        state,
        "POST",
        "/purpose",
        Some(&session),
        Some(&[("csrf", &csrf), ("purpose", purpose)]),
    )
    .await;
    assert_eq!(chosen.status, StatusCode::SEE_OTHER, "{}", chosen.html);
    let to = chosen.headers["location"].to_str().unwrap().to_string();
    (session, to)
}

#[tokio::test]
async fn the_ui_applies_the_same_rules_and_refuses_bad_input_plainly() {
    let dir = tempfile::tempdir().unwrap();
    for t in stores().await {
        let [(advisor, _), (fire, _), ..] = hub(&t.store, dir.path()).await;
        let state = Arc::new(AppState::new(t.store.clone(), None));

        let home = fetch(&state, "GET", "/", None, None).await;
        assert_eq!(home.status, StatusCode::SEE_OTHER);
        let csp = home.headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert_eq!(home.headers["x-frame-options"], "DENY");

        // A wrong token: the sign-in page again, with the GOV.UK error summary.
        let form = fetch(&state, "GET", "/sign-in", None, None).await;
        let (pending, csrf) = (cookie_of(&form), csrf_of(&form.html));
        let wrong = fetch(
            &state,
            "POST",
            "/sign-in",
            Some(&format!("wherry_sign_in={pending}")),
            Some(&[("csrf", &csrf), ("token", "wherry_nope")]),
        )
        .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert!(
            wrong.html.contains("govuk-error-summary") && wrong.html.contains("not valid"),
            "{}",
            wrong.html
        );

        let (session, csrf) = sign_in(&state, &advisor).await;
        // A forged CSRF token: refused, nothing done.
        let forged = fetch(
            &state,
            "POST",
            "/search",
            Some(&session),
            Some(&[("csrf", &"0".repeat(64)), ("name", "Thrower")]),
        )
        .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert!(
            forged.html.contains("This form could not be accepted"),
            "{}",
            forged.html
        );
        // A tampered session cookie: signed out, told why.
        let tampered = fetch(
            &state,
            "GET",
            "/search",
            Some(&format!(
                "{}{}",
                &session[..63],
                if session.ends_with('0') { '1' } else { '0' }
            )),
            None,
        )
        .await;
        assert_eq!(tampered.status, StatusCode::UNAUTHORIZED);
        assert!(
            tampered.html.contains("govuk-error-summary")
                && tampered.html.contains("Sign in again")
        );
        // 10,000 characters: the error summary links to the field.
        let long = "x".repeat(10_000);
        let page = fetch(
            &state,
            "POST",
            "/search",
            Some(&session),
            Some(&[("csrf", &csrf), ("name", &long)]),
        )
        .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
        assert!(
            page.html.contains("href=\"#name\"")
                && page.html.contains("longer than 100 characters"),
            "{}",
            page.html
        );
        assert!(
            !page.html.contains(&"x".repeat(101)),
            "the value is not echoed whole"
        );
        // A body that is not a form: a plain page, nothing done.
        let req = Request::post("/search")
            .header("cookie", format!("wherry_session={session}"))
            .header("content-type", "application/json")
            .body(Body::from(r#"{"name": "Thrower"}"#))
            .unwrap();
        let res = app(state.clone()).oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let html = String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec())
            .unwrap();
        assert!(
            html.contains("This form could not be read") && html.contains("govuk-heading-l"),
            "{html}"
        );
        // No such resident.
        let missing = fetch(&state, "GET", "/residents/P999999999", Some(&session), None).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert!(missing.html.contains("Resident not found"));
        // Sign-ins are on record, the wrong token's as failed; nothing
        // else is, since nothing was disclosed.
        let log = t.store.audit_log(0).await.unwrap();
        let actions: Vec<(&str, &str)> = log
            .iter()
            .map(|e| (e.action.as_str(), e.user_name.as_str()))
            .collect();
        assert_eq!(
            actions,
            [("sign_in_failed", "(not identified)"), ("sign_in", "ann")],
            "{}: nothing disclosed so far",
            t.name
        );

        // The advisor's view of the resident: one audit entry.
        let view = fetch(
            &state,
            "GET",
            &format!("/residents/{PERSON}"),
            Some(&session),
            None,
        )
        .await;
        assert_eq!(view.status, StatusCode::OK, "{}", view.html);
        assert!(view.html.contains("Thrower"));
        assert_eq!(disclosures(&t.store).await, 1);

        // The fire prevention officer's view holds no field the fire
        // agreement withholds, source by source.
        let (fire_session, _) = sign_in(&state, &fire).await;
        let view = fetch(
            &state,
            "GET",
            &format!("/residents/{PERSON}"),
            Some(&fire_session),
            None,
        )
        .await;
        assert_eq!(view.status, StatusCode::OK);
        let mut shown = 0;
        for block in view.html.split("data-source=\"").skip(1) {
            let source = &block[..block.find('"').unwrap()];
            let grant = manifest(source)
                .agreement
                .grant(Purpose::FirePrevention)
                .cloned()
                .unwrap_or_default();
            // The same grant read from the manifest's TOML directly, apart
            // from `Agreement::grant`.
            let raw = toml_grant(source, "fire_prevention");
            let body = &block[..block.find("</dl>").unwrap()];
            for field in body
                .split("data-field=\"")
                .skip(1)
                .map(|f| &f[..f.find('"').unwrap()])
            {
                assert!(
                    grant
                        .fields
                        .iter()
                        .chain(&grant.attributes)
                        .any(|g| g == field),
                    "fire sees {source}.{field}"
                );
                assert!(
                    raw.iter().any(|g| g == field),
                    "the TOML grants {source}.{field}"
                );
                shown += 1;
            }
        }
        assert!(shown > 5, "the fire view shows fields: {shown}");
        assert!(
            view.html.contains("police_vulnerable"),
            "the withheld source is named"
        );
        assert!(
            !view.html.contains("financial_abuse"),
            "the police record itself is not shown"
        );
        assert_eq!(disclosures(&t.store).await, 2);
        t.finish().await;
    }
}

/// Audit entries that are not sign-ins: the disclosures.
async fn disclosures(store: &wherry_store::Store) -> usize {
    store
        .audit_log(0)
        .await
        .unwrap()
        .iter()
        .filter(|e| !e.action.starts_with("sign_in"))
        .count()
}

/// The fields and attributes `purpose` is granted by `source`'s manifest,
/// read from its TOML as text (not through the manifest types).
fn toml_grant(source: &str, purpose: &str) -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/sources")
        .join(format!("{source}.toml"));
    let doc: toml::Table = std::fs::read_to_string(path).unwrap().parse().unwrap();
    let grant = &doc["agreement"]["purposes"].get(purpose);
    ["fields", "attributes"]
        .iter()
        .filter_map(|k| grant.and_then(|g| g.get(k)).and_then(|v| v.as_array()))
        .flatten()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn behind_tls_the_session_cookie_is_secure() {
    let t = stores().await.into_iter().next().unwrap();
    t.store.migrate().await.unwrap();
    let mut state = AppState::new(t.store.clone(), None);
    state.secure_cookies = true;
    let state = Arc::new(state);
    let page = fetch(&state, "GET", "/sign-in", None, None).await;
    let cookie = page.headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let plain = Arc::new(AppState::new(t.store.clone(), None));
    let page = fetch(&plain, "GET", "/sign-in", None, None).await;
    assert!(
        !page.headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Secure")
    );
    t.finish().await;
}

/// A form's poster (token), path and fields.
type FormPost<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);

/// Every form, posted without a CSRF token and with another session's:
/// refused with the GOV.UK error page, and nothing done (no audit entry, no
/// decision, the session still signed in with its purpose).
#[tokio::test]
async fn every_form_refuses_a_missing_or_another_sessions_csrf_token() {
    let dir = tempfile::tempdir().unwrap();
    for t in stores().await {
        let [(advisor, _), ..] = hub(&t.store, dir.path()).await;
        let mut tokens = Vec::new();
        for (name, role) in [("sam", "steward"), ("dpo", "admin")] {
            let token = wherry_access::token::new_token().unwrap();
            let hash = wherry_access::token::token_hash(&token);
            assert!(t.store.add_user(name, role, &hash, &[]).await.unwrap());
            tokens.push(token);
        }
        // The police record on a person of its own: an item whose records
        // are already together has nothing to decide.
        crate::access::police_apart(&t.store, vec![crate::access::fire_police_item(0.7, "{}")])
            .await;
        let state = Arc::new(AppState::new(t.store.clone(), None));
        let (other_session, other_csrf) = sign_in(&state, &advisor).await;
        assert!(!other_session.is_empty());

        let forms: [FormPost; 5] = [
            (&advisor, "/search", &[("name", "Thrower")]),
            (&advisor, "/purpose", &[("purpose", "contact_centre")]),
            (
                &tokens[0],
                "/review/1",
                &[("decision", "accept"), ("reason", "x")],
            ),
            (&tokens[1], "/audit/verify", &[]),
            (&advisor, "/sign-out", &[]),
        ];
        let mut checked = 0;
        for (token, path, fields) in forms {
            let (session, own) = sign_in(&state, token).await;
            assert_ne!(own, other_csrf);
            for csrf in [None, Some(other_csrf.as_str())] {
                let mut form: Vec<(&str, &str)> = fields.to_vec();
                if let Some(c) = csrf {
                    form.push(("csrf", c));
                }
                let audited = t.store.audit_log(0).await.unwrap().len();
                let page = fetch(&state, "POST", path, Some(&session), Some(&form)).await;
                assert_eq!(
                    page.status,
                    StatusCode::FORBIDDEN,
                    "{}: {path} {csrf:?}",
                    t.name
                );
                assert!(
                    page.html.contains("This form could not be accepted"),
                    "{path}: {}",
                    page.html
                );
                assert_eq!(
                    t.store.audit_log(0).await.unwrap().len(),
                    audited,
                    "{}: {path}: nothing audited, nothing disclosed",
                    t.name
                );
                let still = fetch(&state, "GET", "/search", Some(&session), None).await;
                assert_eq!(
                    still.status,
                    StatusCode::OK,
                    "{}: {path}: still signed in",
                    t.name
                );
                checked += 1;
            }
        }
        assert_eq!(checked, 10);
        let open = t
            .store
            .review_items(Some(wherry_store::ReviewStatus::Open))
            .await
            .unwrap();
        assert_eq!(open.len(), 1, "{}: the review item is still open", t.name);
        assert!(t.store.decisions().await.unwrap().is_empty());

        // The sign-in form: its own cookie's token, not another's.
        let form = fetch(&state, "GET", "/sign-in", None, None).await;
        let pending = format!("wherry_sign_in={}", cookie_of(&form));
        for csrf in [None, Some(other_csrf.as_str())] {
            let mut fields = vec![("token", advisor.as_str())];
            if let Some(c) = csrf {
                fields.push(("csrf", c));
            }
            let page = fetch(&state, "POST", "/sign-in", Some(&pending), Some(&fields)).await;
            assert_eq!(
                page.status,
                StatusCode::FORBIDDEN,
                "{}: sign-in {csrf:?}",
                t.name
            );
            assert!(page.headers.get("location").is_none(), "not signed in");
        }
        t.finish().await;
    }
}
