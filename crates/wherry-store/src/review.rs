//! The review queue: pairs whose match probability fell in the review
//! range, each with its explanation (JSON), waiting for a steward. A pair
//! is queued once, whatever became of it; settling an item claims it, so
//! of two stewards deciding one item at once, one wins.

use std::str::FromStr;

use serde::Serialize;
use wherry_core::clock::now;

use crate::{Error, RecordKey, Store, Tx};

/// Where a review item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    /// Waiting for a steward.
    Open,
    /// The records were found to be one resident.
    Accepted,
    /// The records were found to be different residents.
    Rejected,
}

impl ReviewStatus {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
        }
    }
}

impl FromStr for ReviewStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "open" => Ok(Self::Open),
            "accepted" => Ok(Self::Accepted),
            "rejected" => Ok(Self::Rejected),
            _ => Err("a review status is open, accepted or rejected".into()),
        }
    }
}

/// A pair to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReviewItem {
    /// One record (the lesser key).
    pub left: RecordKey,
    /// The other.
    pub right: RecordKey,
    /// Their match probability.
    pub probability: f64,
    /// Why, as `wherry_link::explain::Explanation` JSON.
    pub explanation: String,
}

/// A review item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewItem {
    /// Its number.
    pub id: i64,
    /// One record.
    pub left: RecordKey,
    /// The other.
    pub right: RecordKey,
    /// Their match probability.
    pub probability: f64,
    /// Why (JSON; text for items queued before explanations were JSON).
    pub explanation: String,
    /// Where it stands.
    pub status: ReviewStatus,
}

type ItemRow = (i64, String, String, String, String, f64, String, String);

fn item(r: ItemRow) -> Result<ReviewItem, Error> {
    Ok(ReviewItem {
        id: r.0,
        left: RecordKey::from((r.1, r.2)),
        right: RecordKey::from((r.3, r.4)),
        probability: r.5,
        explanation: r.6,
        status: r.7.parse().map_err(|detail| Error::Corrupt {
            table: "review_queue",
            detail,
        })?,
    })
}

const SELECT: &str = "SELECT id, source_l, record_l, source_r, record_r, probability, explanation, status FROM review_queue";

impl Store {
    /// Review items with `status` (or all), by number. An open item whose
    /// two records a steward has since put with one person (a link, or the
    /// merge of accepting another item) has nothing left to decide and is
    /// not listed as open. An item the matcher linked itself in the
    /// uncertain band stays: a steward confirms it or splits it.
    pub async fn review_items(
        &self,
        status: Option<ReviewStatus>,
    ) -> Result<Vec<ReviewItem>, Error> {
        let sql = format!(
            "{SELECT} WHERE ($1 = '' OR status = $1)
               AND NOT ($1 = 'open' AND EXISTS (
                   SELECT 1 FROM person_links a
                   JOIN person_links b ON b.person_id = a.person_id
                   WHERE a.source_id = review_queue.source_l AND a.record_id = review_queue.record_l
                     AND b.source_id = review_queue.source_r AND b.record_id = review_queue.record_r
                     AND (a.method = 'steward' OR b.method = 'steward')))
             ORDER BY id"
        );
        let status = status.map_or("", ReviewStatus::as_str);
        let rows: Vec<ItemRow> = dispatch!(&self.pool, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(status).fetch_all(p).await
        })?;
        rows.into_iter().map(item).collect()
    }

    /// One review item, whatever its status.
    pub async fn review_item(&self, id: i64) -> Result<Option<ReviewItem>, Error> {
        let sql = format!("{SELECT} WHERE id = $1");
        let row: Option<ItemRow> = dispatch!(&self.pool, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await
        })?;
        row.map(item).transpose()
    }
}

impl Tx {
    /// Queues new review items (a pair already queued, whatever its
    /// status, is not queued again).
    pub(crate) async fn queue_review(
        &mut self,
        items: &[NewReviewItem],
        at: &str,
    ) -> Result<(), Error> {
        for i in items {
            dispatch_tx!(&mut self.inner, t => {
                sqlx::query(
                    "INSERT INTO review_queue (source_l, record_l, source_r, record_r, probability, explanation, status, created_at)
                     SELECT $1, $2, $3, $4, $5, $6, 'open', $7
                     WHERE NOT EXISTS (SELECT 1 FROM review_queue WHERE source_l = $1 AND record_l = $2 AND source_r = $3 AND record_r = $4)",
                )
                .bind(&i.left.source).bind(&i.left.record_id).bind(&i.right.source).bind(&i.right.record_id)
                .bind(i.probability).bind(&i.explanation).bind(at)
                .execute(&mut **t).await.map(|_| ())
            })?;
        }
        Ok(())
    }

    /// Claims an open review item, marking it accepted or rejected; `None`
    /// when no open item has that id.
    pub async fn claim_review(
        &mut self,
        id: i64,
        accept: bool,
    ) -> Result<Option<ReviewItem>, Error> {
        let status = if accept {
            ReviewStatus::Accepted
        } else {
            ReviewStatus::Rejected
        };
        let at = now();
        let row: Option<ItemRow> = dispatch_tx!(&mut self.inner, t => {
            sqlx::query_as(
                "UPDATE review_queue SET status = $1, decided_at = $2 WHERE id = $3 AND status = 'open'
                 RETURNING id, source_l, record_l, source_r, record_r, probability, explanation, status",
            )
            .bind(status.as_str()).bind(&at).bind(id).fetch_optional(&mut **t).await
        })?;
        row.map(item).transpose()
    }
}
