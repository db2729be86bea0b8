//! Sensors: the device registry, uplinks stored once each, and devices
//! heard but not registered. What the readings mean is `wherry-sensors`'s.

use crate::{Error, Store, Tx};

/// A registered device.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Device {
    /// 16 lower-case hex digits.
    pub dev_eui: String,
    /// The model id (`milesight_ws301`).
    pub model: String,
    /// What it is used for (`kettle`, `front_door`, `traffic`).
    pub use_kind: String,
    /// Home devices: the resident.
    pub person_id: Option<String>,
    /// Home devices: the recorded consent's reference.
    pub consent_ref: Option<String>,
    /// When consent was withdrawn (Unix ms): nothing is processed after.
    pub consent_withdrawn_ms: Option<i64>,
    /// Counters: the site.
    pub place: Option<String>,
    /// Counters: latitude.
    pub lat: Option<f64>,
    /// Counters: longitude.
    pub lon: Option<f64>,
    /// Registered (Unix ms).
    pub added_ms: i64,
    /// By whom.
    pub added_by: String,
}

/// A device with what the hub has heard from it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DeviceSummary {
    /// The device.
    #[serde(flatten)]
    pub device: Device,
    /// Its latest uplink's time (Unix ms).
    pub last_seen_ms: Option<i64>,
    /// Uplinks stored.
    pub uplinks: i64,
    /// The latest battery level it reported, percent.
    pub battery: Option<f64>,
    /// The latest uplink's signal at the strongest gateway, dBm.
    pub rssi: Option<i32>,
}

/// An uplink to store.
#[derive(Debug, Clone)]
pub struct NewUplink {
    /// The device.
    pub dev_eui: String,
    /// Its frame counter.
    pub f_cnt: i64,
    /// The de-duplication window (`wherry_lorawan::DedupKey::window`).
    pub window: i64,
    /// The network's time for it, or its arrival (Unix ms).
    pub time_ms: i64,
    /// When the hub stored it (Unix ms).
    pub received_ms: i64,
    /// `chirpstack` or `the_things_stack`.
    pub network: &'static str,
    /// The frame port.
    pub f_port: i32,
    /// The payload, hex.
    pub payload: String,
    /// The model it was decoded with: stored only while the registry still
    /// says so, with consent standing.
    pub model: String,
    /// The decoded reading, JSON.
    pub reading: String,
    /// Battery percent, where the payload says.
    pub battery: Option<f64>,
    /// The strongest gateway's signal.
    pub rssi: Option<i32>,
}

/// A device's status as its network server reported it (ChirpStack's
/// `status` event).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DeviceStatus {
    /// The device.
    pub dev_eui: String,
    /// When (Unix ms).
    pub time_ms: i64,
    /// Battery, percent, unless the device cannot tell or is mains powered.
    pub battery: Option<f64>,
    /// Mains powered.
    pub external_power: bool,
    /// Link margin, dB.
    pub margin: i32,
}

/// A stored uplink.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredUplink {
    /// Its number.
    pub id: i64,
    /// The device.
    pub dev_eui: String,
    /// Its frame counter.
    pub f_cnt: i64,
    /// The network's time (Unix ms).
    pub time_ms: i64,
    /// The frame port.
    pub f_port: i32,
    /// The decoded reading, JSON.
    pub reading: String,
}

/// Whether an uplink was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Stored, with its number.
    New(i64),
    /// Already stored: the same device and frame counter in the same or a
    /// neighbouring window.
    Duplicate,
    /// Not stored: the device is no longer registered as the uplink was
    /// decoded (removed, or registered again as another model), or its
    /// consent was withdrawn. The caller reads the registry again.
    Refused,
}

/// A device heard but not registered.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unregistered {
    /// The device.
    pub dev_eui: String,
    /// Which network server sent it.
    pub network: String,
    /// First heard (Unix ms).
    pub first_ms: i64,
    /// Last heard (Unix ms).
    pub last_ms: i64,
    /// Uplinks heard.
    pub uplinks: i64,
}

type DeviceRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<f64>,
    Option<f64>,
    i64,
    String,
);

fn device_of(r: DeviceRow) -> Device {
    let (dev_eui, model, use_kind, person_id, consent_ref, withdrawn, place, lat, lon, at, by) = r;
    Device {
        dev_eui,
        model,
        use_kind,
        person_id,
        consent_ref,
        consent_withdrawn_ms: withdrawn,
        place,
        lat,
        lon,
        added_ms: at,
        added_by: by,
    }
}

