//! `wherry link run` and `wherry link changes`: linkage over the store, with
//! stable person ids, steward decisions as constraints and a review queue.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, bail};
use wherry_link::persons::PersonEvent;
use wherry_link::relink::{Decision, Input, Options, Outcome, relink};
use wherry_store::Linkage;

use crate::hub::{Database, runtime};

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
        let mut stages: Vec<(&str, Instant)> = vec![("read", Instant::now())];
        let rows = store.current_records().await?;
        if rows.is_empty() {
            bail!("the store holds no records: ingest partner extracts first (wherry ingest)");
        }
        let mut input = Input { records: Vec::with_capacity(rows.len()), ..Input::default() };
        for (s, r, fields) in rows {
            input.records.push(((s, r), serde_json::from_str(&fields)?));
        }
        input.previous = store.person_links().await?.into_iter().map(|(s, r, p)| ((s, r), p)).collect();
        input.decisions = store
            .decisions()
            .await?
            .into_iter()
            .map(|(kind, sl, rl, sr, rr)| Decision { same_person: kind == "must_link", left: (sl, rl), right: (sr, rr) })
            .collect();
        input.last_person_number = store
            .person_ids()
            .await?
            .iter()
            .filter_map(|p| p.trim_start_matches('P').parse::<u64>().ok())
            .max()
            .unwrap_or(0);
        let model = a.model.as_deref().map(super::load_model).transpose()?;
        stages.push(("relink", Instant::now()));
        let options = Options { model, threshold: a.threshold, review: (a.review_low, a.review_high) };
        let outcome = relink(input, &options)?;
        stages.push(("save", Instant::now()));
        let linkage = to_linkage(&outcome)?;
        let mut tx = store.begin().await?;
        tx.save_linkage(&linkage).await?;
        tx.commit().await?;
        stages.push(("end", Instant::now()));
        let count = |k: &str| linkage.history.iter().filter(|h| h.0 == k).count();
        println!(
            "Linked {} records into {} persons: {} created, {} merged, {} split, {} retired; {} pairs for review",
            outcome.records,
            outcome.persons,
            count("created"),
            count("merged"),
            count("split"),
            count("retired"),
            outcome.review.len()
        );
        let timings: Vec<String> =
            stages.windows(2).map(|w| format!("{} {:.2}", w[0].0, w[1].1.duration_since(w[0].1).as_secs_f64())).collect();
        println!("Seconds by stage: {}", timings.join(", "));
        store.close().await;
        Ok(())
    })
}

/// The outcome as the store keeps it.
fn to_linkage(o: &Outcome) -> Result<Linkage> {
    let mut l = Linkage {
        links: o
            .links
            .iter()
            .map(|((s, r), p)| (s.clone(), r.clone(), p.clone()))
            .collect(),
        unlinked: o.unlinked.clone(),
        review: o
            .review
            .iter()
            .map(|p| {
                (
                    p.left.0.clone(),
                    p.left.1.clone(),
                    p.right.0.clone(),
                    p.right.1.clone(),
                    p.probability,
                    p.explanation.clone(),
                )
            })
            .collect(),
        ..Linkage::default()
    };
    for e in &o.events {
        let (kind, person, others) = match e {
            PersonEvent::Created { person } => ("created", person, vec![]),
            PersonEvent::Merged { person, absorbed } => ("merged", person, absorbed.clone()),
            PersonEvent::Split { person, into } => ("split", person, into.clone()),
            PersonEvent::Retired { person } => ("retired", person, vec![]),
        };
        match e {
            PersonEvent::Created { person } => l.created.push(person.clone()),
            PersonEvent::Retired { person } => l.retired.push(person.clone()),
            _ => {}
        }
        l.history.push((
            kind.into(),
            person.clone(),
            serde_json::to_string(&others)?,
            serde_json::to_string(e)?,
        ));
    }
    Ok(l)
}

/// Runs `wherry link changes`.
pub fn changes(a: ChangesArgs) -> Result<()> {
    runtime().block_on(async {
        let store = a.database.open_initialised().await?;
        let mut out = std::io::stdout().lock();
        for (seq, kind, person, others, at, _detail) in store.changes(a.since).await? {
            let line = if a.json {
                let others: serde_json::Value = serde_json::from_str(&others)?;
                serde_json::json!({"seq": seq, "kind": kind, "person": person, "others": others, "at": at}).to_string()
            } else {
                format!("{seq}\t{at}\t{kind}\t{person}\t{others}")
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
