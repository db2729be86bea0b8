//! How many of the true pairs blocking finds, estimated from the data: a
//! pair of rules that share no column finds matches roughly independently
//! of each other, so the matches each finds and the matches both find
//! give the matches in all (the Lincoln–Petersen estimate of capture and
//! recapture), and each rule's recall, and the union's, follow. The
//! matches a rule finds are the trained model's expected matches among
//! its pairs. Errors that hit two rules' columns together (a record with
//! everything wrong) make the estimate optimistic; with no two rules
//! apart there is no estimate, and the summary says so.

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::blocking::Blocked;

/// Blocking's estimated recall.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recall {
    /// Matches estimated among all eligible pairs.
    pub matches: f64,
    /// The share of them the candidate pairs hold (all rules together).
    pub union: f64,
    /// Per blocking rule, in order, the share it finds on its own.
    pub rules: Vec<f64>,
    /// Pairs of rules with no column in common the estimate rests on.
    pub from: usize,
    /// The estimate's 95% interval: from the least to the most those pairs
    /// of rules estimate, each widened by 1.96 standard errors (Chapman's
    /// variance), and never below the matches the candidates hold.
    #[serde(default)]
    pub range: (f64, f64),
}

/// Under this, the summary warns that blocking misses true pairs.
pub const WARN_BELOW: f64 = 0.95;

/// Estimates blocking's recall over `blocked`'s candidate pairs, whose
/// comparison patterns are `pats`; `posterior` is a pattern's match
/// probability under the trained model. Deterministic: counts are summed
/// as integers and weighed in sorted order.
pub fn estimate(blocked: &Blocked, pats: &[u64], posterior: impl Fn(u64) -> f64) -> Option<Recall> {
    let rules = blocked.keys.len();
    if !(2..=64).contains(&rules) {
        return None;
    }
    // Pairs per (the rules a pair agrees on, its pattern).
    let counts = blocked
        .pairs
        .par_iter()
        .zip(pats)
        .fold(
            FxHashMap::default,
            |mut acc: FxHashMap<(u64, u64), u64>, (&(a, b), &p)| {
                let mask = blocked
                    .keys
                    .iter()
                    .enumerate()
                    .filter(|(_, k)| k.agree(a, b))
                    .fold(0u64, |m, (r, _)| m | 1 << r);
                *acc.entry((mask, p)).or_default() += 1;
                acc
            },
        )
        .reduce(FxHashMap::default, |mut a, b| {
            for (k, v) in b {
                *a.entry(k).or_default() += v;
            }
            a
        });
    let mut counts: Vec<((u64, u64), u64)> = counts.into_iter().collect();
    counts.sort_unstable();
    // Expected matches among the pairs agreeing on every rule in `want`.
    let found = |want: u64| -> f64 {
        counts
            .iter()
            .filter(|((mask, _), _)| mask & want == want)
            .map(|((_, p), n)| posterior(*p) * *n as f64)
            .sum()
    };
    let per_rule: Vec<f64> = (0..rules).map(|r| found(1 << r)).collect();
    let all: f64 = counts
        .iter()
        .map(|((_, p), n)| posterior(*p) * *n as f64)
        .sum();
    let columns: Vec<Vec<&str>> = blocked
        .keys
        .iter()
        .map(|k| k.rule.columns().collect())
        .collect();
    let mut estimates = Vec::new();
    for a in 0..rules {
        for b in a + 1..rules {
            if columns[a].iter().any(|c| columns[b].contains(c)) {
                continue;
            }
            let both = found(1 << a | 1 << b);
            if both >= 1.0 {
                // The estimate and Chapman's variance of it.
                let (n1, n2, m) = (per_rule[a], per_rule[b], both);
                let var = (n1 + 1.0) * (n2 + 1.0) * (n1 - m).max(0.0) * (n2 - m).max(0.0)
                    / ((m + 1.0).powi(2) * (m + 2.0));
                estimates.push((n1 * n2 / m, var.sqrt()));
            }
        }
    }
    if estimates.is_empty() || all <= 0.0 {
        return None;
    }
    estimates.sort_by(|x, y| x.0.total_cmp(&y.0));
    let matches = estimates[estimates.len() / 2].0.max(all);
    let low = estimates
        .iter()
        .map(|(n, sd)| n - 1.96 * sd)
        .fold(f64::INFINITY, f64::min);
    let high = estimates
        .iter()
        .map(|(n, sd)| n + 1.96 * sd)
        .fold(0.0, f64::max);
    Some(Recall {
        matches,
        union: all / matches,
        rules: per_rule.iter().map(|n| n / matches).collect(),
        from: estimates.len(),
        range: (low.max(all), high.max(all)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocking::RuleKeys;
    use crate::settings::BlockingRule;

    /// 1,000 true pairs; rule `a` finds 80% of them and rule `b`, on
    /// another column, 60%, independently: all together 92%.
    #[test]
    fn two_independent_rules_give_the_matches_and_each_recall() {
        let n = 1000u64;
        let finds_a = |k: u64| k % 5 != 0;
        let finds_b = |k: u64| (k / 5) % 5 < 3;
        let keys = |finds: &dyn Fn(u64) -> bool| -> Vec<Option<u64>> {
            (0..2 * n)
                .map(|r| {
                    let k = r / 2;
                    Some(if r % 2 == 1 && !finds(k) {
                        k + 10 * n
                    } else {
                        k
                    })
                })
                .collect()
        };
        let rule = |c: &str| BlockingRule {
            keys: vec![c.to_string()],
        };
        let blocked = Blocked {
            pairs: (0..n)
                .filter(|&k| finds_a(k) || finds_b(k))
                .map(|k| (2 * k as u32, 2 * k as u32 + 1))
                .collect(),
            per_rule: vec![],
            keys: vec![
                RuleKeys {
                    rule: rule("a"),
                    keys: keys(&finds_a),
                },
                RuleKeys {
                    rule: rule("b"),
                    keys: keys(&finds_b),
                },
            ],
        };
        // Every candidate a match (pattern 1).
        let pats = vec![1u64; blocked.pairs.len()];
        let r = estimate(&blocked, &pats, |p| p as f64).unwrap();
        assert_eq!(r.from, 1);
        // The interval holds the truth, and is a real one (Chapman's
        // standard error here is about 13 pairs).
        assert!(r.range.0 <= n as f64 && n as f64 <= r.range.1, "{r:?}");
        let width = r.range.1 - r.range.0;
        assert!(width > 20.0 && width < 100.0, "{r:?}");
        assert!((r.matches - n as f64).abs() < 1.0, "{r:?}");
        assert!((r.union - 0.92).abs() < 1e-3, "{r:?}");
        assert!(
            (r.rules[0] - 0.8).abs() < 1e-3 && (r.rules[1] - 0.6).abs() < 1e-3,
            "{r:?}"
        );
        // Rules on the same column give no estimate.
        let mut same = blocked.clone();
        same.keys[1].rule = rule("a");
        assert_eq!(estimate(&same, &pats, |p| p as f64), None);
    }
}
