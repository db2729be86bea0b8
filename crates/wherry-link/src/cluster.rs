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

/// Which cluster each record is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clustering {
    /// Per record: the smallest record index in its cluster.
    pub cluster: Vec<u32>,
    /// Pairs above the threshold that the guard kept apart.
    pub blocked_merges: u64,
}

struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
    ids: Vec<Vec<u32>>,
}

impl UnionFind {
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
    };
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
        let (big, small) = if uf.size[ra as usize] >= uf.size[rb as usize] {
            (ra, rb)
        } else {
            (rb, ra)
        };
        uf.parent[small as usize] = big;
        uf.size[big as usize] += uf.size[small as usize];
        let moved = std::mem::take(&mut uf.ids[small as usize]);
        let target = &mut uf.ids[big as usize];
        target.extend(moved);
        target.sort_unstable();
        target.dedup();
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
    }
}
