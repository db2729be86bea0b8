//! Disclosure control for published tables of counts: threshold
//! suppression, rounding, and secondary suppression checked by linear
//! programming. Pure.
//!
//! A table is counts in rows and columns with their row, column and grand
//! totals. Published, every count (totals too) is either **rounded** to
//! the nearest multiple of the rounding base (ties up) or **suppressed**:
//!
//! 1. *Primary:* every count under the threshold (zero included: no
//!    published count is under the threshold) is suppressed.
//! 2. *Secondary:* what is published must not let anyone narrow a
//!    suppressed count to an interval narrower than the threshold. Each
//!    suppressed count is bounded by linear programming over everything
//!    published: each unsuppressed cell lies in its rounding interval
//!    (and is at least the threshold, or it would not have been
//!    published), each published total bounds the sum of its line within
//!    its rounding interval, and every cell is at least zero. While some
//!    suppressed count's feasible interval (its maximum less its minimum)
//!    is narrower than the threshold, the smallest published cell in that
//!    count's row or column is suppressed too, and the table is checked
//!    again.

use minilp::{ComparisonOp, OptimizationDirection, Problem, Variable};
use serde::Serialize;

/// The rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rules {
    /// Counts under this are suppressed (default 10).
    pub threshold: u64,
    /// Published counts are rounded to a multiple of this (default 5).
    pub base: u64,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            threshold: 10,
            base: 5,
        }
    }
}

impl Rules {
    /// Checked rules: a threshold of at least 1 and a base of at least 1.
    pub fn new(threshold: u64, base: u64) -> Result<Self, String> {
        if threshold == 0 {
            return Err("the suppression threshold must be at least 1".into());
        }
        if base == 0 {
            return Err("the rounding base must be at least 1".into());
        }
        Ok(Self { threshold, base })
    }

    /// `v` rounded to the nearest multiple of the base (ties up).
    pub fn round(&self, v: u64) -> u64 {
        (v + self.base / 2) / self.base * self.base
    }

    /// What a published (rounded) `r` says the true count was: the
    /// counts that round to it, and no fewer than the threshold.
    pub fn interval(&self, r: u64) -> (f64, f64) {
        let lo = r.saturating_sub(self.base / 2).max(self.threshold);
        let hi = r + self.base.div_ceil(2) - 1;
        (lo as f64, hi as f64)
    }
}

/// A published count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Shown {
    /// Rounded.
    Count(u64),
    /// Suppressed.
    Suppressed,
}

impl Shown {
    /// The count, if published.
    pub fn count(self) -> Option<u64> {
        match self {
            Shown::Count(c) => Some(c),
            Shown::Suppressed => None,
        }
    }
}

/// A table as published.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Published {
    /// Row labels.
    pub rows: Vec<String>,
    /// Column labels.
    pub columns: Vec<String>,
    /// The cells, row by row.
    pub cells: Vec<Vec<Shown>>,
    /// Each row's total.
    pub row_totals: Vec<Shown>,
    /// Each column's total.
    pub column_totals: Vec<Shown>,
    /// The grand total.
    pub total: Shown,
    /// Counts suppressed for being under the threshold.
    pub primary: usize,
    /// Counts suppressed to protect them.
    pub secondary: usize,
}

/// The feasible interval of every suppressed count of `p` given what it
/// publishes under `rules` (see the module docs): `(what, min, max)` with
/// `what` naming the cell (`row/column`, `row/total`, `total/column`,
/// `total`) and `max` infinite when nothing bounds it.
pub fn intervals(p: &Published, rules: &Rules) -> Vec<(String, f64, f64)> {
    targets(p)
        .into_iter()
        .map(|(what, cells)| {
            let (lo, hi) = interval(p, rules, &cells);
            (what, lo, hi)
        })
        .collect()
}

/// The suppressed counts of `p`, each named and with the cells it sums.
fn targets(p: &Published) -> Vec<(String, Vec<(usize, usize)>)> {
    let (r, c) = (p.rows.len(), p.columns.len());
    let mut targets: Vec<(String, Vec<(usize, usize)>)> = Vec::new();
    for i in 0..r {
        for j in 0..c {
            if p.cells[i][j] == Shown::Suppressed {
                targets.push((format!("{}/{}", p.rows[i], p.columns[j]), vec![(i, j)]));
            }
        }
        if p.row_totals[i] == Shown::Suppressed {
            targets.push((
                format!("{}/total", p.rows[i]),
                (0..c).map(|j| (i, j)).collect(),
            ));
        }
    }
    for j in 0..c {
        if p.column_totals[j] == Shown::Suppressed {
            targets.push((
                format!("total/{}", p.columns[j]),
                (0..r).map(|i| (i, j)).collect(),
            ));
        }
    }
    if p.total == Shown::Suppressed {
        let all = (0..r).flat_map(|i| (0..c).map(move |j| (i, j))).collect();
        targets.push(("total".into(), all));
    }
    targets
}

