//! Accuracy against ground truth: pairwise precision, recall and F1 of
//! predicted pairs or of the pairs clusters imply, B-cubed precision and
//! recall, and a precision–recall curve over thresholds.

use std::collections::HashMap;
use std::hash::Hash;

use serde::Serialize;

/// Precision, recall and F1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scores {
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// Harmonic mean of the two.
    pub f1: f64,
}

impl Scores {
    fn new(precision: f64, recall: f64) -> Self {
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Self {
            precision,
            recall,
            f1,
        }
    }
}

fn choose2(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// Pairwise scores of the pairs implied by `clusters` (record → cluster)
/// against `truth` (record → entity), over records in both.
pub fn cluster_pairwise<K: Hash + Eq, C: Hash + Eq + Clone, E: Hash + Eq + Clone>(
    clusters: &HashMap<K, C>,
    truth: &HashMap<K, E>,
) -> Scores {
    let mut by_cluster: HashMap<C, u64> = HashMap::new();
    let mut by_entity: HashMap<E, u64> = HashMap::new();
    let mut by_both: HashMap<(C, E), u64> = HashMap::new();
    for (k, c) in clusters {
        if let Some(e) = truth.get(k) {
            *by_cluster.entry(c.clone()).or_default() += 1;
            *by_entity.entry(e.clone()).or_default() += 1;
            *by_both.entry((c.clone(), e.clone())).or_default() += 1;
        }
    }
    let predicted: u64 = by_cluster.values().map(|&n| choose2(n)).sum();
    let actual: u64 = by_entity.values().map(|&n| choose2(n)).sum();
    let correct: u64 = by_both.values().map(|&n| choose2(n)).sum();
    Scores::new(ratio(correct, predicted), ratio(correct, actual))
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// B-cubed precision and recall, averaged over records in both.
pub fn b_cubed<K: Hash + Eq, C: Hash + Eq + Clone, E: Hash + Eq + Clone>(
    clusters: &HashMap<K, C>,
    truth: &HashMap<K, E>,
) -> Scores {
    let mut by_cluster: HashMap<C, f64> = HashMap::new();
    let mut by_entity: HashMap<E, f64> = HashMap::new();
    let mut by_both: HashMap<(C, E), f64> = HashMap::new();
    let mut n = 0.0;
    for (k, c) in clusters {
        if let Some(e) = truth.get(k) {
            *by_cluster.entry(c.clone()).or_default() += 1.0;
            *by_entity.entry(e.clone()).or_default() += 1.0;
            *by_both.entry((c.clone(), e.clone())).or_default() += 1.0;
            n += 1.0;
        }
    }
    let (mut p, mut r) = (0.0, 0.0);
    for ((c, e), both) in &by_both {
        p += both * both / by_cluster[c];
        r += both * both / by_entity[e];
    }
    if n == 0.0 {
        Scores::new(1.0, 1.0)
    } else {
        Scores::new(p / n, r / n)
    }
}

/// Pairwise scores of scored pairs at each threshold: `pairs` are
/// (left record, right record, probability); the true pairs are all pairs
/// of records (in `truth`) sharing an entity.
pub fn pr_curve<K: Hash + Eq, E: Hash + Eq + Clone>(
    pairs: &[(K, K, f64)],
    truth: &HashMap<K, E>,
    thresholds: &[f64],
) -> Vec<(f64, Scores)> {
    let mut per_entity: HashMap<E, u64> = HashMap::new();
    for e in truth.values() {
        *per_entity.entry(e.clone()).or_default() += 1;
    }
    let actual: u64 = per_entity.values().map(|&n| choose2(n)).sum();
    thresholds
        .iter()
        .map(|&t| {
            let (mut predicted, mut correct) = (0u64, 0u64);
            for (a, b, p) in pairs {
                if *p >= t {
                    if let (Some(x), Some(y)) = (truth.get(a), truth.get(b)) {
                        predicted += 1;
                        correct += u64::from(x == y);
                    }
                }
            }
            (
                t,
                Scores::new(ratio(correct, predicted), ratio(correct, actual)),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(v: &[(&'static str, u32)]) -> HashMap<&'static str, u32> {
        v.iter().copied().collect()
    }

    #[test]
    fn perfect_and_imperfect_clusterings() {
        let truth = map(&[("a", 1), ("b", 1), ("c", 1), ("d", 2), ("e", 3)]);
        let perfect = map(&[("a", 9), ("b", 9), ("c", 9), ("d", 8), ("e", 7)]);
        assert_eq!(cluster_pairwise(&perfect, &truth).f1, 1.0);
        assert_eq!(b_cubed(&perfect, &truth).f1, 1.0);
        // a,b together; c alone; d wrongly with e.
        let split = map(&[("a", 9), ("b", 9), ("c", 6), ("d", 8), ("e", 8)]);
        let s = cluster_pairwise(&split, &truth);
        assert_eq!((s.precision, s.recall), (0.5, 1.0 / 3.0));
    }

    #[test]
    fn curve_counts_pairs_at_each_threshold() {
        let truth = map(&[("a", 1), ("b", 1), ("c", 2), ("d", 2)]);
        let pairs = vec![("a", "b", 0.99), ("c", "d", 0.6), ("a", "c", 0.7)];
        let curve = pr_curve(&pairs, &truth, &[0.5, 0.9]);
        assert_eq!(curve[0].1.recall, 1.0);
        assert!((curve[0].1.precision - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!((curve[1].1.precision, curve[1].1.recall), (1.0, 0.5));
    }
}
