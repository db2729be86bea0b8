//! Clustering: records joined by pairs at or above the threshold, strongest
//! pairs first, with a guard against chaining.
//!
//! The guard: two clusters that each hold a valid NHS number, and share none,
//! are different people as far as the NHS knows, so a pair between them does
//! not join them unless its match weight is overwhelming
//! (`conflict_override_weight`, 40 bits by default: more than any pair
//! without agreeing NHS numbers reaches). Because pairs are taken strongest
//! first, a cluster's NHS numbers are fixed by its best evidence before weak
//! pairs are considered, so a chain of weak links cannot pull two known
//! patients together.

use crate::dataset::{Dataset, NULL};
use crate::model::Model;
use crate::score::ScoredPair;
use crate::settings::ComparisonKind;

/// Steward decisions, as constraints on clustering (record indices).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Constraints {
    /// Pairs that are the same person, whatever their score.
    pub must_link: Vec<(u32, u32)>,
    /// Pairs that are different people, whatever their score.
    pub cannot_link: Vec<(u32, u32)>,
}

/// Which cluster each record is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clustering {
    /// Per record: the smallest record index in its cluster.
    pub cluster: Vec<u32>,
    /// Pairs above the threshold that the guard kept apart.
    pub blocked_merges: u64,
    /// Pairs above the threshold (or must-links) that a cannot-link kept apart.
    pub steward_kept_apart: u64,
}

struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
    ids: Vec<Vec<u32>>,
    /// Per root: records its members must never be joined with.
    cannot: Vec<Vec<u32>>,
}

impl UnionFind {
    /// Whether joining the clusters rooted at `a` and `b` would break a cannot-link.
    fn forbidden(&mut self, a: u32, b: u32) -> bool {
        let (small, other) = if self.cannot[a as usize].len() <= self.cannot[b as usize].len() {
            (a, b)
        } else {
            (b, a)
        };
        let partners = self.cannot[small as usize].clone();
        partners.into_iter().any(|x| self.find(x) == other)
    }

    /// Joins two roots.
    fn union(&mut self, ra: u32, rb: u32) {
        let (big, small) = if self.size[ra as usize] >= self.size[rb as usize] {
            (ra, rb)
        } else {
            (rb, ra)
        };
        self.parent[small as usize] = big;
        self.size[big as usize] += self.size[small as usize];
        let moved = std::mem::take(&mut self.ids[small as usize]);
        let target = &mut self.ids[big as usize];
        target.extend(moved);
        target.sort_unstable();
        target.dedup();
        let moved = std::mem::take(&mut self.cannot[small as usize]);
        self.cannot[big as usize].extend(moved);
    }

    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }
}

/// Clusters `ds` from its scored pairs.
pub fn cluster(model: &Model, ds: &Dataset, scored: &[ScoredPair]) -> Clustering {
    cluster_with(model, ds, scored, &Constraints::default())
}

