//! A synthetic county's home sensors (`wherry demo`, `wherry device
//! replay`): its devices registered (a
//! home device to the resident its adult social care record is linked to,
//! with the recorded consent), and its month of uplinks replayed through
//! the intake (ChirpStack's JSON, as the network server sends it) with the
//! rules watching, so the TEC team's pages have a month of alerts. The
//! month is moved on by whole days to end today (each reading keeping its
//! local time of day), and what would lie in the future is left out.

use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use wherry_lorawan::Network;
use wherry_sensors::registry::{self, NewDevice};
use wherry_store::RecordKey;

/// What the replay did.
pub struct Replayed {
    /// Devices registered.
    pub devices: usize,
    /// Uplinks stored.
    pub uplinks: u64,
    /// Alerts raised.
    pub alerts: usize,
}

fn use_of(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "kettle_plug" => "kettle",
        "medication_drawer" => "medication_drawer",
        "front_door" => "front_door",
        "pir_motion" => "motion",
        "room_temperature" => "room_temperature",
        "traffic_counter" => "traffic",
        "library_footfall" => "footfall",
        _ => return None,
    })
}

/// Registers the county's devices and replays its uplinks (see the module).
/// `tec` registers the devices (a TEC team member or an administrator).
pub async fn replay(
    access: &wherry_access::Access,
    tec: &wherry_access::Caller,
    county: &Path,
    as_of: wherry_core::Date,
) -> Result<Replayed> {
    let store = access.store();
    let sensors = county.join("sensors");
    let text = std::fs::read_to_string(sensors.join("devices.csv"))
        .with_context(|| format!("reading {}", sensors.join("devices.csv").display()))?;
    let mut devices = 0;
    for line in text.lines().skip(1) {
        // dev_eui,device_name,kind,model,f_port,social_care_record_id,uprn,
        // postcode,placement,latitude,longitude,installed_on
        let f: Vec<&str> = line.split(',').collect();
        let (Some(use_kind), true) = (use_of(f[2]), f.len() >= 11) else {
            continue;
        };
        let resident = if f[5].is_empty() {
            None
        } else {
            store
                .person_of(&RecordKey::new("social_care", f[5]))
                .await?
        };
        let home = !f[5].is_empty();
        if home && resident.is_none() {
            // The record was quarantined or not linked: no one to consent.
            continue;
        }
        let d = NewDevice {
            dev_eui: f[0].into(),
            model: f[3].into(),
            use_kind: use_kind.into(),
            consent_ref: resident
                .as_ref()
                .map(|_| format!("TEC-DEMO-{}", &f[0][10..])),
            resident,
            place: (!home).then(|| f[8].to_string()),
            lat: (!home).then(|| f[9].parse().ok()).flatten(),
            lon: (!home).then(|| f[10].parse().ok()).flatten(),
        };
        registry::add(access, tec, &d, "demo").await?;
        devices += 1;
    }
    let intake = Arc::new(wherry_sensors::Intake::new(store.clone()));
    let watch = wherry_sensors::Watch::start(store.clone(), false).await?;
    intake.set_watch(watch);
    let now = wherry_core::clock::unix_ms();
    let today = wherry_core::localtime::to_local(now / 1000).0;
    let shift_days = today.days_since_epoch() - as_of.days_since_epoch() + 1;
    // Moved by whole local days, so that each reading keeps its wall-clock
    // time (the month may cross a change of the clocks).
    let moved = |ms: i64| {
        let secs = ms.div_euclid(1000);
        let (date, minute) = wherry_core::localtime::to_local(secs);
        let local = wherry_core::localtime::local_to_utc(date.add_days(shift_days), minute);
        (local + secs.rem_euclid(60)) * 1000 + ms.rem_euclid(1000)
    };
    let file = std::fs::File::open(sensors.join("uplinks.jsonl"))?;
    let size = file.metadata()?.len();
    let bar = ProgressBar::new(size).with_style(
        ProgressStyle::with_template("{msg:<34} [{bar:30}] {bytes}/{total_bytes}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_message("replaying the sensors' month");
    let mut uplinks = 0;
    for line in std::io::BufReader::new(file).lines() {
        let line = line?;
        bar.inc(line.len() as u64 + 1);
        let mut event: serde_json::Value = serde_json::from_str(&line)?;
        let Some(t) = event["time"].as_str() else {
            continue;
        };
        let at = moved(wherry_lorawan::event::parse_time(t).map_err(anyhow::Error::msg)?);
        if at > now {
            continue;
        }
        event["time"] = wherry_lorawan::event::format_time(at).into();
        let body = event.to_string();
        if let Ok(wherry_sensors::Outcome::Stored(_)) = intake
            .handle(Network::Chirpstack, "up", body.as_bytes(), now)
            .await
        {
            uplinks += 1;
        }
    }
    bar.finish_and_clear();
    let alerts = store.alerts(None, true).await?.len();
    Ok(Replayed {
        devices,
        uplinks,
        alerts,
    })
}
