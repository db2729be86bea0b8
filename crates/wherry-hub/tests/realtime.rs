//! The real-time record path over a real store, on SQLite and PostgreSQL:
//! a pushed record joins its resident's person, a stranger gets a new one,
//! an uncertain match is queued, steward decisions win, re-sending changes
//! nothing, and a failure part-way leaves the store and the index as before.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::{Value, json};
use wherry_core::Date;
use wherry_hub::realtime::Write;
use wherry_hub::{Matcher, Outcome, RunOptions, link_run};
use wherry_ingest::Manifest;
use wherry_ingest::read::{Row, pushed_row};
use wherry_store::Store;
use wherry_store::testing::stores;

const SOURCES: [(&str, &str); 4] = [
    ("social_care", "social_care.csv"),
    ("gp_registrations", "gp_registrations.jsonl"),
    ("fire_rescue", "fire_rescue.csv"),
    ("district_council", "district_council.csv"),
];

fn county() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hub-county");
        let config = wherry_synth::Config {
            residents: 1_500,
            seed: 12,
            ..Default::default()
        };
        wherry_synth::generate(&config, &dir, true, &mut |_, _| {}).unwrap();
        dir
    })
}

fn manifest(source: &str) -> Manifest {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/sources")
        .join(format!("{source}.toml"));
    wherry_ingest::load_manifest(&path).unwrap().0
}

fn today() -> Date {
    Date::new(2026, 11, 22).unwrap()
}

/// A store with the county's extracts ingested and linked once.
async fn linked(store: &Store) {
    store.migrate().await.unwrap();
    for (source, file) in SOURCES {
        let path = county().join("extracts").join(file);
        wherry_ingest::ingest(store, &manifest(source), &path, None, "test", today())
            .await
            .unwrap();
    }
    link_run(store, &RunOptions::default(), std::sync::Arc::new(()))
        .await
        .unwrap();
}

