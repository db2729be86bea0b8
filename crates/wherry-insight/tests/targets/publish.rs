//! Open data over the same linked county (run from the fire test's loop):
//! every published table, read back from its CSV file, audited by linear
//! programming formulated here (not with the code under test's model):
//! each suppressed count's least and greatest values given every
//! published count (within its rounding, and at least the threshold) and
//! total, and non-negativity; none may be narrower than the threshold,
//! and no published count is under it. Rounded (base 5) and unrounded
//! (base 1, where secondary suppression has work to do).

use minilp::{ComparisonOp, OptimizationDirection, Problem};
use wherry_access::Access;
use wherry_core::{Purpose, Role};
use wherry_insight::disclosure::Rules;
use wherry_insight::publish::{county, render};
use wherry_store::Store;

use super::today;

/// A published CSV as cells: `None` where suppressed.
fn read(csv: &str) -> Vec<Vec<Option<u64>>> {
    csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(|r| {
            r.unwrap()
                .iter()
                .skip(1)
                .map(|v| {
                    if v == "c" {
                        None
                    } else {
                        Some(v.parse().unwrap())
                    }
                })
                .collect()
        })
        .collect()
}

/// The feasible interval of each suppressed count (interior cells and
/// totals: the last row and column of `t`).
fn audit(t: &[Vec<Option<u64>>], threshold: u64, base: u64) -> Vec<(usize, usize, f64, f64)> {
    let rows = t.len() - 1;
    let cols = t[0].len() - 1;
    let range = |v: u64| {
        let lo = v.saturating_sub(base / 2).max(threshold) as f64;
        let hi = (v + base.div_ceil(2) - 1) as f64;
        (lo, hi)
    };
    let mut out = Vec::new();
    for (ti, row) in t.iter().enumerate() {
        for (tj, cell) in row.iter().enumerate() {
            if cell.is_some() {
                continue;
            }
            let mut bounds = [0.0, f64::INFINITY];
            for (k, dir) in [
                OptimizationDirection::Minimize,
                OptimizationDirection::Maximize,
            ]
            .into_iter()
            .enumerate()
            {
                let mut lp = Problem::new(dir);
                let x: Vec<Vec<_>> = (0..rows)
                    .map(|i| {
                        (0..cols)
                            .map(|j| {
                                let goal = (i == ti || ti == rows) && (j == tj || tj == cols);
                                let r = t[i][j].map_or((0.0, f64::INFINITY), range);
                                lp.add_var(if goal { 1.0 } else { 0.0 }, r)
                            })
                            .collect()
                    })
                    .collect();
                let mut sum = |vars: Vec<_>, total: Option<u64>| {
                    if let Some(v) = total {
                        let (lo, hi) = range(v);
                        let e: Vec<(_, f64)> = vars.into_iter().map(|v| (v, 1.0)).collect();
                        lp.add_constraint(e.as_slice(), ComparisonOp::Ge, lo);
                        lp.add_constraint(e.as_slice(), ComparisonOp::Le, hi);
                    }
                };
                for i in 0..rows {
                    sum(x[i].clone(), t[i][cols]);
                }
                for j in 0..cols {
                    sum(x.iter().map(|r| r[j]).collect(), t[rows][j]);
                }
                sum(x.iter().flatten().copied().collect(), t[rows][cols]);
                if let Ok(s) = lp.solve() {
                    bounds[k] = s.objective();
                }
            }
            out.push((ti, tj, bounds[0], bounds[1]));
        }
    }
    out
}

pub async fn check(store: &Store, access: &Access, name: &str) {
    let ada = access
        .caller("ada", Role::Analyst, Purpose::Planning, None)
        .unwrap();
    let tables = county(access, &ada, today(), "r-publish").await.unwrap();
    assert_eq!(tables.len(), 3, "{name}");
    let dir = tempfile::tempdir().unwrap();
    let mut secondary = 0;
    let mut suppressed = 0;
    for base in [5, 1] {
        let rules = Rules::new(10, base).unwrap();
        for r in render(&tables, &rules, today()) {
            let (file, csv, meta, p) = (&r.name, &r.csv, &r.metadata, &r.published);
            // Written and read back as a reader of the open data would.
            let path = dir.path().join(format!("{file}-{base}.csv"));
            std::fs::write(&path, csv).unwrap();
            let t = read(&std::fs::read_to_string(&path).unwrap());
            assert!(t.len() >= 2 && t[0].len() >= 2, "{file}");
            for v in t.iter().flatten().flatten() {
                assert!(*v >= 10 && v % base == 0, "{name} {file}: published {v}");
            }
            for (i, j, lo, hi) in audit(&t, 10, base) {
                assert!(
                    hi - lo >= 10.0 - 1e-6,
                    "{name} {file} (base {base}): row {i} column {j} lies in [{lo}, {hi}]"
                );
                suppressed += 1;
            }
            // The chart shows the column totals as the CSV publishes them
            // (never the true counts): each bar's figure is the CSV's.
            let totals = t.last().unwrap();
            assert_eq!(totals.len(), p.columns.len() + 1, "{file}");
            for (column, v) in p.columns.iter().zip(totals) {
                let figure = v.map_or("c (suppressed)".to_string(), |v| v.to_string());
                let said = format!("{}: {figure}", column.replace('_', " "));
                assert!(
                    r.svg.contains(&said),
                    "{name} {file}: the chart says {said:?}"
                );
            }
            assert!(
                r.svg.contains(r#"role="img""#)
                    && r.svg
                        .contains(&format!("<title id=\"{file}-chart-title\">"))
            );
            secondary += p.secondary;
            assert_eq!(meta["url"], format!("{file}.csv"));
            assert_eq!(meta["tableSchema"]["columns"][1]["null"], "c");
            assert!(
                meta["dc:description"]
                    .as_str()
                    .unwrap()
                    .contains("Counts under 10 are suppressed")
            );
        }
    }
    assert!(
        suppressed > 20,
        "{name}: the county's tables have small counts ({suppressed})"
    );
    assert!(
        secondary > 0,
        "{name}: unrounded, secondary suppression has work to do"
    );
    let audited = store
        .audit_log(0)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.request_id == "r-publish" && e.action == "publish")
        .count();
    assert_eq!(audited, 2, "{name}: the counts by area and by month");
}
