//! Each source's data sharing agreement and trust, typed, read from the
//! store's register of sources (the manifest each was last ingested
//! under), and kept for a few seconds between reads.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use wherry_core::Agreement;
use wherry_core::clock::{Clock, Instant};
use wherry_store::{SourceRow, Store};

use crate::Error;

/// How long agreements read from the store are used before being re-read:
/// an ingest that changes an agreement applies to reads within this time.
pub const AGREEMENTS_TTL: Duration = Duration::from_secs(5);

/// What a source is shared under.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Terms {
    /// How far its values are trusted when sources disagree, 1 to 100.
    pub trust: u8,
    /// The partner.
    pub partner: String,
    /// The data sharing agreement.
    pub agreement: Agreement,
    /// Canonical field → the partner's own column(s) for it, as its
    /// manifest maps them (to speak to the partner in its own terms).
    pub columns: BTreeMap<String, String>,
}

/// Every source's terms, by source id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Agreements {
    by_source: BTreeMap<String, Terms>,
}

/// The part of a stored manifest the access rules read.
#[derive(Deserialize)]
struct StoredManifest {
    source: StoredSource,
    agreement: Agreement,
    #[serde(default)]
    columns: BTreeMap<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct StoredSource {
    partner: String,
    trust: u8,
}

impl Agreements {
    /// The terms of each registered source, from its stored manifest.
    pub fn from_sources(rows: &[SourceRow]) -> Result<Self, Error> {
        let mut by_source = BTreeMap::new();
        for r in rows {
            let m: StoredManifest =
                serde_json::from_str(&r.manifest).map_err(|e| Error::Corrupt {
                    what: "a source's stored manifest",
                    why: format!("{}: {e}", r.id),
                })?;
            by_source.insert(
                r.id.clone(),
                Terms {
                    trust: m.source.trust,
                    partner: m.source.partner,
                    agreement: m.agreement,
                    columns: m
                        .columns
                        .into_iter()
                        .map(|(field, c)| {
                            let named = match c {
                                serde_json::Value::String(s) => s,
                                serde_json::Value::Array(a) => a
                                    .iter()
                                    .filter_map(|v| v.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", "),
                                other => other.to_string(),
                            };
                            (field, named)
                        })
                        .collect(),
                },
            );
        }
        Ok(Self { by_source })
    }

    /// Reads every source's terms from `store`.
    pub async fn load(store: &Store) -> Result<Self, Error> {
        Self::from_sources(&store.sources().await?)
    }

    /// A source's terms.
    pub fn get(&self, source: &str) -> Option<&Terms> {
        self.by_source.get(source)
    }

    /// Every source and its terms, by id.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Terms)> {
        self.by_source.iter()
    }
}

/// Agreements as last read, for [`AGREEMENTS_TTL`].
#[derive(Debug, Default)]
pub(crate) struct Cached {
    held: Mutex<Option<(Instant, Arc<Agreements>)>>,
}

impl Cached {
    /// The agreements, re-read when older than the TTL on `clock`.
    pub(crate) async fn get(&self, store: &Store, clock: &Clock) -> Result<Arc<Agreements>, Error> {
        let now = clock.now();
        {
            let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((_, a)) = held
                .as_ref()
                .filter(|(at, _)| now.since(*at) < AGREEMENTS_TTL)
            {
                return Ok(a.clone());
            }
        }
        let fresh = Arc::new(Agreements::load(store).await?);
        *self.held.lock().unwrap_or_else(|e| e.into_inner()) = Some((now, fresh.clone()));
        Ok(fresh)
    }
}
