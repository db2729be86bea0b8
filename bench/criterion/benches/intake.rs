//! Sensor uplinks through the intake as a webhook delivers them: decode the
//! event, de-duplicate, resolve the device, check consent, decode the
//! payload, store, on SQLite and PostgreSQL (the local one, as the tests
//! use it), one delivery at a time, eight at once and 64 at once.
//!
//! ```sh
//! cargo bench -p wherry-bench --bench intake                 # 20,000 uplinks, 10,000 devices
//! WHERRY_BENCH_UPLINKS=100000 cargo bench -p wherry-bench --bench intake
//! ```

use std::sync::Arc;
use std::time::Instant;

use wherry_lorawan::Network;
use wherry_lorawan::event::{base64_encode, format_time};
use wherry_sensors::Intake;
use wherry_store::sensors::Device;
use wherry_store::testing::stores;

const DEVICES: u64 = 10_000;

fn eui(i: u64) -> String {
    format!("70b3d57e{i:08x}")
}

fn event(i: u64, now_ms: i64) -> String {
    let payload = base64_encode(&[0x01, 0x75, 0x5c, 0x03, 0x00, (i % 2) as u8]);
    format!(
        r#"{{"deduplicationId":"{i}","time":"{}","deviceInfo":{{"tenantName":"Norfolk County Council","applicationName":"tec-homes","deviceName":"d{i}","devEui":"{}","tags":{{}}}},"devAddr":"00189440","adr":true,"dr":5,"fCnt":{},"fPort":85,"confirmed":false,"data":"{payload}","rxInfo":[{{"gatewayId":"0016c001ff10a235","uplinkId":1,"rssi":-97,"snr":7.2}}]}}"#,
        format_time(now_ms - 3_600_000 + (i / DEVICES) as i64 * 1000),
        eui(i % DEVICES),
        i / DEVICES
    )
}

#[tokio::main]
async fn main() {
    let uplinks: u64 = std::env::var("WHERRY_BENCH_UPLINKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let now_ms = wherry_core::clock::unix_ms();
    let bodies: Arc<Vec<String>> = Arc::new((0..uplinks * 3).map(|i| event(i, now_ms)).collect());
    for t in stores().await {
        t.store.migrate().await.expect("migrate");
        t.execute(
            "INSERT INTO persons (id, created_at) VALUES ('P000000001', '2026-12-01T00:00:00Z')",
        )
        .await;
        for i in 0..DEVICES {
            let d = Device {
                dev_eui: eui(i),
                model: "milesight_ws301".into(),
                use_kind: "medication_drawer".into(),
                person_id: Some("P000000001".into()),
                consent_ref: Some("bench".into()),
                consent_withdrawn_ms: None,
                place: None,
                lat: None,
                lon: None,
                added_ms: now_ms,
                added_by: "bench".into(),
            };
            assert!(t.store.add_device(&d).await.expect("device"));
        }
        let intake = Arc::new(Intake::new(t.store.clone()));
        // One at a time: the first half of the bodies.
        let started = Instant::now();
        for body in &bodies[..uplinks as usize] {
            intake
                .handle(Network::Chirpstack, "up", body.as_bytes(), now_ms)
                .await
                .expect("stored");
        }
        let one = uplinks as f64 / started.elapsed().as_secs_f64();
        // Eight deliveries at once: the second third; then 64 (a busy
        // integration's connections): the last.
        let eight = at_once(&intake, &bodies, uplinks, 8, now_ms).await;
        let many = at_once(&intake, &bodies, 2 * uplinks, 64, now_ms).await;
        let stored = intake.counters().get("outcome", "stored");
        assert_eq!(stored, 3 * uplinks, "every uplink stored once");
        println!(
            "{}: {uplinks} uplinks from {DEVICES} devices, one at a time {one:.0}/s, eight at once {eight:.0}/s, 64 at once {many:.0}/s",
            t.name
        );
        t.finish().await;
    }
}

/// `bodies[from..from + n]` handled by `lanes` deliveries at once; uplinks a second.
async fn at_once(
    intake: &Arc<Intake>,
    bodies: &Arc<Vec<String>>,
    from: u64,
    lanes: u64,
    now_ms: i64,
) -> f64 {
    let n = bodies.len() as u64 / 3;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for k in 0..lanes {
        let (intake, bodies) = (intake.clone(), bodies.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = from + k;
            while i < from + n {
                intake
                    .handle(
                        Network::Chirpstack,
                        "up",
                        bodies[i as usize].as_bytes(),
                        now_ms,
                    )
                    .await
                    .expect("stored");
                i += lanes;
            }
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    n as f64 / started.elapsed().as_secs_f64()
}
