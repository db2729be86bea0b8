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
        let token = crate::attack::user(&t.store, "ada", "analyst", &[]).await;
        let state = Arc::new(AppState::new(t.store.clone(), None));
        let (session, to) = crate::ui::signed_in_for(&state, &token, "planning").await;
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
            expected.keys().any(|(_, s)| s == "older_people_team"),
            "the fixture's premise"
        );
        assert!(
            page.html.contains("Older people&#x27;s team"),
            "labels, not codes"
        );
        // Every cell of the twelve newest months under 5 is suppressed, and
        // no count of 1 to 4 is printed.
        let mut months: Vec<&String> = expected.keys().map(|(m, _)| m).collect();
        months.sort();
        months.dedup();
        let shown: Vec<&String> = months.into_iter().rev().take(12).collect();
        let small = expected
            .iter()
            .filter(|((m, _), n)| shown.contains(&m) && **n < 5)
            .count();
        assert_eq!(page.html.matches("fewer than 5</td>").count(), small);
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
        let (session, _) = crate::ui::signed_in_for(&state, &cath, "safeguarding").await;
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
        let direct = crate::ui::signed_in_for(&state, &cath, "direct_care")
            .await
            .0;
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
        let token = crate::attack::user(&t.store, "dpo", "admin", &[]).await;
        let state = Arc::new(AppState::new(t.store.clone(), None));
        // Something to find: the caseworker opens the resident.
        let uri = format!("/api/v1/residents/{}", crate::access::PERSON);
        let (status, _) = crate::call_raw(&state, "GET", &uri, &cath, "safeguarding", None).await;
        assert_eq!(status, StatusCode::OK);
        let (session, _) = crate::ui::signed_in_for(&state, &token, "subject_rights").await;
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