/// Clusters `ds` from its scored pairs under steward decisions: must-links
/// join first (a steward's decision outranks the NHS-number guard), and no
/// join ever puts the two records of a cannot-link in one cluster.
pub fn cluster_with(
    model: &Model,
    ds: &Dataset,
    scored: &[ScoredPair],
    constraints: &Constraints,
) -> Clustering {
    let threshold = model.settings.threshold;
    let override_weight = model.settings.conflict_override_weight;
    let n = ds.len();
    let guard: Vec<usize> = model
        .comparisons
        .iter()
        .filter(|c| c.kind == ComparisonKind::NhsNumber)
        .filter_map(|c| ds.column(&c.column, c.kind))
        .collect();
    let mut uf = UnionFind {
        parent: (0..n as u32).collect(),
        size: vec![1; n],
        ids: (0..n as u32)
            .map(|r| {
                let mut v: Vec<u32> = guard
                    .iter()
                    .filter_map(|&c| ds.columns[c].get(r).map(|(id, _)| id))
                    .filter(|&id| id != NULL)
                    .collect();
                v.sort_unstable();
                v.dedup();
                v
            })
            .collect(),
        cannot: vec![Vec::new(); n],
    };
    for &(a, b) in &constraints.cannot_link {
        uf.cannot[a as usize].push(b);
        uf.cannot[b as usize].push(a);
    }
    let mut steward_kept_apart = 0;
    for &(a, b) in &constraints.must_link {
        let (ra, rb) = (uf.find(a), uf.find(b));
        if ra == rb {
            continue;
        }
        if uf.forbidden(ra, rb) {
            steward_kept_apart += 1;
            continue;
        }
        uf.union(ra, rb);
    }
    let mut edges: Vec<&ScoredPair> = scored
        .iter()
        .filter(|p| p.probability >= threshold)
        .collect();
    edges.sort_by(|x, y| {
        y.weight
            .total_cmp(&x.weight)
            .then((x.a, x.b).cmp(&(y.a, y.b)))
    });
    let mut blocked = 0;
    for e in edges {
        let (ra, rb) = (uf.find(e.a), uf.find(e.b));
        if ra == rb {
            continue;
        }
        let (ia, ib) = (&uf.ids[ra as usize], &uf.ids[rb as usize]);
        let conflict =
            !ia.is_empty() && !ib.is_empty() && !ia.iter().any(|x| ib.binary_search(x).is_ok());
        if conflict && e.weight < override_weight {
            blocked += 1;
            continue;
        }
        if uf.forbidden(ra, rb) {
            steward_kept_apart += 1;
            continue;
        }
        uf.union(ra, rb);
    }
    let mut smallest = vec![u32::MAX; n];
    for r in 0..n as u32 {
        let root = uf.find(r) as usize;
        smallest[root] = smallest[root].min(r);
    }
    let cluster = (0..n as u32)
        .map(|r| smallest[uf.find(r) as usize])
        .collect();
    Clustering {
        cluster,
        blocked_merges: blocked,
        steward_kept_apart,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LinkType, RawRecord, Settings};

    fn records() -> (Vec<String>, Vec<RawRecord>) {
        let cols: Vec<String> = ["given_name", "family_name", "dob", "postcode"]
            .map(String::from)
            .to_vec();
        let mut recs = Vec::new();
        let names = [
            "Ann", "Bob", "Cyril", "Dora", "Edna", "Frank", "Gwen", "Harold",
        ];
        for i in 0..200u32 {
            let v = [
                names[(i % 8) as usize].to_string(),
                format!("Fam{}", i % 37),
                format!("19{:02}-0{}-1{}", 20 + i % 70, 1 + i % 9, i % 10),
                format!("NR{} {}AB", 1 + i % 30, i % 10),
            ];
            for copy in 0..2 {
                recs.push(RawRecord {
                    source: "s".into(),
                    record_id: format!("{i}-{copy}"),
                    values: v.iter().map(|x| Some(x.clone())).collect(),
                });
            }
        }
        (cols, recs)
    }

    #[test]
    fn steward_decisions_win_over_scores() {
        let (cols, recs) = records();
        let settings = Settings::for_canonical_columns(
            &["given_name", "family_name", "dob", "postcode"],
            LinkType::Dedupe,
        );
        let plain = crate::link(&settings, &cols, recs.clone(), None, &()).unwrap();
        // Records 0 and 1 are identical copies: linked. Records 0 and 2 are different people: apart.
        assert_eq!(plain.clustering.cluster[0], plain.clustering.cluster[1]);
        assert_ne!(plain.clustering.cluster[0], plain.clustering.cluster[2]);
        let constraints = Constraints {
            must_link: vec![(0, 2)],
            cannot_link: vec![(0, 1)],
        };
        let decided = crate::link_with(&settings, &cols, recs, None, &constraints, &()).unwrap();
        let c = &decided.clustering.cluster;
        assert_ne!(c[0], c[1], "a cannot-link keeps identical records apart");
        assert_eq!(c[0], c[2], "a must-link joins different records");
        assert_ne!(
            c[1], c[2],
            "and the cannot-link still holds through the must-link"
        );
        assert!(decided.clustering.steward_kept_apart >= 1);
    }
}
