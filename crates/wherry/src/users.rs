//! `wherry user`, `wherry audit` and `wherry retention`: who may use the
//! hub, the record of every disclosure, and the agreements' retention.

use anyhow::{Result, bail};
use wherry_core::Role;

use crate::store::{Database, Operator, request_id, runtime};

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
        /// For a partner_system: a source it may push records and events
        /// for (registered by an ingest); repeat for several. Required for
        /// that role, refused for the others.
        #[arg(long = "source", value_name = "SOURCE")]
        sources: Vec<String>,
        /// The team whose caseload they share (caseworkers, the TEC team,
        /// stewards) [default: a team of their own].
        #[arg(long)]
        team: Option<String>,
    },
    /// List users and their roles (never tokens).
    List,
    /// Give a user another role: their web sessions end at once and their
    /// token carries the new role (a running server: within 10 seconds).
    SetRole {
        /// The user's name.
        name: String,
        /// The new role.
        #[arg(long)]
        role: String,
    },
    /// Disable a user: their web sessions end at once and their token stops
    /// working (a running server stops accepting it within 10 seconds, the
    /// time it trusts a token it has looked up). Their audit entries stay.
    Disable {
        /// The user's name.
        name: String,
    },
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
    /// Check the audit log against its trail: the hash chain, each entry's
    /// MAC under the audit key and every checkpoint; fails naming the first
    /// entry edited, inserted, removed or forged, a log cut short or
    /// rewritten, or a missing checkpoint.
    Verify,
}

/// Arguments of `wherry retention run`.
#[derive(Debug, clap::Args)]
pub struct RetentionArgs {
    #[command(subcommand)]
    command: RetentionCommand,
    #[command(flatten)]
    database: Database,
}

#[derive(Debug, clap::Subcommand)]
enum RetentionCommand {
    /// Remove the expired records now.
    Run {
        /// The day to count retention periods back from (YYYY-MM-DD)
        /// [default: today].
        #[arg(long)]
        today: Option<String>,
        #[command(flatten)]
        operator: Operator,
    },
}

/// Runs `wherry retention`.
pub fn retention(a: RetentionArgs) -> Result<()> {
    let RetentionCommand::Run { today, operator } = a.command;
    let today = match today {
        Some(d) => wherry_core::Date::parse(&d).map_err(|e| anyhow::anyhow!("--today: {e}"))?,
        None => wherry_core::Date::today_utc(),
    };
    runtime().block_on(async {
        let store = a.database.open_initialised().await?;
        let (_, caller) = operator.caller(&store, "wherry retention run").await?;
        let removed = wherry_access::rights::expire(&store, &caller, today, &request_id()).await;
        store.close().await;
        let removed = removed?;
        if removed.records.is_empty() && removed.sensor_readings == 0 && removed.sensor_alerts == 0 {
            println!("No record is past its agreement's retention period.");
        }
        if removed.sensor_readings > 0 || removed.sensor_alerts > 0 {
            println!(
                "tec_sensors: {} sensor readings and {} alerts removed (tombstone in the audit log)",
                removed.sensor_readings, removed.sensor_alerts
            );
        }
        for (source, ids) in &removed.records {
            println!(
                "{source}: {} records removed (tombstone in the audit log)",
                ids.len()
            );
        }
        if !removed.retired.is_empty() {
            println!(
                "{} persons retired, left with no records",
                removed.retired.len()
            );
        }
        Ok(())
    })
}

/// A partner system's account names the registered sources it pushes
/// for; a person's names none.
async fn check_sources(store: &wherry_store::Store, role: Role, sources: &[String]) -> Result<()> {
    if role != Role::PartnerSystem {
        if !sources.is_empty() {
            bail!("--source is for partner_system accounts only: a person pushes nothing");
        }
        return Ok(());
    }
    if sources.is_empty() {
        bail!(
            "a partner_system account is bound to the sources it pushes for: name each with --source"
        );
    }
    let known: Vec<String> = store.sources().await?.into_iter().map(|s| s.id).collect();
    for s in sources {
        if !known.contains(s) {
            bail!(
                "no source {s:?} is registered (ingest its extract first); registered: {}",
                known.join(", ")
            );
        }
    }
    Ok(())
}

/// Runs `wherry user`.
pub fn user(a: UserArgs) -> Result<()> {
    runtime().block_on(async {
        let store = a.database.open_initialised().await?;
        match a.command {
            UserCommand::Add {
                name,
                role,
                sources,
                team,
            } => {
                let role: Role = role.parse().map_err(anyhow::Error::msg)?;
                if name.trim().is_empty() || name.chars().any(char::is_control) {
                    bail!("a user name must be printable and not empty");
                }
                check_sources(&store, role, &sources).await?;
                let token = wherry_access::token::new_token()?;
                let hash = wherry_access::token::token_hash(&token);
                if !store
                    .add_user(&name, role.as_str(), &hash, &sources)
                    .await?
                {
                    bail!("a user named {name:?} exists already");
                }
                if let Some(team) = team.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                    store.set_user_team(&name, team).await?;
                }
                let purposes: Vec<String> = wherry_access::Policy::default()
                    .purposes(role)
                    .map(|p| p.to_string())
                    .collect();
                let pushes = if sources.is_empty() {
                    String::new()
                } else {
                    format!("; pushes for {}", sources.join(", "))
                };
                println!(
                    "Added {name} as {role} (purposes: {}{pushes}).",
                    purposes.join(", ")
                );
                println!(
                    "Their API token, shown this once (send it as `Authorization: Bearer …`):"
                );
                println!("{token}");
            }
            UserCommand::List => {
                for u in store.users().await? {
                    let state = if u.disabled { "disabled" } else { "enabled" };
                    println!(
                        "{}\t{}\t{}\t{state}\t{}",
                        u.name,
                        u.role,
                        u.created_at,
                        u.sources.join(",")
                    );
                }
            }
            UserCommand::SetRole { name, role } => {
                let role: Role = role.parse().map_err(anyhow::Error::msg)?;
                if role == Role::PartnerSystem {
                    bail!("a partner_system account is added with its sources (wherry user add --source), not made from a person's");
                }
                if store.user(&name).await?.is_some_and(|u| u.role == Role::PartnerSystem.as_str()) {
                    bail!("{name:?} is a partner system's account: disable it and add a person instead");
                }
                if !store.set_user_role(&name, role.as_str()).await? {
                    bail!("no enabled user is named {name:?}");
                }
                println!("{name} is now {role}: their web sessions have ended.");
            }
            UserCommand::Disable { name } => {
                if !store.disable_user(&name).await? {
                    bail!("no enabled user is named {name:?}");
                }
                println!("Disabled {name}: their token no longer works and their web sessions have ended.");
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
        let trail = wherry_access::trail::get().expect("opened with the store");
        let result = match a.command {
            AuditCommand::Verify => wherry_access::trail::verify_trail(&store, trail).await?,
        };
        store.close().await;
        match result {
            Ok(v) => {
                let noun = if v.entries == 1 { "entry" } else { "entries" };
                println!(
                    "The audit log holds {} {noun}, every one chained to the one before and sealed with the audit key; {} checkpoints in {} agree with it.",
                    v.entries,
                    v.checkpoints,
                    trail.dir().display()
                );
                Ok(())
            }
            Err(broken) => bail!("{broken}"),
        }
    })
}
