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
        let header = "borrower_id,first_name,last_name,date_of_birth,email,phone,postcode,home_library,joined";
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
