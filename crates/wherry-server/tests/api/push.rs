//! Partner push through the router, on SQLite and PostgreSQL: a record for
//! an existing resident answers with that resident's person id; bad records
//! are refused with the field and reason and nothing is stored.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::{call, call_raw, manifest};

use axum::http::StatusCode;
use serde_json::{Value, json};
use wherry_core::Date;
use wherry_hub::{Matcher, RunOptions, link_run};
use wherry_server::AppState;
use wherry_store::Store;
use wherry_store::testing::stores;

pub const GP: &str = "gp_registrations";

pub fn county() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("server-county");
        let config = wherry_synth::Config {
            residents: 1_500,
            seed: 21,
            ..Default::default()
        };
        wherry_synth::generate(&config, &dir, true, &mut |_, _| {}).unwrap();
        dir
    })
}

/// The person the linkage run put the GP patient record with.
pub async fn person_of(store: &Store, patient: &Value) -> String {
    let id = patient["id"].as_str().unwrap();
    store
        .person_of(&wherry_store::RecordKey::new(GP, id))
        .await
        .unwrap()
        .expect("linked by the run")
}

/// The county's extracts ingested and linked; a partner system and an
/// advisor; the first GP patient ingest took.
pub async fn linked(store: &Store) -> (String, String, Value) {
    store.migrate().await.unwrap();
    let today = Date::new(2026, 11, 22).unwrap();
    for (source, file) in [
        ("social_care", "social_care.csv"),
        (GP, "gp_registrations.jsonl"),
        ("fire_rescue", "fire_rescue.csv"),
    ] {
        let path = county().join("extracts").join(file);
        wherry_ingest::ingest(store, &manifest(source), &path, None, "test", today)
            .await
            .unwrap();
    }
    link_run(store, &RunOptions::default(), Arc::new(()))
        .await
        .unwrap();
    let mut tokens = Vec::new();
    for (name, role, sources) in [
        ("gp-system", "partner_system", vec![GP.to_string()]),
        ("ann", "advisor", vec![]),
    ] {
        let token = wherry_access::token::new_token().unwrap();
        let hash = wherry_access::token::token_hash(&token);
        assert!(store.add_user(name, role, &hash, &sources).await.unwrap());
        tokens.push(token);
    }
    let m = manifest(GP);
    let patient = std::fs::read_to_string(county().join("extracts/gp_registrations.jsonl"))
        .unwrap()
        .lines()
        .find(|l| wherry_ingest::read::pushed_row(&m, l, today).is_ok())
        .map(|l| serde_json::from_str(l).unwrap())
        .unwrap();
    (tokens.remove(0), tokens.remove(0), patient)
}

/// A server state over `store` with its real-time matcher open.
pub async fn with_matcher(store: &Store) -> Arc<AppState> {
    let matcher = Matcher::open(store.clone(), wherry_link::ReviewRange::default())
        .await
        .unwrap();
    Arc::new(AppState::new(store.clone(), Some(matcher)))
}

async fn get(state: &Arc<AppState>, uri: &str, token: &str) -> (StatusCode, Value) {
    call_raw(state, "GET", uri, token, "contact_centre", None).await
}

pub async fn push(
    state: &Arc<AppState>,
    source: &str,
    token: &str,
    body: String,
) -> (StatusCode, Value) {
    let uri = format!("/api/v1/sources/{source}/records");
    let body = Some(("application/json", body));
    call_raw(state, "POST", &uri, token, "direct_care", body).await
}

