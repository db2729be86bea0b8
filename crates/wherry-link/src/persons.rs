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

use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasher, Hash};

use rustc_hash::FxHashMap;

pub use wherry_core::PersonChange;

/// The result of mapping clusters onto persons.
#[derive(Debug, Clone)]
pub struct Assignment<K> {
    /// Each cluster's person id, in cluster order.
    pub persons: Vec<String>,
    /// Record → person id.
    pub links: FxHashMap<K, String>,
    /// What happened, in a stable order.
    pub events: Vec<PersonChange>,
}

/// Maps `clusters` (each a list of record keys) onto the `previous` record →
/// person links; `new_id` hands out ids for new persons.
pub fn assign<K: Hash + Eq + Clone, S: BuildHasher>(
    previous: &HashMap<K, String, S>,
    clusters: &[Vec<K>],
    mut new_id: impl FnMut() -> String,
) -> Assignment<K> {
    // Previous persons as small integers, in id order.
    let mut names: Vec<&String> = previous.values().collect();
    names.sort_unstable();
    names.dedup();
    let number: FxHashMap<&String, u32> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (*n, i as u32))
        .collect();
    // Overlaps: (cluster, person) → records shared, sorted by cluster then person.
    let mut shared: Vec<(u32, u32)> = Vec::with_capacity(previous.len());
    for (c, records) in clusters.iter().enumerate() {
        for r in records {
            if let Some(p) = previous.get(r) {
                shared.push((c as u32, number[p]));
            }
        }
    }
    shared.sort_unstable();
    let mut overlap: Vec<(u32, u32, u32)> = Vec::new(); // (cluster, person, n)
    for &(c, p) in &shared {
        match overlap.last_mut() {
            Some(last) if last.0 == c && last.1 == p => last.2 += 1,
            _ => overlap.push((c, p, 1)),
        }
    }
    drop(shared);
    let mut pairs: Vec<(u32, u32, u32)> = overlap.iter().map(|&(c, p, n)| (n, c, p)).collect();
    pairs.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut owner: Vec<Option<u32>> = vec![None; clusters.len()];
    let mut taken = vec![false; names.len()];
    for &(_, c, p) in &pairs {
        if owner[c as usize].is_none() && !taken[p as usize] {
            taken[p as usize] = true;
            owner[c as usize] = Some(p);
        }
    }
    let mut events = Vec::new();
    let persons: Vec<String> = owner
        .iter()
        .map(|o| match o {
            Some(p) => names[*p as usize].clone(),
            None => {
                let id = new_id();
                events.push(PersonChange::Created { person: id.clone() });
                id
            }
        })
        .collect();
    // Merges: clusters holding records of persons other than their own
    // (`overlap` is grouped by cluster, persons in order).
    for group in overlap.chunk_by(|a, b| a.0 == b.0) {
        let c = group[0].0;
        let absorbed: Vec<String> = group
            .iter()
            .filter(|x| owner[c as usize] != Some(x.1))
            .map(|x| names[x.1 as usize].clone())
            .collect();
        if !absorbed.is_empty() {
            events.push(PersonChange::Merged {
                person: persons[c as usize].clone(),
                absorbed,
            });
        }
    }
    // Splits: previous persons (who kept their id) whose records went to several clusters.
    let mut by_person: Vec<(u32, u32)> = overlap.iter().map(|&(c, p, _)| (p, c)).collect();
    by_person.sort_unstable();
    for group in by_person.chunk_by(|a, b| a.0 == b.0) {
        let p = group[0].0;
        let into: BTreeSet<String> = group
            .iter()
            .filter(|x| owner[x.1 as usize] != Some(p))
            .map(|x| persons[x.1 as usize].clone())
            .collect();
        if taken[p as usize] && !into.is_empty() {
            events.push(PersonChange::Split {
                person: names[p as usize].clone(),
                into: into.into_iter().collect(),
            });
        }
    }
    // Retirements: previous persons with no cluster of their own.
    for (p, name) in names.iter().enumerate() {
        if !taken[p] {
            events.push(PersonChange::Retired {
                person: (*name).clone(),
            });
        }
    }
    let mut links = FxHashMap::with_capacity_and_hasher(previous.len(), Default::default());
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
            [PersonChange::Created {
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
                PersonChange::Merged {
                    person: "P1".into(),
                    absorbed: vec!["P2".into()]
                },
                PersonChange::Retired {
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
            a.events.contains(&PersonChange::Split {
                person: "P1".into(),
                into: vec!["P101".into()]
            }),
            "{:?}",
            a.events
        );
    }
}
