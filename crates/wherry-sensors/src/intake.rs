//! One network-server event in: decode the event → de-duplicate → resolve
//! the device → check consent → decode the payload → persist → evaluate
//! rules → notify (the last two by the [`Watch`], once the server set one).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::{mpsc, oneshot};

use wherry_lorawan::{Event, Model, Network, Uplink};
use wherry_store::Store;
use wherry_store::sensors::{Device, DeviceStatus, NewUplink, Stored};

use crate::watch::Watch;
use crate::watch::lock;

/// How far in the future an event's time may be (clocks differ a little).
pub const MAX_CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;

/// What became of an accepted event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Stored, with its number.
    Stored(i64),
    /// Already stored: a redelivery.
    Duplicate,
    /// From a device not in the registry: counted in the unregistered list.
    Unregistered,
    /// A status event (its battery and margin kept as the device's latest
    /// status, its battery checked by the `battery_low` rule) or a join.
    Noted,
}

impl Outcome {
    /// The code counted in `/metrics`.
    pub fn code(&self) -> &'static str {
        match self {
            Outcome::Stored(_) => "stored",
            Outcome::Duplicate => "duplicate",
            Outcome::Unregistered => "unregistered",
            Outcome::Noted => "noted",
        }
    }
}

/// Why an event was refused: a reason code (counted) and a message that
/// names the field or byte, never a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Rejection {
    /// The reason's code.
    pub reason: &'static str,
    /// What was wrong.
    pub message: String,
}

impl Rejection {
    fn new(reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
        }
    }
}

/// Events counted by outcome and by rejection reason, for `/metrics`.
#[derive(Debug, Default)]
pub struct Counters {
    counts: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
}

impl Counters {
    fn add(&self, kind: &'static str, code: &'static str) {
        let mut c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        *c.entry((kind, code)).or_default() += 1;
    }

    /// `(kind, code, count)`: kind is `outcome`, `rejected` or `alerts`.
    pub fn snapshot(&self) -> Vec<(&'static str, &'static str, u64)> {
        let c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        c.iter().map(|((k, code), n)| (*k, *code, *n)).collect()
    }

    /// The count of one outcome or rejection reason.
    pub fn get(&self, kind: &'static str, code: &str) -> u64 {
        let c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        c.iter()
            .filter(|((k, c), _)| *k == kind && *c == code)
            .map(|(_, n)| *n)
            .sum()
    }
}

/// Most uplinks written in one transaction.
const MAX_BATCH: usize = 512;

/// Frame counters remembered to answer a redelivery without the store.
const RECENT: usize = 200_000;

type Reply = oneshot::Sender<Result<Stored, String>>;

/// The intake: the store, its writer, recent frames, and the counters.
#[derive(Debug)]
pub struct Intake {
    store: Store,
    counters: Counters,
    /// The writer task's queue, started on first use: it stores what
    /// arrives together in one transaction (group commit) and answers each
    /// delivery once that commits.
    writer: OnceLock<mpsc::Sender<(NewUplink, Reply)>>,
    /// (device, frame counter) → window of uplinks stored by this process.
    recent: Mutex<HashMap<(u64, u32), i64>>,
    /// The homes' rules, once the server has started them.
    watch: OnceLock<Arc<Watch>>,
    /// Devices as last read from the registry (the store checks again as
    /// it writes).
    devices: Mutex<HashMap<String, Device>>,
}

