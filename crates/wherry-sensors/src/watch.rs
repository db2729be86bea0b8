//! The live watch: every consenting home's [`Home`] in memory, fed by the
//! intake after each uplink is stored (evaluate rules → raise → notify), and
//! woken by a scheduler at each home's next deadline, so that "not by
//! 10:30" fires at 10:30 and not at the next uplink.
//!
//! State survives a restart because it is rebuilt from the store: each
//! home's last fifteen days of uplinks are decoded again and replayed
//! through the rules, with the episodes already raised restored first, so
//! an alert is raised once however often the hub restarts, and a deadline
//! that passed while the hub was down is raised when it comes back.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use wherry_lorawan::{Model, Reading};
use wherry_store::Store;
use wherry_store::sensor_alerts::NewAlert;
use wherry_store::sensors::DeviceStatus;

use crate::monitor::{Alert, Home, Seen};
use crate::registry::Use;
use crate::routine::{LEARN_DAYS, Thresholds};

/// Days of uplinks replayed when a home is loaded.
const REPLAY_DAYS: i64 = LEARN_DAYS as i64 + 1;

/// Unix milliseconds now (a test may shift it).
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The live watch over every home.
pub struct Watch {
    store: Store,
    homes: Mutex<Homes>,
    device_home: Mutex<HashMap<String, String>>,
    /// Woken when a home's deadlines may have moved earlier.
    changed: Notify,
    /// Woken when an alert was queued for the care system.
    raised: Arc<Notify>,
    deliver: bool,
    clock: Clock,
    /// The newest uplink stored before the homes were loaded.
    loaded_from: i64,
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch")
            .field("homes", &self.homes())
            .field("deliver", &self.deliver)
            .finish()
    }
}

