//! Wherry's persistence: one store over two backends, SQLite (the embedded
//! default: one file, WAL) and PostgreSQL (production).
//!
//! The store holds sources and their agreements, extracts, record versions,
//! quarantined rows, contact events, persons and record→person links, link
//! history, steward decisions and the review queue. Statements are written
//! once with `$N` placeholders (in ascending order, which both backends
//! accept) and run on whichever pool is open.
//!
//! Invariant: an ingest is one transaction ([`Tx`]): it commits whole or
//! leaves the store as it was. Invariant: applied migrations are never edited
//! (checksums are kept and checked).
//!
//! ```no_run
//! # async fn demo() -> Result<(), wherry_store::Error> {
//! let store = wherry_store::Store::connect("sqlite://wherry.db").await?;
//! store.migrate().await?;
//! println!("{:?}", store.counts().await?);
//! # Ok(()) }
//! ```

mod error;
pub mod migrate;
#[cfg(feature = "testing")]
pub mod testing;

use std::collections::HashMap;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use error::Error;

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
            Pool::Sqlite($c) => $body,
            Pool::Postgres($c) => $body,
        }
    };
}

macro_rules! dispatch_tx {
    ($on:expr, $c:ident => $body:expr) => {
        match $on {
            TxInner::Sqlite($c) => $body,
            TxInner::Postgres($c) => $body,
        }
    };
}

mod people;

pub use people::{LinkedRecord, PersonEvent, StoredVersion};

/// The store.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
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

/// Lower-case hexadecimal of `bytes` (without a formatter per byte: this is
/// on ingest's path for every row).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

/// The current time, RFC 3339 UTC (seconds).
pub fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let d = wherry_core::Date::from_days_since_epoch(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!("{d}T{:02}:{:02}:{:02}Z", s / 3600, s % 3600 / 60, s % 60)
}

const PAGE: u32 = 65536;

