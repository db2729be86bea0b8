//! The real-time record path over a real store, on SQLite and PostgreSQL:
//! a pushed record joins its resident's person, a stranger gets a new one,
//! an uncertain match is queued, steward decisions win, re-sending changes
//! nothing, and a failure part-way leaves the store and the index as before.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::{Value, json};
use wherry_core::Date;
use wherry_hub::{Matcher, Outcome, Placed, Pushed, RunOptions, link_run};
use wherry_ingest::Manifest;
use wherry_ingest::read::{Row, pushed_row};
use wherry_link::ReviewRange;
use wherry_store::testing::stores;
use wherry_store::{DecisionKind, RecordKey, Store, Write};

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
    store.person_of(&RecordKey::new(source, id)).await.unwrap()
}

/// Places the Patient `p` as a push of `source`.
async fn place(m: &Matcher, source: &str, p: &Value) -> Result<Placed, wherry_hub::Error> {
    let r = row(p);
    let pushed = Pushed {
        record_id: &r.record_id,
        fields: &r.fields,
        fields_json: &r.fields_json,
        attributes_json: &r.attributes_json,
        raw: &r.raw,
        hash: &r.hash,
    };
    m.place(source, pushed, "test").await
}

/// Records a steward's decision about two records.
async fn decide(store: &Store, kind: DecisionKind, left: (&str, &str), right: (&str, &str)) {
    let mut tx = store.begin().await.unwrap();
    tx.decide(
        kind,
        &RecordKey::new(left.0, left.1),
        &RecordKey::new(right.0, right.1),
        "steward",
        "test",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn pushed_records_are_placed_in_one_transaction() {
    let gp = "gp_registrations";
    for t in stores().await {
        let store = &t.store;
        linked(store).await;
        let matcher = Matcher::open(store.clone(), ReviewRange::default())
            .await
            .unwrap();
        let indexed = matcher.len();
        let before = store.counts().await.unwrap();

        // A second copy of a resident's GP record under a new id joins their person.
        let patients = gp_patients();
        let original = &patients[7];
        let id = original["id"].as_str().unwrap();
        let theirs = person_of(store, gp, id).await.expect("linked by the run");
        let mut copy = original.clone();
        copy["id"] = json!("pushed-copy-1");
        let placed = place(&matcher, gp, &copy).await.unwrap();
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
        assert_eq!(matcher.len(), indexed + 1, "the index holds it");

        // Sending it again stores nothing.
        let again = place(&matcher, gp, &copy).await.unwrap();
        assert_eq!(
            (again.write, &again.outcome),
            (Write::Unchanged, &Outcome::Kept)
        );
        assert_eq!(store.versions(gp, "pushed-copy-1").await.unwrap().len(), 1);
        // Changing it makes one new version; the person stays.
        copy["birthDate"] = json!("1901-01-01");
        let changed = place(&matcher, gp, &copy).await.unwrap();
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
            .seq;
        let stranger = patient(
            "pushed-new-1",
            "Zebedee",
            "Quillfeather",
            "1944-02-29",
            "IP24 9ZZ",
        );
        let placed = place(&matcher, gp, &stranger).await.unwrap();
        assert_eq!(placed.outcome, Outcome::Created, "{}", t.name);
        let history = store.changes(seq, usize::MAX).await.unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(
            (history[0].kind.as_str(), &history[0].person),
            ("created", &placed.person)
        );
        let mut twin = stranger.clone();
        twin["id"] = json!("pushed-new-2");
        let joined = place(&matcher, gp, &twin).await.unwrap();
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
                &["given_name", "family_name", "postcode"],
            ] {
                let f: BTreeMap<String, String> = fields
                    .iter()
                    .filter(|(k, _)| keep.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let best = matcher.candidates(&f, 1).await.unwrap();
                if let Some(c) = best.first().filter(|c| c.person.is_some()) {
                    if c.probability >= 0.5 && c.probability < 0.95 {
                        queued = Some((fhir("pushed-uncertain", &f), c.probability));
                        break 'search;
                    }
                }
            }
        }
        let (uncertain, probability) = queued.expect("some resident's variant is uncertain");
        let placed = place(&matcher, gp, &uncertain).await.unwrap();
        let (other, p) = placed.review.clone().expect("queued for review");
        assert!((p - probability).abs() < 1e-9);
        let items = store
            .review_items(Some(wherry_store::ReviewStatus::Open))
            .await
            .unwrap();
        let item = items
            .iter()
            .find(|i| {
                let keys = [&i.left, &i.right];
                keys.contains(&&RecordKey::new(gp, "pushed-uncertain"))
                    && keys.contains(&&RecordKey::from(other.clone()))
            })
            .expect("the pair is in the queue");
        let explanation: wherry_link::explain::Explanation =
            serde_json::from_str(&item.explanation).expect("the explanation is kept as JSON");
        assert!(
            explanation.terms.iter().any(|t| t.column == "family_name"),
            "with its explanation: {}",
            item.explanation
        );

        // A steward's cannot-link keeps a perfect copy out of its original's
        // person; a must-link puts a stranger in with a resident.
        let id = patients[30]["id"].as_str().unwrap();
        let theirs = person_of(store, gp, id).await.unwrap();
        decide(
            store,
            DecisionKind::CannotLink,
            (gp, "pushed-barred"),
            (gp, id),
        )
        .await;
        let mut barred = patients[30].clone();
        barred["id"] = json!("pushed-barred");
        let placed = place(&matcher, gp, &barred).await.unwrap();
        assert_ne!(placed.person, theirs, "{}: the cannot-link wins", t.name);
        decide(
            store,
            DecisionKind::MustLink,
            (gp, id),
            (gp, "pushed-vouched"),
        )
        .await;
        let vouched = patient(
            "pushed-vouched",
            "Ysolde",
            "Marchbank",
            "1950-05-05",
            "PE30 9ZZ",
        );
        let placed = place(&matcher, gp, &vouched).await.unwrap();
        assert_eq!(placed.person, theirs, "{}: the must-link wins", t.name);
        assert!(matches!(
            placed.outcome,
            Outcome::Joined {
                probability: None,
                ..
            }
        ));
        let methods = store.link_methods().await.unwrap();
        assert_eq!(
            methods.get(&wherry_store::LinkMethod::Steward),
            Some(&1),
            "{methods:?}"
        );

        // Every push above stored exactly its versions.
        let after = store.counts().await.unwrap();
        assert_eq!(after.versions - before.versions, 7, "{}", t.name);
        assert_eq!(after.records - before.records, 6, "{}", t.name);

        // A source the store does not know: an error, nothing stored.
        let err = place(&matcher, "no_such_source", &stranger)
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
        let matcher = Matcher::open(store.clone(), ReviewRange::default())
            .await
            .unwrap();
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
        assert!(place(&matcher, gp, &stranger).await.is_err());
        t.execute("ALTER TABLE link_history_away RENAME TO link_history")
            .await;
        assert_eq!(store.counts().await.unwrap(), before, "{}", t.name);
        assert_eq!(store.person_ids().await.unwrap().len(), persons);
        let fields: BTreeMap<String, String> = row(&stranger).fields;
        let found = matcher.candidates(&fields, 5).await.unwrap();
        assert!(
            found.iter().all(|c| c.record.record_id != "pushed-fail"),
            "{}: the index did not take it",
            t.name
        );
        // Once the store works again the same push succeeds.
        let placed = place(&matcher, gp, &stranger).await.unwrap();
        assert_eq!(placed.outcome, Outcome::Created);
        t.finish().await;
    }
}

#[tokio::test]
async fn a_linkage_run_that_fails_half_way_leaves_the_store_unchanged() {
    for t in stores().await {
        let store = &t.store;
        linked(store).await;
        // A new partner's records, so the run has links to write.
        let path = county().join("extracts/police_vulnerable.csv");
        let police = manifest("police_vulnerable");
        wherry_ingest::ingest(store, &police, &path, None, "test", today())
            .await
            .unwrap();
        let links = store.person_links().await.unwrap();
        let persons = store.person_ids().await.unwrap().len();
        let changes = store.changes(0, usize::MAX).await.unwrap().len();
        let generation = store.generation().await.unwrap();
        // Saving the model, the run's last write, is refused: the links,
        // persons and history written before it must go too.
        if t.name == "sqlite" {
            t.execute(
                "CREATE TRIGGER refuse_models BEFORE INSERT ON models \
                 BEGIN SELECT RAISE(ABORT, 'models refused'); END",
            )
            .await;
        } else {
            t.execute(
                "CREATE FUNCTION refuse_models() RETURNS trigger LANGUAGE plpgsql \
                 AS $$ BEGIN RAISE EXCEPTION 'models refused'; END $$",
            )
            .await;
            t.execute(
                "CREATE TRIGGER refuse_models BEFORE INSERT ON models \
                 FOR EACH ROW EXECUTE FUNCTION refuse_models()",
            )
            .await;
        }
        let err = link_run(store, &RunOptions::default(), std::sync::Arc::new(()))
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("models refused"),
            "{}: {err}",
            t.name
        );
        let now = store.person_links().await.unwrap();
        assert!(
            !now.iter().any(|l| l.record.source == "police_vulnerable"),
            "{}: the new partner's links were rolled back",
            t.name
        );
        assert_eq!(now, links, "{}: links as before", t.name);
        assert_eq!(
            store.person_ids().await.unwrap().len(),
            persons,
            "{}",
            t.name
        );
        let after = store.changes(0, usize::MAX).await.unwrap().len();
        assert_eq!(after, changes, "{}: no change feed entries", t.name);
        assert_eq!(store.generation().await.unwrap(), generation, "{}", t.name);
        t.finish().await;
    }
}
