//! The county looks like a county: its age profile, its postcodes and UPRNs.

use std::collections::HashSet;

use wherry_core::{Date, Postcode};

use crate::util::*;

#[test]
fn about_a_fifth_of_residents_are_over_65_and_identifiers_are_well_formed() {
    let (dir, summary) = county();
    let residents = read_residents(dir);
    assert_eq!(residents.len() as u64, summary.residents);
    let mut over_65 = 0;
    let mut nhs = HashSet::new();
    for r in residents.values() {
        let dob = Date::parse(&r["dob"]).unwrap();
        over_65 += usize::from(dob.years_until(summary.config.as_of) >= 65);
        let pc = Postcode::parse(&r["postcode"]).unwrap();
        assert!(["NR", "PE", "IP"].contains(&pc.area()), "{}", pc.area());
        assert_eq!(pc.as_str(), r["postcode"], "written normalised");
        assert!(r["uprn"].len() == 12 && r["uprn"].bytes().all(|b| b.is_ascii_digit()));
        assert!(
            nhs.insert(r["nhs_number"].clone()),
            "NHS numbers are unique"
        );
    }
    let share = over_65 as f64 / residents.len() as f64;
    assert!((0.17..=0.25).contains(&share), "share over 65: {share:.3}");
}

#[test]
fn planted_high_risk_homes_are_listed_and_sensor_anomalies_have_devices() {
    let (dir, summary) = county();
    let risk = std::fs::read_to_string(dir.join("truth/risk_truth.csv")).unwrap();
    let planted = risk.lines().filter(|l| l.ends_with(",true")).count() as u64;
    assert_eq!(planted, summary.planted_high_risk_homes);
    assert!(planted > 5);
    let devices = std::fs::read_to_string(dir.join("sensors/devices.csv")).unwrap();
    let euis: HashSet<&str> = devices
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(
        euis.len() as u64,
        summary.sensors.devices,
        "device EUIs are unique"
    );
    let anomalies = std::fs::read_to_string(dir.join("truth/sensor_truth.csv")).unwrap();
    for line in anomalies.lines().skip(1) {
        let eui = line.split(',').nth(1).unwrap();
        assert!(euis.contains(eui), "{eui} is a registered device");
    }
    let uplinks = std::fs::read_to_string(dir.join("sensors/uplinks.jsonl")).unwrap();
    let mut n = 0;
    for l in uplinks.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert!(euis.contains(v["deviceInfo"]["devEui"].as_str().unwrap()));
        n += 1;
    }
    assert_eq!(n, summary.sensors.uplinks);
}