impl Store {
    /// Opens `url`: `sqlite://path/to/file.db` (created if missing) or
    /// `postgres://user@host:port/database`.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
                .create_if_missing(true)
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
                .page_size(PAGE)
                .busy_timeout(std::time::Duration::from_secs(30));
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await?;
            Ok(Self {
                pool: Pool::Sqlite(pool),
            })
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new().max_connections(8).connect(url).await?;
            Ok(Self {
                pool: Pool::Postgres(pool),
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
                    .bind(now())
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

    /// Quarantined rows of a source: (file, line, field, reason), in file and line order.
    pub async fn quarantined(
        &self,
        source: &str,
    ) -> Result<Vec<(String, i64, Option<String>, String)>, Error> {
        let sql = "SELECT file_name, line, field, reason FROM quarantine WHERE source_id = $1 ORDER BY file_name, line";
        Ok(dispatch!(&self.pool, p => sqlx::query_as(sql).bind(source).fetch_all(p).await)?)
    }

    /// A source's records: (record id, current version, withdrawn), by id.
    pub async fn records(&self, source: &str) -> Result<Vec<(String, i64, bool)>, Error> {
        let sql = "SELECT record_id, current_version, withdrawn FROM records WHERE source_id = $1 ORDER BY record_id";
        let rows: Vec<(String, i64, i64)> =
            dispatch!(&self.pool, p => sqlx::query_as(sql).bind(source).fetch_all(p).await)?;
        Ok(rows.into_iter().map(|(id, v, w)| (id, v, w != 0)).collect())
    }

    /// Every version of one record: (version, canonical fields JSON), oldest first.
    pub async fn versions(
        &self,
        source: &str,
        record_id: &str,
    ) -> Result<Vec<(i64, String)>, Error> {
        let sql = "SELECT version, fields FROM record_versions WHERE source_id = $1 AND record_id = $2 ORDER BY version";
        Ok(
            dispatch!(&self.pool, p => sqlx::query_as(sql).bind(source).bind(record_id).fetch_all(p).await)?,
        )
    }

    /// Every current (not withdrawn) record with its canonical fields and
    /// the person it is linked to, in no particular order.
    ///
    /// On SQLite the rows come in JSON batches of 8,192 built by SQLite
    /// itself: its driver hands rows over one at a time between threads,
    /// which made reading a million records take 13 s instead of 4.
    pub async fn current_records(&self) -> Result<Vec<CurrentRecord>, Error> {
        const FROM: &str = "FROM records r JOIN record_versions v
                   ON v.source_id = r.source_id AND v.record_id = r.record_id AND v.version = r.current_version
                   LEFT JOIN person_links l ON l.source_id = r.source_id AND l.record_id = r.record_id
                   WHERE r.withdrawn = 0";
        let bad = |e: serde_json::Error| Error::Corrupt {
            table: "record_versions",
            detail: format!("a record's fields: {e}"),
        };
        match &self.pool {
            Pool::Sqlite(p) => {
                let sql = format!(
                    "SELECT json_group_array(json_array(r.source_id, r.record_id, json(v.fields), l.person_id)) {FROM}
                     GROUP BY r.rowid >> 13"
                );
                let batches: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .fetch_all(p)
                    .await?;
                // Parsed on every core.
                let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
                let per = batches.len().div_ceil(threads).max(1);
                let parsed: Vec<Result<Vec<CurrentRecord>, Error>> = std::thread::scope(|scope| {
                    let handles: Vec<_> = batches
                        .chunks(per)
                        .map(|chunk| {
                            scope.spawn(move || {
                                let mut out = Vec::new();
                                for (json,) in chunk {
                                    // Each element is [source, record id, fields, person].
                                    let rows: Vec<CurrentRecord> =
                                        serde_json::from_str(json).map_err(bad)?;
                                    out.extend(rows);
                                }
                                Ok(out)
                            })
                        })
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| h.join().expect("parsing does not panic"))
                        .collect()
                });
                let mut out = Vec::new();
                for part in parsed {
                    out.extend(part?);
                }
                Ok(out)
            }
            Pool::Postgres(p) => {
                let sql = format!("SELECT r.source_id, r.record_id, v.fields, l.person_id {FROM}");
                let rows: Vec<(String, String, String, Option<String>)> =
                    sqlx::query_as(sqlx::AssertSqlSafe(sql))
                        .fetch_all(p)
                        .await?;
                rows.into_iter()
                    .map(|(source, record_id, fields, person)| {
                        let mut de = serde_json::Deserializer::from_str(&fields);
                        let values = canonical_values(&mut de).map_err(bad)?;
                        Ok(CurrentRecord {
                            source,
                            record_id,
                            values,
                            person,
                        })
                    })
                    .collect()
            }
        }
    }

    /// The newest linkage run's model (JSON), if a run has been made.
    pub async fn latest_model(&self) -> Result<Option<String>, Error> {
        let sql = "SELECT model FROM models ORDER BY id DESC LIMIT 1";
        let row: Option<(String,)> =
            dispatch!(&self.pool, p => sqlx::query_as(sql).fetch_optional(p).await)?;
        Ok(row.map(|r| r.0))
    }

    /// How links were made: (method, count), by method.
    pub async fn link_methods(&self) -> Result<Vec<(String, i64)>, Error> {
        let sql = "SELECT method, COUNT(*) FROM person_links GROUP BY method ORDER BY method";
        Ok(dispatch!(&self.pool, p => sqlx::query_as(sql).fetch_all(p).await)?)
    }

    /// Record → person links: (source, record id, person id).
    pub async fn person_links(&self) -> Result<Vec<(String, String, String)>, Error> {
        let sql = "SELECT source_id, record_id, person_id FROM person_links ORDER BY source_id, record_id";
        Ok(dispatch!(&self.pool, p => sqlx::query_as(sql).fetch_all(p).await)?)
    }

    /// Links of records that are no longer current (withdrawn; records are
    /// never deleted while linked): (source, record id, person id).
    pub async fn stale_links(&self) -> Result<Vec<(String, String, String)>, Error> {
        let sql = "SELECT l.source_id, l.record_id, l.person_id FROM records r
                   JOIN person_links l ON l.source_id = r.source_id AND l.record_id = r.record_id
                   WHERE r.withdrawn <> 0";
        // Sorted here: ORDER BY leads SQLite to scan every link in key order
        // rather than the few withdrawn records by their partial index.
        let mut rows: Vec<(String, String, String)> =
            dispatch!(&self.pool, p => sqlx::query_as(sql).fetch_all(p).await)?;
        rows.sort_unstable();
        Ok(rows)
    }

    /// Every person id ever given, retired ones included.
    pub async fn person_ids(&self) -> Result<Vec<String>, Error> {
        let rows: Vec<(String,)> = dispatch!(&self.pool, p => sqlx::query_as("SELECT id FROM persons").fetch_all(p).await)?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Steward decisions: (kind, left source, left id, right source, right id), oldest first.
    pub async fn decisions(&self) -> Result<Vec<(String, String, String, String, String)>, Error> {
        let sql = "SELECT kind, source_l, record_l, source_r, record_r FROM steward_decisions ORDER BY id";
        Ok(dispatch!(&self.pool, p => sqlx::query_as(sql).fetch_all(p).await)?)
    }

    /// Records a steward decision (`must_link` or `cannot_link`).
    pub async fn decide(
        &self,
        kind: &str,
        left: (&str, &str),
        right: (&str, &str),
        by: &str,
        reason: &str,
    ) -> Result<(), Error> {
        let mut tx = self.begin().await?;
        tx.decide(kind, left, right, by, reason).await?;
        tx.commit().await
    }

    /// The link history after `since`, at most `limit` entries: (seq,
    /// kind, person, others JSON, at, detail).
    pub async fn changes(
        &self,
        since: i64,
        limit: usize,
    ) -> Result<Vec<(i64, String, String, String, String, String)>, Error> {
        let sql = "SELECT seq, kind, person_id, others, at, detail FROM link_history WHERE seq > $1 ORDER BY seq LIMIT $2";
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        Ok(
            dispatch!(&self.pool, p => sqlx::query_as(sql).bind(since).bind(limit).fetch_all(p).await)?,
        )
    }

    /// Review items with `status` (or all): (id, left source, left id, right
    /// source, right id, probability, status).
    pub async fn review_items(&self, status: Option<&str>) -> Result<Vec<ReviewItem>, Error> {
        let sql = "SELECT id, source_l, record_l, source_r, record_r, probability, explanation, status FROM review_queue
                   WHERE ($1 = '' OR status = $1) ORDER BY id";
        Ok(
            dispatch!(&self.pool, p => sqlx::query_as(sql).bind(status.unwrap_or("")).fetch_all(p).await)?,
        )
    }

    /// Settles a review item: accepted becomes a must-link, rejected a
    /// cannot-link; both take effect on every later run. The decision and
    /// the item's status are written in one transaction. False when there is
    /// no open item with that id.
    pub async fn settle_review(
        &self,
        id: i64,
        accept: bool,
        by: &str,
        reason: &str,
    ) -> Result<bool, Error> {
        let kind = if accept { "must_link" } else { "cannot_link" };
        let mut tx = self.begin().await?;
        let Some((sl, rl, sr, rr)) = tx.claim_review(id, accept).await? else {
            return Ok(false);
        };
        tx.decide(kind, (&sl, &rl), (&sr, &rr), by, reason).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A person's current records: (source, record id, canonical fields
    /// JSON, attributes JSON), by source and id.
    pub async fn person_records(
        &self,
        person: &str,
    ) -> Result<Vec<(String, String, String, String)>, Error> {
        let sql = "SELECT l.source_id, l.record_id, v.fields, v.attributes FROM person_links l
                   JOIN records r ON r.source_id = l.source_id AND r.record_id = l.record_id
                   JOIN record_versions v ON v.source_id = r.source_id AND v.record_id = r.record_id
                        AND v.version = r.current_version
                   WHERE l.person_id = $1 AND r.withdrawn = 0 ORDER BY l.source_id, l.record_id";
        Ok(dispatch!(&self.pool, p => sqlx::query_as(sql).bind(person).fetch_all(p).await)?)
    }

    /// Every registered source with its manifest (JSON), by id.
    pub async fn source_manifests(&self) -> Result<Vec<(String, String)>, Error> {
        let sql = "SELECT id, manifest FROM sources ORDER BY id";
        Ok(dispatch!(&self.pool, p => sqlx::query_as(sql).fetch_all(p).await)?)
    }

    /// Adds a user with a role and the SHA-256 of their API token. False
    /// when a user of that name exists.
    pub async fn add_user(
        &self,
        name: &str,
        role: &str,
        token_sha256: &str,
    ) -> Result<bool, Error> {
        let sql = "INSERT INTO users (name, role, token_sha256, created_at) VALUES ($1, $2, $3, $4)
                   ON CONFLICT (name) DO NOTHING";
        let at = now();
        let done = dispatch!(&self.pool, p => {
            sqlx::query(sql).bind(name).bind(role).bind(token_sha256).bind(&at).execute(p).await.map(|r| r.rows_affected())
        })?;
        Ok(done == 1)
    }

    /// The enabled user holding the token with this SHA-256: (name, role).
    pub async fn user_by_token(
        &self,
        token_sha256: &str,
    ) -> Result<Option<(String, String)>, Error> {
        let sql = "SELECT name, role FROM users WHERE token_sha256 = $1 AND disabled_at IS NULL";
        Ok(
            dispatch!(&self.pool, p => sqlx::query_as(sql).bind(token_sha256).fetch_optional(p).await)?,
        )
    }

    /// Disables an enabled user (their token stops working). False when no
    /// enabled user has that name.
    pub async fn disable_user(&self, name: &str) -> Result<bool, Error> {
        let sql = "UPDATE users SET disabled_at = $1 WHERE name = $2 AND disabled_at IS NULL";
        let at = now();
        let done = dispatch!(&self.pool, p => {
            sqlx::query(sql).bind(&at).bind(name).execute(p).await.map(|r| r.rows_affected())
        })?;
        Ok(done == 1)
    }

    /// Users: (name, role, created at), by name.
    pub async fn users(&self) -> Result<Vec<(String, String, String)>, Error> {
        let sql = "SELECT name, role, created_at FROM users ORDER BY name";
        Ok(dispatch!(&self.pool, p => sqlx::query_as(sql).fetch_all(p).await)?)
    }

    /// The audit log after `seq`, oldest first.
    pub async fn audit_log(&self, after: i64) -> Result<Vec<AuditEntry>, Error> {
        let sql = "SELECT seq, at, user_name, role, purpose, action, person_id, sources, fields, request_id,
                   break_glass, prev_hash, hash FROM audit_log WHERE seq > $1 ORDER BY seq";
        let rows: Vec<AuditRow> =
            dispatch!(&self.pool, p => sqlx::query_as(sql).bind(after).fetch_all(p).await)?;
        Ok(rows.into_iter().map(AuditEntry::from).collect())
    }

    /// The audit log's head as last written: (seq, hash).
    pub async fn audit_head(&self) -> Result<(i64, String), Error> {
        let sql = "SELECT seq, hash FROM audit_head WHERE id = 1";
        Ok(dispatch!(&self.pool, p => sqlx::query_as(sql).fetch_one(p).await)?)
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

    /// Starts a transaction.
    pub async fn begin(&self) -> Result<Tx, Error> {
        let inner = match &self.pool {
            Pool::Sqlite(p) => TxInner::Sqlite(p.begin().await?),
            Pool::Postgres(p) => TxInner::Postgres(p.begin().await?),
        };
        Ok(Tx { inner })
    }

    /// Closes the pool.
    pub async fn close(&self) {
        dispatch!(&self.pool, p => p.close().await)
    }
}

/// Appends one CSV line, every field quoted (as PostgreSQL's COPY reads it).
fn csv_line(buf: &mut Vec<u8>, fields: &[&str]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        buf.push(b'"');
        for &b in f.as_bytes() {
            if b == b'"' {
                buf.push(b'"');
            }
            buf.push(b);
        }
        buf.push(b'"');
    }
    buf.push(b'\n');
}

/// Streams CSV lines into a COPY already begun, a megabyte at a time.
async fn copy_lines<'a>(
    conn: &mut sqlx::PgConnection,
    statement: &str,
    lines: impl Iterator<Item = Vec<&'a str>>,
) -> Result<(), Error> {
    let mut copy = conn.copy_in_raw(statement).await?;
    let mut buf = Vec::with_capacity(1 << 20);
    for fields in lines {
        csv_line(&mut buf, &fields);
        if buf.len() >= 1 << 20 {
            copy.send(std::mem::take(&mut buf)).await?;
        }
    }
    if !buf.is_empty() {
        copy.send(buf).await?;
    }
    copy.finish().await?;
    Ok(())
}

/// One value of a binary COPY row.
enum Cell<'a> {
    Text(&'a str),
    Int(i64),
    Float(f64),
    Null,
}

/// Streams rows into a binary COPY (no quoting to add or for the server to
/// parse: a tenth of the bytes of a FHIR row are quotes), a megabyte at a time.
async fn copy_binary<'a>(
    conn: &mut sqlx::PgConnection,
    statement: &str,
    rows: impl Iterator<Item = Vec<Cell<'a>>>,
) -> Result<(), Error> {
    let mut copy = conn.copy_in_raw(statement).await?;
    let mut buf = Vec::with_capacity(1 << 20);
    // Signature, flags, header extension length.
    buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    buf.extend_from_slice(&0i32.to_be_bytes());
    buf.extend_from_slice(&0i32.to_be_bytes());
    for row in rows {
        buf.extend_from_slice(&(row.len() as i16).to_be_bytes());
        for cell in row {
            match cell {
                Cell::Text(t) => {
                    buf.extend_from_slice(&(t.len() as i32).to_be_bytes());
                    buf.extend_from_slice(t.as_bytes());
                }
                Cell::Int(n) => {
                    buf.extend_from_slice(&8i32.to_be_bytes());
                    buf.extend_from_slice(&n.to_be_bytes());
                }
                Cell::Float(x) => {
                    buf.extend_from_slice(&8i32.to_be_bytes());
                    buf.extend_from_slice(&x.to_be_bytes());
                }
                Cell::Null => buf.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        if buf.len() >= 1 << 20 {
            copy.send(std::mem::take(&mut buf)).await?;
        }
    }
    buf.extend_from_slice(&(-1i16).to_be_bytes());
    copy.send(buf).await?;
    copy.finish().await?;
    Ok(())
}

/// PostgreSQL: record versions by COPY, then the records' pointers by one
/// upsert from arrays.
async fn copy_versions(
    t: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    extract: i64,
    source: &str,
    rows: &[NewVersion],
) -> Result<(), Error> {
    let at = now();
    copy_binary(
        t,
        "COPY record_versions (source_id, record_id, version, extract_id, fields, attributes, raw, created_at) FROM STDIN WITH (FORMAT binary)",
        rows.iter().map(|r| {
            vec![
                Cell::Text(source),
                Cell::Text(&r.record_id),
                Cell::Int(r.version),
                Cell::Int(extract),
                Cell::Text(&r.fields),
                Cell::Text(&r.attributes),
                Cell::Text(&r.raw),
                Cell::Text(&at),
            ]
        }),
    )
    .await?;
    // The records' pointers in one statement, from arrays.
    let ids: Vec<&str> = rows.iter().map(|r| r.record_id.as_str()).collect();
    let numbers: Vec<i64> = rows.iter().map(|r| r.version).collect();
    let hashes: Vec<&str> = rows.iter().map(|r| r.row_hash.as_str()).collect();
    sqlx::query(
        "INSERT INTO records (source_id, record_id, current_version, row_hash, withdrawn)
         SELECT $1, * , 0 FROM unnest($2::TEXT[], $3::BIGINT[], $4::TEXT[])
         ON CONFLICT (source_id, record_id) DO UPDATE SET current_version = excluded.current_version,
         row_hash = excluded.row_hash, withdrawn = 0",
    )
    .bind(source)
    .bind(&ids)
    .bind(&numbers)
    .bind(&hashes)
    .execute(&mut **t)
    .await?;
    Ok(())
}

/// PostgreSQL: contact events by COPY.
async fn copy_events(
    t: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    extract: i64,
    source: &str,
    rows: &[Event],
) -> Result<(), Error> {
    let ext = extract.to_string();
    copy_lines(
        t,
        "COPY contact_events (extract_id, source_id, record_id, event_date, service, contact_type, practitioner) FROM STDIN WITH (FORMAT csv)",
        rows.iter().map(|e| {
            vec![ext.as_str(), source, e.record_id.as_str(), e.date.as_str(), e.service.as_str(), e.contact_type.as_str(), e.practitioner.as_str()]
        }),
    )
    .await
}

/// PostgreSQL: new persons, links (through a temporary table and one
/// upsert) and history by COPY.
async fn copy_linkage(
    t: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    l: &Linkage,
    at: &str,
) -> Result<(), Error> {
    copy_lines(
        t,
        "COPY persons (id, created_at) FROM STDIN WITH (FORMAT csv)",
        l.created.iter().map(|id| vec![id.as_str(), at]),
    )
    .await?;
    // The first run: nothing to update, so straight in.
    let (linked,): (bool,) = sqlx::query_as("SELECT EXISTS (SELECT 1 FROM person_links)")
        .fetch_one(&mut **t)
        .await?;
    if !linked {
        copy_binary(
            t,
            "COPY person_links (source_id, record_id, person_id, since, method, probability) FROM STDIN WITH (FORMAT binary)",
            l.links.iter().map(|k| {
                vec![
                    Cell::Text(&k.source),
                    Cell::Text(&k.record_id),
                    Cell::Text(&k.person),
                    Cell::Text(at),
                    Cell::Text(&k.method),
                    k.probability.map_or(Cell::Null, Cell::Float),
                ]
            }),
        )
        .await?;
        return copy_history(t, l, at).await;
    }
    sqlx::query(
        "CREATE TEMP TABLE IF NOT EXISTS links_in (source_id TEXT, record_id TEXT, person_id TEXT, method TEXT, probability TEXT) ON COMMIT DROP",
    )
    .execute(&mut **t)
    .await?;
    let probabilities: Vec<String> = l
        .links
        .iter()
        .map(|k| k.probability.map(|p| p.to_string()).unwrap_or_default())
        .collect();
    copy_lines(
        t,
        "COPY links_in FROM STDIN WITH (FORMAT csv)",
        l.links.iter().zip(&probabilities).map(|(k, p)| {
            vec![
                k.source.as_str(),
                k.record_id.as_str(),
                k.person.as_str(),
                k.method.as_str(),
                p.as_str(),
            ]
        }),
    )
    .await?;
    sqlx::query(
        "INSERT INTO person_links (source_id, record_id, person_id, since, method, probability)
         SELECT source_id, record_id, person_id, $1, method, NULLIF(probability, '')::DOUBLE PRECISION FROM links_in
         ON CONFLICT (source_id, record_id) DO UPDATE SET person_id = excluded.person_id, since = excluded.since,
         method = excluded.method, probability = excluded.probability",
    )
    .bind(at)
    .execute(&mut **t)
    .await?;
    sqlx::query("TRUNCATE links_in").execute(&mut **t).await?;
    copy_history(t, l, at).await
}

/// PostgreSQL: a linkage's history by COPY.
async fn copy_history(
    t: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    l: &Linkage,
    at: &str,
) -> Result<(), Error> {
    copy_lines(
        t,
        "COPY link_history (kind, person_id, others, at, detail) FROM STDIN WITH (FORMAT csv)",
        l.history.iter().map(|(kind, person, others, detail)| {
            vec![
                kind.as_str(),
                person.as_str(),
                others.as_str(),
                at,
                detail.as_str(),
            ]
        }),
    )
    .await
}

enum TxInner {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// A transaction: everything an ingest writes, committed together.
pub struct Tx {
    inner: TxInner,
}

/// A review item: (id, left source, left id, right source, right id,
/// probability, explanation, status).
pub type ReviewItem = (i64, String, String, String, String, f64, String, String);

/// The outcome of a linkage run, to store in one transaction.
#[derive(Debug, Clone, Default)]
pub struct Linkage {
    /// Links that are new or changed.
    pub links: Vec<Link>,
    /// Records whose link ends (no longer current): (source, record id).
    pub unlinked: Vec<(String, String)>,
    /// Persons first seen in this run.
    pub created: Vec<String>,
    /// Persons with no records left.
    pub retired: Vec<String>,
    /// History entries: (kind, person, others JSON, detail).
    pub history: Vec<(String, String, String, String)>,
    /// New review items: (left source, left id, right source, right id, probability, explanation).
    pub review: Vec<(String, String, String, String, f64, String)>,
}

/// A record's link to a person.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// The record's source.
    pub source: String,
    /// The record's id within its source.
    pub record_id: String,
    /// The person.
    pub person: String,
    /// `automatic` or `steward`.
    pub method: String,
    /// The match probability that made it, where one did (a record joining
    /// an existing person in real time).
    pub probability: Option<f64>,
}

type AuditRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
);

/// One audit log entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Its place in the chain, from 1.
    pub seq: i64,
    /// When (UTC, ISO 8601).
    pub at: String,
    /// Who.
    pub user_name: String,
    /// In which role.
    pub role: String,
    /// For which purpose.
    pub purpose: String,
    /// What: `view`, `search`, `push`, `sar`, `erasure`…
    pub action: String,
    /// Whose record, if one person's.
    pub person_id: Option<String>,
    /// Sources disclosed, JSON array.
    pub sources: String,
    /// Fields disclosed, JSON array.
    pub fields: String,
    /// The request's id.
    pub request_id: String,
    /// The written reason, when access was by break-glass.
    pub break_glass: Option<String>,
    /// The previous entry's hash (empty for the first).
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        Self {
            seq: r.0,
            at: r.1,
            user_name: r.2,
            role: r.3,
            purpose: r.4,
            action: r.5,
            person_id: r.6,
            sources: r.7,
            fields: r.8,
            request_id: r.9,
            break_glass: r.10,
            prev_hash: r.11,
            hash: r.12,
        }
    }
}

