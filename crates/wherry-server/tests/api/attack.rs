//! Regression tests for the findings of the attack on the running hub
//! (issue 12), one or more per finding, each named after it and each
//! through the router (HTTP requests and responses) on every backend
//! where storage is involved.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use wherry_server::{AppState, app};
use wherry_store::testing::stores;

/// Sends `req`: status, headers and body text.
pub async fn raw(
    state: &Arc<AppState>,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let res = app(state.clone()).oneshot(req).await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

#[tokio::test]
async fn finding_08_invented_methods_do_not_grow_metrics_and_a_token_can_guard_them() {
    let t = stores().await.into_iter().next().unwrap();
    t.store.migrate().await.unwrap();
    let state = Arc::new(AppState::new(t.store.clone(), None));
    for i in 0..200 {
        let req = Request::builder()
            .method(format!("BREW{i}").as_str())
            .uri(format!("/no/such/path/{i}"))
            .body(Body::empty())
            .unwrap();
        raw(&state, req).await;
    }
    let get = |auth: Option<&str>| {
        let mut r = Request::get("/metrics");
        if let Some(a) = auth {
            r = r.header("authorization", format!("Bearer {a}"));
        }
        r.body(Body::empty()).unwrap()
    };
    let (status, _, text) = raw(&state, get(None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!text.contains("BREW"), "an invented method is no label");
    let series = text
        .lines()
        .filter(|l| l.starts_with("wherry_http_requests_total{"))
        .collect::<Vec<_>>();
    assert_eq!(series.len(), 1, "{series:?}");
    assert!(
        series[0].contains("method=\"other\",route=\"unmatched\"") && series[0].ends_with(" 200"),
        "{series:?}"
    );

    let mut guarded = AppState::new(t.store.clone(), None);
    guarded.metrics_token = Some("s3cret-metrics".into());
    let guarded = Arc::new(guarded);
    for auth in [None, Some("wrong"), Some("s3cret-metric")] {
        let (status, _, body) = raw(&guarded, get(auth)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert!(!body.contains("wherry_http"), "{body}");
    }
    let (status, _, text) = raw(&guarded, get(Some("s3cret-metrics"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("wherry_http_requests_total"), "{text}");
    t.finish().await;
}

#[tokio::test]
async fn finding_15_hsts_when_cookies_are_secure_and_secure_is_the_default_outside_the_demo() {
    let t = stores().await.into_iter().next().unwrap();
    t.store.migrate().await.unwrap();
    let config = wherry_server::config::Config::parse("").unwrap();
    assert!(
        config.secure_cookies(),
        "secure unless configured otherwise"
    );
    let plain = wherry_server::config::Config::parse("secure_cookies = false").unwrap();
    assert!(!plain.secure_cookies());
    for secure in [true, false] {
        let mut state = AppState::new(t.store.clone(), None);
        state.secure_cookies = secure;
        let state = Arc::new(state);
        for uri in ["/sign-in", "/healthz", "/api/v1/residents"] {
            let (_, headers, _) = raw(&state, Request::get(uri).body(Body::empty()).unwrap()).await;
            let hsts = headers
                .get("strict-transport-security")
                .map(|v| v.to_str().unwrap().to_string());
            if secure {
                let hsts = hsts.unwrap_or_else(|| panic!("{uri}: no HSTS"));
                assert!(hsts.contains("max-age=31536000"), "{hsts}");
            } else {
                assert_eq!(hsts, None, "{uri}: HSTS over plain HTTP");
            }
        }
    }
    t.finish().await;
}

/// A user added straight to the store: their token.
pub async fn user(store: &wherry_store::Store, name: &str, role: &str, sources: &[&str]) -> String {
    let token = wherry_access::token::new_token().unwrap();
    let hash = wherry_access::token::token_hash(&token);
    let sources: Vec<String> = sources.iter().map(|s| s.to_string()).collect();
    assert!(store.add_user(name, role, &hash, &sources).await.unwrap());
    token
}

#[tokio::test]
async fn finding_02_a_partner_system_pushes_only_for_its_own_sources() {
    use crate::push::{GP, linked, person_of, push, with_matcher};
    for t in stores().await {
        let (gp_system, _, patient) = linked(&t.store).await;
        let police = user(
            &t.store,
            "police-system",
            "partner_system",
            &["police_vulnerable"],
        )
        .await;
        let unbound = user(&t.store, "old-system", "partner_system", &[]).await;
        let state = with_matcher(&t.store).await;
        let theirs = person_of(&t.store, &patient).await;
        let record = patient["id"].as_str().unwrap();
        let key = wherry_store::RecordKey::new(GP, record);
        let before = t.store.versions(GP, record).await.unwrap();

        let mut forged = patient.clone();
        forged["telecom"] = serde_json::json!([{"system": "phone", "value": "07700 900999"}]);
        for token in [&police, &unbound] {
            let (status, body) = push(&state, GP, token, forged.to_string()).await;
            assert_eq!(
                (status, body["error"].as_str()),
                (StatusCode::FORBIDDEN, Some("source_not_allowed")),
                "{}: {body}",
                t.name
            );
            let event = serde_json::json!({"record_id": record, "date": "2026-11-01",
                "service": "Custody", "contact_type": "arrest", "practitioner": "PC Forge"});
            let (status, body) = crate::call(
                &state,
                "POST",
                &format!("/api/v1/sources/{GP}/events"),
                token,
                "direct_care",
                Some(event),
            )
            .await;
            assert_eq!(
                (status, body["error"].as_str()),
                (StatusCode::FORBIDDEN, Some("source_not_allowed")),
                "{body}"
            );
        }
        assert_eq!(
            t.store.versions(GP, record).await.unwrap(),
            before,
            "{}: the GP record is as it was",
            t.name
        );
        assert!(
            t.store
                .person_events(&theirs)
                .await
                .unwrap()
                .iter()
                .all(|e| e.practitioner != "PC Forge")
        );
        assert_eq!(
            t.store.person_of(&key).await.unwrap().as_deref(),
            Some(theirs.as_str())
        );
        assert!(
            t.store.audit_log(0).await.unwrap().is_empty(),
            "nothing was pushed"
        );
        // The GP practices' own system still pushes for them.
        let (status, body) = push(&state, GP, &gp_system, forged.to_string()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        t.finish().await;
    }
}

/// The sessions' findings need a server state on a manual clock.
fn state_on(store: &wherry_store::Store, clock: &wherry_core::clock::Clock) -> Arc<AppState> {
    Arc::new(AppState::with_policy(
        store.clone(),
        wherry_access::Policy::default(),
        None,
        clock.clone(),
    ))
}

#[tokio::test]
async fn finding_01_a_disabled_or_re_roled_user_loses_sessions_and_tokens_at_once_and_sessions_end_after_eight_hours()
 {
    use crate::ui::{fetch, sign_in};
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    for t in stores().await {
        let [(advisor, _), (fire, _), ..] = crate::access::hub(&t.store, dir.path()).await;
        let fay = user(&t.store, "fay", "fire_prevention", &[]).await;
        let clock = wherry_core::clock::Clock::manual();
        let state = state_on(&t.store, &clock);
        let page = format!("/residents/{}", crate::access::PERSON);

        // Disabled: the open session ends at once; the token within 10 s.
        let (session, _) = sign_in(&state, &advisor).await;
        assert_eq!(
            fetch(&state, "GET", &page, Some(&session), None)
                .await
                .status,
            StatusCode::OK
        );
        let (status, _) = crate::call(
            &state,
            "GET",
            "/api/v1/residents/P000000001",
            &advisor,
            "contact_centre",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(t.store.disable_user("ann").await.unwrap());
        let after = fetch(&state, "GET", &page, Some(&session), None).await;
        assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{}", t.name);
        assert!(
            after.html.contains("Your session has ended"),
            "{}",
            after.html
        );
        clock.advance(wherry_server::identity::TOKEN_TTL);
        let (status, _) = crate::call(
            &state,
            "GET",
            "/api/v1/residents/P000000001",
            &advisor,
            "contact_centre",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        // Another role: the session made under the old one ends.
        let (session, _) = sign_in(&state, &fire).await;
        assert!(t.store.set_user_role("fred", "advisor").await.unwrap());
        let after = fetch(&state, "GET", "/search", Some(&session), None).await;
        assert_eq!(after.status, StatusCode::UNAUTHORIZED);

        // Busy all day: the session still ends 8 hours after sign-in.
        let (session, _) = sign_in(&state, &fay).await;
        for _ in 0..(8 * 60 / 20) {
            clock.advance(Duration::from_secs(20 * 60));
            let p = fetch(&state, "GET", "/search", Some(&session), None).await;
            if p.status != StatusCode::OK {
                panic!("{}: ended early: {}", t.name, p.status);
            }
        }
        clock.advance(Duration::from_secs(1));
        let p = fetch(&state, "GET", "/search", Some(&session), None).await;
        assert_eq!(p.status, StatusCode::UNAUTHORIZED, "past 8 hours");

        // Idle for 30 minutes: ended.
        let (session, _) = sign_in(&state, &fay).await;
        clock.advance(Duration::from_secs(30 * 60 + 1));
        let p = fetch(&state, "GET", "/search", Some(&session), None).await;
        assert_eq!(p.status, StatusCode::UNAUTHORIZED);
        t.finish().await;
    }
}

#[tokio::test]
async fn finding_10_the_sign_in_page_stores_nothing_and_a_session_is_made_only_on_sign_in() {
    use crate::ui::{fetch, sign_in};
    let dir = tempfile::tempdir().unwrap();
    for t in stores().await {
        let [(advisor, _), ..] = crate::access::hub(&t.store, dir.path()).await;
        let state = Arc::new(AppState::new(t.store.clone(), None));
        for _ in 0..500 {
            let p = fetch(&state, "GET", "/sign-in", None, None).await;
            assert_eq!(p.status, StatusCode::OK);
        }
        // Wrong tokens and forged forms make nothing either.
        let p = fetch(
            &state,
            "POST",
            "/sign-in",
            Some("wherry_sign_in=abc"),
            Some(&[("csrf", "abc"), ("token", "nope")]),
        )
        .await;
        assert_eq!(p.status, StatusCode::UNAUTHORIZED);
        assert_eq!(t.store.session_count().await.unwrap(), 0, "{}", t.name);
        sign_in(&state, &advisor).await;
        assert_eq!(t.store.session_count().await.unwrap(), 1);
        t.finish().await;
    }
}

#[tokio::test]
async fn sessions_live_in_the_store_so_two_servers_share_them_and_a_restart_keeps_them() {
    use crate::ui::{csrf_of, fetch, sign_in};
    let dir = tempfile::tempdir().unwrap();
    for t in stores().await {
        let [(_, _), (fire, _), ..] = crate::access::hub(&t.store, dir.path()).await;
        let one = Arc::new(AppState::new(t.store.clone(), None));
        let two = Arc::new(AppState::new(t.store.clone(), None));
        let (session, csrf) = sign_in(&one, &fire).await;
        let page = format!("/residents/{}", crate::access::PERSON);
        let p = fetch(&two, "GET", &page, Some(&session), None).await;
        assert_eq!(p.status, StatusCode::OK, "{}: {}", t.name, p.html);
        assert_eq!(csrf_of(&p.html), csrf, "one session, one CSRF token");
        drop(one);
        let restarted = Arc::new(AppState::new(t.store.clone(), None));
        let p = fetch(&restarted, "GET", "/search", Some(&session), None).await;
        assert_eq!(p.status, StatusCode::OK);
        // Signed out through one: ended for the other at once.
        let out = fetch(
            &two,
            "POST",
            "/sign-out",
            Some(&session),
            Some(&[("csrf", &csrf)]),
        )
        .await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        let p = fetch(&restarted, "GET", "/search", Some(&session), None).await;
        assert_eq!(p.status, StatusCode::UNAUTHORIZED);
        assert_eq!(t.store.session_count().await.unwrap(), 0);
        t.finish().await;
    }
}

/// A GET of `uri` from client address `ip` with a bearer token and purpose.
fn get_from(ip: [u8; 4], uri: &str, token: Option<&str>, purpose: Option<&str>) -> Request<Body> {
    let mut r = Request::get(uri);
    if let Some(t) = token {
        r = r.header("authorization", format!("Bearer {t}"));
    }
    if let Some(p) = purpose {
        r = r.header("wherry-purpose", p);
    }
    let mut r = r.body(Body::empty()).unwrap();
    let addr = std::net::SocketAddr::from((ip, 40000));
    r.extensions_mut().insert(axum::extract::ConnectInfo(addr));
    r
}

#[tokio::test]
async fn finding_05_refused_requests_are_in_the_security_log_and_counted_without_the_data_asked_for()
 {
    use crate::access::PERSON;
    let dir = tempfile::tempdir().unwrap();
    for t in stores().await {
        let [(advisor, _), ..] = crate::access::hub(&t.store, dir.path()).await;
        let admin = user(&t.store, "dpo", "admin", &[]).await;
        let state = Arc::new(AppState::new(t.store.clone(), None));
        let ip = [192, 0, 2, 7];
        let resident = format!("/api/v1/residents/{PERSON}");
        let search = "/api/v1/residents?name=Thrower&date_of_birth=1948-03-07";
        for (req, status) in [
            (get_from(ip, &resident, None, None), 401),
            (
                get_from(ip, &resident, Some("wherry_guess"), Some("contact_centre")),
                401,
            ),
            (
                get_from(ip, &resident, Some(&advisor), Some("safeguarding")),
                403,
            ),
            (
                get_from(ip, "/api/v1/review", Some(&advisor), Some("contact_centre")),
                403,
            ),
            (get_from(ip, search, Some(&advisor), None), 400),
        ] {
            let (s, _, _) = raw(&state, req).await;
            assert_eq!(s.as_u16(), status);
        }
        let log = t.store.refusals(100).await.unwrap();
        assert_eq!(log.len(), 5, "{}: {log:?}", t.name);
        let text = format!("{log:?}");
        assert!(
            !text.contains(PERSON) && !text.contains("Thrower") && !text.contains("1948"),
            "{text}"
        );
        assert!(log.iter().all(|r| r.address == "192.0.2.7"));
        let codes: Vec<(&str, Option<&str>, &str)> = log
            .iter()
            .rev()
            .map(|r| (r.code.as_str(), r.user_name.as_deref(), r.route.as_str()))
            .collect();
        assert_eq!(
            codes,
            [
                ("unauthorised", None, "/api/v1/residents/{id}"),
                ("unauthorised", None, "/api/v1/residents/{id}"),
                ("purpose_not_allowed", Some("ann"), "/api/v1/residents/{id}"),
                ("role_not_allowed", Some("ann"), "/api/v1/review"),
                ("purpose_required", Some("ann"), "/api/v1/residents"),
            ]
        );
        let (_, _, metrics) = raw(
            &state,
            Request::get("/metrics").body(Body::empty()).unwrap(),
        )
        .await;
        for line in [
            "wherry_security_refusals_total{status=\"401\"} 2",
            "wherry_security_refusals_total{status=\"403\"} 2",
            "wherry_security_refusals_total{status=\"400\"} 1",
        ] {
            assert!(metrics.contains(line), "{line}: {metrics}");
        }
        // The administrator reads it in the browser; nobody else does.
        let (session, _) = crate::ui::sign_in(&state, &admin).await;
        let page = crate::ui::fetch(&state, "GET", "/security", Some(&session), None).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(
            page.html.matches("purpose_not_allowed").count(),
            1,
            "{}",
            page.html
        );
        assert!(page.html.contains("192.0.2.7") && page.html.contains("ann"));
        let (session, _) = crate::ui::sign_in(&state, &advisor).await;
        let page = crate::ui::fetch(&state, "GET", "/security", Some(&session), None).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(!page.html.contains("192.0.2.7"));
        t.finish().await;
    }
}

#[tokio::test]
async fn finding_13_failed_token_guesses_are_limited_per_address() {
    let dir = tempfile::tempdir().unwrap();
    let t = stores().await.into_iter().next().unwrap();
    let [(advisor, _), ..] = crate::access::hub(&t.store, dir.path()).await;
    let state = Arc::new(AppState::new(t.store.clone(), None));
    let uri = format!("/api/v1/residents/{}", crate::access::PERSON);
    let guesser = [198, 51, 100, 9];
    let burst = wherry_access::limits::AUTH_FAILURES.burst;
    for i in 0..burst {
        let guess = format!("wherry_{i:064}");
        let (s, _, _) = raw(
            &state,
            get_from(guesser, &uri, Some(&guess), Some("contact_centre")),
        )
        .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "guess {i}");
    }
    for token in ["wherry_one_more", advisor.as_str()] {
        let (s, headers, body) = raw(
            &state,
            get_from(guesser, &uri, Some(token), Some("contact_centre")),
        )
        .await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert!(body.contains("too_many_failures"), "{body}");
        assert!(headers.contains_key("retry-after"));
    }
    // Another address is not held back, and a success costs nothing.
    for _ in 0..(burst * 2) {
        let (s, _, _) = raw(
            &state,
            get_from(
                [203, 0, 113, 4],
                &uri,
                Some(&advisor),
                Some("contact_centre"),
            ),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
    }
    // The web sign-in counts the same failures.
    let form = crate::ui::fetch(&state, "GET", "/sign-in", None, None).await;
    let csrf = crate::ui::csrf_of(&form.html);
    let mut req = Request::post("/sign-in")
        .header("cookie", format!("wherry_sign_in={csrf}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!("csrf={csrf}&token={advisor}")))
        .unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            guesser, 1,
        ))));
    let (s, _, html) = raw(&state, req).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert!(html.contains("Too many tokens"), "{html}");
    t.finish().await;
}

#[tokio::test]
async fn finding_11_pushed_fields_have_limits_and_only_json_is_taken() {
    use crate::push::{GP, linked, with_matcher};
    use serde_json::json;
    for t in stores().await {
        let (gp_system, _, patient) = linked(&t.store).await;
        let care_system = user(&t.store, "care-system", "partner_system", &["social_care"]).await;
        let state = with_matcher(&t.store).await;
        let with = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut p = patient.clone();
            p["id"] = json!("attack-1");
            f(&mut p);
            p.to_string()
        };
        let cases: Vec<(&str, String, &str, &str)> = vec![
            (
                "a 900 KB address",
                with(&|p| p["address"][0]["line"] = json!(["x".repeat(900_000)])),
                "address",
                "too_long",
            ),
            (
                "150,000 given names",
                with(&|p| p["name"][0]["given"] = json!(vec!["a"; 150_000])),
                "middle_names",
                "too_long",
            ),
            (
                "a NUL",
                with(&|p| p["name"][0]["family"] = json!("Thr\u{0}ower")),
                "family_name",
                "control_character",
            ),
            (
                "CR/LF",
                with(&|p| p["address"][0]["line"] = json!(["1 High St\r\nEvil: yes"])),
                "address",
                "control_character",
            ),
            (
                "a right-to-left override",
                with(&|p| p["name"][0]["family"] = json!("Smith\u{202E}htimS")),
                "family_name",
                "bidi_control",
            ),
            (
                "a duplicate key",
                with(&|_| {}).replacen(
                    "\"id\":\"attack-1\"",
                    "\"id\":\"attack-1\",\"id\":\"P-other\"",
                    1,
                ),
                "the record",
                "malformed_json",
            ),
            (
                "an over-long id",
                with(&|p| p["id"] = json!("x".repeat(200))),
                "record_id",
                "too_long",
            ),
        ];
        for (what, body, field, code) in cases {
            assert!(
                body.len() < wherry_server::MAX_BODY,
                "{what}: under the body limit"
            );
            let (status, b) = crate::push::push(&state, GP, &gp_system, body).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {b}");
            let message = b["message"].as_str().unwrap();
            assert!(
                message.starts_with(&format!("{field}: {code}")),
                "{what}: {message}"
            );
        }
        // An array where one value belongs, in a partner's own layout.
        let row = json!({"person_id": "S-attack", "forename": vec!["Ann"; 1000], "surname": "Smith", "date_of_birth": "01/02/1950"});
        let (status, b) =
            crate::push::push(&state, "social_care", &care_system, row.to_string()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(
            b["message"]
                .as_str()
                .unwrap()
                .starts_with("forename: not_a_value"),
            "{b}"
        );
        // Not JSON by its content type: 415, whatever the body.
        let body = Some(("text/plain", with(&|_| {})));
        let (status, b) = crate::call_raw(
            &state,
            "POST",
            &format!("/api/v1/sources/{GP}/records"),
            &gp_system,
            "direct_care",
            body,
        )
        .await;
        assert_eq!(
            (status, b["error"].as_str()),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("json_required"))
        );
        assert!(
            t.store.versions(GP, "attack-1").await.unwrap().is_empty(),
            "{}: nothing stored",
            t.name
        );
        assert!(t.store.audit_log(0).await.unwrap().is_empty());
        // A name in another script is taken.
        let fine = with(&|p| p["name"][0]["family"] = json!("Ó Súilleabháin-Łukasz"));
        let (status, b) = crate::push::push(&state, GP, &gp_system, fine).await;
        assert!(status.is_success(), "{b}");
        t.finish().await;
    }
}

#[tokio::test]
async fn finding_12_break_glass_needs_a_real_fresh_reason_an_allowed_purpose_and_the_officers_sign_off()
 {
    use crate::access::PERSON;
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    for t in stores().await {
        let [(advisor, _), ..] = crate::access::hub(&t.store, dir.path()).await;
        let admin = user(&t.store, "dpo", "admin", &[]).await;
        let clock = wherry_core::clock::Clock::manual();
        let state = state_on(&t.store, &clock);
        let uri = format!("/api/v1/residents/{PERSON}");
        let glass = |purpose: &str, reason: &str| {
            Request::get(&uri)
                .header("authorization", format!("Bearer {advisor}"))
                .header("wherry-purpose", purpose)
                .header("wherry-break-glass", reason)
                .body(Body::empty())
                .unwrap()
        };
        let reason = "caller reports her neighbour has not been seen for days";
        for (purpose, why, status, code) in [
            ("safeguarding", ".", 400, "break_glass_reason"),
            ("safeguarding", "child at risk", 400, "break_glass_reason"),
            (
                "safeguarding",
                "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                400,
                "break_glass_reason",
            ),
            ("research", reason, 403, "break_glass_purpose"),
            ("fire_prevention", reason, 403, "break_glass_purpose"),
        ] {
            let (s, _, body) = raw(&state, glass(purpose, why)).await;
            assert_eq!(s.as_u16(), status, "{purpose} {why:?}: {body}");
            assert!(body.contains(code), "{body}");
        }
        assert!(
            t.store.audit_log(0).await.unwrap().is_empty(),
            "nothing disclosed"
        );
        // One emergency: several requests under one reason, one override.
        for _ in 0..3 {
            let (s, _, body) = raw(&state, glass("safeguarding", reason)).await;
            assert_eq!(s, StatusCode::OK, "{}: {body}", t.name);
            clock.advance(Duration::from_secs(60));
        }
        // The same words, hours later: refused; a new reason: a new override.
        clock.advance(Duration::from_secs(2 * 3600));
        let (s, _, body) = raw(&state, glass("safeguarding", reason)).await;
        assert_eq!(
            (s, body.contains("break_glass_repeat")),
            (StatusCode::BAD_REQUEST, true),
            "{body}"
        );
        let (s, _, _) = raw(
            &state,
            glass(
                "safeguarding",
                "police asked about a missing person at this address",
            ),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let awaiting = t.store.break_glass_overrides(true, 10).await.unwrap();
        assert_eq!(awaiting.len(), 2, "{}: {awaiting:?}", t.name);
        assert_eq!((awaiting[1].reason.as_str(), awaiting[1].uses), (reason, 3));

        // The officer signs them off in the browser; a note is required.
        let (session, csrf) = crate::ui::sign_in(&state, &admin).await;
        let page = crate::ui::fetch(&state, "GET", "/break-glass", Some(&session), None).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.html.contains(reason) && page.html.contains("Sign off override"),
            "{}",
            page.html
        );
        let id = awaiting[1].id.to_string();
        let path = format!("/break-glass/{id}");
        // No number: a plain 404 page; a number that is no override's: said.
        let form: &[(&str, &str)] = &[("csrf", &csrf), ("note", "Checked: justified.")];
        let page =
            crate::ui::fetch(&state, "POST", "/break-glass/x", Some(&session), Some(form)).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{}", page.html);
        let page = crate::ui::fetch(
            &state,
            "POST",
            "/break-glass/999999",
            Some(&session),
            Some(form),
        )
        .await;
        assert!(
            page.html
                .contains("Override 999999 was not awaiting sign-off"),
            "{}",
            page.html
        );
        let empty = crate::ui::fetch(
            &state,
            "POST",
            &path,
            Some(&session),
            Some(&[("csrf", &csrf), ("note", " ")]),
        )
        .await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        let done = crate::ui::fetch(
            &state,
            "POST",
            &path,
            Some(&session),
            Some(&[
                ("csrf", &csrf),
                ("note", "Checked with the team leader: justified."),
            ]),
        )
        .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.html);
        assert!(done.html.contains(&format!("Override {id} is signed off")));
        let awaiting = t.store.break_glass_overrides(true, 10).await.unwrap();
        assert_eq!(awaiting.len(), 1);
        let all = t.store.break_glass_overrides(false, 10).await.unwrap();
        assert_eq!(all[1].signed_off_by.as_deref(), Some("dpo"));
        // Only the admin reviews.
        let (session, _) = crate::ui::sign_in(&state, &advisor).await;
        let page = crate::ui::fetch(&state, "GET", "/break-glass", Some(&session), None).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);

        // A council that lets advisors override into nothing.
        let policy = wherry_server::config::Config::parse("[break_glass]\nadvisor = []")
            .unwrap()
            .policy()
            .unwrap();
        let strict = Arc::new(AppState::with_policy(
            t.store.clone(),
            policy,
            None,
            clock.clone(),
        ));
        let (s, _, body) = raw(
            &strict,
            glass("safeguarding", "a brand new reason for this one request"),
        )
        .await;
        assert_eq!(
            (s, body.contains("break_glass_purpose")),
            (StatusCode::FORBIDDEN, true)
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn finding_07_an_erasure_needs_a_reason_leaves_no_bytes_behind_and_is_done_once() {
    use crate::access::PERSON;
    use serde_json::json;
    let dir = tempfile::tempdir().unwrap();
    for t in stores().await {
        crate::access::hub(&t.store, dir.path()).await;
        let admin = user(&t.store, "dpo", "admin", &[]).await;
        let state = Arc::new(AppState::new(t.store.clone(), None));
        let uri = format!("/api/v1/residents/{PERSON}/erasure");
        let erase = |body: Option<serde_json::Value>| {
            crate::call(&state, "POST", &uri, &admin, "subject_rights", body)
        };
        for body in [None, Some(json!({})), Some(json!({"reason": "  ok  "}))] {
            let (status, b) = erase(body.clone()).await;
            assert!(status.is_client_error(), "{body:?}: {b}");
        }
        assert!(
            t.store.audit_log(0).await.unwrap().is_empty(),
            "{}: nothing erased",
            t.name
        );
        let why = json!({"reason": "the resident's request under Article 17, ref 2026/88"});
        let (status, b) = erase(Some(why.clone())).await;
        assert_eq!(status, StatusCode::OK, "{b}");
        assert_eq!(
            (b["records_erased"].as_u64(), b["reclaimed"].as_bool()),
            (Some(3), Some(true))
        );
        let (status, again) = erase(Some(why)).await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(
            (
                again["records_erased"].as_u64(),
                again["already_erased"].as_bool()
            ),
            (Some(0), Some(true))
        );
        let tombstones = t
            .store
            .audit_log(0)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "erasure")
            .count();
        assert_eq!(tombstones, 1, "a second erasure is no second tombstone");
        if t.name == "sqlite" {
            // The file and its write-ahead log hold none of the erased
            // record's values (the fixture's email, street and NHS number).
            let path = t.url.trim_start_matches("sqlite://").to_string();
            let main = std::fs::read(&path).unwrap();
            assert!(main.len() > 4096, "{path}: the store's file");
            for file in [path.clone(), format!("{path}-wal")] {
                // The log may be gone or empty: that is what is wanted.
                let bytes = std::fs::read(&file).unwrap_or_default();
                for needle in ["m@example.org", "Abbey Place", "9434765919", "Thrower"] {
                    let found = bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
                    assert!(!found, "{file} still holds {needle:?}");
                }
            }
        }
        t.finish().await;
    }
}

#[tokio::test]
async fn finding_06_every_disclosure_names_its_person_search_results_and_the_audit_page_included() {
    use crate::push::{linked, person_of, with_matcher};
    for t in stores().await {
        let (_, advisor, patient) = linked(&t.store).await;
        let admin = user(&t.store, "dpo", "admin", &[]).await;
        let state = with_matcher(&t.store).await;
        let theirs = person_of(&t.store, &patient).await;
        let name = format!(
            "{} {}",
            patient["name"][0]["given"][0].as_str().unwrap(),
            patient["name"][0]["family"].as_str().unwrap()
        );
        let dob = patient["birthDate"].as_str().unwrap();
        let q: String = format!("name={}&dob={dob}", name.replace(' ', "%20"));
        let (status, body) = crate::call(
            &state,
            "GET",
            &format!("/api/v1/residents?{q}"),
            &advisor,
            "contact_centre",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let returned: Vec<&str> = body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["person"].as_str().unwrap())
            .collect();
        assert!(returned.contains(&theirs.as_str()), "{}: {body}", t.name);
        let log = t.store.audit_log(0).await.unwrap();
        let named: Vec<&str> = log
            .iter()
            .filter(|e| e.action == "search_result")
            .map(|e| e.person_id.as_deref().unwrap())
            .collect();
        assert_eq!(named, returned, "{}: each person returned is named", t.name);

        // The admin's audit page is itself audited, naming whom it was about.
        let (session, _) = crate::ui::sign_in(&state, &admin).await;
        let page = crate::ui::fetch(
            &state,
            "GET",
            &format!("/audit?resident={theirs}"),
            Some(&session),
            None,
        )
        .await;
        assert_eq!(page.status, StatusCode::OK);
        let last = t.store.audit_log(0).await.unwrap().pop().unwrap();
        assert_eq!(
            (
                last.action.as_str(),
                last.user_name.as_str(),
                last.person_id.as_deref()
            ),
            ("audit_view", "dpo", Some(theirs.as_str()))
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn finding_09_a_resident_is_opened_only_with_a_reason_on_record_and_bulk_reading_is_flagged()
{
    use crate::push::{linked, person_of};
    use std::time::Duration;
    for t in stores().await {
        let (gp_system, advisor, patient) = linked(&t.store).await;
        let theirs = person_of(&t.store, &patient).await;
        let clock = wherry_core::clock::Clock::manual();
        let matcher =
            wherry_hub::Matcher::open(t.store.clone(), wherry_link::ReviewRange::default())
                .await
                .unwrap();
        let state = Arc::new(AppState::with_policy(
            t.store.clone(),
            wherry_access::Policy::default(),
            Some(matcher),
            clock.clone(),
        ));
        let open = |token: &str, purpose: &str, person: &str| {
            let uri = format!("/api/v1/residents/{person}");
            let (token, purpose) = (token.to_string(), purpose.to_string());
            let state = state.clone();
            async move { crate::call(&state, "GET", &uri, &token, &purpose, None).await }
        };
        // Residents the fire service holds and does not, for a partner
        // system's rule.
        let fire_system = user(&t.store, "fire-system", "partner_system", &["fire_rescue"]).await;
        let (mut held, mut other) = (String::new(), String::new());
        for n in 1..400 {
            let p = format!("P{n:09}");
            let sources = t.store.person_sources(&p).await.unwrap();
            let fire = sources.iter().any(|s| s == "fire_rescue");
            if fire && held.is_empty() {
                held = p;
            } else if !fire && !sources.is_empty() && p != theirs && other.is_empty() {
                other = p;
            }
        }
        assert!(
            !held.is_empty() && !other.is_empty(),
            "{}: residents the fire service does and does not hold",
            t.name
        );

        // No reason: refused, and an id that is no one's is still 404.
        let (status, body) = open(&advisor, "contact_centre", &theirs).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::FORBIDDEN, Some("no_relationship")),
            "{}: {body}",
            t.name
        );
        let (status, _) = open(&advisor, "contact_centre", "P999999999").await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // A search that returned them is a reason, for 30 minutes.
        let name = format!(
            "{} {}",
            patient["name"][0]["given"][0].as_str().unwrap(),
            patient["name"][0]["family"].as_str().unwrap()
        );
        let q = format!(
            "/api/v1/residents?name={}&dob={}",
            name.replace(' ', "%20"),
            patient["birthDate"].as_str().unwrap()
        );
        let (status, found) =
            crate::call(&state, "GET", &q, &advisor, "contact_centre", None).await;
        assert_eq!(status, StatusCode::OK, "{found}");
        assert_eq!(
            open(&advisor, "contact_centre", &theirs).await.0,
            StatusCode::OK
        );
        assert_eq!(
            open(&advisor, "contact_centre", &other).await.0,
            StatusCode::FORBIDDEN,
            "not returned by the search"
        );
        clock.advance(Duration::from_secs(31 * 60));
        assert_eq!(
            open(&advisor, "contact_centre", &theirs).await.0,
            StatusCode::FORBIDDEN,
            "{}: 31 minutes later",
            t.name
        );
        // Breaking glass needs no relationship (it is reviewed instead).
        let req = Request::get(format!("/api/v1/residents/{other}"))
            .header("authorization", format!("Bearer {advisor}"))
            .header("wherry-purpose", "safeguarding")
            .header(
                "wherry-break-glass",
                "the police asked us to check on this resident tonight",
            )
            .body(Body::empty())
            .unwrap();
        assert_eq!(raw(&state, req).await.0, StatusCode::OK);

        // A team's caseload: one member adds, every member may open.
        let cath = user(&t.store, "cath", "caseworker", &[]).await;
        let carl = user(&t.store, "carl", "caseworker", &[]).await;
        let cleo = user(&t.store, "cleo", "caseworker", &[]).await;
        for who in ["cath", "carl"] {
            assert!(
                t.store
                    .set_user_team(who, "adult-care-north")
                    .await
                    .unwrap()
            );
        }
        let add = format!("/api/v1/caseload/{theirs}");
        let (status, body) = crate::call(&state, "POST", &add, &cath, "direct_care", None).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::FORBIDDEN, Some("no_relationship")),
            "{body}: add only whom you may open"
        );
        let (status, _) = crate::call(&state, "GET", &q, &cath, "direct_care", None).await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = crate::call(&state, "POST", &add, &cath, "direct_care", None).await;
        assert_eq!(
            (status, body["changed"].as_bool()),
            (StatusCode::OK, Some(true)),
            "{body}"
        );
        assert_eq!(
            open(&carl, "direct_care", &theirs).await.0,
            StatusCode::OK,
            "{}: a team mate",
            t.name
        );
        assert_eq!(
            open(&cleo, "direct_care", &theirs).await.0,
            StatusCode::FORBIDDEN,
            "another team"
        );
        let (_, list) = crate::call(
            &state,
            "GET",
            "/api/v1/caseload",
            &carl,
            "direct_care",
            None,
        )
        .await;
        assert_eq!(list["residents"][0]["person"], theirs.as_str());
        let (status, _) = crate::call(&state, "DELETE", &add, &carl, "direct_care", None).await;
        assert_eq!(status, StatusCode::OK);
        clock.advance(Duration::from_secs(31 * 60));
        assert_eq!(
            open(&carl, "direct_care", &theirs).await.0,
            StatusCode::FORBIDDEN,
            "taken off"
        );

        // A partner system: the persons its own source's records are with.
        assert_eq!(
            open(&gp_system, "direct_care", &theirs).await.0,
            StatusCode::OK
        );
        assert_eq!(
            open(&fire_system, "direct_care", &held).await.0,
            StatusCode::OK
        );
        assert_eq!(
            open(&fire_system, "direct_care", &other).await.0,
            StatusCode::FORBIDDEN
        );

        // The web UI is rate-limited as the API is.
        let mut limited = AppState::new(t.store.clone(), None);
        limited.limiter = wherry_access::limits::RateLimiter::new(wherry_access::limits::Limits {
            requests_per_second: 0.001,
            burst: 5,
        });
        let limited = Arc::new(limited);
        let fred = user(&t.store, "fay", "fire_prevention", &[]).await;
        let (session, _) = crate::ui::sign_in(&limited, &fred).await;
        let mut statuses = Vec::new();
        for _ in 0..8 {
            statuses.push(
                crate::ui::fetch(&limited, "GET", "/search", Some(&session), None)
                    .await
                    .status
                    .as_u16(),
            );
        }
        assert!(statuses.contains(&429), "{statuses:?}");

        // Bulk reading stands out on the officer's page.
        let admin = user(&t.store, "dpo", "admin", &[]).await;
        let view = |who: &str, n: usize| wherry_store::AuditEntry {
            user_name: who.into(),
            role: "advisor".into(),
            purpose: "contact_centre".into(),
            action: "view".into(),
            person_id: Some(format!("P{n:09}")),
            sources: "[]".into(),
            fields: "[]".into(),
            request_id: "r".into(),
            ..Default::default()
        };
        let mut entries: Vec<_> = (1..=120).map(|n| view("bulk-reader", n)).collect();
        entries.extend((1..=4).map(|n| view("amy", n)));
        entries.extend((1..=6).map(|n| view("ben", n)));
        state.access.record(entries).await.unwrap();
        let (session, _) = crate::ui::sign_in(&state, &admin).await;
        let page = crate::ui::fetch(&state, "GET", "/unusual", Some(&session), None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.html);
        assert!(
            page.html.contains("bulk-reader (advisor)")
                && page.html.contains("opened 120 residents"),
            "{}",
            page.html
        );
        assert!(
            !page
                .html
                .contains("amy (advisor)</td><td class=\"govuk-table__cell\">opened"),
            "peers are not flagged"
        );
        assert!(
            page.html.contains("broke glass into safeguarding"),
            "the override is flagged"
        );
        t.finish().await;
    }
}
