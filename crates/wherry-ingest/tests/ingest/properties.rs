//! Property tests for everything that reads what partners send: the
//! manifest loader, the CSV and JSON Lines readers and a pushed record.
//! Whatever arrives, nothing panics, no row is lost (rows = valid +
//! quarantined), and every rejection names its line, field where there is
//! one, and a reason code.

use std::path::Path;

use proptest::prelude::*;
use wherry_core::Date;
use wherry_ingest::read::{pushed_row, read};
use wherry_ingest::{Error, Manifest};

use crate::util::manifest;

fn today() -> Date {
    Date::new(2026, 12, 1).unwrap()
}

/// A reason as quarantine keeps it: a code, a colon, words.
fn is_reason(r: &str) -> bool {
    r.split_once(':').is_some_and(|(code, _)| {
        !code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '_')
    })
}

/// One CSV cell: sometimes a plausible value, sometimes anything.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[A-Za-z' -]{1,12}",
        "[0-9]{2}/[0-9]{2}/[0-9]{4}",
        "NR[0-9]{1,2} [0-9][A-Z]{2}",
        "\\PC{0,10}",
        Just("\"".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn the_manifest_loader_never_panics_and_names_each_problem(text in "\\PC{0,300}") {
        if let Err(problems) = Manifest::parse(&text) {
            prop_assert!(!problems.is_empty());
            for p in problems {
                prop_assert!(!p.key.is_empty() || !p.message.is_empty(), "{p}");
                prop_assert!(!p.to_string().is_empty());
            }
        }
    }

    #[test]
    fn a_shipped_manifest_with_one_line_broken_is_refused_with_that_line(
        line in 0usize..40, junk in "[a-z =\"\\[\\]]{1,20}",
    ) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sources/libraries.toml");
        let good = std::fs::read_to_string(path).unwrap();
        let mut lines: Vec<&str> = good.lines().collect();
        let at = line % lines.len();
        lines[at] = &junk;
        let text = lines.join("\n");
        if let Err(problems) = Manifest::parse(&text) {
            prop_assert!(problems.iter().all(|p| p.line.is_none_or(|l| l >= 1 && l <= lines.len() + 1)), "{problems:?}");
        }
    }

    #[test]
    fn the_csv_reader_loses_no_row_and_names_every_rejection(
        rows in prop::collection::vec(prop::collection::vec(cell(), 0..10), 1..20),
    ) {
        let m = manifest("libraries");
        let header = "borrower_id,first_name,last_name,date_of_birth,email,phone,postcode,home_library,joined,last_updated";
        let mut text = format!("{header}\n");
        for (i, r) in rows.iter().enumerate() {
            let mut cells = vec![format!("B{i}")];
            cells.extend(r.iter().cloned());
            text.push_str(&cells.join(","));
            text.push('\n');
        }
        match read(&m, Path::new("libraries.csv"), &text, today()) {
            Ok(got) => {
                prop_assert_eq!(got.valid.len() + got.quarantined.len(), got.rows as usize);
                for q in &got.quarantined {
                    prop_assert!(q.line >= 2, "line {}", q.line);
                    prop_assert!(is_reason(&q.reason), "{}", q.reason);
                }
            }
            Err(e) => prop_assert!(e.to_string().contains("libraries.csv"), "{e}"),
        }
    }

    #[test]
    fn the_json_lines_reader_loses_no_row_and_names_every_rejection(
        lines in prop::collection::vec(prop_oneof![
            "\\PC{0,40}",
            Just(r#"{"resourceType":"Patient","id":"p1","birthDate":"1948-03-07","name":[{"family":"Thrower","given":["Margaret"]}]}"#.to_string()),
            Just(r#"{"resourceType":"Patient","id":"p2","birthDate":"31/02/1948"}"#.to_string()),
            Just(r#"{"resourceType":"Observation"}"#.to_string()),
            Just(r#"{"resourceType":"Patient","id":"p3","name":"#.to_string()),
        ], 1..15),
    ) {
        let m = manifest("gp_registrations");
        let text = lines.join("\n") + "\n";
        match read(&m, Path::new("gp.jsonl"), &text, today()) {
            Ok(got) => {
                prop_assert_eq!(got.valid.len() + got.quarantined.len(), got.rows as usize);
                for q in &got.quarantined {
                    prop_assert!(q.line >= 1 && q.line as usize <= lines.len(), "line {}", q.line);
                    prop_assert!(is_reason(&q.reason), "{}", q.reason);
                }
            }
            Err(Error::Empty { .. }) => prop_assert!(lines.iter().all(|l| l.trim().is_empty())),
            Err(e) => prop_assert!(e.to_string().contains("gp.jsonl"), "{e}"),
        }
    }

    #[test]
    fn a_pushed_body_is_taken_or_refused_with_a_field_and_reason(
        body in prop_oneof![
            "\\PC{0,60}",
            "\\{\"borrower_id\": \"[A-Z0-9]{0,6}\", \"first_name\": \"\\PC{0,8}\", \"date_of_birth\": \"\\PC{0,12}\", \"postcode\": \"\\PC{0,9}\"\\}",
        ],
    ) {
        let m = manifest("libraries");
        match pushed_row(&m, &body, today()) {
            Ok(row) => prop_assert!(!row.record_id.is_empty() && !row.hash.is_empty()),
            Err(q) => {
                prop_assert_eq!(q.line, 1);
                prop_assert!(is_reason(&q.reason), "{}", q.reason);
                prop_assert!(!q.reason.contains(&body) || body.len() < 3, "the body is not echoed");
            }
        }
    }
}

proptest! {
    /// A partner's change date: any text is a date that round-trips, or an
    /// error that says it is not a date; never a panic.
    #[test]
    fn a_change_date_is_a_date_or_a_clear_error(v in "\\PC{0,30}") {
        match wherry_ingest::read::changed_date(&v) {
            Ok(d) => prop_assert_eq!(Date::parse(&d.to_string()).unwrap(), d),
            Err(e) => prop_assert!(e.starts_with("not a date"), "{e}"),
        }
    }

    /// Every valid date in the layouts partners use, and as a FHIR instant,
    /// reads back as itself.
    #[test]
    fn a_change_date_in_any_partner_layout_reads_back(days in 0i64..40_000) {
        let d = Date::new(1920, 1, 1).unwrap().add_days(days);
        for text in [d.to_string(), d.to_uk_slashed(), d.to_compact(), format!("{d}T09:30:00Z")] {
            prop_assert_eq!(wherry_ingest::read::changed_date(&text), Ok(d), "{}", text);
        }
    }
}

#[test]
fn a_change_date_that_is_not_a_date_or_is_in_the_future_is_quarantined_by_line() {
    let m = manifest("libraries");
    let header = "borrower_id,first_name,last_name,date_of_birth,email,phone,postcode,home_library,joined,last_updated";
    let text = format!(
        "{header}\nB1,Ann,Gotts,01-03-1950,,,NR1 1AA,Norwich,2020-01-01,31-02-2026\nB2,Bob,Gotts,01-03-1950,,,NR1 1AA,Norwich,2020-01-01,02-12-2026\nB3,Cy,Gotts,01-03-1950,,,NR1 1AA,Norwich,2020-01-01,30-11-2026\nB4,Di,Gotts,01-03-1950,,,NR1 1AA,Norwich,2020-01-01,\n"
    );
    let got = read(&m, Path::new("libraries.csv"), &text, today()).unwrap();
    let bad: Vec<(i64, Option<String>, &str)> = got
        .quarantined
        .iter()
        .map(|q| (q.line, q.field.clone(), q.reason.split(':').next().unwrap()))
        .collect();
    assert_eq!(
        bad,
        vec![
            (2, Some("last_updated".into()), "invalid_changed_date"),
            (3, Some("last_updated".into()), "invalid_changed_date"),
        ]
    );
    let kept: Vec<Option<&str>> = got
        .valid
        .iter()
        .map(|r| r.fields.get("changed_at").map(String::as_str))
        .collect();
    assert_eq!(
        kept,
        vec![Some("2026-11-30"), None],
        "unknown when not given"
    );
}
