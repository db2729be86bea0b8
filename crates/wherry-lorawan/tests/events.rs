//! The network servers' events, in the encodings they really use.

use proptest::prelude::*;
use wherry_lorawan::event::{
    DEDUP_WINDOW_MS, base64_decode, base64_encode, format_time, parse_time,
};
use wherry_lorawan::{DevEui, Event, EventError, Network, chirpstack, tts};

/// A ChirpStack v4 uplink as ChirpStack's HTTP integration prints it: every
/// field, defaults included, lower-case EUIs, `+00:00`.
const CHIRPSTACK_UP: &str = r#"{
  "deduplicationId": "3ac7e3c4-4401-4b8d-9386-a5c902f9202d",
  "time": "2026-10-07T06:41:09.123456789+00:00",
  "deviceInfo": {
    "tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242",
    "tenantName": "Norfolk County Council",
    "applicationId": "17c82e96-be03-4f38-aef3-f83d48582d97",
    "applicationName": "tec-homes",
    "deviceProfileId": "14855bf7-d10d-4aee-b618-ebfcb64dc7ad",
    "deviceProfileName": "Milesight WS301",
    "deviceName": "drawer-0045388",
    "devEui": "70b3d57ed0045388",
    "deviceClassEnabled": "CLASS_A",
    "tags": {}
  },
  "devAddr": "00189440",
  "adr": true,
  "dr": 5,
  "fCnt": 0,
  "fPort": 85,
  "confirmed": false,
  "data": "AwAB",
  "object": null,
  "rxInfo": [
    {"gatewayId": "0016c001ff10a235", "uplinkId": 4217106255, "rssi": -97, "snr": 7.2, "context": "EFwMtA==", "metadata": {}},
    {"gatewayId": "0016c001ff10a236", "uplinkId": 1, "rssi": -74, "snr": 10.5, "context": "EFwMtA==", "metadata": {}}
  ],
  "txInfo": {"frequency": 868100000, "modulation": {"lora": {"bandwidth": 125000, "spreadingFactor": 7, "codeRate": "CR_4_5"}}}
}"#;

/// A The Things Stack v3 uplink webhook body: snake_case, zero fields left
/// out (no `f_cnt`: it is 0), upper-case EUIs, uint64 as strings.
const TTS_UP: &str = r#"{
  "end_device_ids": {
    "device_id": "kettle-0012",
    "application_ids": {"application_id": "tec-homes"},
    "dev_eui": "70B3D57ED0045389",
    "join_eui": "0000000000000000",
    "dev_addr": "260B1234"
  },
  "correlation_ids": ["as:up:01HF0000000000000000000000"],
  "received_at": "2026-10-07T06:41:10.000123Z",
  "uplink_message": {
    "session_key_id": "AYv0x2ZkR4A=",
    "f_port": 85,
    "frm_payload": "A3TtCA==",
    "rx_metadata": [{"gateway_ids": {"gateway_id": "norwich-library", "eui": "B827EBFFFE8B01AA"}, "time": "2026-10-07T06:41:09.981Z", "timestamp": 2475010812, "rssi": -51, "channel_rssi": -51, "snr": 9.25, "uplink_token": "CiIKIAoU"}],
    "settings": {"data_rate": {"lora": {"bandwidth": 125000, "spreading_factor": 7}}, "frequency": "868100000", "timestamp": 2475010812},
    "received_at": "2026-10-07T06:41:10.000123Z",
    "consumed_airtime": "0.056576s"
  }
}"#;

#[test]
fn a_chirpstack_uplink_as_chirpstack_prints_it() {
    let Event::Up(up) = chirpstack::parse("up", CHIRPSTACK_UP.as_bytes()).unwrap() else {
        panic!("an uplink")
    };
    assert_eq!(up.network, Network::Chirpstack);
    assert_eq!(up.dev_eui.to_string(), "70b3d57ed0045388");
    assert_eq!((up.f_cnt, up.f_port), (0, 85));
    assert_eq!(up.data, vec![0x03, 0x00, 0x01]);
    assert_eq!(
        up.time_ms,
        Some(parse_time("2026-10-07T06:41:09.123Z").unwrap())
    );
    assert_eq!(up.receptions.len(), 2);
    assert_eq!(up.best_rssi(), Some(-74));
}

