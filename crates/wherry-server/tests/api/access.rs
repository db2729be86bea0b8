//! Access to the resident view: no token is 401, a purpose the role lacks is 403 with no
//! personal data, each purpose sees only what each source's agreement
//! grants it (checked against the manifests field by field), withheld
//! sources are named without content, and every successful read has
//! exactly one audit entry.

use std::path::Path;
use std::sync::Arc;

use crate::{manifest, send};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use wherry_core::{Date, Purpose};
use wherry_server::AppState;
use wherry_store::testing::stores;
use wherry_store::{Link, Linkage, Store};

pub const PERSON: &str = "P000000001";

/// One resident known to social care, the fire service and the police,
/// linked as one person; users in three roles. Returns their tokens.
pub async fn hub(store: &Store, dir: &Path) -> [(String, &'static str); 4] {
    store.migrate().await.unwrap();
    let files = [
        (
            "social_care",
            "person_id,nhs_number,forename,middle_names,surname,date_of_birth,gender,address_line_1,address_line_2,town,postcode,uprn,telephone,email,lives_alone,limited_mobility,oxygen_therapy,smoker,care_package,last_updated\nS1,9434765919,Margaret,Rose,Thrower,07/03/1948,Female,5 Abbey Place,,Norwich,NR3 8JY,100090162805,01603 000000,m@example.org,Y,Y,N,N,Y,01/10/2026\n",
        ),
        (
            "fire_rescue",
            "person_ref,first_name,last_name,dob,sex,address,postcode,uprn,nhs_number,phone,smoker,oxygen_therapy,previous_fire,last_updated\nF1,Peggy,Thrower,1948-03-07,F,\"5 Abbey Place, Norwich\",NR3 8JY,100090162805,9434765919,01603 000000,no,no,yes,2025-06-01\n",
        ),
        (
            "police_vulnerable",
            "subject_id,surname,forename,dob,gender,address,postcode,vulnerability,recorded_on,last_updated\nV1,Thrower,Margaret,07/03/1948,F,\"5 Abbey Place, Norwich\",NR3 8JY,financial_abuse,2026-01-05,20260105\n",
        ),
    ];
    for (source, text) in files {
        let path = dir.join(format!("{source}.csv"));
        std::fs::write(&path, text).unwrap();
        let today = Date::new(2026, 11, 22).unwrap();
        let r = wherry_ingest::ingest(store, &manifest(source), &path, None, "test", today)
            .await
            .unwrap();
        assert_eq!(r.counts.stored, 1, "{source}: {r:?}");
    }
    let link = |source: &str, id: &str| Link {
        source: source.into(),
        record_id: id.into(),
        person: PERSON.into(),
        method: wherry_store::LinkMethod::Automatic,
        probability: None,
    };
    let mut tx = store.begin().await.unwrap();
    tx.save_linkage(&Linkage {
        created: vec![PERSON.into()],
        links: vec![
            link("social_care", "S1"),
            link("fire_rescue", "F1"),
            link("police_vulnerable", "V1"),
        ],
        ..Linkage::default()
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut tokens = Vec::new();
    for (name, role) in [
        ("ann", "advisor"),
        ("fred", "fire_prevention"),
        ("cath", "caseworker"),
        ("ada", "analyst"),
    ] {
        let token = wherry_access::token::new_token().unwrap();
        assert!(
            store
                .add_user(name, role, &wherry_access::token::token_hash(&token), &[])
                .await
                .unwrap()
        );
        tokens.push((token, role));
        // As if each had found the resident by a search just now: a
        // legitimate reason to open them (tests of the rule itself make
        // their own users).
        store
            .relate(name, &[PERSON.to_string()], "search", i64::MAX)
            .await
            .unwrap();
    }
    tokens.try_into().unwrap()
}

/// The fixture's review item between the fire and the police records.
pub fn fire_police_item(probability: f64, explanation: &str) -> wherry_store::NewReviewItem {
    wherry_store::NewReviewItem {
        left: wherry_store::RecordKey::new("fire_rescue", "F1"),
        right: wherry_store::RecordKey::new("police_vulnerable", "V1"),
        probability,
        explanation: explanation.into(),
    }
}

/// Puts the fixture's police record on a person of its own (P000000099),
/// so that an item between it and another record has something to
/// decide, and queues `review`.
pub async fn police_apart(store: &Store, review: Vec<wherry_store::NewReviewItem>) {
    let mut tx = store.begin().await.unwrap();
    tx.save_linkage(&Linkage {
        created: vec!["P000000099".into()],
        links: vec![Link {
            source: "police_vulnerable".into(),
            record_id: "V1".into(),
            person: "P000000099".into(),
            method: wherry_store::LinkMethod::Automatic,
            probability: None,
        }],
        review,
        ..Linkage::default()
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

async fn get(
    state: &Arc<AppState>,
    uri: &str,
    token: Option<&str>,
    purpose: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = Request::get(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if let Some(p) = purpose {
        req = req.header("wherry-purpose", p);
    }
    send(state, req.body(Body::empty()).unwrap()).await
}

async fn get_with(
    state: &Arc<AppState>,
    uri: &str,
    token: &str,
    purpose: &str,
    reason: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = Request::get(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("wherry-purpose", purpose);
    if let Some(r) = reason {
        req = req.header("wherry-break-glass", r);
    }
    send(state, req.body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn each_caller_sees_only_what_their_purpose_is_granted_and_every_read_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    for t in stores().await {
        let [(advisor, _), (fire, _), (caseworker, _), (analyst, _)] =
            hub(&t.store, dir.path()).await;
        let state = Arc::new(AppState::new(t.store.clone(), None));
        let uri = format!("/api/v1/residents/{PERSON}");

        let (status, body) = get(&state, &uri, None, Some("contact_centre")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{}: {body}", t.name);
        let (status, _) = get(
            &state,
            &uri,
            Some("wherry_not_a_token"),
            Some("contact_centre"),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, body) = get(&state, &uri, Some(&advisor), Some("safeguarding")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        let text = body.to_string();
        for personal in ["Thrower", "Margaret", "NR3", "9434765919", "1948"] {
            assert!(
                !text.contains(personal),
                "a refusal discloses nothing: {text}"
            );
        }
        let (status, body) = get(&state, &uri, Some(&advisor), Some("marketing")).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("unknown_purpose"))
        );
        let (status, _) = get(&state, &uri, Some(&advisor), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, body) = get(
            &state,
            "/api/v1/residents/P999999999",
            Some(&advisor),
            Some("contact_centre"),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::NOT_FOUND, Some("not_found"))
        );
        assert!(
            t.store.audit_log(0).await.unwrap().is_empty(),
            "refusals disclose nothing"
        );

        // Every field shown is granted by that source's agreement for the
        // purpose; sources granting the purpose nothing are withheld by name.
        let mut reads = 0;
        for (token, purpose) in [
            (&fire, Purpose::FirePrevention),
            (&advisor, Purpose::ContactCentre),
            (&caseworker, Purpose::Safeguarding),
        ] {
            let (status, body) = get(&state, &uri, Some(token), Some(purpose.as_str())).await;
            assert_eq!(status, StatusCode::OK, "{}: {body}", t.name);
            reads += 1;
            let mut shown = Vec::new();
            let mut fields_shown = 0;
            for r in body["records"].as_array().unwrap() {
                let source = r["source"].as_str().unwrap();
                let grant = manifest(source)
                    .agreement
                    .grant(purpose)
                    .cloned()
                    .unwrap_or_default();
                for (field, _) in r["fields"].as_object().unwrap() {
                    assert!(
                        grant.fields.contains(field),
                        "{purpose}: {source}.{field} is not granted"
                    );
                    fields_shown += 1;
                }
                for (a, _) in r["attributes"].as_object().unwrap() {
                    assert!(
                        grant.attributes.contains(a),
                        "{purpose}: {source} attribute {a} is not granted"
                    );
                }
                shown.push(source.to_string());
            }
            assert!(
                fields_shown >= 3 && shown.len() >= 2,
                "{purpose}: the view shows granted fields ({fields_shown} from {shown:?})"
            );
            for w in body["withheld_sources"].as_array().unwrap() {
                let source = w.as_str().unwrap();
                assert!(
                    manifest(source).agreement.grant(purpose).is_none(),
                    "{purpose}: {source} withheld"
                );
                assert!(!shown.contains(&source.to_string()));
            }
            if purpose == Purpose::FirePrevention {
                assert_eq!(
                    body["withheld_sources"],
                    serde_json::json!(["police_vulnerable"])
                );
                let fire_record = &body["records"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|r| r["source"] == "fire_rescue")
                    .unwrap()["fields"];
                assert!(
                    fire_record.get("nhs_number").is_none(),
                    "the fire agreement withholds the NHS number from fire prevention"
                );
                assert_eq!(fire_record["family_name"], "Thrower");
            }
            let log = t.store.audit_log(0).await.unwrap();
            assert_eq!(
                log.len(),
                reads,
                "{}: exactly one audit entry per read",
                t.name
            );
            let last = log.last().unwrap();
            assert_eq!(
                (last.purpose.as_str(), last.person_id.as_deref()),
                (purpose.as_str(), Some(PERSON))
            );
        }
        assert_eq!(
            wherry_access::audit::verify_store(&t.store).await.unwrap(),
            Ok(3)
        );

        // Break-glass: the advisor overrides with a written reason; the read
        // is allowed and its audit entry carries the reason for review.
        let reason = "caller reports a neighbour at risk";
        let (status, body) = get_with(&state, &uri, &advisor, "safeguarding", Some(reason)).await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", t.name);
        assert_eq!(body["break_glass"], true);
        let last = t.store.audit_log(0).await.unwrap().pop().unwrap();
        assert_eq!(last.break_glass.as_deref(), Some(reason));
        let (status, body) = get_with(&state, &uri, &advisor, "safeguarding", Some("  ")).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("break_glass_reason"))
        );
        let (status, _) = get_with(
            &state,
            &uri,
            &fire,
            "fire_prevention",
            Some("not needed for this visit list"),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let last = t.store.audit_log(0).await.unwrap().pop().unwrap();
        assert_eq!(
            last.break_glass, None,
            "no override when the role has the purpose"
        );
        let (status, body) = get_with(
            &state,
            &uri,
            &analyst,
            "direct_care",
            Some("curious about this resident"),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::FORBIDDEN, Some("break_glass_not_allowed")),
            "an analyst sees pseudonymised data only, override or not"
        );
        assert_eq!(
            wherry_access::audit::verify_store(&t.store).await.unwrap(),
            Ok(5)
        );
        t.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_reads_each_get_exactly_one_entry_in_one_unbroken_chain() {
    let dir = tempfile::tempdir().unwrap();
    for t in stores().await {
        let [(advisor, _), (fire, _), ..] = hub(&t.store, dir.path()).await;
        let state = Arc::new(AppState::new(t.store.clone(), None));
        let mut reads = tokio::task::JoinSet::new();
        for i in 0..40 {
            let (state, token) = if i % 2 == 0 {
                (state.clone(), advisor.clone())
            } else {
                (state.clone(), fire.clone())
            };
            reads.spawn(async move {
                let purpose = if i % 2 == 0 {
                    "contact_centre"
                } else {
                    "fire_prevention"
                };
                let uri = format!("/api/v1/residents/{PERSON}");
                get(&state, &uri, Some(&token), Some(purpose)).await.0
            });
        }
        while let Some(status) = reads.join_next().await {
            assert_eq!(status.unwrap(), StatusCode::OK);
        }
        let log = t.store.audit_log(0).await.unwrap();
        assert_eq!(log.len(), 40, "{}", t.name);
        let purposes = log
            .iter()
            .filter(|e| e.purpose == "fire_prevention")
            .count();
        assert_eq!(purposes, 20);
        assert_eq!(
            wherry_access::audit::verify_store(&t.store).await.unwrap(),
            Ok(40)
        );
        t.finish().await;
    }
}
