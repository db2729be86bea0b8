//! The hub over a store, on SQLite and on PostgreSQL: ingest, link, stable
//! ids, steward decisions, the review queue.

use std::collections::HashMap;
use std::path::Path;

use wherry_store::testing::stores;
use wherry_store::{DecisionKind, RecordKey};

use crate::util::*;

const SOURCES: [(&str, &str); 5] = [
    ("social_care", "social_care.csv"),
    ("gp_registrations", "gp_registrations.jsonl"),
    ("fire_rescue", "fire_rescue.csv"),
    ("district_council", "district_council.csv"),
    ("police_vulnerable", "police_vulnerable.csv"),
];

fn ingest(dir: &Path, url: &str, source: &str, file: &str) {
    let path = dir.join("county/extracts").join(file).display().to_string();
    ok(
        dir,
        &[
            "ingest",
            "--source",
            &manifest(source),
            &path,
            "--database",
            url,
        ],
    );
}

type Links = HashMap<(String, String), String>;

async fn links(store: &wherry_store::Store) -> Links {
    store
        .person_links()
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.record.into_pair(), l.person))
        .collect()
}

#[tokio::test]
async fn ids_are_stable_and_steward_decisions_win_on_every_run() {
    let tmp = tempfile::tempdir().unwrap();
    ok(
        tmp.path(),
        &[
            "synth",
            "--residents",
            "1500",
            "--seed",
            "9",
            "--out",
            "county",
        ],
    );
    for t in stores().await {
        let db = t.url.as_str();
        ok(tmp.path(), &["init", "--database", db]);
        for (s, f) in SOURCES {
            ingest(tmp.path(), db, s, f);
        }
        ok(tmp.path(), &["link", "run", "--database", db]);
        let first = links(&t.store).await;
        let methods = t.store.link_methods().await.unwrap();
        assert_eq!(
            methods,
            [(wherry_store::LinkMethod::Automatic, first.len() as i64)].into(),
            "{}",
            t.name
        );
        let seq = t
            .store
            .changes(0, usize::MAX)
            .await
            .unwrap()
            .last()
            .unwrap()
            .seq;

        // A new partner's extract: persons whose records did not change keep their ids.
        ingest(tmp.path(), db, "libraries", "libraries.csv");
        ok(tmp.path(), &["link", "run", "--database", db]);
        let second = links(&t.store).await;
        let touched: Vec<String> = t
            .store
            .changes(seq, usize::MAX)
            .await
            .unwrap()
            .into_iter()
            .filter(|c| c.kind != "created")
            .flat_map(|c| std::iter::once(c.person).chain(c.others))
            .collect();
        let mut kept = 0;
        for (record, person) in &first {
            if !touched.contains(person) {
                assert_eq!(
                    &second[record], person,
                    "{}: {record:?} changed person without a merge or split",
                    t.name
                );
                kept += 1;
            }
        }
        assert!(
            kept as f64 > first.len() as f64 * 0.95,
            "{}: {kept} of {} kept",
            t.name,
            first.len()
        );
        assert!(
            second.len() > first.len(),
            "{}: the libraries' records are linked",
            t.name
        );

        // A planted merge (must-link across two persons) and a planted split
        // (cannot-link inside one person).
        let mut by_person: HashMap<&String, Vec<&(String, String)>> = HashMap::new();
        for (record, person) in &second {
            by_person.entry(person).or_default().push(record);
        }
        let mut multi: Vec<Vec<&(String, String)>> = by_person
            .values()
            .filter(|v| v.len() >= 2)
            .cloned()
            .collect();
        multi.sort();
        let (split_a, split_b) = (multi[0][0].clone(), multi[0][1].clone());
        let (merge_a, merge_b) = (multi[1][0].clone(), multi[2][0].clone());
        let pair = |r: &(String, String)| (r.0.clone(), r.1.clone());
        let key = |r: &(String, String)| RecordKey::from(r.clone());
        let mut tx = t.store.begin().await.unwrap();
        tx.decide(
            DecisionKind::CannotLink,
            &key(&split_a),
            &key(&split_b),
            "test",
            "twins",
        )
        .await
        .unwrap();
        tx.decide(
            DecisionKind::MustLink,
            &key(&merge_a),
            &key(&merge_b),
            "test",
            "same person",
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let seq = t
            .store
            .changes(0, usize::MAX)
            .await
            .unwrap()
            .last()
            .unwrap()
            .seq;
        ok(tmp.path(), &["link", "run", "--database", db]);
        let kinds: Vec<String> = t
            .store
            .changes(seq, usize::MAX)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.kind)
            .collect();
        assert!(
            kinds.contains(&"merged".to_string()),
            "{}: {kinds:?}",
            t.name
        );
        assert!(
            kinds.contains(&"split".to_string()),
            "{}: {kinds:?}",
            t.name
        );
        for _ in 0..2 {
            let now = links(&t.store).await;
            assert_ne!(
                now[&pair(&split_a)],
                now[&pair(&split_b)],
                "{}: the cannot-link holds",
                t.name
            );
            assert_eq!(
                now[&pair(&merge_a)],
                now[&pair(&merge_b)],
                "{}: the must-link holds",
                t.name
            );
            ok(tmp.path(), &["link", "run", "--database", db]);
        }

        review_takes_effect_at_once(tmp.path(), &t).await;
        let feed = ok(
            tmp.path(),
            &[
                "link",
                "changes",
                "--since",
                "0",
                "--json",
                "--database",
                db,
            ],
        );
        assert!(
            feed.lines()
                .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
        );
        t.finish().await;
    }
}

