//! The web UI's sessions, kept in the store so that a restart signs no one
//! out and several servers behind a balancer share them. A session is
//! found by the SHA-256 of its id (the cookie's value is never stored);
//! the rules for when one ends (idle time, absolute lifetime, the user
//! disabled or their role changed) are the server's.

use crate::{Error, Store};

/// A session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The signed-in user.
    pub user_name: String,
    /// Their role when they signed in.
    pub role: String,
    /// The purpose they chose, once chosen.
    pub purpose: Option<String>,
    /// The session's CSRF token.
    pub csrf: String,
    /// When it was made (milliseconds since the Unix epoch).
    pub created_ms: i64,
    /// When it was last used (milliseconds; written at most once a minute).
    pub seen_ms: i64,
}

/// A stored session and its user's standing now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOf {
    /// The session.
    pub session: Session,
    /// The user's role now, when they are a user of this hub (an identity
    /// provider's users are not).
    pub user_role: Option<String>,
    /// Whether that user has been disabled.
    pub user_disabled: bool,
}

type Row = (
    String,
    String,
    Option<String>,
    String,
    i64,
    i64,
    Option<String>,
    Option<String>,
);

impl Store {
    /// Stores a new session under the SHA-256 of its id.
    pub async fn create_session(&self, id_sha256: &str, s: &Session) -> Result<(), Error> {
        let sql =
            "INSERT INTO sessions (id_sha256, user_name, role, purpose, csrf, created_ms, seen_ms)
                   VALUES ($1, $2, $3, $4, $5, $6, $7)";
        dispatch!(&self.pool, p => {
            sqlx::query(sql).bind(id_sha256).bind(&s.user_name).bind(&s.role).bind(&s.purpose)
                .bind(&s.csrf).bind(s.created_ms).bind(s.seen_ms).execute(p).await.map(|_| ())
        })?;
        Ok(())
    }

    /// The session with this id hash, and its user's standing.
    pub async fn session(&self, id_sha256: &str) -> Result<Option<SessionOf>, Error> {
        let sql = "SELECT s.user_name, s.role, s.purpose, s.csrf, s.created_ms, s.seen_ms,
                          u.role, u.disabled_at
                   FROM sessions s LEFT JOIN users u ON u.name = s.user_name
                   WHERE s.id_sha256 = $1";
        let row: Option<Row> = dispatch!(&self.pool, p => {
            sqlx::query_as(sql).bind(id_sha256).fetch_optional(p).await
        })?;
        Ok(row.map(
            |(user_name, role, purpose, csrf, created_ms, seen_ms, user_role, disabled)| {
                SessionOf {
                    user_disabled: user_role.is_some() && disabled.is_some(),
                    user_role,
                    session: Session {
                        user_name,
                        role,
                        purpose,
                        csrf,
                        created_ms,
                        seen_ms,
                    },
                }
            },
        ))
    }

    /// Records a session's use at `seen_ms`.
    pub async fn touch_session(&self, id_sha256: &str, seen_ms: i64) -> Result<(), Error> {
        let sql = "UPDATE sessions SET seen_ms = $1 WHERE id_sha256 = $2";
        dispatch!(&self.pool, p => sqlx::query(sql).bind(seen_ms).bind(id_sha256).execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// Sets the purpose a session acts for.
    pub async fn set_session_purpose(&self, id_sha256: &str, purpose: &str) -> Result<(), Error> {
        let sql = "UPDATE sessions SET purpose = $1 WHERE id_sha256 = $2";
        dispatch!(&self.pool, p => sqlx::query(sql).bind(purpose).bind(id_sha256).execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// Ends one session.
    pub async fn end_session(&self, id_sha256: &str) -> Result<(), Error> {
        let sql = "DELETE FROM sessions WHERE id_sha256 = $1";
        dispatch!(&self.pool, p => sqlx::query(sql).bind(id_sha256).execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// How many sessions are stored.
    pub async fn session_count(&self) -> Result<i64, Error> {
        let sql = "SELECT COUNT(*) FROM sessions";
        let (n,): (i64,) = dispatch!(&self.pool, p => sqlx::query_as(sql).fetch_one(p).await)?;
        Ok(n)
    }

    /// Ends sessions last used before `idle_before_ms` or made before
    /// `created_before_ms`; how many.
    pub async fn end_expired_sessions(
        &self,
        idle_before_ms: i64,
        created_before_ms: i64,
    ) -> Result<u64, Error> {
        let sql = "DELETE FROM sessions WHERE seen_ms < $1 OR created_ms < $2";
        let n = dispatch!(&self.pool, p => {
            sqlx::query(sql).bind(idle_before_ms).bind(created_before_ms).execute(p).await.map(|r| r.rows_affected())
        })?;
        Ok(n)
    }
}
