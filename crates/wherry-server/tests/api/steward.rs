//! The rest of the resident view (golden record, timeline, services, lead),
//! the steward's endpoints, the change feed, subject access, erasure and
//! retention, on SQLite and PostgreSQL.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{Value, json};
use wherry_core::{Date, Purpose};
use wherry_server::AppState;
use wherry_store::testing::stores;
use wherry_store::{DecisionKind, Event, RecordKey, Store};

use crate::access::{PERSON, hub};
use crate::{call, manifest};

async fn user(store: &Store, name: &str, role: &str) -> String {
    let token = wherry_access::token::new_token().unwrap();
    let hash = wherry_access::token::token_hash(&token);
    assert!(store.add_user(name, role, &hash, &[]).await.unwrap());
    token
}

/// Contact events for the fixture's three records, dated back from today.
pub(crate) async fn events(store: &Store) {
    let today = Date::today_utc();
    let mut tx = store.begin().await.unwrap();
    for (source, id, rows) in [
        (
            "social_care",
            "S1",
            vec![
                (10, "older_people_team", "review", "B. Worker"),
                (40, "older_people_team", "visit", "B. Worker"),
                (700, "reablement", "visit", "R. Old"),
            ],
        ),
        (
            "fire_rescue",
            "F1",
            vec![(5, "fire_prevention", "home_fire_safety_visit", "D. Officer")],
        ),
        (
            "police_vulnerable",
            "V1",
            // Busier lately than anyone, but the police do not lead care.
            vec![
                (2, "neighbourhood_policing", "welfare_check", "PC Hale"),
                (3, "neighbourhood_policing", "welfare_check", "PC Hale"),
                (20, "neighbourhood_policing", "report", "PC Hale"),
            ],
        ),
    ] {
        let extract = tx
            .new_extract(source, "events.csv", "x", "events", "test")
            .await
            .unwrap();
        let rows: Vec<Event> = rows
            .into_iter()
            .map(|(days, service, kind, who)| Event {
                record_id: id.into(),
                date: today.add_days(-days).to_string(),
                service: service.into(),
                contact_type: kind.into(),
                practitioner: who.into(),
                team: None,
                team_phone: None,
            })
            .collect();
        tx.events(extract, source, &rows).await.unwrap();
    }
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn the_resident_view_has_a_golden_record_a_timeline_and_a_lead_within_the_agreements() {
    let dir = tempfile::tempdir().unwrap();
    for t in stores().await {
        let [_, (fire, _), (caseworker, _), (analyst, _)] = hub(&t.store, dir.path()).await;
        events(&t.store).await;
        let state = Arc::new(AppState::new(t.store.clone(), None));
        let uri = format!("/api/v1/residents/{PERSON}");
        for (token, purpose) in [
            (&fire, Purpose::FirePrevention),
            (&caseworker, Purpose::Safeguarding),
            (&caseworker, Purpose::DirectCare),
        ] {
            let (status, body) = call(&state, "GET", &uri, token, purpose.as_str(), None).await;
            assert_eq!(status, StatusCode::OK, "{}: {body}", t.name);
            // Each golden value comes from a record shown, holding that
            // field, of the most trusted source that holds it.
            let records = body["records"].as_array().unwrap();
            let golden = body["golden_record"].as_object().unwrap();
            assert!(golden.len() >= 4, "{purpose}: a golden record: {body}");
            for (field, chosen) in golden {
                let source = chosen["source"].as_str().unwrap();
                let grant = manifest(source).agreement.grant(purpose).cloned().unwrap();
                assert!(
                    grant.fields.contains(field),
                    "{purpose}: golden {field} from {source} is not granted"
                );
                let best = records
                    .iter()
                    .filter(|r| {
                        r["fields"]
                            .get(field)
                            .is_some_and(|v| v != "" && !v.is_null())
                    })
                    .map(|r| manifest(r["source"].as_str().unwrap()).source.trust)
                    .max()
                    .unwrap();
                assert_eq!(chosen["trust"], best, "{purpose}: {field}");
                assert_eq!(
                    chosen["value"],
                    records.iter().find(|r| r["source"] == source).unwrap()["fields"][field]
                );
            }
            // The timeline holds only events of sources whose agreement
            // grants the purpose events, newest first.
            let with_events: BTreeSet<String> = ["social_care", "fire_rescue", "police_vulnerable"]
                .into_iter()
                .filter(|s| {
                    manifest(s)
                        .agreement
                        .grant(purpose)
                        .is_some_and(|g| g.events)
                })
                .map(String::from)
                .collect();
            let timeline = body["timeline"].as_array().unwrap();
            let shown: BTreeSet<String> = timeline
                .iter()
                .map(|e| e["source"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(shown, with_events, "{purpose}");
            let dates: Vec<&str> = timeline
                .iter()
                .map(|e| e["date"].as_str().unwrap())
                .collect();
            assert!(dates.windows(2).all(|w| w[0] >= w[1]), "{dates:?}");
            // Services seen in the last year are involved; the two-year-old
            // reablement visit is history.
            let involved: Vec<&str> = body["involved_services"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["service"].as_str().unwrap())
                .collect();
            assert!(!involved.contains(&"reablement"));
            if with_events.contains("social_care") {
                assert!(involved.contains(&"older_people_team"));
                assert_eq!(
                    body["lead_practitioner"]["practitioner"], "B. Worker",
                    "{purpose}: two recent contacts of a caring service (not the police's three)"
                );
            }
        }
        // An analyst's view is pseudonymised: no names, record ids or
        // practitioners.
        let (status, body) = call(&state, "GET", &uri, &analyst, "planning", None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["pseudonymised"], true);
        let text = body.to_string();
        for personal in [
            "Thrower",
            "Margaret",
            "9434765919",
            "S1\"",
            "B. Worker",
            "Abbey",
            "1948-03-07",
        ] {
            assert!(
                !text.contains(personal),
                "analyst view shows {personal}: {text}"
            );
        }
        let (status, body) = call(
            &state,
            "GET",
            "/api/v1/residents?name=Thrower",
            &analyst,
            "planning",
            None,
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::FORBIDDEN, Some("pseudonymised_only"))
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn stewards_link_and_unlink_and_partner_systems_follow_the_changes() {
    let dir = tempfile::tempdir().unwrap();
    for t in stores().await {
        let [(advisor, _), ..] = hub(&t.store, dir.path()).await;
        let steward = user(&t.store, "sam", "steward").await;
        let partner = user(&t.store, "gp-system", "partner_system").await;
        let state = Arc::new(AppState::new(t.store.clone(), None));
        let (_, before) = call(
            &state,
            "GET",
            "/api/v1/changes",
            &partner,
            "direct_care",
            None,
        )
        .await;
        let since = before["next_since"].as_i64().unwrap();

        let pair = |reason: &str| json!({"left": {"source": "social_care", "record_id": "S1"}, "right": {"source": "fire_rescue", "record_id": "F1"}, "reason": reason});
        let (status, body) = call(
            &state,
            "POST",
            "/api/v1/unlinks",
            &advisor,
            "contact_centre",
            Some(pair("x")),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::FORBIDDEN, Some("role_not_allowed"))
        );
        let (status, body) = call(
            &state,
            "POST",
            "/api/v1/unlinks",
            &steward,
            "data_quality",
            Some(pair("different dates of birth on file")),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", t.name);
        let fresh = body["created"].as_str().unwrap().to_string();
        assert_eq!(body["person"], PERSON);
        let (f1, s1) = (
            RecordKey::new("fire_rescue", "F1"),
            RecordKey::new("social_care", "S1"),
        );
        assert_eq!(
            t.store.person_of(&f1).await.unwrap().as_deref(),
            Some(fresh.as_str())
        );
        assert_eq!(
            t.store.person_of(&s1).await.unwrap().as_deref(),
            Some(PERSON)
        );
        let decisions = t.store.decisions().await.unwrap();
        assert!(
            decisions.iter().any(|d| d.kind == DecisionKind::CannotLink),
            "{decisions:?}"
        );

        // The feed shows the new person and the split, oldest first.
        let (status, feed) = call(
            &state,
            "GET",
            &format!("/api/v1/changes?since={since}"),
            &partner,
            "direct_care",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{feed}");
        let kinds: Vec<(&str, &str)> = feed["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["kind"].as_str().unwrap(), c["person"].as_str().unwrap()))
            .collect();
        assert_eq!(kinds, [("created", fresh.as_str()), ("split", PERSON)]);
        let (status, body) = call(
            &state,
            "GET",
            "/api/v1/changes?since=abc",
            &partner,
            "direct_care",
            None,
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("bad_query"))
        );

        // Linking them again merges the persons; the emptied one retires.
        let (status, body) = call(
            &state,
            "POST",
            "/api/v1/links",
            &steward,
            "data_quality",
            Some(pair("same person, confirmed by phone")),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["absorbed"], json!([fresh]));
        let since = feed["next_since"].as_i64().unwrap();
        let (_, feed) = call(
            &state,
            "GET",
            &format!("/api/v1/changes?since={since}"),
            &partner,
            "direct_care",
            None,
        )
        .await;
        let kinds: Vec<&str> = feed["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["merged", "retired"]);

        // Bad bodies are 4xx with a JSON error, and nothing changes.
        let decided = t.store.decisions().await.unwrap().len();
        for (body, code) in [
            (Value::String("not an object".into()), "invalid_body"),
            (
                json!({"left": {"source": "social_care"}, "right": {"source": "fire_rescue", "record_id": "F1"}}),
                "invalid_body",
            ),
            (
                json!({"left": {"source": "social_care", "record_id": 7}, "right": {"source": "fire_rescue", "record_id": "F1"}}),
                "invalid_body",
            ),
            (
                json!({"left": {"source": "social_care", "record_id": "S1"}, "right": {"source": "social_care", "record_id": "S1"}}),
                "same_record",
            ),
            (
                json!({"left": {"source": "social_care", "record_id": "S1"}, "right": {"source": "fire_rescue", "record_id": "nope' OR 1=1 --"}}),
                "not_linked_record",
            ),
            (
                json!({"left": {"source": "social_care", "record_id": "S1"}, "right": {"source": "fire_rescue", "record_id": "F1"}, "reason": "x".repeat(501)}),
                "reason_too_long",
            ),
        ] {
            let (status, answer) = call(
                &state,
                "POST",
                "/api/v1/links",
                &steward,
                "data_quality",
                Some(body),
            )
            .await;
            assert!(status.is_client_error(), "{status}: {answer}");
            assert_eq!(answer["error"], code, "{answer}");
        }
        assert_eq!(
            t.store.decisions().await.unwrap().len(),
            decided,
            "nothing stored"
        );

        // The review queue: an item with its explanation; accepting it
        // links the pair at once.
        // The police record on a person of its own first: an item whose
        // records are already together has nothing to decide.
        crate::access::police_apart(
            &t.store,
            vec![crate::access::fire_police_item(0.7, "family_name: exact")],
        )
        .await;
        let (status, body) = call(
            &state,
            "GET",
            "/api/v1/review",
            &steward,
            "data_quality",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let item = &body["items"][0];
        assert_eq!(
            (item["explanation"].as_str(), item["status"].as_str()),
            (Some("family_name: exact"), Some("open"))
        );
        let id = item["id"].as_i64().unwrap();
        let (status, body) = call(
            &state,
            "POST",
            &format!("/api/v1/review/{id}/accept"),
            &steward,
            "data_quality",
            Some(json!({"reason": "checked"})),
        )
        .await;
        assert_eq!(
            (status, body["person"].as_str()),
            (StatusCode::OK, Some(PERSON)),
            "{body}"
        );
        let (status, _) = call(
            &state,
            "POST",
            &format!("/api/v1/review/{id}/reject"),
            &steward,
            "data_quality",
            Some(json!({})),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "an item is settled once");
        let (_, body) = call(
            &state,
            "GET",
            "/api/v1/review?status=open",
            &steward,
            "data_quality",
            None,
        )
        .await;
        assert_eq!(body["items"], json!([]));
        assert!(
            wherry_access::audit::verify_store(&t.store)
                .await
                .unwrap()
                .is_ok()
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn subject_access_shows_everything_and_who_looked_and_erasure_leaves_a_tombstone() {
    let dir = tempfile::tempdir().unwrap();
    for t in stores().await {
        let [(advisor, _), ..] = hub(&t.store, dir.path()).await;
        events(&t.store).await;
        let admin = user(&t.store, "dpo", "admin").await;
        let state = Arc::new(AppState::new(t.store.clone(), None));
        let uri = format!("/api/v1/residents/{PERSON}");
        let (status, _) = call(&state, "GET", &uri, &advisor, "contact_centre", None).await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = call(
            &state,
            "GET",
            &format!("{uri}/subject-access"),
            &advisor,
            "contact_centre",
            None,
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::FORBIDDEN, Some("role_not_allowed"))
        );

        let (status, sar) = call(
            &state,
            "GET",
            &format!("{uri}/subject-access"),
            &admin,
            "subject_rights",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{}: {sar}", t.name);
        assert_eq!(sar["records"].as_array().unwrap().len(), 3);
        assert_eq!(sar["contact_events"].as_array().unwrap().len(), 7);
        let seen = sar["disclosures"].as_array().unwrap();
        assert_eq!(seen.len(), 1, "the advisor's view, not the refusal");
        assert_eq!(
            (seen[0]["user"].as_str(), seen[0]["purpose"].as_str()),
            (Some("ann"), Some("contact_centre"))
        );
        assert!(
            sar.to_string().contains("financial_abuse"),
            "the SAR holds every attribute"
        );

        let (status, body) = call(
            &state,
            "POST",
            "/api/v1/residents/P999999999/erasure",
            &admin,
            "subject_rights",
            Some(json!({"reason": "subject access request 2026/114: erase"})),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        let (status, body) = call(
            &state,
            "POST",
            &format!("{uri}/erasure"),
            &admin,
            "subject_rights",
            Some(json!({"reason": "subject access request 2026/114: erase"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            (body["records_erased"].as_u64(), body["retired"].clone()),
            (Some(3), json!([PERSON]))
        );
        let (status, _) = call(&state, "GET", &uri, &advisor, "contact_centre", None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (_, sar) = call(
            &state,
            "GET",
            &format!("{uri}/subject-access"),
            &admin,
            "subject_rights",
            None,
        )
        .await;
        assert_eq!(
            (sar["records"].clone(), sar["contact_events"].clone()),
            (json!([]), json!([]))
        );
        let log = t.store.audit_log(0).await.unwrap();
        let tombstone = log.iter().find(|e| e.action == "erasure").unwrap();
        assert_eq!(tombstone.person_id.as_deref(), Some(PERSON));
        assert_eq!(
            tombstone.fields,
            r#"["records_erased:3","reason:subject access request 2026/114: erase"]"#
        );
        assert!(!format!("{tombstone:?}").contains("Thrower"));
        assert!(
            wherry_access::audit::verify_store(&t.store)
                .await
                .unwrap()
                .is_ok()
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn retention_removes_only_withdrawn_records_past_their_agreements_period() {
    let dir = tempfile::tempdir().unwrap();
    for t in stores().await {
        hub(&t.store, dir.path()).await;
        let req = wherry_access::Caller::authorise(
            &wherry_access::Policy::default(),
            "retention",
            wherry_core::Role::Admin,
            wherry_core::Purpose::SubjectRights,
            None,
        )
        .unwrap();
        let later = Date::today_utc().add_days(365 * 7);
        let none = wherry_access::rights::expire(&t.store, &req, later, "r1")
            .await
            .unwrap();
        assert_eq!(none.count(), 0, "records partners still send are kept");
        t.execute("UPDATE records SET withdrawn = 1 WHERE record_id IN ('V1', 'S1')")
            .await;
        // Seven years on: past the police's six, within social care's eight.
        let gone = wherry_access::rights::expire(&t.store, &req, later, "r1")
            .await
            .unwrap();
        assert_eq!(
            gone.records,
            [("police_vulnerable".to_string(), vec!["V1".to_string()])].into()
        );
        assert!(
            gone.retired.is_empty(),
            "the person keeps their other records"
        );
        assert!(
            t.store
                .person_versions(PERSON)
                .await
                .unwrap()
                .iter()
                .all(|v| v.record_id != "V1")
        );
        let log = t.store.audit_log(0).await.unwrap();
        let tombstone = log.last().unwrap();
        assert_eq!(
            (tombstone.action.as_str(), tombstone.sources.as_str()),
            ("retention", r#"["police_vulnerable"]"#)
        );
        t.finish().await;
    }
}
