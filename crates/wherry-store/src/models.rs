//! Linkage models: each linkage run keeps the model it scored with (JSON),
//! and the real-time matcher uses the newest.

use wherry_core::clock::now;

use crate::{Error, Store, Tx};

impl Store {
    /// The newest linkage run's model (JSON), if a run has been made.
    pub async fn latest_model(&self) -> Result<Option<String>, Error> {
        let sql = "SELECT model FROM models ORDER BY id DESC LIMIT 1";
        let row: Option<(String,)> =
            dispatch!(&self.pool, p => sqlx::query_as(sql).fetch_optional(p).await)?;
        Ok(row.map(|r| r.0))
    }
}

impl Tx {
    /// Keeps a linkage run's model (JSON) for the real-time matcher.
    pub async fn save_model(&mut self, model: &str) -> Result<(), Error> {
        self.bump_generation().await?;
        let at = now();
        dispatch_tx!(&mut self.inner, t => {
            sqlx::query("INSERT INTO models (created_at, model) VALUES ($1, $2)").bind(&at).bind(model).execute(&mut **t).await.map(|_| ())
        })?;
        Ok(())
    }
}