/// The least and most the sum of `cells` can be.
fn interval(p: &Published, rules: &Rules, cells: &[(usize, usize)]) -> (f64, f64) {
    let lo = bound(p, rules, cells, OptimizationDirection::Minimize).unwrap_or(0.0);
    let hi = bound(p, rules, cells, OptimizationDirection::Maximize).unwrap_or(f64::INFINITY);
    (lo, hi)
}

/// The least or most the sum of `cells` can be (`None`: unbounded).
fn bound(
    p: &Published,
    rules: &Rules,
    cells: &[(usize, usize)],
    direction: OptimizationDirection,
) -> Option<f64> {
    let mut lp = Problem::new(direction);
    let vars: Vec<Vec<Variable>> = p
        .cells
        .iter()
        .enumerate()
        .map(|(i, row)| {
            row.iter()
                .enumerate()
                .map(|(j, shown)| {
                    let objective = if cells.contains(&(i, j)) { 1.0 } else { 0.0 };
                    let range = match shown {
                        Shown::Count(v) => rules.interval(*v),
                        Shown::Suppressed => (0.0, f64::INFINITY),
                    };
                    lp.add_var(objective, range)
                })
                .collect()
        })
        .collect();
    let mut line = |members: Vec<Variable>, total: Shown| {
        if let Shown::Count(t) = total {
            let (lo, hi) = rules.interval(t);
            let expr: Vec<(Variable, f64)> = members.into_iter().map(|v| (v, 1.0)).collect();
            lp.add_constraint(expr.as_slice(), ComparisonOp::Ge, lo);
            lp.add_constraint(expr.as_slice(), ComparisonOp::Le, hi);
        }
    };
    for (i, row) in vars.iter().enumerate() {
        line(row.clone(), p.row_totals[i]);
    }
    for j in 0..p.columns.len() {
        line(vars.iter().map(|row| row[j]).collect(), p.column_totals[j]);
    }
    line(vars.iter().flatten().copied().collect(), p.total);
    lp.solve().ok().map(|s| s.objective())
}