#[tokio::test]
async fn a_pushed_record_of_a_resident_gets_their_person_id() {
    for t in stores().await {
        let (partner, advisor, patient) = linked(&t.store).await;
        let theirs = person_of(&t.store, &patient).await;
        let unlinked = Arc::new(AppState::new(t.store.clone(), None));
        let (status, body) = push(&unlinked, GP, &partner, patient.to_string()).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, Some("not_linked"))
        );
        let state = with_matcher(&t.store).await;

        let mut copy = patient.clone();
        copy["id"] = json!("pushed-1");
        let (status, body) = push(&state, GP, &partner, copy.to_string()).await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", t.name);
        assert_eq!(body["person"], theirs.as_str(), "{}: {body}", t.name);
        assert_eq!(body["outcome"], "joined");
        let (_, again) = push(&state, GP, &partner, copy.to_string()).await;
        assert_eq!(
            (again["outcome"].as_str(), again["version"].as_i64()),
            (Some("kept"), Some(1))
        );
        let log = t.store.audit_log(0).await.unwrap();
        assert_eq!(log.len(), 2, "each push is audited");
        assert_eq!(
            (log[0].action.as_str(), log[0].person_id.as_deref()),
            ("push", Some(theirs.as_str()))
        );

        // Refusals store nothing.
        let before = t.store.counts().await.unwrap();
        let mut bad = patient.clone();
        bad["id"] = json!("pushed-2");
        bad["identifier"][0]["value"] = json!("9434765918");
        let (status, body) = push(&state, GP, &partner, bad.to_string()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.starts_with("nhs_number: invalid_nhs_number"),
            "{message}"
        );
        assert!(
            !message.contains("9434765918"),
            "the value is not echoed: {message}"
        );
        let (status, body) = push(&state, GP, &partner, "{\"resourceType\": ".into()).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_record"))
        );
        let (status, body) = push(&state, GP, &advisor, copy.to_string()).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::FORBIDDEN, Some("purpose_not_allowed"))
        );
        let (status, body) = push(&state, "no_such_source", &partner, copy.to_string()).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::FORBIDDEN, Some("source_not_allowed"))
        );
        let huge = format!(
            "{{\"resourceType\": \"Patient\", \"id\": \"{}\"}}",
            "x".repeat(10 << 20)
        );
        let (status, body) = push(&state, GP, &partner, huge).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::PAYLOAD_TOO_LARGE, Some("body_too_large"))
        );
        let (status, body) = push(&state, "../residents", &partner, copy.to_string()).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::NOT_FOUND, Some("no_route"))
        );
        assert_eq!(t.store.counts().await.unwrap(), before, "{}", t.name);
        assert_eq!(t.store.audit_log(0).await.unwrap().len(), 2);

        // Search: a misspelt family name with the date of birth finds them
        // first; the search is audited without its values.
        let given = patient["name"][0]["given"][0].as_str().unwrap();
        let family = patient["name"][0]["family"].as_str().unwrap();
        let mut misspelt: String = family.chars().take(family.chars().count() - 1).collect();
        misspelt.push('e');
        let dob = patient["birthDate"].as_str().unwrap();
        let uri = format!("/api/v1/residents?name={given}%20{misspelt}&dob={dob}");
        let (status, body) = get(&state, &uri, &advisor).await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", t.name);
        assert_eq!(
            body["results"][0]["person"],
            theirs.as_str(),
            "{}: {body}",
            t.name
        );
        let scores: Vec<f64> = body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["match_weight"].as_f64().unwrap())
            .collect();
        assert!(
            scores.windows(2).all(|w| w[0] >= w[1]),
            "ranked: {scores:?}"
        );
        let log = t.store.audit_log(0).await.unwrap();
        let search = log.iter().rev().find(|e| e.action == "search").unwrap();
        assert_eq!(
            search.fields.as_str(),
            r#"["dob","family_name","given_name"]"#
        );
        for (uri, why) in [
            ("/api/v1/residents".to_string(), "no parameters"),
            (
                "/api/v1/residents?dob=31/02/1950".to_string(),
                "an impossible date",
            ),
            (
                format!("/api/v1/residents?name={}", "a".repeat(10_000)),
                "10,000 characters",
            ),
        ] {
            let (status, body) = get(&state, &uri, &advisor).await;
            assert_eq!(
                (status, body["error"].as_str()),
                (StatusCode::BAD_REQUEST, Some("bad_search")),
                "{why}: {body}"
            );
        }
        for field in ["name", "family_name", "postcode", "nhs_number"] {
            let uri =
                format!("/api/v1/residents?{field}=Robert%27)%3B%20DROP%20TABLE%20persons%3B--");
            let (status, body) = get(&state, &uri, &advisor).await;
            assert!(
                status == StatusCode::OK || status == StatusCode::BAD_REQUEST,
                "{field}: {status} {body}"
            );
        }
        assert_eq!(
            t.store.counts().await.unwrap(),
            before,
            "nothing stored or harmed"
        );
        assert!(!t.store.person_ids().await.unwrap().is_empty());
        t.finish().await;
    }
}