#[test]
fn a_things_stack_uplink_with_its_zero_fields_left_out() {
    let Event::Up(up) = tts::parse(TTS_UP.as_bytes()).unwrap() else {
        panic!("an uplink")
    };
    assert_eq!(up.network, Network::TheThingsStack);
    assert_eq!(up.dev_eui.to_string(), "70b3d57ed0045389");
    assert_eq!(up.f_cnt, 0, "an absent f_cnt is 0");
    assert_eq!(up.data, vec![0x03, 0x74, 0xed, 0x08]);
    assert_eq!(
        up.time_ms,
        Some(parse_time("2026-10-07T06:41:10Z").unwrap())
    );
    assert_eq!(up.receptions[0].gateway_id, "norwich-library");
}

#[test]
fn chirpstack_status_and_join_events() {
    let status = r#"{"deduplicationId":"x","time":"2026-10-07T06:00:00+00:00","deviceInfo":{"devEui":"70b3d57ed0045388"},"margin":7,"externalPowerSource":false,"batteryLevelUnavailable":false,"batteryLevel":41.5}"#;
    let Event::Status(s) = chirpstack::parse("status", status.as_bytes()).unwrap() else {
        panic!("a status")
    };
    assert_eq!((s.battery_level, s.margin), (Some(41.5), 7));
    let mains = status.replace(
        "\"externalPowerSource\":false",
        "\"externalPowerSource\":true",
    );
    let Event::Status(s) = chirpstack::parse("status", mains.as_bytes()).unwrap() else {
        panic!("a status")
    };
    assert_eq!(
        s.battery_level, None,
        "a mains-powered device has no battery level"
    );
    let join = r#"{"deduplicationId":"x","time":"2026-10-07T06:00:00.5+00:00","deviceInfo":{"devEui":"70b3d57ed0045388"},"devAddr":"01020304"}"#;
    assert!(matches!(
        chirpstack::parse("join", join.as_bytes()).unwrap(),
        Event::Join(_)
    ));
    assert_eq!(
        chirpstack::parse("txack", join.as_bytes())
            .unwrap_err()
            .reason(),
        "unsupported_event"
    );
}

