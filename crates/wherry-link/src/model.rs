//! The Fellegi–Sunter model: m and u probabilities per comparison level,
//! the prior, training (`estimate_u`, `estimate_m_by_em`, `estimate_prior`)
//! and scoring. A model round-trips through JSON, so any result can be
//! reproduced and audited.
//!
//! Training follows Splink. u-probabilities come from a seeded sample of
//! random pairs (almost all non-matches). m-probabilities come from
//! expectation–maximisation on the candidate pairs of each blocking rule in
//! turn, holding fixed the comparisons of the columns that rule blocks on
//! (their agreement is forced by the rule, so those pairs say nothing about
//! them); each comparison's m is the mean over the rules that trained it.
//! EM runs on counts of distinct comparison patterns, not on pairs, so it
//! takes milliseconds whatever the number of pairs. The prior (the
//! probability that two random records match) is the fixed point of
//! λ = Σ P(match | pattern, λ) / all pairs, over the candidate pairs.

use std::collections::BTreeMap;

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::blocking::{self, Blocked, RuleCount};
use crate::compare::{Comparison, level_of, pattern};
use crate::dataset::{Dataset, GenericValue};
pub use crate::prior::{estimate_prior, probability};
use crate::settings::{ComparisonKind, LinkType, Settings};
pub use crate::training::EmSession;
use crate::training::{learned_nothing, training_rules};

/// The model file's format name.
pub const MODEL_FORMAT: &str = "wherry-link-model";

/// A trained model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// Always [`MODEL_FORMAT`].
    pub format: String,
    /// The settings it was trained with.
    pub settings: Settings,
    /// Probability that two random eligible records are the same person.
    pub prior: f64,
    /// Per comparison, its levels' m and u.
    pub comparisons: Vec<TrainedComparison>,
    /// What it was trained on and how training went.
    pub training: TrainingReport,
}

/// One comparison's trained levels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainedComparison {
    /// Column.
    pub column: String,
    /// Kind.
    pub kind: ComparisonKind,
    /// Term-frequency adjusted.
    pub tf: bool,
    /// Levels; the first is "missing", with no weight.
    pub levels: Vec<TrainedLevel>,
}

/// One level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainedLevel {
    /// What the level means.
    pub label: String,
    /// P(level | match).
    pub m: f64,
    /// P(level | non-match).
    pub u: f64,
    /// log2(m / u): the evidence, in bits.
    pub weight: f64,
}

/// How training went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TrainingReport {
    /// Records trained on.
    pub records: u64,
    /// Sources trained on.
    pub sources: Vec<String>,
    /// Candidate pairs.
    pub candidate_pairs: u64,
    /// All eligible pairs.
    pub total_pairs: u64,
    /// Pairs per blocking rule.
    pub blocking: Vec<RuleCount>,
    /// Random pairs sampled for u.
    pub u_sample_pairs: u64,
    /// One EM session per blocking rule.
    pub em_sessions: Vec<EmSession>,
    /// Comparisons no session could train (their m kept its starting value).
    pub untrained: Vec<String>,
    /// Iterations to find the prior.
    pub prior_iterations: u32,
    /// Expected true matches among the candidate pairs.
    pub expected_matches: f64,
    /// Values treated as placeholders.
    pub generic_values: Vec<GenericValue>,
    /// Values per column that failed validation (compared as missing).
    pub invalid_values: BTreeMap<String, u64>,
    /// Blocking's estimated recall ([`crate::recall`]), when two rules
    /// share no column.
    #[serde(default)]
    pub blocking_recall: Option<crate::recall::Recall>,
}

/// A small deterministic generator for sampling.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }
}

/// A well-mixed hash of a pair, for unbiased sampling (neighbouring records,
/// which are often the same person, must not be sampled differently).
fn sample_hash(a: u32, b: u32, seed: u64) -> u64 {
    SplitMix((u64::from(a) << 32 | u64::from(b)) ^ seed.rotate_left(17)).next()
}

