//! `summary.md` and its charts: what went in, how training went, what came out.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use wherry_link::LinkResult;

use super::input::Rejected;
use super::write_atomically;

/// Writes `summary.md` and `model_weights.svg`.
pub fn write(out: &Path, r: &LinkResult, rejected: &[Rejected]) -> Result<()> {
    let m = &r.model;
    let t = &m.training;
    let ds = &r.dataset;
    let mut s = String::new();
    let _ = writeln!(s, "# Linkage summary\n");
    let _ = writeln!(s, "## Input\n");
    let _ = writeln!(s, "| source | records |\n| --- | --- |");
    for (i, name) in ds.sources.iter().enumerate() {
        let n = ds.source.iter().filter(|&&x| x as usize == i).count();
        let _ = writeln!(s, "| {name} | {n} |");
    }
    let _ = writeln!(
        s,
        "\nRows rejected (in `rejected.csv`): {}\n",
        rejected.len()
    );
    if !t.invalid_values.is_empty() {
        let _ = writeln!(
            s,
            "Values that failed validation, compared as missing (the rows were kept):\n"
        );
        let _ = writeln!(s, "| column | values |\n| --- | --- |");
        for (c, n) in &t.invalid_values {
            let _ = writeln!(s, "| {c} | {n} |");
        }
        s.push('\n');
    }
    if !t.generic_values.is_empty() {
        let _ = writeln!(
            s,
            "Generic values (shared by implausibly many records; never counted as agreement):\n"
        );
        let _ = writeln!(s, "| column | value | records |\n| --- | --- | --- |");
        for g in &t.generic_values {
            let _ = writeln!(s, "| {} | {} | {} |", g.column, g.value, g.count);
        }
        s.push('\n');
    }
    let _ = writeln!(s, "## Blocking\n");
    let recall = t.blocking_recall.as_ref();
    let _ = writeln!(
        s,
        "| rule | pairs agreeing | new pairs | estimated recall |\n| --- | --- | --- | --- |"
    );
    for (i, b) in t.blocking.iter().enumerate() {
        let r = recall
            .and_then(|r| r.rules.get(i))
            .map_or("-".to_string(), |r| format!("{:.1}%", 100.0 * r));
        let _ = writeln!(s, "| `{}` | {} | {} | {r} |", b.rule, b.pairs, b.new_pairs);
    }
    match recall {
        Some(r) => {
            let _ = writeln!(
                s,
                "\nEstimated recall of all rules together: {:.1}% of an estimated {:.0} true pairs (capture–recapture over {} of rules with no column in common; see docs/linkage.md).",
                100.0 * r.union,
                r.matches,
                if r.from == 1 {
                    "one pair".to_string()
                } else {
                    format!("{} pairs", r.from)
                }
            );
            if r.union < wherry_link::recall::WARN_BELOW {
                let _ = writeln!(
                    s,
                    "\n**Warning:** the blocking rules are estimated to miss {:.1}% of the true pairs (under {:.0}% found): add rules on the columns present.",
                    100.0 * (1.0 - r.union),
                    100.0 * wherry_link::recall::WARN_BELOW
                );
            }
        }
        None => {
            let _ = writeln!(
                s,
                "\nBlocking's recall could not be estimated: no two rules are on different columns."
            );
        }
    }
    let _ = writeln!(
        s,
        "\nCandidate pairs: {} of {} possible.\n",
        r.candidate_pairs, t.total_pairs
    );
    let _ = writeln!(s, "## Training\n");
    let _ = writeln!(
        s,
        "u-probabilities from {} random pairs. EM sessions:\n",
        t.u_sample_pairs
    );
    let _ = writeln!(
        s,
        "| blocking rule | pairs | held fixed | iterations | converged | match share |\n| --- | --- | --- | --- | --- | --- |"
    );
    for e in &t.em_sessions {
        let _ = writeln!(
            s,
            "| `{}`{} | {} | {} | {} | {} | {:.4} |",
            e.rule,
            if e.training_only {
                " (training only)"
            } else {
                ""
            },
            e.pairs,
            e.fixed.join(", "),
            e.iterations,
            match (&e.learned_nothing, e.converged) {
                (Some(why), _) => format!("learned nothing: {why}"),
                (None, true) => "yes".into(),
                (None, false) => "no".into(),
            },
            e.match_share
        );
    }
    // Where each comparison's m came from.
    let _ = writeln!(s, "\n| comparison | m trained by |\n| --- | --- |");
    for c in &m.comparisons {
        let by: Vec<String> = t
            .em_sessions
            .iter()
            .filter(|e| e.learned_nothing.is_none() && !e.fixed.contains(&c.column))
            .map(|e| format!("`{}`", e.rule))
            .collect();
        let _ = writeln!(
            s,
            "| {} | {} |",
            c.column,
            if by.is_empty() {
                "no session: the default starting m (see docs/linkage.md)".to_string()
            } else {
                by.join(", ")
            }
        );
    }
    if !t.untrained.is_empty() {
        let _ = writeln!(
            s,
            "\nNot trained by any session (starting m kept): {}",
            t.untrained.join(", ")
        );
    }
    let _ = writeln!(
        s,
        "\nPrior: {:.3e} (two random records are the same person), {:.1} expected matches among the candidates.",
        m.prior, t.expected_matches
    );
    // The prior counting the pairs blocking misses, with its spread.
    if let Some(r) = &t.blocking_recall {
        let total = t.total_pairs.max(1) as f64;
        let _ = writeln!(
            s,
            "Counting the true pairs blocking misses (estimated above): {:.3e}, 95% interval {:.3e} to {:.3e}.",
            r.matches / total,
            r.range.0 / total,
            r.range.1 / total
        );
    } else {
        let _ = writeln!(
            s,
            "No interval for the prior: blocking's recall could not be estimated (see Blocking above)."
        );
    }
    s.push('\n');
    let _ = writeln!(s, "![Weight of each comparison level](model_weights.svg)\n");
    let _ = writeln!(
        s,
        "| comparison level | m | u | weight (bits) |\n| --- | --- | --- | --- |"
    );
    for c in &m.comparisons {
        for l in c.levels.iter().skip(1) {
            let _ = writeln!(
                s,
                "| {} | {:.4} | {:.6} | {:+.2} |",
                l.label, l.m, l.u, l.weight
            );
        }
    }
    let _ = writeln!(s, "\n## Result\n");
    let mut sizes = std::collections::BTreeMap::<usize, usize>::new();
    let mut per: std::collections::HashMap<u32, usize> = std::collections::HashMap::new();
    for &c in &r.clustering.cluster {
        *per.entry(c).or_default() += 1;
    }
    for n in per.values() {
        *sizes.entry(*n).or_default() += 1;
    }
    let _ = writeln!(
        s,
        "Persons: {} at threshold {}.",
        per.len(),
        m.settings.threshold
    );
    let _ = writeln!(
        s,
        "Pairs kept apart by the NHS-number guard: {}.\n",
        r.clustering.blocked_merges
    );
    let _ = writeln!(s, "| records in a person | persons |\n| --- | --- |");
    for (n, k) in &sizes {
        let _ = writeln!(s, "| {n} | {k} |");
    }
    write_atomically(&out.join("summary.md"), |w| w.write_all(s.as_bytes()))?;
    let svg = wherry_link::explain::model_svg(m);
    write_atomically(&out.join("model_weights.svg"), |w| {
        w.write_all(svg.as_bytes())
    })?;
    Ok(())
}
