//! Versions: unchanged rows make none, a changed row makes exactly one, a full
//! extract withdraws records it no longer holds, and the same file is a no-op.

use std::path::Path;

use wherry_store::testing::stores;

use crate::util::*;

/// The libraries extract with its broken rows removed (so edits are simple).
fn clean_libraries(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(county().join("extracts/libraries.csv")).unwrap();
    let bad: Vec<usize> = std::fs::read_to_string(county().join("truth/bad_rows.csv"))
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("libraries,"))
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    let lines: Vec<String> = text
        .lines()
        .enumerate()
        .filter(|(i, _)| !bad.contains(&(i + 1)))
        .map(|(_, l)| l.to_string())
        .collect();
    std::fs::write(dir.join("libraries.csv"), lines.join("\n") + "\n").unwrap();
    lines
}

#[tokio::test]
async fn unchanged_rows_make_no_versions_and_one_changed_row_makes_one() {
    let tmp = tempfile::tempdir().unwrap();
    let lines = clean_libraries(tmp.path());
    let file = tmp.path().join("libraries.csv");
    for t in stores().await {
        t.store.migrate().await.unwrap();
        let first = load(&t.store, "libraries", &file).await.unwrap();
        assert_eq!(
            (first.counts.stored, first.counts.quarantined),
            (lines.len() as i64 - 1, 0),
            "{}",
            t.name
        );
        let before = t.store.counts().await.unwrap();

        // The same file again: a no-op.
        let again = load(&t.store, "libraries", &file).await.unwrap();
        assert!(again.already_loaded, "{}", t.name);
        let c = again.counts;
        assert_eq!(
            c.rows,
            c.stored + c.unchanged + c.updated + c.quarantined,
            "{}: {c:?}",
            t.name
        );
        assert_eq!(
            t.store.counts().await.unwrap(),
            before,
            "{}: nothing changed",
            t.name
        );

        // The same rows in another order (another file): unchanged, no versions.
        let mut shuffled = lines.clone();
        shuffled[1..].reverse();
        let other = tmp.path().join("libraries-reordered.csv");
        std::fs::write(&other, shuffled.join("\n") + "\n").unwrap();
        let r = load(&t.store, "libraries", &other).await.unwrap();
        assert_eq!(
            (r.counts.unchanged, r.counts.stored, r.counts.updated),
            (lines.len() as i64 - 1, 0, 0),
            "{}",
            t.name
        );
        assert_eq!(
            t.store.counts().await.unwrap().versions,
            before.versions,
            "{}",
            t.name
        );

        // One row edited (its postcode) and one row gone from a full extract.
        let mut edited = lines.clone();
        let fields: Vec<&str> = edited[1].split(',').collect();
        let id = fields[0].to_string();
        let gone = edited[2].split(',').next().unwrap().to_string();
        edited[1] = edited[1].replace(fields[6], "NR99 9ZZ");
        edited.remove(2);
        let changed = tmp.path().join("libraries-changed.csv");
        std::fs::write(&changed, edited.join("\n") + "\n").unwrap();
        let r = load(&t.store, "libraries", &changed).await.unwrap();
        assert_eq!(
            (r.counts.updated, r.counts.withdrawn, r.counts.stored),
            (1, 1, 0),
            "{}: {r:?}",
            t.name
        );
        assert_eq!(
            t.store.counts().await.unwrap().versions,
            before.versions + 1,
            "{}",
            t.name
        );
        let versions = t.store.versions("libraries", &id).await.unwrap();
        assert_eq!(versions.len(), 2, "{}", t.name);
        assert!(
            versions[1].fields.contains("NR99 9ZZ"),
            "{}: {versions:?}",
            t.name
        );
        let records = t.store.records("libraries").await.unwrap();
        assert!(
            records.iter().any(|r| r.record_id == gone && r.withdrawn),
            "{}: withdrawn, kept",
            t.name
        );
        t.finish().await;
    }
}
