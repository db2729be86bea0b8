//! The real-time record path: one pushed record placed in one transaction.
//!
//! [`Matcher::place`] stores the record's version (only if it changed),
//! matches it against every current record with the last linkage run's
//! model ([`wherry_link::realtime::RealtimeIndex`]), and then, in the same
//! transaction:
//!
//! - a record already linked keeps its person (only a linkage run or a
//!   steward moves a link); if it now matches another person's record in the
//!   review range, that pair is queued;
//! - a record with a steward's must-link joins the other record's person;
//! - otherwise the best candidate whose person holds no record this one has
//!   a cannot-link with decides: at or above the model's threshold the
//!   record joins that person, below it a new person is created (recorded
//!   in the link history), and a probability in the review range queues the
//!   pair for a steward with its explanation.
//!
//! The index follows the store only through this matcher: records loaded by
//! `wherry ingest` or a linkage run made after [`Matcher::open`] are seen
//! after [`Matcher::reload`]. Person ids and decisions are read from the
//! store inside the transaction, so they are never stale.

use std::collections::BTreeMap;

use tokio::sync::Mutex;
use wherry_ingest::read::Row;
use wherry_link::persons::PersonEvent;
use wherry_link::realtime::{Candidate, RealtimeIndex};
use wherry_link::{Model, RawRecord};
use wherry_store::{ExtractCounts, Link, Linkage, NewVersion, Store};

use crate::batch::history_entry;
use crate::{Error, canonical_columns, raw_record};

/// Candidates looked at for each record.
const CANDIDATES: usize = 10;

/// What became of the record's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// A new record: version 1 stored.
    Stored,
    /// A changed record: a new version stored.
    Updated,
    /// The same as the current version: nothing stored.
    Unchanged,
}

/// How the record came to its person.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// It was linked already and keeps its person.
    Kept,
    /// It joined an existing person: by match (with its probability) or by
    /// a steward's must-link (no probability).
    Joined {
        /// The match probability, when a match decided.
        probability: Option<f64>,
        /// The record it matched, or the must-link's other record.
        with: (String, String),
    },
    /// No person was close enough: a new one was created.
    Created,
}

/// Where a pushed record went.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// The person it belongs to.
    pub person: String,
    /// How.
    pub outcome: Outcome,
    /// Its current version.
    pub version: i64,
    /// What was stored.
    pub write: Write,
    /// The review item queued for a steward, if the match was uncertain:
    /// the other record and the probability.
    pub review: Option<((String, String), f64)>,
}

/// The real-time matcher over a store.
pub struct Matcher {
    store: Store,
    index: Mutex<RealtimeIndex>,
    review: (f64, f64),
    /// The store's generation the index was built at.
    generation: std::sync::atomic::AtomicI64,
}

impl Matcher {
    /// Indexes the store's current records with its newest model. Pairs with
    /// a probability in `review` (`[low, high)`) go to the review queue.
    pub async fn open(store: Store, review: (f64, f64)) -> Result<Self, Error> {
        if !(0.0..=1.0).contains(&review.0)
            || !(0.0..=1.0).contains(&review.1)
            || review.0 > review.1
        {
            return Err(wherry_link::Error::Settings(
                "the review range must be probabilities with low ≤ high".into(),
            )
            .into());
        }
        let generation = store.generation().await?;
        let index = build(&store).await?;
        Ok(Self {
            store,
            index: Mutex::new(index),
            review,
            generation: generation.into(),
        })
    }

    /// Re-reads the store's current records and newest model.
    pub async fn reload(&self) -> Result<(), Error> {
        let generation = self.store.generation().await?;
        let fresh = build(&self.store).await?;
        *self.index.lock().await = fresh;
        self.generation
            .store(generation, std::sync::atomic::Ordering::Release);
        Ok(())
    }

    /// Reloads if the store has been changed by something other than this
    /// matcher (an ingest, a linkage run, retention) since the index was
    /// built; true when it did.
    pub async fn refresh(&self) -> Result<bool, Error> {
        let now = self.store.generation().await?;
        if now == self.generation.load(std::sync::atomic::Ordering::Acquire) {
            return Ok(false);
        }
        self.reload().await?;
        Ok(true)
    }

    /// Drops erased records from the index (the store no longer has them).
    pub async fn forget(&self, records: &BTreeMap<String, Vec<String>>) {
        let mut index = self.index.lock().await;
        for (source, ids) in records {
            for id in ids {
                index.remove(source, id);
            }
        }
    }

    /// The match probability at or above which the model links two records.
    pub async fn threshold(&self) -> f64 {
        self.index.lock().await.model().settings.threshold
    }

    /// Records indexed.
    pub async fn len(&self) -> usize {
        self.index.lock().await.len()
    }

    /// Whether nothing is indexed.
    pub async fn is_empty(&self) -> bool {
        self.len().await == 0
    }

    /// The best `limit` indexed records for these canonical fields, strongest
    /// first, with the person each is linked to (if any).
    pub async fn candidates(
        &self,
        fields: &BTreeMap<String, String>,
        limit: usize,
    ) -> Result<Vec<(Candidate, Option<String>)>, Error> {
        let record = raw_record("", "", fields);
        let found = self.index.lock().await.best_matches(&record, limit);
        let mut tx = self.store.begin().await?;
        let mut out = Vec::with_capacity(found.len());
        for c in found {
            let person = tx.person_of(&c.source, &c.record_id).await?;
            out.push((c, person));
        }
        Ok(out)
    }

