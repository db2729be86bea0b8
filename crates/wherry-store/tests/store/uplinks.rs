//! Uplinks stored in batches: each decided on its own within a batch
//! larger than one statement's chunk (duplicates in the batch and from
//! before, devices not registered as decoded, consent withdrawn), and the
//! rows stored as given.

use wherry_store::sensors::{NewUplink, Stored};
use wherry_store::testing::stores;

const DOOR: &str = "70b3d57e00000001";
const PLUG: &str = "70b3d57e00000002";
const GONE: &str = "70b3d57e00000003";

fn up(dev_eui: &str, model: &str, f_cnt: i64, window: i64) -> NewUplink {
    NewUplink {
        dev_eui: dev_eui.into(),
        f_cnt,
        window,
        time_ms: 1_796_000_000_000 + f_cnt * 1000,
        received_ms: 1_796_000_000_500 + f_cnt * 1000,
        network: "chirpstack",
        f_port: 85,
        payload: format!("{f_cnt:04x}"),
        model: model.into(),
        reading: format!(r#"{{"n":{f_cnt}}}"#),
        battery: (f_cnt % 2 == 0).then_some(f_cnt as f64 / 10.0),
        rssi: (f_cnt % 3 == 0).then_some(-(f_cnt as i32)),
    }
}

#[tokio::test]
async fn a_batch_decides_each_uplink_on_its_own() {
    for t in stores().await {
        t.store.migrate().await.unwrap();
        t.execute(
            "INSERT INTO persons (id, created_at) VALUES ('P000000001', '2026-12-01T00:00:00Z')",
        )
        .await;
        t.execute(
            "INSERT INTO sensor_devices (dev_eui, model, use_kind, person_id, consent_ref,
                 consent_withdrawn_ms, place, lat, lon, added_ms, added_by) VALUES
             ('70b3d57e00000001', 'milesight_ws301', 'front_door', 'P000000001', 'C1', NULL, NULL, NULL, NULL, 0, 't'),
             ('70b3d57e00000002', 'milesight_ws52x', 'kettle', 'P000000001', 'C1', NULL, NULL, NULL, NULL, 0, 't'),
             ('70b3d57e00000003', 'milesight_ws301', 'front_door', 'P000000001', 'C1', 5, NULL, NULL, NULL, 0, 't')",
        )
        .await;
        // Frames 0..10 stored before (in window 101).
        let before: Vec<NewUplink> = (0..10)
            .map(|f| up(DOOR, "milesight_ws301", f, 101))
            .collect();
        let first = t.store.store_uplinks(&before).await.unwrap();
        assert!(
            first.iter().all(|s| matches!(s, Stored::New(_))),
            "{}: {first:?}",
            t.name
        );

        // One batch of 700: door frames 0..300 in window 101 and again in
        // 102 (a neighbour: duplicates, of frames stored before for 0..10
        // and of the batch's own for the rest), the plug decoded as the
        // wrong model, and a device whose consent was withdrawn.
        let mut batch = Vec::new();
        for f in 0..300 {
            batch.push(up(DOOR, "milesight_ws301", f, 101));
            batch.push(up(DOOR, "milesight_ws301", f, 102));
        }
        for f in 0..50 {
            batch.push(up(PLUG, "milesight_ws301", f, 100));
            batch.push(up(GONE, "milesight_ws301", f, 100));
        }
        let out = t.store.store_uplinks(&batch).await.unwrap();
        assert_eq!(out.len(), batch.len(), "{}", t.name);
        let mut ids = std::collections::HashSet::new();
        for (u, s) in batch.iter().zip(&out) {
            let want_new = u.dev_eui == DOOR && u.window == 101 && u.f_cnt >= 10;
            match s {
                Stored::New(id) => {
                    assert!(want_new, "{}: stored {u:?}", t.name);
                    assert!(ids.insert(*id), "{}: id {id} given twice", t.name);
                }
                Stored::Duplicate => {
                    assert!(
                        u.dev_eui == DOOR && !want_new,
                        "{}: {u:?} a duplicate",
                        t.name
                    )
                }
                Stored::Refused => assert_ne!(u.dev_eui, DOOR, "{}: {u:?} refused", t.name),
            }
        }
        assert_eq!(ids.len(), 290, "{}", t.name);
        assert!(
            out[600..].iter().all(|s| *s == Stored::Refused),
            "{}",
            t.name
        );

        // What was stored is what was given, once a frame.
        let stored = t.store.uplinks_of(DOOR, 0, i64::MAX).await.unwrap();
        assert_eq!(stored.len(), 300, "{}", t.name);
        for (f, s) in stored.iter().enumerate() {
            let want = up(DOOR, "", f as i64, 0);
            assert_eq!(
                (s.f_cnt, s.time_ms, s.f_port, s.reading.as_str()),
                (want.f_cnt, want.time_ms, 85, want.reading.as_str()),
                "{}",
                t.name
            );
        }
        // The latest battery and signal given (most rows carry neither).
        let devices = t.store.devices().await.unwrap();
        let door = devices.iter().find(|d| d.device.dev_eui == DOOR).unwrap();
        let last = up(DOOR, "", 299, 0);
        assert_eq!(
            (door.uplinks, door.last_seen_ms, door.battery, door.rssi),
            (300, Some(last.time_ms), Some(29.8), Some(-297)),
            "{}",
            t.name
        );
        assert!(
            t.store
                .uplinks_of(PLUG, 0, i64::MAX)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            t.store
                .uplinks_of(GONE, 0, i64::MAX)
                .await
                .unwrap()
                .is_empty()
        );
        t.finish().await;
    }
}
