//! The real-time record path: one pushed record placed in one transaction.
//!
//! [`Matcher::place`] reads as its steps: store the version (only if it
//! changed) → match against the index → load the steward's decisions →
//! decide ([`wherry_link::place::decide`], the rule the batch relink's
//! review range shares) → save → update the index. The index lock is held
//! only for the in-memory steps, never across the database; placements
//! take turns on a lock of their own, so the index and the store move
//! together.
//!
//! The index follows the store only through this matcher: records loaded by
//! `wherry ingest` or a linkage run made after [`Matcher::open`] are seen
//! after [`Matcher::reload`]. Person ids and decisions are read from the
//! store inside the transaction, so they are never stale.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};

use tokio::sync::Mutex;
use wherry_core::PersonChange;
use wherry_link::place::{self, Candidate, Placement, Steward};
use wherry_link::realtime::RealtimeIndex;
use wherry_link::{Model, RawRecord, ReviewRange};
use wherry_store::{
    DecisionKind, ExtractCounts, Link, LinkMethod, Linkage, NewReviewItem, NewVersion, RecordKey,
    Store, Tx, Write,
};

use crate::{Error, canonical_columns, raw_record};

/// Candidates looked at for each record.
const CANDIDATES: usize = 10;

/// A record a partner's system pushed, validated as an extract row is.
#[derive(Debug, Clone, Copy)]
pub struct Pushed<'a> {
    /// The partner's record id.
    pub record_id: &'a str,
    /// Canonical field → normalised value.
    pub fields: &'a BTreeMap<String, String>,
    /// `fields` as JSON.
    pub fields_json: &'a str,
    /// Typed attributes as JSON.
    pub attributes_json: &'a str,
    /// The record as sent.
    pub raw: &'a str,
    /// The hash of its normalised content.
    pub hash: &'a str,
}

/// An indexed record found for a search.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The record.
    pub record: RecordKey,
    /// Its person, if linked.
    pub person: Option<String>,
    /// Match probability.
    pub probability: f64,
    /// Match weight in bits (ranks where probabilities round to 1).
    pub weight: f64,
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
pub struct Placed {
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
    /// Held only for the in-memory steps (matching appends the query
    /// record for a moment, so even a search takes it whole).
    index: std::sync::Mutex<RealtimeIndex>,
    /// Placements take turns, so the store and the index move together.
    placing: Mutex<()>,
    review: ReviewRange,
    /// The store's generation the index was built at.
    generation: AtomicI64,
}

impl Matcher {
    /// Indexes the store's current records with its newest model. Pairs with
    /// a probability in `review` go to the review queue.
    pub async fn open(store: Store, review: ReviewRange) -> Result<Self, Error> {
        review.check()?;
        let generation = store.generation().await?;
        let index = build(&store).await?;
        Ok(Self {
            store,
            index: std::sync::Mutex::new(index),
            placing: Mutex::new(()),
            review,
            generation: generation.into(),
        })
    }

    fn index(&self) -> std::sync::MutexGuard<'_, RealtimeIndex> {
        self.index.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Re-reads the store's current records and newest model.
    pub async fn reload(&self) -> Result<(), Error> {
        let _turn = self.placing.lock().await;
        let generation = self.store.generation().await?;
        let fresh = build(&self.store).await?;
        *self.index() = fresh;
        self.generation.store(generation, Ordering::Release);
        Ok(())
    }

    /// Reloads if the store has been changed by something other than this
    /// matcher (an ingest, a linkage run, retention) since the index was
    /// built; true when it did.
    pub async fn refresh(&self) -> Result<bool, Error> {
        let now = self.store.generation().await?;
        if now == self.generation.load(Ordering::Acquire) {
            return Ok(false);
        }
        self.reload().await?;
        Ok(true)
    }

    /// Drops erased records from the index (the store no longer has them).
    pub async fn forget(&self, records: &BTreeMap<String, Vec<String>>) {
        let _turn = self.placing.lock().await;
        let mut index = self.index();
        for (source, ids) in records {
            for id in ids {
                index.remove(source, id);
            }
        }
    }

