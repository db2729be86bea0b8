//! The hub over a store, on SQLite and on PostgreSQL: ingest, link, stable
//! ids, steward decisions, the review queue.

use std::collections::HashMap;
use std::path::Path;

use wherry_store::testing::stores;

use crate::util::*;

const SOURCES: [(&str, &str); 5] = [
    ("social_care", "social_care.csv"),
    ("gp_registrations", "gp_registrations.jsonl"),
    ("fire_rescue", "fire_rescue.csv"),
    ("district_council", "district_council.csv"),
    ("police_vulnerable", "police_vulnerable.csv"),
];

fn ok(dir: &Path, args: &[&str]) -> String {
    let o = wherry(dir, args);
    assert!(o.status.success(), "wherry {args:?}: {}", stderr(&o));
    stdout(&o)
}

fn manifest(source: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/sources")
        .join(format!("{source}.toml"))
        .display()
        .to_string()
}

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
        .map(|(s, r, p)| ((s, r), p))
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
            [("automatic".to_string(), first.len() as i64)],
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
            .0;

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
            .filter(|c| c.1 != "created")
            .flat_map(|c| {
                let others: Vec<String> = serde_json::from_str(&c.3).unwrap();
                std::iter::once(c.2).chain(others)
            })
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
        t.store
            .decide(
                "cannot_link",
                (&split_a.0, &split_a.1),
                (&split_b.0, &split_b.1),
                "test",
                "twins",
            )
            .await
            .unwrap();
        t.store
            .decide(
                "must_link",
                (&merge_a.0, &merge_a.1),
                (&merge_b.0, &merge_b.1),
                "test",
                "same person",
            )
            .await
            .unwrap();
        let seq = t
            .store
            .changes(0, usize::MAX)
            .await
            .unwrap()
            .last()
            .unwrap()
            .0;
        ok(tmp.path(), &["link", "run", "--database", db]);
        let kinds: Vec<String> = t
            .store
            .changes(seq, usize::MAX)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.1)
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

        // The review queue: accepting an item joins its pair on the next run.
        let list = ok(tmp.path(), &["review", "list", "--database", db]);
        let first_item: Vec<&str> = list
            .lines()
            .next()
            .expect("uncertain pairs are queued")
            .split('\t')
            .collect();
        let id = first_item[0];
        let shown = ok(tmp.path(), &["review", "show", id, "--database", db]);
        assert!(shown.contains("total match weight"), "{shown}");
        ok(
            tmp.path(),
            &[
                "review",
                "accept",
                id,
                "--reason",
                "checked with the resident",
                "--database",
                db,
            ],
        );
        ok(tmp.path(), &["link", "run", "--database", db]);
        let split = |s: &str| {
            let (a, b) = s.split_once('/').unwrap();
            (a.to_string(), b.to_string())
        };
        let now = links(&t.store).await;
        assert_eq!(
            now[&split(first_item[3])],
            now[&split(first_item[4])],
            "{}: accepted pair joined",
            t.name
        );
        let again = wherry(tmp.path(), &["review", "accept", id, "--database", db]);
        assert!(!again.status.success() && stderr(&again).contains("no open review item"));
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