/// The steward's journey: a queue with its count, pages, sorting and a
/// source filter; a pair aligned field by field; a decision without a
/// choice refused on the form; a decision confirmed; an extract's
/// quarantine as a page and a CSV for the partner; the data-quality page.
#[tokio::test]
async fn a_steward_pages_the_queue_decides_an_item_and_downloads_a_quarantine() {
    use wherry_store::{NewReviewItem, RecordKey};
    let dir = tempfile::tempdir().unwrap();
    for t in stores().await {
        crate::access::hub(&t.store, dir.path()).await;
        let token = crate::attack::user(&t.store, "sam", "steward", &[]).await;
        // The police record on a person of its own, with an item against
        // the fire record; and 30 more items between other sources.
        let mut review = vec![crate::access::fire_police_item(0.555, "{}")];
        for i in 0..30 {
            review.push(NewReviewItem {
                left: RecordKey::new("district_council", format!("D{i:02}")),
                right: RecordKey::new("libraries", format!("L{i:02}")),
                probability: 0.5 + f64::from(i) / 100.0,
                explanation: "{}".into(),
            });
        }
        crate::access::police_apart(&t.store, review).await;
        let state = Arc::new(AppState::new(t.store.clone(), None));
        let (session, _) = crate::ui::signed_in_for(&state, &token, "data_quality").await;
        let queue = |q: &'static str| {
            let state = state.clone();
            let session = session.clone();
            async move {
                fetch(&state, "GET", &format!("/review{q}"), Some(&session), None)
                    .await
                    .html
            }
        };
        let items = |html: &str| -> Vec<String> {
            html.split("<a class=\"govuk-link\" href=\"/review/")
                .skip(1)
                .map(|s| s.split('"').next().unwrap().to_string())
                .collect()
        };
        let first = queue("").await;
        assert!(first.contains("31 open items"), "{first}");
        let page1 = items(&first);
        assert_eq!(page1.len(), 25, "a page of 25");
        // Most likely first: the 0.79 item (the 30th of the district ones).
        let all = t
            .store
            .review_items(Some(wherry_store::ReviewStatus::Open))
            .await
            .unwrap();
        let best = all
            .iter()
            .max_by(|a, b| a.probability.total_cmp(&b.probability))
            .unwrap();
        assert_eq!(page1[0], best.id.to_string());
        assert!(first.contains("Page 1 of 2") && first.contains("rel=\"next\""));
        let second = queue("?page=2&sort=probability").await;
        assert_eq!(items(&second).len(), 6);
        assert!(second.contains("rel=\"prev\""));
        let bad = fetch(&state, "GET", "/review?page=two", Some(&session), None).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(
            bad.html.contains("a page is a whole number"),
            "{}",
            bad.html
        );
        let oldest = queue("?sort=oldest").await;
        let lowest = all.iter().map(|i| i.id).min().unwrap();
        assert_eq!(items(&oldest)[0], lowest.to_string());
        let fire = queue("?source=fire_rescue").await;
        assert!(fire.contains("1 open item"), "{fire}");
        assert!(
            fire.contains("Apart: link or keep apart"),
            "the item's state: {fire}"
        );
        let fire_item = items(&fire)[0].clone();

        // The pair, field by field.
        let item = fetch(
            &state,
            "GET",
            &format!("/review/{fire_item}"),
            Some(&session),
            None,
        )
        .await;
        assert_eq!(item.status, StatusCode::OK, "{}", item.html);
        let family = item
            .html
            .split("Family name</th>")
            .nth(1)
            .expect("a family name row");
        let family_row = family.split("</tr>").next().unwrap();
        assert!(
            family_row.matches("Thrower").count() == 2 && family_row.contains(">Same<"),
            "{family_row}"
        );
        // No decision: the form again, saying so, the reason kept.
        let csrf = crate::ui::csrf_of(&item.html);
        let refused = fetch(
            &state,
            "POST",
            &format!("/review/{fire_item}"),
            Some(&session),
            Some(&[
                ("csrf", &csrf),
                ("reason", "same address and date of birth"),
            ]),
        )
        .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert!(
            refused.html.contains("govuk-error-summary")
                && refused.html.contains("href=\"#decision\"")
                && refused
                    .html
                    .contains(">same address and date of birth</textarea>"),
            "{}",
            refused.html
        );
        // Decided: the queue, with the confirmation, one item fewer.
        let decided = fetch(
            &state,
            "POST",
            &format!("/review/{fire_item}"),
            Some(&session),
            Some(&[
                ("csrf", &csrf),
                ("decision", "accept"),
                ("reason", "same address and date of birth"),
            ]),
        )
        .await;
        assert_eq!(decided.status, StatusCode::SEE_OTHER);
        let to = decided.headers["location"].to_str().unwrap().to_string();
        let after = fetch(&state, "GET", &to, Some(&session), None).await.html;
        assert!(
            after.contains(&format!(
                "Item {fire_item} settled: the two records are now one resident."
            )) && after.contains("30 open items"),
            "{after}"
        );

        // A libraries extract with one bad row: its quarantine.
        let path = dir.path().join("libraries.csv");
        std::fs::write(
            &path,
            "borrower_id,first_name,last_name,date_of_birth,email,phone,postcode,home_library,joined,last_updated\n\
             2900000001,Ann,Gotts,01-03-1950,,,NR1 1AA,Norwich,01-01-2020,01-11-2026\n\
             2900000002,Bob,Gotts,31-02-1950,,,NR1 1AA,Norwich,01-01-2020,01-11-2026\n",
        )
        .unwrap();
        let today = Date::new(2026, 11, 22).unwrap();
        wherry_ingest::ingest(&t.store, &manifest("libraries"), &path, None, "test", today)
            .await
            .unwrap();
        let extracts = fetch(&state, "GET", "/quarantine", Some(&session), None)
            .await
            .html;
        let link = extracts
            .split("href=\"/quarantine/")
            .nth(1)
            .expect("a quarantined extract is linked")
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let q = fetch(
            &state,
            "GET",
            &format!("/quarantine/{link}"),
            Some(&session),
            None,
        )
        .await;
        assert_eq!(q.status, StatusCode::OK, "{}", q.html);
        assert!(
            q.html.contains(">3</td>") && q.html.contains(">date_of_birth</td>"),
            "{}",
            q.html
        );
        let csv_page = fetch(
            &state,
            "GET",
            &format!("/quarantine/{link}/rows.csv"),
            Some(&session),
            None,
        )
        .await;
        assert_eq!(csv_page.headers["content-type"], "text/csv; charset=utf-8");
        let mut rdr = csv::Reader::from_reader(csv_page.html.as_bytes());
        let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
        assert_eq!(rows.len(), 1);
        assert_eq!((&rows[0][1], &rows[0][2]), ("3", "date_of_birth"));
        assert!(rows[0][3].starts_with("impossible_date"), "{:?}", rows[0]);
        let quality = fetch(&state, "GET", "/quality", Some(&session), None)
            .await
            .html;
        let libraries = quality
            .split("Libraries<br>")
            .nth(1)
            .expect("a libraries row");
        let cells: Vec<&str> = libraries
            .split("govuk-table__cell--numeric\">")
            .skip(1)
            .map(|c| c.split('<').next().unwrap())
            .take(2)
            .collect();
        assert_eq!(
            cells,
            ["1", "1"],
            "one record held, one quarantined: {libraries}"
        );
        let log = t.store.audit_log(0).await.unwrap();
        for action in ["extracts_view", "quarantine_view", "data_quality_view"] {
            assert!(log.iter().any(|e| e.action == action), "{action} audited");
        }
        t.finish().await;
    }
}

