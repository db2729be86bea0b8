//! `wherry resident show`: one resident's view at the command line, as the
//! operator's role and declared purpose may see it under each source's
//! agreement (the same disclosure as the API's), audited.

use anyhow::{Result, bail};

use crate::store::{Database, Operator, request_id, runtime};

/// Arguments of `wherry resident`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    database: Database,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// The resident view as JSON: the golden record with provenance, the
    /// linked records, the timeline, services involved and the lead.
    Show {
        /// The person id (P and nine digits).
        id: String,
        #[command(flatten)]
        operator: Operator,
    },
}

/// Runs `wherry resident`.
pub fn run(a: Args) -> Result<()> {
    let Command::Show { id, operator } = a.command;
    runtime().block_on(async {
        let store = a.database.open_initialised().await?;
        let shown = async {
            let (access, caller) = operator.caller(&store, "wherry resident show").await?;
            Ok::<_, anyhow::Error>(access.resident(&caller, &id, &request_id()).await?)
        }
        .await;
        store.close().await;
        match shown? {
            Some(view) => println!("{}", serde_json::to_string_pretty(&view)?),
            None => bail!("no resident has the id {id}"),
        }
        Ok(())
    })
}