#[tokio::test]
async fn a_pushed_contact_event_joins_its_residents_timeline() {
    for t in stores().await {
        let (partner, advisor, patient) = linked(&t.store).await;
        let record = patient["id"].as_str().unwrap().to_string();
        let theirs = person_of(&t.store, &patient).await;
        let state = Arc::new(AppState::new(t.store.clone(), None));
        let uri = format!("/api/v1/sources/{GP}/events");
        let event = |date: &str| json!({"record_id": record, "date": date, "service": "Falls clinic", "contact_type": "appointment", "practitioner": "Dr A. Patel"});
        let before = t.store.person_events(&theirs).await.unwrap().len();
        let (status, body) = call(
            &state,
            "POST",
            &uri,
            &partner,
            "direct_care",
            Some(event("2026-11-01")),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{}: {body}", t.name);
        assert_eq!(body["person"], theirs.as_str());
        let events = t.store.person_events(&theirs).await.unwrap();
        assert_eq!(events.len(), before + 1);
        assert!(
            events
                .iter()
                .any(|e| e.service == "Falls clinic" && e.date == "2026-11-01")
        );

        // Refused, and nothing stored: the wrong role, a future date, a record
        // the source does not hold, a missing field, a wrong type, an unknown
        // source.
        let stored = t.store.person_events(&theirs).await.unwrap().len();
        let mut missing = event("2026-11-01");
        missing["service"] = json!("");
        let mut wrong_type = event("2026-11-01");
        wrong_type["date"] = json!(20261101);
        let mut stranger = event("2026-11-01");
        stranger["record_id"] = json!("no-such-record");
        for (token, uri, body, status, code) in [
            (
                &advisor,
                uri.clone(),
                event("2026-11-01"),
                StatusCode::FORBIDDEN,
                "purpose_not_allowed",
            ),
            (
                &partner,
                uri.clone(),
                event("2099-01-01"),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_event",
            ),
            (
                &partner,
                uri.clone(),
                stranger,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_event",
            ),
            (
                &partner,
                uri.clone(),
                missing,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_event",
            ),
            (
                &partner,
                uri.clone(),
                wrong_type,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
            ),
            (
                &partner,
                "/api/v1/sources/nowhere/events".into(),
                event("2026-11-01"),
                StatusCode::FORBIDDEN,
                "source_not_allowed",
            ),
        ] {
            let (s, b) = call(&state, "POST", &uri, token, "direct_care", Some(body)).await;
            assert_eq!((s, b["error"].as_str()), (status, Some(code)), "{b}");
        }
        assert_eq!(t.store.person_events(&theirs).await.unwrap().len(), stored);
        t.finish().await;
    }
}

/// Regression (issue 12, finding 3): two or more partner systems pushing at
/// once, with an advisor reading, met "database is locked" on SQLite (a
/// transaction that read and then wrote lost the race for the write lock).
/// Every push and every read now succeeds, on both backends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_pushes_and_reads_never_meet_a_locked_database() {
    for t in stores().await {
        let (partner, advisor, patient) = linked(&t.store).await;
        let theirs = person_of(&t.store, &patient).await;
        let state = with_matcher(&t.store).await;
        // As if Ann had found the resident by a search.
        t.store
            .relate("ann", std::slice::from_ref(&theirs), "search", i64::MAX)
            .await
            .unwrap();
        let audited = t.store.audit_log(0).await.unwrap().len();
        let mut tasks = Vec::new();
        for pusher in 0..8 {
            let (state, partner, advisor, patient, theirs) = (
                state.clone(),
                partner.clone(),
                advisor.clone(),
                patient.clone(),
                theirs.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut statuses = Vec::new();
                for i in 0..6 {
                    let mut copy = patient.clone();
                    copy["id"] = json!(format!("concurrent-{pusher}-{i}"));
                    statuses.push(push(&state, GP, &partner, copy.to_string()).await.0);
                    let uri = format!("/api/v1/residents/{theirs}");
                    statuses.push(get(&state, &uri, &advisor).await.0);
                }
                statuses
            }));
        }
        let mut answered = 0;
        for task in tasks {
            for status in task.await.unwrap() {
                assert!(status.is_success(), "{}: {status}", t.name);
                answered += 1;
            }
        }
        assert_eq!(answered, 96);
        let log = t.store.audit_log(0).await.unwrap();
        assert_eq!(
            log.len() - audited,
            96,
            "{}: every push and read audited",
            t.name
        );
        t.finish().await;
    }
}