/// The data protection officer's journey: a resident chosen by reference,
/// the subject access file downloaded, an erasure refused without a real
/// reason and then done, with what was erased said.
#[tokio::test]
async fn the_admin_exports_a_subject_access_file_and_erases_a_resident() {
    let dir = tempfile::tempdir().unwrap();
    for t in stores().await {
        crate::access::hub(&t.store, dir.path()).await;
        let token = crate::attack::user(&t.store, "dpo", "admin", &[]).await;
        let state = Arc::new(AppState::new(t.store.clone(), None));
        let (session, _) = crate::ui::signed_in_for(&state, &token, "subject_rights").await;
        let person = crate::access::PERSON;
        let unknown = fetch(
            &state,
            "GET",
            "/rights?person=P999999999",
            Some(&session),
            None,
        )
        .await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        assert!(
            unknown.html.contains("There is no resident P999999999"),
            "{}",
            unknown.html
        );
        let page = fetch(
            &state,
            "GET",
            &format!("/rights?person={person}"),
            Some(&session),
            None,
        )
        .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.html);
        let file = fetch(
            &state,
            "GET",
            &format!("/rights/{person}/subject-access.json"),
            Some(&session),
            None,
        )
        .await;
        assert_eq!(file.status, StatusCode::OK, "{}", file.html);
        assert!(
            file.headers["content-disposition"]
                .to_str()
                .unwrap()
                .contains("subject-access-P000000001.json")
        );
        let export: serde_json::Value = serde_json::from_str(&file.html).unwrap();
        let text = export.to_string();
        assert!(
            text.contains("Thrower") && text.contains("social_care"),
            "{text}"
        );
        // Too short a reason: the form again, nothing erased.
        let csrf = crate::ui::csrf_of(&page.html);
        let short = fetch(
            &state,
            "POST",
            &format!("/rights/{person}/erase"),
            Some(&session),
            Some(&[("csrf", &csrf), ("reason", "asked")]),
        )
        .await;
        assert_eq!(short.status, StatusCode::BAD_REQUEST);
        assert!(short.html.contains("href=\"#reason\""), "{}", short.html);
        assert!(t.store.person_exists(person).await.unwrap());
        let erased = fetch(
            &state,
            "POST",
            &format!("/rights/{person}/erase"),
            Some(&session),
            Some(&[
                ("csrf", &csrf),
                (
                    "reason",
                    "Erasure request ER-2026-114, no other basis to keep",
                ),
            ]),
        )
        .await;
        assert_eq!(erased.status, StatusCode::OK, "{}", erased.html);
        assert!(
            erased
                .html
                .contains(&format!("{person} erased: 3 records from")),
            "{}",
            erased.html
        );
        let log = t.store.audit_log(0).await.unwrap();
        assert!(
            log.iter().any(|e| e.action == "subject_access"),
            "the export is audited"
        );
        assert!(
            log.iter().any(|e| e.action == "erasure"),
            "{:?}",
            log.iter().map(|e| &e.action).collect::<Vec<_>>()
        );
        t.finish().await;
    }
}

