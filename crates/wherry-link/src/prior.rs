//! The prior: how likely two random records are the same person, fitted
//! to the candidate pairs ([`estimate_prior`]), and a match weight read
//! as a probability ([`probability`]).

use crate::model::posterior;

/// λ such that λ × all pairs = the expected matches among the candidate
/// pairs under λ. Returns (λ, iterations, expected matches).
pub fn estimate_prior(
    counts: &[(u64, u64)],
    m: &[Vec<f64>],
    u: &[Vec<f64>],
    total: u64,
) -> (f64, u32, f64) {
    let total = total.max(1) as f64;
    let mut lambda = 1e-4f64.min(0.5);
    let mut expected = 0.0;
    for i in 1..=200 {
        expected = counts
            .iter()
            .map(|&(p, c)| posterior(p, lambda, m, u) * c as f64)
            .sum::<f64>();
        let next = (expected / total).clamp(1e-12, 0.5);
        if (next - lambda).abs() <= lambda * 1e-6 {
            return (next, i, expected);
        }
        lambda = next;
    }
    (lambda, 200, expected)
}

/// Probability from a match weight in bits.
pub fn probability(weight: f64) -> f64 {
    let o = weight.exp2();
    if o.is_infinite() { 1.0 } else { o / (1.0 + o) }
}
