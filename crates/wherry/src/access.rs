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
    /// Disable a user: their token stops working (a running server stops
    /// accepting it within 10 seconds, the time it trusts a token it has
    /// looked up). Their audit entries stay.
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
    /// Check the hash chain: fails, naming the first entry edited, inserted
    /// or removed.
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
    },
}

/// Runs `wherry retention`.
pub fn retention(a: RetentionArgs) -> Result<()> {
    let RetentionCommand::Run { today } = a.command;
    let today = match today {
        Some(d) => wherry_core::Date::parse(&d).map_err(|e| anyhow::anyhow!("--today: {e}"))?,
        None => wherry_core::Date::today_utc(),
    };
    runtime().block_on(async {
        let store = a.database.open_initialised().await?;
        let who = std::env::var("USER").unwrap_or_else(|_| "wherry".into());
        let req = wherry_hub::rights::Requested {
            by: format!("cli:{who}"),
            role: "admin".into(),
            purpose: "subject_rights".into(),
            request_id: format!("retention-{today}"),
        };
        let removed = wherry_hub::rights::expire(&store, today, &req).await?;
        store.close().await;
        if removed.records.is_empty() {
            println!("No record is past its agreement's retention period.");
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
            UserCommand::Disable { name } => {
                if !store.disable_user(&name).await? {
                    bail!("no enabled user is named {name:?}");
                }
                println!("Disabled {name}: their token no longer works.");
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
    /// Address to listen on [default: $WHERRY_LISTEN, else the config
    /// file's `listen`, else 127.0.0.1:8080].
    #[arg(long)]
    listen: Option<String>,
    /// Configuration file (TOML; see docs/api.md) [default: $WHERRY_CONFIG].
    #[arg(long, value_name = "FILE")]
    config: Option<std::path::PathBuf>,
    /// Log one JSON line per request on standard error (route templates,
    /// statuses and timings; never personal data).
    #[arg(long)]
    log_requests: bool,
    #[command(flatten)]
    database: Database,
}

/// Runs `wherry serve` until Ctrl-C or SIGTERM.
pub fn serve(a: ServeArgs) -> Result<()> {
    let config_path = a
        .config
        .clone()
        .or_else(|| std::env::var_os("WHERRY_CONFIG").map(Into::into));
    let config = match &config_path {
        Some(p) => wherry_server::config::Config::load(p).map_err(anyhow::Error::msg)?,
        None => wherry_server::config::Config::default(),
    };
    let listen = a
        .listen
        .clone()
        .or_else(|| std::env::var("WHERRY_LISTEN").ok())
        .or_else(|| config.listen.clone())
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let database = a.database.or_url(config.database.clone());
    runtime().block_on(async {
        let store = database.open_initialised().await?;
        let m = config.matcher;
        let matcher = match wherry_hub::Matcher::open(store.clone(), (m.review_low, m.review_high))
            .await
        {
            Ok(m) => Some(m),
            Err(e) => {
                println!("Search, partner push and $match are off until the store is linked: {e}");
                None
            }
        };
        let mut state = wherry_server::AppState::new(store.clone(), matcher);
        state.policy = config.policy().map_err(anyhow::Error::msg)?;
        state.limiter = wherry_server::limits::RateLimiter::new(config.limits);
        state.log_requests = a.log_requests;
        state.secure_cookies = config.secure_cookies;
        if let Some(o) = config.oidc.clone() {
            state.oidc = Some(wherry_access::oidc::Verifier::new(o)?);
        }
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
        let at = listener.local_addr()?;
        // Printed once listening, so a script can wait for this line.
        println!("Serving the Wherry API on http://{at}/ (Ctrl-C stops it)");
        use std::io::Write as _;
        std::io::stdout().flush()?;
        wherry_server::serve_on(listener, std::sync::Arc::new(state), m.reload_seconds)
            .await
            .map_err(|e| anyhow::anyhow!("serving on {at}: {e}"))?;
        store.close().await;
        Ok(())
    })
}
