//! A steward's hand on the links, taking effect at once: a manual link
//! merges two records' persons, a manual unlink moves a record out to a
//! person of its own, and settling a review item does one or the other.
//! Each is one transaction that also records the decision (`must_link` or
//! `cannot_link`), so every later linkage run keeps it, and writes the
//! change (merged, split, created, retired) to the change feed.

use wherry_link::persons::PersonEvent;
use wherry_store::{Link, Linkage, Store, Tx};

use crate::Error;
use crate::batch::history_entry;

/// A record named by its source and id.
pub type RecordRef = (String, String);

/// What a steward's action did to the persons.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Effect {
    /// The person the left record (or, after an unlink, the right record's
    /// former person) is with now.
    pub person: String,
    /// Persons merged into `person` (their records moved, their ids retired).
    pub absorbed: Vec<String>,
    /// A person created for the unlinked record.
    pub created: Option<String>,
}

/// Links `left` and `right` as the same resident: their persons merge
/// (into `left`'s), and the decision stands for every later run.
pub async fn link(
    store: &Store,
    left: &RecordRef,
    right: &RecordRef,
    by: &str,
    reason: &str,
) -> Result<Effect, Error> {
    decide(store, true, left, right, by, reason).await
}

/// Marks `left` and `right` as different residents: if they share a
/// person, `right` moves to a new person of its own.
pub async fn unlink(
    store: &Store,
    left: &RecordRef,
    right: &RecordRef,
    by: &str,
    reason: &str,
) -> Result<Effect, Error> {
    decide(store, false, left, right, by, reason).await
}

async fn decide(
    store: &Store,
    same: bool,
    left: &RecordRef,
    right: &RecordRef,
    by: &str,
    reason: &str,
) -> Result<Effect, Error> {
    let mut tx = store.begin().await?;
    let effect = apply(&mut tx, same, left, right, by, reason).await?;
    tx.commit().await?;
    Ok(effect)
}

/// Settles open review item `id`: accepted links its pair, rejected
/// unlinks it. `None` when no open item has that id.
pub async fn settle(
    store: &Store,
    id: i64,
    accept: bool,
    by: &str,
    reason: &str,
) -> Result<Option<Effect>, Error> {
    let mut tx = store.begin().await?;
    let Some((sl, rl, sr, rr)) = tx.claim_review(id, accept).await? else {
        return Ok(None);
    };
    let effect = apply(&mut tx, accept, &(sl, rl), &(sr, rr), by, reason).await?;
    tx.commit().await?;
    Ok(Some(effect))
}

/// Records the decision and moves the records to match it.
async fn apply(
    tx: &mut Tx,
    same: bool,
    left: &RecordRef,
    right: &RecordRef,
    by: &str,
    reason: &str,
) -> Result<Effect, Error> {
    let kind = if same { "must_link" } else { "cannot_link" };
    tx.decide(kind, pair(left), pair(right), by, reason).await?;
    if same {
        merge(tx, left, right).await
    } else {
        split(tx, left, right).await
    }
}

fn pair(r: &RecordRef) -> (&str, &str) {
    (r.0.as_str(), r.1.as_str())
}

async fn person(tx: &mut Tx, r: &RecordRef) -> Result<String, Error> {
    tx.person_of(&r.0, &r.1)
        .await?
        .ok_or_else(|| Error::NotLinked(r.0.clone(), r.1.clone()))
}

async fn merge(tx: &mut Tx, left: &RecordRef, right: &RecordRef) -> Result<Effect, Error> {
    let keep = person(tx, left).await?;
    let other = person(tx, right).await?;
    if keep == other {
        return Ok(Effect {
            person: keep,
            absorbed: vec![],
            created: None,
        });
    }
    let mut linkage = Linkage::default();
    for (source, record_id) in tx.records_of(&other).await? {
        linkage.links.push(Link {
            source,
            record_id,
            person: keep.clone(),
            method: "steward".into(),
            probability: None,
        });
    }
    linkage.retired.push(other.clone());
    linkage.history.push(history_entry(&PersonEvent::Merged {
        person: keep.clone(),
        absorbed: vec![other.clone()],
    }));
    linkage.history.push(history_entry(&PersonEvent::Retired {
        person: other.clone(),
    }));
    tx.save_linkage(&linkage).await?;
    Ok(Effect {
        person: keep,
        absorbed: vec![other],
        created: None,
    })
}

async fn split(tx: &mut Tx, left: &RecordRef, right: &RecordRef) -> Result<Effect, Error> {
    let keep = person(tx, left).await?;
    let other = person(tx, right).await?;
    if keep != other {
        return Ok(Effect {
            person: keep,
            absorbed: vec![],
            created: None,
        });
    }
    let fresh = format!("P{:09}", tx.last_person_number().await? + 1);
    let linkage = Linkage {
        links: vec![Link {
            source: right.0.clone(),
            record_id: right.1.clone(),
            person: fresh.clone(),
            method: "steward".into(),
            probability: None,
        }],
        created: vec![fresh.clone()],
        history: vec![
            history_entry(&PersonEvent::Created {
                person: fresh.clone(),
            }),
            history_entry(&PersonEvent::Split {
                person: keep.clone(),
                into: vec![fresh.clone()],
            }),
        ],
        ..Linkage::default()
    };
    tx.save_linkage(&linkage).await?;
    Ok(Effect {
        person: keep,
        absorbed: vec![],
        created: Some(fresh),
    })
}
