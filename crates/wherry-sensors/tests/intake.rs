//! The registry and the intake on SQLite and PostgreSQL: devices checked
//! before they are stored, each uplink stored once however it is
//! delivered, unknown devices listed, withdrawn consent honoured, and every
//! bad event refused with its reason, counted, and nothing stored for it.

use wherry_lorawan::Network;
use wherry_lorawan::event::{base64_encode, format_time};
use wherry_sensors::registry::{self, NewDevice, RegistryError};
use wherry_sensors::{Intake, Outcome};
use wherry_store::testing::{TestStore, stores};

mod support;

const NOW: i64 = 1_796_000_000_000;
const DRAWER: &str = "70b3d57ed0045388";
const KETTLE: &str = "70b3d57ed0045389";

async fn with_devices(t: &TestStore) {
    support::home(
        t,
        &[
            (
                &DRAWER.to_uppercase(),
                "milesight_ws301",
                "medication_drawer",
            ),
            (&KETTLE.to_uppercase(), "milesight_ws52x", "kettle"),
        ],
    )
    .await;
}

/// A ChirpStack uplink as ChirpStack prints it.
fn chirpstack_up(eui: &str, f_cnt: u32, payload: &[u8], time_ms: i64) -> String {
    format!(
        r#"{{"deduplicationId":"3ac7e3c4","time":"{}","deviceInfo":{{"tenantId":"t","applicationId":"a","deviceName":"d","devEui":"{eui}","tags":{{}}}},"devAddr":"00189440","adr":true,"dr":5,"fCnt":{f_cnt},"fPort":85,"confirmed":false,"data":"{}","rxInfo":[{{"gatewayId":"0016c001ff10a235","rssi":-97,"snr":7.2}}]}}"#,
        format_time(time_ms),
        base64_encode(payload)
    )
}

/// The same uplink as a The Things Stack webhook sends it.
fn tts_up(eui: &str, f_cnt: u32, payload: &[u8], time_ms: i64) -> String {
    let f_cnt = if f_cnt == 0 {
        String::new()
    } else {
        format!(r#""f_cnt":{f_cnt},"#)
    };
    format!(
        r#"{{"end_device_ids":{{"device_id":"d","dev_eui":"{}"}},"received_at":"{t}","uplink_message":{{"f_port":85,{f_cnt}"frm_payload":"{}","rx_metadata":[{{"gateway_ids":{{"gateway_id":"g"}},"rssi":-51,"snr":9.25}}],"received_at":"{t}"}}}}"#,
        eui.to_uppercase(),
        base64_encode(payload),
        t = format_time(time_ms).replace("+00:00", "Z"),
    )
}

const DOOR_OPEN: &[u8] = &[0x01, 0x75, 0x5c, 0x03, 0x00, 0x01];

#[tokio::test]
async fn an_uplink_is_stored_once_however_it_is_delivered() {
    for t in stores().await {
        with_devices(&t).await;
        let intake = Intake::new(t.store.clone());
        let body = chirpstack_up(DRAWER, 7, DOOR_OPEN, NOW - 1000);
        let first = intake
            .handle(Network::Chirpstack, "up", body.as_bytes(), NOW)
            .await;
        assert!(
            matches!(first, Ok(Outcome::Stored(_))),
            "{}: {first:?}",
            t.name
        );
        // A webhook retry, the MQTT path and a later redelivery are one uplink.
        for again in [
            body.clone(),
            body.replace("0016c001ff10a235", "0016c001ff10a236"),
        ] {
            let o = intake
                .handle(Network::Chirpstack, "up", again.as_bytes(), NOW + 60_000)
                .await;
            assert_eq!(o, Ok(Outcome::Duplicate), "{}", t.name);
        }
        // Another process (a second intake on the same store, which has not
        // seen the frame): the store itself refuses the copy.
        let other = Intake::new(t.store.clone());
        let o = other
            .handle(Network::Chirpstack, "up", body.as_bytes(), NOW + 60_000)
            .await;
        assert_eq!(o, Ok(Outcome::Duplicate), "{}", t.name);
        // Eight copies at once through yet another intake: one stored.
        let third = std::sync::Arc::new(Intake::new(t.store.clone()));
        let copy = chirpstack_up(DRAWER, 8, DOOR_OPEN, NOW - 500);
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (intake, copy) = (third.clone(), copy.clone());
            tasks.push(tokio::spawn(async move {
                intake
                    .handle(Network::Chirpstack, "up", copy.as_bytes(), NOW)
                    .await
            }));
        }
        let mut stored_now = 0;
        for task in tasks {
            if matches!(task.await.unwrap(), Ok(Outcome::Stored(_))) {
                stored_now += 1;
            }
        }
        assert_eq!(
            stored_now, 1,
            "{}: eight copies at once, one stored",
            t.name
        );
        // The same counter a day later is a new frame (after a rejoin).
        let later = chirpstack_up(DRAWER, 7, DOOR_OPEN, NOW + 86_400_000);
        let o = intake
            .handle(
                Network::Chirpstack,
                "up",
                later.as_bytes(),
                NOW + 86_400_000,
            )
            .await;
        assert!(matches!(o, Ok(Outcome::Stored(_))), "{}: {o:?}", t.name);
        let stored = t.store.uplinks_of(DRAWER, 0, i64::MAX).await.unwrap();
        assert_eq!(stored.len(), 3, "{}", t.name);
        let reading: serde_json::Value = serde_json::from_str(&stored[0].reading).unwrap();
        assert_eq!(
            (reading["door"].as_str(), reading["battery"].as_u64()),
            (Some("open"), Some(92))
        );
        assert_eq!(intake.counters().get("outcome", "duplicate"), 2);
        t.finish().await;
    }
}