type UplinkRow = (i64, String, i64, i64, i32, String);

fn uplink_of(r: UplinkRow) -> StoredUplink {
    let (id, dev_eui, f_cnt, time_ms, f_port, reading) = r;
    StoredUplink {
        id,
        dev_eui,
        f_cnt,
        time_ms,
        f_port,
        reading,
    }
}

const DEVICE_COLUMNS: &str = "dev_eui, model, use_kind, person_id, consent_ref, consent_withdrawn_ms, place, lat, lon, added_ms, added_by";

impl Store {
    /// Registers `d`; false (and nothing changed) when its EUI is registered.
    pub async fn add_device(&self, d: &Device) -> Result<bool, Error> {
        let sql = "INSERT INTO sensor_devices (dev_eui, model, use_kind, person_id, consent_ref,
                       consent_withdrawn_ms, place, lat, lon, added_ms, added_by)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                   ON CONFLICT (dev_eui) DO NOTHING";
        let n = dispatch!(&self.pool, p => {
            sqlx::query(sql)
                .bind(&d.dev_eui).bind(&d.model).bind(&d.use_kind).bind(&d.person_id)
                .bind(&d.consent_ref).bind(d.consent_withdrawn_ms).bind(&d.place)
                .bind(d.lat).bind(d.lon).bind(d.added_ms).bind(&d.added_by)
                .execute(p).await.map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// The registered device `dev_eui`.
    pub async fn device(&self, dev_eui: &str) -> Result<Option<Device>, Error> {
        let sql = format!("SELECT {DEVICE_COLUMNS} FROM sensor_devices WHERE dev_eui = $1");
        let row: Option<DeviceRow> = dispatch!(&self.pool, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(dev_eui).fetch_optional(p).await
        })?;
        Ok(row.map(device_of))
    }

    /// Keeps `s` as its device's latest status, unless a later one is kept
    /// or the device is not registered with consent standing. Whether it
    /// was kept.
    pub async fn note_status(&self, s: &DeviceStatus) -> Result<bool, Error> {
        let sql = "UPDATE sensor_devices SET status_ms = $2, status_battery = $3,
                          status_external_power = $4, status_margin = $5
                   WHERE dev_eui = $1 AND consent_withdrawn_ms IS NULL
                     AND (status_ms IS NULL OR status_ms <= $2)";
        let done = dispatch!(&self.pool, p => {
            sqlx::query(sql).bind(&s.dev_eui).bind(s.time_ms).bind(s.battery)
                .bind(s.external_power).bind(s.margin).execute(p).await.map(|r| r.rows_affected())
        })?;
        Ok(done == 1)
    }

    /// The latest status kept of each of resident `person`'s devices.
    pub async fn statuses_of(&self, person: &str) -> Result<Vec<DeviceStatus>, Error> {
        let sql = "SELECT dev_eui, status_ms, status_battery, status_external_power, status_margin
                   FROM sensor_devices WHERE person_id = $1 AND status_ms IS NOT NULL
                   ORDER BY dev_eui";
        let rows: Vec<(String, i64, Option<f64>, bool, i32)> = dispatch!(&self.pool, p => {
            sqlx::query_as(sql).bind(person).fetch_all(p).await
        })?;
        Ok(rows
            .into_iter()
            .map(
                |(dev_eui, time_ms, battery, external_power, margin)| DeviceStatus {
                    dev_eui,
                    time_ms,
                    battery,
                    external_power,
                    margin,
                },
            )
            .collect())
    }

    /// Every registered device with its last uplink, count and battery
    /// (the latest reported, in an uplink or a status report), by EUI.
    pub async fn devices(&self) -> Result<Vec<DeviceSummary>, Error> {
        let sql = format!(
            "SELECT {DEVICE_COLUMNS},
                    (SELECT MAX(time_ms) FROM sensor_uplinks u WHERE u.dev_eui = d.dev_eui),
                    (SELECT COUNT(*) FROM sensor_uplinks u WHERE u.dev_eui = d.dev_eui),
                    CASE WHEN d.status_battery IS NOT NULL AND d.status_ms >= COALESCE(
                            (SELECT MAX(time_ms) FROM sensor_uplinks u
                              WHERE u.dev_eui = d.dev_eui AND battery IS NOT NULL), d.status_ms)
                         THEN d.status_battery
                         ELSE (SELECT battery FROM sensor_uplinks u WHERE u.dev_eui = d.dev_eui
                                  AND battery IS NOT NULL ORDER BY time_ms DESC LIMIT 1) END,
                    (SELECT rssi FROM sensor_uplinks u WHERE u.dev_eui = d.dev_eui
                        AND rssi IS NOT NULL ORDER BY time_ms DESC LIMIT 1)
             FROM sensor_devices d ORDER BY dev_eui"
        );
        type Row = (
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<i64>,
            Option<String>,
            Option<f64>,
            Option<f64>,
            i64,
            String,
            Option<i64>,
            i64,
            Option<f64>,
            Option<i32>,
        );
        let rows: Vec<Row> = dispatch!(&self.pool, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(p).await
        })?;
        let rows = rows.into_iter().map(|r| {
            (
                (r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10),
                r.11,
                r.12,
                (r.13, r.14),
            )
        });
        Ok(rows
            .into_iter()
            .map(|(d, last, n, (battery, rssi))| DeviceSummary {
                device: device_of(d),
                last_seen_ms: last,
                uplinks: n,
                battery,
                rssi,
            })
            .collect())
    }