/// The county's GP records that ingest took, as FHIR Patient objects.
fn gp_patients() -> Vec<Value> {
    let m = manifest("gp_registrations");
    std::fs::read_to_string(county().join("extracts/gp_registrations.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| pushed_row(&m, l, today()).is_ok())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A UK Core Patient with these details.
fn patient(id: &str, given: &str, family: &str, dob: &str, postcode: &str) -> Value {
    json!({
        "resourceType": "Patient",
        "id": id,
        "name": [{"use": "official", "family": family, "given": [given]}],
        "gender": "female",
        "birthDate": dob,
        "address": [{"use": "home", "line": ["1 Nowhere Lane"], "city": "Thetford", "postalCode": postcode}],
    })
}

/// A Patient carrying only these canonical fields.
fn fhir(id: &str, f: &BTreeMap<String, String>) -> Value {
    let mut p = json!({"resourceType": "Patient", "id": id, "name": [{}], "address": [{}]});
    for (k, v) in f {
        match k.as_str() {
            "given_name" => p["name"][0]["given"] = json!([v]),
            "family_name" => p["name"][0]["family"] = json!(v),
            "dob" => p["birthDate"] = json!(v),
            "sex" => p["gender"] = json!(v),
            "postcode" => p["address"][0]["postalCode"] = json!(v),
            _ => unreachable!("not kept"),
        }
    }
    p
}

fn row(p: &Value) -> Row {
    pushed_row(&manifest("gp_registrations"), &p.to_string(), today()).unwrap()
}

async fn person_of(store: &Store, source: &str, id: &str) -> Option<String> {
    store
        .person_links()
        .await
        .unwrap()
        .into_iter()
        .find(|(s, r, _)| s == source && r == id)
        .map(|l| l.2)
}

#[tokio::test]
async fn pushed_records_are_placed_in_one_transaction() {
    let gp = "gp_registrations";
    for t in stores().await {
        let store = &t.store;
        linked(store).await;
        let matcher = Matcher::open(store.clone(), (0.5, 0.95)).await.unwrap();
        let indexed = matcher.len().await;
        let before = store.counts().await.unwrap();

        // A second copy of a resident's GP record under a new id joins their person.
        let patients = gp_patients();
        let original = &patients[7];
        let id = original["id"].as_str().unwrap();
        let theirs = person_of(store, gp, id).await.expect("linked by the run");
        let mut copy = original.clone();
        copy["id"] = json!("pushed-copy-1");
        let placed = matcher.place(gp, &row(&copy), "test").await.unwrap();
        assert_eq!(placed.person, theirs, "{}", t.name);
        assert!(
            matches!(&placed.outcome, Outcome::Joined { probability: Some(p), .. } if *p >= 0.95),
            "{}: {:?}",
            t.name,
            placed.outcome
        );
        assert_eq!((placed.write, placed.version), (Write::Stored, 1));
        assert_eq!(
            person_of(store, gp, "pushed-copy-1").await,
            Some(theirs.clone())
        );
        assert_eq!(matcher.len().await, indexed + 1, "the index holds it");

        // Sending it again stores nothing.
        let again = matcher.place(gp, &row(&copy), "test").await.unwrap();
        assert_eq!(
            (again.write, &again.outcome),
            (Write::Unchanged, &Outcome::Kept)
        );
        assert_eq!(store.versions(gp, "pushed-copy-1").await.unwrap().len(), 1);
        // Changing it makes one new version; the person stays.
        copy["birthDate"] = json!("1901-01-01");
        let changed = matcher.place(gp, &row(&copy), "test").await.unwrap();
        assert_eq!((changed.write, changed.version), (Write::Updated, 2));
        assert_eq!(changed.person, theirs);
        assert_eq!(store.versions(gp, "pushed-copy-1").await.unwrap().len(), 2);

        // A stranger gets a new person, recorded in the link history; a
        // second record of the stranger then joins that person.
        let seq = store
            .changes(0, usize::MAX)
            .await
            .unwrap()
            .last()
            .unwrap()
            .0;
        let stranger = patient(
            "pushed-new-1",
            "Zebedee",
            "Quillfeather",
            "1944-02-29",
            "IP24 9ZZ",
        );
        let placed = matcher.place(gp, &row(&stranger), "test").await.unwrap();
        assert_eq!(placed.outcome, Outcome::Created, "{}", t.name);
        let history = store.changes(seq, usize::MAX).await.unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(
            (history[0].1.as_str(), &history[0].2),
            ("created", &placed.person)
        );
        let mut twin = stranger.clone();
        twin["id"] = json!("pushed-new-2");
        let joined = matcher.place(gp, &row(&twin), "test").await.unwrap();
        assert_eq!(
            joined.person, placed.person,
            "{}: the index learnt the stranger",
            t.name
        );

        // An uncertain match is queued with its explanation. Find a variant
        // of a resident whose best match is in the review range.
        let mut queued = None;
        'search: for p in patients.iter().skip(20).take(300) {
            let fields = row(p).fields;
            for keep in [
                &["family_name", "postcode"][..],
                &["family_name", "postcode", "sex"],
                &["given_name", "family_name", "sex"],
                &["family_name", "dob"],
            ] {
                let f: BTreeMap<String, String> = fields
                    .iter()
                    .filter(|(k, _)| keep.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let best = matcher.candidates(&f, 1).await.unwrap();
                if let Some((c, Some(_))) = best.first() {
                    if c.probability >= 0.5 && c.probability < 0.95 {
                        queued = Some((fhir("pushed-uncertain", &f), c.probability));
                        break 'search;
                    }
                }
            }
        }
        let (uncertain, probability) = queued.expect("some resident's variant is uncertain");
        let placed = matcher.place(gp, &row(&uncertain), "test").await.unwrap();
        let (other, p) = placed.review.clone().expect("queued for review");
        assert!((p - probability).abs() < 1e-9);
        let items = store.review_items(Some("open")).await.unwrap();
        let item = items
            .iter()
            .find(|i| {
                let keys = [(&i.1, &i.2), (&i.3, &i.4)];
                keys.contains(&(&gp.to_string(), &"pushed-uncertain".to_string()))
                    && keys.contains(&(&other.0, &other.1))
            })
            .expect("the pair is in the queue");
        assert!(
            item.6.contains("family_name"),
            "with its explanation: {}",
            item.6
        );

        // A steward's cannot-link keeps a perfect copy out of its original's
        // person; a must-link puts a stranger in with a resident.
        let id = patients[30]["id"].as_str().unwrap();
        let theirs = person_of(store, gp, id).await.unwrap();
        store
            .decide(
                "cannot_link",
                (gp, "pushed-barred"),
                (gp, id),
                "steward",
                "different people",
            )
            .await
            .unwrap();
        let mut barred = patients[30].clone();
        barred["id"] = json!("pushed-barred");
        let placed = matcher.place(gp, &row(&barred), "test").await.unwrap();
        assert_ne!(placed.person, theirs, "{}: the cannot-link wins", t.name);
        store
            .decide(
                "must_link",
                (gp, id),
                (gp, "pushed-vouched"),
                "steward",
                "same person",
            )
            .await
            .unwrap();
        let vouched = patient(
            "pushed-vouched",
            "Ysolde",
            "Marchbank",
            "1950-05-05",
            "PE30 9ZZ",
        );
        let placed = matcher.place(gp, &row(&vouched), "test").await.unwrap();
        assert_eq!(placed.person, theirs, "{}: the must-link wins", t.name);
        assert!(matches!(
            placed.outcome,
            Outcome::Joined {
                probability: None,
                ..
            }
        ));
        let methods = store.link_methods().await.unwrap();
        assert!(methods.contains(&("steward".to_string(), 1)), "{methods:?}");

        // Every push above stored exactly its versions.
        let after = store.counts().await.unwrap();
        assert_eq!(after.versions - before.versions, 7, "{}", t.name);
        assert_eq!(after.records - before.records, 6, "{}", t.name);

        // A source the store does not know: an error, nothing stored.
        let err = matcher
            .place("no_such_source", &row(&stranger), "test")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("no_such_source"), "{err}");
        assert_eq!(store.counts().await.unwrap(), after);
        t.finish().await;
    }
}

#[tokio::test]
async fn a_failure_part_way_leaves_the_store_and_the_index_as_before() {
    let gp = "gp_registrations";
    for t in stores().await {
        let store = &t.store;
        linked(store).await;
        let matcher = Matcher::open(store.clone(), (0.5, 0.95)).await.unwrap();
        let before = store.counts().await.unwrap();
        let persons = store.person_ids().await.unwrap().len();
        // The link history cannot be written: a new person's creation fails
        // after its record version was written in the same transaction.
        t.execute("ALTER TABLE link_history RENAME TO link_history_away")
            .await;
        let stranger = patient(
            "pushed-fail",
            "Quentin",
            "Oddbody",
            "1939-09-09",
            "NR35 9ZZ",
        );
        assert!(matcher.place(gp, &row(&stranger), "test").await.is_err());
        t.execute("ALTER TABLE link_history_away RENAME TO link_history")
            .await;
        assert_eq!(store.counts().await.unwrap(), before, "{}", t.name);
        assert_eq!(store.person_ids().await.unwrap().len(), persons);
        let fields: BTreeMap<String, String> = row(&stranger).fields;
        let found = matcher.candidates(&fields, 5).await.unwrap();
        assert!(
            found.iter().all(|(c, _)| c.record_id != "pushed-fail"),
            "{}: the index did not take it",
            t.name
        );
        // Once the store works again the same push succeeds.
        let placed = matcher.place(gp, &row(&stranger), "test").await.unwrap();
        assert_eq!(placed.outcome, Outcome::Created);
        t.finish().await;
    }
}