/// A current record, as linkage reads it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CurrentRecord {
    /// Its source.
    pub source: String,
    /// Its id within the source.
    pub record_id: String,
    /// Its canonical fields' values, in the order of
    /// `wherry_core::Field::NAMES[2..]` (`None` where absent).
    #[serde(deserialize_with = "canonical_values")]
    pub values: Vec<Option<String>>,
    /// The person it is linked to, if any.
    pub person: Option<String>,
}

/// A record's canonical fields (a JSON object) as values in field order,
/// without a string made for each field's name.
fn canonical_values<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<Option<String>>, D::Error> {
    struct Visitor;
    impl<'de> serde::de::Visitor<'de> for Visitor {
        type Value = Vec<Option<String>>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object of canonical fields")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let names = &wherry_core::Field::NAMES[2..];
            let mut values = vec![None; names.len()];
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                match names.iter().position(|n| *n == key) {
                    Some(i) => values[i] = Some(map.next_value()?),
                    None => {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
            }
            Ok(values)
        }
    }
    d.deserialize_map(Visitor)
}

/// One new record version to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewVersion {
    /// The record's id within its source.
    pub record_id: String,
    /// The version number.
    pub version: i64,
    /// Hash of the row's content, to tell unchanged rows.
    pub row_hash: String,
    /// Canonical fields, JSON.
    pub fields: String,
    /// Typed attributes, JSON.
    pub attributes: String,
    /// The row as sent, JSON.
    pub raw: String,
}