impl Intake {
    /// An intake storing into `store`.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            counters: Counters::default(),
            writer: OnceLock::new(),
            recent: Mutex::new(HashMap::new()),
            watch: OnceLock::new(),
            devices: Mutex::new(HashMap::new()),
        }
    }

    /// Hands each stored uplink to `watch` from now on (the rules and
    /// alerts); a second call is ignored.
    pub fn set_watch(&self, watch: Arc<Watch>) {
        let _ = self.watch.set(watch);
    }

    /// The rules, once started.
    pub fn watch(&self) -> Option<&Arc<Watch>> {
        self.watch.get()
    }

    /// The counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Counts an event refused before it reached the intake (a wrong
    /// integration secret).
    pub fn count_rejection(&self, reason: &'static str) {
        self.counters.add("rejected", reason);
    }

    /// Takes one event from `network` (`kind` is ChirpStack's event type:
    /// `up`, `status`, `join`; The Things Stack sends uplinks only) that
    /// arrived at `now_ms`.
    pub async fn handle(
        &self,
        network: Network,
        kind: &str,
        body: &[u8],
        now_ms: i64,
    ) -> Result<Outcome, Rejection> {
        let result = self.steps(network, kind, body, now_ms).await;
        match &result {
            Ok(o) => self.counters.add("outcome", o.code()),
            Err(r) => self.counters.add("rejected", r.reason),
        }
        result
    }

    async fn steps(
        &self,
        network: Network,
        kind: &str,
        body: &[u8],
        now_ms: i64,
    ) -> Result<Outcome, Rejection> {
        let up = match decode_event(network, kind, body)? {
            Event::Up(up) => up,
            Event::Status(status) => return self.status(network, status, now_ms).await,
            Event::Join(_) => return Ok(Outcome::Noted),
        };
        let time_ms = checked_time(up.time_ms, now_ms)?;
        let key = up.dedup_key(time_ms);
        let eui = up.dev_eui.to_string();
        if self.already_stored(key) {
            return Ok(Outcome::Duplicate);
        }
        // The registry as this process last read it; the store checks it
        // again as it writes, and a refusal reads it afresh (once).
        let mut fresh = false;
        let (outcome, reading) = loop {
            let Some(device) = self.resolve_device(&eui, network, now_ms, fresh).await? else {
                return Ok(Outcome::Unregistered);
            };
            check_consent(&device)?;
            let reading = decode_payload(&device, &up)?;
            let stored = self
                .persist(
                    &up,
                    &eui,
                    &device.model,
                    key.window,
                    time_ms,
                    now_ms,
                    &reading,
                )
                .await?;
            match stored {
                Stored::Refused if !fresh => fresh = true,
                Stored::Refused => {
                    return Err(Rejection::new(
                        "store_unavailable",
                        "the registry changed while the uplink was being stored: send it again",
                    ));
                }
                Stored::New(id) => break (Outcome::Stored(id), reading),
                Stored::Duplicate => break (Outcome::Duplicate, reading),
            }
        };
        if matches!(outcome, Outcome::Stored(_)) {
            self.remember(key);
            self.evaluate(&eui, up.f_cnt, &reading, time_ms).await;
        }
        Ok(outcome)
    }

    /// A status report: the device resolved and its consent checked as
    /// for an uplink, the report kept as its latest status, and its
    /// battery level to the home's `battery_low` rule.
    async fn status(
        &self,
        network: Network,
        status: wherry_lorawan::Status,
        now_ms: i64,
    ) -> Result<Outcome, Rejection> {
        let status = DeviceStatus {
            dev_eui: status.dev_eui.to_string(),
            time_ms: checked_time(status.time_ms, now_ms)?,
            battery: status.battery_level,
            external_power: status.external_power_source,
            margin: status.margin,
        };
        let mut fresh = false;
        loop {
            let Some(device) = self
                .resolve_device(&status.dev_eui, network, now_ms, fresh)
                .await?
            else {
                return Ok(Outcome::Unregistered);
            };
            check_consent(&device)?;
            if self
                .store
                .note_status(&status)
                .await
                .map_err(store_failed)?
            {
                break;
            }
            if fresh {
                // Registered with consent standing: a later status is kept.
                return Ok(Outcome::Noted);
            }
            fresh = true;
        }
        if let Some(watch) = self.watch.get() {
            self.count_raised(watch.observe_status(&status).await);
        }
        Ok(Outcome::Noted)
    }

    /// Step 2, de-duplicate: a delivery of a frame this process stored in
    /// the same or a neighbouring window is answered here; anything else
    /// goes on, and the store decides again when it is written.
    fn already_stored(&self, key: wherry_lorawan::DedupKey) -> bool {
        let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent
            .get(&(key.dev_eui.0, key.f_cnt))
            .is_some_and(|w| (w - key.window).abs() <= 1)
    }

    fn remember(&self, key: wherry_lorawan::DedupKey) {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if recent.len() >= RECENT {
            recent.clear();
        }
        recent.insert((key.dev_eui.0, key.f_cnt), key.window);
    }

    /// Steps 7 and 8, evaluate rules and notify ([`Watch::observe`]). The
    /// uplink is stored whatever happens here; a store that fails to take
    /// an alert is counted (`alerts/store_failed`).
    async fn evaluate(&self, eui: &str, f_cnt: u32, reading: &wherry_lorawan::Reading, at_ms: i64) {
        let Some(watch) = self.watch.get() else {
            return;
        };
        self.count_raised(watch.observe(eui, f_cnt, reading, at_ms).await);
    }

    /// Counts the alerts the watch raised, or a store that failed to take
    /// them.
    fn count_raised(&self, raised: Result<Vec<i64>, wherry_store::Error>) {
        match raised {
            Ok(ids) => {
                for _ in ids {
                    self.counters.add("alerts", "raised");
                }
            }
            Err(_) => self.counters.add("alerts", "store_failed"),
        }
    }

    /// Step 3: the device, from the registry as last read (`fresh`: from
    /// the store, as after the store refused the cached registration).
    async fn resolve_device(
        &self,
        eui: &str,
        network: Network,
        now_ms: i64,
        fresh: bool,
    ) -> Result<Option<Device>, Rejection> {
        if !fresh {
            let cached = lock(&self.devices).get(eui).cloned();
            if cached.is_some() {
                return Ok(cached);
            }
        }
        let device = self.store.device(eui).await.map_err(store_failed)?;
        {
            let mut devices = lock(&self.devices);
            if devices.len() >= RECENT {
                devices.clear();
            }
            match &device {
                Some(d) => devices.insert(eui.to_string(), d.clone()),
                None => devices.remove(eui),
            };
        }
        if device.is_none() {
            self.store
                .note_unregistered(eui, network.code(), now_ms)
                .await
                .map_err(store_failed)?;
        }
        Ok(device)
    }

    #[allow(clippy::too_many_arguments)]
    async fn persist(
        &self,
        up: &Uplink,
        eui: &str,
        model: &str,
        window: i64,
        time_ms: i64,
        now_ms: i64,
        reading: &wherry_lorawan::Reading,
    ) -> Result<Stored, Rejection> {
        let json = serde_json::to_string(reading)
            .map_err(|_| Rejection::new("internal", "the reading could not be written"))?;
        let payload = wherry_lorawan::bytes::to_hex(&up.data);
        let uplink = NewUplink {
            dev_eui: eui.to_string(),
            f_cnt: i64::from(up.f_cnt),
            window,
            time_ms,
            received_ms: now_ms,
            network: up.network.code(),
            f_port: i32::from(up.f_port),
            payload,
            model: model.to_string(),
            reading: json,
            battery: reading.battery().map(f64::from),
            rssi: up.best_rssi(),
        };
        let (reply, answer) = oneshot::channel();
        let queue = self.writer.get_or_init(|| {
            let (queue, work) = mpsc::channel(4 * MAX_BATCH);
            tokio::spawn(write_batches(self.store.clone(), work));
            queue
        });
        let unavailable = || Rejection::new("store_unavailable", "the store's writer stopped");
        queue
            .send((uplink, reply))
            .await
            .map_err(|_| unavailable())?;
        answer
            .await
            .map_err(|_| unavailable())?
            .map_err(|e| Rejection::new("store_unavailable", e))
    }
}

