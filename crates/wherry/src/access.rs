//! `wherry user` and `wherry audit`: who may use the hub, and the record of
//! every disclosure.

use anyhow::{Result, bail};
use wherry_core::Role;

use crate::hub::{Database, runtime};

/// Arguments of `wherry user`.
#[derive(Debug, clap::Args)]
pub struct UserArgs {
    #[command(subcommand)]
    command: UserCommand,
    #[command(flatten)]
    database: Database,
}

#[derive(Debug, clap::Subcommand)]
enum UserCommand {
    /// Add a user with a role; prints their API token (shown once, stored
    /// only as a hash) as the last line.
    Add {
        /// The user's name (unique).
        name: String,
        /// advisor, caseworker, fire_prevention, steward, analyst, tec_team,
        /// admin or partner_system.
        #[arg(long)]
        role: String,
    },
    /// List users and their roles (never tokens).
    List,
}

/// Arguments of `wherry audit`.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
    #[command(flatten)]
    database: Database,
}

#[derive(Debug, clap::Subcommand)]
enum AuditCommand {
    /// Check the hash chain: fails, naming the first entry edited, inserted
    /// or removed.
    Verify,
}

/// Runs `wherry user`.
pub fn user(a: UserArgs) -> Result<()> {
    runtime().block_on(async {
        let store = a.database.open_initialised().await?;
        match a.command {
            UserCommand::Add { name, role } => {
                let role: Role = role.parse().map_err(anyhow::Error::msg)?;
                if name.trim().is_empty() || name.chars().any(char::is_control) {
                    bail!("a user name must be printable and not empty");
                }
                let token = wherry_access::token::new_token()?;
                let hash = wherry_access::token::token_hash(&token);
                if !store.add_user(&name, role.as_str(), &hash).await? {
                    bail!("a user named {name:?} exists already");
                }
                let purposes: Vec<String> = wherry_access::Policy::default()
                    .purposes(role)
                    .map(|p| p.to_string())
                    .collect();
                println!(
                    "Added {name} as {role} (purposes: {}).",
                    purposes.join(", ")
                );
                println!(
                    "Their API token, shown this once (send it as `Authorization: Bearer …`):"
                );
                println!("{token}");
            }
            UserCommand::List => {
                for (name, role, created) in store.users().await? {
                    println!("{name}\t{role}\t{created}");
                }
            }
        }
        store.close().await;
        Ok(())
    })
}

/// Runs `wherry audit`.
pub fn audit(a: AuditArgs) -> Result<()> {
    runtime().block_on(async {
        let store = a.database.open_initialised().await?;
        let result = match a.command {
            AuditCommand::Verify => wherry_access::audit::verify_store(&store).await?,
        };
        store.close().await;
        match result {
            Ok(n) => {
                let noun = if n == 1 { "entry" } else { "entries" };
                println!("The audit log holds {n} {noun}, every one chained to the one before.");
                Ok(())
            }
            Err(broken) => bail!("{broken}"),
        }
    })
}

/// Arguments of `wherry serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    #[command(flatten)]
    database: Database,
}

/// Runs `wherry serve` until Ctrl-C.
pub fn serve(a: ServeArgs) -> Result<()> {
    runtime().block_on(async {
        let store = a.database.open_initialised().await?;
        let matcher = match wherry_hub::Matcher::open(store.clone(), (0.5, 0.95)).await {
            Ok(m) => Some(m),
            Err(e) => {
                println!("Partner push is off until the store is linked: {e}");
                None
            }
        };
        let state = std::sync::Arc::new(wherry_server::AppState {
            store: store.clone(),
            policy: wherry_access::Policy::default(),
            matcher,
        });
        println!(
            "Serving the Wherry API on http://{}/ (Ctrl-C stops it)",
            a.listen
        );
        wherry_server::serve(&a.listen, state)
            .await
            .map_err(|e| anyhow::anyhow!("cannot serve on {}: {e}", a.listen))?;
        store.close().await;
        Ok(())
    })
}
