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
        let (session, csrf) = {
            // sign_in ends on /search, which an analyst is refused: sign in
            // by hand and choose the planning purpose.
            let form = fetch(&state, "GET", "/sign-in", None, None).await;
            let pending = crate::ui::cookie_of(&form);
            let csrf = crate::ui::csrf_of(&form.html);
            let done = fetch(
                &state,
                "POST",
                "/sign-in",
                Some(&format!("wherry_sign_in={pending}")),
                Some(&[("csrf", &csrf), ("token", &token)]),
            )
            .await;
            let session = crate::ui::cookie_of(&done);
            let page = fetch(&state, "GET", "/purpose", Some(&session), None).await;
            (session, crate::ui::csrf_of(&page.html))
        };
        let chosen = fetch(
            &state,
            "POST",
            "/purpose",
            Some(&session),
            Some(&[("csrf", &csrf), ("purpose", "planning")]),
        )
        .await;
        assert_eq!(chosen.status, StatusCode::SEE_OTHER);
        assert_eq!(chosen.headers["location"], "/activity");
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
