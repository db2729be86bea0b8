//! `wherry review`: the steward's queue of uncertain pairs. Every
//! subcommand acts as a named operator for a declared purpose, through the
//! same access rules and audit as the API; accepting or rejecting takes
//! effect at once (`wherry_hub::steward::settle`, as in the API and UI).

use anyhow::{Result, bail};
use clap::Subcommand;
use wherry_store::ReviewStatus;

use crate::store::{Database, Operator, request_id, runtime};

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
        #[command(flatten)]
        operator: Operator,
    },
    /// One item: both records as your purpose may see them, and why the
    /// matcher scored them as it did.
    Show {
        /// Item id.
        id: i64,
        #[command(flatten)]
        operator: Operator,
    },
    /// The two records are the same person: their persons merge now, and a
    /// must-link holds on every later run.
    Accept {
        /// Item id.
        id: i64,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
        #[command(flatten)]
        operator: Operator,
    },
    /// The two records are different people: they are split now, and a
    /// cannot-link holds on every later run.
    Reject {
        /// Item id.
        id: i64,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
        #[command(flatten)]
        operator: Operator,
    },
}

/// Runs `wherry review`.
pub fn run(a: Args) -> Result<()> {
    runtime().block_on(async {
        let store = a.database.open_initialised().await?;
        let result = command(&store, a.command).await;
        store.close().await;
        result
    })
}

async fn command(store: &wherry_store::Store, command: Command) -> Result<()> {
    use std::io::Write;
    let request = request_id();
    match command {
        Command::List { all, operator } => {
            let (access, caller) = operator.caller(store, "wherry review list").await?;
            let status = if all { None } else { Some(ReviewStatus::Open) };
            let items = access.review_list(&caller, status, &request).await?;
            let mut out = std::io::stdout().lock();
            for i in items {
                let line = format!(
                    "{}\t{}\t{:.3}\t{}\t{}",
                    i.id,
                    i.status.as_str(),
                    i.probability,
                    i.left,
                    i.right
                );
                // A reader that stops early (| head) is not an error.
                if writeln!(out, "{line}").is_err() {
                    break;
                }
            }
        }
        Command::Show { id, operator } => {
            let (access, caller) = operator.caller(store, "wherry review show").await?;
            let Some(pair) = access.review_pair(&caller, id, &request).await? else {
                bail!("no review item {id}");
            };
            let i = &pair.item;
            println!(
                "review item {id} ({}): {} and {}, probability {:.4}\n",
                i.status.as_str(),
                i.left,
                i.right,
                i.probability
            );
            for side in &pair.sides {
                let person = side.person.as_deref().unwrap_or("not linked");
                println!("{} (resident {person})", side.record);
                for (field, value) in &side.fields {
                    let value = value
                        .as_str()
                        .map_or_else(|| value.to_string(), str::to_string);
                    println!("  {field:<14} {value}");
                }
                println!();
            }
            print!(
                "{}",
                wherry_link::explain::Stored::parse(&i.explanation).text()
            );
        }
        Command::Accept {
            id,
            reason,
            operator,
        } => settle(store, &operator, id, true, &reason, &request).await?,
        Command::Reject {
            id,
            reason,
            operator,
        } => settle(store, &operator, id, false, &reason, &request).await?,
    }
    Ok(())
}

async fn settle(
    store: &wherry_store::Store,
    operator: &Operator,
    id: i64,
    accept: bool,
    reason: &str,
    request: &str,
) -> Result<()> {
    let what = if accept {
        "wherry review accept"
    } else {
        "wherry review reject"
    };
    let (access, caller) = operator.caller(store, what).await?;
    let Some(effect) =
        wherry_hub::steward::settle(&access, &caller, id, accept, reason, request).await?
    else {
        bail!("no open review item {id}");
    };
    if accept {
        let merged = if effect.absorbed.is_empty() {
            "they were already one resident".to_string()
        } else {
            format!("{} merged into it", effect.absorbed.join(", "))
        };
        println!(
            "Item {id} accepted: both records are now resident {} ({merged}); every later run keeps them together.",
            effect.person
        );
    } else {
        let split = match &effect.created {
            Some(p) => format!("the second record moved to new resident {p}"),
            None => "they were already apart".to_string(),
        };
        println!("Item {id} rejected: {split}; every later run keeps them apart.");
    }
    Ok(())
}
