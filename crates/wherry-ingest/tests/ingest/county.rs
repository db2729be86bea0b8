//! Every extract of the synthetic county: rows = stored + quarantined, and
//! the quarantine holds exactly the planted broken rows, with their reasons.

use std::collections::BTreeMap;

use wherry_store::testing::stores;

use crate::util::*;

#[tokio::test]
async fn every_row_is_stored_or_quarantined_and_exactly_the_planted_rows_are_quarantined() {
    let county = county();
    let mut planted: BTreeMap<(String, i64), String> = BTreeMap::new();
    let mut rdr = csv::Reader::from_path(county.join("truth/bad_rows.csv")).unwrap();
    for r in rdr.records() {
        let r = r.unwrap();
        planted.insert((r[0].to_string(), r[1].parse().unwrap()), r[2].to_string());
    }
    assert!(
        planted.len() > 50,
        "the county has broken rows to find ({})",
        planted.len()
    );
    for t in stores().await {
        t.store.migrate().await.unwrap();
        for (source, file) in SOURCES {
            let events = county.join("extracts").join(format!("{source}_events.csv"));
            let r = wherry_ingest::ingest(
                &t.store,
                &manifest(source),
                &county.join("extracts").join(file),
                Some(&events),
                "test",
                today(),
            )
            .await
            .unwrap();
            assert_eq!(
                r.counts.rows,
                r.counts.stored + r.counts.quarantined,
                "{}: {source}: {r:?}",
                t.name
            );
            assert!(r.events > 0, "{}: {source} events", t.name);
            let records = t.store.records(source).await.unwrap();
            assert_eq!(
                records.len() as i64,
                r.counts.stored,
                "{}: {source}",
                t.name
            );
            let found: BTreeMap<(String, i64), String> = t
                .store
                .quarantined(source)
                .await
                .unwrap()
                .into_iter()
                .filter(|q| q.file == file)
                .map(|q| {
                    (
                        (source.to_string(), q.line),
                        q.reason.split(':').next().unwrap().to_string(),
                    )
                })
                .collect();
            let expected: BTreeMap<(String, i64), String> = planted
                .iter()
                .filter(|((s, _), _)| s == source)
                .map(|(k, v)| {
                    (
                        k.clone(),
                        if v == "truncated_json" {
                            "malformed_json".to_string()
                        } else {
                            v.clone()
                        },
                    )
                })
                .collect();
            assert_eq!(found, expected, "{}: {source}", t.name);
        }
        t.finish().await;
    }
}