/// Break-glass from the web UI: a resident opened with no reason on record
/// is refused with the way to find them and a form; a reason too short
/// comes back on the form; a real one opens the record for safeguarding
/// (the purpose an advisor may break glass into), marked as break-glass,
/// the audit entry carrying the reason.
#[tokio::test]
async fn an_advisor_breaks_glass_from_the_ui_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    for t in stores().await {
        crate::access::hub(&t.store, dir.path()).await;
        let token = crate::attack::user(&t.store, "bea", "advisor", &[]).await;
        let state = Arc::new(AppState::new(t.store.clone(), None));
        let (session, _) = crate::ui::signed_in_for(&state, &token, "contact_centre").await;
        let person = crate::access::PERSON;
        let refused = fetch(
            &state,
            "GET",
            &format!("/residents/{person}"),
            Some(&session),
            None,
        )
        .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(
            refused.html.contains("no reason on record")
                && refused
                    .html
                    .contains(&format!("action=\"/residents/{person}/break-glass\"")),
            "{}",
            refused.html
        );
        assert!(
            !refused.html.contains("Thrower"),
            "nothing of the resident shown"
        );
        let csrf = crate::ui::csrf_of(&refused.html);
        let short = fetch(
            &state,
            "POST",
            &format!("/residents/{person}/break-glass"),
            Some(&session),
            Some(&[("csrf", &csrf), ("reason", "urgent")]),
        )
        .await;
        assert_eq!(short.status, StatusCode::BAD_REQUEST);
        assert!(short.html.contains("href=\"#reason\""), "{}", short.html);
        let reason = "Police called: resident missing overnight, need next of kin and GP now";
        let opened = fetch(
            &state,
            "POST",
            &format!("/residents/{person}/break-glass"),
            Some(&session),
            Some(&[("csrf", &csrf), ("reason", reason)]),
        )
        .await;
        assert_eq!(opened.status, StatusCode::OK, "{}", opened.html);
        assert!(
            opened.html.contains("Thrower")
                && opened
                    .html
                    .contains("You opened this record by break-glass"),
            "{}",
            opened.html
        );
        let log = t.store.audit_log(0).await.unwrap();
        let view = log
            .iter()
            .find(|e| e.action == "view" && e.user_name == "bea")
            .expect("the view is audited");
        assert_eq!(view.break_glass.as_deref(), Some(reason));
        assert_eq!(view.purpose, "safeguarding");
        t.finish().await;
    }
}

/// The advisor's journey: a contact's team and the team's telephone number,
/// where the partner shares them, from the partner's events file to the
/// timeline (a `tel:` link on the page); a number that is not one is
/// quarantined with its line.
#[tokio::test]
async fn the_timeline_gives_the_contacts_team_and_phone_where_the_partner_shares_them() {
    let dir = tempfile::tempdir().unwrap();
    for t in stores().await {
        let [_, _, (cath, _), _] = crate::access::hub(&t.store, dir.path()).await;
        // The same social care row again (a new file), with its events.
        let original = std::fs::read_to_string(dir.path().join("social_care.csv")).unwrap();
        let again = dir.path().join("social_care_again.csv");
        std::fs::write(&again, format!("{original}\n")).unwrap();
        let events = dir.path().join("social_care_events.csv");
        std::fs::write(
            &events,
            "source,record_id,date,service,contact_type,practitioner,team,team_phone\n\
             social_care,S1,2026-10-02,older_people_team,home_visit,Jo Bloggs,\"Older People's Team, Norwich\",01603 223344\n\
             social_care,S1,2026-10-03,older_people_team,phone_call,Jo Bloggs,Older People's Team,call us\n\
             social_care,S1,2026-09-01,reablement,home_visit,Sam Hill,,\n",
        )
        .unwrap();
        let today = Date::new(2026, 11, 22).unwrap();
        let r = wherry_ingest::ingest(
            &t.store,
            &manifest("social_care"),
            &again,
            Some(&events),
            "test",
            today,
        )
        .await
        .unwrap();
        assert_eq!(r.events, 2, "{r:?}");
        let bad = t.store.quarantined("social_care").await.unwrap();
        assert!(
            bad.iter()
                .any(|q| q.line == 3 && q.field.as_deref() == Some("team_phone")),
            "{bad:?}"
        );
        let state = Arc::new(AppState::new(t.store.clone(), None));
        let uri = format!("/api/v1/residents/{}", crate::access::PERSON);
        let (status, view) = crate::call_raw(&state, "GET", &uri, &cath, "direct_care", None).await;
        assert_eq!(status, StatusCode::OK, "{view}");
        let timeline = view["timeline"].as_array().unwrap();
        let visit = timeline
            .iter()
            .find(|e| e["date"] == "2026-10-02")
            .expect("the visit");
        assert_eq!(visit["team"], "Older People's Team, Norwich");
        assert_eq!(visit["team_phone"], "01603 223344");
        let unshared = timeline
            .iter()
            .find(|e| e["date"] == "2026-09-01")
            .expect("the other");
        assert!(
            unshared["team"].is_null() && unshared["team_phone"].is_null(),
            "{unshared}"
        );
        let (session, _) = crate::ui::signed_in_for(&state, &cath, "direct_care").await;
        let page = fetch(
            &state,
            "GET",
            &format!("/residents/{}", crate::access::PERSON),
            Some(&session),
            None,
        )
        .await;
        assert!(
            page.html
                .contains("href=\"tel:01603223344\">01603 223344</a>")
                && page.html.contains("Older People&#x27;s Team, Norwich"),
            "{}",
            page.html
        );
        t.finish().await;
    }
}
