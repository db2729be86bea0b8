//! Stable person ids: new clusters are mapped onto the ids of the previous
//! run by overlap, so a resident's id changes only when a merge or a split
//! really happened, and each such event is reported.
//!
//! The rule: every (new cluster, previous person) pair is scored by how many
//! records they share; taking the largest overlaps first (ties by the
//! smaller cluster index and person id), each previous person's id goes to
//! at most one cluster and each cluster takes at most one id. A cluster left
//! without an id gets a new one. A cluster holding records of several
//! previous persons is a merge; a previous person whose records went to
//! several clusters is a split; a previous person with no cluster is retired.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::Hash;

use serde::{Deserialize, Serialize};

/// What happened to persons between two runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum PersonEvent {
    /// A new person.
    Created {
        /// Their id.
        person: String,
    },
    /// Records of `absorbed` persons now belong to `person`.
    Merged {
        /// The person who kept their id.
        person: String,
        /// Persons whose records joined them.
        absorbed: Vec<String>,
    },
    /// Some of `person`'s records now belong to `into`.
    Split {
        /// The person who kept their id.
        person: String,
        /// The persons the other records went to.
        into: Vec<String>,
    },
    /// A person with no records left.
    Retired {
        /// Their id.
        person: String,
    },
}

/// The result of mapping clusters onto persons.
#[derive(Debug, Clone)]
pub struct Assignment<K> {
    /// Each cluster's person id, in cluster order.
    pub persons: Vec<String>,
    /// Record → person id.
    pub links: HashMap<K, String>,
    /// What happened, in a stable order.
    pub events: Vec<PersonEvent>,
}

/// Maps `clusters` (each a list of record keys) onto the `previous` record →
/// person links; `new_id` hands out ids for new persons.
pub fn assign<K: Hash + Eq + Clone>(
    previous: &HashMap<K, String>,
    clusters: &[Vec<K>],
    mut new_id: impl FnMut() -> String,
) -> Assignment<K> {
    // Overlaps: (cluster, person) → records shared.
    let mut overlap: BTreeMap<(usize, String), usize> = BTreeMap::new();
    for (c, records) in clusters.iter().enumerate() {
        for r in records {
            if let Some(p) = previous.get(r) {
                *overlap.entry((c, p.clone())).or_default() += 1;
            }
        }
    }
    let mut pairs: Vec<(usize, usize, String)> = overlap
        .iter()
        .map(|((c, p), n)| (*n, *c, p.clone()))
        .collect();
    pairs.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut persons: Vec<Option<String>> = vec![None; clusters.len()];
    let mut taken: BTreeSet<String> = BTreeSet::new();
    for (_, c, p) in pairs {
        if persons[c].is_none() && !taken.contains(&p) {
            taken.insert(p.clone());
            persons[c] = Some(p);
        }
    }
    let mut events = Vec::new();
    let persons: Vec<String> = persons
        .into_iter()
        .map(|p| {
            p.unwrap_or_else(|| {
                let id = new_id();
                events.push(PersonEvent::Created { person: id.clone() });
                id
            })
        })
        .collect();
    // Merges: clusters holding records of persons other than their own.
    for (c, person) in persons.iter().enumerate() {
        let absorbed: Vec<String> = overlap
            .range((c, String::new())..)
            .take_while(|((cc, _), _)| *cc == c)
            .map(|((_, p), _)| p.clone())
            .filter(|p| p != person)
            .collect();
        if !absorbed.is_empty() {
            events.push(PersonEvent::Merged {
                person: person.clone(),
                absorbed,
            });
        }
    }
    // Splits: previous persons whose records went to several clusters.
    let mut went: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (c, p) in overlap.keys() {
        went.entry(p.clone())
            .or_default()
            .insert(persons[*c].clone());
    }
    for (p, into) in &went {
        let others: Vec<String> = into.iter().filter(|q| *q != p).cloned().collect();
        if taken.contains(p) && !others.is_empty() {
            events.push(PersonEvent::Split {
                person: p.clone(),
                into: others,
            });
        }
    }
    // Retirements: previous persons with no cluster of their own.
    let previous_ids: BTreeSet<&String> = previous.values().collect();
    for p in previous_ids {
        if !taken.contains(p) {
            events.push(PersonEvent::Retired { person: p.clone() });
        }
    }
    let mut links = HashMap::new();
    for (c, records) in clusters.iter().enumerate() {
        for r in records {
            links.insert(r.clone(), persons[c].clone());
        }
    }
    Assignment {
        persons,
        links,
        events,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> impl FnMut() -> String {
        let mut n = 100;
        move || {
            n += 1;
            format!("P{n}")
        }
    }

    fn prev(pairs: &[(&'static str, &str)]) -> HashMap<&'static str, String> {
        pairs.iter().map(|(r, p)| (*r, p.to_string())).collect()
    }

    #[test]
    fn unchanged_clusters_keep_their_ids_and_new_records_join_them() {
        let previous = prev(&[("a1", "P1"), ("a2", "P1"), ("b1", "P2")]);
        let a = assign(
            &previous,
            &[vec!["b1", "b2"], vec!["a1", "a2", "a3"], vec!["c1"]],
            ids(),
        );
        assert_eq!(a.persons, ["P2", "P1", "P101"]);
        assert_eq!(
            a.events,
            [PersonEvent::Created {
                person: "P101".into()
            }]
        );
        assert_eq!(a.links["a3"], "P1");
    }

    #[test]
    fn a_merge_keeps_the_larger_persons_id_and_retires_the_other() {
        let previous = prev(&[("a1", "P1"), ("a2", "P1"), ("b1", "P2")]);
        let a = assign(&previous, &[vec!["a1", "a2", "b1"]], ids());
        assert_eq!(a.persons, ["P1"]);
        assert_eq!(
            a.events,
            [
                PersonEvent::Merged {
                    person: "P1".into(),
                    absorbed: vec!["P2".into()]
                },
                PersonEvent::Retired {
                    person: "P2".into()
                },
            ]
        );
    }

    #[test]
    fn a_split_keeps_the_id_on_the_larger_part() {
        let previous = prev(&[("a1", "P1"), ("a2", "P1"), ("a3", "P1")]);
        let a = assign(&previous, &[vec!["a3"], vec!["a1", "a2"]], ids());
        assert_eq!(a.persons, ["P101", "P1"]);
        assert!(
            a.events.contains(&PersonEvent::Split {
                person: "P1".into(),
                into: vec!["P101".into()]
            }),
            "{:?}",
            a.events
        );
    }
}
