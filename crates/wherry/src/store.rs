//! Where the store is, the runtime commands run on, and who is at the
//! keyboard: the operator a command that discloses personal data acts as.

use anyhow::{Context, Result, anyhow, bail};
use wherry_access::{Access, Caller, Policy};
use wherry_core::{Purpose, Role};
use wherry_store::Store;

/// Where the store is: `--database`, else `WHERRY_DATABASE_URL`, else
/// `sqlite://wherry.db`.
#[derive(Debug, Clone, clap::Args)]
pub struct Database {
    /// Store URL: sqlite://FILE or postgres://USER@HOST:PORT/DB
    /// [default: $WHERRY_DATABASE_URL, else sqlite://wherry.db]
    #[arg(long = "database", value_name = "URL", global = true)]
    url: Option<String>,
    /// The audit trail's directory (its key and checkpoints), kept where
    /// the database's administrators cannot write [default:
    /// $WHERRY_AUDIT_DIR, else FILE.audit beside a SQLite store, else
    /// ~/.local/share/wherry/audit/HOST_PORT_DB for PostgreSQL]
    #[arg(long = "audit-dir", value_name = "DIR", global = true)]
    audit_dir: Option<std::path::PathBuf>,
}

impl Database {
    /// This, or `url` when no `--database` flag was given and
    /// `$WHERRY_DATABASE_URL` is unset.
    pub fn or_url(self, url: Option<String>) -> Self {
        if self.url.is_some() || std::env::var_os("WHERRY_DATABASE_URL").is_some() {
            return self;
        }
        Self {
            url: url.or(self.url),
            ..self
        }
    }

    /// The audit trail's directory for this store (see `--audit-dir`).
    pub fn audit_dir(&self) -> std::path::PathBuf {
        if let Some(d) = self.audit_dir.clone().or_else(|| {
            std::env::var_os("WHERRY_AUDIT_DIR")
                .filter(|d| !d.is_empty())
                .map(Into::into)
        }) {
            return d;
        }
        let url = self.url();
        if let Some(file) = url.strip_prefix("sqlite://") {
            let file = file.split('?').next().unwrap_or(file);
            return format!("{file}.audit").into();
        }
        // postgres://user:pass@host:port/db?options → host_port_db
        let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
        let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
        let rest = rest.split('?').next().unwrap_or(rest);
        let name: String = rest
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let home = std::env::var_os("HOME").map_or_else(|| ".".into(), std::path::PathBuf::from);
        home.join(".local/share/wherry/audit").join(name)
    }

    pub fn url(&self) -> String {
        self.url
            .clone()
            .or_else(|| {
                std::env::var("WHERRY_DATABASE_URL")
                    .ok()
                    .filter(|u| !u.is_empty())
            })
            .unwrap_or_else(|| "sqlite://wherry.db".into())
    }

    /// Opens the store, which must exist and be initialised: a missing
    /// SQLite file is an error saying to run `wherry init`, never a new
    /// empty file.
    pub async fn open_initialised(&self) -> Result<Store> {
        let store = self.connect(false).await?;
        store.require_initialised().await.map_err(|_| {
            let url = redact(&self.url());
            anyhow!(
                "the store {url} has not been initialised: run `wherry init --database {url}` first"
            )
        })?;
        Ok(store)
    }

    /// Opens the store (creating a SQLite file that is missing: for
    /// `wherry init` and the demo) and this process's audit trail.
    pub async fn open(&self) -> Result<Store> {
        self.connect(true).await
    }

    async fn connect(&self, create: bool) -> Result<Store> {
        let url = self.url();
        let connecting = if create {
            Store::connect(&url).await
        } else {
            Store::open_existing(&url).await
        };
        // The store's message says what and what to do; this says where.
        let store =
            connecting.with_context(|| format!("cannot open the store {}", redact(&url)))?;
        wherry_access::trail::open(&self.audit_dir())?;
        Ok(store)
    }
}

/// A URL without any password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let cred = &url[s + 3..at];
            match cred.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Who runs a command that discloses personal data, and why: a user of
/// the hub (their role decides which purposes they may name, as for API
/// users), and the purpose, which every such command requires.
#[derive(Debug, Clone, clap::Args)]
pub struct Operator {
    /// The purpose of this disclosure (the operator's role must allow it):
    /// direct_care, safeguarding, fire_prevention, contact_centre,
    /// data_quality (also called record_matching), planning, research or
    /// subject_rights.
    #[arg(long, value_name = "PURPOSE")]
    purpose: Option<String>,
    /// The hub user running the command [default: $WHERRY_OPERATOR, else
    /// $USER]; add one with `wherry user add NAME --role ROLE`.
    #[arg(long, value_name = "NAME")]
    operator: Option<String>,
}

impl Operator {
    /// The operator as an access caller, checked against their role in
    /// `store`; and the disclosures over `store`.
    pub async fn caller(&self, store: &Store, what: &str) -> Result<(Access, Caller)> {
        let Some(purpose) = &self.purpose else {
            bail!(
                "{what} discloses personal data: name its purpose with --purpose PURPOSE (one your role may use); it is checked and recorded in the audit log"
            );
        };
        let purpose: Purpose = purpose
            .parse()
            .map_err(|e: String| anyhow!("--purpose: {e}"))?;
        let name = self
            .operator
            .clone()
            .or_else(|| std::env::var("WHERRY_OPERATOR").ok())
            .or_else(|| std::env::var("USER").ok())
            .filter(|n| !n.is_empty())
            .ok_or_else(|| anyhow!("name the hub user running this with --operator NAME"))?;
        let user = store
            .user(&name)
            .await?
            .filter(|u| !u.disabled)
            .ok_or_else(|| {
                anyhow!(
                    "{name:?} is not an enabled user of this hub: pass --operator NAME, or add one with `wherry user add {name} --role ROLE`"
                )
            })?;
        let role: Role = user.role.parse().map_err(anyhow::Error::msg)?;
        let access = Access::new(store.clone(), Policy::default());
        let caller = access.caller(user.name, role, purpose, None)?;
        Ok((access, caller))
    }
}

/// A request id for a command's audit entries: `cli-` and 16 random bytes.
pub fn request_id() -> String {
    let mut bytes = [0u8; 16];
    let _ = getrandom::fill(&mut bytes);
    format!("cli-{}", wherry_core::clock::hex(&bytes))
}