    /// Removes device `dev_eui` from the registry (its stored uplinks stay
    /// until their retention ends); false when it is not registered.
    pub async fn remove_device(&self, dev_eui: &str) -> Result<bool, Error> {
        let sql = "DELETE FROM sensor_devices WHERE dev_eui = $1";
        let n = dispatch!(&self.pool, p => {
            sqlx::query(sql).bind(dev_eui).execute(p).await.map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// Records that the resident's consent for device `dev_eui` was
    /// withdrawn at `at_ms`; false when it is not registered or already
    /// withdrawn.
    pub async fn withdraw_consent(&self, dev_eui: &str, at_ms: i64) -> Result<bool, Error> {
        let sql = "UPDATE sensor_devices SET consent_withdrawn_ms = $1
                   WHERE dev_eui = $2 AND consent_withdrawn_ms IS NULL";
        let n = dispatch!(&self.pool, p => {
            sqlx::query(sql).bind(at_ms).bind(dev_eui).execute(p).await.map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// Whether an uplink of the device with this frame counter is stored
    /// in `window` or a window beside it.
    pub async fn uplink_seen(&self, dev_eui: &str, f_cnt: i64, window: i64) -> Result<bool, Error> {
        let sql = "SELECT COUNT(*) FROM sensor_uplinks
                   WHERE dev_eui = $1 AND f_cnt = $2 AND dedup_window BETWEEN $3 AND $4";
        let n: i64 = dispatch!(&self.pool, p => {
            sqlx::query_scalar(sql).bind(dev_eui).bind(f_cnt).bind(window - 1).bind(window + 1)
                .fetch_one(p).await
        })?;
        Ok(n > 0)
    }

    /// Counts an uplink from a device that is not registered.
    pub async fn note_unregistered(
        &self,
        dev_eui: &str,
        network: &str,
        at_ms: i64,
    ) -> Result<(), Error> {
        let sql = "INSERT INTO sensor_unregistered (dev_eui, network, first_ms, last_ms, uplinks)
                   VALUES ($1, $2, $3, $3, 1)
                   ON CONFLICT (dev_eui) DO UPDATE SET
                       last_ms = excluded.last_ms,
                       network = excluded.network,
                       uplinks = sensor_unregistered.uplinks + 1";
        dispatch!(&self.pool, p => {
            sqlx::query(sql).bind(dev_eui).bind(network).bind(at_ms).execute(p).await.map(|_| ())
        })?;
        Ok(())
    }

    /// Devices heard but not registered, most uplinks first.
    pub async fn unregistered_devices(&self) -> Result<Vec<Unregistered>, Error> {
        let sql = "SELECT dev_eui, network, first_ms, last_ms, uplinks FROM sensor_unregistered
                   ORDER BY uplinks DESC, dev_eui";
        let rows: Vec<(String, String, i64, i64, i64)> = dispatch!(&self.pool, p => {
            sqlx::query_as(sql).fetch_all(p).await
        })?;
        Ok(rows
            .into_iter()
            .map(
                |(dev_eui, network, first_ms, last_ms, uplinks)| Unregistered {
                    dev_eui,
                    network,
                    first_ms,
                    last_ms,
                    uplinks,
                },
            )
            .collect())
    }

    /// A device's uplinks from `from_ms` to before `to_ms`, in time order.
    pub async fn uplinks_of(
        &self,
        dev_eui: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<StoredUplink>, Error> {
        let sql = "SELECT id, dev_eui, f_cnt, time_ms, f_port, reading FROM sensor_uplinks
                   WHERE dev_eui = $1 AND time_ms >= $2 AND time_ms < $3 ORDER BY time_ms, id";
        let rows: Vec<UplinkRow> = dispatch!(&self.pool, p => {
            sqlx::query_as(sql).bind(dev_eui).bind(from_ms).bind(to_ms).fetch_all(p).await
        })?;
        Ok(rows.into_iter().map(uplink_of).collect())
    }
}

impl Store {
    /// The devices registered to resident `person`.
    pub async fn devices_of(&self, person: &str) -> Result<Vec<Device>, Error> {
        let sql = format!(
            "SELECT {DEVICE_COLUMNS} FROM sensor_devices WHERE person_id = $1 ORDER BY dev_eui"
        );
        let rows: Vec<DeviceRow> = dispatch!(&self.pool, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(person).fetch_all(p).await
        })?;
        Ok(rows.into_iter().map(device_of).collect())
    }

    /// Every uplink stored from resident `person`'s devices, in time order.
    pub async fn uplinks_of_person(&self, person: &str) -> Result<Vec<StoredUplink>, Error> {
        let sql = "SELECT u.id, u.dev_eui, u.f_cnt, u.time_ms, u.f_port, u.reading
                   FROM sensor_uplinks u JOIN sensor_devices d ON d.dev_eui = u.dev_eui
                   WHERE d.person_id = $1 ORDER BY u.time_ms, u.id";
        let rows: Vec<UplinkRow> = dispatch!(&self.pool, p => {
            sqlx::query_as(sql).bind(person).fetch_all(p).await
        })?;
        Ok(rows.into_iter().map(uplink_of).collect())
    }
}

/// A counter's uplink (a public place's: no personal data).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CounterUplink {
    /// The device.
    pub dev_eui: String,
    /// `traffic` or `footfall`.
    pub use_kind: String,
    /// The site.
    pub place: String,
    /// Latitude.
    pub lat: Option<f64>,
    /// Longitude.
    pub lon: Option<f64>,
    /// When (Unix ms).
    pub time_ms: i64,
    /// The decoded reading, JSON.
    pub reading: String,
}

impl Store {
    /// The street and library counters' uplinks from `from_ms` to `to_ms`,
    /// by device and time.
    pub async fn counter_uplinks(
        &self,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<CounterUplink>, Error> {
        let sql = "SELECT d.dev_eui, d.use_kind, d.place, d.lat, d.lon, u.time_ms, u.reading
                   FROM sensor_uplinks u JOIN sensor_devices d ON d.dev_eui = u.dev_eui
                   WHERE d.use_kind IN ('traffic', 'footfall') AND d.person_id IS NULL
                     AND u.time_ms >= $1 AND u.time_ms < $2
                   ORDER BY d.dev_eui, u.time_ms";
        type Row = (
            String,
            String,
            Option<String>,
            Option<f64>,
            Option<f64>,
            i64,
            String,
        );
        let rows: Vec<Row> = dispatch!(&self.pool, p => {
            sqlx::query_as(sql).bind(from_ms).bind(to_ms).fetch_all(p).await
        })?;
        Ok(rows
            .into_iter()
            .map(
                |(dev_eui, use_kind, place, lat, lon, time_ms, reading)| CounterUplink {
                    dev_eui,
                    use_kind,
                    place: place.unwrap_or_default(),
                    lat,
                    lon,
                    time_ms,
                    reading,
                },
            )
            .collect())
    }
}

impl Tx {
    /// Deletes resident `person`'s devices and every uplink stored from
    /// them; returns (devices, uplinks) deleted.
    pub async fn erase_sensors_of(&mut self, person: &str) -> Result<(u64, u64), Error> {
        let uplinks = "DELETE FROM sensor_uplinks WHERE dev_eui IN
                           (SELECT dev_eui FROM sensor_devices WHERE person_id = $1)";
        let devices = "DELETE FROM sensor_devices WHERE person_id = $1";
        let counts = dispatch_tx!(&mut self.inner, t => {
            let u = sqlx::query(uplinks).bind(person).execute(&mut **t).await?.rows_affected();
            let d = sqlx::query(devices).bind(person).execute(&mut **t).await?.rows_affected();
            Ok::<_, sqlx::Error>((d, u))
        })?;
        Ok(counts)
    }
}