/// All eligible pairs.
pub fn total_pairs(ds: &Dataset, link_type: LinkType) -> u64 {
    let n = ds.len() as u64;
    let all = n * n.saturating_sub(1) / 2;
    match link_type {
        LinkType::LinkOnly => {
            let mut per = vec![0u64; ds.sources.len()];
            for &s in &ds.source {
                per[s as usize] += 1;
            }
            all - per.iter().map(|k| k * k.saturating_sub(1) / 2).sum::<u64>()
        }
        _ => all,
    }
}

/// Counts of each level of each comparison among `n` random eligible pairs,
/// and how many pairs were drawn.
pub fn estimate_u(
    ds: &Dataset,
    comparisons: &[Comparison],
    settings: &Settings,
) -> (Vec<Vec<f64>>, u64) {
    let n = ds.len() as u64;
    let total = total_pairs(ds, settings.link_type);
    let want = settings.u_sample_pairs.min(total);
    let chunks = 64u64;
    let per_chunk = want.div_ceil(chunks);
    let counts: Vec<Vec<Vec<u64>>> = (0..chunks)
        .into_par_iter()
        .map(|c| {
            let mut rng = SplitMix(settings.seed ^ 0x5EED_0000 ^ c.wrapping_mul(0x9E37));
            let mut counts: Vec<Vec<u64>> =
                comparisons.iter().map(|c| vec![0; c.levels()]).collect();
            let mut drawn = 0;
            let mut attempts = 0u64;
            while drawn < per_chunk && attempts < per_chunk * 50 {
                attempts += 1;
                let a = rng.below(n) as u32;
                let b = rng.below(n) as u32;
                if a == b || !blocking::eligible(ds, settings.link_type, a, b) {
                    continue;
                }
                drawn += 1;
                for (i, comp) in comparisons.iter().enumerate() {
                    counts[i][comp.level(ds, a, b) as usize] += 1;
                }
            }
            counts
        })
        .collect();
    let mut sum: Vec<Vec<u64>> = comparisons.iter().map(|c| vec![0; c.levels()]).collect();
    for c in counts {
        for (i, levels) in c.into_iter().enumerate() {
            for (l, k) in levels.into_iter().enumerate() {
                sum[i][l] += k;
            }
        }
    }
    let drawn: u64 = sum.first().map_or(0, |c| c.iter().sum());
    let u = sum
        .iter()
        .map(|levels| {
            let non_null: u64 = levels[1..].iter().sum();
            let denom = non_null as f64 + 1.0;
            let mut u: Vec<f64> = levels
                .iter()
                .enumerate()
                .map(|(l, &k)| {
                    if l == 0 {
                        1.0
                    } else {
                        (k as f64).max(0.5) / denom
                    }
                })
                .collect();
            normalise_levels(&mut u);
            u
        })
        .collect();
    (u, drawn)
}

/// Makes levels 1.. sum to one (level 0, missing, is always 1).
fn normalise_levels(p: &mut [f64]) {
    let s: f64 = p[1..].iter().sum();
    if s > 0.0 {
        for x in &mut p[1..] {
            *x /= s;
        }
    }
    p[0] = 1.0;
}

/// A starting m: most mass on the best level, decreasing after it.
fn initial_m(levels: usize) -> Vec<f64> {
    let mut m: Vec<f64> = (0..levels)
        .map(|l| {
            if l == 0 {
                1.0
            } else {
                0.5f64.powi(l as i32 * 2)
            }
        })
        .collect();
    normalise_levels(&mut m);
    m
}

/// Posterior P(match | pattern) for λ, m, u.
pub(crate) fn posterior(p: u64, lambda: f64, m: &[Vec<f64>], u: &[Vec<f64>]) -> f64 {
    posterior_ignoring(p, lambda, m, u, &[])
}