    /// The match probability at or above which the model links two records.
    pub fn threshold(&self) -> f64 {
        self.index().model().settings.threshold
    }

    /// Records indexed.
    pub fn len(&self) -> usize {
        self.index().len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The best `limit` indexed records for these canonical fields, strongest
    /// first, with the person each is linked to (if any).
    pub async fn candidates(
        &self,
        fields: &BTreeMap<String, String>,
        limit: usize,
    ) -> Result<Vec<Found>, Error> {
        let record = raw_record("", "", fields);
        let found = self.index().best_matches(&record, limit);
        self.with_persons_of(found).await
    }

    /// Each candidate with the person its record is linked to.
    async fn with_persons_of(
        &self,
        found: Vec<wherry_link::realtime::Candidate>,
    ) -> Result<Vec<Found>, Error> {
        let keys: Vec<RecordKey> = found
            .iter()
            .map(|c| RecordKey::new(c.source.as_str(), c.record_id.as_str()))
            .collect();
        let mut persons = self.store.persons_of(&keys).await?;
        Ok(found
            .into_iter()
            .zip(keys)
            .map(|(c, record)| Found {
                person: persons.remove(&record),
                record,
                probability: c.probability,
                weight: c.weight,
            })
            .collect())
    }

    /// A search for the resident `fields` describe, however few (see
    /// [`RealtimeIndex::search`]): at most `limit` records, strongest
    /// first, with the person each is linked to (if any).
    pub async fn search(
        &self,
        fields: &BTreeMap<String, String>,
        limit: usize,
    ) -> Result<Vec<Found>, Error> {
        let record = raw_record("", "", fields);
        let found = self.index().search(&record, limit);
        self.with_persons_of(found).await
    }

    /// The persons with a record at the same home as `fields` describe
    /// (see [`RealtimeIndex::same_home`]), at most `limit` records looked
    /// at, each person once.
    pub async fn same_home(
        &self,
        fields: &BTreeMap<String, String>,
        limit: usize,
    ) -> Result<Vec<String>, Error> {
        let record = raw_record("", "", fields);
        let found = self.index().same_home(&record, limit);
        let mut persons: Vec<String> = self
            .with_persons_of(found)
            .await?
            .into_iter()
            .filter_map(|f| f.person)
            .collect();
        let mut seen = std::collections::HashSet::new();
        persons.retain(|p| seen.insert(p.clone()));
        Ok(persons)
    }

    /// Places one validated record of `source` (see the module docs), in one
    /// transaction; `by` is who pushed it.
    pub async fn place(&self, source: &str, row: Pushed<'_>, by: &str) -> Result<Placed, Error> {
        let _turn = self.placing.lock().await;
        let key = RecordKey::new(source, row.record_id);
        let record = raw_record(source, row.record_id, row.fields);
        let mut tx = self.store.begin().await?;
        let (write, version) = store_version(&mut tx, source, &row, by).await?;
        let (found, threshold) = self.best_matches(&record, &key);
        let candidates = with_persons(&mut tx, found).await?;
        let steward = steward_decisions(&mut tx, &key).await?;
        let current = tx.person_of(&key).await?;
        let decision = place::decide(
            current.as_deref(),
            &candidates,
            &steward,
            threshold,
            self.review,
        );
        let (person, outcome, linkage) = self
            .save_plan(&mut tx, &key, &record, decision.clone())
            .await?;
        tx.save_linkage(&linkage).await?;
        tx.commit().await?;
        // The store has it: now the index.
        {
            let mut index = self.index();
            index.remove(source, row.record_id);
            index.insert(record)?;
        }
        Ok(Placed {
            person,
            outcome,
            version,
            write,
            review: decision.review,
        })
    }

    /// The strongest indexed records for `record` other than itself, and
    /// the model's threshold.
    fn best_matches(&self, record: &RawRecord, key: &RecordKey) -> (Vec<(RecordKey, f64)>, f64) {
        let mut index = self.index();
        let found = index
            .best_matches(record, CANDIDATES + 1)
            .into_iter()
            .map(|c| (RecordKey::new(c.source, c.record_id), c.probability))
            .filter(|(k, _)| k != key)
            .take(CANDIDATES)
            .collect();
        (found, index.model().settings.threshold)
    }

    /// What `decision` writes: the link, a person created, the review item.
    async fn save_plan(
        &self,
        tx: &mut Tx,
        key: &RecordKey,
        record: &RawRecord,
        decision: place::Decision,
    ) -> Result<(String, Outcome, Linkage), Error> {
        let mut linkage = Linkage::default();
        let link = |person: &str, method, probability| Link {
            source: key.source.clone(),
            record_id: key.record_id.clone(),
            person: person.to_string(),
            method,
            probability,
        };
        let (person, outcome) = match decision.placement {
            Placement::Keep { person } => (person, Outcome::Kept),
            Placement::Join {
                person,
                probability,
                with,
            } => {
                let method = if probability.is_some() {
                    LinkMethod::Automatic
                } else {
                    LinkMethod::Steward
                };
                linkage.links.push(link(&person, method, probability));
                (person, Outcome::Joined { probability, with })
            }
            Placement::Create => {
                let p = tx.last_person().await?.next().to_string();
                linkage.created.push(p.clone());
                linkage
                    .history
                    .push(PersonChange::Created { person: p.clone() });
                linkage.links.push(link(&p, LinkMethod::Automatic, None));
                (p, Outcome::Created)
            }
        };
        if let Some((other, probability)) = &decision.review {
            let explanation = self
                .index()
                .explain(record, &other.0, &other.1)
                .map(|e| serde_json::to_string(&e).expect("explanations serialise"))
                .unwrap_or_default();
            let other = RecordKey::from(other.clone());
            let (left, right) = if other < *key {
                (other, key.clone())
            } else {
                (key.clone(), other)
            };
            linkage.review.push(NewReviewItem {
                left,
                right,
                probability: *probability,
                explanation,
            });
        }
        Ok((person, outcome, linkage))
    }
}

/// Step: stores the record's version if it changed (the one versioning
/// rule, [`Write::of`]); what was written and the version it is at.
async fn store_version(
    tx: &mut Tx,
    source: &str,
    row: &Pushed<'_>,
    by: &str,
) -> Result<(Write, i64), Error> {
    if !tx.source_exists(source).await? {
        return Err(Error::UnknownSource(source.to_string()));
    }
    let state = tx.record_state(source, row.record_id).await?;
    let (write, version) = Write::of(state.as_ref(), row.hash);
    if write != Write::Unchanged {
        let extract = tx.new_extract(source, "push", row.hash, "push", by).await?;
        tx.write_versions(
            extract,
            source,
            &[NewVersion {
                record_id: row.record_id.to_string(),
                version,
                row_hash: row.hash.to_string(),
                fields: row.fields_json.to_string(),
                attributes: row.attributes_json.to_string(),
                raw: row.raw.to_string(),
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
    Ok((write, version))
}

/// Step: each candidate's person, read inside the transaction.
async fn with_persons(tx: &mut Tx, found: Vec<(RecordKey, f64)>) -> Result<Vec<Candidate>, Error> {
    let mut out = Vec::with_capacity(found.len());
    for (key, probability) in found {
        let person = tx.person_of(&key).await?;
        out.push(Candidate {
            key: key.into_pair(),
            person,
            probability,
        });
    }
    Ok(out)
}

/// Step: the steward's decisions about the record, resolved to persons.
async fn steward_decisions(tx: &mut Tx, key: &RecordKey) -> Result<Steward, Error> {
    let mut steward = Steward::default();
    for d in tx.decisions_about(key).await? {
        if let Some(p) = tx.person_of(&d.other).await? {
            match d.kind {
                DecisionKind::MustLink => steward.must = Some((d.other.into_pair(), p)),
                DecisionKind::CannotLink => steward.barred.push(p),
            }
        }
    }
    Ok(steward)
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