/// A mutex's guard, also after a panic elsewhere poisoned it (the maps it
/// guards hold no invariant a half-done update could break).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Watch {
    /// A watch over every home in `store`, loaded now. With `deliver`,
    /// alerts are queued for the care system's webhook.
    pub async fn start(store: Store, deliver: bool) -> Result<Arc<Watch>, wherry_store::Error> {
        Self::start_with_clock(store, deliver, Arc::new(wherry_core::clock::unix_ms)).await
    }

    /// [`Watch::start`] with a clock of the caller's (Unix ms).
    pub async fn start_with_clock(
        store: Store,
        deliver: bool,
        clock: Clock,
    ) -> Result<Arc<Watch>, wherry_store::Error> {
        // Uplinks stored from here on may reach a home already loaded
        // before the intake hands them over: `catch_up` reloads those homes.
        let loaded_from = store.last_uplink_id().await?;
        let watch = Arc::new(Watch {
            store,
            loaded_from,
            homes: Mutex::new(Homes::default()),
            device_home: Mutex::new(HashMap::new()),
            changed: Notify::new(),
            raised: Arc::new(Notify::new()),
            deliver,
            clock,
        });
        let mut people: Vec<String> = watch
            .store
            .devices()
            .await?
            .into_iter()
            .filter_map(|d| d.device.person_id)
            .collect();
        people.sort();
        people.dedup();
        for person in people {
            watch.load_home(&person).await?;
        }
        Ok(watch)
    }

    /// Once the intake hands uplinks to this watch: reloads each home an
    /// uplink stored while the homes were loading came from (the intake
    /// stored it but no rule saw it). Returns the alerts raised.
    pub async fn catch_up(&self) -> Result<Vec<i64>, wherry_store::Error> {
        let mut ids = Vec::new();
        for person in self.store.residents_heard_after(self.loaded_from).await? {
            ids.extend(self.load_home(&person).await?);
        }
        Ok(ids)
    }

    /// Woken when an alert is queued for the care system.
    pub fn raised_signal(&self) -> Arc<Notify> {
        self.raised.clone()
    }

    /// Homes watched.
    pub fn homes(&self) -> usize {
        lock(&self.homes).by_person.len()
    }

    /// (Re)loads one resident's home from the store: their devices whose
    /// consent stands, their thresholds, the episodes already raised, and
    /// the last fifteen days replayed. A home with no such device is
    /// dropped (consent withdrawn, devices removed, erasure).
    pub async fn load_home(&self, person: &str) -> Result<Vec<i64>, wherry_store::Error> {
        let devices: Vec<(String, Use, Model)> = self
            .store
            .devices_of(person)
            .await?
            .into_iter()
            .filter(|d| d.consent_withdrawn_ms.is_none())
            .filter_map(|d| Some((d.dev_eui, d.use_kind.parse().ok()?, d.model.parse().ok()?)))
            .collect();
        {
            let mut map = lock(&self.device_home);
            map.retain(|_, p| p != person);
            for (eui, _, _) in &devices {
                map.insert(eui.clone(), person.to_string());
            }
        }
        if devices.is_empty() {
            lock(&self.homes).remove(person);
            return Ok(Vec::new());
        }
        let thresholds = self
            .store
            .thresholds(person)
            .await?
            .and_then(|t| serde_json::from_str::<Thresholds>(&t.thresholds).ok())
            .unwrap_or_default();
        let uses: Vec<(String, Use)> = devices.iter().map(|(e, u, _)| (e.clone(), *u)).collect();
        let mut home = Home::new(person, thresholds, &uses);
        for (kind, episode) in self.store.alert_episodes(person).await? {
            if let Some(kind) = crate::AlertKind::from_code(&kind) {
                home.note_raised(kind, &episode);
            }
        }
        let now = (self.clock)();
        let since = now - REPLAY_DAYS * 86_400_000;
        let models: HashMap<&str, Model> =
            devices.iter().map(|(e, _, m)| (e.as_str(), *m)).collect();
        let mut alerts = Vec::new();
        // Status reports' batteries, each in its place among the uplinks.
        let mut statuses = self.store.statuses_of(person).await?;
        statuses.retain(|s| s.battery.is_some() && s.time_ms >= since);
        statuses.sort_by_key(|s| s.time_ms);
        let mut next = 0;
        for (eui, f_cnt, at_ms, f_port, hex) in self.store.home_uplinks_since(person, since).await?
        {
            while let Some(s) = statuses.get(next).filter(|s| s.time_ms <= at_ms) {
                alerts.extend(battery_reported(&mut home, s));
                next += 1;
            }
            let Some(model) = models.get(eui.as_str()) else {
                continue;
            };
            let decoded = wherry_lorawan::bytes::from_hex(&hex)
                .ok()
                .and_then(|bytes| model.decode(f_port as u8, &bytes).ok());
            if let Some(reading) = decoded {
                alerts.extend(feed(&mut home, &eui, f_cnt as u32, &reading, at_ms));
            }
        }
        for s in &statuses[next..] {
            alerts.extend(battery_reported(&mut home, s));
        }
        alerts.extend(wake(&mut home, now));
        {
            let mut homes = lock(&self.homes);
            homes.by_person.insert(person.to_string(), home);
            homes.refresh(person);
        }
        self.changed.notify_one();
        self.raise(alerts).await
    }

    /// Step 6 and 7 of the intake, evaluate rules and notify: a stored
    /// uplink's reading goes to its home; alerts raised are stored (once an
    /// episode) and queued for the care system. Returns the new alerts'
    /// numbers. Devices of no home (counters) are ignored.
    pub async fn observe(
        &self,
        dev_eui: &str,
        f_cnt: u32,
        reading: &Reading,
        at_ms: i64,
    ) -> Result<Vec<i64>, wherry_store::Error> {
        let Some(person) = lock(&self.device_home).get(dev_eui).cloned() else {
            return Ok(Vec::new());
        };
        let (alerts, sooner) = {
            let mut homes = lock(&self.homes);
            let Some(home) = homes.by_person.get_mut(&person) else {
                return Ok(Vec::new());
            };
            let alerts = feed(home, dev_eui, f_cnt, reading, at_ms);
            let before = homes.earliest();
            let due = homes.refresh(&person);
            (alerts, due.is_some_and(|d| before.is_none_or(|b| d < b)))
        };
        // The scheduler sleeps until the earliest deadline: woken only when
        // this reading made one earlier.
        if sooner {
            self.changed.notify_one();
        }
        self.raise(alerts).await
    }

    /// A device's status report (kept by the store): its battery level
    /// goes to its home's `battery_low` rule. Returns the new alerts'
    /// numbers.
    pub async fn observe_status(
        &self,
        status: &DeviceStatus,
    ) -> Result<Vec<i64>, wherry_store::Error> {
        let Some(person) = lock(&self.device_home).get(&status.dev_eui).cloned() else {
            return Ok(Vec::new());
        };
        let alerts = {
            let mut homes = lock(&self.homes);
            let Some(home) = homes.by_person.get_mut(&person) else {
                return Ok(Vec::new());
            };
            battery_reported(home, status)
        };
        self.raise(alerts).await
    }

    /// Wakes every home whose deadline has come by `now_ms`.
    pub async fn tick(&self, now_ms: i64) -> Result<Vec<i64>, wherry_store::Error> {
        let alerts: Vec<Alert> = {
            let mut homes = lock(&self.homes);
            let due: Vec<String> = homes
                .due
                .iter()
                .take_while(|(at, _)| *at <= now_ms)
                .map(|(_, p)| p.clone())
                .collect();
            let mut alerts = Vec::new();
            for person in due {
                if let Some(home) = homes.by_person.get_mut(&person) {
                    alerts.extend(wake(home, now_ms));
                }
                homes.refresh(&person);
            }
            alerts
        };
        self.raise(alerts).await
    }

    /// A home's routine as learnt before the local day of `at_ms`.
    pub fn routine_of(&self, person: &str, at_ms: i64) -> Option<crate::Routine> {
        let homes = lock(&self.homes);
        let home = homes.by_person.get(person)?;
        Some(home.routine_before(at_ms))
    }

    /// The earliest deadline of any home.
    pub fn next_deadline(&self) -> Option<i64> {
        lock(&self.homes).earliest()
    }

    /// The scheduler: sleeps until the next deadline (or until a reading
    /// may have moved one) and wakes the homes due.
    pub fn spawn_scheduler(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let watch = self.clone();
        tokio::spawn(async move {
            loop {
                let now = (watch.clock)();
                let wait = match watch.next_deadline() {
                    Some(due) if due <= now => {
                        // Alerts the store did not take are due again at
                        // once: tried again a second later, not in a spin.
                        if watch.tick(now).await.is_err() {
                            eprintln!(
                                "{{\"at\":\"{}\",\"level\":\"warn\",\"event\":\"sensor_alert_store_failed\"}}",
                                wherry_core::clock::now()
                            );
                            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        }
                        continue;
                    }
                    Some(due) => std::time::Duration::from_millis((due - now) as u64),
                    None => std::time::Duration::from_secs(3600),
                };
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = watch.changed.notified() => {}
                }
            }
        })
    }

    /// Stores the alerts (once an episode) whose device's consent still
    /// stands: consent withdrawn by another process (the command line) is
    /// seen here, and the home is dropped when nothing of it remains. An
    /// alert the store does not take is forgotten by its home, so the
    /// rules raise it again (at the next reading or scheduler round); the
    /// others are still stored, and the first failure is returned.
    async fn raise(&self, alerts: Vec<Alert>) -> Result<Vec<i64>, wherry_store::Error> {
        let mut ids = Vec::new();
        let mut failed = None;
        let mut consenting: HashMap<String, Vec<(String, Use)>> = HashMap::new();
        for a in alerts {
            match self.raise_one(&a, &mut consenting).await {
                Ok(id) => ids.extend(id),
                Err(e) => {
                    let mut homes = lock(&self.homes);
                    if let Some(home) = homes.by_person.get_mut(&a.person_id) {
                        home.forget_raised(&a);
                    }
                    homes.refresh(&a.person_id);
                    failed.get_or_insert(e);
                }
            }
        }
        if !ids.is_empty() && self.deliver {
            self.raised.notify_one();
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(ids),
        }
    }

    /// One alert, if its resident's consent stands: its number if new.
    async fn raise_one(
        &self,
        a: &Alert,
        consenting: &mut HashMap<String, Vec<(String, Use)>>,
    ) -> Result<Option<i64>, wherry_store::Error> {
        if !consenting.contains_key(&a.person_id) {
            let devices = self.store.devices_of(&a.person_id).await?;
            let live: Vec<(String, Use)> = devices
                .into_iter()
                .filter(|d| d.consent_withdrawn_ms.is_none())
                .filter_map(|d| Some((d.dev_eui, d.use_kind.parse().ok()?)))
                .collect();
            if live.is_empty() {
                lock(&self.homes).remove(&a.person_id);
            }
            consenting.insert(a.person_id.clone(), live);
        }
        let live = &consenting[&a.person_id];
        let allowed = match (&a.dev_eui, a.kind.source_use()) {
            (Some(eui), _) => live.iter().any(|(e, _)| e == eui),
            (None, Some(u)) => live.iter().any(|(_, lu)| *lu == u),
            (None, None) => !live.is_empty(),
        };
        if !allowed {
            return Ok(None);
        }
        let new = NewAlert {
            person_id: a.person_id.clone(),
            kind: a.kind.code().to_string(),
            episode: a.episode.clone(),
            wellbeing: a.kind.is_wellbeing(),
            urgency: i64::from(a.kind.urgency()),
            due_ms: a.at_ms,
            raised_ms: (self.clock)(),
            dev_eui: a.dev_eui.clone(),
            expected: a.expected.clone(),
            observed: a.observed.clone(),
        };
        self.store.raise_alert(&new, self.deliver).await
    }
}