/// Posterior P(match | pattern), leaving out the comparisons marked in
/// `ignore` (within an EM session, the blocked-on comparisons: every pair
/// agrees on them because the rule made it so, which is no evidence).
fn posterior_ignoring(p: u64, lambda: f64, m: &[Vec<f64>], u: &[Vec<f64>], ignore: &[bool]) -> f64 {
    let (mut pm, mut pu) = (lambda, 1.0 - lambda);
    for i in 0..m.len() {
        if ignore.get(i).copied().unwrap_or(false) {
            continue;
        }
        let l = level_of(p, i);
        pm *= m[i][l];
        pu *= u[i][l];
    }
    if pm + pu == 0.0 { 0.0 } else { pm / (pm + pu) }
}

/// EM on pattern counts: updates m for comparisons not in `fixed`, and
/// returns the session's report and the matched share.
pub fn estimate_m_by_em(
    counts: &[(u64, u64)],
    m: &mut [Vec<f64>],
    u: &[Vec<f64>],
    fixed: &[bool],
    settings: &Settings,
) -> (u32, bool, f64, f64) {
    let mut lambda = 0.5;
    let mut iterations = 0;
    let mut change = f64::INFINITY;
    let total: f64 = counts.iter().map(|&(_, c)| c as f64).sum();
    if total == 0.0 {
        return (0, false, 0.0, 0.0);
    }
    while iterations < settings.em_max_iterations && change > settings.em_tolerance {
        iterations += 1;
        let mut expected: Vec<Vec<f64>> = m.iter().map(|levels| vec![0.0; levels.len()]).collect();
        let mut matched = 0.0;
        for &(p, c) in counts {
            let w = posterior_ignoring(p, lambda, m, u, fixed) * c as f64;
            matched += w;
            for (i, e) in expected.iter_mut().enumerate() {
                e[level_of(p, i)] += w;
            }
        }
        lambda = (matched / total).clamp(1e-9, 1.0 - 1e-9);
        change = 0.0;
        for i in 0..m.len() {
            if fixed[i] {
                continue;
            }
            let non_null: f64 = expected[i][1..].iter().sum();
            if non_null <= 0.0 {
                continue;
            }
            for l in 1..m[i].len() {
                let new = (expected[i][l] / non_null).max(1e-6);
                change = f64::max(change, (new - m[i][l]).abs());
                m[i][l] = new;
            }
            normalise_levels(&mut m[i]);
        }
    }
    (iterations, change <= settings.em_tolerance, change, lambda)
}

/// Pattern counts for the pairs selected by `keep`, sorted by pattern so
/// that sums over them are in the same order on every run.
fn count_patterns(patterns: &[u64], keep: impl Fn(usize) -> bool + Sync) -> Vec<(u64, u64)> {
    crate::recall::count_by(patterns.len(), |i| keep(i).then(|| patterns[i]))
}

/// Comparison patterns of every candidate pair.
pub fn patterns(
    ds: &Dataset,
    comparisons: &[Comparison],
    pairs: &[(u32, u32)],
    progress: &dyn crate::Progress,
) -> Vec<u64> {
    let mut out = vec![0u64; pairs.len()];
    out.par_chunks_mut(CHUNK)
        .zip(pairs.par_chunks(CHUNK))
        .for_each(|(o, p)| {
            for (x, &(a, b)) in o.iter_mut().zip(p) {
                *x = pattern(comparisons, ds, a, b);
            }
            progress.advance(p.len() as u64);
        });
    out
}

/// Pairs per unit of parallel work (and per progress report).
pub const CHUNK: usize = 1 << 16;

