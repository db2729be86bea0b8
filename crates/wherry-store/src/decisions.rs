//! Steward decisions: two records are the same resident (`must_link`) or
//! different residents (`cannot_link`). Every later linkage run and every
//! real-time placement respects them.

use serde::Serialize;
use wherry_core::clock::now;

use crate::{Error, RecordKey, Store, Tx};

/// What a steward decided about two records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// The same resident.
    MustLink,
    /// Different residents.
    CannotLink,
}

impl DecisionKind {
    /// As stored: `must_link` or `cannot_link`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MustLink => "must_link",
            Self::CannotLink => "cannot_link",
        }
    }

    /// `MustLink` when the records are the same resident.
    pub fn of(same_person: bool) -> Self {
        if same_person {
            Self::MustLink
        } else {
            Self::CannotLink
        }
    }

    fn parse(s: &str) -> Result<Self, Error> {
        match s {
            "must_link" => Ok(Self::MustLink),
            "cannot_link" => Ok(Self::CannotLink),
            other => Err(Error::Corrupt {
                table: "steward_decisions",
                detail: format!("unknown kind {other:?}"),
            }),
        }
    }
}

/// A steward decision about two records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// What was decided.
    pub kind: DecisionKind,
    /// One record.
    pub left: RecordKey,
    /// The other.
    pub right: RecordKey,
}

/// A steward decision seen from one of its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionAbout {
    /// The other record.
    pub other: RecordKey,
    /// What was decided.
    pub kind: DecisionKind,
}

type DecisionRow = (String, String, String, String, String);

fn decision(row: DecisionRow) -> Result<Decision, Error> {
    let (kind, sl, rl, sr, rr) = row;
    Ok(Decision {
        kind: DecisionKind::parse(&kind)?,
        left: RecordKey::from((sl, rl)),
        right: RecordKey::from((sr, rr)),
    })
}

impl Store {
    /// Every steward decision, oldest first.
    pub async fn decisions(&self) -> Result<Vec<Decision>, Error> {
        let sql = "SELECT kind, source_l, record_l, source_r, record_r FROM steward_decisions ORDER BY id";
        let rows: Vec<DecisionRow> =
            dispatch!(&self.pool, p => sqlx::query_as(sql).fetch_all(p).await)?;
        rows.into_iter().map(decision).collect()
    }
}

impl Tx {
    /// Records a steward decision.
    pub async fn decide(
        &mut self,
        kind: DecisionKind,
        left: &RecordKey,
        right: &RecordKey,
        by: &str,
        reason: &str,
    ) -> Result<(), Error> {
        let sql = "INSERT INTO steward_decisions (kind, source_l, record_l, source_r, record_r, decided_by, reason, at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        let at = now();
        dispatch_tx!(&mut self.inner, t => {
            sqlx::query(sql).bind(kind.as_str()).bind(&left.source).bind(&left.record_id).bind(&right.source)
                .bind(&right.record_id).bind(by).bind(reason).bind(&at)
                .execute(&mut **t).await.map(|_| ())
        })?;
        Ok(())
    }

    /// Steward decisions about one record, oldest first.
    pub async fn decisions_about(
        &mut self,
        record: &RecordKey,
    ) -> Result<Vec<DecisionAbout>, Error> {
        let sql = "SELECT kind, source_l, record_l, source_r, record_r FROM steward_decisions
                   WHERE (source_l = $1 AND record_l = $2) OR (source_r = $1 AND record_r = $2) ORDER BY id";
        let rows: Vec<DecisionRow> = dispatch_tx!(&mut self.inner, t => {
            sqlx::query_as(sql).bind(&record.source).bind(&record.record_id).fetch_all(&mut **t).await
        })?;
        rows.into_iter()
            .map(|row| {
                let d = decision(row)?;
                let other = if d.left == *record { d.right } else { d.left };
                Ok(DecisionAbout {
                    other,
                    kind: d.kind,
                })
            })
            .collect()
    }
}
