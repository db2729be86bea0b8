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
const KETTLE: &str = "70b3d57ed0045389";
const CHIRPSTACK_SECRET: &str = "cs-secret-0123456789";
const TTS_SECRET: &str = "tts-secret-9876543210";

/// Tina of the TEC team, for direct care, to change the registry as.
fn tec(store: &wherry_store::Store) -> (wherry_access::Access, wherry_access::Caller) {
    let access = wherry_access::Access::new(store.clone(), wherry_access::Policy::default());
    let tina = access
        .caller(
            "tina",
            wherry_core::Role::TecTeam,
            wherry_core::Purpose::DirectCare,
            None,
        )
        .unwrap();
    (access, tina)
}

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
        let (access, tina) = tec(&t.store);
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
        let (access, tina) = tec(&t.store);
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
        let report = format!(
            r#"{{"time":"{}","deviceInfo":{{"devEui":"{DRAWER}"}},"margin":9,"externalPowerSource":false,"batteryLevel":41.5}}"#,
            wherry_lorawan::event::format_time(now_ms - 30_000)
        );
        let (_, answer) = post(
            &state,
            "/integrations/chirpstack?event=status",
            Some(CHIRPSTACK_SECRET),
            &report,
        )
        .await;
        assert_eq!(answer["outcome"], "noted", "{}: {answer}", t.name);
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
        let reports = sar["sensor_device_status"].as_array().unwrap();
        assert_eq!(
            (
                reports.len(),
                reports[0]["battery"].as_f64(),
                reports[0]["margin"].as_i64()
            ),
            (1, Some(41.5), Some(9)),
            "{}: {sar}",
            t.name
        );

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