    /// Places one validated record of `source` (see the module docs), in one
    /// transaction; `by` is who pushed it.
    pub async fn place(&self, source: &str, row: &Row, by: &str) -> Result<Placement, Error> {
        // One placement at a time: the index and the store move together.
        let mut index = self.index.lock().await;
        let key = (source.to_string(), row.record_id.clone());
        let record = raw_record(source, &row.record_id, &row.fields);
        let mut tx = self.store.begin().await?;
        if !tx.source_exists(source).await? {
            return Err(Error::UnknownSource(source.to_string()));
        }
        let state = tx.record_state(source, &row.record_id).await?;
        let (version, write) = match &state {
            None => (1, Write::Stored),
            Some((v, hash, false)) if *hash == row.hash => (*v, Write::Unchanged),
            Some((v, _, _)) => (v + 1, Write::Updated),
        };
        if write != Write::Unchanged {
            let extract = tx
                .new_extract(source, "push", &row.hash, "push", by)
                .await?;
            tx.write_versions(
                extract,
                source,
                &[NewVersion {
                    record_id: row.record_id.clone(),
                    version,
                    row_hash: row.hash.clone(),
                    fields: row.fields_json.clone(),
                    attributes: row.attributes_json.clone(),
                    raw: row.raw.clone(),
                }],
            )
            .await?;
            let counts = ExtractCounts {
                rows: 1,
                stored: i64::from(write == Write::Stored),
                updated: i64::from(write == Write::Updated),
                ..ExtractCounts::default()
            };
            tx.finish_extract(extract, &counts).await?;
        }

        let threshold = index.model().settings.threshold;
        let candidates: Vec<Candidate> = index
            .best_matches(&record, CANDIDATES + 1)
            .into_iter()
            .filter(|c| {
                (c.source.as_str(), c.record_id.as_str()) != (source, row.record_id.as_str())
            })
            .take(CANDIDATES)
            .collect();
        let decisions = tx.decisions_about(source, &row.record_id).await?;
        let mut barred: Vec<String> = Vec::new();
        let mut must: Option<((String, String), String)> = None;
        for (s, r, same) in decisions {
            if let Some(p) = tx.person_of(&s, &r).await? {
                if same {
                    must = Some(((s, r), p));
                } else {
                    barred.push(p);
                }
            }
        }
        // The strongest candidate that may be this record's person.
        let mut best: Option<(Candidate, String)> = None;
        for c in candidates {
            if let Some(p) = tx.person_of(&c.source, &c.record_id).await? {
                if !barred.contains(&p) {
                    best = Some((c, p));
                    break;
                }
            }
        }

        let mut linkage = Linkage::default();
        let link = |person: &str, method: &str, probability: Option<f64>| Link {
            source: source.to_string(),
            record_id: row.record_id.clone(),
            person: person.to_string(),
            method: method.into(),
            probability,
        };
        let current = tx.person_of(source, &row.record_id).await?;
        let (person, outcome) = match (current, must) {
            (Some(p), _) => (p, Outcome::Kept),
            (None, Some((with, p))) => {
                linkage.links.push(link(&p, "steward", None));
                (
                    p,
                    Outcome::Joined {
                        probability: None,
                        with,
                    },
                )
            }
            (None, None) => match &best {
                Some((c, p)) if c.probability >= threshold => {
                    linkage
                        .links
                        .push(link(p, "automatic", Some(c.probability)));
                    let with = (c.source.clone(), c.record_id.clone());
                    (
                        p.clone(),
                        Outcome::Joined {
                            probability: Some(c.probability),
                            with,
                        },
                    )
                }
                _ => {
                    let p = format!("P{:09}", tx.last_person_number().await? + 1);
                    linkage.created.push(p.clone());
                    linkage
                        .history
                        .push(history_entry(&PersonEvent::Created { person: p.clone() }));
                    linkage.links.push(link(&p, "automatic", None));
                    (p, Outcome::Created)
                }
            },
        };
        // Uncertain: the best candidate in the review range, unless a
        // steward's must-link placed the record or it was already linked
        // with that candidate's person.
        let mut review = None;
        if let Some((c, p)) = &best {
            let (low, high) = self.review;
            let in_range = c.probability >= low && c.probability < high;
            let settled = match &outcome {
                Outcome::Kept => *p == person,
                Outcome::Joined { probability, .. } => probability.is_none(),
                Outcome::Created => false,
            };
            if in_range && !settled {
                let explanation = index
                    .explain(&record, &c.source, &c.record_id)
                    .map(|e| e.text())
                    .unwrap_or_default();
                let other = (c.source.clone(), c.record_id.clone());
                let (left, right) = if other < key {
                    (other.clone(), key.clone())
                } else {
                    (key.clone(), other.clone())
                };
                linkage
                    .review
                    .push((left.0, left.1, right.0, right.1, c.probability, explanation));
                review = Some((other, c.probability));
            }
        }
        tx.save_linkage(&linkage).await?;
        tx.commit().await?;
        // The store has it: now the index.
        index.remove(source, &row.record_id);
        index.insert(record)?;
        Ok(Placement {
            person,
            outcome,
            version,
            write,
            review,
        })
    }
}

/// The index over the store's current records and newest model.
async fn build(store: &Store) -> Result<RealtimeIndex, Error> {
    let model = store.latest_model().await?.ok_or(Error::NoModel)?;
    let model: Model = serde_json::from_str(&model).map_err(|e| Error::Corrupt {
        what: "a model",
        why: e.to_string(),
    })?;
    let rows = store.current_records().await?;
    if rows.is_empty() {
        return Err(Error::NoRecords);
    }
    let records = rows
        .into_iter()
        .map(|r| RawRecord {
            source: r.source,
            record_id: r.record_id,
            values: r.values,
        })
        .collect::<Vec<_>>();
    tokio::task::spawn_blocking(move || RealtimeIndex::build(model, &canonical_columns(), records))
        .await
        .map_err(|e| Error::Task(e.to_string()))?
        .map_err(Error::from)
}
