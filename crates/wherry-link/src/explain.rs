//! Explanations: for any pair, each comparison's level and the weight it
//! added, the prior, the total and the probability, as text and as an SVG
//! waterfall chart; and a chart of the whole model's level weights.

use serde::{Deserialize, Serialize};

use crate::compare::Comparison;
use crate::dataset::Dataset;
use crate::model::{Model, probability};
use crate::score::tf_adjustment;

/// One comparison's contribution to a pair's weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Term {
    /// The column.
    pub column: String,
    /// The level reached.
    pub label: String,
    /// The level's weight in bits.
    pub weight: f64,
    /// The term-frequency adjustment, in bits (zero unless exact on a tf column).
    pub tf_adjustment: f64,
}

/// Why a pair scored what it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The prior, as a weight.
    pub prior_weight: f64,
    /// One term per comparison.
    pub terms: Vec<Term>,
    /// The total match weight.
    pub total_weight: f64,
    /// The match probability.
    pub probability: f64,
}

/// Explains the pair (`a`, `b`) of `ds` under `model`.
pub fn explain(model: &Model, ds: &Dataset, a: u32, b: u32) -> Explanation {
    let mut terms = Vec::new();
    let mut total = model.prior_weight();
    for (i, (spec, trained)) in model
        .settings
        .comparisons
        .iter()
        .zip(&model.comparisons)
        .enumerate()
    {
        let c = Comparison::new(spec, ds);
        let level = c.level(ds, a, b) as usize;
        let weight = trained.levels[level].weight;
        let tf = if trained.tf && level == 1 {
            tf_adjustment(model, ds, i, a)
        } else {
            0.0
        };
        total += weight + tf;
        terms.push(Term {
            column: trained.column.clone(),
            label: trained.levels[level].label.clone(),
            weight,
            tf_adjustment: tf,
        });
    }
    Explanation {
        prior_weight: model.prior_weight(),
        terms,
        total_weight: total,
        probability: probability(total),
    }
}

impl Explanation {
    /// A table a person can read.
    pub fn text(&self) -> String {
        let mut s = format!("{:<58} {:>9}\n", "", "bits");
        s += &format!(
            "{:<58} {:>+9.2}\n",
            "prior (two random records match)", self.prior_weight
        );
        for t in &self.terms {
            s += &format!("{:<58} {:>+9.2}\n", t.label, t.weight);
            if t.tf_adjustment != 0.0 {
                s += &format!(
                    "{:<58} {:>+9.2}\n",
                    format!("  term frequency of this {}", t.column),
                    t.tf_adjustment
                );
            }
        }
        s += &format!("{:<58} {:>+9.2}\n", "total match weight", self.total_weight);
        s += &format!("{:<58} {:>9.6}\n", "match probability", self.probability);
        s
    }

    /// The waterfall's steps: (label, weight), the prior first, then each
    /// comparison and its term-frequency adjustment.
    pub fn steps(&self) -> Vec<(String, f64)> {
        let mut steps: Vec<(String, f64)> = vec![("prior".into(), self.prior_weight)];
        for t in &self.terms {
            steps.push((t.label.clone(), t.weight));
            if t.tf_adjustment != 0.0 {
                steps.push((format!("term frequency of {}", t.column), t.tf_adjustment));
            }
        }
        steps
    }

    /// A waterfall chart: each bar starts where the previous ended.
    pub fn svg(&self) -> String {
        waterfall_svg(&self.steps(), self.probability)
    }

    /// The steps of [`Explanation::text`] read back: (label, weight), the
    /// prior first, and the probability; `None` if the text is not one.
    /// (Review items stored before explanations were kept as JSON hold
    /// this text.)
    pub fn steps_of_text(text: &str) -> Option<(Vec<(String, f64)>, f64)> {
        let mut steps = Vec::new();
        let mut probability = None;
        for line in text.lines().skip(1) {
            let (label, number) = line.trim_end().rsplit_once(' ')?;
            let value: f64 = number.trim().parse().ok()?;
            match label.trim() {
                "total match weight" => {}
                "match probability" => probability = Some(value),
                l if l.starts_with("prior") => steps.push(("prior".to_string(), value)),
                l => steps.push((l.to_string(), value)),
            }
        }
        Some((steps, probability?))
    }
}

/// An explanation as a review item stores it: JSON of an [`Explanation`],
/// or (items queued before explanations were JSON) the text of
/// [`Explanation::text`].
#[derive(Debug, Clone, PartialEq)]
pub enum Stored {
    /// JSON, read back.
    Json(Explanation),
    /// The older text table.
    Text(String),
}

