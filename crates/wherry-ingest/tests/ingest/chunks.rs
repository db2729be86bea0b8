//! Large extracts are read in chunks: the chunks together are the whole
//! file, with every row's line number kept across chunk boundaries, and a
//! chunked ingest stores every row.

use std::path::Path;

use wherry_ingest::read::{CHUNK, read, read_chunks};
use wherry_store::testing::stores;

use crate::util::*;

const HEADER: &str = "person_id,nhs_number,forename,middle_names,surname,date_of_birth,gender,address_line_1,address_line_2,town,postcode,uprn,telephone,email,lives_alone,limited_mobility,oxygen_therapy,smoker,care_package,last_updated";

/// A social care extract of `rows` rows; the rows on `bad` lines have an
/// impossible date of birth, and one row has an address over two lines.
fn extract(rows: usize, bad: &[usize]) -> String {
    let mut text = format!("{HEADER}\n");
    let mut line = 2;
    for i in 0..rows {
        let dob = if bad.contains(&line) {
            "31/02/1950"
        } else {
            "01/03/1950"
        };
        if i == CHUNK - 1 {
            // A quoted field with a line break: one row, two lines.
            text.push_str(&format!(
                "P{i:07},,Ann,,Smith,{dob},Female,\"1 Mill Road\nHoltby\",,Holt,NR25 6AB,,,,N,N,N,N,N,2026-01-05\n"
            ));
            line += 2;
        } else {
            text.push_str(&format!(
                "P{i:07},,Ann,,Smith,{dob},Female,1 Mill Road,,Holt,NR25 6AB,,,,N,N,N,N,N,2026-01-05\n"
            ));
            line += 1;
        }
    }
    text
}

#[test]
fn chunks_together_are_the_whole_file_with_their_line_numbers() {
    let rows = 2 * CHUNK + 500;
    // Bad rows on the first line, either side of each boundary and last.
    let bad = [2, CHUNK + 1, CHUNK + 3, 2 * CHUNK + 3, rows + 2];
    let text = extract(rows, &bad);
    let m = manifest("social_care");
    let path = Path::new("social_care.csv");
    let mut chunks = Vec::new();
    read_chunks(&m, path, &text, today(), &mut |chunk, at| {
        chunks.push((chunk, at));
        true
    })
    .unwrap();
    assert_eq!(chunks.len(), 3, "two full chunks and the rest");
    assert!(chunks.windows(2).all(|w| w[0].1 < w[1].1), "offsets grow");
    assert_eq!(chunks.last().unwrap().1, text.len());
    let total: u64 = chunks.iter().map(|c| c.0.rows).sum();
    assert_eq!(total, rows as u64);
    let mut lines: Vec<i64> = chunks
        .iter()
        .flat_map(|c| c.0.quarantined.iter().map(|q| q.line))
        .collect();
    lines.sort();
    assert_eq!(lines, bad.map(|b| b as i64), "each bad row at its own line");
    let whole = read(&m, path, &text, today()).unwrap();
    assert_eq!(whole.rows, total);
    let valid: Vec<u64> = chunks
        .iter()
        .flat_map(|c| c.0.valid.iter().map(|r| r.line))
        .collect();
    assert_eq!(
        valid,
        whole.valid.iter().map(|r| r.line).collect::<Vec<_>>()
    );
    // The sink can stop reading.
    let mut seen = 0;
    read_chunks(&m, path, &text, today(), &mut |_, _| {
        seen += 1;
        false
    })
    .unwrap();
    assert_eq!(seen, 1);
}

#[tokio::test]
async fn a_chunked_ingest_stores_every_row() {
    let rows = CHUNK + 100;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("social_care.csv");
    std::fs::write(&file, extract(rows, &[CHUNK + 1])).unwrap();
    for t in stores().await {
        t.store.migrate().await.unwrap();
        let report = load(&t.store, "social_care", &file).await.unwrap();
        assert_eq!(report.counts.rows, rows as i64, "{}", t.name);
        assert_eq!(report.counts.stored, rows as i64 - 1);
        assert_eq!(report.counts.quarantined, 1);
        let counts = t.store.counts().await.unwrap();
        assert_eq!(counts.versions, rows as i64 - 1);
        t.finish().await;
    }
}
