//! The security log: requests the hub refused (who, if known; from which
//! address; the method and route template asked for; the status and why),
//! for the administrator to read. It holds no personal data: never a path,
//! query, header value or body.

use crate::{Error, Store};

/// One refused request.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Refusal {
    /// Its number (set by the store).
    pub seq: i64,
    /// When (RFC 3339).
    pub at: String,
    /// Who, when they were identified.
    pub user_name: Option<String>,
    /// The client's address.
    pub address: String,
    /// The method.
    pub method: String,
    /// The route template (`/api/v1/residents/{id}`), or `unmatched`.
    pub route: String,
    /// The status answered.
    pub status: i64,
    /// The refusal's code (`unauthorised`, `purpose_not_allowed`, …).
    pub code: String,
    /// Why, in words (as told to the caller).
    pub reason: String,
}

type Row = (
    i64,
    String,
    Option<String>,
    String,
    String,
    String,
    i64,
    String,
    String,
);

impl Store {
    /// Appends a refusal to the security log.
    pub async fn record_refusal(&self, r: &Refusal) -> Result<(), Error> {
        let sql =
            "INSERT INTO security_log (at, user_name, address, method, route, status, code, reason)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        dispatch!(&self.pool, p => {
            sqlx::query(sql).bind(&r.at).bind(&r.user_name).bind(&r.address).bind(&r.method)
                .bind(&r.route).bind(r.status).bind(&r.code).bind(&r.reason)
                .execute(p).await.map(|_| ())
        })?;
        Ok(())
    }

    /// The newest `limit` refusals, newest first.
    pub async fn refusals(&self, limit: i64) -> Result<Vec<Refusal>, Error> {
        let sql = "SELECT seq, at, user_name, address, method, route, status, code, reason
                   FROM security_log ORDER BY seq DESC LIMIT $1";
        let rows: Vec<Row> =
            dispatch!(&self.pool, p => sqlx::query_as(sql).bind(limit).fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .map(
                |(seq, at, user_name, address, method, route, status, code, reason)| Refusal {
                    seq,
                    at,
                    user_name,
                    address,
                    method,
                    route,
                    status,
                    code,
                    reason,
                },
            )
            .collect())
    }
}
