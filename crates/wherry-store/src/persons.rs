//! One person at a time: what the resident view, a subject access request
//! and erasure read and remove. (The disclosure rules are
//! `wherry_access`'s; these read what is held, unfiltered, for it.)

use serde::Serialize;

use crate::{Error, Store, Tx};

/// One of a person's current records, as the resident view reads it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkedRecord {
    /// Its source.
    pub source: String,
    /// Its id within the source.
    pub record_id: String,
    /// Its current version.
    pub version: i64,
    /// Canonical fields, JSON.
    pub fields: String,
    /// Typed attributes, JSON.
    pub attributes: String,
    /// When the current version was stored (UTC, ISO 8601).
    pub updated_at: String,
    /// How it was linked.
    pub method: crate::LinkMethod,
    /// The match probability that linked it, where one did.
    pub probability: Option<f64>,
}

/// One stored version of a record (for a subject access request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredVersion {
    /// The record's source.
    pub source: String,
    /// The record's id.
    pub record_id: String,
    /// The version number, from 1.
    pub version: i64,
    /// Canonical fields, JSON.
    pub fields: String,
    /// Typed attributes, JSON.
    pub attributes: String,
    /// The row as the partner sent it, JSON.
    pub raw: String,
    /// When it was stored.
    pub created_at: String,
}

type LinkedRow = (
    String,
    String,
    i64,
    String,
    String,
    String,
    String,
    Option<f64>,
);

impl Store {
    /// A person's current (not withdrawn) records, by source and id.
    pub async fn linked_records(&self, person: &str) -> Result<Vec<LinkedRecord>, Error> {
        let sql = "SELECT l.source_id AS source, l.record_id, r.current_version AS version, v.fields, v.attributes,
                          v.created_at AS updated_at, l.method, l.probability
                   FROM person_links l
                   JOIN records r ON r.source_id = l.source_id AND r.record_id = l.record_id
                   JOIN record_versions v ON v.source_id = r.source_id AND v.record_id = r.record_id
                        AND v.version = r.current_version
                   WHERE l.person_id = $1 AND r.withdrawn = 0 ORDER BY l.source_id, l.record_id";
        let rows: Vec<LinkedRow> =
            dispatch!(&self.pool, p => sqlx::query_as(sql).bind(person).fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .map(|r| LinkedRecord {
                source: r.0,
                record_id: r.1,
                version: r.2,
                fields: r.3,
                attributes: r.4,
                updated_at: r.5,
                method: crate::LinkMethod::parse(&r.6),
                probability: r.7,
            })
            .collect())
    }

    /// Every stored version of every record linked to a person (withdrawn
    /// ones too), by source, id and version.
    pub async fn person_versions(&self, person: &str) -> Result<Vec<StoredVersion>, Error> {
        let sql = "SELECT v.source_id AS source, v.record_id, v.version, v.fields, v.attributes, v.raw, v.created_at
                   FROM person_links l
                   JOIN record_versions v ON v.source_id = l.source_id AND v.record_id = l.record_id
                   WHERE l.person_id = $1 ORDER BY v.source_id, v.record_id, v.version";
        let rows: Vec<(String, String, i64, String, String, String, String)> =
            dispatch!(&self.pool, p => sqlx::query_as(sql).bind(person).fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .map(|r| StoredVersion {
                source: r.0,
                record_id: r.1,
                version: r.2,
                fields: r.3,
                attributes: r.4,
                raw: r.5,
                created_at: r.6,
            })
            .collect())
    }

    /// Withdrawn records of `source` whose newest version and newest contact
    /// event are both older than `before` (ISO date or time): what the
    /// source's retention period has run out on.
    pub async fn expired_records(&self, source: &str, before: &str) -> Result<Vec<String>, Error> {
        let sql = "SELECT r.record_id FROM records r
                   JOIN record_versions v ON v.source_id = r.source_id AND v.record_id = r.record_id
                        AND v.version = r.current_version
                   WHERE r.source_id = $1 AND r.withdrawn = 1 AND v.created_at < $2
                     AND NOT EXISTS (SELECT 1 FROM contact_events e WHERE e.source_id = r.source_id
                                     AND e.record_id = r.record_id AND e.event_date >= $2)
                   ORDER BY r.record_id";
        let rows: Vec<(String,)> = dispatch!(&self.pool, p => {
            sqlx::query_as(sql).bind(source).bind(before).fetch_all(p).await
        })?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }
}

impl Tx {
    /// Removes records of `source` for good: every version, the pointer, the
    /// link, contact events, steward decisions and review items naming them.
    pub async fn erase_records(&mut self, source: &str, ids: &[String]) -> Result<(), Error> {
        const STATEMENTS: &[&str] = &[
            "DELETE FROM record_versions WHERE source_id = $1 AND record_id = $2",
            "DELETE FROM records WHERE source_id = $1 AND record_id = $2",
            "DELETE FROM person_links WHERE source_id = $1 AND record_id = $2",
            "DELETE FROM contact_events WHERE source_id = $1 AND record_id = $2",
            "DELETE FROM steward_decisions WHERE (source_l = $1 AND record_l = $2) OR (source_r = $1 AND record_r = $2)",
            "DELETE FROM review_queue WHERE (source_l = $1 AND record_l = $2) OR (source_r = $1 AND record_r = $2)",
        ];
        self.bump_generation().await?;
        for id in ids {
            for sql in STATEMENTS {
                dispatch_tx!(&mut self.inner, t => {
                    sqlx::query(sqlx::AssertSqlSafe(*sql)).bind(source).bind(id).execute(&mut **t).await.map(|_| ())
                })?;
            }
        }
        Ok(())
    }
}
