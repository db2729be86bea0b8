//! A resident's subject access request, answered as one document: every
//! version of every record held about them, how each is linked, their
//! contact events, their home sensors (with each one's latest status
//! report) and every reading stored from them,
//! and who has seen their record, when and why.

use serde_json::{Value, json};
use wherry_core::Role;
use wherry_store::AuditEntry;

use crate::{Access, Caller, Error};

impl Access {
    /// Everything held about `person` and who has seen it, for the admin
    /// role; audited (`subject_access`) before it is returned. `None` when
    /// no resident has that id.
    pub async fn subject_access(
        &self,
        caller: &Caller,
        person: &str,
        request: &str,
    ) -> Result<Option<Value>, Error> {
        caller.require(&[Role::Admin], "a subject access request")?;
        let store = self.store();
        if !store.person_exists(person).await? {
            return Ok(None);
        }
        let versions = store.person_versions(person).await?;
        let links = store.linked_records(person).await?;
        let events = store.person_events(person).await?;
        let devices = store.devices_of(person).await?;
        let statuses = store.statuses_of(person).await?;
        let readings = store.uplinks_of_person(person).await?;
        let alerts = store.alerts(Some(person), true).await?;
        let thresholds = store.thresholds(person).await?;
        // The audit read comes before this request's own entry, which the
        // resident's next request will show.
        let seen = store.audit_about(person).await?;
        let sources: std::collections::BTreeSet<&String> =
            versions.iter().map(|v| &v.source).collect();
        self.record(vec![AuditEntry {
            sources: serde_json::to_string(&sources).expect("strings serialise"),
            fields: r#"["*"]"#.into(),
            ..caller.entry("subject_access", Some(person), request)
        }])
        .await?;
        let parse = |s: &str| serde_json::from_str::<Value>(s).unwrap_or(Value::Null);
        let versions: Vec<Value> = versions
            .iter()
            .map(|v| {
                json!({
                    "source": v.source, "record_id": v.record_id, "version": v.version,
                    "stored_at": v.created_at, "fields": parse(&v.fields),
                    "attributes": parse(&v.attributes), "as_sent": parse(&v.raw),
                })
            })
            .collect();
        let links: Vec<Value> = links
            .iter()
            .map(|l| json!({"source": l.source, "record_id": l.record_id, "method": l.method, "probability": l.probability}))
            .collect();
        let seen: Vec<Value> = seen
            .iter()
            .map(|e| {
                json!({
                    "at": e.at, "user": e.user_name, "role": e.role, "purpose": e.purpose,
                    "action": e.action, "sources": parse(&e.sources), "fields": parse(&e.fields),
                    "break_glass": e.break_glass,
                })
            })
            .collect();
        Ok(Some(json!({
            "person": person,
            "generated_at": wherry_core::clock::now(),
            "records": versions,
            "links": links,
            "contact_events": events,
            "sensor_devices": devices,
            "sensor_device_status": statuses,
            "sensor_readings": readings.iter().map(|u| json!({
                "dev_eui": u.dev_eui, "at": wherry_core::clock::rfc3339(u.time_ms.div_euclid(1000)),
                "reading": parse(&u.reading),
            })).collect::<Vec<Value>>(),
            "sensor_alerts": alerts,
            "sensor_thresholds": thresholds.map(|t| json!({
                "thresholds": parse(&t.thresholds), "set_by": t.set_by,
                "set_at": wherry_core::clock::rfc3339(t.set_ms.div_euclid(1000)),
            })),
            "disclosures": seen,
        })))
    }
}