impl Model {
    /// Trains a model on `ds` from its candidate pairs and their patterns.
    pub fn train(
        ds: &Dataset,
        settings: &Settings,
        blocked: &Blocked,
        pats: &[u64],
        progress: &dyn crate::Progress,
    ) -> Self {
        let comparisons: Vec<Comparison> = settings
            .comparisons
            .iter()
            .map(|s| Comparison::new(s, ds))
            .collect();
        let (u, drawn) = estimate_u(ds, &comparisons, settings);
        progress.advance(1);
        let starting: Vec<Vec<f64>> = comparisons.iter().map(|c| initial_m(c.levels())).collect();
        let mut sums: Vec<Vec<f64>> = comparisons.iter().map(|c| vec![0.0; c.levels()]).collect();
        let mut trained = vec![0u32; comparisons.len()];
        let mut sessions = Vec::new();
        let fixed_by = |rule: &crate::BlockingRule| -> Vec<bool> {
            let rule_columns: Vec<&str> = rule.columns().collect();
            comparisons
                .iter()
                .map(|c| c.spec.columns().any(|col| rule_columns.contains(&col)))
                .collect()
        };
        let run = |rule: &crate::BlockingRule, counts: &[(u64, u64)], training_only| {
            let fixed = fixed_by(rule);
            let pairs: u64 = counts.iter().map(|c| c.1).sum();
            let mut m = starting.clone();
            let (iterations, converged, last_change, match_share) =
                estimate_m_by_em(counts, &mut m, &u, &fixed, settings);
            let nothing = learned_nothing(&fixed, pairs, iterations, match_share);
            let session = EmSession {
                rule: rule.describe(),
                pairs,
                fixed: comparisons
                    .iter()
                    .zip(&fixed)
                    .filter(|(_, f)| **f)
                    .map(|(c, _)| c.spec.column.clone())
                    .collect(),
                iterations,
                converged: converged && nothing.is_none(),
                last_change,
                match_share,
                m,
                learned_nothing: nothing,
                training_only,
            };
            (session, fixed)
        };
        let mut absorb = |(session, fixed): (EmSession, Vec<bool>)| {
            if session.learned_nothing.is_none() {
                for i in 0..comparisons.len() {
                    if !fixed[i] {
                        trained[i] += 1;
                        for (sum, m) in sums[i].iter_mut().zip(&session.m[i]) {
                            *sum += m;
                        }
                    }
                }
            }
            sessions.push(session);
            trained.clone()
        };
        let mut now = vec![0u32; comparisons.len()];
        let by_rules = crate::recall::count(blocked, pats);
        for (r, rule) in blocked.rules.iter().enumerate() {
            // A seeded sample when the rule has more pairs than EM needs.
            let stride = (blocked.per_rule[r].pairs / settings.em_max_pairs.max(1)).max(1);
            let counts = if stride == 1 {
                crate::recall::by_pattern(&by_rules, 1 << r)
            } else {
                count_patterns(pats, |i| {
                    let (a, b) = blocked.pairs[i];
                    blocked.agrees[i] >> r & 1 == 1
                        && sample_hash(a, b, settings.seed) % stride == 0
                })
            };
            now = absorb(run(rule, &counts, false));
            progress.advance(1);
        }
        // Every comparison trained: a comparison every prediction rule
        // blocks on is trained on pairs that agree exactly on another
        // comparison's column (a training-only session; the comparisons in
        // order, each rule run only while it frees one still untrained).
        for rule in training_rules(&comparisons) {
            let frees = fixed_by(&rule).iter().zip(&now).any(|(f, t)| !f && *t == 0);
            if !frees {
                continue;
            }
            let Ok(pairs) = crate::blocking::block(
                ds,
                settings.link_type,
                std::slice::from_ref(&rule),
                settings.max_pairs_per_rule,
                &(),
            ) else {
                continue; // too many pairs for a rule of its own
            };
            let stride = (pairs.pairs.len() as u64 / settings.em_max_pairs.max(1)).max(1);
            let kept: Vec<(u32, u32)> = pairs
                .pairs
                .into_iter()
                .filter(|&(a, b)| stride == 1 || sample_hash(a, b, settings.seed) % stride == 0)
                .collect();
            let p = patterns(ds, &comparisons, &kept, &());
            now = absorb(run(&rule, &count_patterns(&p, |_| true), true));
        }
        let mut untrained = Vec::new();
        let m: Vec<Vec<f64>> = (0..comparisons.len())
            .map(|i| {
                if trained[i] == 0 {
                    untrained.push(comparisons[i].spec.column.clone());
                    return starting[i].clone();
                }
                let mut v: Vec<f64> = sums[i].iter().map(|s| s / f64::from(trained[i])).collect();
                normalise_levels(&mut v);
                v
            })
            .collect();
        let total = total_pairs(ds, settings.link_type);
        let all_counts = crate::recall::by_pattern(&by_rules, 0);
        let (prior, prior_iterations, expected) = estimate_prior(&all_counts, &m, &u, total);
        let by_pattern: FxHashMap<u64, f64> = all_counts
            .iter()
            .map(|&(p, _)| (p, posterior(p, prior, &m, &u)))
            .collect();
        let blocking_recall = crate::recall::estimate(&blocked.rules, &by_rules, |p| {
            by_pattern.get(&p).copied().unwrap_or(0.0)
        });
        progress.advance(1);
        let comparisons = comparisons
            .iter()
            .enumerate()
            .map(|(i, c)| TrainedComparison {
                column: c.spec.column.clone(),
                kind: c.spec.kind,
                tf: c.spec.tf,
                levels: c
                    .labels
                    .iter()
                    .enumerate()
                    .map(|(l, label)| TrainedLevel {
                        label: label.clone(),
                        m: m[i][l],
                        u: u[i][l],
                        weight: if l == 0 {
                            0.0
                        } else {
                            (m[i][l] / u[i][l]).log2()
                        },
                    })
                    .collect(),
            })
            .collect();
        Model {
            format: MODEL_FORMAT.into(),
            settings: settings.clone(),
            prior,
            comparisons,
            training: TrainingReport {
                records: ds.len() as u64,
                sources: ds.sources.clone(),
                candidate_pairs: blocked.pairs.len() as u64,
                total_pairs: total,
                blocking: blocked.per_rule.clone(),
                u_sample_pairs: drawn,
                em_sessions: sessions,
                untrained,
                prior_iterations,
                expected_matches: expected,
                generic_values: ds.generic.clone(),
                invalid_values: ds.invalid.clone(),
                blocking_recall,
            },
        }
    }

