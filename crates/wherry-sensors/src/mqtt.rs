//! The MQTT subscriber: ChirpStack's `application/+/device/+/event/+` and
//! The Things Stack's `v3/+/devices/+/up` on a configured broker, with a
//! persistent session (clean session off) and QoS 1. A message is
//! acknowledged only after the intake has taken it (stored, or refused for
//! good), so one the hub has not stored is sent again; when the connection
//! drops the subscriber connects again and the broker delivers what was
//! queued for the session. Messages are taken concurrently (up to
//! [`IN_FLIGHT`] at once, so the intake's writer stores them together) and
//! acknowledged in the order they arrived. The broker's own in-flight
//! limit bounds what the hub holds (set Mosquitto's `max_inflight_messages`
//! to about 1,000 for the hub: its default of 20 keeps batches small); for
//! a broker without one, the subscriber reads no further while
//! [`BACKLOG`] messages wait, so a backlog stays in the broker's queue.

use std::sync::Arc;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, Publish, QoS};
use serde::Deserialize;
use tokio::sync::{Semaphore, mpsc, oneshot, watch};
use wherry_lorawan::Network;

use crate::Intake;

/// Messages taken at once.
pub const IN_FLIGHT: usize = 256;

/// Messages read and not yet taken, at most (see the loop).
pub const BACKLOG: usize = 4096;

/// Where to subscribe.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttSettings {
    /// The broker's host.
    pub host: String,
    /// Its port [1883].
    #[serde(default = "default_port")]
    pub port: u16,
    /// The client id: the broker keeps the session under it [wherry-hub].
    #[serde(default = "default_client_id")]
    pub client_id: String,
    /// User name, if the broker wants one.
    pub username: Option<String>,
    /// Password.
    pub password: Option<String>,
    /// ChirpStack's event topic filter [application/+/device/+/event/+];
    /// empty to not subscribe.
    #[serde(default = "default_chirpstack_topic")]
    pub chirpstack_topic: String,
    /// The Things Stack's uplink topic filter [v3/+/devices/+/up]; empty
    /// to not subscribe.
    #[serde(default = "default_tts_topic")]
    pub tts_topic: String,
}

fn default_port() -> u16 {
    1883
}
fn default_client_id() -> String {
    "wherry-hub".into()
}
fn default_chirpstack_topic() -> String {
    "application/+/device/+/event/+".into()
}
fn default_tts_topic() -> String {
    "v3/+/devices/+/up".into()
}

impl MqttSettings {
    /// The defaults for a broker at `host:port`.
    pub fn new(host: &str, port: u16) -> Self {
        Self {
            host: host.into(),
            port,
            client_id: default_client_id(),
            username: None,
            password: None,
            chirpstack_topic: default_chirpstack_topic(),
            tts_topic: default_tts_topic(),
        }
    }
}

/// What the subscriber has done: connections made and messages handled.
#[derive(Debug, Clone)]
pub struct Progress {
    /// Connections accepted by the broker so far.
    pub connections: watch::Receiver<u64>,
    /// Messages taken by the intake so far (stored, duplicate or refused).
    pub handled: watch::Receiver<u64>,
}

/// Starts the subscriber on the current tokio runtime; it runs until the
/// task is aborted.
pub fn spawn(
    intake: Arc<Intake>,
    settings: MqttSettings,
) -> (tokio::task::JoinHandle<()>, Progress) {
    let (connections_tx, connections) = watch::channel(0u64);
    let (handled_tx, handled) = watch::channel(0u64);
    let task = tokio::spawn(run(intake, settings, connections_tx, handled_tx));
    (
        task,
        Progress {
            connections,
            handled,
        },
    )
}

/// The network server and ChirpStack event type a topic carries.
pub fn route(topic: &str) -> Option<(Network, &str)> {
    if let Some(kind) = wherry_lorawan::chirpstack::topic_event(topic) {
        return Some((Network::Chirpstack, kind));
    }
    wherry_lorawan::tts::is_uplink_topic(topic).then_some((Network::TheThingsStack, "up"))
}

