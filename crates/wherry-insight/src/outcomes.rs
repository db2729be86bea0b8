//! Programme outcomes: did residents who received something (a home fire
//! safety visit, reablement) go on to need less (fires, emergency or
//! health contacts) than residents like them who did not? Pure, with the
//! data handed in ([`evaluate`]); [`outcomes`] reads it pseudonymised.
//!
//! **Design.** Each cohort member's index date is their first cohort
//! contact in the period. Each is matched, without replacement, to a
//! resident outside the cohort with the same age band (ten years), the
//! same postcode district and the same risk factors, who takes the
//! member's index date. Outcome contacts are counted in the
//! [`Spec::window_days`] before and after the index date for both; the
//! **difference in differences** is the mean over matched pairs of the
//! member's change less the comparison's. Its 95% confidence interval is
//! the percentile interval of [`Spec::resamples`] bootstrap resamples of
//! the pairs (a fixed seed: the same data give the same interval).
//! Balance is shown as standardised mean differences of each covariate
//! between the cohort and everyone else, and between the matched groups.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use wherry_core::Date;

/// One resident as the evaluation sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    /// Their first cohort contact in the period, if any.
    pub index: Option<Date>,
    /// Year of birth.
    pub birth_year: Option<i64>,
    /// Postcode district.
    pub district: Option<String>,
    /// Risk factors, in [`Spec::factors`]' order (unknown counts as
    /// absent for matching, and is matched like with like).
    pub factors: Vec<bool>,
    /// The dates of their outcome contacts.
    pub outcomes: Vec<Date>,
}

/// How to evaluate.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// The risk factors' names (for the balance table).
    pub factors: Vec<String>,
    /// Days before and after the index date counted.
    pub window_days: i64,
    /// Bootstrap resamples.
    pub resamples: usize,
    /// The bootstrap's seed.
    pub seed: u64,
    /// The day the data end: members whose after-window runs past it are
    /// left out (their outcome is not yet known).
    pub today: Date,
}

/// One covariate's balance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Balance {
    /// The covariate.
    pub covariate: String,
    /// Standardised mean difference, cohort against everyone else.
    pub before_matching: f64,
    /// The same, matched cohort against matched comparisons.
    pub after_matching: f64,
}

/// The evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// Cohort members.
    pub cohort: usize,
    /// Members whose after-window has not yet passed (left out).
    pub too_recent: usize,
    /// Members with no one like them outside the cohort (left out).
    pub unmatched: usize,
    /// Matched pairs.
    pub pairs: usize,
    /// Residents outside the cohort who could be compared.
    pub comparison_pool: usize,
    /// Mean outcome contacts before and after: cohort.
    pub cohort_before: f64,
    /// After, cohort.
    pub cohort_after: f64,
    /// Before, comparison.
    pub comparison_before: f64,
    /// After, comparison.
    pub comparison_after: f64,
    /// The difference in differences (negative: the programme reduced the
    /// outcome).
    pub did: f64,
    /// Its 95% bootstrap interval.
    pub ci95: (f64, f64),
    /// Balance of each covariate.
    pub balance: Vec<Balance>,
}

/// Why there is nothing to evaluate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutcomeError {
    /// No cohort member.
    #[error("the cohort is empty: no resident had a cohort contact in the period")]
    EmptyCohort,
    /// No member could be matched.
    #[error(
        "no cohort member could be compared: {cohort} members, {too_recent} too recent to follow up, {unmatched} with no one like them outside the cohort"
    )]
    NoPairs {
        /// Members.
        cohort: usize,
        /// Too recent.
        too_recent: usize,
        /// Unmatched.
        unmatched: usize,
    },
}

/// A matched pair: member, comparison, and their outcome contacts before
/// and after (member before, member after, comparison before, after).
type Pair = (usize, usize, f64, f64, f64, f64);

/// A small deterministic generator (SplitMix64) for the bootstrap.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn count(outcomes: &[Date], from: Date, to: Date) -> f64 {
    outcomes.iter().filter(|d| **d >= from && **d < to).count() as f64
}

