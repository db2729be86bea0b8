//! Detection over the synthetic county's month of sensor streams: the
//! readings are the real vendor payloads `wherry synth` writes (ChirpStack
//! uplink events), decoded as the intake decodes them and replayed through
//! the rules with a scheduler waking each home at its deadlines. Planted
//! anomalies come from `sensor_truth.csv`.
//!
//! Figures for docs/benchmarks.md: `cargo test -p wherry-sensors --test
//! detection -- --nocapture`.

use std::collections::HashMap;

use wherry_core::Date;
use wherry_lorawan::{Event, chirpstack, event::parse_time};
use wherry_sensors::detection::{Planted, Recorded, Score, replay, score};
use wherry_sensors::{AlertKind, Home, Thresholds, Use};
use wherry_synth::sensors::{SENSOR_DAYS, SensorFiles, SensorHome, generate};

const HOMES: usize = 240;

struct Month {
    homes: Vec<(String, Vec<(String, Use)>)>,
    readings: Vec<Recorded>,
    planted: Vec<Planted>,
    end_ms: i64,
}

fn use_of(kind: &str) -> Option<Use> {
    Some(match kind {
        "kettle_plug" => Use::Kettle,
        "medication_drawer" => Use::MedicationDrawer,
        "front_door" => Use::FrontDoor,
        "pir_motion" => Use::Motion,
        "room_temperature" => Use::RoomTemperature,
        _ => return None,
    })
}

fn anomaly_alert(code: &str) -> AlertKind {
    match code {
        "kettle_unused" => AlertKind::KettleNotUsed,
        "no_movement" => AlertKind::NoMovement,
        "cold_home" => AlertKind::ColdHome,
        "medication_missed" => AlertKind::MedicationNotTaken,
        "night_door_opening" => AlertKind::NightDoor,
        other => panic!("unknown planted anomaly {other}"),
    }
}

/// A month of the synthetic county's home sensors, `loss` of the uplinks
/// dropped (the same ones for a given seed).
fn month(seed: u64, loss: f64) -> Month {
    // The window spans the end of British Summer Time (25 October 2026).
    let as_of = Date::new(2026, 11, 10).unwrap();
    let homes: Vec<SensorHome> = (0..HOMES)
        .map(|i| SensorHome {
            entity_id: format!("E{i:07}"),
            social_care_record_id: format!("ASC{i:06}"),
            uprn: format!("{}", 100_000_000 + i),
            postcode: "NR1 3AB".into(),
            district: i % 7,
        })
        .collect();
    let (mut devices, mut uplinks, mut truth) = (Vec::new(), Vec::new(), Vec::new());
    let files = SensorFiles {
        devices: &mut devices,
        uplinks: &mut uplinks,
        truth: &mut truth,
    };
    generate(seed, as_of, 10_000, &homes, files, &mut |_| {}).unwrap();
    let person_of: HashMap<&str, usize> = homes
        .iter()
        .enumerate()
        .map(|(i, h)| (h.social_care_record_id.as_str(), i))
        .collect();
    let mut home_devices: Vec<(String, Vec<(String, Use)>)> = homes
        .iter()
        .map(|h| (h.entity_id.clone(), Vec::new()))
        .collect();
    let mut device_of = HashMap::new();
    for line in String::from_utf8(devices).unwrap().lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (Some(u), Some(&home)) = (use_of(f[2]), person_of.get(f[5])) else {
            continue;
        };
        home_devices[home].1.push((f[0].to_string(), u));
        device_of.insert(f[0].to_string(), (home, u));
    }
    assert_eq!(device_of.len(), HOMES * 5, "five devices a home");
    let mut readings = Vec::new();
    let mut kept = 0u64;
    for line in String::from_utf8(uplinks).unwrap().lines() {
        let Event::Up(up) = chirpstack::parse("up", line.as_bytes()).unwrap() else {
            panic!("an uplink event");
        };
        let eui = up.dev_eui.to_string();
        let Some(&(home, u)) = device_of.get(&eui) else {
            continue;
        };
        // A fixed hash of the device and frame: which uplinks are lost.
        let h = (up.dev_eui.0 ^ u64::from(up.f_cnt).wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .wrapping_mul(0xBF58_476D_1CE4_E5B9);
        if ((h >> 11) as f64 / (1u64 << 53) as f64) < loss {
            continue;
        }
        kept += 1;
        let reading = u.models()[0].decode(up.f_port, &up.data).unwrap();
        readings.push(Recorded {
            home,
            dev_eui: eui,
            f_cnt: up.f_cnt,
            reading,
            at_ms: up.time_ms.unwrap(),
        });
    }
    assert!(kept > (HOMES as u64) * 30 * 50, "a month of readings");
    let planted = String::from_utf8(truth)
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            Planted {
                person_id: f[0].to_string(),
                kind: anomaly_alert(f[3]),
                start_ms: parse_time(f[4]).unwrap(),
                end_ms: parse_time(f[5]).unwrap(),
            }
        })
        .collect();
    let end_ms = wherry_core::localtime::local_to_utc(as_of, 0) * 1000;
    assert_eq!(SENSOR_DAYS, 30);
    Month {
        homes: home_devices,
        readings,
        planted,
        end_ms,
    }
}

