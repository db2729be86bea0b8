//! Relinking a hub's current records against its previous run: link them
//! under the steward's decisions, map the clusters onto the previous person
//! ids ([`crate::persons::assign`]), and say what changed and which pairs a
//! steward should look at. Pure: the caller reads the store and writes the
//! outcome back.

use std::collections::BTreeMap;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::persons::{PersonChange, assign};
use crate::settings::{LinkType, Settings};
use crate::{Constraints, Error, Model, Progress, RawRecord, Stage, link_with};

/// A record's key: (source, record id).
pub type Key = (String, String);

/// A steward's decision about two records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// True: the same person (must-link); false: different people (cannot-link).
    pub same_person: bool,
    /// One record.
    pub left: Key,
    /// The other.
    pub right: Key,
}

/// A current record.
#[derive(Debug, Clone, Default)]
pub struct Current {
    /// Its key.
    pub key: Key,
    /// Its canonical fields' values in the order of
    /// `wherry_core::Field::NAMES[2..]` (`None` where absent).
    pub values: Vec<Option<String>>,
    /// The person the previous run linked it to, if any.
    pub person: Option<String>,
}

/// Canonical fields (name → value) as [`Current::values`].
pub fn canonical_values(fields: &BTreeMap<String, String>) -> Vec<Option<String>> {
    wherry_core::Field::NAMES[2..]
        .iter()
        .map(|n| fields.get(*n).cloned())
        .collect()
}

/// What the hub holds now.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// Current records.
    pub records: Vec<Current>,
    /// Links of records no longer current: record → person id. They end.
    pub gone: Vec<(Key, String)>,
    /// Steward decisions, oldest first.
    pub decisions: Vec<Decision>,
    /// The largest number in a person id given so far (`P000000123` → 123).
    pub last_person_number: u64,
}

/// How to relink.
#[derive(Debug, Clone)]
pub struct Options {
    /// Score with this model instead of training one.
    pub model: Option<Model>,
    /// Match probability at or above which records join a person.
    pub threshold: Option<f64>,
    /// Pairs with a probability in this range go to review.
    pub review: crate::ReviewRange,
}

/// A pair for the steward.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewPair {
    /// One record.
    pub left: Key,
    /// The other.
    pub right: Key,
    /// Their match probability.
    pub probability: f64,
    /// Why: every comparison's level and weight.
    pub explanation: crate::explain::Explanation,
}

/// What changed.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Records linked.
    pub records: usize,
    /// Persons they form.
    pub persons: usize,
    /// Links that are new or changed: record → person id.
    pub links: Vec<(Key, String)>,
    /// Records in the previous run that are no longer current.
    pub unlinked: Vec<Key>,
    /// Persons created, merged, split and retired.
    pub events: Vec<PersonChange>,
    /// Uncertain pairs.
    pub review: Vec<ReviewPair>,
    /// The model the run scored with (trained, or the one given), for the
    /// real-time matcher to use until the next run.
    pub model: Model,
}

/// Relinks `input` (see the module docs).
pub fn relink(input: Input, options: &Options) -> Result<Outcome, Error> {
    relink_with(input, options, &())
}

