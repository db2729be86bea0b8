//! The bookkeeping of training's EM sessions: what each session did and
//! whether it taught the model anything ([`EmSession`]), and the rules a
//! training-only session may use to train a comparison every prediction
//! rule blocks on.

use serde::{Deserialize, Serialize};

use crate::compare::Comparison;

/// One EM session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmSession {
    /// The blocking rule whose pairs it used.
    pub rule: String,
    /// Pairs used.
    pub pairs: u64,
    /// Comparisons held fixed.
    pub fixed: Vec<String>,
    /// Iterations run.
    pub iterations: u32,
    /// Whether it converged within the tolerance.
    pub converged: bool,
    /// The largest change in an m-probability in the last iteration.
    pub last_change: f64,
    /// Share of the session's pairs estimated to match.
    pub match_share: f64,
    /// The m-probabilities this session estimated (per comparison, per level;
    /// held-fixed comparisons show their starting values).
    pub m: Vec<Vec<f64>>,
    /// Why the session taught the model nothing, if it did not: every
    /// comparison blocked on, no pairs, or EM that stopped where it
    /// started (one iteration, match share still at its start).
    #[serde(default)]
    pub learned_nothing: Option<String>,
    /// A session on a blocking rule of its own, run only to train
    /// comparisons that every prediction rule blocks on.
    #[serde(default)]
    pub training_only: bool,
}

/// Why a session learned nothing (see [`EmSession::learned_nothing`]).
pub(crate) fn learned_nothing(
    fixed: &[bool],
    pairs: u64,
    iterations: u32,
    match_share: f64,
) -> Option<String> {
    if fixed.iter().all(|f| *f) {
        Some("every comparison is blocked on".into())
    } else if pairs == 0 {
        Some("no pairs".into())
    } else if iterations <= 1 && (match_share - 0.5).abs() < 1e-9 {
        Some("EM stopped where it started".into())
    } else {
        None
    }
}

/// Rules that could train a comparison no prediction rule frees: exact
/// agreement on each comparison's main column, one at a time.
pub(crate) fn training_rules(comparisons: &[Comparison]) -> Vec<crate::BlockingRule> {
    comparisons
        .iter()
        .map(|c| crate::BlockingRule {
            keys: vec![c.spec.column.clone()],
        })
        .collect()
}
