//! Break-glass overrides for the data protection officer's review: each
//! is a user's written reason, used for up to an hour (the requests of one
//! emergency), counted, and signed off by the officer with a note.

use crate::{Error, Store};

/// One override.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Override {
    /// Its number.
    pub id: i64,
    /// Who.
    pub user_name: String,
    /// In which role.
    pub role: String,
    /// Into which purpose.
    pub purpose: String,
    /// Why, in their words.
    pub reason: String,
    /// First used (milliseconds since the Unix epoch).
    pub first_ms: i64,
    /// Last used.
    pub last_ms: i64,
    /// Requests made under it.
    pub uses: i64,
    /// Who signed it off.
    pub signed_off_by: Option<String>,
    /// When (RFC 3339).
    pub signed_off_at: Option<String>,
    /// The officer's note.
    pub note: Option<String>,
}

/// What using a reason did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// A new override, for review.
    Opened,
    /// Another request under the caller's current override.
    Continued,
    /// The reason is the caller's previous override's, past its hour:
    /// refused, nothing written.
    Repeat,
}

/// An override's identity as it is used.
#[derive(Debug, Clone, Copy)]
pub struct Using<'a> {
    /// Who.
    pub user_name: &'a str,
    /// Their role.
    pub role: &'a str,
    /// The purpose overridden into.
    pub purpose: &'a str,
    /// Their reason.
    pub reason: &'a str,
}

type Row = (
    i64,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn of(r: Row) -> Override {
    let (id, user_name, role, purpose, reason, first_ms, last_ms, uses, by, at, note) = r;
    Override {
        id,
        user_name,
        role,
        purpose,
        reason,
        first_ms,
        last_ms,
        uses,
        signed_off_by: by,
        signed_off_at: at,
        note,
    }
}

impl Store {
    /// Records a request under a break-glass reason at `now_ms`: it
    /// continues the user's latest override when it has the same reason
    /// and purpose and began at most `window_ms` ago; the same reason
    /// after that is a [`Use::Repeat`]; another reason opens an override.
    pub async fn use_break_glass(
        &self,
        u: Using<'_>,
        now_ms: i64,
        window_ms: i64,
    ) -> Result<Use, Error> {
        let latest = "SELECT id, purpose, reason, first_ms FROM break_glass WHERE user_name = $1
                      ORDER BY id DESC LIMIT 1";
        let more = "UPDATE break_glass SET uses = uses + 1, last_ms = $1 WHERE id = $2";
        let open =
            "INSERT INTO break_glass (user_name, role, purpose, reason, first_ms, last_ms, uses)
                    VALUES ($1, $2, $3, $4, $5, $5, 1)";
        let mut tx = self.begin().await?;
        let used = dispatch_tx!(&mut tx.inner, t => {
            let last: Option<(i64, String, String, i64)> =
                sqlx::query_as(latest).bind(u.user_name).fetch_optional(&mut **t).await?;
            match last {
                Some((id, purpose, reason, first)) if reason == u.reason => {
                    if purpose == u.purpose && now_ms - first <= window_ms {
                        sqlx::query(more).bind(now_ms).bind(id).execute(&mut **t).await?;
                        Ok::<_, sqlx::Error>(Use::Continued)
                    } else {
                        Ok(Use::Repeat)
                    }
                }
                _ => {
                    sqlx::query(open).bind(u.user_name).bind(u.role).bind(u.purpose)
                        .bind(u.reason).bind(now_ms).execute(&mut **t).await?;
                    Ok(Use::Opened)
                }
            }
        })?;
        tx.commit().await?;
        Ok(used)
    }

    /// Overrides, newest first: those awaiting sign-off, or all.
    pub async fn break_glass_overrides(
        &self,
        awaiting_only: bool,
        limit: i64,
    ) -> Result<Vec<Override>, Error> {
        let sql = "SELECT id, user_name, role, purpose, reason, first_ms, last_ms, uses,
                          signed_off_by, signed_off_at, note
                   FROM break_glass WHERE ($1 = 0 OR signed_off_by IS NULL)
                   ORDER BY id DESC LIMIT $2";
        let rows: Vec<Row> = dispatch!(&self.pool, p => {
            sqlx::query_as(sql).bind(i64::from(awaiting_only)).bind(limit).fetch_all(p).await
        })?;
        Ok(rows.into_iter().map(of).collect())
    }

    /// Signs off override `id`; false when there is none awaiting.
    pub async fn sign_off_break_glass(
        &self,
        id: i64,
        by: &str,
        at: &str,
        note: &str,
    ) -> Result<bool, Error> {
        let sql = "UPDATE break_glass SET signed_off_by = $1, signed_off_at = $2, note = $3
                   WHERE id = $4 AND signed_off_by IS NULL";
        let n = dispatch!(&self.pool, p => {
            sqlx::query(sql).bind(by).bind(at).bind(note).bind(id).execute(p).await.map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }
}