/// Wakes a home at each of its deadlines up to `until_ms`, then hands it
/// the reading: what the scheduler would have done had it run throughout.
pub(crate) fn feed(
    home: &mut Home,
    dev_eui: &str,
    f_cnt: u32,
    reading: &Reading,
    at_ms: i64,
) -> Vec<Alert> {
    let mut alerts = wake(home, at_ms);
    let seen = Seen {
        dev_eui,
        f_cnt,
        reading,
        at_ms,
    };
    alerts.extend(home.observe(seen, at_ms));
    alerts
}

/// A status report's battery level (percent, a fraction rounded) to its
/// home.
fn battery_reported(home: &mut Home, status: &DeviceStatus) -> Vec<Alert> {
    match status.battery {
        Some(b) => home.battery_reported(
            &status.dev_eui,
            b.round().clamp(0.0, 100.0) as u8,
            status.time_ms,
        ),
        None => Vec::new(),
    }
}

pub(crate) fn wake(home: &mut Home, until_ms: i64) -> Vec<Alert> {
    let mut alerts = Vec::new();
    while let Some(due) = home.next_deadline().filter(|&d| d <= until_ms) {
        alerts.extend(home.tick(due));
    }
    alerts
}

/// The homes watched, and each one's next deadline in order.
#[derive(Default)]
struct Homes {
    by_person: HashMap<String, Home>,
    due: std::collections::BTreeSet<(i64, String)>,
    due_of: HashMap<String, i64>,
}

impl Homes {
    /// Files `person`'s next deadline again; returns it.
    fn refresh(&mut self, person: &str) -> Option<i64> {
        if let Some(old) = self.due_of.remove(person) {
            self.due.remove(&(old, person.to_string()));
        }
        let next = self.by_person.get_mut(person)?.next_deadline()?;
        self.due.insert((next, person.to_string()));
        self.due_of.insert(person.to_string(), next);
        Some(next)
    }

    fn remove(&mut self, person: &str) {
        self.by_person.remove(person);
        if let Some(old) = self.due_of.remove(person) {
            self.due.remove(&(old, person.to_string()));
        }
    }

    fn earliest(&self) -> Option<i64> {
        self.due.first().map(|(at, _)| *at)
    }
}
