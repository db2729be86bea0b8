//! Partners' sources: each registered with its manifest (the column
//! mapping, trust and data sharing agreement, JSON), replaced when a newer
//! manifest is ingested.

use wherry_core::clock::now;

use crate::{Error, Store, Tx};

/// A registered source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRow {
    /// Its id.
    pub id: String,
    /// The partner that sends it.
    pub partner: String,
    /// The manifest it was last ingested under (JSON).
    pub manifest: String,
}

impl Store {
    /// Every registered source with its manifest, by id.
    pub async fn sources(&self) -> Result<Vec<SourceRow>, Error> {
        let sql = "SELECT id, partner, manifest FROM sources ORDER BY id";
        let rows: Vec<(String, String, String)> =
            dispatch!(&self.pool, p => sqlx::query_as(sql).fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .map(|(id, partner, manifest)| SourceRow {
                id,
                partner,
                manifest,
            })
            .collect())
    }
}

impl Tx {
    /// Registers or updates a source and its manifest.
    pub async fn upsert_source(
        &mut self,
        id: &str,
        partner: &str,
        dataset: &str,
        manifest: &str,
    ) -> Result<(), Error> {
        let sql = "INSERT INTO sources (id, partner, dataset, manifest, updated_at) VALUES ($1, $2, $3, $4, $5)
                   ON CONFLICT (id) DO UPDATE SET partner = excluded.partner, dataset = excluded.dataset,
                   manifest = excluded.manifest, updated_at = excluded.updated_at";
        let at = now();
        dispatch_tx!(&mut self.inner, t => {
            sqlx::query(sql).bind(id).bind(partner).bind(dataset).bind(manifest).bind(&at).execute(&mut **t).await.map(|_| ())
        })?;
        Ok(())
    }

    /// Whether a source is registered.
    pub async fn source_exists(&mut self, source: &str) -> Result<bool, Error> {
        let sql = "SELECT COUNT(*) FROM sources WHERE id = $1";
        let (n,): (i64,) = dispatch_tx!(&mut self.inner, t => sqlx::query_as(sql).bind(source).fetch_one(&mut **t).await)?;
        Ok(n > 0)
    }
}
