//! Sensor uplinks as ChirpStack v4 uplink events (one JSON object a line):
//! five devices in each consenting resident's home, plus roadside traffic
//! counters and library footfall counters, over the 30 days before the
//! reference date, with planted anomalies. Payloads are the real devices'
//! (Milesight, Parametric), written by `wherry_lorawan`'s encoders.
//!
//! Routines are modelled in UK local time (GMT or BST); uplinks carry UTC.
//! Uplinks are generated one day at a time, so memory does not grow with
//! the length of the window.

use std::io::Write;

use base64::Engine;
use serde::Serialize;
use wherry_core::Date;
use wherry_lorawan::Model;

use crate::rng::Rng;
use crate::tables::DISTRICTS;

/// Days of sensor data.
pub const SENSOR_DAYS: i64 = 30;

/// The kinds of device, each a real model (see [`DeviceKind::model`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    /// Smart plug under the kettle (Milesight WS52x).
    KettlePlug,
    /// Contact sensor on the medication drawer (Milesight WS301).
    MedicationDrawer,
    /// Contact sensor on the front door (Milesight WS301).
    FrontDoor,
    /// Passive infrared motion sensor (Milesight WS202).
    PirMotion,
    /// Room temperature and humidity (Milesight EM300-TH).
    RoomTemperature,
    /// Roadside traffic counter (Parametric PCR2).
    TrafficCounter,
    /// Library entrance footfall counter (Milesight VS133).
    LibraryFootfall,
}

impl DeviceKind {
    /// The code used in files.
    pub fn code(self) -> &'static str {
        match self {
            DeviceKind::KettlePlug => "kettle_plug",
            DeviceKind::MedicationDrawer => "medication_drawer",
            DeviceKind::FrontDoor => "front_door",
            DeviceKind::PirMotion => "pir_motion",
            DeviceKind::RoomTemperature => "room_temperature",
            DeviceKind::TrafficCounter => "traffic_counter",
            DeviceKind::LibraryFootfall => "library_footfall",
        }
    }

    /// The device model.
    pub fn model(self) -> Model {
        match self {
            DeviceKind::KettlePlug => Model::MilesightWs52x,
            DeviceKind::MedicationDrawer | DeviceKind::FrontDoor => Model::MilesightWs301,
            DeviceKind::PirMotion => Model::MilesightWs202,
            DeviceKind::RoomTemperature => Model::MilesightEm300Th,
            DeviceKind::TrafficCounter => Model::ParametricPcr2,
            DeviceKind::LibraryFootfall => Model::MilesightVs133,
        }
    }

    /// The LoRaWAN frame port its payload is sent on.
    pub fn f_port(self) -> u8 {
        self.model().f_port()
    }

    fn profile_name(self) -> &'static str {
        match self {
            DeviceKind::KettlePlug => "Milesight WS52x (kettle)",
            DeviceKind::MedicationDrawer | DeviceKind::FrontDoor => "Milesight WS301",
            DeviceKind::PirMotion => "Milesight WS202",
            DeviceKind::RoomTemperature => "Milesight EM300-TH",
            DeviceKind::TrafficCounter => "Parametric PCR2",
            DeviceKind::LibraryFootfall => "Milesight VS133",
        }
    }
}

/// A home with sensors: whose, and where.
#[derive(Debug, Clone)]
pub struct SensorHome {
    /// Ground-truth resident id.
    pub entity_id: String,
    /// The resident's record id in adult social care (who arranged the sensors).
    pub social_care_record_id: String,
    /// Property.
    pub uprn: String,
    /// Postcode.
    pub postcode: String,
    /// Index into [`DISTRICTS`].
    pub district: usize,
}

/// What the sensor files hold, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SensorCounts {
    /// Homes with sensors.
    pub homes: u64,
    /// Devices.
    pub devices: u64,
    /// Uplink events.
    pub uplinks: u64,
    /// Planted anomalies.
    pub anomalies: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Anomaly {
    KettleUnused,
    NoMovement,
    ColdHome,
    MedicationMissed,
    NightDoor,
}

