//! Persons and links: each current record linked to one person, how
//! (`automatic` or `steward`) and with what probability; persons created
//! and retired; and the link history, which is the person change feed
//! partner systems follow.

use std::collections::BTreeMap;

use serde::Serialize;
use wherry_core::PersonChange;
use wherry_core::clock::now;

use crate::copy::{Cell, copy_binary, copy_lines};
use crate::{BATCH, Error, NewReviewItem, RecordKey, Store, Tx, TxInner};

/// How a record came to its person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkMethod {
    /// By the linkage engine (a batch run or the real-time matcher).
    Automatic,
    /// By a steward's decision.
    Steward,
}

impl LinkMethod {
    /// As stored: `automatic` or `steward`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Automatic => "automatic",
            Self::Steward => "steward",
        }
    }

    /// The method stored as `s` (anything but `steward` is automatic).
    pub fn parse(s: &str) -> Self {
        if s == "steward" {
            Self::Steward
        } else {
            Self::Automatic
        }
    }
}

/// The outcome of a linkage run (or of a steward's action, or of one
/// placement), to store in one transaction.
#[derive(Debug, Clone, Default)]
pub struct Linkage {
    /// Links that are new or changed.
    pub links: Vec<Link>,
    /// Records whose link ends (no longer current).
    pub unlinked: Vec<RecordKey>,
    /// Persons first seen.
    pub created: Vec<String>,
    /// Persons with no records left.
    pub retired: Vec<String>,
    /// What happened to persons, for the change feed.
    pub history: Vec<PersonChange>,
    /// New review items.
    pub review: Vec<NewReviewItem>,
}

/// A record's link to a person.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// The record's source.
    pub source: String,
    /// The record's id within its source.
    pub record_id: String,
    /// The person.
    pub person: String,
    /// How it was made.
    pub method: LinkMethod,
    /// The match probability that made it, where one did (a record joining
    /// an existing person in real time).
    pub probability: Option<f64>,
}

/// A record's person, as listed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PersonLink {
    /// The record.
    pub record: RecordKey,
    /// Its person.
    pub person: String,
}

/// One entry of the change feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Its place in the feed, from 1.
    pub seq: i64,
    /// `created`, `merged`, `split` or `retired`.
    pub kind: String,
    /// The person it is about.
    pub person: String,
    /// The other persons involved.
    pub others: Vec<String>,
    /// When.
    pub at: String,
}

/// A change as the link history stores it.
struct HistoryRow<'a> {
    kind: &'static str,
    person: &'a str,
    others: String,
    detail: String,
}

impl<'a> HistoryRow<'a> {
    fn of(c: &'a PersonChange) -> Self {
        Self {
            kind: c.kind(),
            person: c.person(),
            others: serde_json::to_string(c.others()).expect("ids serialise"),
            detail: serde_json::to_string(c).expect("changes serialise"),
        }
    }
}

fn person_links(rows: Vec<(String, String, String)>) -> Vec<PersonLink> {
    rows.into_iter()
        .map(|(s, r, person)| PersonLink {
            record: RecordKey::from((s, r)),
            person,
        })
        .collect()
}

impl Store {
    /// How many links each method made.
    pub async fn link_methods(&self) -> Result<BTreeMap<LinkMethod, i64>, Error> {
        let sql = "SELECT method, COUNT(*) FROM person_links GROUP BY method";
        let rows: Vec<(String, i64)> =
            dispatch!(&self.pool, p => sqlx::query_as(sql).fetch_all(p).await)?;
        let mut out = BTreeMap::new();
        for (m, n) in rows {
            *out.entry(LinkMethod::parse(&m)).or_default() += n;
        }
        Ok(out)
    }

    /// Every record → person link, by source and record id.
    pub async fn person_links(&self) -> Result<Vec<PersonLink>, Error> {
        let sql = "SELECT source_id, record_id, person_id FROM person_links ORDER BY source_id, record_id";
        let rows = dispatch!(&self.pool, p => sqlx::query_as(sql).fetch_all(p).await)?;
        Ok(person_links(rows))
    }

