//! The live watch on SQLite and PostgreSQL: readings go in through the
//! intake as a network server sends them; a deadline alert is raised by
//! the scheduler at the deadline (no uplink needed), stored once, not
//! raised again after a restart; the care system receives it at least
//! once, retried with backoff under the same Idempotency-Key, each attempt
//! audited.
//!
//! The watch's clock is the real one shifted, so that a deadline in the
//! synthetic past history falls three seconds from now and the scheduler
//! really sleeps until it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use wherry_core::Date;
use wherry_core::localtime::local_to_utc;
use wherry_lorawan::event::{base64_encode, format_time};
use wherry_lorawan::reading::{Contact, DoorState, SmartSocket};
use wherry_lorawan::{Network, Reading};
use wherry_sensors::{Intake, Outcome, Watch};
use wherry_store::Store;
use wherry_store::testing::stores;

mod support;

const KETTLE: &str = "70b3d57ed0045389";
const DRAWER: &str = "70b3d57ed0045388";

fn chirpstack_up(eui: &str, f_cnt: u32, reading: &Reading, time_ms: i64) -> String {
    let (port, bytes) = wherry_lorawan::encode(reading);
    format!(
        r#"{{"time":"{}","deviceInfo":{{"devEui":"{eui}"}},"fCnt":{f_cnt},"fPort":{port},"data":"{}","rxInfo":[{{"gatewayId":"g","rssi":-90,"snr":5.0}}]}}"#,
        format_time(time_ms),
        base64_encode(&bytes)
    )
}

fn kettle(watts: u32) -> Reading {
    Reading::SmartSocket(SmartSocket {
        active_power: Some(watts),
        ..Default::default()
    })
}

fn drawer_open() -> Reading {
    Reading::Contact(Contact {
        battery: Some(90),
        door: Some(DoorState::Open),
        ..Default::default()
    })
}

/// Six ordinary days before `day` (kettle at 09:00, drawer at 09:10), sent
/// through the intake; then on `day` the drawer only.
async fn history(store: &Store, day: Date) {
    let intake = Intake::new(store.clone());
    let mut f_cnt = 0;
    let mut send = |eui: &'static str, reading: Reading, at: i64| {
        f_cnt += 1;
        (chirpstack_up(eui, f_cnt, &reading, at), at)
    };
    let mut events = Vec::new();
    for back in (1..=6).rev() {
        let d = day.add_days(-back);
        events.push(send(KETTLE, kettle(2900), local_to_utc(d, 9 * 60) * 1000));
        events.push(send(
            DRAWER,
            drawer_open(),
            local_to_utc(d, 9 * 60 + 10) * 1000,
        ));
    }
    events.push(send(
        DRAWER,
        drawer_open(),
        local_to_utc(day, 8 * 60) * 1000,
    ));
    for (body, at) in events {
        let o = intake
            .handle(Network::Chirpstack, "up", body.as_bytes(), at + 1000)
            .await
            .unwrap();
        assert!(matches!(o, Outcome::Stored(_)), "{o:?}");
    }
}

/// A home with a kettle plug and a medication drawer contact.
async fn kettle_and_drawer(t: &wherry_store::testing::TestStore) {
    support::home(
        t,
        &[
            (KETTLE, "milesight_ws52x", "kettle"),
            (DRAWER, "milesight_ws301", "medication_drawer"),
        ],
    )
    .await;
}

