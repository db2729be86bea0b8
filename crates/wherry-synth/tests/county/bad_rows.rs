//! Broken rows are broken exactly as `bad_rows.csv` says, and every other row
//! passes the core validators: what ingest relies on to quarantine exactly
//! the planted rows.

use wherry_core::{Date, NhsNumber, Postcode};
use wherry_synth::Source;

use crate::util::*;

/// Why a row fails, by the same rules ingest will use, or `None`.
fn problem(source: Source, row: &Row, today: Date) -> Option<&'static str> {
    if row.fields == 0 {
        return Some("truncated_json");
    }
    if row.fields != row.expected_fields {
        return Some("missing_column");
    }
    if source != Source::Gp && stray_quote(&row.raw) {
        return Some("stray_quote");
    }
    if !row.dob.is_empty() && Date::parse_birth_date(&row.dob, today).is_err() {
        return Some("impossible_date");
    }
    if !row.postcode.is_empty() && Postcode::parse(&row.postcode).is_err() {
        return Some("malformed_postcode");
    }
    if let Some(n) = row.nhs.as_deref().filter(|n| !n.is_empty()) {
        if NhsNumber::parse(n).is_err() {
            return Some("invalid_nhs_number");
        }
    }
    None
}

/// A double quote inside a field that is not itself quoted.
fn stray_quote(line: &str) -> bool {
    line.split(',')
        .any(|f| f.contains('"') && !f.starts_with('"') && !f.ends_with('"'))
}

#[test]
fn every_row_is_broken_exactly_as_listed_and_no_other_row_is() {
    let (dir, summary) = county();
    let bad = read_bad_rows(dir);
    let mut seen = 0;
    for source in Source::ALL {
        for row in read_extract(dir, source) {
            let listed = bad
                .get(&(source.name().to_string(), row.line))
                .map(String::as_str);
            let found = problem(source, &row, summary.config.as_of);
            assert_eq!(
                found,
                listed,
                "{} line {}: found {found:?}, listed {listed:?}",
                source.name(),
                row.line
            );
            seen += usize::from(listed.is_some());
        }
    }
    assert_eq!(seen, bad.len(), "every listed row exists");
    assert!(
        seen > 100,
        "the test county has broken rows to check ({seen})"
    );
}

#[test]
fn every_nhs_number_written_is_valid_unless_listed_as_corrupted() {
    let (dir, _) = county();
    let bad = read_bad_rows(dir);
    let truth = read_truth(dir);
    let residents = read_residents(dir);
    let mut checked = 0;
    let mut corrupted = 0;
    for source in Source::ALL.into_iter().filter(|s| s.has_nhs_number()) {
        for row in read_extract(dir, source) {
            let Some(nhs) = row.nhs.as_deref().filter(|n| !n.is_empty()) else {
                continue;
            };
            let listed = bad
                .get(&(source.name().to_string(), row.line))
                .map(String::as_str);
            match NhsNumber::parse(nhs) {
                Ok(n) => {
                    assert_ne!(
                        listed,
                        Some("invalid_nhs_number"),
                        "{} line {}",
                        source.name(),
                        row.line
                    );
                    let entity = &truth[&(source.name().to_string(), row.record_id.clone())];
                    assert_eq!(
                        n.to_string(),
                        residents[entity]["nhs_number"],
                        "the resident's own number"
                    );
                    checked += 1;
                }
                Err(_) => {
                    assert_eq!(
                        listed,
                        Some("invalid_nhs_number"),
                        "{} line {} unlisted",
                        source.name(),
                        row.line
                    );
                    corrupted += 1;
                }
            }
        }
    }
    assert!(
        checked > 10_000 && corrupted > 10,
        "{checked} valid, {corrupted} corrupted"
    );
    for r in read_residents(dir).values() {
        assert!(NhsNumber::parse(&r["nhs_number"]).is_ok());
    }
}