fn smd(a: &[f64], b: &[f64]) -> f64 {
    let stats = |x: &[f64]| {
        let n = x.len().max(1) as f64;
        let m = x.iter().sum::<f64>() / n;
        let v = x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1.0).max(1.0);
        (m, v)
    };
    let ((ma, va), (mb, vb)) = (stats(a), stats(b));
    let pooled = ((va + vb) / 2.0).sqrt();
    if pooled > 0.0 {
        (ma - mb) / pooled
    } else {
        0.0
    }
}

/// The evaluation of `subjects` under `spec` (see the module docs).
pub fn evaluate(subjects: &[Subject], spec: &Spec) -> Result<Outcome, OutcomeError> {
    let cohort: Vec<usize> = (0..subjects.len())
        .filter(|i| subjects[*i].index.is_some())
        .collect();
    if cohort.is_empty() {
        return Err(OutcomeError::EmptyCohort);
    }
    let stratum = |s: &Subject| {
        (
            s.birth_year.map(|y| y.div_euclid(10)),
            s.district.clone(),
            s.factors.clone(),
        )
    };
    // Comparisons by stratum, in a fixed shuffled order.
    let mut rng = Rng(spec.seed);
    let mut pool: HashMap<_, Vec<usize>> = HashMap::new();
    let mut others: Vec<usize> = (0..subjects.len())
        .filter(|i| subjects[*i].index.is_none())
        .collect();
    for i in (1..others.len()).rev() {
        others.swap(i, rng.below(i + 1));
    }
    for &i in &others {
        pool.entry(stratum(&subjects[i])).or_default().push(i);
    }
    let (mut too_recent, mut unmatched) = (0, 0);
    let mut pairs: Vec<Pair> = Vec::new();
    for &t in &cohort {
        let s = &subjects[t];
        let index = s.index.expect("a member");
        let (from, to) = (
            index.add_days(-spec.window_days),
            index.add_days(spec.window_days + 1),
        );
        if to > spec.today.add_days(1) {
            too_recent += 1;
            continue;
        }
        let Some(c) = pool.get_mut(&stratum(s)).and_then(Vec::pop) else {
            unmatched += 1;
            continue;
        };
        let o = &subjects[c].outcomes;
        pairs.push((
            t,
            c,
            count(&s.outcomes, from, index),
            count(&s.outcomes, index.add_days(1), to),
            count(o, from, index),
            count(o, index.add_days(1), to),
        ));
    }
    if pairs.is_empty() {
        return Err(OutcomeError::NoPairs {
            cohort: cohort.len(),
            too_recent,
            unmatched,
        });
    }
    let n = pairs.len() as f64;
    let mean = |f: &dyn Fn(&Pair) -> f64| pairs.iter().map(f).sum::<f64>() / n;
    let diff = |p: &Pair| (p.3 - p.2) - (p.5 - p.4);
    let did = mean(&diff);
    let mut boots: Vec<f64> = (0..spec.resamples.max(1))
        .map(|_| {
            (0..pairs.len())
                .map(|_| diff(&pairs[rng.below(pairs.len())]))
                .sum::<f64>()
                / n
        })
        .collect();
    boots.sort_by(f64::total_cmp);
    let at = |q: f64| boots[((q * (boots.len() - 1) as f64).round() as usize).min(boots.len() - 1)];
    // Balance.
    let covariate = |i: usize, k: Option<usize>| -> f64 {
        let s = &subjects[i];
        match k {
            None => s.birth_year.unwrap_or(0) as f64,
            Some(k) => f64::from(u8::from(s.factors.get(k).copied().unwrap_or(false))),
        }
    };
    let names: Vec<(String, Option<usize>)> = std::iter::once(("year of birth".to_string(), None))
        .chain(
            spec.factors
                .iter()
                .cloned()
                .enumerate()
                .map(|(k, f)| (f, Some(k))),
        )
        .collect();
    let balance = names
        .into_iter()
        .map(|(name, k)| {
            let all_t: Vec<f64> = cohort.iter().map(|i| covariate(*i, k)).collect();
            let all_c: Vec<f64> = others.iter().map(|i| covariate(*i, k)).collect();
            let m_t: Vec<f64> = pairs.iter().map(|p| covariate(p.0, k)).collect();
            let m_c: Vec<f64> = pairs.iter().map(|p| covariate(p.1, k)).collect();
            Balance {
                covariate: name,
                before_matching: smd(&all_t, &all_c),
                after_matching: smd(&m_t, &m_c),
            }
        })
        .collect();
    Ok(Outcome {
        cohort: cohort.len(),
        too_recent,
        unmatched,
        pairs: pairs.len(),
        comparison_pool: others.len(),
        cohort_before: mean(&|p| p.2),
        cohort_after: mean(&|p| p.3),
        comparison_before: mean(&|p| p.4),
        comparison_after: mean(&|p| p.5),
        did,
        ci95: (at(0.025), at(0.975)),
        balance,
    })
}