    /// Checks a loaded model fits `settings`' comparisons and levels.
    pub fn check(&self) -> Result<(), Error> {
        if self.format != MODEL_FORMAT {
            return Err(Error::Model(format!(
                "format is {:?}, not {MODEL_FORMAT:?}",
                self.format
            )));
        }
        self.settings.validate()?;
        if self.comparisons.len() != self.settings.comparisons.len() {
            return Err(Error::Model("comparisons do not match the settings".into()));
        }
        for (t, s) in self.comparisons.iter().zip(&self.settings.comparisons) {
            let labels = crate::compare::level_labels(s);
            if t.column != s.column || t.levels.len() != labels.len() {
                return Err(Error::Model(format!(
                    "comparison {} does not match its settings",
                    t.column
                )));
            }
        }
        if !(0.0..1.0).contains(&self.prior) || self.prior == 0.0 {
            return Err(Error::Model(format!(
                "prior {} is not a probability",
                self.prior
            )));
        }
        Ok(())
    }

    /// The prior as a weight: log2(λ / (1 − λ)).
    pub fn prior_weight(&self) -> f64 {
        (self.prior / (1.0 - self.prior)).log2()
    }

    /// Per comparison, per level, the weight.
    pub fn weight_table(&self) -> Vec<Vec<f64>> {
        self.comparisons
            .iter()
            .map(|c| c.levels.iter().map(|l| l.weight).collect())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(map: FxHashMap<u64, u64>) -> Vec<(u64, u64)> {
        let mut v: Vec<(u64, u64)> = map.into_iter().collect();
        v.sort_unstable();
        v
    }

    /// EM on the pattern counts of 2,000,000 pairs drawn from `true_m`, `u`
    /// and the match share `lambda`, comparison i missing (level 0) for a
    /// share `missing[i]` of the pairs: m recovered within `tol`.
    fn recovers(true_m: &[Vec<f64>; 3], u: &[Vec<f64>], missing: [f64; 3], lambda: f64, tol: f64) {
        let n: f64 = 2_000_000.0;
        let p_level = |m: &[f64], i: usize, l: usize| {
            if l == 0 {
                missing[i]
            } else {
                (1.0 - missing[i]) * m[l]
            }
        };
        let mut counts = FxHashMap::default();
        for a in 1..4 {
            for b in 0..4 {
                for c in 0..4 {
                    let pm = p_level(&true_m[0], 0, a)
                        * p_level(&true_m[1], 1, b)
                        * p_level(&true_m[2], 2, c);
                    let pu = p_level(&u[0], 0, a) * p_level(&u[1], 1, b) * p_level(&u[2], 2, c);
                    let k = (n * (lambda * pm + (1.0 - lambda) * pu)).round() as u64;
                    if k > 0 {
                        counts.insert(a as u64 | (b as u64) << 4 | (c as u64) << 8, k);
                    }
                }
            }
        }
        let settings = Settings::for_canonical_columns(&["dob"], LinkType::Dedupe);
        let mut m = vec![initial_m(4), initial_m(4), initial_m(4)];
        let (_, converged, _, share) =
            estimate_m_by_em(&sorted(counts), &mut m, u, &[false; 3], &settings);
        assert!(converged);
        assert!((share - lambda).abs() < tol, "λ {share}");
        for i in 0..3 {
            for l in 1..4 {
                assert!(
                    (m[i][l] - true_m[i][l]).abs() < tol,
                    "m[{i}][{l}] = {} (true {})",
                    m[i][l],
                    true_m[i][l]
                );
            }
        }
    }

    #[test]
    fn em_recovers_known_m_with_columns_missing() {
        // The second comparison is missing for a fifth of the pairs and the
        // third for two fifths, as when a partner holds no date of birth:
        // m is of the pairs where both values are there.
        let true_m = [
            vec![0.0, 0.9, 0.07, 0.03],
            vec![0.0, 0.8, 0.15, 0.05],
            vec![0.0, 0.95, 0.02, 0.03],
        ];
        let u = vec![
            vec![1.0, 0.01, 0.04, 0.95],
            vec![1.0, 0.05, 0.15, 0.8],
            vec![1.0, 0.1, 0.05, 0.85],
        ];
        recovers(&true_m, &u, [0.0, 0.2, 0.4], 0.2, 0.02);
    }

    /// Records of `people` residents, two or three each, names and a date
    /// of birth only, with typos, swapped names and wrong dates.
    fn sparse_records(people: usize) -> Vec<crate::RawRecord> {
        let mut rng = SplitMix(7);
        let syll = [
            "an", "bel", "cor", "dan", "el", "fin", "gar", "hol", "is", "jo", "kel", "lin", "mor",
            "nat", "or", "pet", "quin", "ros", "sam", "tor",
        ];
        let name = |rng: &mut SplitMix| -> String {
            (0..3)
                .map(|_| syll[rng.below(syll.len() as u64) as usize])
                .collect()
        };
        let mut out = Vec::new();
        for p in 0..people {
            let (g, f) = (name(&mut rng), name(&mut rng));
            let dob = format!(
                "19{:02}-{:02}-{:02}",
                20 + rng.below(80),
                1 + rng.below(12),
                1 + rng.below(28)
            );
            for k in 0..2 + rng.below(2) {
                let (mut g, mut f, mut d) = (g.clone(), f.clone(), dob.clone());
                match rng.below(6) {
                    0 => g.insert(1, 'x'),
                    1 => std::mem::swap(&mut g, &mut f),
                    2 => d.replace_range(9..10, "9"),
                    3 => f.push('e'),
                    _ => {}
                }
                out.push(crate::RawRecord {
                    source: "s".into(),
                    record_id: format!("{p}-{k}"),
                    values: vec![Some(g), Some(f), Some(d)],
                });
            }
        }
        out
    }

    #[test]
    fn every_comparison_is_trained_when_a_session_can_train_it() {
        let columns: Vec<String> = ["given_name", "family_name", "dob"]
            .map(String::from)
            .to_vec();
        let canonical = Settings::for_canonical_columns(
            &["given_name", "family_name", "dob"],
            LinkType::Dedupe,
        );
        // The defaults, and rules that all block on every comparison's
        // column (only a training-only session can train any of them).
        let mut blocked_everywhere = canonical.clone();
        blocked_everywhere.blocking_rules = vec![crate::BlockingRule {
            keys: vec![
                "dob".into(),
                "given_name:initial".into(),
                "family_name:initial".into(),
            ],
        }];
        for settings in [canonical, blocked_everywhere] {
            let r = crate::link(&settings, &columns, sparse_records(1500), None, &()).unwrap();
            let t = &r.model.training;
            assert!(
                t.untrained.is_empty(),
                "untrained: {:?}; {:#?}",
                t.untrained,
                t.em_sessions
            );
            for c in &r.model.comparisons {
                let by: Vec<&EmSession> = t
                    .em_sessions
                    .iter()
                    .filter(|e| e.learned_nothing.is_none() && !e.fixed.contains(&c.column))
                    .collect();
                assert!(!by.is_empty(), "{} trained by no session", c.column);
                // What it learned is not the starting m.
                let start = initial_m(c.levels.len());
                assert!(
                    c.levels
                        .iter()
                        .zip(&start)
                        .any(|(l, s)| (l.m - s).abs() > 0.01),
                    "{}",
                    c.column
                );
            }
            // A session where every comparison is blocked on says so.
            for e in &t.em_sessions {
                if e.fixed.len() == r.model.comparisons.len() {
                    assert_eq!(
                        e.learned_nothing.as_deref(),
                        Some("every comparison is blocked on")
                    );
                    assert!(!e.converged);
                }
            }
            assert!(t.em_sessions.iter().any(|e| e.learned_nothing.is_none()));
        }
    }

    /// EM recovers known m, u and λ from pattern counts generated from them.
    #[test]
    fn em_recovers_known_m_and_u() {
        // Three comparisons, levels: 0 missing, 1 agree, 2 partial, 3 disagree.
        let true_m = [
            vec![1.0, 0.9, 0.07, 0.03],
            vec![1.0, 0.8, 0.15, 0.05],
            vec![1.0, 0.95, 0.0, 0.05],
        ];
        let u = vec![
            vec![1.0, 0.01, 0.04, 0.95],
            vec![1.0, 0.05, 0.15, 0.8],
            vec![1.0, 0.1, 0.0, 0.9],
        ];
        recovers(&true_m, &u, [0.0; 3], 0.3, 0.01);
    }

    #[test]
    fn prior_is_the_fixed_point() {
        // 100 certain matches among the candidates of 1,000,000 pairs.
        let m = vec![vec![1.0, 0.999, 0.001]];
        let u = vec![vec![1.0, 1e-9, 1.0 - 1e-9]];
        let mut counts = FxHashMap::default();
        counts.insert(1u64, 100);
        counts.insert(2u64, 10_000);
        let (lambda, _, expected) = estimate_prior(&sorted(counts), &m, &u, 1_000_000);
        assert!((expected - 100.0).abs() < 1.0, "{expected}");
        assert!((lambda - 1e-4).abs() < 2e-6, "{lambda}");
    }

    #[test]
    fn probabilities() {
        assert_eq!(probability(0.0), 0.5);
        assert!(probability(20.0) > 0.999_999);
        assert!(probability(-20.0) < 1e-6);
        assert_eq!(probability(2000.0), 1.0);
    }
}