    /// Links of records that are no longer current (withdrawn; records are
    /// never deleted while linked).
    pub async fn stale_links(&self) -> Result<Vec<PersonLink>, Error> {
        let sql = "SELECT l.source_id, l.record_id, l.person_id FROM records r
                   JOIN person_links l ON l.source_id = r.source_id AND l.record_id = r.record_id
                   WHERE r.withdrawn <> 0";
        // Sorted here: ORDER BY leads SQLite to scan every link in key order
        // rather than the few withdrawn records by their partial index.
        let rows = dispatch!(&self.pool, p => sqlx::query_as(sql).fetch_all(p).await)?;
        let mut links = person_links(rows);
        links.sort_unstable();
        Ok(links)
    }

    /// Every person id ever given, retired ones included.
    pub async fn person_ids(&self) -> Result<Vec<String>, Error> {
        let rows: Vec<(String,)> = dispatch!(&self.pool, p => sqlx::query_as("SELECT id FROM persons").fetch_all(p).await)?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Whether a person with this id exists (retired or not).
    pub async fn person_exists(&self, person: &str) -> Result<bool, Error> {
        let sql = "SELECT id FROM persons WHERE id = $1";
        let row: Option<(String,)> =
            dispatch!(&self.pool, p => sqlx::query_as(sql).bind(person).fetch_optional(p).await)?;
        Ok(row.is_some())
    }

    /// The change feed after `since`, at most `limit` entries, oldest first.
    pub async fn changes(&self, since: i64, limit: usize) -> Result<Vec<Change>, Error> {
        let sql = "SELECT seq, kind, person_id, others, at FROM link_history WHERE seq > $1 ORDER BY seq LIMIT $2";
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows: Vec<(i64, String, String, String, String)> = dispatch!(&self.pool, p => {
            sqlx::query_as(sql).bind(since).bind(limit).fetch_all(p).await
        })?;
        rows.into_iter()
            .map(|(seq, kind, person, others, at)| {
                let others = serde_json::from_str(&others).map_err(|e| Error::Corrupt {
                    table: "link_history",
                    detail: format!("an entry's others: {e}"),
                })?;
                Ok(Change {
                    seq,
                    kind,
                    person,
                    others,
                    at,
                })
            })
            .collect()
    }

    /// The greatest person id given so far (`P000000000` when none).
    pub async fn last_person(&self) -> Result<wherry_core::PersonId, Error> {
        let row: (Option<String>,) = dispatch!(&self.pool, p => {
            sqlx::query_as("SELECT MAX(id) FROM persons").fetch_one(p).await
        })?;
        Ok(wherry_core::PersonId::new(
            wherry_core::PersonId::last_number(row.0.as_deref()),
        ))
    }

    /// The persons of `records` (those linked), in one statement.
    pub async fn persons_of(
        &self,
        records: &[RecordKey],
    ) -> Result<std::collections::HashMap<RecordKey, String>, Error> {
        if records.is_empty() {
            return Ok(Default::default());
        }
        // Built from placeholder numbers only, never from data.
        let tuples: Vec<String> = (0..records.len())
            .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
            .collect();
        let sql = format!(
            "SELECT source_id, record_id, person_id FROM person_links
             WHERE (source_id, record_id) IN (VALUES {})",
            tuples.join(", ")
        );
        let rows: Vec<(String, String, String)> = dispatch!(&self.pool, p => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
            for r in records {
                q = q.bind(&r.source).bind(&r.record_id);
            }
            q.fetch_all(p).await
        })?;
        Ok(rows
            .into_iter()
            .map(|(s, r, p)| (RecordKey::from((s, r)), p))
            .collect())
    }

    /// The person a record is linked to, if any.
    pub async fn person_of(&self, record: &RecordKey) -> Result<Option<String>, Error> {
        let sql = "SELECT person_id FROM person_links WHERE source_id = $1 AND record_id = $2";
        let row: Option<(String,)> = dispatch!(&self.pool, p => {
            sqlx::query_as(sql).bind(&record.source).bind(&record.record_id).fetch_optional(p).await
        })?;
        Ok(row.map(|r| r.0))
    }
}

