//! Each kind of data-entry error happens at its configured rate (within 20%,
//! relative), measured by reading the extracts back against the truth.

use std::collections::{HashMap, HashSet};

use wherry_core::{Date, aliases, name::normalise};
use wherry_synth::Source;

use crate::util::*;

#[derive(Default, Debug)]
struct Tally {
    hits: HashMap<&'static str, u64>,
    trials: HashMap<&'static str, u64>,
}

impl Tally {
    fn trial(&mut self, kind: &'static str, hit: bool) {
        *self.trials.entry(kind).or_default() += 1;
        *self.hits.entry(kind).or_default() += u64::from(hit);
    }
    fn rate(&self, kind: &str) -> (f64, u64) {
        let n = self.trials.get(kind).copied().unwrap_or(0);
        let h = self.hits.get(kind).copied().unwrap_or(0);
        (h as f64 / n.max(1) as f64, h)
    }
}

fn is_case_noise(given: &str, family: &str) -> bool {
    let has_letters = |s: &str| s.chars().any(|c| c.is_alphabetic());
    let upper = |s: &str| has_letters(s) && s == s.to_uppercase();
    let lower = |s: &str| has_letters(s) && s == s.to_lowercase();
    given != given.trim() || (upper(given) && upper(family)) || (lower(given) && lower(family))
}

#[test]
fn every_error_kind_is_within_20_percent_of_its_configured_rate() {
    let (dir, summary) = county();
    let rates = summary.config.rates;
    let truth = read_truth(dir);
    let residents = read_residents(dir);
    let bad = read_bad_rows(dir);
    let mut t = Tally::default();
    let mut total_rows = 0u64;
    let (mut records, mut known) = (0u64, 0u64);

    for source in Source::ALL {
        let rows = read_extract(dir, source);
        total_rows += rows.len() as u64;
        let broken = bad_lines(&bad, source);
        let entities: HashSet<&String> = rows
            .iter()
            .filter_map(|r| truth.get(&(source.name().to_string(), r.record_id.clone())))
            .collect();
        // Duplicates: extra records per resident known to a partner. Broken
        // rows still carry their record id, except truncated JSON.
        records += rows.iter().filter(|r| !r.record_id.is_empty()).count() as u64;
        known += entities.len() as u64;

        for row in rows.iter().filter(|r| !broken.contains(&r.line)) {
            let entity = &truth[&(source.name().to_string(), row.record_id.clone())];
            let r = &residents[entity];
            let (tg, tf, tpf) = (
                fold(&r["given_name"]),
                fold(&r["family_name"]),
                fold(&r["previous_family_name"]),
            );
            let (g, f) = (fold(&row.given), fold(&row.family));
            let swapped = g == tf && f == tg && tg != tf;
            t.trial("name_swap", swapped);
            t.trial("case_noise", is_case_noise(&row.given_raw, &row.family));
            if !swapped {
                let nicks = aliases::nicknames(&normalise(&r["given_name"]));
                if !nicks.is_empty() {
                    t.trial("nickname", nicks.contains(&g.as_str()));
                }
                if !tpf.is_empty() {
                    t.trial("maiden_name", f == tpf);
                }
                let givens: Vec<&str> = std::iter::once(tg.as_str())
                    .chain(nicks.iter().copied())
                    .collect();
                let families: Vec<&str> = [tf.as_str(), tpf.as_str()]
                    .into_iter()
                    .filter(|x| !x.is_empty())
                    .collect();
                let slip = |v: &str, options: &[&str]| {
                    !options.contains(&v)
                        && options
                            .iter()
                            .any(|o| (1..=2).contains(&strsim::levenshtein(v, o)))
                };
                t.trial("typo", slip(&g, &givens) || slip(&f, &families));
            }
            if let Ok(d) = Date::parse(&row.dob) {
                let true_dob = Date::parse(&r["dob"]).unwrap();
                if true_dob.day() <= 12 && true_dob.day() != true_dob.month() {
                    t.trial("dob_swap", d != true_dob);
                }
            }
            if let Some(uprn) = &row.uprn {
                if !r["previous_uprn"].is_empty() {
                    t.trial("old_address", *uprn == r["previous_uprn"]);
                }
            }
            if source.has_nhs_number() && !source.is_health() {
                t.trial(
                    "missing_nhs",
                    row.nhs.as_deref().unwrap_or("").trim().is_empty(),
                );
            }
            let mut missing = |value: Option<&str>, truth_value: &str| {
                if let Some(v) = value {
                    if !truth_value.is_empty() {
                        t.trial("missing_field", v.trim().is_empty());
                    }
                }
            };
            missing(row.middle.as_deref(), &r["middle_names"]);
            missing(Some(&row.dob), &r["dob"]);
            missing(Some(&row.postcode), &r["postcode"]);
            missing(row.phone.as_deref(), &r["phone"]);
            missing(row.email.as_deref(), &r["email"]);
        }
    }
    let dup_rate = (records - known) as f64 / known as f64;
    let bad_rate = bad.len() as f64 / total_rows as f64;
    eprintln!(
        "{:<14} {:>10} {:>10} {:>8}",
        "kind", "configured", "observed", "count"
    );
    eprintln!(
        "{:<14} {:>10.4} {dup_rate:>10.4} {:>8}",
        "duplicate",
        rates.duplicate,
        records - known
    );
    eprintln!(
        "{:<14} {:>10.4} {bad_rate:>10.4} {:>8}",
        "bad_row",
        rates.bad_row,
        bad.len()
    );
    assert_within("duplicate", dup_rate, rates.duplicate);
    assert_within("bad_row", bad_rate, rates.bad_row);
    for (kind, configured) in rates.named() {
        if matches!(kind, "duplicate" | "bad_row") {
            continue;
        }
        let (observed, hits) = t.rate(kind);
        eprintln!("{kind:<14} {configured:>10.4} {observed:>10.4} {hits:>8}");
        assert!(
            hits >= 100,
            "{kind}: only {hits} occurrences; the test needs more to be meaningful"
        );
        assert_within(kind, observed, configured);
    }
}

fn assert_within(kind: &str, observed: f64, configured: f64) {
    let relative = (observed - configured).abs() / configured;
    assert!(
        relative <= 0.2,
        "{kind}: observed {observed:.4}, configured {configured:.4} ({:.0}% off)",
        relative * 100.0
    );
}