/// `counts` (rows × columns) published under `rules` (see the module
/// docs). Pure; the same counts always give the same table.
pub fn protect(
    rows: Vec<String>,
    columns: Vec<String>,
    counts: &[Vec<u64>],
    rules: &Rules,
) -> Published {
    let (r, c) = (rows.len(), columns.len());
    let shown = |v: u64| {
        if v < rules.threshold {
            Shown::Suppressed
        } else {
            Shown::Count(rules.round(v))
        }
    };
    let row_sums: Vec<u64> = counts.iter().map(|row| row.iter().sum()).collect();
    let col_sums: Vec<u64> = (0..c)
        .map(|j| counts.iter().map(|row| row[j]).sum())
        .collect();
    let mut p = Published {
        cells: counts
            .iter()
            .map(|row| row.iter().map(|v| shown(*v)).collect())
            .collect(),
        row_totals: row_sums.iter().map(|v| shown(*v)).collect(),
        column_totals: col_sums.iter().map(|v| shown(*v)).collect(),
        total: shown(row_sums.iter().sum()),
        rows,
        columns,
        primary: 0,
        secondary: 0,
    };
    let suppressed = |p: &Published| {
        p.cells
            .iter()
            .flatten()
            .chain(&p.row_totals)
            .chain(&p.column_totals)
            .chain([&p.total])
            .filter(|s| **s == Shown::Suppressed)
            .count()
    };
    p.primary = suppressed(&p);
    // Suppressing more only widens what is suppressed already: a count
    // found wide enough stays so, and is not checked again.
    let mut wide: std::collections::HashSet<String> = std::collections::HashSet::new();
    loop {
        let mut narrow = None;
        for (what, cells) in targets(&p) {
            if wide.contains(&what) {
                continue;
            }
            let (lo, hi) = interval(&p, rules, &cells);
            if hi - lo < rules.threshold as f64 - 1e-6 {
                narrow = Some(what);
                break;
            }
            wide.insert(what);
        }
        let Some(what) = narrow else {
            break;
        };
        // The lines the narrow count lies in.
        let (row, col) = what.split_once('/').unwrap_or(("total", "total"));
        let in_row = p.rows.iter().position(|x| x == row);
        let in_col = p.columns.iter().position(|x| x == col);
        let candidates = (0..r)
            .flat_map(|i| (0..c).map(move |j| (i, j)))
            .filter(|(i, j)| {
                p.cells[*i][*j] != Shown::Suppressed
                    && (in_row == Some(*i)
                        || in_col == Some(*j)
                        || (in_row.is_none() && in_col.is_none()))
            });
        let pick = candidates
            .min_by_key(|(i, j)| (counts[*i][*j], *i, *j))
            .or_else(|| {
                // Every cell of its lines is suppressed already: suppress the
                // smallest published cell anywhere.
                (0..r)
                    .flat_map(|i| (0..c).map(move |j| (i, j)))
                    .filter(|(i, j)| p.cells[*i][*j] != Shown::Suppressed)
                    .min_by_key(|(i, j)| (counts[*i][*j], *i, *j))
            });
        match pick {
            Some((i, j)) => p.cells[i][j] = Shown::Suppressed,
            None => {
                // Only totals are left to hide.
                p.row_totals.iter_mut().for_each(|t| *t = Shown::Suppressed);
                p.column_totals
                    .iter_mut()
                    .for_each(|t| *t = Shown::Suppressed);
                p.total = Shown::Suppressed;
                break;
            }
        }
    }
    p.secondary = suppressed(&p) - p.primary;
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn labels(prefix: &str, n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{prefix}{i}")).collect()
    }

    #[test]
    fn rounding_and_its_intervals() {
        let r = Rules::default();
        assert_eq!(
            (r.round(12), r.round(13), r.round(10), r.round(17)),
            (10, 15, 10, 15)
        );
        assert_eq!(r.interval(10), (10.0, 12.0));
        assert_eq!(r.interval(15), (13.0, 17.0));
        let even = Rules::new(10, 10).unwrap();
        assert_eq!((even.round(15), even.round(14)), (20, 10));
        assert_eq!(even.interval(20), (15.0, 24.0));
        assert!(Rules::new(0, 5).is_err() && Rules::new(10, 0).is_err());
    }

    #[test]
    fn a_lone_small_cell_is_protected_by_others() {
        let counts = vec![vec![40, 3, 50], vec![60, 70, 80], vec![45, 55, 65]];
        // Unrounded, the totals would give the small cell away: others
        // are suppressed with it, in its row and its column.
        let exact = Rules::new(10, 1).unwrap();
        let p = protect(labels("r", 3), labels("c", 3), &counts, &exact);
        assert_eq!(p.primary, 1);
        assert!(p.secondary >= 3, "a rectangle at least: {p:?}");
        for (what, lo, hi) in intervals(&p, &exact) {
            assert!(hi - lo >= 10.0 - 1e-6, "{what}: [{lo}, {hi}]");
        }
        // Rounded to 5, the totals leave it in [0, 11] already.
        let p = protect(labels("r", 3), labels("c", 3), &counts, &Rules::default());
        assert_eq!((p.primary, p.secondary), (1, 0));
        for (what, lo, hi) in intervals(&p, &Rules::default()) {
            assert!(hi - lo >= 10.0 - 1e-6, "{what}: [{lo}, {hi}]");
        }
        let published: Vec<u64> = p.cells.iter().flatten().filter_map(|s| s.count()).collect();
        assert!(
            published.iter().all(|v| *v >= 10 && v % 5 == 0),
            "{published:?}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn no_suppressed_count_can_be_narrowed_below_the_threshold(
            counts in prop::collection::vec(prop::collection::vec(0u64..60, 4), 1..5),
            base in prop::sample::select(vec![1u64, 5]),
        ) {
            let rules = Rules::new(10, base).unwrap();
            let rows = labels("r", counts.len());
            let p = protect(rows, labels("c", 4), &counts, &rules);
            for (what, lo, hi) in intervals(&p, &rules) {
                prop_assert!(hi - lo >= rules.threshold as f64 - 1e-6, "{}: [{}, {}]", what, lo, hi);
            }
            for s in p.cells.iter().flatten().chain(&p.row_totals).chain(&p.column_totals) {
                if let Shown::Count(v) = s {
                    prop_assert!(*v >= rules.threshold && v % rules.base == 0);
                }
            }
        }
    }
}
