//! Home sensors' alerts and readings, disclosed under the sensor service's
//! own data sharing agreement: the source `tec_sensors`
//! (`examples/sources/tec_sensors.toml`) grants each purpose the shares
//! of the sensor service (`sensors = ["alerts", "readings", "devices"]`)
//! it may see. Every
//! disclosure and every change (a lifecycle step, thresholds, the
//! registry) is audited before it returns, one entry per resident named.

use std::collections::BTreeSet;

use wherry_core::{Purpose, Role};
use wherry_store::sensor_alerts::{StepRefused, StoredAlert, StoredThresholds};
use wherry_store::sensors::{DeviceSummary, StoredUplink};

use crate::{Access, Agreements, Caller, Denied, Error};

/// The sensor service's source id: its agreement governs alerts and readings.
pub const SOURCE: &str = "tec_sensors";

/// The roles that run the sensor service (registry, thresholds, alerts).
pub const OPERATORS: [Role; 2] = [Role::TecTeam, Role::Admin];

/// What of the sensor service a purpose may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Share {
    /// Alerts: what was expected and what happened.
    Alerts,
    /// Readings: every uplink's decoded values.
    Readings,
    /// Devices: model, use, battery, last seen.
    Devices,
}

impl Share {
    fn attribute(self) -> &'static str {
        match self {
            Share::Alerts => "alerts",
            Share::Readings => "readings",
            Share::Devices => "devices",
        }
    }
}

/// A lifecycle step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Open → acknowledged.
    Acknowledge,
    /// Open or acknowledged → resolved.
    Resolve,
}

/// A home's sensors as a purpose may see them.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HomeSensors {
    /// The resident.
    pub person_id: String,
    /// Their devices, where shared.
    pub devices: Vec<DeviceSummary>,
    /// Their alerts, newest episode first, where shared.
    pub alerts: Vec<StoredAlert>,
    /// Readings in the window asked for, where shared.
    pub readings: Vec<StoredUplink>,
    /// What the agreement withheld for this purpose.
    pub withheld: Vec<&'static str>,
    /// The resident's alert thresholds (JSON) where set, with the readings.
    pub thresholds: Option<String>,
}

/// Whether the sensor agreement in `agreements` shares `what` with `purpose`.
pub(crate) fn shares(agreements: &Agreements, purpose: Purpose, what: Share) -> bool {
    agreements
        .get(SOURCE)
        .and_then(|t| t.agreement.grant(purpose))
        .is_some_and(|g| g.sensors.iter().any(|a| a == what.attribute()))
}

impl Access {
    /// Whether the sensor agreement shares `what` with `caller`'s purpose.
    pub async fn sensor_share(&self, caller: &Caller, what: Share) -> Result<bool, Error> {
        Ok(shares(&*self.agreements().await?, caller.purpose, what))
    }

    async fn require_share(&self, caller: &Caller, what: Share) -> Result<(), Error> {
        if self.sensor_share(caller, what).await? {
            Ok(())
        } else {
            Err(Error::Denied(Denied::Agreement {
                id: SOURCE,
                what: what.attribute(),
                purpose: caller.purpose,
            }))
        }
    }

    /// Alerts (open and acknowledged, or every one with `all`) of one
    /// resident or everyone, most urgent first; audited
    /// (`sensor_alerts_view`, one entry per resident listed).
    pub async fn sensor_alerts(
        &self,
        caller: &Caller,
        person: Option<&str>,
        all: bool,
        request: &str,
    ) -> Result<Vec<StoredAlert>, Error> {
        self.require_share(caller, Share::Alerts).await?;
        let alerts = self.store().alerts(person, all).await?;
        let people: BTreeSet<&str> = alerts.iter().map(|a| a.person_id.as_str()).collect();
        let mut entries: Vec<_> = people
            .into_iter()
            .map(|p| {
                shared(
                    caller.entry("sensor_alerts_view", Some(p), request),
                    &["alerts"],
                )
            })
            .collect();
        if entries.is_empty() {
            entries.push(shared(
                caller.entry("sensor_alerts_view", person, request),
                &[],
            ));
        }
        self.record(entries).await?;
        Ok(alerts)
    }

    /// The device registry with what the hub has heard from each, for the
    /// TEC team or an administrator; audited (`sensor_devices_view`, one
    /// entry per resident whose device is listed).
    pub async fn sensor_devices(
        &self,
        caller: &Caller,
        request: &str,
    ) -> Result<Vec<DeviceSummary>, Error> {
        caller.require(&OPERATORS, "the device registry")?;
        self.require_share(caller, Share::Devices).await?;
        let devices = self.store().devices().await?;
        let people: BTreeSet<&str> = devices
            .iter()
            .filter_map(|d| d.device.person_id.as_deref())
            .collect();
        let mut entries: Vec<_> = people
            .into_iter()
            .map(|p| {
                shared(
                    caller.entry("sensor_devices_view", Some(p), request),
                    &["devices"],
                )
            })
            .collect();
        entries.push(shared(
            caller.entry("sensor_devices_view", None, request),
            &["devices"],
        ));
        self.record(entries).await?;
        Ok(devices)
    }

