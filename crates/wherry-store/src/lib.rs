//! Wherry's persistence: one store over two backends, SQLite (the embedded
//! default: one file, WAL) and PostgreSQL (production).
//!
//! A module per aggregate, each with typed rows and filters:
//! [`sources`] (partners' manifests and agreements), [`extracts`] (files
//! loaded, quarantine), [`records`] (record versions), [`events`] (contact
//! events), [`linkage`] (persons, record→person links, the change feed),
//! [`decisions`] (steward decisions), [`review`] (the review queue),
//! [`users`], [`audit`] (the audit log's rows) and [`models`] (linkage
//! models). Statements are written once with `$N` placeholders (in
//! ascending order, which both backends accept) and run on whichever pool
//! is open.
//!
//! Invariant: an ingest is one transaction ([`Tx`]): it commits whole or
//! leaves the store as it was. Invariant: applied migrations are never edited
//! (checksums are kept and checked).
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let dir = std::env::temp_dir().join(format!("wherry-store-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let url = format!("sqlite://{}", dir.join("wherry.db").display());
//! let store = wherry_store::Store::connect(&url).await?;
//! store.migrate().await?;
//! assert_eq!(store.counts().await?.records, 0);
//! assert!(store.review_items(None).await?.is_empty());
//! store.close().await;
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), wherry_store::Error>(()) }).unwrap();
//! ```

mod copy;
mod error;
pub mod migrate;
#[cfg(feature = "testing")]
pub mod testing;

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;

use serde::Serialize;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use error::Error;
/// The database driver's error, as `Error::Database` carries it.
pub use sqlx::Error as SqlxError;

/// Which database a store is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Backend {
    /// SQLite: one file.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same code on whichever pool or transaction is open.
macro_rules! dispatch {
    ($on:expr, $c:ident => $body:expr) => {
        match $on {
            $crate::Pool::Sqlite($c) => $body,
            $crate::Pool::Postgres($c) => $body,
        }
    };
}

macro_rules! dispatch_tx {
    ($on:expr, $c:ident => $body:expr) => {
        match $on {
            $crate::TxInner::Sqlite($c) => $body,
            $crate::TxInner::Postgres($c) => $body,
        }
    };
}

pub mod audit;
pub mod break_glass;
pub mod decisions;
pub mod events;
pub mod extracts;
pub mod linkage;
pub mod models;
pub mod persons;
mod placeholders;
pub mod records;
pub mod relationships;
pub mod review;
pub mod security;
pub mod sensor_alerts;
mod sensor_batch;
pub mod sensors;
pub mod sessions;
pub mod shared;
pub mod sources;
pub mod users;

pub use audit::{AuditEntry, AuditFilter, AuditHead};
pub use break_glass::Override;
pub use decisions::{Decision, DecisionAbout, DecisionKind};
pub use events::{ContactEvent, Event};
pub use extracts::{ExtractCounts, ExtractRow, Quarantined, QuarantinedRow, SourceQuality};
pub use linkage::{Change, Link, LinkMethod, Linkage, PersonLink};
pub use persons::{LinkedRecord, StoredVersion};
pub use records::{
    CurrentRecord, NewVersion, RecordFields, RecordState, RecordSummary, Version, Write,
};
pub use review::{NewReviewItem, ReviewItem, ReviewStatus};
pub use security::Refusal;
pub use sessions::{Session, SessionOf};
pub use sources::SourceRow;
pub use users::User;

/// A record named by its source and its id within the source.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
pub struct RecordKey {
    /// The source.
    pub source: String,
    /// The record's id within it.
    pub record_id: String,
}

impl RecordKey {
    /// The record `record_id` of `source`.
    pub fn new(source: impl Into<String>, record_id: impl Into<String>) -> Self {
        Self {
            source: source.into(),
            record_id: record_id.into(),
        }
    }

    /// As the engine's (source, record id) pair.
    pub fn into_pair(self) -> (String, String) {
        (self.source, self.record_id)
    }
}

impl From<(String, String)> for RecordKey {
    fn from((source, record_id): (String, String)) -> Self {
        Self { source, record_id }
    }
}

impl std::fmt::Display for RecordKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.source, self.record_id)
    }
}

/// The store.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
    /// SQLite's one writer, taken in turn: this process's write
    /// transactions queue here, first come first served, rather than in
    /// SQLite's busy handler, which lets a busy writer take the lock again
    /// and again while another sleeps and retries.
    writer: Arc<tokio::sync::Mutex<()>>,
}