#[test]
fn bad_events_are_refused_with_their_reason() {
    let cases: &[(&str, &str)] = &[
        ("{\"deviceInfo\":", "invalid_json"),
        ("[1,2]", "invalid_json"),
        (&CHIRPSTACK_UP.replace("\"AwAB\"", "\"AwA!\""), "bad_base64"),
        (
            &CHIRPSTACK_UP.replace("70b3d57ed0045388", "70b3d57ed00453"),
            "bad_dev_eui",
        ),
        (
            &CHIRPSTACK_UP.replace("70b3d57ed0045388", "70b3d57ed004538g"),
            "bad_dev_eui",
        ),
        (
            &CHIRPSTACK_UP.replace("2026-10-07T06:41:09.123456789+00:00", "07/10/2026 06:41"),
            "bad_time",
        ),
        (
            &CHIRPSTACK_UP.replace("\"fPort\": 85", "\"fPort\": 300"),
            "out_of_range",
        ),
        (
            &CHIRPSTACK_UP.replace("\"devEui\": \"70b3d57ed0045388\",", ""),
            "missing_field",
        ),
    ];
    for (body, reason) in cases {
        let e = chirpstack::parse("up", body.as_bytes()).unwrap_err();
        assert_eq!(e.reason(), *reason, "{e}");
    }
    let e = tts::parse(br#"{"end_device_ids":{"dev_eui":"70B3D57ED0045389"},"join_accept":{}}"#)
        .unwrap_err();
    assert!(matches!(e, EventError::UnsupportedEvent(_)));
}

#[test]
fn an_error_never_repeats_the_payload() {
    let body = CHIRPSTACK_UP.replace("\"fCnt\": 0", "\"fCnt\": \"Margaret Thrower\"");
    let e = chirpstack::parse("up", body.as_bytes()).unwrap_err();
    assert_eq!(e.reason(), "invalid_json");
    assert!(!e.to_string().contains("Margaret"), "{e}");
}

#[test]
fn times_in_every_layout_the_servers_print() {
    let base = parse_time("2026-10-07T06:41:09Z").unwrap();
    assert_eq!(parse_time("2026-10-07T06:41:09+00:00").unwrap(), base);
    assert_eq!(parse_time("2026-10-07T07:41:09+01:00").unwrap(), base);
    assert_eq!(parse_time("2026-10-07T06:41:09.5Z").unwrap(), base + 500);
    assert_eq!(
        parse_time("2026-10-07T06:41:09.123456789+00:00").unwrap(),
        base + 123
    );
    assert_eq!(format_time(base + 123), "2026-10-07T06:41:09.123+00:00");
    for bad in [
        "2026-10-07T06:41:09",
        "2026-02-30T00:00:00Z",
        "2026-10-07T06:41:09.Z",
        "2026-10-07T06:41:09.1234567890Z",
        "2026-10-07T25:00:00Z",
    ] {
        assert!(parse_time(bad).is_err(), "{bad}");
    }
}

#[test]
fn mqtt_topics() {
    assert_eq!(
        chirpstack::topic_event("application/17c8/device/70b3d57ed0045388/event/up"),
        Some("up")
    );
    assert_eq!(
        chirpstack::topic_event("application/17c8/device/70b3d57ed0045388/command/down"),
        None
    );
    assert!(tts::is_uplink_topic(
        "v3/tec-homes@norfolk/devices/kettle-0012/up"
    ));
    assert!(!tts::is_uplink_topic(
        "v3/tec-homes@norfolk/devices/kettle-0012/join"
    ));
}

#[test]
fn the_dedup_key_is_one_uplink_however_delivered() {
    let Event::Up(a) = chirpstack::parse("up", CHIRPSTACK_UP.as_bytes()).unwrap() else {
        panic!()
    };
    let t = a.time_ms.unwrap();
    let key = a.dedup_key(t);
    // The same frame a few seconds later (a retry) shares a key with it.
    assert!(key.neighbours().contains(&a.dedup_key(t + 5_000)));
    // The same counter a day later (after a rejoin) does not.
    assert!(!key.neighbours().contains(&a.dedup_key(t + 86_400_000)));
    assert!(
        !key.neighbours()
            .contains(&a.dedup_key(t + 3 * DEDUP_WINDOW_MS))
    );
    let other = DevEui(a.dev_eui.0 + 1);
    assert_ne!(key.dev_eui, other);
}

proptest! {
    #[test]
    fn base64_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        let text = base64_encode(&bytes);
        prop_assert_eq!(base64_decode(&text).unwrap(), bytes.clone());
        prop_assert_eq!(base64_decode(text.trim_end_matches('=')).unwrap(), bytes);
    }

    #[test]
    fn base64_never_panics(text in ".{0,40}") {
        let _ = base64_decode(&text);
    }

    #[test]
    fn times_round_trip(ms in 0i64..4_102_444_800_000) {
        prop_assert_eq!(parse_time(&format_time(ms)).unwrap(), ms);
    }

    #[test]
    fn time_parsing_never_panics(text in ".{0,40}") {
        let _ = parse_time(&text);
    }

    #[test]
    fn events_never_panic(body in proptest::collection::vec(any::<u8>(), 0..200), kind in "(up|status|join|x)") {
        let _ = chirpstack::parse(&kind, &body);
        let _ = tts::parse(&body);
    }

    #[test]
    fn dev_euis_in_either_case(n in any::<u64>()) {
        let lower = format!("{n:016x}");
        prop_assert_eq!(lower.parse::<DevEui>().unwrap(), DevEui(n));
        prop_assert_eq!(lower.to_uppercase().parse::<DevEui>().unwrap(), DevEui(n));
        prop_assert_eq!(DevEui(n).to_string(), lower);
    }
}