/// The writer: takes what is queued (up to [`MAX_BATCH`]) and stores it in
/// one transaction, then answers each delivery.
async fn write_batches(store: Store, mut work: mpsc::Receiver<(NewUplink, Reply)>) {
    while let Some(first) = work.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match work.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let (uplinks, replies): (Vec<NewUplink>, Vec<Reply>) = batch.into_iter().unzip();
        match store.store_uplinks(&uplinks).await {
            Ok(stored) => {
                for (reply, s) in replies.into_iter().zip(stored) {
                    let _ = reply.send(Ok(s));
                }
            }
            Err(e) => {
                let why = e.to_string();
                for reply in replies {
                    let _ = reply.send(Err(why.clone()));
                }
            }
        }
    }
}

/// Step 1: the event, from the network server's JSON.
fn decode_event(network: Network, kind: &str, body: &[u8]) -> Result<Event, Rejection> {
    let parsed = match network {
        Network::Chirpstack => wherry_lorawan::chirpstack::parse(kind, body),
        Network::TheThingsStack => wherry_lorawan::tts::parse(body),
    };
    parsed.map_err(|e| Rejection::new(e.reason(), e.to_string()))
}

/// The event's time, or its arrival when it has none; refused when it is
/// further in the future than clocks differ.
fn checked_time(time_ms: Option<i64>, now_ms: i64) -> Result<i64, Rejection> {
    let t = time_ms.unwrap_or(now_ms);
    if t > now_ms + MAX_CLOCK_SKEW_MS {
        return Err(Rejection::new(
            "future_time",
            format!(
                "the event's time is {} minutes ahead of the hub's clock (at most {} allowed)",
                (t - now_ms) / 60_000,
                MAX_CLOCK_SKEW_MS / 60_000
            ),
        ));
    }
    Ok(t)
}

/// Step 4: a home device's resident must not have withdrawn consent.
fn check_consent(device: &Device) -> Result<(), Rejection> {
    if device.consent_withdrawn_ms.is_some() {
        return Err(Rejection::new(
            "consent_withdrawn",
            "the resident has withdrawn consent for this device: nothing of it is processed",
        ));
    }
    Ok(())
}

/// Step 5: the payload, by the registered model.
fn decode_payload(device: &Device, up: &Uplink) -> Result<wherry_lorawan::Reading, Rejection> {
    let model: Model = device
        .model
        .parse()
        .map_err(|e: wherry_lorawan::UnknownModel| {
            Rejection::new("unknown_model", e.to_string())
        })?;
    model
        .decode(up.f_port, &up.data)
        .map_err(|e| Rejection::new(e.reason(), format!("{}: {e}", model.id())))
}

fn store_failed(e: wherry_store::Error) -> Rejection {
    Rejection::new("store_unavailable", e.to_string())
}
