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

impl Store {
    /// Quarantined rows of a source, in file and line order.
    pub async fn quarantined(&self, source: &str) -> Result<Vec<QuarantinedRow>, Error> {
        let sql = "SELECT file_name, line, field, reason FROM quarantine WHERE source_id = $1 ORDER BY file_name, line";
        let rows: Vec<(String, i64, Option<String>, String)> =
            dispatch!(&self.pool, p => sqlx::query_as(sql).bind(source).fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .map(|(file, line, field, reason)| QuarantinedRow {
                file,
                line,
                field,
                reason,
            })
            .collect())
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
