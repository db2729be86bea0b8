//! Extracts: every file (or push) loaded for a source, with its hash (so
//! the same file twice is a no-op) and what it did; and the quarantine,
//! where each row that failed validation waits with its line and reason.

use serde::Serialize;
use wherry_core::clock::now;

use crate::{BATCH, Error, Store, Tx};

/// A quarantined row, as listed (the raw row is not read back here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantinedRow {
    /// The file it came from.
    pub file: String,
    /// Its line.
    pub line: i64,
    /// The field at fault, if one.
    pub field: Option<String>,
    /// Why.
    pub reason: String,
}

/// One extract (file or push batch) as loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExtractRow {
    /// Its number.
    pub id: i64,
    /// The source.
    pub source: String,
    /// The file's name.
    pub file: String,
    /// `full`, `delta` or `events`.
    pub kind: String,
    /// Rows read.
    pub rows: i64,
    /// Rows stored as new records or versions.
    pub stored: i64,
    /// Rows quarantined.
    pub quarantined: i64,
    /// When it was loaded.
    pub loaded_at: String,
    /// Who loaded it.
    pub loaded_by: String,
}

/// Per source, what the data team watches: records held, rows
/// quarantined, records linked with another source's, and the open review
/// items that involve the source.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct SourceQuality {
    /// Current (not withdrawn) records.
    pub records: i64,
    /// Rows quarantined, all extracts.
    pub quarantined: i64,
    /// Records whose person holds a record of another source too.
    pub matched: i64,
}

const EXTRACT_COLUMNS: &str = "SELECT id, source_id, file_name, kind, rows_read, stored, quarantined, loaded_at, loaded_by FROM extracts";

type ExtractTuple = (i64, String, String, String, i64, i64, i64, String, String);

fn extract_row(r: ExtractTuple) -> ExtractRow {
    ExtractRow {
        id: r.0,
        source: r.1,
        file: r.2,
        kind: r.3,
        rows: r.4,
        stored: r.5,
        quarantined: r.6,
        loaded_at: r.7,
        loaded_by: r.8,
    }
}

/// `file_name, line, field, reason` of the quarantine table.
type QuarantineTuple = (String, i64, Option<String>, String);

fn quarantined_row((file, line, field, reason): QuarantineTuple) -> QuarantinedRow {
    QuarantinedRow {
        file,
        line,
        field,
        reason,
    }
}

impl Store {
    /// Every extract, newest first.
    pub async fn extracts(&self) -> Result<Vec<ExtractRow>, Error> {
        let sql = format!("{EXTRACT_COLUMNS} ORDER BY id DESC");
        let rows: Vec<ExtractTuple> = dispatch!(&self.pool, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(p).await
        })?;
        Ok(rows.into_iter().map(extract_row).collect())
    }

    /// One extract.
    pub async fn extract(&self, id: i64) -> Result<Option<ExtractRow>, Error> {
        let sql = format!("{EXTRACT_COLUMNS} WHERE id = $1");
        let row: Option<ExtractTuple> = dispatch!(&self.pool, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await
        })?;
        Ok(row.map(extract_row))
    }

    /// The rows one extract quarantined, in line order.
    pub async fn quarantined_in(&self, extract: i64) -> Result<Vec<QuarantinedRow>, Error> {
        let sql = "SELECT file_name, line, field, reason FROM quarantine WHERE extract_id = $1 ORDER BY line, id";
        let rows: Vec<QuarantineTuple> =
            dispatch!(&self.pool, p => sqlx::query_as(sql).bind(extract).fetch_all(p).await)?;
        Ok(rows.into_iter().map(quarantined_row).collect())
    }

    /// [`SourceQuality`] for every source that holds or quarantined
    /// anything, by source id.
    pub async fn source_quality(
        &self,
    ) -> Result<std::collections::BTreeMap<String, SourceQuality>, Error> {
        let mut out: std::collections::BTreeMap<String, SourceQuality> = Default::default();
        let held = "SELECT source_id, COUNT(*) FROM records WHERE withdrawn = 0 GROUP BY source_id";
        let rows: Vec<(String, i64)> =
            dispatch!(&self.pool, p => sqlx::query_as(held).fetch_all(p).await)?;
        for (s, n) in rows {
            out.entry(s).or_default().records = n;
        }
        let bad = "SELECT source_id, COUNT(*) FROM quarantine GROUP BY source_id";
        let rows: Vec<(String, i64)> =
            dispatch!(&self.pool, p => sqlx::query_as(bad).fetch_all(p).await)?;
        for (s, n) in rows {
            out.entry(s).or_default().quarantined = n;
        }
        let matched = "SELECT l.source_id, COUNT(*) FROM person_links l
                       JOIN records r ON r.source_id = l.source_id AND r.record_id = l.record_id AND r.withdrawn = 0
                       WHERE EXISTS (SELECT 1 FROM person_links o WHERE o.person_id = l.person_id AND o.source_id <> l.source_id)
                       GROUP BY l.source_id";
        let rows: Vec<(String, i64)> =
            dispatch!(&self.pool, p => sqlx::query_as(matched).fetch_all(p).await)?;
        for (s, n) in rows {
            out.entry(s).or_default().matched = n;
        }
        Ok(out)
    }

    /// The current fields (JSON) of every record linked to a person who
    /// has records of more than one source: (person, source, fields), by
    /// person. For the disagreement rate on the data-quality page.
    pub async fn shared_persons_fields(&self) -> Result<Vec<(String, String, String)>, Error> {
        let sql = "SELECT l.person_id, l.source_id, v.fields FROM person_links l
                   JOIN records r ON r.source_id = l.source_id AND r.record_id = l.record_id AND r.withdrawn = 0
                   JOIN record_versions v ON v.source_id = r.source_id AND v.record_id = r.record_id AND v.version = r.current_version
                   WHERE EXISTS (SELECT 1 FROM person_links o WHERE o.person_id = l.person_id AND o.source_id <> l.source_id)
                   ORDER BY l.person_id";
        Ok(dispatch!(&self.pool, p => sqlx::query_as(sql).fetch_all(p).await)?)
    }

    /// Quarantined rows of a source, in file and line order.
    pub async fn quarantined(&self, source: &str) -> Result<Vec<QuarantinedRow>, Error> {
        let sql = "SELECT file_name, line, field, reason FROM quarantine WHERE source_id = $1 ORDER BY file_name, line";
        let rows: Vec<QuarantineTuple> =
            dispatch!(&self.pool, p => sqlx::query_as(sql).bind(source).fetch_all(p).await)?;
        Ok(rows.into_iter().map(quarantined_row).collect())
    }
}

impl Tx {
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
