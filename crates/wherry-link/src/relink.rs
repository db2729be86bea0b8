//! Relinking a hub's current records against its previous run: link them
//! under the steward's decisions, map the clusters onto the previous person
//! ids ([`crate::persons::assign`]), and say what changed and which pairs a
//! steward should look at. Pure: the caller reads the store and writes the
//! outcome back.

use std::collections::{BTreeMap, HashMap};

use crate::persons::{PersonEvent, assign};
use crate::settings::{LinkType, Settings};
use crate::{Constraints, Error, Model, RawRecord, link_with};

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

/// What the hub holds now.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// Current records with their canonical fields (field name → value).
    pub records: Vec<(Key, BTreeMap<String, String>)>,
    /// The previous run's links: record → person id.
    pub previous: Vec<(Key, String)>,
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
    /// Pairs with a probability in `[low, high)` go to review.
    pub review: (f64, f64),
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
    /// Why, as text (every comparison's level and weight).
    pub explanation: String,
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
    pub events: Vec<PersonEvent>,
    /// Uncertain pairs.
    pub review: Vec<ReviewPair>,
    /// The model the run scored with (trained, or the one given), for the
    /// real-time matcher to use until the next run.
    pub model: Model,
}

/// Relinks `input` (see the module docs).
pub fn relink(input: Input, options: &Options) -> Result<Outcome, Error> {
    let (low, high) = options.review;
    if !(0.0..=1.0).contains(&low) || !(0.0..=1.0).contains(&high) || low > high {
        return Err(Error::Settings(
            "the review range must be probabilities with low ≤ high".into(),
        ));
    }
    if input.records.is_empty() {
        return Err(Error::NoRecords);
    }
    // Values in canonical order, moved into the engine's records; columns no
    // record has are left out.
    let all: &[&str] = &wherry_core::Field::NAMES[2..];
    let mut present = vec![false; all.len()];
    let mut keys: Vec<Key> = Vec::with_capacity(input.records.len());
    let mut values: Vec<Vec<Option<String>>> = Vec::with_capacity(input.records.len());
    for (key, mut fields) in input.records {
        values.push(
            all.iter()
                .enumerate()
                .map(|(i, c)| {
                    let x = fields.remove(*c);
                    present[i] |= x.is_some();
                    x
                })
                .collect(),
        );
        keys.push(key);
    }
    let columns: Vec<String> = all
        .iter()
        .zip(&present)
        .filter(|(_, p)| **p)
        .map(|(c, _)| c.to_string())
        .collect();
    let index: HashMap<&Key, u32> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k, i as u32))
        .collect();
    let records: Vec<RawRecord> = keys
        .iter()
        .zip(values)
        .map(|((s, r), v)| RawRecord {
            source: s.clone(),
            record_id: r.clone(),
            values: v
                .into_iter()
                .zip(&present)
                .filter(|(_, p)| **p)
                .map(|(x, _)| x)
                .collect(),
        })
        .collect();
    let names: Vec<&str> = columns.iter().map(String::as_str).collect();
    let mut settings = Settings::for_canonical_columns(&names, LinkType::Dedupe);
    if let Some(t) = options.threshold {
        settings.threshold = t;
    }
    settings.report_min_probability = settings.report_min_probability.min(low);
    let mut constraints = Constraints::default();
    for d in &input.decisions {
        if let (Some(&x), Some(&y)) = (index.get(&d.left), index.get(&d.right)) {
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
        &(),
    )?;
    // Clusters in order of their first record; previous links by record
    // index (records no longer current get keys past the end, so their
    // persons retire unless others take them).
    let mut clusters: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for (i, c) in result.clustering.cluster.iter().enumerate() {
        clusters.entry(*c).or_default().push(i as u32);
    }
    let clusters: Vec<Vec<u32>> = clusters.into_values().collect();
    let mut previous: HashMap<u32, String> = HashMap::new();
    let mut unlinked: Vec<Key> = Vec::new();
    for (key, person) in input.previous {
        match index.get(&key) {
            Some(&i) => previous.insert(i, person),
            None => {
                unlinked.push(key);
                previous.insert(u32::MAX - unlinked.len() as u32, person)
            }
        };
    }
    let mut next = input.last_person_number;
    let assignment = assign(&previous, &clusters, || {
        next += 1;
        format!("P{next:09}")
    });
    let links = keys
        .iter()
        .enumerate()
        .filter(|(i, _)| previous.get(&(*i as u32)) != assignment.links.get(&(*i as u32)))
        .map(|(i, k)| (k.clone(), assignment.links[&(i as u32)].clone()))
        .collect();
    let ds = &result.dataset;
    let key = |i: u32| keys[i as usize].clone();
    let review = result
        .scored
        .iter()
        .filter(|p| p.probability >= low && p.probability < high)
        .map(|p| ReviewPair {
            left: key(p.a),
            right: key(p.b),
            probability: p.probability,
            explanation: crate::explain::explain(&result.model, ds, p.a, p.b).text(),
        })
        .collect();
    Ok(Outcome {
        records: keys.len(),
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
                records.push(((copy.to_string(), i.to_string()), fields.clone()));
            }
        }
        Input {
            records,
            ..Input::default()
        }
    }

    fn options() -> Options {
        Options {
            model: None,
            threshold: None,
            review: (0.5, 0.95),
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
                .all(|e| matches!(e, PersonEvent::Created { .. }))
        );
        let mut again = input();
        again.previous = first.links.clone();
        again.last_person_number = first.persons as u64;
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
            .retain(|(k, _)| k != &("b".to_string(), "7".to_string()));
        again.previous = first.links.clone();
        again.last_person_number = first.persons as u64;
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
            .any(|e| matches!(e, PersonEvent::Split { .. }));
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
                    review: (0.9, 0.1),
                    ..options()
                }
            )
            .is_err()
        );
    }
}