/// [`relink`], telling `progress` how it goes.
pub fn relink_with(
    input: Input,
    options: &Options,
    progress: &dyn Progress,
) -> Result<Outcome, Error> {
    options.review.check()?;
    if input.records.is_empty() {
        return Err(Error::NoRecords);
    }
    // Records in an order that depends only on their content, so that the
    // same records give the same persons whatever order the store read
    // them in; by postcode and family name first, so that the records a
    // candidate pair joins are near each other in memory (comparing runs
    // nearly twice as fast as in key order).
    let all: &[&str] = &wherry_core::Field::NAMES[2..];
    let at = |name: &str| {
        all.iter()
            .position(|n| *n == name)
            .expect("a canonical field")
    };
    let (postcode, family) = (at("postcode"), at("family_name"));
    let mut input_records = input.records;
    if let Some(r) = input_records.iter().find(|r| r.values.len() != all.len()) {
        return Err(Error::Settings(format!(
            "record {}/{} has {} values, not one per canonical field",
            r.key.0,
            r.key.1,
            r.values.len()
        )));
    }
    input_records.par_sort_unstable_by(|a, b| {
        (&a.values[postcode], &a.values[family], &a.key).cmp(&(
            &b.values[postcode],
            &b.values[family],
            &b.key,
        ))
    });
    // The records the steward's decisions name, found in the same pass.
    let mut named: FxHashMap<&Key, u32> = FxHashMap::default();
    for d in &input.decisions {
        named.insert(&d.left, u32::MAX);
        named.insert(&d.right, u32::MAX);
    }
    // Values moved into the engine's records; columns no record has are
    // left out.
    let mut present = vec![false; all.len()];
    let mut previous: FxHashMap<u32, String> = FxHashMap::default();
    let mut records: Vec<RawRecord> = Vec::with_capacity(input_records.len());
    // The values are copied rather than moved: sorting moved the records
    // but not the text they point to, and preparing the columns reads it in
    // record order, which scattered text makes three times slower. The
    // originals are freed on another thread meanwhile.
    for (i, r) in input_records.iter_mut().enumerate() {
        if let Some(x) = named.get_mut(&r.key) {
            *x = i as u32;
        }
        if let Some(p) = r.person.take() {
            previous.insert(i as u32, p);
        }
        for (c, v) in r.values.iter().enumerate() {
            present[c] |= v.is_some();
        }
        records.push(RawRecord {
            values: r.values.clone(),
            source: std::mem::take(&mut r.key.0),
            record_id: std::mem::take(&mut r.key.1),
        });
    }
    std::thread::spawn(move || drop(input_records));
    let columns: Vec<String> = all
        .iter()
        .zip(&present)
        .filter(|(_, p)| **p)
        .map(|(c, _)| c.to_string())
        .collect();
    if present.iter().any(|p| !p) {
        for r in &mut records {
            let mut c = 0;
            r.values.retain(|_| {
                c += 1;
                present[c - 1]
            });
        }
    }
    let names: Vec<&str> = columns.iter().map(String::as_str).collect();
    let mut settings = Settings::for_canonical_columns(&names, LinkType::Dedupe);
    if let Some(t) = options.threshold {
        settings.threshold = t;
    }
    settings.report_min_probability = settings.report_min_probability.min(options.review.low);
    let mut constraints = Constraints::default();
    for d in &input.decisions {
        let (x, y) = (named[&d.left], named[&d.right]);
        if x != u32::MAX && y != u32::MAX {
            if d.same_person {
                constraints.must_link.push((x, y));
            } else {
                constraints.cannot_link.push((x, y));
            }
        }
    }
    let result = link_with(
        &settings,
        &columns,
        records,
        options.model.clone(),
        &constraints,
        progress,
    )?;
    progress.start(Stage::Persons, 0);
    let ds = &result.dataset;
    let key = |i: u32| {
        (
            ds.sources[ds.source[i as usize] as usize].clone(),
            ds.record_ids[i as usize].clone(),
        )
    };
    // Clusters in order of their first record; previous links by record
    // index (records no longer current get keys past the end, so their
    // persons retire unless others take them).
    let mut clusters: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for (i, c) in result.clustering.cluster.iter().enumerate() {
        clusters.entry(*c).or_default().push(i as u32);
    }
    let clusters: Vec<Vec<u32>> = clusters.into_values().collect();
    let mut unlinked: Vec<Key> = Vec::new();
    for (k, person) in input.gone {
        unlinked.push(k);
        previous.insert(u32::MAX - unlinked.len() as u32, person);
    }
    let mut next = input.last_person_number;
    let assignment = assign(&previous, &clusters, || {
        next += 1;
        wherry_core::PersonId::new(next).to_string()
    });
    let count = ds.len();
    let links = (0..count as u32)
        .filter(|i| previous.get(i) != assignment.links.get(i))
        .map(|i| (key(i), assignment.links[&i].clone()))
        .collect();
    progress.start(Stage::Review, 0);
    let review = result
        .scored
        .iter()
        .filter(|p| options.review.contains(p.probability))
        .map(|p| ReviewPair {
            left: key(p.a),
            right: key(p.b),
            probability: p.probability,
            explanation: crate::explain::explain(&result.model, ds, p.a, p.b),
        })
        .collect();
    Ok(Outcome {
        records: count,
        persons: assignment.persons.len(),
        links,
        unlinked,
        events: assignment.events,
        review,
        model: result.model,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> Input {
        let names = ["Ann", "Bob", "Cyril", "Dora", "Edna", "Frank"];
        let mut records = Vec::new();
        for i in 0..300u32 {
            let fields: BTreeMap<String, String> = [
                ("given_name", names[(i % 6) as usize].to_string()),
                ("family_name", format!("Fam{}", i % 41)),
                (
                    "dob",
                    format!("19{:02}-0{}-1{}", 20 + i % 70, 1 + i % 9, i % 10),
                ),
                ("postcode", format!("NR{} {}AB", 1 + i % 30, i % 10)),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            for copy in ["a", "b"] {
                records.push(Current {
                    key: (copy.to_string(), i.to_string()),
                    values: canonical_values(&fields),
                    person: None,
                });
            }
        }
        Input {
            records,
            ..Input::default()
        }
    }

    /// `input` as the store holds it after `run`: each record's person
    /// (`records` keys no longer current end up in `gone`).
    fn after(mut input: Input, run: &Outcome) -> Input {
        let links: BTreeMap<&Key, &String> = run.links.iter().map(|(k, p)| (k, p)).collect();
        let mut seen = std::collections::BTreeSet::new();
        for r in &mut input.records {
            r.person = links.get(&r.key).map(|p| p.to_string());
            seen.insert(r.key.clone());
        }
        input.gone = run
            .links
            .iter()
            .filter(|(k, _)| !seen.contains(k))
            .cloned()
            .collect();
        input.last_person_number = run.persons as u64;
        input
    }

    fn options() -> Options {
        Options {
            model: None,
            threshold: None,
            review: crate::ReviewRange::default(),
        }
    }

    #[test]
    fn a_second_run_over_the_same_records_changes_nothing() {
        let first = relink(input(), &options()).unwrap();
        assert_eq!(first.records, 600);
        assert_eq!(
            first.links.len(),
            600,
            "every record is linked the first time"
        );
        assert!(
            first
                .events
                .iter()
                .all(|e| matches!(e, PersonChange::Created { .. }))
        );
        let again = after(input(), &first);
        let second = relink(again, &options()).unwrap();
        assert!(
            second.links.is_empty() && second.events.is_empty(),
            "{:?}",
            second.events
        );
    }

    #[test]
    fn decisions_are_kept_and_gone_records_are_unlinked() {
        let first = relink(input(), &options()).unwrap();
        let mut again = input();
        again
            .records
            .retain(|r| r.key != ("b".to_string(), "7".to_string()));
        let mut again = after(again, &first);
        again.decisions = vec![Decision {
            same_person: false,
            left: ("a".into(), "0".into()),
            right: ("b".into(), "0".into()),
        }];
        let second = relink(again, &options()).unwrap();
        assert_eq!(second.unlinked, [("b".to_string(), "7".to_string())]);
        let person = |k: (&str, &str)| {
            second
                .links
                .iter()
                .find(|(x, _)| x.0 == k.0 && x.1 == k.1)
                .map(|(_, p)| p.clone())
        };
        let split = second
            .events
            .iter()
            .any(|e| matches!(e, PersonChange::Split { .. }));
        assert!(
            split,
            "the cannot-link splits a0 from b0: {:?}",
            second.events
        );
        assert!(
            person(("a", "0")).is_some() || person(("b", "0")).is_some(),
            "one of them has a new person"
        );
        assert!(
            relink(Input::default(), &options()).is_err(),
            "no records is an error"
        );
        assert!(
            relink(
                input(),
                &Options {
                    review: crate::ReviewRange {
                        low: 0.9,
                        high: 0.1
                    },
                    ..options()
                }
            )
            .is_err()
        );
    }
}