impl Anomaly {
    fn code(self) -> &'static str {
        match self {
            Anomaly::KettleUnused => "kettle_unused",
            Anomaly::NoMovement => "no_movement",
            Anomaly::ColdHome => "cold_home",
            Anomaly::MedicationMissed => "medication_missed",
            Anomaly::NightDoor => "night_door_opening",
        }
    }
    fn device(self) -> DeviceKind {
        match self {
            Anomaly::KettleUnused => DeviceKind::KettlePlug,
            Anomaly::NoMovement => DeviceKind::PirMotion,
            Anomaly::ColdHome => DeviceKind::RoomTemperature,
            Anomaly::MedicationMissed => DeviceKind::MedicationDrawer,
            Anomaly::NightDoor => DeviceKind::FrontDoor,
        }
    }
}

struct Device {
    dev_eui: String,
    dev_addr: String,
    kind: DeviceKind,
    home: Option<usize>,
    district: usize,
    site: String,
    f_cnt: u32,
    counter: u32,
    /// A second running total: right-to-left, or people out.
    counter_b: u32,
    energy_wh: u32,
    battery_mv: u16,
}

struct HomePlan {
    wake_min: i64,
    bed_min: i64,
    anomaly: Option<(Anomaly, i64, i64)>,
}

mod day;
mod event;
mod reading;
mod time;

use day::day_uplinks;
use event::*;
use reading::Reading;
use time::local_to_utc;
pub use time::{rfc3339, uk_offset};

struct Up {
    t: i64,
    millis: u16,
    dev: usize,
    reading: Reading,
}

/// Where the sensor files go.
pub struct SensorFiles<'a> {
    /// The device registry, `devices.csv`.
    pub devices: &'a mut dyn Write,
    /// The uplink events, `uplinks.jsonl`.
    pub uplinks: &'a mut dyn Write,
    /// The planted anomalies, `sensor_truth.csv`.
    pub truth: &'a mut dyn Write,
}

