//! Files that cannot be taken: each a clear error naming the file, the line
//! and the reason, and the store exactly as it was.

use wherry_store::testing::stores;

use crate::util::*;

#[tokio::test]
async fn bad_files_are_refused_and_the_store_is_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(county().join("extracts/libraries.csv")).unwrap();
    let header = good.lines().next().unwrap().to_string();
    let row = good.lines().nth(1).unwrap().to_string();
    let mut latin1 = format!("{header}\n{row}\n").into_bytes();
    latin1.extend_from_slice(
        b"2900000001,Zo\xeb,Smith,01-01-1950,,,NR1 3AB,Norwich Library,01-01-2020\n",
    );
    let long = format!(
        "{header}\n{row}\n2900000002,{},Smith,01-01-1950,,,NR1 3AB,X,01-01-2020\n",
        "a".repeat(10 << 20)
    );
    let cases: Vec<(&str, Vec<u8>, Vec<&str>)> = vec![
        ("latin1.csv", latin1, vec!["latin1.csv line 3", "not UTF-8"]),
        (
            "missing.csv",
            header.replace(",postcode", "").into_bytes(),
            vec!["missing.csv line 1", "missing columns", "postcode"],
        ),
        (
            "long.csv",
            long.into_bytes(),
            vec!["long.csv line 3", "over the 1 MiB"],
        ),
        ("empty.csv", Vec::new(), vec!["empty.csv", "empty"]),
    ];
    for t in stores().await {
        t.store.migrate().await.unwrap();
        load(
            &t.store,
            "libraries",
            &county().join("extracts/libraries.csv"),
        )
        .await
        .unwrap();
        let before = t.store.counts().await.unwrap();
        for (name, bytes, words) in &cases {
            let path = tmp.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            let e = load(&t.store, "libraries", &path)
                .await
                .unwrap_err()
                .to_string();
            for w in words {
                assert!(e.contains(w), "{}: {name}: {w:?} not in {e}", t.name);
            }
            assert_eq!(
                t.store.counts().await.unwrap(),
                before,
                "{}: {name} left the store untouched",
                t.name
            );
        }
        t.finish().await;
    }
}

#[tokio::test]
async fn bad_event_rows_are_quarantined_with_their_line_and_the_rest_stored() {
    let tmp = tempfile::tempdir().unwrap();
    let events = tmp.path().join("libraries_events.csv");
    let held = first_id(&county().join("extracts/libraries.csv"));
    std::fs::write(
        &events,
        format!(
            "source,record_id,date,service,contact_type,practitioner\n\
             libraries,{held},2026-01-05,library,visit,Ann Smith\n\
             libraries,{held},2026-02-31,library,visit,Ann Smith\n\
             libraries,{held},2026-03-01,library\n\
             libraries,{held},2099-01-01,library,visit,Ann Smith\n\
             libraries,LB-NOT-HELD,2026-01-05,library,visit,Ann Smith\n"
        ),
    )
    .unwrap();
    for t in stores().await {
        t.store.migrate().await.unwrap();
        let r = wherry_ingest::ingest(
            &t.store,
            &manifest("libraries"),
            &county().join("extracts/libraries.csv"),
            Some(&events),
            "test",
            today(),
        )
        .await
        .unwrap();
        assert_eq!(
            (r.events, r.events_quarantined),
            (1, 4),
            "{}: {r:?}",
            t.name
        );
        let q: Vec<(String, i64, String)> = t
            .store
            .quarantined("libraries")
            .await
            .unwrap()
            .into_iter()
            .filter(|q| q.file == "libraries_events.csv")
            .map(|q| {
                (
                    q.file,
                    q.line,
                    q.reason.split(':').next().unwrap().to_string(),
                )
            })
            .collect();
        let expected = [
            (3, "impossible_date"),
            (4, "missing_column"),
            (5, "future_date"),
            (6, "unknown_record"),
        ];
        assert_eq!(q.len(), 4, "{}: {q:?}", t.name);
        for ((_, line, reason), (l, want)) in q.iter().zip(expected) {
            assert_eq!((*line, reason.as_str()), (l, want), "{}", t.name);
        }
        t.finish().await;
    }
}

/// The first record id of a CSV extract (its first column).
fn first_id(path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let line = text.lines().nth(1).unwrap();
    line.split(',').next().unwrap().to_string()
}

/// Issue 13, defect 2: another source's events file given to an ingest is
/// refused whole, and nothing is stored; events of records the source
/// does not hold are quarantined with their line and reason.
#[tokio::test]
async fn an_events_file_of_another_source_is_refused_and_nothing_is_filed_under_the_wrong_source() {
    let tmp = tempfile::tempdir().unwrap();
    let theirs = tmp.path().join("social_care_events.csv");
    std::fs::write(
        &theirs,
        "source,record_id,date,service,contact_type,practitioner\n\
         social_care,85750065,2024-11-06,occupational_therapy,assessment,Stuart Okafor\n",
    )
    .unwrap();
    for t in stores().await {
        t.store.migrate().await.unwrap();
        let before = t.store.counts().await.unwrap();
        let e = wherry_ingest::ingest(
            &t.store,
            &manifest("libraries"),
            &county().join("extracts/libraries.csv"),
            Some(&theirs),
            "test",
            today(),
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("social_care_events.csv line 2")
                && e.contains("social_care's, not libraries'"),
            "{}: {e}",
            t.name
        );
        assert_eq!(
            t.store.counts().await.unwrap(),
            before,
            "{}: nothing stored",
            t.name
        );
        t.finish().await;
    }
}
