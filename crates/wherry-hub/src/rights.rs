//! Residents' data protection rights and the agreements' retention
//! periods: erasing what is held about a person, and removing the records
//! each agreement no longer allows to be kept. Both leave a tombstone in the
//! audit log (who, why, which sources, how many records; never the erased
//! content) in the same transaction as the removal.
//!
//! Retention rule: a record expires when its partner no longer holds it
//! (it was withdrawn by a full extract) and neither its newest version nor
//! its newest contact event falls within its source's `retention_years`.
//! Records a partner still sends are current and kept.

use std::collections::{BTreeMap, BTreeSet};

use wherry_core::Date;
use wherry_link::persons::PersonEvent;
use wherry_store::{AuditEntry, Linkage, Store, Tx};

use crate::Error;
use crate::batch::history_entry;

/// Who asked for a removal (for the tombstone).
#[derive(Debug, Clone)]
pub struct Requested {
    /// The user.
    pub by: String,
    /// Their role.
    pub role: String,
    /// The purpose.
    pub purpose: String,
    /// The request id.
    pub request_id: String,
}

/// What was removed: per source, the record ids (for the real-time index
/// to forget), and the persons retired.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Removed {
    /// Source → record ids erased.
    pub records: BTreeMap<String, Vec<String>>,
    /// Persons left with no records.
    pub retired: Vec<String>,
}

impl Removed {
    /// Records erased in all.
    pub fn count(&self) -> usize {
        self.records.values().map(Vec::len).sum()
    }
}

/// Erases every record linked to `person`, retires the person and writes
/// a tombstone: all in one transaction.
pub async fn erase_person(store: &Store, person: &str, req: &Requested) -> Result<Removed, Error> {
    if !store.person_exists(person).await? {
        return Err(Error::NoSuchPerson);
    }
    let mut tx = store.begin().await?;
    let mut removed = Removed::default();
    for (source, id) in tx.records_of(person).await? {
        removed.records.entry(source).or_default().push(id);
    }
    erase(&mut tx, &mut removed).await?;
    tombstone(&mut tx, "erasure", Some(person), &removed, req).await?;
    tx.commit().await?;
    Ok(removed)
}

/// Removes every record whose retention period has run out on `today`
/// (see the module docs), one tombstone per source.
pub async fn expire(store: &Store, today: Date, req: &Requested) -> Result<Removed, Error> {
    let mut all = Removed::default();
    let manifests = store.source_manifests().await?;
    let mut tx = store.begin().await?;
    for (source, manifest) in manifests {
        let years: u32 = serde_json::from_str::<serde_json::Value>(&manifest)
            .ok()
            .and_then(|m| m["agreement"]["retention_years"].as_u64())
            .and_then(|y| u32::try_from(y).ok())
            .ok_or(Error::Corrupt {
                what: "a manifest",
                why: "no agreement.retention_years".into(),
            })?;
        let cutoff = Date::new(
            today.year() - years as i32,
            today.month(),
            today.day().min(28),
        )
        .map_err(|e| Error::Corrupt {
            what: "a retention period",
            why: e.to_string(),
        })?;
        let ids = store.expired_records(&source, &cutoff.to_string()).await?;
        if ids.is_empty() {
            continue;
        }
        let mut removed = Removed::default();
        removed.records.insert(source, ids);
        erase(&mut tx, &mut removed).await?;
        tombstone(&mut tx, "retention", None, &removed, req).await?;
        all.retired.extend(removed.retired);
        all.records.extend(removed.records);
    }
    tx.commit().await?;
    Ok(all)
}

/// Deletes `removed.records` and retires the persons they leave empty.
async fn erase(tx: &mut Tx, removed: &mut Removed) -> Result<(), Error> {
    let mut persons = BTreeSet::new();
    for (source, ids) in &removed.records {
        for id in ids {
            if let Some(p) = tx.person_of(source, id).await? {
                persons.insert(p);
            }
        }
        tx.erase_records(source, ids).await?;
    }
    let mut linkage = Linkage::default();
    for p in persons {
        if tx.records_of(&p).await?.is_empty() {
            linkage
                .history
                .push(history_entry(&PersonEvent::Retired { person: p.clone() }));
            linkage.retired.push(p);
        }
    }
    tx.save_linkage(&linkage).await?;
    removed.retired = linkage.retired;
    Ok(())
}

async fn tombstone(
    tx: &mut Tx,
    action: &str,
    person: Option<&str>,
    removed: &Removed,
    req: &Requested,
) -> Result<(), Error> {
    let sources: Vec<&String> = removed.records.keys().collect();
    let entry = AuditEntry {
        user_name: req.by.clone(),
        role: req.role.clone(),
        purpose: req.purpose.clone(),
        action: action.into(),
        person_id: person.map(str::to_string),
        sources: serde_json::to_string(&sources).expect("strings serialise"),
        fields: serde_json::to_string(&[format!("records_erased:{}", removed.count())])
            .expect("strings serialise"),
        request_id: req.request_id.clone(),
        ..AuditEntry::default()
    };
    wherry_access::audit::append(tx, entry).await?;
    Ok(())
}