/// Writes `devices.csv`, `uplinks.jsonl` and the anomaly truth for `homes`
/// in a county of `residents`.
pub fn generate(
    seed: u64,
    as_of: Date,
    residents: u64,
    homes: &[SensorHome],
    files: SensorFiles<'_>,
    progress: &mut dyn FnMut(u64),
) -> std::io::Result<SensorCounts> {
    let SensorFiles {
        devices: devices_csv,
        uplinks,
        truth,
    } = files;
    let mut rng = Rng::derive(seed, 0x5E45, 0);
    let first_day = as_of.add_days(-SENSOR_DAYS);
    let mut devices = Vec::new();
    let mut plans = Vec::new();
    let mut counts = SensorCounts {
        homes: homes.len() as u64,
        ..Default::default()
    };
    let mut eui = 0u64;
    let mut new_device = |rng: &mut Rng, kind, home, district, site: String| {
        eui += 1;
        Device {
            dev_eui: format!("70b3d57ed0{:06x}", (eui * 0x9E37 + seed) & 0xff_ffff),
            dev_addr: format!("{:08x}", rng.next_u64() as u32 & 0x01ff_ffff | 0x2600_0000),
            kind,
            home,
            district,
            site,
            f_cnt: rng.range(0, 5000) as u32,
            counter: rng.range(0, 2000) as u32,
            counter_b: 0,
            energy_wh: rng.range(10_000, 90_000) as u32,
            battery_mv: rng.range(2900, 3600) as u16,
        }
    };
    writeln!(truth, "entity_id,dev_eui,device_kind,anomaly,start,end")?;
    for (i, h) in homes.iter().enumerate() {
        let mut hr = Rng::derive(seed, 0x5E46, i as u64);
        for (kind, place) in [
            (DeviceKind::KettlePlug, "kitchen"),
            (DeviceKind::MedicationDrawer, "kitchen"),
            (DeviceKind::FrontDoor, "hallway"),
            (DeviceKind::PirMotion, "living_room"),
            (DeviceKind::RoomTemperature, "living_room"),
        ] {
            devices.push(new_device(
                &mut hr,
                kind,
                Some(i),
                h.district,
                place.to_string(),
            ));
        }
        let anomaly = hr.chance(0.35).then(|| {
            let kind = *hr.pick(&[
                Anomaly::KettleUnused,
                Anomaly::NoMovement,
                Anomaly::ColdHome,
                Anomaly::MedicationMissed,
                Anomaly::NightDoor,
            ]);
            let day = first_day.add_days(hr.range(5, SENSOR_DAYS - 3));
            let (start_min, hours) = match kind {
                Anomaly::KettleUnused => (6 * 60, 30),
                Anomaly::NoMovement => (hr.range(10 * 60, 16 * 60), 14),
                Anomaly::ColdHome => (0, 60),
                Anomaly::MedicationMissed => (0, 24),
                Anomaly::NightDoor => (hr.range(60, 4 * 60), 0),
            };
            let start = local_to_utc(day, start_min);
            let end = start + hours * 3600 + if hours == 0 { 600 } else { 0 };
            (kind, start, end)
        });
        if let Some((kind, start, end)) = anomaly {
            let dev = devices
                .iter()
                .rposition(|d| d.home == Some(i) && d.kind == kind.device())
                .expect("device");
            writeln!(
                truth,
                "{},{},{},{},{},{}",
                h.entity_id,
                devices[dev].dev_eui,
                kind.device().code(),
                kind.code(),
                rfc3339(start, 0),
                rfc3339(end, 0)
            )?;
            counts.anomalies += 1;
        }
        plans.push(HomePlan {
            wake_min: hr.range(6 * 60, 8 * 60 + 30),
            bed_min: hr.range(21 * 60 + 30, 23 * 60 + 30),
            anomaly,
        });
    }
    let traffic = (residents / 20_000).max(3);
    let libraries = (residents / 30_000).max(2);
    for k in 0..traffic {
        let district = (k as usize * 7) % DISTRICTS.len();
        let site = format!(
            "{} {} Road counter",
            DISTRICTS[district].town,
            crate::tables::STREET_STEMS[k as usize % 20]
        );
        devices.push(new_device(
            &mut rng,
            DeviceKind::TrafficCounter,
            None,
            district,
            site,
        ));
    }
    for k in 0..libraries {
        let district = (k as usize * 5 + 1) % DISTRICTS.len();
        let site = format!("{} Library entrance", DISTRICTS[district].town);
        devices.push(new_device(
            &mut rng,
            DeviceKind::LibraryFootfall,
            None,
            district,
            site,
        ));
    }
    counts.devices = devices.len() as u64;
    writeln!(
        devices_csv,
        "dev_eui,device_name,kind,model,f_port,social_care_record_id,uprn,postcode,placement,latitude,longitude,installed_on"
    )?;
    for d in &devices {
        let (sc, uprn, pc, lat, lon) = match d.home {
            Some(h) => (
                homes[h].social_care_record_id.as_str(),
                homes[h].uprn.as_str(),
                homes[h].postcode.as_str(),
                String::new(),
                String::new(),
            ),
            None => {
                let dist = &DISTRICTS[d.district];
                (
                    "",
                    "",
                    "",
                    format!("{:.5}", dist.lat + 0.004),
                    format!("{:.5}", dist.lon - 0.003),
                )
            }
        };
        let installed = first_day.add_days(-rng.range(30, 700));
        writeln!(
            devices_csv,
            "{},{},{},{},{},{},{},{},{},{},{},{}",
            d.dev_eui,
            device_name(d),
            d.kind.code(),
            d.kind.model().id(),
            d.kind.f_port(),
            sc,
            uprn,
            pc,
            d.site,
            lat,
            lon,
            installed
        )?;
    }

    let gateways: Vec<String> = (0..DISTRICTS.len())
        .map(|i| format!("00800000a000{:04x}", i * 37 + 11))
        .collect();
    let application_ids = [
        Rng::derive(seed, 0xA9, 0).uuid(),
        Rng::derive(seed, 0xA9, 1).uuid(),
    ];
    let tenant_id = Rng::derive(seed, 0xA9, 2).uuid();
    let profile_ids: Vec<String> = (0..7).map(|k| Rng::derive(seed, 0xA8, k).uuid()).collect();
    let mut line = Vec::with_capacity(1024);
    for day_index in 0..SENSOR_DAYS {
        let day = first_day.add_days(day_index);
        let mut dr = Rng::derive(seed, 0x5E47, day_index as u64);
        let mut ups: Vec<Up> = Vec::new();
        for (dev_index, d) in devices.iter_mut().enumerate() {
            day_uplinks(
                d,
                dev_index,
                d.home.map(|h| &plans[h]),
                day,
                &mut dr,
                &mut ups,
            );
        }
        ups.sort_by_key(|u| (u.t, u.millis, u.dev));
        for u in &ups {
            let d = &mut devices[u.dev];
            d.f_cnt += 1;
            line.clear();
            let kind_index = [
                DeviceKind::KettlePlug,
                DeviceKind::MedicationDrawer,
                DeviceKind::FrontDoor,
                DeviceKind::PirMotion,
                DeviceKind::RoomTemperature,
                DeviceKind::TrafficCounter,
                DeviceKind::LibraryFootfall,
            ]
            .iter()
            .position(|k| *k == d.kind)
            .expect("kind");
            let home = d.home.is_some();
            let event = UplinkEvent {
                deduplication_id: dr.uuid(),
                time: rfc3339(u.t, u.millis),
                device_info: DeviceInfo {
                    tenant_id: &tenant_id,
                    tenant_name: "Norfolk County Council",
                    application_id: &application_ids[usize::from(!home)],
                    application_name: if home {
                        "tec-home-sensors"
                    } else {
                        "street-and-library-counters"
                    },
                    device_profile_id: &profile_ids[kind_index],
                    device_profile_name: d.kind.profile_name(),
                    device_name: device_name(d),
                    dev_eui: &d.dev_eui,
                    device_class_enabled: "CLASS_A",
                    tags: Tags {
                        kind: d.kind.code(),
                    },
                },
                dev_addr: &d.dev_addr,
                adr: true,
                dr: 5,
                f_cnt: d.f_cnt,
                f_port: d.kind.f_port(),
                confirmed: false,
                data: base64::engine::general_purpose::STANDARD.encode(u.reading.payload()),
                object: u.reading.object(),
                rx_info: [RxInfo {
                    gateway_id: &gateways[d.district],
                    uplink_id: dr.next_u64() as u32,
                    gw_time: rfc3339(u.t, u.millis),
                    ns_time: rfc3339(u.t, u.millis.saturating_add(40).min(999)),
                    rssi: -(dr.range(60, 121) as i32),
                    snr: (dr.range(-100, 110) as f64) / 10.0,
                    channel: dr.below(8) as u8,
                    location: Location {
                        latitude: DISTRICTS[d.district].lat,
                        longitude: DISTRICTS[d.district].lon,
                    },
                    context: base64::engine::general_purpose::STANDARD
                        .encode((u.t as u32).to_be_bytes()),
                    crc_status: "CRC_OK",
                }],
                tx_info: TxInfo {
                    frequency: [868_100_000, 868_300_000, 868_500_000][dr.below(3) as usize],
                    modulation: Modulation {
                        lora: Lora {
                            bandwidth: 125_000,
                            spreading_factor: 7,
                            code_rate: "CR_4_5",
                        },
                    },
                },
            };
            serde_json::to_writer(&mut line, &event).map_err(std::io::Error::other)?;
            line.push(b'\n');
            uplinks.write_all(&line)?;
            counts.uplinks += 1;
        }
        progress(1);
    }
    Ok(counts)
}

fn device_name(d: &Device) -> String {
    format!("{}-{}", d.kind.code().replace('_', "-"), &d.dev_eui[10..])
}

fn in_anomaly(plan: Option<&HomePlan>, kinds: &[Anomaly], t: i64) -> bool {
    plan.and_then(|p| p.anomaly)
        .is_some_and(|(k, start, end)| kinds.contains(&k) && (start..end).contains(&t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_with_milliseconds() {
        let at = Date::new(2026, 10, 25).unwrap().days_since_epoch() * 86_400 + 3600;
        assert_eq!(rfc3339(at + 61, 7), "2026-10-25T01:01:01.007Z");
    }
}