/// How much the store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Counts {
    /// Sources registered.
    pub sources: i64,
    /// Extracts loaded.
    pub extracts: i64,
    /// Records (current, withdrawn included).
    pub records: i64,
    /// Record versions.
    pub versions: i64,
    /// Withdrawn records.
    pub withdrawn: i64,
    /// Quarantined rows.
    pub quarantined: i64,
    /// Contact events.
    pub events: i64,
}

const PAGE: u32 = 65536;

/// How long opening a PostgreSQL store waits for its server.
const CONNECT_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

impl Store {
    /// Opens `url`: `sqlite://path/to/file.db` (created if missing) or
    /// `postgres://user@host:port/database`.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Self::connect_with(url, true).await
    }

    /// Opens the store at `url`, which must exist already: a SQLite file
    /// that is missing is [`Error::Open`] saying to run `wherry init`, not
    /// a new empty file.
    pub async fn open_existing(url: &str) -> Result<Self, Error> {
        Self::connect_with(url, false).await
    }

    async fn connect_with(url: &str, create: bool) -> Result<Self, Error> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            let file = std::path::Path::new(path.split('?').next().unwrap_or(path));
            let in_memory = path.contains(":memory:") || path.contains("mode=memory");
            if !in_memory {
                check_sqlite_file(file, create)?;
            }
            let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
                .create_if_missing(create)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                // 256 MiB of page cache per connection (the default is 2 MiB):
                // a large ingest otherwise re-reads every page it touches
                // from the write-ahead log.
                .pragma("cache_size", "-262144")
                // Reads through a memory map: every audited read commits a
                // write, which empties the other connections' page caches;
                // mapped pages are then found again without copying.
                .pragma("mmap_size", "1073741824")
                // A long-running server checkpoints in the background (see
                // `checkpoint`); this is the backstop.
                .pragma("wal_autocheckpoint", "10000")
                // Deleted content is overwritten with zeros, so an erased
                // record cannot be read back from the file's free space.
                .pragma("secure_delete", "ON")
                .page_size(PAGE)
                .busy_timeout(std::time::Duration::from_secs(30));
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .map_err(|e| sqlite_open_error(file, e))?;
            Ok(Self {
                pool: Pool::Sqlite(pool),
                writer: Arc::default(),
            })
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            // One connection first, given a few seconds: a wrong host, port
            // or database is said at once, not after the pool's 30 s of
            // retries.
            use sqlx::Connection as _;
            match tokio::time::timeout(CONNECT_WAIT, sqlx::PgConnection::connect(url)).await {
                Err(_) => return Err(postgres_open_error(url, sqlx::Error::PoolTimedOut)),
                Ok(Err(e)) => return Err(postgres_open_error(url, e)),
                Ok(Ok(c)) => {
                    let _ = c.close().await;
                }
            }
            let pool = PgPoolOptions::new()
                .max_connections(8)
                .connect(url)
                .await
                .map_err(|e| postgres_open_error(url, e))?;
            Ok(Self {
                pool: Pool::Postgres(pool),
                writer: Arc::default(),
            })
        } else {
            Err(Error::UnknownScheme {
                scheme: url.chars().take_while(|c| *c != ':').take(12).collect(),
            })
        }
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the migrations not yet applied, in order; returns their
    /// versions (empty when the store was up to date). Idempotent.
    pub async fn migrate(&self) -> Result<Vec<i64>, Error> {
        let list = match self.backend() {
            Backend::Sqlite => migrate::SQLITE,
            Backend::Postgres => migrate::POSTGRES,
        };
        dispatch!(&self.pool, p => sqlx::query(migrate::CREATE_TABLE).execute(p).await.map(|_| ()))?;
        let applied: Vec<(i64, String)> = dispatch!(&self.pool, p => {
            sqlx::query_as("SELECT version, checksum FROM wherry_migrations ORDER BY version").fetch_all(p).await
        })?;
        let known: HashMap<i64, String> = list.iter().map(|m| (m.version, m.checksum())).collect();
        for (version, checksum) in &applied {
            match known.get(version) {
                None => return Err(Error::DatabaseNewer { version: *version }),
                Some(c) if c != checksum => {
                    return Err(Error::MigrationEdited { version: *version });
                }
                Some(_) => {}
            }
        }
        let mut done = Vec::new();
        for m in list
            .iter()
            .filter(|m| !applied.iter().any(|(v, _)| *v == m.version))
        {
            dispatch!(&self.pool, p => {
                let mut tx = p.begin().await?;
                sqlx::raw_sql(m.sql).execute(&mut *tx).await.map(|_| ())?;
                sqlx::query("INSERT INTO wherry_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)")
                    .bind(m.version)
                    .bind(m.name)
                    .bind(m.checksum())
                    .bind(wherry_core::clock::now())
                    .execute(&mut *tx)
                    .await.map(|_| ())?;
                tx.commit().await?;
            });
            done.push(m.version);
        }
        Ok(done)
    }

    /// Fails unless every known migration has been applied.
    pub async fn require_initialised(&self) -> Result<(), Error> {
        let list = match self.backend() {
            Backend::Sqlite => migrate::SQLITE,
            Backend::Postgres => migrate::POSTGRES,
        };
        let applied: Result<Vec<(i64,)>, sqlx::Error> = dispatch!(&self.pool, p => {
            sqlx::query_as("SELECT version FROM wherry_migrations").fetch_all(p).await
        });
        match applied {
            Ok(v) if list.iter().all(|m| v.iter().any(|(x,)| *x == m.version)) => Ok(()),
            _ => Err(Error::NotInitialised),
        }
    }

    /// How much the store holds.
    pub async fn counts(&self) -> Result<Counts, Error> {
        let sql = "SELECT
            (SELECT COUNT(*) FROM sources),
            (SELECT COUNT(*) FROM extracts),
            (SELECT COUNT(*) FROM records),
            (SELECT COUNT(*) FROM record_versions),
            (SELECT COUNT(*) FROM records WHERE withdrawn = 1),
            (SELECT COUNT(*) FROM quarantine),
            (SELECT COUNT(*) FROM contact_events)";
        let r: (i64, i64, i64, i64, i64, i64, i64) =
            dispatch!(&self.pool, p => sqlx::query_as(sql).fetch_one(p).await)?;
        Ok(Counts {
            sources: r.0,
            extracts: r.1,
            records: r.2,
            versions: r.3,
            withdrawn: r.4,
            quarantined: r.5,
            events: r.6,
        })
    }

    /// How many times the store has been changed by something other than
    /// the real-time matcher: an ingest, a linkage run, erasure, retention.
    pub async fn generation(&self) -> Result<i64, Error> {
        let sql = "SELECT n FROM hub_generation WHERE id = 1";
        let row: (i64,) = dispatch!(&self.pool, p => sqlx::query_as(sql).fetch_one(p).await)?;
        Ok(row.0)
    }

    /// Refreshes the query planner's statistics after a bulk change (an
    /// ingest, a linkage run), so lookups by person use their indexes
    /// straight away rather than after the next autovacuum.
    pub async fn analyze(&self) -> Result<(), Error> {
        let sql = match self.backend() {
            Backend::Sqlite => "PRAGMA optimize",
            Backend::Postgres => "ANALYZE",
        };
        dispatch!(&self.pool, p => sqlx::query(sql).execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// Copies what the write-ahead log holds into the database without
    /// waiting for readers or blocking writers (SQLite; nothing to do on
    /// PostgreSQL). A server calls it every fraction of a second, so that
    /// the copying and its flush to disk happen here rather than in the
    /// commit of whichever request fills the log.
    pub async fn checkpoint(&self) -> Result<(), Error> {
        if let Pool::Sqlite(p) = &self.pool {
            sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(p)
                .await?;
        }
        Ok(())
    }

    /// After an erasure: leaves no copy of deleted rows to be read back.
    /// On SQLite (whose deletes already zero their content) the
    /// write-ahead log, which still holds the pages as they were, is
    /// copied in and truncated to nothing; tried for up to about a second
    /// while readers are busy. On PostgreSQL the tables erasure deletes
    /// from are vacuumed, so their dead rows' space is reclaimed (the
    /// server's own write-ahead log and backups keep them until they are
    /// recycled: see docs/access.md). True when it completed.
    pub async fn reclaim(&self) -> Result<bool, Error> {
        match &self.pool {
            Pool::Sqlite(p) => {
                for _ in 0..50 {
                    let (busy,): (i64,) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                        .fetch_one(p)
                        .await?;
                    if busy == 0 {
                        return Ok(true);
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                Ok(false)
            }
            Pool::Postgres(p) => {
                sqlx::query(
                    "VACUUM record_versions, records, person_links, contact_events, steward_decisions, review_queue",
                )
                .execute(p)
                .await?;
                Ok(true)
            }
        }
    }

    /// Starts a transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a transaction that reads and then writes could
    /// otherwise find another writer got there first and fail with
    /// "database is locked" where waiting would have done; with the lock
    /// taken up front, concurrent writers wait their turn: in this
    /// process in the order they asked (see `writer`), another process's
    /// up to the busy timeout. Reads that need no transaction go through
    /// the pool.
    pub async fn begin(&self) -> Result<Tx, Error> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => {
                let turn = self.writer.clone().lock_owned().await;
                Tx {
                    inner: TxInner::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
                    _turn: Some(turn),
                }
            }
            Pool::Postgres(p) => Tx {
                inner: TxInner::Postgres(p.begin().await?),
                _turn: None,
            },
        })
    }

    /// Closes the pool.
    pub async fn close(&self) {
        dispatch!(&self.pool, p => p.close().await)
    }
}