#[tokio::test]
async fn the_things_stack_and_chirpstack_carrying_one_uplink_store_it_once() {
    for t in stores().await {
        with_devices(&t).await;
        let intake = Intake::new(t.store.clone());
        let kettle_on = [0x04, 0x80, 0x22, 0x0b, 0x00, 0x00];
        let tts = tts_up(KETTLE, 0, &kettle_on, NOW - 500);
        let o = intake
            .handle(Network::TheThingsStack, "up", tts.as_bytes(), NOW)
            .await;
        assert!(matches!(o, Ok(Outcome::Stored(_))), "{}: {o:?}", t.name);
        let cs = chirpstack_up(KETTLE, 0, &kettle_on, NOW - 500);
        let o = intake
            .handle(Network::Chirpstack, "up", cs.as_bytes(), NOW)
            .await;
        assert_eq!(o, Ok(Outcome::Duplicate), "{}", t.name);
        let stored = t.store.uplinks_of(KETTLE, 0, i64::MAX).await.unwrap();
        assert_eq!(stored.len(), 1);
        assert!(
            stored[0].reading.contains("\"active_power\":2850"),
            "{}",
            stored[0].reading
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn unknown_devices_are_listed_with_counts_not_dropped() {
    for t in stores().await {
        with_devices(&t).await;
        let intake = Intake::new(t.store.clone());
        let stranger = "a84041000181c0de";
        for f_cnt in 1..=3 {
            let body = chirpstack_up(stranger, f_cnt, DOOR_OPEN, NOW - 1000);
            let o = intake
                .handle(Network::Chirpstack, "up", body.as_bytes(), NOW)
                .await;
            assert_eq!(o, Ok(Outcome::Unregistered), "{}", t.name);
        }
        let listed = t.store.unregistered_devices().await.unwrap();
        assert_eq!(listed.len(), 1, "{}", t.name);
        assert_eq!(
            (listed[0].dev_eui.as_str(), listed[0].uplinks),
            (stranger, 3)
        );
        assert!(
            t.store
                .uplinks_of(stranger, 0, i64::MAX)
                .await
                .unwrap()
                .is_empty()
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn bad_events_are_refused_with_a_reason_counted_and_nothing_stored() {
    for t in stores().await {
        with_devices(&t).await;
        let intake = Intake::new(t.store.clone());
        let good = chirpstack_up(DRAWER, 9, DOOR_OPEN, NOW - 1000);
        let cases: Vec<(String, &str)> = vec![
            ("{\"deviceInfo\":".into(), "invalid_json"),
            (
                good.replace(&base64_encode(DOOR_OPEN), "AwA!"),
                "bad_base64",
            ),
            (
                chirpstack_up(DRAWER, 9, &[0x03], NOW - 1000),
                "payload_too_short",
            ),
            (
                chirpstack_up(DRAWER, 9, &[0x09, 0x99, 0x01], NOW - 1000),
                "unknown_channel",
            ),
            (good.replace(DRAWER, "70b3d57ed00453"), "bad_dev_eui"),
            (
                chirpstack_up(DRAWER, 9, DOOR_OPEN, NOW + 3_600_000),
                "future_time",
            ),
        ];
        for (body, reason) in &cases {
            let e = intake
                .handle(Network::Chirpstack, "up", body.as_bytes(), NOW)
                .await
                .unwrap_err();
            assert_eq!(e.reason, *reason, "{}: {e}", t.name);
            assert_eq!(
                intake.counters().get("rejected", reason),
                1,
                "{}: {reason}",
                t.name
            );
        }
        // Consent withdrawn: refused at once, nothing stored.
        assert!(t.store.withdraw_consent(DRAWER, NOW).await.unwrap());
        let e = intake
            .handle(Network::Chirpstack, "up", good.as_bytes(), NOW)
            .await
            .unwrap_err();
        assert_eq!(e.reason, "consent_withdrawn", "{}", t.name);
        assert!(
            t.store
                .uplinks_of(DRAWER, 0, i64::MAX)
                .await
                .unwrap()
                .is_empty(),
            "{}: nothing stored for a refused event",
            t.name
        );
        // The messages never carry the payload.
        for (body, _) in &cases {
            if let Err(e) = intake
                .handle(Network::Chirpstack, "up", body.as_bytes(), NOW)
                .await
            {
                assert!(!e.message.contains("ed0045388"), "{e}");
            }
        }
        t.finish().await;
    }
}

#[tokio::test]
async fn the_registry_checks_each_device_before_storing_it() {
    for t in stores().await {
        with_devices(&t).await;
        let (access, tina) = support::tec(&t.store);
        let home = |eui: &str, model: &str, use_kind: &str| NewDevice {
            dev_eui: eui.into(),
            model: model.into(),
            use_kind: use_kind.into(),
            resident: Some("P000000001".into()),
            consent_ref: Some("TEC-1".into()),
            ..Default::default()
        };
        let cases: Vec<(NewDevice, &str)> = vec![
            (
                home("70b3d57ed004", "milesight_ws301", "front_door"),
                "--dev-eui: bad devEUI",
            ),
            (
                home("70b3d57ed0045390", "acme", "front_door"),
                "unknown device model \"acme\"",
            ),
            (
                home("70b3d57ed0045390", "milesight_ws52x", "front_door"),
                "a milesight_ws52x cannot be used as front_door: use milesight_ws301",
            ),
            (
                NewDevice {
                    consent_ref: None,
                    ..home("70b3d57ed0045390", "milesight_ws301", "front_door")
                },
                "--consent-ref",
            ),
            (
                NewDevice {
                    resident: Some("P000000099".into()),
                    ..home("70b3d57ed0045390", "milesight_ws301", "front_door")
                },
                "no resident P000000099",
            ),
            (
                NewDevice {
                    place: Some("Hall".into()),
                    ..home("70b3d57ed0045390", "milesight_ws301", "front_door")
                },
                "location is not published",
            ),
            (
                home("70b3d57ed0045390", "parametric_pcr2", "traffic"),
                "counts a public place",
            ),
            (
                NewDevice {
                    resident: None,
                    consent_ref: None,
                    ..home("70b3d57ed0045390", "parametric_pcr2", "traffic")
                },
                "needs --place",
            ),
            (
                NewDevice {
                    resident: None,
                    consent_ref: None,
                    place: Some("A11".into()),
                    lat: Some(95.0),
                    lon: Some(1.0),
                    ..home("70b3d57ed0045390", "parametric_pcr2", "traffic")
                },
                "--lat must be",
            ),
            (
                home(DRAWER, "milesight_ws301", "medication_drawer"),
                "registered already",
            ),
        ];
        for (d, expected) in cases {
            let e = registry::add(&access, &tina, &d, "test").await.unwrap_err();
            assert!(
                e.to_string().contains(expected),
                "{}: {e} (expected {expected})",
                t.name
            );
        }
        assert_eq!(
            t.store.devices().await.unwrap().len(),
            2,
            "{}: nothing added",
            t.name
        );
        let counter = NewDevice {
            dev_eui: "70b3d57ed0045391".into(),
            model: "parametric_pcr2".into(),
            use_kind: "traffic".into(),
            place: Some("Wymondham, London Road".into()),
            lat: Some(52.57),
            lon: Some(1.11),
            ..Default::default()
        };
        registry::add(&access, &tina, &counter, "test")
            .await
            .unwrap();
        let devices = t.store.devices().await.unwrap();
        assert_eq!(devices.len(), 3);
        registry::remove(&access, &tina, "70B3D57ED0045391", "test")
            .await
            .unwrap();
        assert!(matches!(
            registry::remove(&access, &tina, "70b3d57ed0045391", "test").await,
            Err(RegistryError::NotRegistered(_))
        ));
        t.finish().await;
    }
}

/// A ChirpStack status event as ChirpStack prints it.
fn chirpstack_status(eui: &str, battery: f64, time_ms: i64) -> String {
    format!(
        r#"{{"deduplicationId":"5b1e","time":"{}","deviceInfo":{{"tenantId":"t","applicationId":"a","deviceName":"d","devEui":"{eui}","tags":{{}}}},"margin":7,"externalPowerSource":false,"batteryLevelUnavailable":false,"batteryLevel":{battery}}}"#,
        format_time(time_ms)
    )
}

#[tokio::test]
async fn a_status_report_keeps_the_battery_and_a_low_one_is_alerted_once() {
    for t in stores().await {
        with_devices(&t).await;
        let clock: wherry_sensors::watch::Clock = std::sync::Arc::new(|| NOW);
        let watch = wherry_sensors::Watch::start_with_clock(t.store.clone(), false, clock)
            .await
            .unwrap();
        let intake = Intake::new(t.store.clone());
        intake.set_watch(watch);
        let send = |body: String, now: i64| {
            let intake = &intake;
            async move {
                intake
                    .handle(Network::Chirpstack, "status", body.as_bytes(), now)
                    .await
            }
        };
        let battery = || async {
            let devices = t.store.devices().await.unwrap();
            devices
                .iter()
                .find(|d| d.device.dev_eui == DRAWER)
                .unwrap()
                .battery
        };
        let up = chirpstack_up(DRAWER, 7, DOOR_OPEN, NOW - 10_000);
        let o = intake
            .handle(Network::Chirpstack, "up", up.as_bytes(), NOW)
            .await;
        assert!(matches!(o, Ok(Outcome::Stored(_))), "{}: {o:?}", t.name);
        assert_eq!(battery().await, Some(92.0), "{}: the uplink's", t.name);
        // A later status report is the battery shown; an older one is not.
        let o = send(chirpstack_status(DRAWER, 41.5, NOW - 5000), NOW).await;
        assert_eq!(o, Ok(Outcome::Noted), "{}", t.name);
        assert_eq!(battery().await, Some(41.5), "{}", t.name);
        let o = send(chirpstack_status(DRAWER, 80.0, NOW - 8000), NOW).await;
        assert_eq!(o, Ok(Outcome::Noted), "{}", t.name);
        assert_eq!(battery().await, Some(41.5), "{}: an older report", t.name);
        assert!(t.store.alerts(None, true).await.unwrap().is_empty());
        // Low: one battery_low alert, and not again for the same episode.
        for (level, at) in [(7.0, NOW - 4000), (6.0, NOW - 3000)] {
            let o = send(chirpstack_status(DRAWER, level, at), NOW).await;
            assert_eq!(o, Ok(Outcome::Noted), "{}", t.name);
        }
        let alerts = t.store.alerts(None, true).await.unwrap();
        assert_eq!(alerts.len(), 1, "{}: {alerts:?}", t.name);
        assert_eq!(
            (
                alerts[0].kind.as_str(),
                alerts[0].wellbeing,
                alerts[0].observed.as_str()
            ),
            ("battery_low", false, "battery at 7%"),
            "{}",
            t.name
        );
        // After a restart, a day later, the battery still low: the same
        // episode (the stored report is replayed), not a new alert.
        let later = NOW + 86_400_000;
        let clock: wherry_sensors::watch::Clock = std::sync::Arc::new(move || later);
        let watch = wherry_sensors::Watch::start_with_clock(t.store.clone(), false, clock)
            .await
            .unwrap();
        let intake = Intake::new(t.store.clone());
        intake.set_watch(watch);
        let o = intake
            .handle(
                Network::Chirpstack,
                "status",
                chirpstack_status(DRAWER, 5.0, later).as_bytes(),
                later,
            )
            .await;
        assert_eq!(o, Ok(Outcome::Noted), "{}", t.name);
        assert_eq!(battery().await, Some(5.0), "{}", t.name);
        assert_eq!(
            t.store.alerts(None, true).await.unwrap().len(),
            1,
            "{}",
            t.name
        );
        // An unknown device's report is listed; a withdrawn consent's refused
        // and not kept.
        let o = send(chirpstack_status("70b3d57ed00453ff", 50.0, later), later).await;
        assert_eq!(o, Ok(Outcome::Unregistered), "{}", t.name);
        assert!(t.store.withdraw_consent(DRAWER, later).await.unwrap());
        let e = send(chirpstack_status(DRAWER, 90.0, later + 1), later + 1)
            .await
            .unwrap_err();
        assert_eq!(e.reason, "consent_withdrawn", "{}", t.name);
        assert_eq!(battery().await, Some(5.0), "{}", t.name);
        t.finish().await;
    }
}