/// A home with a kettle plug and a medication drawer, six ordinary days
/// sent through the integration, and a seventh with no kettle: the watch
/// started after that day's 10:00 deadline raises the alert.
async fn home_with_an_alert(
    t: &wherry_store::testing::TestStore,
    dir: &std::path::Path,
) -> (Arc<AppState>, [(String, &'static str); 4]) {
    use crate::access::PERSON;
    use wherry_core::localtime::local_to_utc;
    let tokens = crate::access::hub(&t.store, dir).await;
    wherry_ingest::register(&t.store, &crate::manifest("tec_sensors"))
        .await
        .unwrap();
    let (access, tina) = tec(&t.store);
    for (eui, model, use_kind) in [
        (KETTLE, "milesight_ws52x", "kettle"),
        (DRAWER, "milesight_ws301", "medication_drawer"),
    ] {
        let d = NewDevice {
            dev_eui: eui.into(),
            model: model.into(),
            use_kind: use_kind.into(),
            resident: Some(PERSON.into()),
            consent_ref: Some("TEC-2026-0042".into()),
            ..Default::default()
        };
        registry::add(&access, &tina, &d, "test").await.unwrap();
    }
    let mut state = AppState::new(t.store.clone(), None);
    state.integration_secrets.chirpstack = Some(CHIRPSTACK_SECRET.into());
    let state = Arc::new(state);
    let day = wherry_core::Date::new(2026, 11, 20).unwrap();
    let mut f_cnt = 0;
    for back in (1..=6).rev() {
        let d = day.add_days(-back);
        for (eui, data, minute) in [(KETTLE, "BIBUCwAA", 9 * 60), (DRAWER, "AwAB", 9 * 60 + 10)] {
            f_cnt += 1;
            let body = format!(
                r#"{{"time":"{}","deviceInfo":{{"devEui":"{eui}"}},"fCnt":{f_cnt},"fPort":85,"data":"{data}"}}"#,
                wherry_lorawan::event::format_time(local_to_utc(d, minute) * 1000)
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
    }
    f_cnt += 1;
    let body = format!(
        r#"{{"time":"{}","deviceInfo":{{"devEui":"{DRAWER}"}},"fCnt":{f_cnt},"fPort":85,"data":"AwAB"}}"#,
        wherry_lorawan::event::format_time(local_to_utc(day, 8 * 60) * 1000)
    );
    post(
        &state,
        "/integrations/chirpstack?event=up",
        Some(CHIRPSTACK_SECRET),
        &body,
    )
    .await;
    let late = local_to_utc(day, 11 * 60) * 1000 - wherry_core::clock::unix_ms();
    let clock: wherry_sensors::watch::Clock =
        Arc::new(move || wherry_core::clock::unix_ms() + late);
    let watch = wherry_sensors::Watch::start_with_clock(t.store.clone(), false, clock)
        .await
        .unwrap();
    state.intake.set_watch(watch);
    (state, tokens)
}

#[tokio::test]
async fn the_tec_team_works_alerts_through_their_lifecycle_as_the_agreement_allows() {
    use crate::access::PERSON;
    use serde_json::json;
    let dir = tempfile::tempdir().unwrap();
    for t in stores().await {
        let (state, [ann, _, cath, _]) = home_with_an_alert(&t, dir.path()).await;
        let tina = crate::attack::user(&t.store, "tess", "tec_team", &[]).await;
        let (carol, ann) = (cath.0, ann.0);
        let call = |token: &str,
                    purpose: &str,
                    method: &str,
                    uri: &str,
                    body: Option<serde_json::Value>| {
            let (state, token, purpose, method, uri) = (
                state.clone(),
                token.to_string(),
                purpose.to_string(),
                method.to_string(),
                uri.to_string(),
            );
            async move { crate::call(&state, &method, &uri, &token, &purpose, body).await }
        };
        let (status, list) =
            call(&tina, "direct_care", "GET", "/api/v1/sensors/alerts", None).await;
        assert_eq!(status, StatusCode::OK, "{}: {list}", t.name);
        let alerts = list["alerts"].as_array().unwrap();
        assert_eq!(alerts.len(), 1, "{}: {list}", t.name);
        assert_eq!(alerts[0]["kind"], "kettle_not_used");
        assert_eq!(alerts[0]["person_id"], PERSON);
        assert!(alerts[0]["expected"].as_str().unwrap().contains("by 10:00"));
        let id = alerts[0]["id"].as_i64().unwrap();

        // The lifecycle: open → acknowledged → resolved, with who and a note.
        let ack = format!("/api/v1/sensors/alerts/{id}/acknowledge");
        let note = json!({"note": "Rang Margaret: she is at her daughter's today."});
        let (status, a) = call(&tina, "direct_care", "POST", &ack, Some(note.clone())).await;
        assert_eq!(status, StatusCode::OK, "{}: {a}", t.name);
        assert_eq!(
            (a["status"].as_str(), a["acknowledged"]["by"].as_str()),
            (Some("acknowledged"), Some("tess"))
        );
        let (status, again) = call(&tina, "direct_care", "POST", &ack, Some(note)).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}: {again}",
            t.name
        );
        assert!(
            again["message"]
                .as_str()
                .unwrap()
                .contains("is acknowledged"),
            "{again}"
        );
        let resolve = format!("/api/v1/sensors/alerts/{id}/resolve");
        let (status, r) = call(
            &tina,
            "direct_care",
            "POST",
            &resolve,
            Some(json!({"note": "Back home, kettle in use."})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{}: {r}", t.name);
        assert_eq!(r["resolved"]["note"], "Back home, kettle in use.");
        let (_, open) = call(&tina, "direct_care", "GET", "/api/v1/sensors/alerts", None).await;
        assert_eq!(
            open["alerts"].as_array().unwrap().len(),
            0,
            "resolved alerts leave the open list"
        );
        let (_, all) = call(
            &tina,
            "direct_care",
            "GET",
            "/api/v1/sensors/alerts?all=true",
            None,
        )
        .await;
        assert_eq!(all["alerts"].as_array().unwrap().len(), 1);
        let (status, _) = call(
            &tina,
            "direct_care",
            "POST",
            "/api/v1/sensors/alerts/999999/resolve",
            Some(json!({})),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // The home: everything for direct care, the routine with it; for
        // safeguarding the agreement shares alerts only; a contact centre
        // advisor sees nothing of it.
        let home = format!("/api/v1/sensors/homes/{PERSON}?date=2026-11-19");
        let (status, h) = call(&tina, "direct_care", "GET", &home, None).await;
        assert_eq!(status, StatusCode::OK, "{}: {h}", t.name);
        assert_eq!(h["home"]["devices"].as_array().unwrap().len(), 2);
        assert_eq!(h["home"]["readings"].as_array().unwrap().len(), 2, "{h}");
        assert_eq!(h["routine"]["kettle_usual"], 9 * 60, "{h}");
        let (status, h) = call(&carol, "safeguarding", "GET", &home, None).await;
        assert_eq!(status, StatusCode::OK, "{}: {h}", t.name);
        assert_eq!(h["home"]["alerts"].as_array().unwrap().len(), 1);
        assert!(h["home"]["readings"].as_array().unwrap().is_empty());
        assert!(h["routine"].is_null());
        assert_eq!(h["home"]["withheld"], json!(["devices", "readings"]));
        let (status, denied) = call(
            &ann,
            "contact_centre",
            "GET",
            "/api/v1/sensors/alerts",
            None,
        )
        .await;
        assert_eq!(
            (status, denied["error"].as_str()),
            (StatusCode::FORBIDDEN, Some("agreement_does_not_share")),
            "{denied}"
        );
        let (status, _) = call(&ann, "contact_centre", "GET", &home, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // The resident view shows the alert where the sensor agreement
        // shares alerts with the purpose (safeguarding), recorded as
        // disclosed; where it shares nothing (the contact centre) the view
        // says nothing of alerts, not even that there are none.
        let resident = format!("/api/v1/residents/{PERSON}");
        let (status, view) = call(&carol, "safeguarding", "GET", &resident, None).await;
        assert_eq!(status, StatusCode::OK, "{}: {view}", t.name);
        let shown = view["sensor_alerts"].as_array().expect("alerts shared");
        assert_eq!(shown.len(), 1, "{view}");
        assert_eq!(
            (shown[0]["kind"].as_str(), shown[0]["status"].as_str()),
            (Some("kettle_not_used"), Some("resolved"))
        );
        let (status, view) = call(&ann, "contact_centre", "GET", &resident, None).await;
        assert_eq!(status, StatusCode::OK, "{}: {view}", t.name);
        assert!(view["sensor_alerts"].is_null(), "{view}");
        let views: Vec<String> = t
            .store
            .audit_about(PERSON)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "view")
            .map(|e| format!("{} {}", e.purpose, e.fields))
            .collect();
        assert_eq!(views.len(), 2, "{views:?}");
        assert!(
            views
                .iter()
                .any(|v| v.starts_with("safeguarding") && v.contains("sensor_alerts")),
            "{views:?}"
        );
        assert!(
            views
                .iter()
                .all(|v| v.starts_with("safeguarding") || !v.contains("sensor_alerts")),
            "{views:?}"
        );

        // The TEC team's reason to open the resident is the home sensor
        // they consented to (the TEC home page links to their record).
        let (status, view) = call(&tina, "direct_care", "GET", &resident, None).await;
        assert_eq!(status, StatusCode::OK, "{}: {view}", t.name);
        assert_eq!(
            view["sensor_alerts"].as_array().map(Vec::len),
            Some(1),
            "{view}"
        );

        // Thresholds: checked, then the resident's.
        let thresholds = format!("/api/v1/sensors/homes/{PERSON}/thresholds");
        let (status, bad) = call(
            &tina,
            "direct_care",
            "PUT",
            &thresholds,
            Some(json!({"no_movement_hours": 0})),
        )
        .await;
        assert_eq!(
            (status, bad["error"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_thresholds")),
            "{bad}"
        );
        let (status, bad) = call(
            &tina,
            "direct_care",
            "PUT",
            &thresholds,
            Some(json!({"kettle_wats": 900})),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let (status, set) = call(
            &tina,
            "direct_care",
            "PUT",
            &thresholds,
            Some(json!({"kettle_margin_min": 90})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{}: {set}", t.name);
        assert_eq!(set["thresholds"]["kettle_margin_min"], 90);
        assert_eq!(set["thresholds"]["cold_c"], 16.0);
        let nobody = "/api/v1/sensors/homes/P999999999/thresholds";
        let (status, _) = call(&tina, "direct_care", "PUT", nobody, Some(json!({}))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "no home with sensors there");
        let (status, h) = call(&tina, "direct_care", "GET", &home, None).await;
        assert_eq!(
            (status, h["home"]["thresholds"].is_string()),
            (StatusCode::OK, true),
            "{h}"
        );
        let (status, _) = call(&carol, "direct_care", "PUT", &thresholds, Some(json!({}))).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "a caseworker does not set thresholds"
        );

        // The registry over the API.
        let counter = json!({"dev_eui": "70B3D57ED0045391", "model": "parametric_pcr2", "use": "traffic",
            "place": "Wymondham, London Road", "lat": 52.57, "lon": 1.11});
        let (status, added) = call(
            &tina,
            "direct_care",
            "POST",
            "/api/v1/sensors/devices",
            Some(counter.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{}: {added}", t.name);
        let (status, _) = call(
            &tina,
            "direct_care",
            "POST",
            "/api/v1/sensors/devices",
            Some(counter),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT);
        let (status, refused) = call(&carol, "direct_care", "POST", "/api/v1/sensors/devices",
            Some(json!({"dev_eui": "70b3d57ed0045392", "model": "milesight_ws301", "use": "front_door"}))).await;
        assert_eq!(
            (status, refused["error"].as_str()),
            (StatusCode::FORBIDDEN, Some("role_not_allowed")),
            "{refused}"
        );
        let (status, listed) =
            call(&tina, "direct_care", "GET", "/api/v1/sensors/devices", None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(listed["devices"].as_array().unwrap().len(), 3);
        let (status, _) = call(
            &tina,
            "direct_care",
            "POST",
            &format!("/api/v1/sensors/devices/{KETTLE}/withdraw-consent"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = call(
            &tina,
            "direct_care",
            "DELETE",
            "/api/v1/sensors/devices/70b3d57ed0045391",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        // With consent withdrawn for every device of the home, the TEC
        // team has no reason left to open the resident.
        let (status, _) = call(
            &tina,
            "direct_care",
            "POST",
            &format!("/api/v1/sensors/devices/{DRAWER}/withdraw-consent"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let (status, refused) = call(&tina, "direct_care", "GET", &resident, None).await;
        assert_eq!(
            (status, refused["error"].as_str()),
            (StatusCode::FORBIDDEN, Some("no_relationship")),
            "{}: {refused}",
            t.name
        );

        // Each disclosure and change is in the audit log, naming the resident.
        let actions: Vec<String> = t
            .store
            .audit_about(PERSON)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        for action in [
            "sensor_device_added",
            "sensor_alerts_view",
            "sensor_alert_acknowledged",
            "sensor_alert_resolved",
            "sensor_home_view",
            "sensor_thresholds_set",
            "sensor_devices_view",
            "sensor_consent_withdrawn",
        ] {
            assert!(
                actions.iter().any(|a| a == action),
                "{}: {action} in {actions:?}",
                t.name
            );
        }
        t.finish().await;
    }
}

#[tokio::test]
async fn the_counters_are_open_data_counted_from_their_totals() {
    use wherry_lorawan::reading::RadarCounter;
    let now_ms = wherry_core::clock::unix_ms();
    for t in stores().await {
        t.store.migrate().await.unwrap();
        let (access, tina) = tec(&t.store);
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
        let mut state = AppState::new(t.store.clone(), None);
        state.integration_secrets.chirpstack = Some(CHIRPSTACK_SECRET.into());
        let state = Arc::new(state);
        // Three hours ago, two hours ago (its uplink lost), an hour ago: the
        // totals wrap at 65,536 in between.
        let hour = 3_600_000;
        let at = |h: i64| (now_ms / hour - h) * hour + 59 * 60_000;
        for (f_cnt, h, ltr, sum) in [(1, 3, 100, 65_400u16), (3, 1, 150, 164)] {
            let reading = wherry_lorawan::Reading::RadarCounter(RadarCounter {
                version: 4,
                LTR: ltr,
                RTL: 7,
                LTR_SUM: sum,
                RTL_SUM: 7 * f_cnt,
                SBX_BATT: 7200,
                SBX_PV: 0,
                DIFF: 0,
                TEMP: 12,
            });
            let (port, bytes) = wherry_lorawan::encode(&reading);
            let body = format!(
                r#"{{"time":"{}","deviceInfo":{{"devEui":"70b3d57ed0045391"}},"fCnt":{f_cnt},"fPort":{port},"data":"{}"}}"#,
                wherry_lorawan::event::format_time(at(h)),
                wherry_lorawan::event::base64_encode(&bytes)
            );
            let (_, answer) = post(
                &state,
                "/integrations/chirpstack?event=up",
                Some(CHIRPSTACK_SECRET),
                &body,
            )
            .await;
            assert_eq!(answer["outcome"], "stored", "{}: {answer}", t.name);
        }
        // No token: open data.
        let req = axum::http::Request::builder()
            .uri("/api/v1/open-data/counters?period=hour")
            .body(axum::body::Body::empty())
            .unwrap();
        let (status, body) = crate::send(&state, req).await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", t.name);
        let places = body["places"].as_array().unwrap();
        assert_eq!(places.len(), 1, "{body}");
        assert_eq!(places[0]["place"], "Wymondham, London Road");
        let counts: Vec<u64> = places[0]["counts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["a"].as_u64().unwrap())
            .collect();
        // 100 in the first hour; 300 since (65,400 → 164 across the wrap),
        // counted in the hour of the uplink that said so.
        assert_eq!(counts, vec![100, 300], "{}: {body}", t.name);
        let req = axum::http::Request::builder()
            .uri("/api/v1/open-data/counters?period=week")
            .body(axum::body::Body::empty())
            .unwrap();
        let (status, body) = crate::send(&state, req).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("bad_query"))
        );
        t.finish().await;
    }
}