/// What the cohort and the outcome are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// Contact types or services that put a resident in the cohort.
    pub cohort: Vec<String>,
    /// The period (inclusive).
    pub from: Date,
    /// The period's end (inclusive).
    pub to: Date,
    /// Contact types or services that are the outcome.
    pub outcome: Vec<String>,
    /// Days before and after the index date.
    pub window_days: i64,
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Refused, or the store failed.
    #[error(transparent)]
    Access(#[from] wherry_access::Error),
    /// The question does not make sense.
    #[error("{0}")]
    Question(String),
    /// Nothing to evaluate.
    #[error(transparent)]
    Outcome(#[from] OutcomeError),
}

/// Who may evaluate programmes: analysts, on pseudonymised data.
pub const ROLES: &[wherry_core::Role] = &[wherry_core::Role::Analyst];

/// `question` answered for `caller` (an analyst) on `today`: the county
/// read pseudonymised (audited `programme_outcomes`), the risk factors
/// every true-or-false attribute the purpose may see.
pub async fn outcomes(
    access: &wherry_access::Access,
    caller: &wherry_access::Caller,
    question: &Question,
    today: Date,
    request: &str,
) -> Result<Outcome, ReportError> {
    if question.from > question.to {
        return Err(ReportError::Question(format!(
            "the period is reversed: from {} is after to {}",
            question.from, question.to
        )));
    }
    if question.cohort.is_empty() || question.outcome.is_empty() {
        return Err(ReportError::Question(
            "name the cohort's and the outcome's contact types or services".into(),
        ));
    }
    if !(1..=3650).contains(&question.window_days) {
        return Err(ReportError::Question(
            "the window is 1 to 3,650 days".into(),
        ));
    }
    #[derive(Default)]
    struct P {
        years: Vec<i64>,
        district: Option<String>,
        flags: BTreeMap<String, bool>,
    }
    let mut people: BTreeMap<String, P> = BTreeMap::new();
    let since = question.from.add_days(-question.window_days).to_string();
    let county = access
        .county_pseudonymised(
            caller,
            ROLES,
            "programme outcomes",
            "programme_outcomes",
            wherry_access::shared::Events::since(&since),
            request,
            |r| {
                let p = people.entry(r.person).or_default();
                if let Some(y) = r
                    .fields
                    .get("birth_year")
                    .and_then(|v| v.as_str())
                    .and_then(|y| y.parse().ok())
                {
                    p.years.push(y);
                }
                if p.district.is_none() {
                    p.district = r
                        .fields
                        .get("postcode_district")
                        .and_then(|v| v.as_str())
                        .filter(|d| !d.is_empty())
                        .map(str::to_string);
                }
                for (name, v) in &r.attributes {
                    if let Some(b) = v.as_bool() {
                        let e = p.flags.entry(name.clone()).or_default();
                        *e |= b;
                    }
                }
            },
        )
        .await?;
    let factors: Vec<String> = people
        .values()
        .flat_map(|p| p.flags.keys().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let is = |codes: &[String], e: &wherry_access::shared::SharedEvent| {
        codes
            .iter()
            .any(|c| *c == e.contact_type || *c == e.service)
    };
    let mut index: HashMap<&str, Date> = HashMap::new();
    let mut outcome: HashMap<&str, Vec<Date>> = HashMap::new();
    for e in &county.events {
        let Ok(d) = Date::parse(&e.date) else {
            continue;
        };
        if is(&question.cohort, e) && d >= question.from && d <= question.to {
            let i = index.entry(&e.person).or_insert(d);
            if d < *i {
                *i = d;
            }
        }
        if is(&question.outcome, e) {
            outcome.entry(&e.person).or_default().push(d);
        }
    }
    let subjects: Vec<Subject> = people
        .iter()
        .map(|(id, p)| Subject {
            index: index.get(id.as_str()).copied(),
            birth_year: p.years.iter().min().copied(),
            district: p.district.clone(),
            factors: factors
                .iter()
                .map(|f| p.flags.get(f).copied().unwrap_or(false))
                .collect(),
            outcomes: outcome.get(id.as_str()).cloned().unwrap_or_default(),
        })
        .collect();
    let spec = Spec {
        factors,
        window_days: question.window_days,
        resamples: 1000,
        seed: 0x5EED,
        today,
    };
    Ok(evaluate(&subjects, &spec)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A synthetic programme: 4,000 residents over four districts, two
    /// risk factors; the riskier are likelier to be in the cohort and to
    /// have outcome contacts; the cohort's rate after its index date
    /// shifted by `effect` contacts (a planted effect).
    fn programme(effect: f64, seed: u64) -> (Vec<Subject>, Spec) {
        let today = Date::new(2026, 11, 1).unwrap();
        let mut rng = Rng(seed);
        let mut u = move || (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
        let poisson = |u: &mut dyn FnMut() -> f64, mean: f64| {
            let (l, mut k, mut p) = ((-mean).exp(), 0, 1.0);
            loop {
                p *= u();
                if p <= l {
                    return k;
                }
                k += 1;
            }
        };
        let mut out = Vec::new();
        for i in 0..4000 {
            let factors = vec![u() < 0.3, u() < 0.2];
            let risk =
                1.0 + f64::from(u8::from(factors[0])) + 0.5 * f64::from(u8::from(factors[1]));
            let treated = u() < 0.15 * risk;
            let index = Date::new(2025, 3, 1)
                .unwrap()
                .add_days((u() * 120.0) as i64);
            let mut outcomes = Vec::new();
            for (from, after) in [(-180, false), (1, true)] {
                let mean = 0.8 * risk + if treated && after { effect } else { 0.0 };
                for _ in 0..poisson(&mut u, mean.max(0.0)) {
                    outcomes.push(index.add_days(from + (u() * 179.0) as i64));
                }
            }
            out.push(Subject {
                index: treated.then_some(index),
                birth_year: Some(1930 + (i % 40)),
                district: Some(format!("NR{}", i % 4)),
                factors,
                outcomes,
            });
        }
        let spec = Spec {
            factors: vec!["lives_alone".into(), "limited_mobility".into()],
            window_days: 180,
            resamples: 1000,
            seed: 7,
            today,
        };
        (out, spec)
    }

    #[test]
    fn a_planted_effect_is_covered_and_no_effect_covers_zero() {
        for (effect, seed) in [(-0.6, 1), (-0.6, 2), (0.0, 3), (0.0, 4)] {
            let (subjects, spec) = programme(effect, seed);
            let o = evaluate(&subjects, &spec).unwrap();
            assert!(o.pairs > 200, "{o:?}");
            assert!(
                o.ci95.0 <= effect && effect <= o.ci95.1,
                "planted {effect}: estimate {} in [{}, {}]",
                o.did,
                o.ci95.0,
                o.ci95.1
            );
            if effect < 0.0 {
                assert!(o.ci95.1 < 0.0, "the effect is detected: {o:?}");
            }
            // Matching balances the risk factors exactly.
            for b in &o.balance[1..] {
                assert!(b.after_matching.abs() < 1e-9, "{b:?}");
                assert!(
                    b.before_matching.abs() > 0.05,
                    "the cohort is riskier: {b:?}"
                );
            }
            assert_eq!(
                evaluate(&subjects, &spec).unwrap(),
                o,
                "the same data, the same answer"
            );
        }
    }

    #[test]
    fn an_empty_cohort_and_an_unmatched_one_say_so() {
        let (mut subjects, spec) = programme(0.0, 5);
        let everyone = subjects.clone();
        for s in &mut subjects {
            s.index = None;
        }
        assert_eq!(evaluate(&subjects, &spec), Err(OutcomeError::EmptyCohort));
        // Everyone in the cohort: no one to compare with.
        let mut all = everyone;
        for s in &mut all {
            s.index = Some(Date::new(2025, 3, 1).unwrap());
        }
        let e = evaluate(&all, &spec).unwrap_err();
        assert!(
            matches!(
                e,
                OutcomeError::NoPairs {
                    unmatched: 4000,
                    ..
                }
            ),
            "{e}"
        );
    }
}
