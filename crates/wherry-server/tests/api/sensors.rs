//! Issue 14: the network servers' integrations through the router, on
//! SQLite and PostgreSQL. ChirpStack's events are built by ChirpStack's own
//! API package (`chirpstack-api` from PyPI: its protobuf messages written
//! by protobuf's `json_format`), so the hub reads what a real client sends.

use std::process::Command;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use wherry_sensors::registry::{self, NewDevice};
use wherry_server::AppState;
use wherry_server::integrations::Secrets;
use wherry_store::testing::stores;

use crate::{python, send};

const DRAWER: &str = "70b3d57ed0045388";
const CHIRPSTACK_SECRET: &str = "cs-secret-0123456789";
const TTS_SECRET: &str = "tts-secret-9876543210";

/// ChirpStack events of `kinds` (`up`, `status`) for the drawer, written by
/// ChirpStack's API package, one JSON document a line.
fn chirpstack_events(time: &str) -> Vec<String> {
    let script = format!(
        r#"
import json
from chirpstack_api import integration
from google.protobuf import json_format
up = integration.UplinkEvent()
up.deduplication_id = "3ac7e3c4-4401-4b8d-9386-a5c902f9202d"
up.time.FromJsonString("{time}")
up.device_info.tenant_name = "Norfolk County Council"
up.device_info.application_name = "tec-homes"
up.device_info.device_name = "drawer"
up.device_info.dev_eui = "{DRAWER}"
up.f_cnt = 7
up.f_port = 85
up.data = bytes([0x01, 0x75, 0x5c, 0x03, 0x00, 0x01])
rx = up.rx_info.add()
rx.gateway_id = "0016c001ff10a235"
rx.uplink_id = 4217106255
rx.rssi = -97
rx.snr = 7.2
status = integration.StatusEvent()
status.time.FromJsonString("{time}")
status.device_info.dev_eui = "{DRAWER}"
status.margin = 7
status.battery_level = 88.5
for m in (up, status):
    print(json.dumps(json.loads(json_format.MessageToJson(m))))
"#
    );
    let out = Command::new(python())
        .arg("-c")
        .arg(script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

async fn post(
    state: &Arc<AppState>,
    uri: &str,
    secret: Option<&str>,
    body: &str,
) -> (StatusCode, Value) {
    let mut req = Request::post(uri).header("content-type", "application/json");
    if let Some(s) = secret {
        req = req.header("Wherry-Integration-Secret", s);
    }
    send(state, req.body(Body::from(body.to_string())).unwrap()).await
}

async fn metrics(state: &Arc<AppState>) -> String {
    let res = wherry_server::app(state.clone())
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

#[tokio::test]
async fn chirpstack_and_the_things_stack_events_are_taken_once_each_and_bad_ones_refused() {
    // The event's time: a minute ago (a time in the future is refused).
    let now_ms = wherry_core::clock::unix_ms();
    let time = wherry_lorawan::event::format_time(now_ms - 60_000).replace("+00:00", "Z");
    let events = chirpstack_events(&time);
    let (up, status) = (&events[0], &events[1]);
    for t in stores().await {
        t.store.migrate().await.unwrap();
        t.execute(
            "INSERT INTO persons (id, created_at) VALUES ('P000000001', '2026-12-01T00:00:00Z')",
        )
        .await;
        let d = NewDevice {
            dev_eui: DRAWER.into(),
            model: "milesight_ws301".into(),
            use_kind: "medication_drawer".into(),
            resident: Some("P000000001".into()),
            consent_ref: Some("TEC-2026-0042".into()),
            ..Default::default()
        };
        let access = wherry_access::Access::new(t.store.clone(), wherry_access::Policy::default());
        let tina = access
            .caller(
                "tina",
                wherry_core::Role::TecTeam,
                wherry_core::Purpose::DirectCare,
                None,
            )
            .unwrap();
        registry::add(&access, &tina, &d, "test").await.unwrap();
        let mut state = AppState::new(t.store.clone(), None);
        // Closed until a secret is configured.
        let closed = Arc::new(AppState::new(t.store.clone(), None));
        let (status_code, body) =
            post(&closed, "/integrations/chirpstack?event=up", Some("x"), up).await;
        assert_eq!(
            (status_code, body["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("integration_closed"))
        );
        state.integration_secrets = Secrets {
            chirpstack: Some(CHIRPSTACK_SECRET.into()),
            the_things_stack: Some(TTS_SECRET.into()),
        };
        let state = Arc::new(state);

        // The real client's uplink: decoded and stored.
        let (code, body) = post(
            &state,
            "/integrations/chirpstack?event=up",
            Some(CHIRPSTACK_SECRET),
            up,
        )
        .await;
        assert_eq!(
            (code, body["outcome"].as_str()),
            (StatusCode::OK, Some("stored")),
            "{}: {body}",
            t.name
        );
        let stored = t.store.uplinks_of(DRAWER, 0, i64::MAX).await.unwrap();
        assert_eq!(stored.len(), 1);
        let reading: Value = serde_json::from_str(&stored[0].reading).unwrap();
        assert_eq!(
            (reading["door"].as_str(), reading["battery"].as_u64()),
            (Some("open"), Some(92))
        );
        // A retry, and the same uplink from The Things Stack: one uplink.
        let (_, body) = post(
            &state,
            "/integrations/chirpstack?event=up",
            Some(CHIRPSTACK_SECRET),
            up,
        )
        .await;
        assert_eq!(body["outcome"], "duplicate", "{}", t.name);
        let tts = format!(
            r#"{{"end_device_ids":{{"device_id":"drawer","dev_eui":"{}"}},"received_at":"{time}","uplink_message":{{"f_port":85,"f_cnt":7,"frm_payload":"AXVcAwAB","received_at":"{time}"}}}}"#,
            DRAWER.to_uppercase()
        );
        let (code, body) = post(
            &state,
            "/integrations/the-things-stack",
            Some(TTS_SECRET),
            &tts,
        )
        .await;
        assert_eq!(
            (code, body["outcome"].as_str()),
            (StatusCode::OK, Some("duplicate")),
            "{}: {body}",
            t.name
        );
        // A status event is taken.
        let (_, body) = post(
            &state,
            "/integrations/chirpstack?event=status",
            Some(CHIRPSTACK_SECRET),
            status,
        )
        .await;
        assert_eq!(body["outcome"], "noted", "{}: {body}", t.name);

        // Refused, each with its reason, and nothing stored.
        let other_frame = up.replace("\"fCnt\": 7", "\"fCnt\": 8");
        let cases: Vec<(&str, Option<&str>, String, StatusCode, &str)> = vec![
            (
                "/integrations/chirpstack?event=up",
                Some("wrong"),
                other_frame.clone(),
                StatusCode::UNAUTHORIZED,
                "bad_secret",
            ),
            (
                "/integrations/chirpstack?event=up",
                None,
                other_frame.clone(),
                StatusCode::UNAUTHORIZED,
                "bad_secret",
            ),
            (
                "/integrations/the-things-stack",
                Some(CHIRPSTACK_SECRET),
                tts.replace("\"f_cnt\":7", "\"f_cnt\":8"),
                StatusCode::UNAUTHORIZED,
                "bad_secret",
            ),
            (
                "/integrations/chirpstack?event=up",
                Some(CHIRPSTACK_SECRET),
                "{\"deviceInfo\":".into(),
                StatusCode::BAD_REQUEST,
                "invalid_json",
            ),
            (
                "/integrations/chirpstack?event=up",
                Some(CHIRPSTACK_SECRET),
                other_frame.replace("AXVcAwAB", "AXVc!wAB"),
                StatusCode::BAD_REQUEST,
                "bad_base64",
            ),
            (
                "/integrations/chirpstack?event=up",
                Some(CHIRPSTACK_SECRET),
                other_frame.replace("AXVcAwAB", "AXU="),
                StatusCode::BAD_REQUEST,
                "payload_too_short",
            ),
            (
                "/integrations/chirpstack?event=up",
                Some(CHIRPSTACK_SECRET),
                other_frame.replace(DRAWER, "70b3d57ed00453"),
                StatusCode::BAD_REQUEST,
                "bad_dev_eui",
            ),
            (
                "/integrations/chirpstack?event=txack",
                Some(CHIRPSTACK_SECRET),
                other_frame.clone(),
                StatusCode::BAD_REQUEST,
                "unsupported_event",
            ),
        ];
        for (uri, secret, body, want, reason) in &cases {
            let (code, answer) = post(&state, uri, *secret, body).await;
            assert_eq!(
                (code, answer["error"].as_str()),
                (*want, Some(*reason)),
                "{}: {uri} {answer}",
                t.name
            );
        }
        assert_eq!(
            t.store.uplinks_of(DRAWER, 0, i64::MAX).await.unwrap().len(),
            1,
            "{}",
            t.name
        );
        // Counted in /metrics by outcome and reason.
        let text = metrics(&state).await;
        for line in [
            "wherry_sensor_events_total{outcome=\"stored\"} 1",
            "wherry_sensor_events_total{outcome=\"duplicate\"} 2",
            "wherry_sensor_rejections_total{reason=\"bad_secret\"} 3",
            "wherry_sensor_rejections_total{reason=\"bad_base64\"} 1",
        ] {
            assert!(text.contains(line), "{}: {line} in\n{text}", t.name);
        }
        t.finish().await;
    }
}

#[tokio::test]
async fn a_residents_subject_access_and_erasure_take_in_their_sensors_and_readings() {
    use crate::access::PERSON;
    use serde_json::json;
    let dir = tempfile::tempdir().unwrap();
    let now_ms = wherry_core::clock::unix_ms();
    for t in stores().await {
        crate::access::hub(&t.store, dir.path()).await;
        let admin = crate::attack::user(&t.store, "dpo", "admin", &[]).await;
        let d = NewDevice {
            dev_eui: DRAWER.into(),
            model: "milesight_ws301".into(),
            use_kind: "medication_drawer".into(),
            resident: Some(PERSON.into()),
            consent_ref: Some("TEC-2026-0042".into()),
            ..Default::default()
        };
        let access = wherry_access::Access::new(t.store.clone(), wherry_access::Policy::default());
        let tina = access
            .caller(
                "tina",
                wherry_core::Role::TecTeam,
                wherry_core::Purpose::DirectCare,
                None,
            )
            .unwrap();
        registry::add(&access, &tina, &d, "test").await.unwrap();
        let mut state = AppState::new(t.store.clone(), None);
        state.integration_secrets.chirpstack = Some(CHIRPSTACK_SECRET.into());
        let state = Arc::new(state);
        for f_cnt in [1, 2] {
            let body = format!(
                r#"{{"time":"{}","deviceInfo":{{"devEui":"{DRAWER}"}},"fCnt":{f_cnt},"fPort":85,"data":"AwAB"}}"#,
                wherry_lorawan::event::format_time(now_ms - 60_000 + i64::from(f_cnt))
            );
            let (code, answer) = post(
                &state,
                "/integrations/chirpstack?event=up",
                Some(CHIRPSTACK_SECRET),
                &body,
            )
            .await;
            assert_eq!(answer["outcome"], "stored", "{}: {code} {answer}", t.name);
        }
        let uri = format!("/api/v1/residents/{PERSON}");
        let (status, sar) = crate::call(
            &state,
            "GET",
            &format!("{uri}/subject-access"),
            &admin,
            "subject_rights",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{}: {sar}", t.name);
        let devices = sar["sensor_devices"].as_array().unwrap();
        assert_eq!(devices.len(), 1, "{}: {sar}", t.name);
        assert_eq!(devices[0]["dev_eui"], DRAWER);
        let readings = sar["sensor_readings"].as_array().unwrap();
        assert_eq!(readings.len(), 2, "{}", t.name);
        assert_eq!(readings[0]["reading"]["door"], "open");

        let why = json!({"reason": "the resident's request under Article 17, ref 2026/91"});
        let (status, erased) = crate::call(
            &state,
            "POST",
            &format!("{uri}/erasure"),
            &admin,
            "subject_rights",
            Some(why),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{}: {erased}", t.name);
        assert_eq!(
            (
                erased["sensor_devices_erased"].as_u64(),
                erased["sensor_readings_erased"].as_u64()
            ),
            (Some(1), Some(2)),
            "{}: {erased}",
            t.name
        );
        assert!(
            t.store.device(DRAWER).await.unwrap().is_none(),
            "{}",
            t.name
        );
        assert!(
            t.store
                .uplinks_of(DRAWER, 0, i64::MAX)
                .await
                .unwrap()
                .is_empty(),
            "{}",
            t.name
        );
        let tombstone = t
            .store
            .audit_log(0)
            .await
            .unwrap()
            .into_iter()
            .rev()
            .find(|e| e.action == "erasure")
            .unwrap();
        assert!(
            tombstone.fields.contains("sensor_readings_erased:2"),
            "{}",
            tombstone.fields
        );
        t.finish().await;
    }
}
