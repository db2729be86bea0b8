//! One person at a time: what the resident view, a subject access request,
//! a steward's manual link and erasure read and write.

use serde::Serialize;

use crate::{AuditEntry, AuditRow, Error, Pool, Store, Tx, TxInner, now};

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
    /// How it was linked: `automatic` or `steward`.
    pub method: String,
    /// The match probability that linked it, where one did.
    pub probability: Option<f64>,
}

/// One contact event of one of a person's records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonEvent {
    /// The record's source.
    pub source: String,
    /// The record's id.
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
    /// Whether a person with this id exists (retired or not).
    pub async fn person_exists(&self, person: &str) -> Result<bool, Error> {
        let sql = "SELECT id FROM persons WHERE id = $1";
        let row: Option<(String,)> =
            dispatch!(&self.pool, p => sqlx::query_as(sql).bind(person).fetch_optional(p).await)?;
        Ok(row.is_some())
    }

    /// One record's current fields and attributes (JSON), if it is held.
    pub async fn current_record(
        &self,
        source: &str,
        record_id: &str,
    ) -> Result<Option<(String, String)>, Error> {
        let sql = "SELECT v.fields, v.attributes FROM records r
                   JOIN record_versions v ON v.source_id = r.source_id AND v.record_id = r.record_id
                        AND v.version = r.current_version
                   WHERE r.source_id = $1 AND r.record_id = $2";
        Ok(dispatch!(&self.pool, p => {
            sqlx::query_as(sql).bind(source).bind(record_id).fetch_optional(p).await
        })?)
    }

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
                method: r.6,
                probability: r.7,
            })
            .collect())
    }

    /// The contact events of every record linked to a person, newest first.
    pub async fn person_events(&self, person: &str) -> Result<Vec<PersonEvent>, Error> {
        let sql = "SELECT e.source_id AS source, e.record_id, e.event_date AS date, e.service, e.contact_type,
                          e.practitioner
                   FROM person_links l
                   JOIN contact_events e ON e.source_id = l.source_id AND e.record_id = l.record_id
                   WHERE l.person_id = $1
                   ORDER BY e.event_date DESC, e.source_id, e.record_id, e.id";
        let rows: Vec<(String, String, String, String, String, String)> =
            dispatch!(&self.pool, p => sqlx::query_as(sql).bind(person).fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .map(|r| PersonEvent {
                source: r.0,
                record_id: r.1,
                date: r.2,
                service: r.3,
                contact_type: r.4,
                practitioner: r.5,
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

    /// The audit entries about a person, oldest first ("who looked at my
    /// record").
    pub async fn audit_about(&self, person: &str) -> Result<Vec<AuditEntry>, Error> {
        let sql = "SELECT seq, at, user_name, role, purpose, action, person_id, sources, fields, request_id,
                   break_glass, prev_hash, hash FROM audit_log WHERE person_id = $1 ORDER BY seq";
        let rows: Vec<AuditRow> =
            dispatch!(&self.pool, p => sqlx::query_as(sql).bind(person).fetch_all(p).await)?;
        Ok(rows.into_iter().map(AuditEntry::from).collect())
    }

    /// The newest `limit` audit entries, newest first, matching every filter
    /// given: the user's name containing `user`, the resident, the purpose,
    /// and the day (`from` and `to`, ISO dates, inclusive).
    pub async fn audit_search(
        &self,
        user: &str,
        person: &str,
        purpose: &str,
        from: &str,
        to: &str,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, Error> {
        // Only the filters given go into the statement, so a lookup by
        // resident uses its index; the values are always bound.
        let user_like = format!("%{user}%");
        let to_end = format!("{to}T99");
        let filters: [(&str, &str, &str); 5] = [
            ("user_name LIKE ", user_like.as_str(), user),
            ("person_id = ", person, person),
            ("purpose = ", purpose, purpose),
            ("at >= ", from, from),
            ("at < ", to_end.as_str(), to),
        ];
        let mut sql = String::from(
            "SELECT seq, at, user_name, role, purpose, action, person_id, sources, fields, request_id,
             break_glass, prev_hash, hash FROM audit_log",
        );
        let mut values = Vec::new();
        for (clause, value, given) in filters {
            if given.is_empty() {
                continue;
            }
            sql.push_str(if values.is_empty() {
                " WHERE "
            } else {
                " AND "
            });
            values.push(value);
            sql.push_str(&format!("{clause}${}", values.len()));
        }
        sql.push_str(&format!(" ORDER BY seq DESC LIMIT ${}", values.len() + 1));
        let rows: Vec<AuditRow> = dispatch!(&self.pool, p => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
            for v in &values {
                q = q.bind(*v);
            }
            q.bind(limit).fetch_all(p).await
        })?;
        Ok(rows.into_iter().map(AuditEntry::from).collect())
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
    /// Records a steward decision (`must_link` or `cannot_link`).
    pub async fn decide(
        &mut self,
        kind: &str,
        left: (&str, &str),
        right: (&str, &str),
        by: &str,
        reason: &str,
    ) -> Result<(), Error> {
        let sql = "INSERT INTO steward_decisions (kind, source_l, record_l, source_r, record_r, decided_by, reason, at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        let at = now();
        dispatch_tx!(&mut self.inner, t => {
            sqlx::query(sql).bind(kind).bind(left.0).bind(left.1).bind(right.0).bind(right.1).bind(by).bind(reason).bind(&at)
                .execute(&mut **t).await.map(|_| ())
        })?;
        Ok(())
    }

    /// The records linked to a person: (source, record id), by source and id.
    pub async fn records_of(&mut self, person: &str) -> Result<Vec<(String, String)>, Error> {
        let sql = "SELECT source_id, record_id FROM person_links WHERE person_id = $1 ORDER BY source_id, record_id";
        Ok(dispatch_tx!(&mut self.inner, t => {
            sqlx::query_as(sql).bind(person).fetch_all(&mut **t).await
        })?)
    }

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
