//! A steward's hand on the links, taking effect at once, whichever path
//! asks (the API, the web UI, `wherry review`): a manual link merges two
//! records' persons, a manual unlink moves a record out to a person of its
//! own, and settling a review item does one or the other. Each is one
//! transaction that also records the decision (`must_link` or
//! `cannot_link`), so every later linkage run keeps it, and writes the
//! change (merged, split, created, retired) to the change feed; then the
//! audit entry names the person.

use wherry_access::{Access, Caller};
use wherry_core::{PersonChange, Role};
use wherry_store::{DecisionKind, Link, LinkMethod, Linkage, RecordKey, Tx};

use crate::Error;

/// Longest reason a steward may give.
pub const MAX_REASON: usize = 500;

/// Refuses a reason over [`MAX_REASON`] characters (nothing is done).
fn check_reason(reason: &str) -> Result<(), Error> {
    if reason.chars().count() > MAX_REASON {
        return Err(Error::ReasonTooLong { max: MAX_REASON });
    }
    Ok(())
}

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
    access: &Access,
    caller: &Caller,
    pair: (&RecordKey, &RecordKey),
    reason: &str,
    request: &str,
) -> Result<Effect, Error> {
    decide(access, caller, true, pair, reason, request).await
}

/// Marks `left` and `right` as different residents: if they share a
/// person, `right` moves to a new person of its own.
pub async fn unlink(
    access: &Access,
    caller: &Caller,
    pair: (&RecordKey, &RecordKey),
    reason: &str,
    request: &str,
) -> Result<Effect, Error> {
    decide(access, caller, false, pair, reason, request).await
}

async fn decide(
    access: &Access,
    caller: &Caller,
    same: bool,
    (left, right): (&RecordKey, &RecordKey),
    reason: &str,
    request: &str,
) -> Result<Effect, Error> {
    caller.require(&[Role::Steward], "linking records by hand")?;
    check_reason(reason)?;
    if left == right {
        return Err(Error::SameRecord);
    }
    let mut tx = access.store().begin().await?;
    let effect = apply(&mut tx, same, left, right, &caller.user, reason).await?;
    tx.commit().await?;
    let action = if same { "link" } else { "unlink" };
    access
        .record(vec![caller.entry(action, Some(&effect.person), request)])
        .await?;
    Ok(effect)
}

/// Settles open review item `id`: accepted links its pair, rejected
/// unlinks it. `None` when no open item has that id.
pub async fn settle(
    access: &Access,
    caller: &Caller,
    id: i64,
    accept: bool,
    reason: &str,
    request: &str,
) -> Result<Option<Effect>, Error> {
    caller.require(&[Role::Steward], "settling review items")?;
    check_reason(reason)?;
    let mut tx = access.store().begin().await?;
    let Some(item) = tx.claim_review(id, accept).await? else {
        return Ok(None);
    };
    let effect = apply(
        &mut tx,
        accept,
        &item.left,
        &item.right,
        &caller.user,
        reason,
    )
    .await?;
    tx.commit().await?;
    let action = if accept {
        "review_accept"
    } else {
        "review_reject"
    };
    access
        .record(vec![caller.entry(action, Some(&effect.person), request)])
        .await?;
    Ok(Some(effect))
}

/// Records the decision and moves the records to match it.
async fn apply(
    tx: &mut Tx,
    same: bool,
    left: &RecordKey,
    right: &RecordKey,
    by: &str,
    reason: &str,
) -> Result<Effect, Error> {
    tx.decide(DecisionKind::of(same), left, right, by, reason)
        .await?;
    if same {
        merge(tx, left, right).await
    } else {
        split(tx, left, right).await
    }
}

async fn person(tx: &mut Tx, r: &RecordKey) -> Result<String, Error> {
    tx.person_of(r)
        .await?
        .ok_or_else(|| Error::NotLinked(r.source.clone(), r.record_id.clone()))
}

fn unchanged(person: String) -> Effect {
    Effect {
        person,
        absorbed: vec![],
        created: None,
    }
}

async fn merge(tx: &mut Tx, left: &RecordKey, right: &RecordKey) -> Result<Effect, Error> {
    let keep = person(tx, left).await?;
    let other = person(tx, right).await?;
    if keep == other {
        return Ok(unchanged(keep));
    }
    let mut linkage = Linkage::default();
    for k in tx.records_of(&other).await? {
        linkage.links.push(Link {
            source: k.source,
            record_id: k.record_id,
            person: keep.clone(),
            method: LinkMethod::Steward,
            probability: None,
        });
    }
    linkage.retired.push(other.clone());
    linkage.history.push(PersonChange::Merged {
        person: keep.clone(),
        absorbed: vec![other.clone()],
    });
    linkage.history.push(PersonChange::Retired {
        person: other.clone(),
    });
    tx.save_linkage(&linkage).await?;
    Ok(Effect {
        person: keep,
        absorbed: vec![other],
        created: None,
    })
}

async fn split(tx: &mut Tx, left: &RecordKey, right: &RecordKey) -> Result<Effect, Error> {
    let keep = person(tx, left).await?;
    let other = person(tx, right).await?;
    if keep != other {
        return Ok(unchanged(keep));
    }
    let fresh = tx.last_person().await?.next().to_string();
    let linkage = Linkage {
        links: vec![Link {
            source: right.source.clone(),
            record_id: right.record_id.clone(),
            person: fresh.clone(),
            method: LinkMethod::Steward,
            probability: None,
        }],
        created: vec![fresh.clone()],
        history: vec![
            PersonChange::Created {
                person: fresh.clone(),
            },
            PersonChange::Split {
                person: keep.clone(),
                into: vec![fresh.clone()],
            },
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
