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

use wherry_core::{Date, PersonChange, Role};
use wherry_store::{Linkage, Store, Tx};

use crate::{Agreements, Caller, Error};

/// What was removed: per source, the record ids (for the real-time index
/// to forget), and the persons retired.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Removed {
    /// Source → record ids erased.
    pub records: BTreeMap<String, Vec<String>>,
    /// Persons left with no records.
    pub retired: Vec<String>,
    /// Home sensor devices erased with the person (an erasure only).
    pub sensor_devices: u64,
    /// Sensor readings erased with them.
    pub sensor_readings: u64,
    /// Sensor alerts erased with them (with their deliveries and the
    /// resident's thresholds).
    pub sensor_alerts: u64,
    /// Whether the store then left no copy of the deleted rows (see
    /// `Store::reclaim`).
    pub reclaimed: bool,
}

/// Shortest reason taken for an erasure.
pub const MIN_ERASURE_REASON: usize = 10;
/// Longest reason taken for an erasure.
pub const MAX_ERASURE_REASON: usize = 1000;

impl Removed {
    /// Records erased in all.
    pub fn count(&self) -> usize {
        self.records.values().map(Vec::len).sum()
    }
}

/// Erases every record linked to `person`, retires the person and writes
/// a tombstone with the written `reason`: all in one transaction; then
/// has the store leave no copy of what was deleted. A person already
/// erased (no records left) is left as they are: nothing is done and no
/// second tombstone written. For the admin role.
pub async fn erase_person(
    store: &Store,
    caller: &Caller,
    person: &str,
    reason: &str,
    request: &str,
) -> Result<Removed, Error> {
    caller.require(&[Role::Admin], "erasure")?;
    let reason = reason.trim();
    let n = reason.chars().count();
    if !(MIN_ERASURE_REASON..=MAX_ERASURE_REASON).contains(&n) {
        return Err(Error::Invalid(format!(
            "an erasure needs a written reason of {MIN_ERASURE_REASON} to {MAX_ERASURE_REASON} characters"
        )));
    }
    if !store.person_exists(person).await? {
        return Err(Error::NotFound("resident"));
    }
    let mut tx = store.begin().await?;
    let mut removed = Removed::default();
    for k in tx.records_of(person).await? {
        removed
            .records
            .entry(k.source)
            .or_default()
            .push(k.record_id);
    }
    let (devices, readings) = tx.erase_sensors_of(person).await?;
    removed.sensor_devices = devices;
    removed.sensor_readings = readings;
    removed.sensor_alerts = tx.erase_alerts_of(person).await?;
    if removed.records.is_empty() && devices == 0 && removed.sensor_alerts == 0 {
        drop(tx);
        return Ok(removed);
    }
    erase(&mut tx, &mut removed).await?;
    let why = Some(reason);
    tombstone(
        &mut tx,
        caller,
        "erasure",
        Some(person),
        &removed,
        why,
        request,
    )
    .await?;
    tx.commit().await?;
    removed.reclaimed = store.reclaim().await?;
    Ok(removed)
}

/// The first day a record may still be kept under `years` of retention on
/// `today` (29 February counts back to the 28th).
pub fn retention_cutoff(today: Date, years: u32) -> Result<Date, Error> {
    Date::new(
        today.year() - years as i32,
        today.month(),
        today.day().min(28),
    )
    .map_err(|e| Error::Corrupt {
        what: "a retention period",
        why: e.to_string(),
    })
}

/// Removes every record whose retention period has run out on `today`
/// (see the module docs), one tombstone per source. For the admin role.
pub async fn expire(
    store: &Store,
    caller: &Caller,
    today: Date,
    request: &str,
) -> Result<Removed, Error> {
    caller.require(&[Role::Admin], "retention")?;
    let agreements = Agreements::load(store).await?;
    let mut all = Removed::default();
    let mut tx = store.begin().await?;
    let mut last = None;
    for (source, terms) in agreements.iter() {
        let cutoff = retention_cutoff(today, terms.agreement.retention_years)?;
        let ids = store.expired_records(source, &cutoff.to_string()).await?;
        let mut removed = Removed::default();
        if !ids.is_empty() {
            removed.records.insert(source.clone(), ids);
            erase(&mut tx, &mut removed).await?;
        }
        // The sensor service's agreement also governs its readings and
        // alerts: those older than its retention go too.
        if source == crate::sensors::SOURCE {
            let before_ms = cutoff.days_since_epoch() * 86_400_000;
            let (readings, alerts) = tx.expire_sensor_data(before_ms).await?;
            removed.sensor_readings = readings;
            removed.sensor_alerts = alerts;
        }
        if removed.count() == 0 && removed.sensor_readings == 0 && removed.sensor_alerts == 0 {
            continue;
        }
        last = Some(tombstone(&mut tx, caller, "retention", None, &removed, None, request).await?);
        all.retired.extend(removed.retired);
        all.records.extend(removed.records);
        all.sensor_readings += removed.sensor_readings;
        all.sensor_alerts += removed.sensor_alerts;
    }
    tx.commit().await?;
    if let Some(stone) = &last {
        checkpoint(stone)?;
    }
    if all.count() > 0 || all.sensor_readings > 0 || all.sensor_alerts > 0 {
        all.reclaimed = store.reclaim().await?;
    }
    Ok(all)
}

/// Deletes `removed.records` and retires the persons they leave empty.
async fn erase(tx: &mut Tx, removed: &mut Removed) -> Result<(), Error> {
    let mut persons = BTreeSet::new();
    for (source, ids) in &removed.records {
        for id in ids {
            let key = wherry_store::RecordKey::new(source.as_str(), id.as_str());
            if let Some(p) = tx.person_of(&key).await? {
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
                .push(PersonChange::Retired { person: p.clone() });
            linkage.retired.push(p);
        }
    }
    tx.save_linkage(&linkage).await?;
    removed.retired = linkage.retired;
    Ok(())
}

async fn tombstone(
    tx: &mut Tx,
    caller: &Caller,
    action: &str,
    person: Option<&str>,
    removed: &Removed,
    reason: Option<&str>,
    request: &str,
) -> Result<wherry_store::AuditEntry, Error> {
    let sources: Vec<&String> = removed.records.keys().collect();
    let mut fields = vec![format!("records_erased:{}", removed.count())];
    if removed.sensor_devices > 0 {
        fields.push(format!("sensor_devices_erased:{}", removed.sensor_devices));
    }
    if removed.sensor_devices > 0 || removed.sensor_readings > 0 {
        fields.push(format!(
            "sensor_readings_erased:{}",
            removed.sensor_readings
        ));
    }
    if removed.sensor_alerts > 0 {
        fields.push(format!("sensor_alerts_erased:{}", removed.sensor_alerts));
    }
    fields.extend(reason.map(|r| format!("reason:{r}")));
    let entry = wherry_store::AuditEntry {
        sources: serde_json::to_string(&sources).expect("strings serialise"),
        fields: serde_json::to_string(&fields).expect("strings serialise"),
        ..caller.entry(action, person, request)
    };
    Ok(crate::audit::append(tx, entry).await?)
}

/// The trail's checkpoint after a tombstone's commit.
fn checkpoint(stone: &wherry_store::AuditEntry) -> Result<(), Error> {
    crate::trail::checkpoint(stone.seq, &stone.hash)
        .map_err(|e| Error::Audit(format!("the audit checkpoint could not be written: {e}")))
}
