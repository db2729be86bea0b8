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
                estimates.push(per_rule[a] * per_rule[b] / both);
            }
        }
    }
    if estimates.is_empty() || all <= 0.0 {
        return None;
    }
    estimates.sort_by(f64::total_cmp);
    let matches = estimates[estimates.len() / 2].max(all);
    Some(Recall {
        matches,
        union: all / matches,
        rules: per_rule.iter().map(|n| n / matches).collect(),
        from: estimates.len(),
    })
}
