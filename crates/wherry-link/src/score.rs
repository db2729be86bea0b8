//! Scoring candidate pairs: the prior's weight plus each comparison's level
//! weight, with a term-frequency adjustment on exact agreement where asked
//! (agreeing on a rare family name counts more than agreeing on "Smith").

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::compare::level_of;
use crate::dataset::Dataset;
use crate::model::{Model, probability};

/// A scored candidate pair.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredPair {
    /// First record (index into the dataset).
    pub a: u32,
    /// Second record.
    pub b: u32,
    /// Match weight in bits.
    pub weight: f64,
    /// Match probability.
    pub probability: f64,
}

/// The term-frequency adjustment for comparison `i` when records `a` and `b`
/// agree exactly: log2(u of exact agreement / frequency of the value).
pub fn tf_adjustment(model: &Model, ds: &Dataset, i: usize, a: u32) -> f64 {
    let c = &model.comparisons[i];
    let Some(col) = ds.column(&c.column, model.settings.comparisons[i].prepared_kind()) else {
        return 0.0;
    };
    let col = &ds.columns[col];
    let Some((id, _)) = col.get(a) else {
        return 0.0;
    };
    let tf = col.tf(id).max(1.0 / f64::from(col.non_null.max(1)));
    (c.levels[1].u / tf).log2()
}

/// The weight of a pattern without term-frequency adjustments.
pub fn pattern_weight(model: &Model, table: &[Vec<f64>], p: u64) -> f64 {
    model.prior_weight()
        + table
            .iter()
            .enumerate()
            .map(|(i, w)| w[level_of(p, i)])
            .sum::<f64>()
}

/// Scores every candidate pair and keeps those with a probability of at
/// least `min_probability`.
pub fn score(
    model: &Model,
    ds: &Dataset,
    pairs: &[(u32, u32)],
    patterns: &[u64],
    min_probability: f64,
    progress: &dyn crate::Progress,
) -> Vec<ScoredPair> {
    let table = model.weight_table();
    let mut cache: FxHashMap<u64, f64> = FxHashMap::default();
    for &p in patterns {
        cache
            .entry(p)
            .or_insert_with(|| pattern_weight(model, &table, p));
    }
    let tf_columns: Vec<usize> = (0..model.comparisons.len())
        .filter(|&i| model.comparisons[i].tf)
        .collect();
    let chunk = crate::model::CHUNK;
    pairs
        .par_chunks(chunk)
        .zip(patterns.par_chunks(chunk))
        .flat_map_iter(|(pc, tc)| {
            let scored: Vec<ScoredPair> = pc
                .iter()
                .zip(tc)
                .filter_map(|(&(a, b), &p)| {
                    let mut weight = cache[&p];
                    for &i in &tf_columns {
                        if level_of(p, i) == 1 {
                            weight += tf_adjustment(model, ds, i, a);
                        }
                    }
                    let probability = probability(weight);
                    (probability >= min_probability).then_some(ScoredPair {
                        a,
                        b,
                        weight,
                        probability,
                    })
                })
                .collect();
            progress.advance(pc.len() as u64);
            scored
        })
        .collect()
}
