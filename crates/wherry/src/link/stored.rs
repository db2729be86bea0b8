//! `wherry link run` and `wherry link changes`: linkage over the store, with
//! stable person ids, steward decisions as constraints and a review queue.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use wherry_hub::{RunOptions, link_run};

use crate::store::{Database, runtime};

/// Arguments of `wherry link run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Score with this trained model instead of training.
    #[arg(long, value_name = "FILE")]
    model: Option<PathBuf>,
    /// Match probability at or above which records join a person.
    #[arg(long)]
    threshold: Option<f64>,
    /// Pairs with a probability from this …
    #[arg(long, default_value_t = 0.5)]
    review_low: f64,
    /// … up to (not including) this go to the steward's review queue.
    #[arg(long, default_value_t = 0.95)]
    review_high: f64,
    #[command(flatten)]
    database: Database,
}

/// Arguments of `wherry link changes`.
#[derive(Debug, clap::Args)]
pub struct ChangesArgs {
    /// Show changes after this sequence number (0: all).
    #[arg(long, default_value_t = 0)]
    since: i64,
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    database: Database,
}

/// Runs `wherry link run`.
pub fn run(a: RunArgs) -> Result<()> {
    runtime().block_on(async {
        let store = a.database.open_initialised().await?;
        let options = RunOptions {
            model: a.model.as_deref().map(super::load_model).transpose()?,
            threshold: a.threshold,
            review: wherry_link::ReviewRange::new(a.review_low, a.review_high)?,
        };
        let bars = std::sync::Arc::new(super::Bars::new());
        let r = link_run(&store, &options, bars.clone()).await?;
        bars.bar.finish_and_clear();
        println!(
            "Linked {} records into {} persons: {} created, {} merged, {} split, {} retired; {} pairs for review",
            r.records, r.persons, r.created, r.merged, r.split, r.retired, r.review
        );
        let timings: Vec<String> = bars.timings().iter().map(|(s, t)| format!("{s} {t:.2}")).collect();
        println!("Seconds by stage: {}", timings.join(", "));
        store.close().await;
        Ok(())
    })
}

/// Runs `wherry link changes`.
pub fn changes(a: ChangesArgs) -> Result<()> {
    runtime().block_on(async {
        let store = a.database.open_initialised().await?;
        let mut out = std::io::stdout().lock();
        for c in store.changes(a.since, usize::MAX).await? {
            let line = if a.json {
                serde_json::to_string(&c)?
            } else {
                let others = serde_json::to_string(&c.others)?;
                format!("{}\t{}\t{}\t{}\t{others}", c.seq, c.at, c.kind, c.person)
            };
            // A reader that stops early (| head) is not an error.
            if writeln!(out, "{line}").is_err() {
                break;
            }
        }
        store.close().await;
        Ok(())
    })
}
