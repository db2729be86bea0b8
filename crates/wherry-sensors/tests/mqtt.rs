//! The MQTT subscriber against real Mosquitto: the one on 127.0.0.1:1883
//! (as CI runs it), and a private one this test starts on a free port when
//! it must stop and restart the broker.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use wherry_lorawan::Network;
use wherry_lorawan::event::{base64_encode, format_time};
use wherry_sensors::mqtt::{self, MqttSettings};
use wherry_sensors::{Intake, Outcome};
use wherry_store::testing::{TestStore, stores};

mod support;

const DRAWER: &str = "70b3d57ed0045388";

async fn with_drawer(t: &TestStore) {
    support::home(t, &[(DRAWER, "milesight_ws301", "medication_drawer")]).await;
}

fn up(f_cnt: u32, time_ms: i64) -> String {
    format!(
        r#"{{"time":"{}","deviceInfo":{{"devEui":"{DRAWER}"}},"fCnt":{f_cnt},"fPort":85,"data":"{}","rxInfo":[{{"gatewayId":"g","rssi":-90,"snr":5.0}}]}}"#,
        format_time(time_ms),
        base64_encode(&[0x03, 0x00, (f_cnt % 2) as u8])
    )
}

/// A name no other run shares (topics and client ids on a shared broker).
fn unique(what: &str) -> String {
    format!(
        "{what}-{}-{}",
        std::process::id(),
        wherry_core::clock::unix_ms()
    )
}

/// Waits, up to `limit`, for `done` (a bounded wait on a condition).
async fn until(limit: Duration, what: &str, mut done: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !done().await {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Publishes each `(topic, body)` with QoS 1 and returns once the broker
/// has acknowledged every one.
async fn publish(port: u16, messages: &[(String, String)]) {
    let mut o = MqttOptions::new(unique("publisher"), "127.0.0.1", port);
    o.set_keep_alive(Duration::from_secs(5));
    let (client, mut events) = AsyncClient::new(o, messages.len() + 10);
    for (topic, body) in messages {
        client
            .publish(topic, QoS::AtLeastOnce, false, body.clone().into_bytes())
            .await
            .unwrap();
    }
    let mut acked = 0;
    let deadline = Instant::now() + Duration::from_secs(20);
    while acked < messages.len() {
        assert!(
            Instant::now() < deadline,
            "the broker acknowledged {acked} of {}",
            messages.len()
        );
        if let Ok(Ok(Event::Incoming(Packet::PubAck(_)))) =
            tokio::time::timeout(Duration::from_secs(5), events.poll()).await
        {
            acked += 1;
        }
    }
    client.disconnect().await.ok();
}

async fn stored(t: &TestStore) -> usize {
    t.store.uplinks_of(DRAWER, 0, i64::MAX).await.unwrap().len()
}

#[tokio::test]
async fn redelivered_and_both_paths_store_one_uplink() {
    let now = wherry_core::clock::unix_ms();
    for t in stores().await {
        with_drawer(&t).await;
        let intake = Arc::new(Intake::new(t.store.clone()));
        let app = unique("app");
        let mut s = MqttSettings::new("127.0.0.1", 1883);
        s.client_id = unique("wherry");
        s.chirpstack_topic = format!("application/{app}/device/+/event/+");
        s.tts_topic = String::new();
        let (task, mut progress) = mqtt::spawn(intake.clone(), s);
        progress.connections.wait_for(|n| *n >= 1).await.unwrap();
        let topic = format!("application/{app}/device/{DRAWER}/event/up");
        // The same uplink three times (a redelivery, a second gateway's copy).
        let m = (topic.clone(), up(1, now - 5_000));
        publish(1883, &[m.clone(), m.clone(), m]).await;
        progress.handled.wait_for(|n| *n >= 3).await.unwrap();
        assert_eq!(stored(&t).await, 1, "{}", t.name);
        // Over HTTP first, then MQTT: one uplink.
        let body = up(2, now - 4_000);
        let o = intake
            .handle(Network::Chirpstack, "up", body.as_bytes(), now)
            .await;
        assert!(matches!(o, Ok(Outcome::Stored(_))), "{o:?}");
        publish(1883, &[(topic, body)]).await;
        progress.handled.wait_for(|n| *n >= 4).await.unwrap();
        assert_eq!(stored(&t).await, 2, "{}", t.name);
        assert_eq!(
            intake.counters().get("outcome", "duplicate"),
            3,
            "{}",
            t.name
        );
        task.abort();
        t.finish().await;
    }
}

/// A private Mosquitto with a persistent store, on a port of its own.
struct Broker {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Broker {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let conf = format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {}/\n",
            dir.path().display()
        );
        std::fs::write(dir.path().join("mosquitto.conf"), conf).unwrap();
        let mut b = Broker {
            port,
            dir,
            child: None,
        };
        b.run();
        b
    }

    fn run(&mut self) {
        let conf: PathBuf = self.dir.path().join("mosquitto.conf");
        self.child = Some(
            Command::new(mosquitto())
                .arg("-c")
                .arg(&conf)
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("mosquitto starts"),
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "mosquitto listens on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the broker as an operator would (SIGTERM: it saves its store).
    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill").arg(c.id().to_string()).status();
            c.wait().unwrap();
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn mosquitto() -> &'static Path {
    ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
        .iter()
        .map(Path::new)
        .find(|p| p.exists())
        .expect("mosquitto is installed (.ci/run installs it)")
}

#[tokio::test]
async fn a_broker_restart_is_survived_and_nothing_published_after_it_is_lost() {
    let now = wherry_core::clock::unix_ms();
    let t = stores().await.into_iter().next().unwrap();
    with_drawer(&t).await;
    let mut broker = Broker::start();
    let intake = Arc::new(Intake::new(t.store.clone()));
    let mut s = MqttSettings::new("127.0.0.1", broker.port);
    s.client_id = unique("wherry");
    let (task, mut progress) = mqtt::spawn(intake.clone(), s);
    progress.connections.wait_for(|n| *n >= 1).await.unwrap();
    let topic = format!("application/a1/device/{DRAWER}/event/up");
    publish(broker.port, &[(topic.clone(), up(1, now - 60_000))]).await;
    until(Duration::from_secs(10), "the first uplink", async || {
        stored(&t).await == 1
    })
    .await;

    broker.stop();
    broker.run();
    progress.connections.wait_for(|n| *n >= 2).await.unwrap();
    let after: Vec<(String, String)> = (2..=41)
        .map(|f| (topic.clone(), up(f, now - 50_000 + i64::from(f) * 100)))
        .collect();
    publish(broker.port, &after).await;
    until(
        Duration::from_secs(20),
        "every uplink after the restart",
        async || stored(&t).await == 41,
    )
    .await;
    task.abort();
    t.finish().await;
}
