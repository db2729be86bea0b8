//! Issue 13's journeys through the router, on SQLite and PostgreSQL: every
//! page carries the phase banner and the footer's accessibility statement
//! and privacy notice (both open without signing in, the notice made from
//! the agreements the hub holds); an analyst lands on service activity in
//! aggregate, small counts suppressed, not on a search closed to them.

use std::sync::Arc;

use axum::http::StatusCode;
use wherry_core::Date;
use wherry_server::AppState;
use wherry_store::testing::stores;

use crate::manifest;
use crate::push::county;
use crate::ui::fetch;

/// Signs in with `token` and chooses `purpose`: the session cookie, and
/// where the choice led.
async fn signed_in_for(state: &Arc<AppState>, token: &str, purpose: &str) -> (String, String) {
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
async fn every_page_has_the_phase_banner_and_the_accessibility_and_privacy_links() {
    for t in stores().await {
        t.store.migrate().await.unwrap();
        let today = Date::new(2026, 11, 22).unwrap();
        let extracts = county().join("extracts");
        wherry_ingest::ingest(
            &t.store,
            &manifest("social_care"),
            &extracts.join("social_care.csv"),
            None,
            "test",
            today,
        )
        .await
        .unwrap();
        let state = Arc::new(AppState::new(t.store.clone(), None));
        for uri in ["/sign-in", "/privacy", "/accessibility"] {
            let page = fetch(&state, "GET", uri, None, None).await;
            assert_eq!(page.status, StatusCode::OK, "{uri}: {}", page.html);
            assert!(
                page.html.contains("id=\"phase-banner\"") && page.html.contains(">Beta<"),
                "{uri}: the phase banner"
            );
            assert!(
                page.html.contains("href=\"/accessibility\"")
                    && page.html.contains("href=\"/privacy\""),
                "{uri}: the footer's links"
            );
        }
        // The notice says what the social care agreement says, and only
        // partners the hub holds.
        let privacy = fetch(&state, "GET", "/privacy", None, None).await.html;
        assert!(
            privacy.contains("Norfolk County Council, Adult Social Services")
                && privacy.contains("Public task: UK GDPR Article 6(1)(e)")
                && privacy.contains("Health or social care: UK GDPR Article 9(2)(h)")
                && privacy.contains("8 years after")
                && privacy.contains("1 April 2027")
                && privacy.contains("Answering a resident&#x27;s call"),
            "{privacy}"
        );
        assert!(
            !privacy.contains("id=\"source-gp_registrations\""),
            "not loaded: {privacy}"
        );
        let accessibility = fetch(&state, "GET", "/accessibility", None, None)
            .await
            .html;
        assert!(
            accessibility.contains("WCAG 2.2") && accessibility.contains("Enforcement procedure")
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn an_analyst_lands_on_counts_by_service_and_month_with_small_counts_suppressed() {
    for t in stores().await {
        t.store.migrate().await.unwrap();
        let today = Date::new(2026, 11, 22).unwrap();
        let extracts = county().join("extracts");
        let r = wherry_ingest::ingest(
            &t.store,
            &manifest("social_care"),
            &extracts.join("social_care.csv"),
            Some(&extracts.join("social_care_events.csv")),
            "test",
            today,
        )
        .await
        .unwrap();
        assert!(r.events > 100, "{r:?}");
        let token = wherry_access::token::new_token().unwrap();
        let hash = wherry_access::token::token_hash(&token);
        t.store
            .add_user("ada", "analyst", &hash, &[])
            .await
            .unwrap();
        let state = Arc::new(AppState::new(t.store.clone(), None));
        let (session, to) = signed_in_for(&state, &token, "planning").await;
        assert_eq!(to, "/activity");
        let home = fetch(&state, "GET", "/", Some(&session), None).await;
        assert_eq!(home.headers["location"], "/activity");
        let page = fetch(&state, "GET", "/activity", Some(&session), None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.html);
        assert!(
            !page.html.contains("href=\"/search\""),
            "no Search in the navigation"
        );
        assert_eq!(page.html.matches("<h1").count(), 1, "one heading");
        // Counts per service and month, as the events file has them.
        let mut expected: std::collections::BTreeMap<(String, String), i64> = Default::default();
        let mut rdr = csv::Reader::from_path(extracts.join("social_care_events.csv")).unwrap();
        let h = rdr.headers().unwrap().clone();
        let at = |n: &str| h.iter().position(|x| x == n).unwrap();
        let (date, service) = (at("date"), at("service"));
        for row in rdr.records() {
            let row = row.unwrap();
            *expected
                .entry((row[date][..7].to_string(), row[service].to_string()))
                .or_default() += 1;
        }
        let newest = expected.keys().map(|(m, _)| m.clone()).max().unwrap();
        let (month, svc) = expected
            .keys()
            .find(|(m, _)| *m == newest)
            .cloned()
            .unwrap();
        let n = expected[&(month.clone(), svc.clone())];
        let shown = if n >= 5 {
            format!(">{n}</td>")
        } else {
            ">fewer than 5</td>".to_string()
        };
        assert!(
            page.html.contains(&shown),
            "{month} {svc} {n}: {}",
            page.html
        );
        assert!(
            page.html.contains("Older people&#x27;s team")
                || !expected.keys().any(|(_, s)| s == "older_people_team")
        );
        // No count of 1 to 4 is ever printed.
        for small in 1..5 {
            assert!(
                !page.html.contains(&format!("numeric\">{small}</td>")),
                "{small} shown"
            );
        }
        let log = t.store.audit_log(0).await.unwrap();
        assert!(
            log.iter().any(|e| e.action == "activity_view"
                && e.user_name == "ada"
                && e.person_id.is_none()),
            "audited"
        );
        t.finish().await;
    }
}

/// Issue 13, defect 4, end to end: each record's own change date goes from
/// the partner's extract to the golden record's provenance (not the load
/// time), and a value the sources disagree on is said plainly, in the API
/// and on the page.
#[tokio::test]
async fn defect_04_the_golden_record_shows_the_partners_change_date_and_says_when_sources_disagree()
{
    let dir = tempfile::tempdir().unwrap();
    for t in stores().await {
        let [_, _, (cath, _), _] = crate::access::hub(&t.store, dir.path()).await;
        let state = Arc::new(AppState::new(t.store.clone(), None));
        let uri = format!("/api/v1/residents/{}", crate::access::PERSON);
        let (status, view) =
            crate::call_raw(&state, "GET", &uri, &cath, "safeguarding", None).await;
        assert_eq!(status, StatusCode::OK, "{view}");
        let given = &view["golden_record"]["given_name"];
        // Social care (changed 1 October 2026) and the police (5 January
        // 2026) say Margaret; the fire service, last changed June 2025,
        // says Peggy.
        assert_eq!(given["value"], "Margaret", "{given}");
        assert_eq!(given["source"], "social_care");
        assert_eq!(
            given["changed_at"], "2026-10-01",
            "the partner's date: {given}"
        );
        assert_eq!(given["others"][0]["value"], "Peggy", "{given}");
        assert_eq!(given["others"][0]["sources"][0], "fire_rescue");
        assert!(
            view["golden_record"]["changed_at"].is_null(),
            "the change date is provenance, not a field: {view}"
        );
        // On the page.
        let (session, _) = signed_in_for(&state, &cath, "safeguarding").await;
        let page = fetch(
            &state,
            "GET",
            &format!("/residents/{}", crate::access::PERSON),
            Some(&session),
            None,
        )
        .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.html);
        assert!(
            page.html.contains(
                "Sources disagree.</strong> 2 sources say Margaret; Fire and rescue says Peggy."
            ),
            "{}",
            page.html
        );
        assert!(
            page.html
                .contains("changed by the partner on 1 October 2026"),
            "{}",
            page.html
        );
        // Sources shown whose agreements keep their contacts from the
        // purpose are named, so no one reads an empty timeline as "no
        // contact": for direct care, the fire service shares its fields
        // but not its contacts.
        let (status, view) = crate::call_raw(&state, "GET", &uri, &cath, "direct_care", None).await;
        assert_eq!(status, StatusCode::OK, "{view}");
        let withheld: Vec<&str> = view["contacts_withheld"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let expected: Vec<&str> = ["social_care", "fire_rescue", "police_vulnerable"]
            .into_iter()
            .filter(|s| {
                crate::manifest(s)
                    .agreement
                    .grant(wherry_core::Purpose::DirectCare)
                    .is_some_and(|g| !g.events && !g.fields.is_empty())
            })
            .collect();
        assert_eq!(expected, vec!["fire_rescue"], "the fixture's premise");
        assert_eq!(withheld, expected, "{view}");
        let direct = signed_in_for(&state, &cath, "direct_care").await.0;
        let page = fetch(
            &state,
            "GET",
            &format!("/residents/{}", crate::access::PERSON),
            Some(&direct),
            None,
        )
        .await;
        assert!(
            page.html
                .contains("Contacts recorded by Fire and rescue are not shown"),
            "{}",
            page.html
        );
        t.finish().await;
    }
}

/// The data protection officer's audit export: every entry the filter
/// matches as CSV, with the sources and fields each disclosed, and the
/// export itself audited.
#[tokio::test]
async fn the_admin_downloads_the_audit_log_as_csv_with_sources_and_fields() {
    let dir = tempfile::tempdir().unwrap();
    for t in stores().await {
        let [_, _, (cath, _), _] = crate::access::hub(&t.store, dir.path()).await;
        let token = wherry_access::token::new_token().unwrap();
        let hash = wherry_access::token::token_hash(&token);
        t.store.add_user("dpo", "admin", &hash, &[]).await.unwrap();
        let state = Arc::new(AppState::new(t.store.clone(), None));
        // Something to find: the caseworker opens the resident.
        let uri = format!("/api/v1/residents/{}", crate::access::PERSON);
        let (status, _) = crate::call_raw(&state, "GET", &uri, &cath, "safeguarding", None).await;
        assert_eq!(status, StatusCode::OK);
        let (session, _) = signed_in_for(&state, &token, "subject_rights").await;
        let before = t.store.audit_log(0).await.unwrap();
        let page = fetch(&state, "GET", "/audit.csv?user=cath", Some(&session), None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.html);
        assert_eq!(page.headers["content-type"], "text/csv; charset=utf-8");
        assert!(
            page.headers["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
        let mut rdr = csv::Reader::from_reader(page.html.as_bytes());
        assert_eq!(
            rdr.headers().unwrap().iter().collect::<Vec<_>>(),
            [
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
                "hash"
            ]
        );
        let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
        let cath_entries: Vec<_> = before.iter().filter(|e| e.user_name == "cath").collect();
        assert!(!cath_entries.is_empty());
        assert_eq!(rows.len(), cath_entries.len(), "every entry of the filter");
        let view = rows
            .iter()
            .find(|r| &r[5] == "view")
            .expect("the view is there");
        assert_eq!(&view[6], crate::access::PERSON);
        assert!(
            view[7].contains("social_care") && view[8].contains("given_name"),
            "{view:?}"
        );
        // The export is itself on record.
        let after = t.store.audit_log(0).await.unwrap();
        assert!(after.len() > before.len() && after.last().unwrap().action == "audit_view");
        t.finish().await;
    }
}
