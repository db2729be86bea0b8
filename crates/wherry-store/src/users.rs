//! Users: a name, a role, and the SHA-256 of their API token (the token
//! itself is never stored). A disabled user is kept, for the audit log's
//! sake, but their token stops working.

use wherry_core::clock::now;

use crate::{Error, Store};

/// A user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Their name (unique).
    pub name: String,
    /// Their role, as named in `wherry_core::Role`.
    pub role: String,
    /// When they were added.
    pub created_at: String,
    /// Whether they have been disabled.
    pub disabled: bool,
    /// The sources a partner system's account may push for (none for
    /// people).
    pub sources: Vec<String>,
}

type UserRow = (String, String, String, Option<String>, String);

impl From<UserRow> for User {
    fn from((name, role, created_at, disabled, sources): UserRow) -> Self {
        Self {
            name,
            role,
            created_at,
            disabled: disabled.is_some(),
            // Written by `add_user` only, as a JSON array of strings.
            sources: serde_json::from_str(&sources).unwrap_or_default(),
        }
    }
}

impl Store {
    /// Adds a user with a role, the SHA-256 of their API token and, for a
    /// partner system, the sources it may push for. False when a user of
    /// that name exists.
    pub async fn add_user(
        &self,
        name: &str,
        role: &str,
        token_sha256: &str,
        sources: &[String],
    ) -> Result<bool, Error> {
        let sql = "INSERT INTO users (name, role, token_sha256, created_at, sources)
                   VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING";
        let at = now();
        let sources = serde_json::to_string(sources).expect("strings serialise");
        let done = dispatch!(&self.pool, p => {
            sqlx::query(sql).bind(name).bind(role).bind(token_sha256).bind(&at).bind(&sources)
                .execute(p).await.map(|r| r.rows_affected())
        })?;
        Ok(done == 1)
    }

    /// The enabled user holding the token with this SHA-256.
    pub async fn user_by_token(&self, token_sha256: &str) -> Result<Option<User>, Error> {
        let sql = "SELECT name, role, created_at, disabled_at, sources FROM users
                   WHERE token_sha256 = $1 AND disabled_at IS NULL";
        let row: Option<UserRow> = dispatch!(&self.pool, p => {
            sqlx::query_as(sql).bind(token_sha256).fetch_optional(p).await
        })?;
        Ok(row.map(User::from))
    }

    /// The user of this name, enabled or not.
    pub async fn user(&self, name: &str) -> Result<Option<User>, Error> {
        let sql = "SELECT name, role, created_at, disabled_at, sources FROM users WHERE name = $1";
        let row: Option<UserRow> =
            dispatch!(&self.pool, p => sqlx::query_as(sql).bind(name).fetch_optional(p).await)?;
        Ok(row.map(User::from))
    }

    /// Disables an enabled user: their token stops working and their web
    /// sessions end. False when no enabled user has that name.
    pub async fn disable_user(&self, name: &str) -> Result<bool, Error> {
        let sql = "UPDATE users SET disabled_at = $1 WHERE name = $2 AND disabled_at IS NULL";
        self.change_user(sql, &now(), name).await
    }

    /// Gives an enabled user another role; their web sessions end. False
    /// when no enabled user has that name.
    pub async fn set_user_role(&self, name: &str, role: &str) -> Result<bool, Error> {
        let sql = "UPDATE users SET role = $1 WHERE name = $2 AND disabled_at IS NULL";
        self.change_user(sql, role, name).await
    }

    /// Runs `sql` (binding `value`, then `name`) and ends the user's web
    /// sessions, in one transaction: whether a user was changed.
    async fn change_user(&self, sql: &'static str, value: &str, name: &str) -> Result<bool, Error> {
        let end = "DELETE FROM sessions WHERE user_name = $1";
        let mut tx = self.begin().await?;
        let done = dispatch_tx!(&mut tx.inner, t => {
            let done = sqlx::query(sql).bind(value).bind(name).execute(&mut **t).await?.rows_affected();
            sqlx::query(end).bind(name).execute(&mut **t).await?;
            Ok::<_, sqlx::Error>(done)
        })?;
        tx.commit().await?;
        Ok(done == 1)
    }

    /// Puts a user in a team (whose caseload they share).
    pub async fn set_user_team(&self, name: &str, team: &str) -> Result<bool, Error> {
        let sql = "UPDATE users SET team = $1 WHERE name = $2";
        let n = dispatch!(&self.pool, p => {
            sqlx::query(sql).bind(team).bind(name).execute(p).await.map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// Every user, by name.
    pub async fn users(&self) -> Result<Vec<User>, Error> {
        let sql = "SELECT name, role, created_at, disabled_at, sources FROM users ORDER BY name";
        let rows: Vec<UserRow> =
            dispatch!(&self.pool, p => sqlx::query_as(sql).fetch_all(p).await)?;
        Ok(rows.into_iter().map(User::from).collect())
    }
}