/// Waits (bounded) until the store holds `n` alerts.
async fn alerts_reach(store: &Store, n: usize) -> Vec<wherry_store::sensor_alerts::StoredAlert> {
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        let alerts = store.alerts(None, true).await.unwrap();
        if alerts.len() >= n || Instant::now() > until {
            return alerts;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_deadline_fires_from_the_scheduler_once_and_not_again_after_a_restart() {
    for t in stores().await {
        kettle_and_drawer(&t).await;
        let day = Date::new(2026, 11, 20).unwrap();
        history(&t.store, day).await;
        // No kettle by 09:00 + the 60-minute margin: the deadline is 10:00.
        let deadline = local_to_utc(day, 10 * 60) * 1000;
        let shift = deadline - 3000 - wherry_core::clock::unix_ms();
        let clock: wherry_sensors::watch::Clock =
            Arc::new(move || wherry_core::clock::unix_ms() + shift);
        let watch = Watch::start_with_clock(t.store.clone(), false, clock.clone())
            .await
            .unwrap();
        assert_eq!(watch.homes(), 1);
        assert_eq!(watch.next_deadline(), Some(deadline), "{}", t.name);
        assert!(t.store.alerts(None, true).await.unwrap().is_empty());
        let scheduler = watch.spawn_scheduler();
        let alerts = alerts_reach(&t.store, 1).await;
        assert_eq!(alerts.len(), 1, "{}", t.name);
        let a = &alerts[0];
        assert_eq!(
            (a.kind.as_str(), a.status.as_str(), a.wellbeing),
            ("kettle_not_used", "open", true)
        );
        assert_eq!(a.due_ms, deadline);
        // Raised by the scheduler within five seconds of the deadline (the
        // store's poll above adds at most 50 ms).
        assert!(
            (0..5000).contains(&(a.raised_ms - deadline)),
            "{}: raised {} ms after the deadline",
            t.name,
            a.raised_ms - deadline
        );
        assert!(a.expected.contains("usually 09:00"), "{}", a.expected);
        scheduler.abort();
        // A restart: the home is rebuilt from the store and the episode is
        // known, so nothing is raised again.
        let again = Watch::start_with_clock(t.store.clone(), false, clock)
            .await
            .unwrap();
        again.tick(deadline + 60_000).await.unwrap();
        assert_eq!(
            t.store.alerts(None, true).await.unwrap().len(),
            1,
            "{}",
            t.name
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn uplinks_stored_while_the_homes_load_reach_their_rules() {
    for t in stores().await {
        kettle_and_drawer(&t).await;
        let day = Date::new(2026, 11, 20).unwrap();
        let deadline = local_to_utc(day, 10 * 60) * 1000;
        let shift = deadline - 60_000 - wherry_core::clock::unix_ms();
        let clock: wherry_sensors::watch::Clock =
            Arc::new(move || wherry_core::clock::unix_ms() + shift);
        // The homes load; the days arrive before the intake is handed the
        // watch (a server starting while a network server sends).
        let watch = Watch::start_with_clock(t.store.clone(), false, clock)
            .await
            .unwrap();
        history(&t.store, day).await;
        assert_eq!(watch.next_deadline(), None, "{}: nothing seen yet", t.name);
        watch.catch_up().await.unwrap();
        assert_eq!(watch.next_deadline(), Some(deadline), "{}", t.name);
        t.finish().await;
    }
}

/// A care system that answers 503 to the first delivery and 200 after,
/// sending each request's headers and body back to the test.
fn care_system() -> (String, mpsc::Receiver<(String, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/alerts", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let status = if n == 0 {
                "503 Service Unavailable"
            } else {
                "200 OK"
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
            let _ = tx.send((head, String::from_utf8_lossy(&body).into_owned()));
        }
    });
    (url, rx)
}

// The receiver is read with blocking waits: the notifier runs on another worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_care_system_gets_each_alert_at_least_once_under_one_key() {
    for t in stores().await {
        kettle_and_drawer(&t).await;
        let day = Date::new(2026, 11, 20).unwrap();
        history(&t.store, day).await;
        let (url, received) = care_system();
        let (access, _) = support::tec(&t.store);
        let access = Arc::new(access);
        let deadline = local_to_utc(day, 10 * 60) * 1000;
        let shift = deadline + 60_000 - wherry_core::clock::unix_ms();
        let clock: wherry_sensors::watch::Clock =
            Arc::new(move || wherry_core::clock::unix_ms() + shift);
        // Started a minute after the deadline passed (the hub was down):
        // the alert is raised as the home is loaded, and queued.
        let watch = Watch::start_with_clock(t.store.clone(), true, clock)
            .await
            .unwrap();
        let alerts = t.store.alerts(None, true).await.unwrap();
        assert_eq!(alerts.len(), 1, "{}", t.name);
        let webhook = wherry_sensors::notify::Webhook {
            url,
            bearer: Some("care-token".into()),
        };
        let notifier =
            wherry_sensors::notify::spawn(access.clone(), |a| a, webhook, watch.raised_signal());
        let wait = Duration::from_secs(10);
        let (head1, body1) = received.recv_timeout(wait).expect("a first attempt");
        let (head2, body2) = received.recv_timeout(wait).expect("a retry");
        let key = |head: &str| {
            head.lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("idempotency-key:")
                        .map(|v| v.trim().to_string())
                })
                .expect("an Idempotency-Key")
        };
        assert_eq!(
            key(&head1),
            key(&head2),
            "{}: the same key on each attempt",
            t.name
        );
        assert!(
            head1
                .to_ascii_lowercase()
                .contains("authorization: bearer care-token")
        );
        assert_eq!(body1, body2);
        let sent: serde_json::Value = serde_json::from_str(&body2).unwrap();
        assert_eq!(sent["kind"], "kettle_not_used");
        assert_eq!(sent["person_id"], support::PERSON);
        assert_eq!(sent["idempotency_key"].as_str(), Some(key(&head1).as_str()));
        // Recorded as delivered after two attempts.
        let until = Instant::now() + wait;
        let delivery = loop {
            let d = t.store.delivery(alerts[0].id).await.unwrap().unwrap();
            if d.1.is_some() || Instant::now() > until {
                break d;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(
            (delivery.0, delivery.1.is_some()),
            (2, true),
            "{}: {delivery:?}",
            t.name
        );
        assert!(
            received.recv_timeout(Duration::from_millis(1500)).is_err(),
            "not sent again"
        );
        notifier.abort();
        let audited = t.store.audit_about(support::PERSON).await.unwrap();
        let attempts = audited
            .iter()
            .filter(|e| e.action == "sensor_alert_delivery" && e.user_name == "care_system")
            .count();
        assert_eq!(
            attempts, 2,
            "{}: each attempt audited before it was made",
            t.name
        );
        t.finish().await;
    }
}
