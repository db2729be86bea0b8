//! Fire targets over the API and the web UI's download: the fixture's
//! resident scored as the fire_prevention purpose sees her partners'
//! records (points, unknowns), JSON or CSV, bad queries and other roles
//! refused, each listing audited.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use wherry_server::{AppState, app};
use wherry_store::testing::stores;

use crate::access::{PERSON, hub};
use crate::call;

const URI: &str = "/api/v1/insight/fire-targets";

/// The raw answer to `GET uri` as `token` for `purpose`.
async fn get_raw(
    state: &Arc<AppState>,
    uri: &str,
    token: &str,
    purpose: &str,
) -> (StatusCode, String, String) {
    let req = Request::builder()
        .uri(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("wherry-purpose", purpose)
        .body(Body::empty())
        .unwrap();
    let res = app(state.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let kind = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, kind, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn fire_targets_score_what_the_purpose_sees_and_audit_each_listing() {
    let dir = tempfile::tempdir().unwrap();
    for t in stores().await {
        let [_, (fred, _), (cath, _), (ada, _)] = hub(&t.store, dir.path()).await;
        let state = Arc::new(AppState::new(t.store.clone(), None));
        let (status, body) = call(&state, "GET", URI, &fred, "fire_prevention", None).await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", t.name);
        let targets = body["targets"].as_array().unwrap();
        assert_eq!(targets.len(), 1, "{}: one home: {body}", t.name);
        let home = &targets[0];
        assert_eq!(home["uprn"], "100090162805");
        let mut reasons: Vec<(String, u64)> = home["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["factor"].as_str().unwrap().to_string(),
                    r["points"].as_u64().unwrap(),
                )
            })
            .collect();
        reasons.sort();
        // Born 1948 (the fire service shares the date of birth), living
        // alone with limited mobility (social care), a previous fire and no
        // visit on record (the fire service); smoking known absent from both.
        let d = wherry_insight::weights::default_points;
        use wherry_insight::fire::Factor::*;
        let mut want: Vec<(String, u64)> = [
            Aged65To79,
            LivesAlone,
            LimitedMobility,
            PreviousFire,
            NoRecentVisit,
        ]
        .into_iter()
        .map(|f| (f.code().to_string(), u64::from(d(f))))
        .collect();
        want.sort();
        assert_eq!(reasons, want, "{}: {home}", t.name);
        assert_eq!(home["score"].as_u64(), Some(want.iter().map(|w| w.1).sum()));
        // Social care's care package is not shared with fire prevention;
        // no registered partner shares tenure or hoarding: unknown.
        let unknown: Vec<&str> = home["unknown"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        for f in ["care_package", "private_rented", "hoarding_concern"] {
            assert!(unknown.contains(&f), "{}: {f} in {unknown:?}", t.name);
        }
        assert!(!unknown.contains(&"smoker"), "{unknown:?}");
        assert!(home["completeness"].as_f64().unwrap() < 1.0);
        assert_eq!(home["residents"][0]["person_id"], PERSON);

        // CSV, for visit planning.
        let (status, kind, csv) = get_raw(
            &state,
            &format!("{URI}?format=csv&top=5"),
            &fred,
            "fire_prevention",
        )
        .await;
        assert_eq!(
            (status, kind.as_str()),
            (StatusCode::OK, "text/csv; charset=utf-8"),
            "{csv}"
        );
        assert!(csv.starts_with("rank,uprn,score,ceiling,completeness,address,postcode,residents,factors,unknown\n1,100090162805,"), "{csv}");

        // Bad queries and other roles.
        for (uri, token, purpose, status, code) in [
            (
                format!("{URI}?top=0"),
                &fred,
                "fire_prevention",
                StatusCode::BAD_REQUEST,
                "bad_query",
            ),
            (
                format!("{URI}?format=xml"),
                &fred,
                "fire_prevention",
                StatusCode::BAD_REQUEST,
                "bad_query",
            ),
            (
                format!("{URI}?colour=red"),
                &fred,
                "fire_prevention",
                StatusCode::BAD_REQUEST,
                "bad_query",
            ),
            (
                URI.to_string(),
                &cath,
                "direct_care",
                StatusCode::FORBIDDEN,
                "forbidden",
            ),
            (
                URI.to_string(),
                &ada,
                "planning",
                StatusCode::FORBIDDEN,
                "forbidden",
            ),
        ] {
            let (got, body) = call(&state, "GET", &uri, token, purpose, None).await;
            assert_eq!(got, status, "{}: {uri} as {purpose}: {body}", t.name);
            if code != "forbidden" {
                assert_eq!(body["error"], code, "{uri}: {body}");
            }
        }
        // The page and its download: a listing each; a query that does
        // not parse is refused, not read as the default.
        let (session, _) = crate::ui::signed_in_for(&state, &fred, "fire_prevention").await;
        let page =
            crate::ui::fetch(&state, "GET", "/insight/fire-targets", Some(&session), None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.html);
        assert!(page.html.contains("UPRN 100090162805"), "{}", page.html);
        // The chart of the factors, with its accessible name.
        assert!(
            page.html
                .contains(r#"<figure class="wherry-chart" id="targets-chart"><svg"#)
                && page.html.contains(
                    r#"aria-labelledby="fire-targets-chart-title fire-targets-chart-desc""#
                ),
            "{}",
            page.html
        );
        for bad in ["?top=many", "?top=0"] {
            for path in ["/insight/fire-targets", "/insight/fire-targets.csv"] {
                let page =
                    crate::ui::fetch(&state, "GET", &format!("{path}{bad}"), Some(&session), None)
                        .await;
                assert_eq!(
                    page.status,
                    StatusCode::BAD_REQUEST,
                    "{}{bad}: {}",
                    path,
                    page.html
                );
            }
        }
        // Each listing, and only those, in the audit log.
        let entries: Vec<_> = t
            .store
            .audit_about(PERSON)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "fire_targets")
            .collect();
        assert_eq!(
            entries.len(),
            3,
            "{}: the JSON, the CSV, the page: {entries:?}",
            t.name
        );
        assert!(
            entries
                .iter()
                .all(|e| e.user_name == "fred" && e.fields.contains("attribute:previous_fire"))
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn coordinated_visits_lead_with_a_caring_service_within_the_agreements() {
    const VISITS: &str = "/api/v1/insight/coordinated-visits";
    let dir = tempfile::tempdir().unwrap();
    for t in stores().await {
        let [_, (fred, _), (cath, _), (ada, _)] = hub(&t.store, dir.path()).await;
        // Social care (two recent contacts by B. Worker), fire prevention
        // and the police (welfare checks) about the fixture's resident.
        crate::steward::events(&t.store).await;
        let state = Arc::new(AppState::new(t.store.clone(), None));
        let (status, body) = call(&state, "GET", VISITS, &cath, "safeguarding", None).await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", t.name);
        let residents = body["residents"].as_array().unwrap();
        assert_eq!(residents.len(), 1, "{}: {body}", t.name);
        let r = &residents[0];
        assert_eq!(r["person_id"], PERSON);
        let services: Vec<&str> = r["services"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["service"].as_str().unwrap())
            .collect();
        assert_eq!(
            services,
            [
                "neighbourhood_policing",
                "older_people_team",
                "fire_prevention"
            ],
            "{}: most contacts first; the two-year-old reablement visit is out",
            t.name
        );
        // The police saw her most, but do not lead care.
        assert_eq!(r["lead"]["practitioner"], "B. Worker", "{body}");
        assert_eq!(r["lead"]["service"], "older_people_team");
        assert_eq!(r["saved"], 2, "the police's two welfare checks: {body}");
        assert_eq!(body["total_saved"], 2);
        // Direct care sees only social care's events of these: no one.
        let (status, body) = call(&state, "GET", VISITS, &cath, "direct_care", None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["residents"].as_array().unwrap().len(), 0, "{body}");
        // CSV; a bad format; an analyst refused.
        let (status, kind, csv) = get_raw(
            &state,
            &format!("{VISITS}?format=csv"),
            &cath,
            "safeguarding",
        )
        .await;
        assert_eq!(
            (status, kind.as_str()),
            (StatusCode::OK, "text/csv; charset=utf-8")
        );
        assert!(
            csv.starts_with("person_id,name,services,lead,lead_service,home_visits,saved\n"),
            "{csv}"
        );
        assert!(csv.contains("B. Worker,older_people_team,"), "{csv}");
        let (status, body) = call(
            &state,
            "GET",
            &format!("{VISITS}?format=xml"),
            &cath,
            "safeguarding",
            None,
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("bad_query"))
        );
        let (status, _) = call(&state, "GET", VISITS, &ada, "planning", None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // The page, as fire prevention sees it (its own events only).
        let (session, _) = crate::ui::signed_in_for(&state, &fred, "fire_prevention").await;
        let page = crate::ui::fetch(&state, "GET", "/insight/visits", Some(&session), None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.html);
        assert!(page.html.contains("Coordinated visits"), "{}", page.html);
        assert!(page.html.contains("id=\"visits-empty\""), "{}", page.html);
        let (session, _) = crate::ui::signed_in_for(&state, &cath, "safeguarding").await;
        let page = crate::ui::fetch(&state, "GET", "/insight/visits", Some(&session), None).await;
        assert!(
            page.html.contains("B. Worker, Older people&#x27;s team"),
            "{}",
            page.html
        );
        assert!(
            page.html.contains(r#"id="visits-chart""#)
                && page.html.contains("Older people's team: 1"),
            "{}",
            page.html
        );
        // Each listing audited: the JSON, the CSV and the page.
        let audited = t
            .store
            .audit_about(PERSON)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "coordinated_visits")
            .count();
        assert_eq!(audited, 3, "{}", t.name);
        t.finish().await;
    }
}

#[tokio::test]
async fn demand_is_counted_by_area_for_analysts_only_with_a_chart() {
    const DEMAND: &str = "/api/v1/insight/demand";
    let dir = tempfile::tempdir().unwrap();
    for t in stores().await {
        let [_, _, (cath, _), (ada, _)] = hub(&t.store, dir.path()).await;
        crate::steward::events(&t.store).await;
        let state = Arc::new(AppState::new(t.store.clone(), None));
        let (status, body) = call(&state, "GET", DEMAND, &ada, "planning", None).await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", t.name);
        assert_eq!(body["area"], "postcode_district");
        let sources: Vec<&str> = body["sources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        assert!(sources.contains(&"social_care"), "{body}");
        // Social care's contacts in the whole months counted: the review
        // ten days ago may fall in this month, which is not yet whole.
        let series = body["series"].as_array().unwrap();
        assert!(!series.is_empty(), "{body}");
        for s in series {
            assert_eq!(s["forecast"].as_array().unwrap().len(), 6, "{s}");
            assert!(
                !s["area"].as_str().unwrap().contains(' '),
                "a district: {s}"
            );
        }
        assert!(!body.to_string().contains(PERSON), "no person id: {body}");
        let (status, kind, csv) =
            get_raw(&state, &format!("{DEMAND}?format=csv"), &ada, "planning").await;
        assert_eq!(
            (status, kind.as_str()),
            (StatusCode::OK, "text/csv; charset=utf-8")
        );
        assert!(
            csv.starts_with("service,area,month,kind,contacts,lo80,hi80,lo95,hi95\n"),
            "{csv}"
        );
        let (status, _) = call(&state, "GET", DEMAND, &cath, "direct_care", None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // The page: a chart a person can read per service.
        let (session, _) = crate::ui::signed_in_for(&state, &ada, "planning").await;
        let page = crate::ui::fetch(&state, "GET", "/insight/demand", Some(&session), None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.html);
        assert!(page.html.contains("role=\"img\""), "{}", page.html);
        assert!(page.html.contains("contacts a month"), "{}", page.html);
        assert!(page.html.contains("Month (history, then forecast)"));
        let audited = t
            .store
            .audit_log(0)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "demand_report")
            .count();
        assert_eq!(audited, 3, "{}: the JSON, the CSV and the page", t.name);
        t.finish().await;
    }
}
