//! Shared set-up for Wherry's criterion benchmarks: synthetic counties in
//! canonical fields, read back as linkage records.

use std::path::Path;

use wherry_link::RawRecord;

/// Generates a county of `residents` under `dir` (afresh each run: one
/// kept from an earlier build would hold that build's tables) and returns
/// its canonical column names and records.
pub fn county_records(dir: &Path, residents: u64) -> (Vec<String>, Vec<RawRecord>) {
    let county = dir.join(format!("county-{residents}"));
    let config = wherry_synth::Config {
        residents,
        seed: 13,
        canonical: true,
        ..Default::default()
    };
    wherry_synth::generate(&config, &county, true, &mut |_, _| {}).expect("county generates");
    let mut rdr = csv::Reader::from_path(county.join("linkage/records.csv")).expect("records");
    let header: Vec<String> = rdr
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    let at = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .expect("canonical column")
    };
    let (source, id) = (at("source"), at("record_id"));
    let value_columns: Vec<usize> = (0..header.len())
        .filter(|&i| i != source && i != id)
        .collect();
    let columns: Vec<String> = value_columns.iter().map(|&i| header[i].clone()).collect();
    let records = rdr
        .records()
        .map(|r| {
            let r = r.expect("row");
            RawRecord {
                source: r[source].to_string(),
                record_id: r[id].to_string(),
                values: value_columns
                    .iter()
                    .map(|&i| Some(r[i].to_string()).filter(|v| !v.is_empty()))
                    .collect(),
            }
        })
        .collect();
    (columns, records)
}
