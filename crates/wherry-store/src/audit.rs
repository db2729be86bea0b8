//! The audit log's rows: appended in the transaction of the disclosure they
//! record, chained by hash (the hashing and verifying are
//! `wherry_access::audit`'s), with the chain's head kept apart.
//!
//! Invariant: entries are only ever appended; nothing here updates or
//! deletes one.

use serde::{Deserialize, Serialize};
use wherry_core::clock::now;

use crate::{BATCH, Error, Store, Tx};

const COLUMNS: &str =
    "seq, at, user_name, role, purpose, action, person_id, sources, fields, request_id,
                   break_glass, prev_hash, hash, mac";

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
    /// The HMAC of the hash under the audit key kept outside the database
    /// (empty when written without one).
    #[serde(default)]
    pub mac: String,
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
            mac: r.13,
        }
    }
}

/// The chain's head as last written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    /// The last entry's seq (0 when the log is empty).
    pub seq: i64,
    /// The last entry's hash (empty when the log is empty).
    pub hash: String,
}

/// Which audit entries to list; an empty filter is not applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// The user's name contains this.
    pub user: String,
    /// The resident.
    pub person: String,
    /// The purpose.
    pub purpose: String,
    /// From this day (ISO date, inclusive).
    pub from: String,
    /// To this day (ISO date, inclusive).
    pub to: String,
}

impl Store {
    /// The audit log after `seq`, oldest first.
    pub async fn audit_log(&self, after: i64) -> Result<Vec<AuditEntry>, Error> {
        let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq");
        let rows: Vec<AuditRow> = dispatch!(&self.pool, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(after).fetch_all(p).await
        })?;
        Ok(rows.into_iter().map(AuditEntry::from).collect())
    }

    /// The audit log's head as last written.
    pub async fn audit_head(&self) -> Result<AuditHead, Error> {
        let sql = "SELECT seq, hash FROM audit_head WHERE id = 1";
        let (seq, hash): (i64, String) =
            dispatch!(&self.pool, p => sqlx::query_as(sql).fetch_one(p).await)?;
        Ok(AuditHead { seq, hash })
    }

    /// The audit entries about a person, oldest first ("who looked at my
    /// record").
    pub async fn audit_about(&self, person: &str) -> Result<Vec<AuditEntry>, Error> {
        let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE person_id = $1 ORDER BY seq");
        let rows: Vec<AuditRow> = dispatch!(&self.pool, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(person).fetch_all(p).await
        })?;
        Ok(rows.into_iter().map(AuditEntry::from).collect())
    }

    /// The newest `limit` audit entries, newest first, matching every
    /// filter given.
    pub async fn audit_search(
        &self,
        filter: &AuditFilter,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, Error> {
        // Only the filters given go into the statement, so a lookup by
        // resident uses its index; the values are always bound.
        let user_like = format!("%{}%", filter.user);
        let to_end = format!("{}T99", filter.to);
        let filters: [(&str, &str, &str); 5] = [
            ("user_name LIKE ", user_like.as_str(), &filter.user),
            ("person_id = ", &filter.person, &filter.person),
            ("purpose = ", &filter.purpose, &filter.purpose),
            ("at >= ", &filter.from, &filter.from),
            ("at < ", to_end.as_str(), &filter.to),
        ];
        let mut sql = format!("SELECT {COLUMNS} FROM audit_log");
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
}

impl Tx {
    /// Appends `entry` to the audit log: its `seq`, `at` and `prev_hash` are
    /// set here from the chain's head, then `seal` sets its hash and MAC.
    /// The head is claimed first, so appends are serialised on both
    /// backends.
    pub async fn append_audit(
        &mut self,
        mut entry: AuditEntry,
        seal: impl Fn(&mut AuditEntry),
    ) -> Result<AuditEntry, Error> {
        let (seq, prev): (i64, String) = dispatch_tx!(&mut self.inner, t => {
            sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
                .fetch_one(&mut **t).await
        })?;
        entry.seq = seq;
        entry.at = now();
        entry.prev_hash = prev;
        seal(&mut entry);
        let e = &entry;
        dispatch_tx!(&mut self.inner, t => {
            sqlx::query(
                "INSERT INTO audit_log (seq, at, user_name, role, purpose, action, person_id, sources, fields, request_id,
                 break_glass, prev_hash, hash, mac) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            )
            .bind(e.seq).bind(&e.at).bind(&e.user_name).bind(&e.role).bind(&e.purpose).bind(&e.action)
            .bind(&e.person_id).bind(&e.sources).bind(&e.fields).bind(&e.request_id).bind(&e.break_glass)
            .bind(&e.prev_hash).bind(&e.hash).bind(&e.mac)
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
        seal: impl Fn(&mut AuditEntry),
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
            seal(&mut e);
            prev = e.hash.clone();
            out.push(e);
        }
        for chunk in out.chunks(BATCH / 8) {
            let sql = format!(
                "INSERT INTO audit_log (seq, at, user_name, role, purpose, action, person_id, sources, fields, request_id,
                 break_glass, prev_hash, hash, mac) VALUES {}",
                self.tuples(chunk.len(), 14, "")
            );
            dispatch_tx!(&mut self.inner, t => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
                for e in chunk {
                    q = q.bind(e.seq).bind(&e.at).bind(&e.user_name).bind(&e.role).bind(&e.purpose).bind(&e.action)
                        .bind(&e.person_id).bind(&e.sources).bind(&e.fields).bind(&e.request_id).bind(&e.break_glass)
                        .bind(&e.prev_hash).bind(&e.hash).bind(&e.mac);
                }
                q.execute(&mut **t).await.map(|_| ())
            })?;
        }
        dispatch_tx!(&mut self.inner, t => {
            sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(&prev).execute(&mut **t).await.map(|_| ())
        })?;
        Ok(out)
    }
}
