//! Legitimate relationships: the reasons on record that let a user open a
//! resident. A search that returned the person, or a review item that
//! showed them, gives its user a reason for a while (`relationships`, with
//! an expiry); a team's caseload gives every member one until it is taken
//! off (`caseload`); a partner system has one with every person linked to
//! a record of its own sources. Which reasons a role may rely on is
//! `wherry-access`'s rule.

use std::collections::BTreeMap;

use crate::{Error, Store, Tx};

/// A reason on record for a user to open a person, until a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    /// The user.
    pub user: String,
    /// The person.
    pub person: String,
    /// Why: `search` or `review`.
    pub reason: String,
    /// Until when (milliseconds since the Unix epoch).
    pub until_ms: i64,
}

/// One person on a team's caseload.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Caseload {
    /// The person.
    pub person: String,
    /// Who put them on it.
    pub added_by: String,
    /// When (RFC 3339).
    pub added_at: String,
}

/// One user's reads in a window of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reads {
    /// Who.
    pub user_name: String,
    /// In which role.
    pub role: String,
    /// Distinct residents whose view they opened.
    pub persons: i64,
    /// Of those, opened before 07:00 or from 19:00 (UTC).
    pub out_of_hours: i64,
}

impl Store {
    /// Gives `user` a reason to open each of `persons` until `until_ms`
    /// (milliseconds since the Unix epoch), saying why (`search`,
    /// `review`).
    pub async fn relate(
        &self,
        user: &str,
        persons: &[String],
        reason: &str,
        until_ms: i64,
    ) -> Result<(), Error> {
        let all: Vec<Relation> = persons
            .iter()
            .map(|p| Relation {
                user: user.to_string(),
                person: p.clone(),
                reason: reason.to_string(),
                until_ms,
            })
            .collect();
        let mut tx = self.begin().await?;
        tx.relate(&all).await?;
        tx.commit().await
    }

    /// Why `user` may open `person` at `now_ms`, if they have a reason on
    /// record: `search` or `review` (unexpired), or `caseload` (their
    /// team's).
    pub async fn relationship(
        &self,
        user: &str,
        person: &str,
        now_ms: i64,
    ) -> Result<Option<String>, Error> {
        let sql = "SELECT reason FROM relationships WHERE user_name = $1 AND person_id = $2 AND until_ms > $3
                   UNION ALL
                   SELECT 'caseload' FROM caseload c JOIN users u ON c.team = COALESCE(u.team, u.name)
                   WHERE u.name = $1 AND c.person_id = $2
                   LIMIT 1";
        let row: Option<(String,)> = dispatch!(&self.pool, p => {
            sqlx::query_as(sql).bind(user).bind(person).bind(now_ms).fetch_optional(p).await
        })?;
        Ok(row.map(|r| r.0))
    }

    /// The sources of the records linked to `person`.
    pub async fn person_sources(&self, person: &str) -> Result<Vec<String>, Error> {
        let sql = "SELECT DISTINCT source_id FROM person_links WHERE person_id = $1";
        let rows: Vec<(String,)> =
            dispatch!(&self.pool, p => sqlx::query_as(sql).bind(person).fetch_all(p).await)?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// The team `user` belongs to (their own name when none is set).
    pub async fn team_of(&self, user: &str) -> Result<String, Error> {
        let sql = "SELECT COALESCE(team, name) FROM users WHERE name = $1";
        let row: Option<(String,)> =
            dispatch!(&self.pool, p => sqlx::query_as(sql).bind(user).fetch_optional(p).await)?;
        Ok(row.map_or_else(|| user.to_string(), |r| r.0))
    }

    /// Puts `person` on `team`'s caseload; false when already on it.
    pub async fn add_to_caseload(
        &self,
        team: &str,
        person: &str,
        by: &str,
        at: &str,
    ) -> Result<bool, Error> {
        let sql =
            "INSERT INTO caseload (team, person_id, added_by, added_at) VALUES ($1, $2, $3, $4)
                   ON CONFLICT (team, person_id) DO NOTHING";
        let n = dispatch!(&self.pool, p => {
            sqlx::query(sql).bind(team).bind(person).bind(by).bind(at).execute(p).await.map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// Takes `person` off `team`'s caseload; false when not on it.
    pub async fn remove_from_caseload(&self, team: &str, person: &str) -> Result<bool, Error> {
        let sql = "DELETE FROM caseload WHERE team = $1 AND person_id = $2";
        let n = dispatch!(&self.pool, p => {
            sqlx::query(sql).bind(team).bind(person).execute(p).await.map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// `team`'s caseload, newest first.
    pub async fn caseload(&self, team: &str) -> Result<Vec<Caseload>, Error> {
        let sql = "SELECT person_id, added_by, added_at FROM caseload WHERE team = $1 ORDER BY added_at DESC, person_id";
        let rows: Vec<(String, String, String)> =
            dispatch!(&self.pool, p => sqlx::query_as(sql).bind(team).fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .map(|(person, added_by, added_at)| Caseload {
                person,
                added_by,
                added_at,
            })
            .collect())
    }

    /// Each user's resident views in the audit log from `since` (RFC 3339):
    /// distinct residents, and those opened out of hours (UTC).
    pub async fn reads_since(&self, since: &str) -> Result<Vec<Reads>, Error> {
        let sql = "SELECT user_name, role, COUNT(DISTINCT person_id),
                          COUNT(DISTINCT CASE WHEN substr(at, 12, 2) < '07' OR substr(at, 12, 2) >= '19'
                                              THEN person_id END)
                   FROM audit_log WHERE action = 'view' AND at >= $1
                   GROUP BY user_name, role ORDER BY user_name";
        let rows: Vec<(String, String, i64, i64)> =
            dispatch!(&self.pool, p => sqlx::query_as(sql).bind(since).fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .map(|(user_name, role, persons, out_of_hours)| Reads {
                user_name,
                role,
                persons,
                out_of_hours,
            })
            .collect())
    }
}

impl Tx {
    /// Records reasons on record (the latest for a user and person wins),
    /// with one statement per few hundred.
    pub async fn relate(&mut self, all: &[Relation]) -> Result<(), Error> {
        let mut latest: BTreeMap<(&str, &str), &Relation> = BTreeMap::new();
        for r in all {
            let key = (r.user.as_str(), r.person.as_str());
            if latest.get(&key).is_none_or(|o| o.until_ms <= r.until_ms) {
                latest.insert(key, r);
            }
        }
        let rows: Vec<&Relation> = latest.into_values().collect();
        for chunk in rows.chunks(crate::BATCH / 4) {
            let sql = format!(
                "INSERT INTO relationships (user_name, person_id, reason, until_ms) VALUES {}
                 ON CONFLICT (user_name, person_id) DO UPDATE SET reason = excluded.reason, until_ms = excluded.until_ms",
                self.tuples(chunk.len(), 4, "")
            );
            dispatch_tx!(&mut self.inner, t => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
                for r in chunk {
                    q = q.bind(&r.user).bind(&r.person).bind(&r.reason).bind(r.until_ms);
                }
                q.execute(&mut **t).await.map(|_| ())
            })?;
        }
        Ok(())
    }
}