enum TxInner {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// A transaction: everything an ingest writes, committed together.
pub struct Tx {
    inner: TxInner,
    /// The writer's turn (SQLite), given up after the transaction ends
    /// (fields drop in order).
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

/// Rows per multi-row INSERT (well under both backends' parameter limits).
/// (The SQL of multi-row inserts is built from placeholder numbers only,
/// never from data, so it is asserted safe.)
const BATCH: usize = 2000;

/// Rows up to which PostgreSQL is written with INSERT rather than COPY.
const SMALL: usize = 64;

impl Tx {
    /// Marks the store as changed by something other than the real-time
    /// matcher (see [`Store::generation`]).
    pub async fn bump_generation(&mut self) -> Result<(), Error> {
        dispatch_tx!(&mut self.inner, t => {
            sqlx::query("UPDATE hub_generation SET n = n + 1 WHERE id = 1").execute(&mut **t).await.map(|_| ())
        })?;
        Ok(())
    }

    /// Commits everything.
    pub async fn commit(self) -> Result<(), Error> {
        dispatch_tx!(self.inner, t => t.commit().await)?;
        Ok(())
    }
}

/// Whether a SQLite store file can be opened (or, with `create`, made), as
/// one line saying why not and what to do.
fn check_sqlite_file(file: &std::path::Path, create: bool) -> Result<(), Error> {
    let shown = file.display();
    if file.is_dir() {
        return Err(Error::Open(format!(
            "{shown} is a directory, not a store file: name a file, such as sqlite://{}/hub.db",
            shown
        )));
    }
    if !file.exists() {
        if !create {
            return Err(Error::Open(format!(
                "there is no store at {shown}: create it with `wherry init --database sqlite://{shown}`, or name the store you meant with --database"
            )));
        }
        let parent = file.parent().filter(|p| !p.as_os_str().is_empty());
        if let Some(dir) = parent.filter(|d| !d.is_dir()) {
            return Err(Error::Open(format!(
                "cannot create the store {shown}: the directory {} does not exist; create it, or name a file in another directory",
                dir.display()
            )));
        }
        return Ok(());
    }
    match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(file)
    {
        Ok(_) => Ok(()),
        Err(e) => Err(Error::Open(format!(
            "cannot open the store {shown} for reading and writing ({}); check its permissions and those of its directory",
            wherry_core::error::os_reason(&e)
        ))),
    }
}

fn sqlite_open_error(file: &std::path::Path, e: sqlx::Error) -> Error {
    let reason = match &e {
        sqlx::Error::Database(d) => d.message().to_string(),
        sqlx::Error::Io(io) => wherry_core::error::os_reason(io),
        other => other.to_string(),
    };
    Error::Open(format!(
        "SQLite cannot use {} as a store ({reason}); is it a Wherry store, and may this user write to it and to its directory?",
        file.display()
    ))
}

/// `host:port` and the database name of a PostgreSQL URL, for messages.
fn postgres_place(url: &str) -> (String, String) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let rest = rest.split('?').next().unwrap_or(rest);
    let (host, db) = rest.split_once('/').unwrap_or((rest, ""));
    let host = if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:5432")
    };
    (host, db.to_string())
}

fn postgres_open_error(url: &str, e: sqlx::Error) -> Error {
    let (host, db) = postgres_place(url);
    let message = match &e {
        sqlx::Error::Database(d) if d.code().as_deref() == Some("3D000") => format!(
            "PostgreSQL at {host} has no database {db:?}: create it (createdb -h {} -p {} {db}) or name another in the URL",
            host.rsplit_once(':').map_or(host.as_str(), |(h, _)| h),
            host.rsplit_once(':').map_or("5432", |(_, p)| p),
        ),
        sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("28P01" | "28000")) => {
            format!(
                "PostgreSQL at {host} refused the login ({}): check the user and password in the URL",
                d.message()
            )
        }
        sqlx::Error::Database(d) => format!("PostgreSQL at {host} refused: {}", d.message()),
        sqlx::Error::Io(io) => format!(
            "PostgreSQL does not answer at {host} ({}): is it running, and are the host and port right?",
            wherry_core::error::os_reason(io)
        ),
        sqlx::Error::PoolTimedOut => format!(
            "PostgreSQL did not answer at {host} within {} s: is it running, and are the host and port right?",
            CONNECT_WAIT.as_secs()
        ),
        other => format!("PostgreSQL at {host}: {other}"),
    };
    Error::Open(message)
}