impl Tx {
    /// The person a record is linked to, if any.
    pub async fn person_of(&mut self, record: &RecordKey) -> Result<Option<String>, Error> {
        let sql = "SELECT person_id FROM person_links WHERE source_id = $1 AND record_id = $2";
        let row: Option<(String,)> = dispatch_tx!(&mut self.inner, t => {
            sqlx::query_as(sql).bind(&record.source).bind(&record.record_id).fetch_optional(&mut **t).await
        })?;
        Ok(row.map(|r| r.0))
    }

    /// The records linked to a person, by source and id.
    pub async fn records_of(&mut self, person: &str) -> Result<Vec<RecordKey>, Error> {
        let sql = "SELECT source_id, record_id FROM person_links WHERE person_id = $1 ORDER BY source_id, record_id";
        let rows: Vec<(String, String)> = dispatch_tx!(&mut self.inner, t => {
            sqlx::query_as(sql).bind(person).fetch_all(&mut **t).await
        })?;
        Ok(rows.into_iter().map(RecordKey::from).collect())
    }

    /// The greatest person id given so far (`P000000000` when none).
    pub async fn last_person(&mut self) -> Result<wherry_core::PersonId, Error> {
        let row: (Option<String>,) = dispatch_tx!(&mut self.inner, t => {
            sqlx::query_as("SELECT MAX(id) FROM persons").fetch_one(&mut **t).await
        })?;
        Ok(wherry_core::PersonId::new(
            wherry_core::PersonId::last_number(row.0.as_deref()),
        ))
    }

    /// Stores a linkage run: new persons, retirements, the links that
    /// changed (a link's `since` is when it last changed), ended links, the
    /// history and new review items (a pair already in the queue, whatever
    /// its status, is not queued again).
    pub async fn save_linkage(&mut self, l: &Linkage) -> Result<(), Error> {
        let at = now();
        let many = l.links.len() + l.created.len() + l.history.len() > BATCH;
        if let (TxInner::Postgres(t), true) = (&mut self.inner, many) {
            copy_linkage(t, l, &at).await?;
        } else {
            self.insert_linkage(l, &at).await?;
        }
        for id in &l.retired {
            dispatch_tx!(&mut self.inner, t => {
                sqlx::query("UPDATE persons SET retired_at = $1 WHERE id = $2").bind(&at).bind(id).execute(&mut **t).await.map(|_| ())
            })?;
        }
        for k in &l.unlinked {
            dispatch_tx!(&mut self.inner, t => {
                sqlx::query("DELETE FROM person_links WHERE source_id = $1 AND record_id = $2")
                    .bind(&k.source).bind(&k.record_id).execute(&mut **t).await.map(|_| ())
            })?;
        }
        self.queue_review(&l.review, &at).await
    }

    /// New persons, links and history by multi-row inserts (SQLite).
    async fn insert_linkage(&mut self, l: &Linkage, at: &str) -> Result<(), Error> {
        for chunk in l.created.chunks(BATCH) {
            let sql = format!(
                "INSERT INTO persons (id, created_at) VALUES {}",
                self.tuples(chunk.len(), 2, "")
            );
            dispatch_tx!(&mut self.inner, t => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
                for id in chunk {
                    q = q.bind(id).bind(at);
                }
                q.execute(&mut **t).await.map(|_| ())
            })?;
        }
        for chunk in l.links.chunks(BATCH) {
            let sql = format!(
                "INSERT INTO person_links (source_id, record_id, person_id, since, method, probability) VALUES {}
                 ON CONFLICT (source_id, record_id) DO UPDATE SET person_id = excluded.person_id, since = excluded.since,
                 method = excluded.method, probability = excluded.probability",
                self.tuples(chunk.len(), 6, "")
            );
            dispatch_tx!(&mut self.inner, t => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
                for l in chunk {
                    q = q.bind(&l.source).bind(&l.record_id).bind(&l.person).bind(at).bind(l.method.as_str()).bind(l.probability);
                }
                q.execute(&mut **t).await.map(|_| ())
            })?;
        }
        let history: Vec<HistoryRow> = l.history.iter().map(HistoryRow::of).collect();
        for chunk in history.chunks(BATCH) {
            let sql = format!(
                "INSERT INTO link_history (kind, person_id, others, at, detail) VALUES {}",
                self.tuples(chunk.len(), 5, "")
            );
            dispatch_tx!(&mut self.inner, t => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
                for h in chunk {
                    q = q.bind(h.kind).bind(h.person).bind(&h.others).bind(at).bind(&h.detail);
                }
                q.execute(&mut **t).await.map(|_| ())
            })?;
        }
        Ok(())
    }
}

