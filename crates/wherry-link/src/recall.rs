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

/// Candidate pairs counted by the rules they agree on and their pattern:
/// `((rules as bits, pattern), pairs)`, sorted. One pass over the pairs,
/// read by every EM session ([`by_pattern`]) and by [`estimate`].
pub type RulePatternCounts = Vec<((u64, u64), u64)>;

/// Counts `blocked`'s pairs, whose patterns are `pats`, by the rules they
/// agree on and their pattern.
pub fn count(blocked: &Blocked, pats: &[u64]) -> RulePatternCounts {
    count_by(pats.len(), |i| {
        Some((u64::from(blocked.agrees[i]), pats[i]))
    })
}

/// How many of the items `0..n` have each key (`None`: not counted),
/// sorted by key: counted in parallel, summed as integers, so the same on
/// every run.
pub fn count_by<K: std::hash::Hash + Eq + Ord + Send>(
    n: usize,
    key: impl Fn(usize) -> Option<K> + Sync,
) -> Vec<(K, u64)> {
    let counts = (0..n)
        .into_par_iter()
        .fold(FxHashMap::default, |mut acc: FxHashMap<K, u64>, i| {
            if let Some(k) = key(i) {
                *acc.entry(k).or_default() += 1;
            }
            acc
        })
        .reduce(FxHashMap::default, |mut a, b| {
            for (k, v) in b {
                *a.entry(k).or_default() += v;
            }
            a
        });
    let mut counts: Vec<(K, u64)> = counts.into_iter().collect();
    counts.sort_unstable();
    counts
}

/// Pairs per pattern among those agreeing on every rule in `want` (bits;
/// 0 for all pairs), sorted by pattern.
pub fn by_pattern(counts: &RulePatternCounts, want: u64) -> Vec<(u64, u64)> {
    let mut per: FxHashMap<u64, u64> = FxHashMap::default();
    for &((mask, p), n) in counts {
        if mask & want == want {
            *per.entry(p).or_default() += n;
        }
    }
    let mut out: Vec<(u64, u64)> = per.into_iter().collect();
    out.sort_unstable();
    out
}

/// Estimates blocking's recall from the candidate pairs' counts by rules
/// and pattern ([`count`]) under `rules`; `posterior` is a pattern's match
/// probability under the trained model. Deterministic: counts are summed
/// as integers and weighed in sorted order.
pub fn estimate(
    rules: &[crate::BlockingRule],
    counts: &RulePatternCounts,
    posterior: impl Fn(u64) -> f64,
) -> Option<Recall> {
    if !(2..=crate::blocking::MAX_RULES).contains(&rules.len()) {
        return None;
    }
    let rules_len = rules.len();
    // Expected matches among the pairs agreeing on every rule in `want`.
    let found = |want: u64| -> f64 {
        counts
            .iter()
            .filter(|((mask, _), _)| mask & want == want)
            .map(|((_, p), n)| posterior(*p) * *n as f64)
            .sum()
    };
    let per_rule: Vec<f64> = (0..rules_len).map(|r| found(1 << r)).collect();
    let all: f64 = counts
        .iter()
        .map(|((_, p), n)| posterior(*p) * *n as f64)
        .sum();
    let columns: Vec<Vec<&str>> = rules.iter().map(|r| r.columns().collect()).collect();
    let mut estimates = Vec::new();
    for a in 0..rules_len {
        for b in a + 1..rules_len {
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
        let (a, b) = (keys(&finds_a), keys(&finds_b));
        let pairs: Vec<(u32, u32)> = (0..n)
            .filter(|&k| finds_a(k) || finds_b(k))
            .map(|k| (2 * k as u32, 2 * k as u32 + 1))
            .collect();
        let agree = |keys: &[Option<u64>], (x, y): (u32, u32)| keys[x as usize] == keys[y as usize];
        let blocked = Blocked {
            agrees: pairs
                .iter()
                .map(|&p| u32::from(agree(&a, p)) | u32::from(agree(&b, p)) << 1)
                .collect(),
            pairs,
            per_rule: vec![],
            rules: vec![rule("a"), rule("b")],
        };
        // Every candidate a match (pattern 1).
        let pats = vec![1u64; blocked.pairs.len()];
        let counts = count(&blocked, &pats);
        let r = estimate(&blocked.rules, &counts, |p| p as f64).unwrap();
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
        assert_eq!(
            estimate(&[rule("a"), rule("a")], &counts, |p| p as f64),
            None
        );
    }
}