impl Stored {
    /// Reads a stored explanation.
    pub fn parse(stored: &str) -> Self {
        match serde_json::from_str(stored) {
            Ok(e) => Self::Json(e),
            Err(_) => Self::Text(stored.to_string()),
        }
    }

    /// The table a person reads.
    pub fn text(&self) -> String {
        match self {
            Self::Json(e) => e.text(),
            Self::Text(t) => t.clone(),
        }
    }

    /// The waterfall's steps and probability, when they can be read.
    pub fn steps(&self) -> Option<(Vec<(String, f64)>, f64)> {
        match self {
            Self::Json(e) => Some((e.steps(), e.probability)),
            Self::Text(t) => Explanation::steps_of_text(t),
        }
    }
}

/// A waterfall chart of match weights (`steps`: label and weight, the prior
/// first), with the total and the probability in its title.
pub fn waterfall_svg(steps: &[(String, f64)], probability: f64) -> String {
    {
        let mut running = 0.0f64;
        let mut bars = Vec::new();
        let (mut lo, mut hi) = (0.0f64, 0.0f64);
        for (label, w) in steps {
            let start = running;
            running += w;
            lo = lo.min(start.min(running));
            hi = hi.max(start.max(running));
            bars.push((label.clone(), start, running));
        }
        bars.push(("total".into(), 0.0, running));
        let (left, width, row) = (380.0, 420.0, 24.0);
        let span = (hi - lo).max(1.0);
        let x = |v: f64| left + (v - lo) / span * width;
        let height = row * (bars.len() as f64 + 2.0);
        let mut s = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" font-family=\"Arial, sans-serif\" font-size=\"12\" role=\"img\">\n<title>Match weight waterfall: total {:+.2} bits, probability {:.4}</title>\n",
            left + width + 80.0,
            running,
            probability
        );
        s += &format!(
            "<line x1=\"{0:.1}\" y1=\"0\" x2=\"{0:.1}\" y2=\"{height}\" stroke=\"#505a5f\" stroke-dasharray=\"3,3\"/>\n",
            x(0.0)
        );
        for (i, (label, start, end)) in bars.iter().enumerate() {
            let y = row * (i as f64 + 1.0);
            let colour = if label == "total" {
                "#1d70b8"
            } else if end >= start {
                "#00703c"
            } else {
                "#d4351c"
            };
            let (x0, x1) = (x(start.min(*end)), x(start.max(*end)));
            s += &format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\n",
                left - 8.0,
                y + 15.0,
                escape(label)
            );
            s += &format!(
                "<rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{colour}\"/>\n",
                y + 4.0,
                (x1 - x0).max(1.0),
                row - 8.0
            );
            s += &format!(
                "<text x=\"{:.1}\" y=\"{:.1}\">{:+.2}</text>\n",
                x1 + 4.0,
                y + 15.0,
                end - start
            );
        }
        s += "</svg>\n";
        s
    }
}

/// Escapes text for SVG.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A chart of every level's weight in the model.
pub fn model_svg(model: &Model) -> String {
    let rows: Vec<(String, f64)> = model
        .comparisons
        .iter()
        .flat_map(|c| c.levels.iter().skip(1).map(|l| (l.label.clone(), l.weight)))
        .collect();
    let (left, width, row) = (380.0, 420.0, 20.0);
    let max = rows.iter().map(|r| r.1.abs()).fold(1.0f64, f64::max);
    let zero = left + width / 2.0;
    let height = row * (rows.len() as f64 + 2.0);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" font-family=\"Arial, sans-serif\" font-size=\"12\" role=\"img\">\n<title>Match weight of each comparison level (log2 m/u)</title>\n",
        left + width + 60.0
    );
    s += &format!(
        "<line x1=\"{zero}\" y1=\"0\" x2=\"{zero}\" y2=\"{height}\" stroke=\"#505a5f\"/>\n"
    );
    for (i, (label, w)) in rows.iter().enumerate() {
        let y = row * (i as f64 + 1.0);
        let len = w / max * width / 2.0;
        let (x0, colour) = if *w >= 0.0 {
            (zero, "#00703c")
        } else {
            (zero + len, "#d4351c")
        };
        s += &format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\n",
            left - 8.0,
            y + 13.0,
            escape(label)
        );
        s += &format!(
            "<rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{colour}\"/>\n",
            y + 3.0,
            len.abs().max(1.0),
            row - 6.0
        );
        s += &format!(
            "<text x=\"{:.1}\" y=\"{:.1}\">{w:+.2}</text>\n",
            left + width + 4.0,
            y + 13.0
        );
    }
    s += "</svg>\n";
    s
}