/// One quarantined row.
#[derive(Debug, Clone, PartialEq)]
pub struct Quarantined {
    /// Line in the file.
    pub line: i64,
    /// The field at fault, if one.
    pub field: Option<String>,
    /// Why.
    pub reason: String,
    /// The row as sent (JSON array of fields, or the line).
    pub raw: String,
}

/// One contact event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The partner's record id.
    pub record_id: String,
    /// ISO date.
    pub date: String,
    /// Service.
    pub service: String,
    /// Contact type.
    pub contact_type: String,
    /// Practitioner.
    pub practitioner: String,
}

/// What an extract did to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ExtractCounts {
    /// Rows read from the file.
    pub rows: i64,
    /// New records stored.
    pub stored: i64,
    /// Rows identical to the current version.
    pub unchanged: i64,
    /// Rows that made a new version of a known record.
    pub updated: i64,
    /// Records absent from a full extract, marked withdrawn.
    pub withdrawn: i64,
    /// Rows quarantined.
    pub quarantined: i64,
}

/// Rows per multi-row INSERT (well under both backends' parameter limits).
/// (The SQL of multi-row inserts is built from placeholder numbers only,
/// never from data, so it is asserted safe.)
const BATCH: usize = 2000;

impl Tx {
    /// `rows` tuples of `cols` placeholders, each ending with `extra`:
    /// positional `?` on SQLite (whose driver looks numbered parameters up
    /// by name, at a cost that grows with their square), `$N` on PostgreSQL.
    fn tuples(&self, rows: usize, cols: usize, extra: &str) -> String {
        let mut sql = String::with_capacity(rows * cols * 5);
        let numbered = matches!(self.inner, TxInner::Postgres(_));
        for i in 0..rows {
            if i > 0 {
                sql.push(',');
            }
            sql.push('(');
            for c in 0..cols {
                if c > 0 {
                    sql.push(',');
                }
                if numbered {
                    sql.push_str(&format!("${}", i * cols + c + 1));
                } else {
                    sql.push('?');
                }
            }
            sql.push_str(extra);
            sql.push(')');
        }
        sql
    }