    /// One resident's home: devices, alerts and the readings from
    /// `from_ms` to `to_ms`, each as the agreement shares with the
    /// caller's purpose; audited (`sensor_home_view`).
    pub async fn home_sensors(
        &self,
        caller: &Caller,
        person: &str,
        from_ms: i64,
        to_ms: i64,
        request: &str,
    ) -> Result<HomeSensors, Error> {
        let mut out = HomeSensors {
            person_id: person.to_string(),
            devices: Vec::new(),
            alerts: Vec::new(),
            readings: Vec::new(),
            withheld: Vec::new(),
            thresholds: None,
        };
        let mut fields = Vec::new();
        for what in [Share::Devices, Share::Alerts, Share::Readings] {
            if self.sensor_share(caller, what).await? {
                fields.push(what.attribute());
            } else {
                out.withheld.push(what.attribute());
            }
        }
        if fields.is_empty() {
            return Err(Error::Denied(Denied::Agreement {
                id: SOURCE,
                what: "anything",
                purpose: caller.purpose,
            }));
        }
        let devices = self.store().devices().await?;
        let mine: Vec<DeviceSummary> = devices
            .into_iter()
            .filter(|d| d.device.person_id.as_deref() == Some(person))
            .collect();
        if mine.is_empty() {
            return Err(Error::NotFound("home with sensors"));
        }
        if fields.contains(&"readings") {
            for d in &mine {
                let readings = self
                    .store()
                    .uplinks_of(&d.device.dev_eui, from_ms, to_ms)
                    .await?;
                out.readings.extend(readings);
            }
            out.readings.sort_by_key(|u| (u.time_ms, u.id));
            out.thresholds = self.store().thresholds(person).await?.map(|t| t.thresholds);
        }
        if fields.contains(&"alerts") {
            out.alerts = self.store().alerts(Some(person), true).await?;
            out.alerts.sort_by_key(|a| std::cmp::Reverse(a.due_ms));
        }
        if fields.contains(&"devices") {
            out.devices = mine;
        }
        self.record(vec![shared(
            caller.entry("sensor_home_view", Some(person), request),
            &fields,
        )])
        .await?;
        Ok(out)
    }

    /// Acknowledges or resolves alert `id` with a note, as a TEC team
    /// member or an administrator; audited (`sensor_alert_acknowledged`,
    /// `sensor_alert_resolved`). Returns the alert as it now stands.
    pub async fn sensor_alert_step(
        &self,
        caller: &Caller,
        id: i64,
        step: Step,
        note: &str,
        request: &str,
    ) -> Result<StoredAlert, Error> {
        caller.require(&OPERATORS, "acting on a sensor alert")?;
        self.require_share(caller, Share::Alerts).await?;
        let note = note.trim();
        if note.chars().count() > 2000 {
            return Err(Error::Invalid("a note is at most 2,000 characters".into()));
        }
        let Some(alert) = self.store().alert(id).await? else {
            return Err(Error::NotFound("alert"));
        };
        let action = match step {
            Step::Acknowledge => "sensor_alert_acknowledged",
            Step::Resolve => "sensor_alert_resolved",
        };
        self.record(vec![shared(
            caller.entry(action, Some(&alert.person_id), request),
            &["alerts"],
        )])
        .await?;
        let now = wherry_core::clock::unix_ms();
        let done = match step {
            Step::Acknowledge => {
                self.store()
                    .acknowledge_alert(id, &caller.user, now, note)
                    .await?
            }
            Step::Resolve => {
                self.store()
                    .resolve_alert(id, &caller.user, now, note)
                    .await?
            }
        };
        match done {
            Ok(()) => Ok(self
                .store()
                .alert(id)
                .await?
                .ok_or(Error::NotFound("alert"))?),
            Err(StepRefused::NotFound) => Err(Error::NotFound("alert")),
            Err(StepRefused::AlreadyDone) => Err(Error::Invalid(format!(
                "alert {id} is {}: it cannot be {}",
                alert.status,
                match step {
                    Step::Acknowledge => "acknowledged",
                    Step::Resolve => "resolved",
                }
            ))),
        }
    }

    /// Sets a resident's alert thresholds (JSON the sensor service checked),
    /// as a TEC team member or an administrator; audited
    /// (`sensor_thresholds_set`).
    pub async fn set_sensor_thresholds(
        &self,
        caller: &Caller,
        person: &str,
        thresholds_json: &str,
        request: &str,
    ) -> Result<(), Error> {
        caller.require(&OPERATORS, "setting a resident's alert thresholds")?;
        if self.store().devices_of(person).await?.is_empty() {
            return Err(Error::NotFound("home with sensors"));
        }
        self.record(vec![shared(
            caller.entry("sensor_thresholds_set", Some(person), request),
            &["thresholds"],
        )])
        .await?;
        self.store()
            .set_thresholds(&StoredThresholds {
                person_id: person.to_string(),
                thresholds: thresholds_json.to_string(),
                set_by: caller.user.clone(),
                set_ms: wherry_core::clock::unix_ms(),
            })
            .await?;
        Ok(())
    }

    /// Records a change to the device registry that names a resident
    /// (`sensor_device_added`, `sensor_device_removed`,
    /// `sensor_consent_withdrawn`), as a TEC team member or an
    /// administrator; the change is made once this returns.
    pub async fn sensor_registry_change(
        &self,
        caller: &Caller,
        action: &'static str,
        person: Option<&str>,
        request: &str,
    ) -> Result<(), Error> {
        caller.require(&OPERATORS, "changing the device registry")?;
        self.record(vec![shared(
            caller.entry(action, person, request),
            &["devices"],
        )])
        .await
    }
}

fn shared(mut e: wherry_store::AuditEntry, fields: &[&str]) -> wherry_store::AuditEntry {
    e.sources = format!("[\"{SOURCE}\"]");
    e.fields = serde_json::to_string(fields).expect("strings serialise");
    e
}