#[test]
fn source_check_names_the_line_and_key_of_every_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(manifest("libraries")).unwrap();
    let bad = good.replace("given_name = \"first_name\"", "given_nam = \"first_name\"");
    std::fs::write(tmp.path().join("bad.toml"), &bad).unwrap();
    let line = bad
        .lines()
        .position(|l| l.starts_with("given_nam "))
        .unwrap()
        + 1;
    let out = ok(tmp.path(), &["source", "check", &manifest("libraries")]);
    assert!(out.contains(": ok ("), "{out}");
    let o = wherry(tmp.path(), &["source", "check", "bad.toml"]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains(&format!(
            "bad.toml: line {line}, columns.given_nam: unknown canonical field"
        )),
        "{e}"
    );
    assert!(e.contains("1 of 1 manifests have problems"), "{e}");
}

/// The review queue through the binary: every subcommand needs a purpose
/// and leaves an audit entry; accepting an item merges its pair at once (a
/// resident view straight after shows both records with one person), and
/// rejecting one splits it now and on every later run.
async fn review_takes_effect_at_once(dir: &std::path::Path, t: &wherry_store::testing::TestStore) {
    let db = t.url.as_str();
    let _ = ok(
        dir,
        &["user", "add", "sam", "--role", "steward", "--database", db],
    );
    let _ = ok(
        dir,
        &[
            "user",
            "add",
            "carol",
            "--role",
            "caseworker",
            "--database",
            db,
        ],
    );
    let as_sam = [
        "--operator",
        "sam",
        "--purpose",
        "record_matching",
        "--database",
        db,
    ];
    let refused = wherry(
        dir,
        &["review", "show", "1", "--operator", "sam", "--database", db],
    );
    assert!(
        !refused.status.success(),
        "{}: no purpose, no disclosure",
        t.name
    );
    assert!(
        stderr(&refused).contains("--purpose"),
        "{}",
        stderr(&refused)
    );
    let advisor = wherry(
        dir,
        &[
            "review",
            "list",
            "--operator",
            "carol",
            "--purpose",
            "direct_care",
            "--database",
            db,
        ],
    );
    assert!(
        !advisor.status.success() && stderr(&advisor).contains("steward"),
        "{}",
        stderr(&advisor)
    );

    let list = ok(dir, &[&["review", "list"][..], &as_sam].concat());
    // Two open items whose records are with different persons now.
    let before = links(&t.store).await;
    let items: Vec<Vec<String>> = list
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect::<Vec<_>>())
        .filter(|i| before.get(&split(&i[3])) != before.get(&split(&i[4])))
        .take(2)
        .collect();
    assert_eq!(
        items.len(),
        2,
        "{}: uncertain pairs apart are queued: {list}",
        t.name
    );

    let audited = t.store.audit_log(0).await.unwrap().len();
    let shown = ok(
        dir,
        &[&["review", "show", &items[0][0]][..], &as_sam].concat(),
    );
    assert!(shown.contains("total match weight"), "{shown}");
    let log = t.store.audit_log(0).await.unwrap();
    let views: Vec<_> = log[audited..]
        .iter()
        .filter(|e| e.action == "review_view")
        .collect();
    assert_eq!(views.len(), 2, "{}: one entry per record shown", t.name);
    assert!(
        views
            .iter()
            .all(|e| e.user_name == "sam" && e.purpose == "data_quality" && e.person_id.is_some())
    );

    // Accept: one person straight away, no link run between.
    let accepted = ok(
        dir,
        &[
            &[
                "review",
                "accept",
                &items[0][0],
                "--reason",
                "checked with the resident",
            ][..],
            &as_sam,
        ]
        .concat(),
    );
    let now = links(&t.store).await;
    let person = &now[&split(&items[0][3])];
    assert_eq!(person, &now[&split(&items[0][4])], "{}: {accepted}", t.name);
    // As if Carol had found the resident by a search.
    t.store
        .relate("carol", std::slice::from_ref(person), "search", i64::MAX)
        .await
        .unwrap();
    let view = ok(
        dir,
        &[
            "resident",
            "show",
            person,
            "--operator",
            "carol",
            "--purpose",
            "direct_care",
            "--database",
            db,
        ],
    );
    let view: serde_json::Value = serde_json::from_str(&view).unwrap();
    let shown: Vec<(String, String)> = view["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["source"].as_str().unwrap().to_string(),
                r["record_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for side in [&items[0][3], &items[0][4]] {
        let (s, r) = split(side);
        let granted = wherry_ingest::load_manifest(std::path::Path::new(&manifest(&s)))
            .unwrap()
            .0
            .agreement
            .grant(wherry_core::Purpose::DirectCare)
            .is_some();
        assert_eq!(
            shown.contains(&(s.clone(), r)),
            granted,
            "{}: {side} in the view: {shown:?}",
            t.name
        );
    }
    assert!(!shown.is_empty(), "{}: the view shows records", t.name);
    let again = wherry(
        dir,
        &[&["review", "accept", &items[0][0]][..], &as_sam].concat(),
    );
    assert!(!again.status.success() && stderr(&again).contains("no open review item"));

    // Reject: kept apart now and on every later run.
    let _ = ok(
        dir,
        &[
            &["review", "reject", &items[1][0], "--reason", "twins"][..],
            &as_sam,
        ]
        .concat(),
    );
    for _ in 0..2 {
        let now = links(&t.store).await;
        assert_ne!(
            now[&split(&items[1][3])],
            now[&split(&items[1][4])],
            "{}: rejected pair apart",
            t.name
        );
        assert_eq!(
            now[&split(&items[0][3])],
            now[&split(&items[0][4])],
            "{}: accepted pair together",
            t.name
        );
        ok(dir, &["link", "run", "--database", db]);
    }
}

fn split(s: &str) -> (String, String) {
    let (a, b) = s.split_once('/').unwrap();
    (a.to_string(), b.to_string())
}