async fn run(
    intake: Arc<Intake>,
    s: MqttSettings,
    connections: watch::Sender<u64>,
    handled: watch::Sender<u64>,
) {
    let mut options = MqttOptions::new(&s.client_id, &s.host, s.port);
    options
        .set_keep_alive(Duration::from_secs(30))
        .set_clean_session(false)
        .set_manual_acks(true)
        .set_max_packet_size(1 << 20, 1 << 20);
    if let (Some(u), Some(p)) = (&s.username, &s.password) {
        options.set_credentials(u, p);
    }
    let (client, mut events) = AsyncClient::new(options, 256);
    let topics: Vec<String> = [&s.chirpstack_topic, &s.tts_topic]
        .into_iter()
        .filter(|t| !t.is_empty())
        .cloned()
        .collect();
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    let backlog = Arc::new(Semaphore::new(BACKLOG));
    // Unbounded: the loop below must never wait on the acknowledger, which
    // itself waits on this loop to poll the connection. What waits here is
    // a packet id and a result, for messages already taken.
    let (acks, mut to_ack) = mpsc::unbounded_channel::<(Publish, oneshot::Receiver<bool>)>();
    let acker = client.clone();
    tokio::spawn(async move {
        while let Some((p, result)) = to_ack.recv().await {
            // Unacknowledged, the broker sends it again on the next
            // connection: only for a store that did not answer.
            let keep_for_redelivery = result.await.unwrap_or(true);
            if !keep_for_redelivery && acker.ack(&p).await.is_err() {
                log("mqtt_ack_failed", "");
            }
            handled.send_modify(|n| *n += 1);
        }
    });
    let mut backoff = Duration::from_millis(200);
    let mut subscribing = 0usize;
    loop {
        match events.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                backoff = Duration::from_millis(200);
                // Asked from a task of its own: the client's queue may be
                // full of acknowledgements that only this loop's polling
                // sends, and it must not wait on itself.
                let (client, wanted) = (client.clone(), topics.clone());
                tokio::spawn(async move {
                    for t in &wanted {
                        if client.subscribe(t, QoS::AtLeastOnce).await.is_err() {
                            log("mqtt_subscribe_failed", "");
                        }
                    }
                });
                subscribing = topics.len();
                if subscribing == 0 {
                    connections.send_modify(|n| *n += 1);
                }
            }
            Ok(Event::Incoming(Packet::SubAck(_))) if subscribing > 0 => {
                // Connected once every subscription is in place.
                subscribing -= 1;
                if subscribing == 0 {
                    connections.send_modify(|n| *n += 1);
                }
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                // The broker sends no more unacknowledged messages than its
                // in-flight limit for the session (Mosquitto's
                // max_inflight_messages), so reading on costs little: each
                // message is copied out of the connection's read buffer
                // (a slice of it would keep the whole buffer alive) and
                // waits for one of IN_FLIGHT slots. For a broker without
                // such a limit the loop stops reading at BACKLOG messages
                // waiting, so what the store cannot keep up with stays in
                // the broker's queue; that wait is cut at a second, so the
                // keep-alive still goes out while the store hangs.
                let queued =
                    tokio::time::timeout(Duration::from_secs(1), backlog.clone().acquire_owned())
                        .await
                        .ok()
                        .and_then(Result::ok);
                let (done, result) = oneshot::channel();
                let permits = permits.clone();
                let ack = Publish {
                    topic: String::new(),
                    payload: Default::default(),
                    ..p
                };
                let (intake, topic, payload) = (intake.clone(), p.topic, p.payload.to_vec());
                tokio::spawn(async move {
                    let Ok(permit) = permits.acquire_owned().await else {
                        return;
                    };
                    let keep_for_redelivery = match route(&topic) {
                        Some((network, kind)) => {
                            let now = wherry_core::clock::unix_ms();
                            matches!(
                                intake.handle(network, kind, &payload, now).await,
                                Err(ref r) if r.reason == "store_unavailable"
                            )
                        }
                        None => {
                            intake.count_rejection("unknown_topic");
                            false
                        }
                    };
                    drop((permit, queued));
                    let _ = done.send(keep_for_redelivery);
                });
                // Acknowledged in the order received, as MQTT asks, by the
                // task below: only the packet id waits for its turn.
                if acks.send((ack, result)).is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(e) => {
                // The eventloop connects again on the next poll; wait a
                // little longer each time, up to ten seconds.
                log("mqtt_connection_lost", &e.to_string());
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
    }
}

/// One JSON line on standard error, with no personal data (never a topic:
/// it names a device); `why` is the client library's error, which names
/// the connection's state, not a message.
fn log(event: &str, why: &str) {
    let why = if why.is_empty() {
        String::new()
    } else {
        format!(",\"why\":{}", serde_json::Value::from(why))
    };
    eprintln!(
        "{{\"at\":\"{}\",\"level\":\"warn\",\"event\":\"{event}\"{why}}}",
        wherry_core::clock::now()
    );
}
