//! `wherry review`: the steward's queue of uncertain pairs.

use anyhow::{Result, bail};
use clap::Subcommand;

use crate::hub::{Database, runtime};

/// Arguments of `wherry review`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    database: Database,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Open items (or all with --all).
    List {
        /// Include settled items.
        #[arg(long)]
        all: bool,
    },
    /// One item with its explanation.
    Show {
        /// Item id.
        id: i64,
    },
    /// The two records are the same person: a must-link on every later run.
    Accept {
        /// Item id.
        id: i64,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// The two records are different people: a cannot-link on every later run.
    Reject {
        /// Item id.
        id: i64,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
    },
}

/// Runs `wherry review`.
pub fn run(a: Args) -> Result<()> {
    runtime().block_on(async {
        let store = a.database.open_initialised().await?;
        let by = std::env::var("USER").unwrap_or_else(|_| "steward".into());
        match a.command {
            Command::List { all } => {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                for (id, sl, rl, sr, rr, p, _, status) in store.review_items(if all { None } else { Some("open") }).await? {
                    if writeln!(out, "{id}\t{status}\t{p:.3}\t{sl}/{rl}\t{sr}/{rr}").is_err() {
                        break;
                    }
                }
            }
            Command::Show { id } => {
                let items = store.review_items(None).await?;
                let Some((_, sl, rl, sr, rr, p, explanation, status)) = items.into_iter().find(|i| i.0 == id) else {
                    bail!("no review item {id}");
                };
                println!("review item {id} ({status}): {sl}/{rl} and {sr}/{rr}, probability {p:.4}\n");
                print!("{explanation}");
            }
            Command::Accept { id, reason } => {
                if !store.settle_review(id, true, &by, &reason).await? {
                    bail!("no open review item {id}");
                }
                println!("Item {id} accepted: the two records will be one person from the next `wherry link run`.");
            }
            Command::Reject { id, reason } => {
                if !store.settle_review(id, false, &by, &reason).await? {
                    bail!("no open review item {id}");
                }
                println!("Item {id} rejected: the two records will be kept apart on every later run.");
            }
        }
        store.close().await;
        Ok(())
    })
}