    /// Registers or updates a source and its manifest.
    pub async fn upsert_source(
        &mut self,
        id: &str,
        partner: &str,
        dataset: &str,
        manifest: &str,
    ) -> Result<(), Error> {
        let sql = "INSERT INTO sources (id, partner, dataset, manifest, updated_at) VALUES ($1, $2, $3, $4, $5)
                   ON CONFLICT (id) DO UPDATE SET partner = excluded.partner, dataset = excluded.dataset,
                   manifest = excluded.manifest, updated_at = excluded.updated_at";
        let at = now();
        dispatch_tx!(&mut self.inner, t => {
            sqlx::query(sql).bind(id).bind(partner).bind(dataset).bind(manifest).bind(&at).execute(&mut **t).await.map(|_| ())
        })?;
        Ok(())
    }

    /// Starts an extract's record; returns its id.
    pub async fn new_extract(
        &mut self,
        source: &str,
        file: &str,
        sha256: &str,
        kind: &str,
        by: &str,
    ) -> Result<i64, Error> {
        let sql = "INSERT INTO extracts (source_id, file_name, sha256, kind, rows_read, stored, unchanged, updated,
                   withdrawn, quarantined, loaded_at, loaded_by) VALUES ($1, $2, $3, $4, 0, 0, 0, 0, 0, 0, $5, $6) RETURNING id";
        let at = now();
        let (id,): (i64,) = dispatch_tx!(&mut self.inner, t => {
            sqlx::query_as(sql).bind(source).bind(file).bind(sha256).bind(kind).bind(&at).bind(by).fetch_one(&mut **t).await
        })?;
        Ok(id)
    }

    /// A source's current records: record id → (version, row hash, withdrawn).
    pub async fn current(
        &mut self,
        source: &str,
    ) -> Result<HashMap<String, (i64, String, bool)>, Error> {
        let sql = "SELECT record_id, current_version, row_hash, withdrawn FROM records WHERE source_id = $1";
        let rows: Vec<(String, i64, String, i64)> = dispatch_tx!(&mut self.inner, t => sqlx::query_as(sql).bind(source).fetch_all(&mut **t).await)?;
        Ok(rows
            .into_iter()
            .map(|(id, v, h, w)| (id, (v, h, w != 0)))
            .collect())
    }

    /// Stores new versions and points each record at its newest.
    pub async fn write_versions(
        &mut self,
        extract: i64,
        source: &str,
        rows: &[NewVersion],
    ) -> Result<(), Error> {
        if let TxInner::Postgres(t) = &mut self.inner {
            return copy_versions(t, extract, source, rows).await;
        }
        let at = now();
        for chunk in rows.chunks(BATCH) {
            let mut sql = String::from(
                "INSERT INTO record_versions (source_id, record_id, version, extract_id, fields, attributes, raw, created_at) VALUES ",
            );
            sql.push_str(&self.tuples(chunk.len(), 8, ""));
            dispatch_tx!(&mut self.inner, t => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
                for r in chunk {
                    q = q.bind(source).bind(&r.record_id).bind(r.version).bind(extract).bind(&r.fields).bind(&r.attributes).bind(&r.raw).bind(&at);
                }
                q.execute(&mut **t).await.map(|_| ())
            })?;
            let mut sql = String::from(
                "INSERT INTO records (source_id, record_id, current_version, row_hash, withdrawn) VALUES ",
            );
            sql.push_str(&self.tuples(chunk.len(), 4, ",0"));
            sql.push_str(
                " ON CONFLICT (source_id, record_id) DO UPDATE SET current_version = excluded.current_version,
                  row_hash = excluded.row_hash, withdrawn = 0",
            );
            dispatch_tx!(&mut self.inner, t => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
                for r in chunk {
                    q = q.bind(source).bind(&r.record_id).bind(r.version).bind(&r.row_hash);
                }
                q.execute(&mut **t).await.map(|_| ())
            })?;
        }
        Ok(())
    }

    /// Marks records withdrawn (kept, not deleted).
    pub async fn withdraw(&mut self, source: &str, ids: &[String]) -> Result<(), Error> {
        for id in ids {
            dispatch_tx!(&mut self.inner, t => {
                sqlx::query("UPDATE records SET withdrawn = 1 WHERE source_id = $1 AND record_id = $2")
                    .bind(source)
                    .bind(id)
                    .execute(&mut **t)
                    .await.map(|_| ())
            })?;
        }
        Ok(())
    }

    /// Puts rows in quarantine.
    pub async fn quarantine(
        &mut self,
        extract: i64,
        source: &str,
        file: &str,
        rows: &[Quarantined],
    ) -> Result<(), Error> {
        for chunk in rows.chunks(BATCH) {
            let mut sql = String::from(
                "INSERT INTO quarantine (extract_id, source_id, file_name, line, field, reason, raw) VALUES ",
            );
            sql.push_str(&self.tuples(chunk.len(), 7, ""));
            dispatch_tx!(&mut self.inner, t => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
                for r in chunk {
                    q = q.bind(extract).bind(source).bind(file).bind(r.line).bind(&r.field).bind(&r.reason).bind(&r.raw);
                }
                q.execute(&mut **t).await.map(|_| ())
            })?;
        }
        Ok(())
    }

    /// Stores contact events.
    pub async fn events(
        &mut self,
        extract: i64,
        source: &str,
        rows: &[Event],
    ) -> Result<(), Error> {
        if let TxInner::Postgres(t) = &mut self.inner {
            return copy_events(t, extract, source, rows).await;
        }
        for chunk in rows.chunks(BATCH) {
            let mut sql = String::from(
                "INSERT INTO contact_events (extract_id, source_id, record_id, event_date, service, contact_type, practitioner) VALUES ",
            );
            sql.push_str(&self.tuples(chunk.len(), 7, ""));
            dispatch_tx!(&mut self.inner, t => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
                for e in chunk {
                    q = q.bind(extract).bind(source).bind(&e.record_id).bind(&e.date).bind(&e.service).bind(&e.contact_type).bind(&e.practitioner);
                }
                q.execute(&mut **t).await.map(|_| ())
            })?;
        }
        Ok(())
    }

    /// Records what the extract did.
    pub async fn finish_extract(&mut self, extract: i64, c: &ExtractCounts) -> Result<(), Error> {
        let sql = "UPDATE extracts SET rows_read = $1, stored = $2, unchanged = $3, updated = $4, withdrawn = $5,
                   quarantined = $6 WHERE id = $7";
        dispatch_tx!(&mut self.inner, t => {
            sqlx::query(sql)
                .bind(c.rows).bind(c.stored).bind(c.unchanged).bind(c.updated).bind(c.withdrawn).bind(c.quarantined).bind(extract)
                .execute(&mut **t)
                .await.map(|_| ())
        })?;
        Ok(())
    }

    /// Whether this file (by hash) was loaded for this source before.
    pub async fn seen_file(&mut self, source: &str, sha256: &str) -> Result<bool, Error> {
        let sql = "SELECT COUNT(*) FROM extracts WHERE source_id = $1 AND sha256 = $2";
        let (n,): (i64,) = dispatch_tx!(&mut self.inner, t => sqlx::query_as(sql).bind(source).bind(sha256).fetch_one(&mut **t).await)?;
        Ok(n > 0)
    }

    /// Stores a linkage run: new persons, retirements, the links that
    /// changed (a link's `since` is when it last changed), ended links, the
    /// history and new review items (a pair already in the queue, whatever
    /// its status, is not queued again).
    pub async fn save_linkage(&mut self, l: &Linkage) -> Result<(), Error> {
        let at = now();
        let many = l.links.len() + l.created.len() + l.history.len() > BATCH;
        if let (TxInner::Postgres(t), true) = (&mut self.inner, many) {
            copy_linkage(t, l, &at).await?;
        } else {
            self.insert_linkage(l, &at).await?;
        }
        for id in &l.retired {
            dispatch_tx!(&mut self.inner, t => {
                sqlx::query("UPDATE persons SET retired_at = $1 WHERE id = $2").bind(&at).bind(id).execute(&mut **t).await.map(|_| ())
            })?;
        }
        for (s, r) in &l.unlinked {
            dispatch_tx!(&mut self.inner, t => {
                sqlx::query("DELETE FROM person_links WHERE source_id = $1 AND record_id = $2")
                    .bind(s).bind(r).execute(&mut **t).await.map(|_| ())
            })?;
        }
        for (sl, rl, sr, rr, p, explanation) in &l.review {
            dispatch_tx!(&mut self.inner, t => {
                sqlx::query(
                    "INSERT INTO review_queue (source_l, record_l, source_r, record_r, probability, explanation, status, created_at)
                     SELECT $1, $2, $3, $4, $5, $6, 'open', $7
                     WHERE NOT EXISTS (SELECT 1 FROM review_queue WHERE source_l = $1 AND record_l = $2 AND source_r = $3 AND record_r = $4)",
                )
                .bind(sl).bind(rl).bind(sr).bind(rr).bind(p).bind(explanation).bind(&at)
                .execute(&mut **t).await.map(|_| ())
            })?;
        }
        Ok(())
    }

    /// New persons, links and history by multi-row inserts (SQLite).
    async fn insert_linkage(&mut self, l: &Linkage, at: &str) -> Result<(), Error> {
        for chunk in l.created.chunks(BATCH) {
            let sql = format!(
                "INSERT INTO persons (id, created_at) VALUES {}",
                self.tuples(chunk.len(), 2, "")
            );
            dispatch_tx!(&mut self.inner, t => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
                for id in chunk {
                    q = q.bind(id).bind(at);
                }
                q.execute(&mut **t).await.map(|_| ())
            })?;
        }
        for chunk in l.links.chunks(BATCH) {
            let sql = format!(
                "INSERT INTO person_links (source_id, record_id, person_id, since, method, probability) VALUES {}
                 ON CONFLICT (source_id, record_id) DO UPDATE SET person_id = excluded.person_id, since = excluded.since,
                 method = excluded.method, probability = excluded.probability",
                self.tuples(chunk.len(), 6, "")
            );
            dispatch_tx!(&mut self.inner, t => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
                for l in chunk {
                    q = q.bind(&l.source).bind(&l.record_id).bind(&l.person).bind(at).bind(&l.method).bind(l.probability);
                }
                q.execute(&mut **t).await.map(|_| ())
            })?;
        }
        for chunk in l.history.chunks(BATCH) {
            let sql = format!(
                "INSERT INTO link_history (kind, person_id, others, at, detail) VALUES {}",
                self.tuples(chunk.len(), 5, "")
            );
            dispatch_tx!(&mut self.inner, t => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
                for (kind, person, others, detail) in chunk {
                    q = q.bind(kind).bind(person).bind(others).bind(at).bind(detail);
                }
                q.execute(&mut **t).await.map(|_| ())
            })?;
        }
        Ok(())
    }

    /// Appends `entry` to the audit log: its `seq`, `at` and `prev_hash` are
    /// set here from the chain's head, then `hash` computes its hash. The
    /// head is claimed first, so appends are serialised on both backends.
    pub async fn append_audit(
        &mut self,
        mut entry: AuditEntry,
        hash: impl Fn(&AuditEntry) -> String,
    ) -> Result<AuditEntry, Error> {
        let (seq, prev): (i64, String) = dispatch_tx!(&mut self.inner, t => {
            sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
                .fetch_one(&mut **t).await
        })?;
        entry.seq = seq;
        entry.at = now();
        entry.prev_hash = prev;
        entry.hash = hash(&entry);
        let e = &entry;
        dispatch_tx!(&mut self.inner, t => {
            sqlx::query(
                "INSERT INTO audit_log (seq, at, user_name, role, purpose, action, person_id, sources, fields, request_id,
                 break_glass, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(e.seq).bind(&e.at).bind(&e.user_name).bind(&e.role).bind(&e.purpose).bind(&e.action)
            .bind(&e.person_id).bind(&e.sources).bind(&e.fields).bind(&e.request_id).bind(&e.break_glass)
            .bind(&e.prev_hash).bind(&e.hash)
            .execute(&mut **t).await.map(|_| ())
        })?;
        dispatch_tx!(&mut self.inner, t => {
            sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(&e.hash).execute(&mut **t).await.map(|_| ())
        })?;
        Ok(entry)
    }

    /// Appends several audit entries with three statements in all (the
    /// head claimed once for all of them, one multi-row insert, the head's
    /// hash written once); each holds the hash of the one before, as with
    /// [`Tx::append_audit`].
    pub async fn append_audits(
        &mut self,
        entries: Vec<AuditEntry>,
        hash: impl Fn(&AuditEntry) -> String,
    ) -> Result<Vec<AuditEntry>, Error> {
        if entries.is_empty() {
            return Ok(entries);
        }
        let n = entries.len() as i64;
        let (last, mut prev): (i64, String) = dispatch_tx!(&mut self.inner, t => {
            sqlx::query_as("UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash")
                .bind(n).fetch_one(&mut **t).await
        })?;
        let at = now();
        let mut out = Vec::with_capacity(entries.len());
        for (i, mut e) in entries.into_iter().enumerate() {
            e.seq = last - n + 1 + i as i64;
            e.at = at.clone();
            e.prev_hash = std::mem::take(&mut prev);
            e.hash = hash(&e);
            prev = e.hash.clone();
            out.push(e);
        }
        for chunk in out.chunks(BATCH / 8) {
            let sql = format!(
                "INSERT INTO audit_log (seq, at, user_name, role, purpose, action, person_id, sources, fields, request_id,
                 break_glass, prev_hash, hash) VALUES {}",
                self.tuples(chunk.len(), 13, "")
            );
            dispatch_tx!(&mut self.inner, t => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
                for e in chunk {
                    q = q.bind(e.seq).bind(&e.at).bind(&e.user_name).bind(&e.role).bind(&e.purpose).bind(&e.action)
                        .bind(&e.person_id).bind(&e.sources).bind(&e.fields).bind(&e.request_id).bind(&e.break_glass)
                        .bind(&e.prev_hash).bind(&e.hash);
                }
                q.execute(&mut **t).await.map(|_| ())
            })?;
        }
        dispatch_tx!(&mut self.inner, t => {
            sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(&prev).execute(&mut **t).await.map(|_| ())
        })?;
        Ok(out)
    }

    /// Keeps a linkage run's model (JSON) for the real-time matcher.
    pub async fn save_model(&mut self, model: &str) -> Result<(), Error> {
        self.bump_generation().await?;
        let at = now();
        dispatch_tx!(&mut self.inner, t => {
            sqlx::query("INSERT INTO models (created_at, model) VALUES ($1, $2)").bind(&at).bind(model).execute(&mut **t).await.map(|_| ())
        })?;
        Ok(())
    }

    /// Whether a source is registered.
    pub async fn source_exists(&mut self, source: &str) -> Result<bool, Error> {
        let sql = "SELECT COUNT(*) FROM sources WHERE id = $1";
        let (n,): (i64,) = dispatch_tx!(&mut self.inner, t => sqlx::query_as(sql).bind(source).fetch_one(&mut **t).await)?;
        Ok(n > 0)
    }

    /// One record's state: (current version, row hash, withdrawn).
    pub async fn record_state(
        &mut self,
        source: &str,
        record_id: &str,
    ) -> Result<Option<(i64, String, bool)>, Error> {
        let sql = "SELECT current_version, row_hash, withdrawn FROM records WHERE source_id = $1 AND record_id = $2";
        let row: Option<(i64, String, i64)> = dispatch_tx!(&mut self.inner, t => {
            sqlx::query_as(sql).bind(source).bind(record_id).fetch_optional(&mut **t).await
        })?;
        Ok(row.map(|(v, h, w)| (v, h, w != 0)))
    }

    /// The person a record is linked to, if any.
    pub async fn person_of(
        &mut self,
        source: &str,
        record_id: &str,
    ) -> Result<Option<String>, Error> {
        let sql = "SELECT person_id FROM person_links WHERE source_id = $1 AND record_id = $2";
        let row: Option<(String,)> = dispatch_tx!(&mut self.inner, t => {
            sqlx::query_as(sql).bind(source).bind(record_id).fetch_optional(&mut **t).await
        })?;
        Ok(row.map(|r| r.0))
    }

    /// Steward decisions about one record: (the other record's source and
    /// id, whether they are the same person), oldest first.
    pub async fn decisions_about(
        &mut self,
        source: &str,
        record_id: &str,
    ) -> Result<Vec<(String, String, bool)>, Error> {
        let sql = "SELECT kind, source_l, record_l, source_r, record_r FROM steward_decisions
                   WHERE (source_l = $1 AND record_l = $2) OR (source_r = $1 AND record_r = $2) ORDER BY id";
        let rows: Vec<(String, String, String, String, String)> = dispatch_tx!(&mut self.inner, t => {
            sqlx::query_as(sql).bind(source).bind(record_id).fetch_all(&mut **t).await
        })?;
        Ok(rows
            .into_iter()
            .map(|(kind, sl, rl, sr, rr)| {
                let (s, r) = if sl == source && rl == record_id {
                    (sr, rr)
                } else {
                    (sl, rl)
                };
                (s, r, kind == "must_link")
            })
            .collect())
    }

    /// The largest number in a person id given so far (`P000000123` → 123;
    /// ids are zero-padded, so the text order is the number order).
    pub async fn last_person_number(&mut self) -> Result<u64, Error> {
        let row: (Option<String>,) = dispatch_tx!(&mut self.inner, t => {
            sqlx::query_as("SELECT MAX(id) FROM persons").fetch_one(&mut **t).await
        })?;
        Ok(row
            .0
            .and_then(|p| p.trim_start_matches('P').parse().ok())
            .unwrap_or(0))
    }

    /// Marks the store as changed by something other than the real-time
    /// matcher (see [`Store::generation`]).
    pub async fn bump_generation(&mut self) -> Result<(), Error> {
        dispatch_tx!(&mut self.inner, t => {
            sqlx::query("UPDATE hub_generation SET n = n + 1 WHERE id = 1").execute(&mut **t).await.map(|_| ())
        })?;
        Ok(())
    }

    /// Claims an open review item, marking it `accepted` or `rejected`:
    /// its pair (left source, left id, right source, right id), or `None`
    /// when no open item has that id. Of two stewards settling one item at
    /// once, one wins.
    pub async fn claim_review(
        &mut self,
        id: i64,
        accept: bool,
    ) -> Result<Option<(String, String, String, String)>, Error> {
        let status = if accept { "accepted" } else { "rejected" };
        let at = now();
        Ok(dispatch_tx!(&mut self.inner, t => {
            sqlx::query_as(
                "UPDATE review_queue SET status = $1, decided_at = $2 WHERE id = $3 AND status = 'open'
                 RETURNING source_l, record_l, source_r, record_r",
            )
            .bind(status).bind(&at).bind(id).fetch_optional(&mut **t).await
        })?)
    }

    /// Commits everything.
    pub async fn commit(self) -> Result<(), Error> {
        dispatch_tx!(self.inner, t => t.commit().await)?;
        Ok(())
    }
}