fn run(m: &Month) -> (Score, Vec<wherry_sensors::Alert>) {
    let mut homes: Vec<Home> = m
        .homes
        .iter()
        .map(|(person, devices)| Home::new(person, Thresholds::default(), devices))
        .collect();
    let alerts = replay(&mut homes, &m.readings, m.end_ms);
    (score(&alerts, &m.planted), alerts)
}

fn print(label: &str, s: &Score) {
    println!(
        "{label}: detected {:.1}%, false wellbeing alerts {} ({:.3} per home per 30 days), technical {}",
        100.0 * s.detected_share(),
        s.false_total(),
        s.false_total() as f64 / HOMES as f64,
        s.technical
    );
    for (kind, k) in &s.kinds {
        println!(
            "  {kind}: {}/{} alerted, longest wait from the anomaly's start {} min, false {}",
            k.alerted,
            k.planted,
            k.max_delay_min,
            s.false_alerts.get(kind).copied().unwrap_or(0)
        );
    }
}

#[test]
fn planted_anomalies_are_alerted_and_ordinary_days_are_not() {
    let m = month(11, 0.0);
    assert!(m.planted.len() >= 60, "enough anomalies to measure");
    let (s, alerts) = run(&m);
    print("no uplinks lost", &s);
    for kind in [
        "kettle_not_used",
        "medication_not_taken",
        "no_movement",
        "night_door",
        "cold_home",
    ] {
        assert!(
            s.kinds.get(kind).is_some_and(|k| k.planted > 0),
            "{kind} planted"
        );
    }
    assert!(
        s.detected_share() >= 0.95,
        "detected {:.3}",
        s.detected_share()
    );
    let per_home = s.false_total() as f64 / HOMES as f64;
    assert!(per_home <= 0.5, "{per_home:.3} false alerts per home");
    // Each episode alerted once.
    let mut episodes: Vec<_> = alerts
        .iter()
        .map(|a| (&a.person_id, a.kind, &a.episode))
        .collect();
    let n = episodes.len();
    episodes.sort();
    episodes.dedup();
    assert_eq!(episodes.len(), n, "no episode alerted twice");
    // Deadline rules fire at the deadline itself: the kettle's alert says
    // "not used by HH:MM" and is raised at that minute, local time.
    let kettle: Vec<_> = alerts
        .iter()
        .filter(|a| a.kind == AlertKind::KettleNotUsed)
        .collect();
    assert!(!kettle.is_empty());
    for a in kettle {
        let (_, minute) = wherry_core::localtime::to_local(a.at_ms / 1000);
        assert!(
            a.observed.ends_with(&wherry_core::localtime::hh_mm(minute)),
            "{a:?}"
        );
    }
}

#[test]
fn detection_degrades_gently_when_uplinks_are_lost() {
    let mut shares = Vec::new();
    for loss in [0.05, 0.20] {
        let m = month(11, loss);
        let (s, _) = run(&m);
        print(&format!("{:.0}% of uplinks lost", loss * 100.0), &s);
        shares.push(s.detected_share());
    }
    // Losing uplinks hides some anomalies' evidence but most are still seen.
    assert!(shares[0] >= 0.9, "5% lost: detected {:.3}", shares[0]);
    assert!(shares[1] >= 0.8, "20% lost: detected {:.3}", shares[1]);
}
