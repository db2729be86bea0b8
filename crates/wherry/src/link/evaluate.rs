//! `wherry link evaluate`.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use wherry_link::evaluate::{Scores, b_cubed, cluster_pairwise, pr_curve};

use super::write_atomically;

/// Arguments of `wherry link evaluate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// clusters.csv from `wherry link` (source,record_id,cluster_id).
    #[arg(long, value_name = "FILE")]
    clusters: PathBuf,
    /// Ground truth: a CSV with record_id and entity_id columns (and source,
    /// when record ids repeat across sources).
    #[arg(long, value_name = "FILE")]
    truth: PathBuf,
    /// pairs.csv from `wherry link`: adds pairwise scores at --at and a
    /// precision–recall curve (CSV and SVG beside the pairs file).
    #[arg(long, value_name = "FILE")]
    pairs: Option<PathBuf>,
    /// Match probability for the pairwise scores of pairs.csv.
    #[arg(long, default_value_t = 0.5)]
    at: f64,
}

type Key = (String, String);

fn read_keyed(path: &PathBuf, value: &str) -> Result<(HashMap<Key, String>, bool)> {
    let mut rdr =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let header: Vec<String> = rdr
        .headers()?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let col = |n: &str| header.iter().position(|h| h == n);
    let (Some(id), Some(v)) = (col("record_id"), col(value)) else {
        bail!(
            "{}: needs record_id and {value} columns (has {})",
            path.display(),
            header.join(", ")
        );
    };
    let source = col("source");
    let mut out = HashMap::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.with_context(|| format!("{} line {}", path.display(), i + 2))?;
        let s = source.and_then(|s| rec.get(s)).unwrap_or("").to_string();
        out.insert((s, rec[id].to_string()), rec[v].to_string());
    }
    Ok((out, source.is_some()))
}

fn show(name: &str, s: &Scores) {
    println!(
        "{name:<38} precision {:.4}  recall {:.4}  F1 {:.4}",
        s.precision, s.recall, s.f1
    );
}

/// Runs `wherry link evaluate`.
pub fn run(a: Args) -> Result<()> {
    let (clusters, _) = read_keyed(&a.clusters, "cluster_id")?;
    let (truth, truth_has_source) = read_keyed(&a.truth, "entity_id")?;
    let rekey = |m: HashMap<Key, String>| -> HashMap<Key, String> {
        if truth_has_source {
            m
        } else {
            m.into_iter()
                .map(|((_, id), v)| ((String::new(), id), v))
                .collect()
        }
    };
    let clusters = rekey(clusters);
    let common = clusters.keys().filter(|k| truth.contains_key(*k)).count();
    if common == 0 {
        bail!(
            "no record in {} is in {}: do the record ids (and sources) match?",
            a.clusters.display(),
            a.truth.display()
        );
    }
    println!("{common} records in both the clusters and the truth");
    show(
        "clusters, pairwise (cluster F1)",
        &cluster_pairwise(&clusters, &truth),
    );
    show("clusters, B-cubed", &b_cubed(&clusters, &truth));
    if let Some(pairs_path) = &a.pairs {
        let mut rdr = csv::Reader::from_path(pairs_path)
            .with_context(|| format!("cannot read {}", pairs_path.display()))?;
        let mut pairs = Vec::new();
        for (i, rec) in rdr.records().enumerate() {
            let rec = rec.with_context(|| format!("{} line {}", pairs_path.display(), i + 2))?;
            let key = |s: usize, id: usize| {
                if truth_has_source {
                    (rec[s].to_string(), rec[id].to_string())
                } else {
                    (String::new(), rec[id].to_string())
                }
            };
            let p: f64 = rec[5].parse().with_context(|| {
                format!("{} line {}: bad probability", pairs_path.display(), i + 2)
            })?;
            pairs.push((key(0, 1), key(2, 3), p));
        }
        let truth_in_scope: HashMap<Key, String> = truth
            .iter()
            .filter(|(k, _)| clusters.contains_key(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let at = pr_curve(&pairs, &truth_in_scope, &[a.at]);
        show(&format!("pairs with probability ≥ {}", a.at), &at[0].1);
        let thresholds: Vec<f64> = (1..100).map(|i| f64::from(i) / 100.0).collect();
        let curve = pr_curve(&pairs, &truth_in_scope, &thresholds);
        let dir = pairs_path.parent().map(PathBuf::from).unwrap_or_default();
        write_atomically(&dir.join("pr_curve.csv"), |w| {
            writeln!(w, "threshold,precision,recall,f1")?;
            for (t, s) in &curve {
                writeln!(w, "{t:.2},{:.6},{:.6},{:.6}", s.precision, s.recall, s.f1)?;
            }
            Ok(())
        })?;
        let svg = curve_svg(&curve);
        write_atomically(&dir.join("pr_curve.svg"), |w| w.write_all(svg.as_bytes()))?;
        println!(
            "Precision–recall curve: {}",
            dir.join("pr_curve.svg").display()
        );
    }
    Ok(())
}

/// Precision and recall against threshold, as an SVG chart.
fn curve_svg(curve: &[(f64, Scores)]) -> String {
    let (w, h, pad) = (520.0, 320.0, 50.0);
    let x = |t: f64| pad + t * (w - 2.0 * pad);
    let lo = curve
        .iter()
        .flat_map(|(_, s)| [s.precision, s.recall])
        .fold(1.0f64, f64::min)
        .min(0.9);
    let y = |v: f64| h - pad - (v - lo) / (1.0 - lo).max(1e-9) * (h - 2.0 * pad);
    let line = |f: &dyn Fn(&Scores) -> f64| {
        curve
            .iter()
            .map(|(t, s)| format!("{:.1},{:.1}", x(*t), y(f(s))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"Arial, sans-serif\" font-size=\"12\" role=\"img\">\n\
<title>Precision and recall by match probability threshold</title>\n\
<rect x=\"{pad}\" y=\"{pad}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#b1b4b6\"/>\n\
<polyline fill=\"none\" stroke=\"#1d70b8\" stroke-width=\"2\" points=\"{}\"/>\n\
<polyline fill=\"none\" stroke=\"#d4351c\" stroke-width=\"2\" stroke-dasharray=\"6,3\" points=\"{}\"/>\n\
<text x=\"{pad}\" y=\"{}\">threshold 0</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\">1</text>\n\
<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{lo:.2}</text><text x=\"{}\" y=\"{pad}\" text-anchor=\"end\">1.00</text>\n\
<text x=\"{}\" y=\"30\" fill=\"#1d70b8\">precision (solid)</text><text x=\"{}\" y=\"30\" fill=\"#d4351c\">recall (dashed)</text>\n</svg>\n",
        w - 2.0 * pad,
        h - 2.0 * pad,
        line(&|s| s.precision),
        line(&|s| s.recall),
        h - pad + 18.0,
        w - pad,
        h - pad + 18.0,
        pad - 6.0,
        h - pad,
        pad - 6.0,
        pad,
        pad + 150.0,
    )
}