/// PostgreSQL: new persons, links (through a temporary table and one
/// upsert) and history by COPY.
async fn copy_linkage(
    t: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    l: &Linkage,
    at: &str,
) -> Result<(), Error> {
    copy_lines(
        t,
        "COPY persons (id, created_at) FROM STDIN WITH (FORMAT csv)",
        l.created.iter().map(|id| vec![id.as_str(), at]),
    )
    .await?;
    // The first run: nothing to update, so straight in.
    let (linked,): (bool,) = sqlx::query_as("SELECT EXISTS (SELECT 1 FROM person_links)")
        .fetch_one(&mut **t)
        .await?;
    if !linked {
        copy_binary(
            t,
            "COPY person_links (source_id, record_id, person_id, since, method, probability) FROM STDIN WITH (FORMAT binary)",
            l.links.iter().map(|k| {
                vec![
                    Cell::Text(&k.source),
                    Cell::Text(&k.record_id),
                    Cell::Text(&k.person),
                    Cell::Text(at),
                    Cell::Text(k.method.as_str()),
                    k.probability.map_or(Cell::Null, Cell::Float),
                ]
            }),
        )
        .await?;
        return copy_history(t, l, at).await;
    }
    sqlx::query(
        "CREATE TEMP TABLE IF NOT EXISTS links_in (source_id TEXT, record_id TEXT, person_id TEXT, method TEXT, probability TEXT) ON COMMIT DROP",
    )
    .execute(&mut **t)
    .await?;
    let probabilities: Vec<String> = l
        .links
        .iter()
        .map(|k| k.probability.map(|p| p.to_string()).unwrap_or_default())
        .collect();
    copy_lines(
        t,
        "COPY links_in FROM STDIN WITH (FORMAT csv)",
        l.links.iter().zip(&probabilities).map(|(k, p)| {
            vec![
                k.source.as_str(),
                k.record_id.as_str(),
                k.person.as_str(),
                k.method.as_str(),
                p.as_str(),
            ]
        }),
    )
    .await?;
    sqlx::query(
        "INSERT INTO person_links (source_id, record_id, person_id, since, method, probability)
         SELECT source_id, record_id, person_id, $1, method, NULLIF(probability, '')::DOUBLE PRECISION FROM links_in
         ON CONFLICT (source_id, record_id) DO UPDATE SET person_id = excluded.person_id, since = excluded.since,
         method = excluded.method, probability = excluded.probability",
    )
    .bind(at)
    .execute(&mut **t)
    .await?;
    sqlx::query("TRUNCATE links_in").execute(&mut **t).await?;
    copy_history(t, l, at).await
}

/// PostgreSQL: a linkage's history by COPY.
async fn copy_history(
    t: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    l: &Linkage,
    at: &str,
) -> Result<(), Error> {
    let rows: Vec<HistoryRow> = l.history.iter().map(HistoryRow::of).collect();
    copy_lines(
        t,
        "COPY link_history (kind, person_id, others, at, detail) FROM STDIN WITH (FORMAT csv)",
        rows.iter()
            .map(|h| vec![h.kind, h.person, h.others.as_str(), at, h.detail.as_str()]),
    )
    .await
}
