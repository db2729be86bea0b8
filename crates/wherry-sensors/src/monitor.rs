//! One home watched: its devices' readings in, alerts out. Pure: the caller
//! says what time it is, so the same code runs live (a scheduler calls
//! [`Home::tick`] at [`Home::next_deadline`]) and over a recorded month.
//!
//! Wellbeing rules compare today with the learnt [`Routine`]:
//! - `kettle_not_used`: no kettle use by the latest usual first use plus a
//!   margin (a deadline);
//! - `medication_not_taken`: the medication drawer not opened by its latest
//!   usual first opening plus a margin (a deadline);
//! - `no_movement`: no movement anywhere in the home (motion, kettle,
//!   drawer, door) for N of the hours the resident is usually up, and the
//!   motion sensor reported "quiet" during them (a deadline; silence alone
//!   is a technical matter);
//! - `night_door`: the front door opened at night, unless that is usual;
//! - `cold_home`: the room below 16 °C for more than two hours (a deadline
//!   from the first cold reading, kept if no warmer reading came).
//!
//! The daily deadlines hold only on a day the home has been heard from
//! (since local midnight): a home whose sensors are all offline raises the
//! technical rules, kept apart: `device_silent` (no uplink for three of
//! the device's reporting intervals, a deadline) and `battery_low`.
//!
//! Each alert names its episode (`kettle_not_used` on 2026-11-12, the cold
//! spell that began at a time); an episode is alerted once.

use std::collections::{BTreeMap, BTreeSet};

use wherry_core::Date;
use wherry_core::localtime::{hh_mm, local_minute, local_to_utc, to_local};
use wherry_lorawan::Reading;
use wherry_lorawan::reading::{DoorState, PirState};

pub use crate::alert::{Alert, AlertKind};
use crate::registry::Use;
use crate::routine::{Day, LEARN_DAYS, Routine, Thresholds};

/// An uplink's reading from one of a home's devices.
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    /// The device.
    pub dev_eui: &'a str,
    /// Its frame counter: a gap says frames were lost.
    pub f_cnt: u32,
    /// What it said.
    pub reading: &'a Reading,
    /// When (Unix ms).
    pub at_ms: i64,
}

#[derive(Debug, Clone, Default)]
struct DeviceState {
    use_kind: Option<Use>,
    last_seen_ms: Option<i64>,
    gaps_ms: Vec<i64>,
    interval_ms: Option<i64>,
    energy_wh: Option<u32>,
    last_f_cnt: Option<u32>,
    open: Option<bool>,
    battery_low_since: Option<Date>,
}

/// A device's reporting interval: the 90th percentile of its recent gaps
/// (at least ten minutes), once eight are known.
fn reporting_interval(gaps: &[i64]) -> Option<i64> {
    if gaps.len() < 8 {
        return None;
    }
    let mut sorted = gaps.to_vec();
    sorted.sort_unstable();
    Some(sorted[(sorted.len() * 9).div_ceil(10) - 1].max(600_000))
}

/// The `battery_low` rule: a battery at or below the threshold raises the
/// alert of the episode that began the day it was first low (a battery is
/// low again only after it was seen 10 points above the threshold).
fn battery_low(
    person_id: &str,
    t: &Thresholds,
    device: &mut DeviceState,
    dev_eui: &str,
    battery: u8,
    at_ms: i64,
) -> Option<Alert> {
    if battery > t.battery_low_percent.saturating_add(10) {
        device.battery_low_since = None;
    }
    if battery > t.battery_low_percent {
        return None;
    }
    let date = to_local(at_ms.div_euclid(1000)).0;
    let since = *device.battery_low_since.get_or_insert(date);
    Some(Alert {
        person_id: person_id.to_string(),
        kind: AlertKind::BatteryLow,
        episode: format!("{dev_eui}:{since}"),
        at_ms,
        dev_eui: Some(dev_eui.to_string()),
        expected: format!("battery above {}%", t.battery_low_percent),
        observed: format!("battery at {battery}%"),
    })
}

/// Gaps kept per device to learn its reporting interval.
const GAPS_KEPT: usize = 64;

/// A home and what its sensors have said.
#[derive(Debug, Clone)]
pub struct Home {
    person_id: String,
    thresholds: Thresholds,
    devices: BTreeMap<String, DeviceState>,
    days: BTreeMap<Date, Day>,
    routine: Option<(Date, Routine)>,
    last_activity_ms: Option<i64>,
    quiet_report_ms: Option<i64>,
    cold_since_ms: Option<i64>,
    last_temperature: Option<(i64, f64)>,
    raised: BTreeSet<(AlertKind, String)>,
    last_tick_ms: i64,
}

impl Home {
    /// A home with its devices (dev EUI and use).
    pub fn new(person_id: &str, thresholds: Thresholds, devices: &[(String, Use)]) -> Home {
        Home {
            person_id: person_id.to_string(),
            thresholds,
            devices: devices
                .iter()
                .map(|(eui, u)| {
                    let state = DeviceState {
                        use_kind: Some(*u),
                        ..DeviceState::default()
                    };
                    (eui.clone(), state)
                })
                .collect(),
            days: BTreeMap::new(),
            routine: None,
            last_activity_ms: None,
            quiet_report_ms: None,
            cold_since_ms: None,
            last_temperature: None,
            raised: BTreeSet::new(),
            last_tick_ms: i64::MIN,
        }
    }

    /// The resident.
    pub fn person_id(&self) -> &str {
        &self.person_id
    }

    /// The thresholds in force.
    pub fn thresholds(&self) -> &Thresholds {
        &self.thresholds
    }

    /// Replaces the thresholds.
    pub fn set_thresholds(&mut self, thresholds: Thresholds) {
        self.thresholds = thresholds;
        self.routine = None;
    }

    /// Notes an episode already alerted (restored from the store).
    pub fn note_raised(&mut self, kind: AlertKind, episode: &str) {
        self.raised.insert((kind, episode.to_string()));
    }

    /// Forgets that `alert`'s episode was alerted (the alert could not be
    /// stored), so the rules raise it again: a deadline's at the next
    /// [`Home::next_deadline`] (its due time comes round again), a
    /// reading's at the next such reading.
    pub fn forget_raised(&mut self, alert: &Alert) {
        self.raised.remove(&(alert.kind, alert.episode.clone()));
        self.last_tick_ms = self.last_tick_ms.min(alert.at_ms - 1);
    }

    /// The routine as learnt from the days before `now`'s local day.
    pub fn routine(&mut self, now_ms: i64) -> &Routine {
        let today = to_local(now_ms.div_euclid(1000)).0;
        if self.routine.as_ref().map(|(d, _)| *d) != Some(today) {
            let days: Vec<&Day> = self.days.range(..today).map(|(_, d)| d).collect();
            self.routine = Some((today, Routine::learn(&days)));
        }
        &self.routine.as_ref().expect("just learnt").1
    }

    /// The routine as learnt from the days before `at_ms`'s local day,
    /// without disturbing the one the rules use.
    pub fn routine_before(&self, at_ms: i64) -> Routine {
        let day = to_local(at_ms.div_euclid(1000)).0;
        let days: Vec<&Day> = self.days.range(..day).map(|(_, d)| d).collect();
        Routine::learn(&days)
    }

    /// Today's summary so far.
    pub fn day(&self, date: Date) -> Option<&Day> {
        self.days.get(&date)
    }

    /// A reading from one of the home's devices at `at_ms`; then every rule
    /// is evaluated at `now_ms` (the uplink's time when replaying, the
    /// clock when live). Returns the alerts raised.
    pub fn observe(&mut self, seen: Seen<'_>, now_ms: i64) -> Vec<Alert> {
        let Seen {
            dev_eui,
            f_cnt,
            reading,
            at_ms,
        } = seen;
        let t = self.thresholds.clone();
        let routine = self.routine(at_ms).clone();
        let (date, minute) = to_local(at_ms.div_euclid(1000));
        let mut night_door = None;
        let device = self.devices.entry(dev_eui.to_string()).or_default();
        if let Some(last) = device.last_seen_ms {
            if at_ms > last {
                if device.gaps_ms.len() == GAPS_KEPT {
                    device.gaps_ms.remove(0);
                }
                device.gaps_ms.push(at_ms - last);
                device.interval_ms = reporting_interval(&device.gaps_ms);
            }
        }
        device.last_seen_ms = Some(device.last_seen_ms.map_or(at_ms, |l| l.max(at_ms)));
        // Frames lost since the last one heard (none after a rejoin's reset).
        let frames_lost = device
            .last_f_cnt
            .is_some_and(|last| f_cnt > last.saturating_add(1));
        device.last_f_cnt = Some(f_cnt);
        let mut alerts = Vec::new();
        if let Some(battery) = reading.battery() {
            alerts.extend(battery_low(
                &self.person_id,
                &t,
                device,
                dev_eui,
                battery,
                at_ms,
            ));
        }
        let use_kind = device.use_kind;
        let day = self.days.entry(date).or_default();
        let mut active = false;
        match (use_kind, reading) {
            (Some(Use::Kettle), Reading::SmartSocket(s)) => {
                let drawing = s.active_power.is_some_and(|w| w >= t.kettle_watts);
                let rose = match (device.energy_wh, s.energy) {
                    (Some(before), Some(now)) => now >= before.saturating_add(t.kettle_energy_wh),
                    _ => false,
                };
                if s.energy.is_some() {
                    device.energy_wh = s.energy;
                }
                if drawing || rose {
                    day.kettle_first = Some(day.kettle_first.map_or(minute, |m| m.min(minute)));
                    active = true;
                }
            }
            (Some(u @ (Use::MedicationDrawer | Use::FrontDoor)), Reading::Contact(c)) => {
                let was_open = device.open.replace(c.door == Some(DoorState::Open));
                // A drawer found closed again after lost frames, having been
                // closed: the lost frames held an opening. Counted only to
                // spare an alert, never to raise one.
                if u == Use::MedicationDrawer
                    && c.door == Some(DoorState::Close)
                    && frames_lost
                    && was_open == Some(false)
                {
                    day.drawer_opens.push(minute);
                }
                if c.door == Some(DoorState::Open) {
                    active = true;
                    if u == Use::MedicationDrawer {
                        day.drawer_opens.push(minute);
                    } else if t.is_night(minute) {
                        day.night_door = true;
                        let night = if minute < t.night_end_min {
                            date.add_days(-1)
                        } else {
                            date
                        };
                        if routine.is_ready() && !routine.uses_door_at_night() {
                            night_door = Some(night);
                        }
                    }
                }
            }
            (Some(Use::Motion), Reading::Motion(m)) => {
                day.reported_hours |= 1 << (minute / 60);
                match m.pir {
                    Some(PirState::Trigger) => {
                        day.motion_hours |= 1 << (minute / 60);
                        active = true;
                    }
                    Some(PirState::Normal) => {
                        self.quiet_report_ms =
                            Some(self.quiet_report_ms.unwrap_or(at_ms).max(at_ms));
                    }
                    None => {}
                }
            }
            (Some(Use::RoomTemperature), Reading::Climate(c)) => {
                if let Some(celsius) = c.temperature {
                    day.temperatures.push(celsius);
                    if self.last_temperature.is_none_or(|(t0, _)| at_ms >= t0) {
                        self.last_temperature = Some((at_ms, celsius));
                        if celsius < t.cold_c {
                            self.cold_since_ms.get_or_insert(at_ms);
                        } else {
                            self.cold_since_ms = None;
                        }
                    }
                }
            }
            _ => {}
        }
        if let Some(night) = night_door {
            alerts.push(self.alert(
                AlertKind::NightDoor,
                night.to_string(),
                at_ms,
                Some(dev_eui),
                format!(
                    "front door closed at night ({} of {} nights used)",
                    routine.night_door_nights, routine.days
                ),
                format!("front door opened at {}", hh_mm(minute)),
            ));
        }
        if active {
            self.last_activity_ms = Some(self.last_activity_ms.map_or(at_ms, |l| l.max(at_ms)));
        }
        let oldest = date.add_days(-(LEARN_DAYS as i64) - 1);
        self.days.retain(|d, _| *d >= oldest);
        alerts.retain(|a| self.raised.insert((a.kind, a.episode.clone())));
        alerts.extend(self.evaluate(now_ms));
        alerts
    }

    /// A battery level device `dev_eui` reported at `at_ms` other than in
    /// an uplink's payload (a network server's status report, in percent):
    /// the `battery_low` rule as for a reading. Returns the alert raised.
    pub fn battery_reported(&mut self, dev_eui: &str, battery: u8, at_ms: i64) -> Vec<Alert> {
        let device = self.devices.entry(dev_eui.to_string()).or_default();
        let mut alerts: Vec<Alert> = battery_low(
            &self.person_id,
            &self.thresholds,
            device,
            dev_eui,
            battery,
            at_ms,
        )
        .into_iter()
        .collect();
        alerts.retain(|a| self.raised.insert((a.kind, a.episode.clone())));
        alerts
    }

    /// Evaluates the deadline rules at `now_ms` (the scheduler's call).
    pub fn tick(&mut self, now_ms: i64) -> Vec<Alert> {
        self.evaluate(now_ms)
    }

    /// The next time after the last evaluation at which a deadline rule
    /// could fire, if any.
    pub fn next_deadline(&mut self) -> Option<i64> {
        let after = self.last_tick_ms;
        if after == i64::MIN {
            return None;
        }
        let (today, _) = to_local(after.div_euclid(1000));
        let routine = self.routine(after).clone();
        // Tomorrow's deadlines are re-learnt at midnight, when the
        // scheduler wakes anyway.
        let mut candidates = vec![local_to_utc(today.add_days(1), 0) * 1000];
        candidates.extend(
            self.daily_deadlines(today, &routine)
                .into_iter()
                .map(|(_, at)| at),
        );
        candidates.extend(self.no_movement_deadline());
        candidates.extend(self.cold_deadline());
        candidates.extend(
            self.devices
                .values()
                .filter_map(|d| self.silent_deadline(d)),
        );
        candidates.into_iter().filter(|&at| at > after).min()
    }

    fn alert(
        &self,
        kind: AlertKind,
        episode: String,
        at_ms: i64,
        dev_eui: Option<&str>,
        expected: String,
        observed: String,
    ) -> Alert {
        Alert {
            person_id: self.person_id.clone(),
            kind,
            episode,
            at_ms,
            dev_eui: dev_eui.map(str::to_string),
            expected,
            observed,
        }
    }

    /// The kettle's and the drawer's deadlines on `date` (Unix ms), where the
    /// routine knows them and the day has not met them.
    fn daily_deadlines(&self, date: Date, routine: &Routine) -> Vec<(AlertKind, i64)> {
        // A home not heard since the day began is offline, not idle: that
        // is for the technical rules (device_silent), not a wellbeing alert.
        let heard = self.devices.values().filter_map(|d| d.last_seen_ms).max();
        if !routine.is_ready() || heard.is_none_or(|h| h < local_to_utc(date, 0) * 1000) {
            return Vec::new();
        }
        let t = &self.thresholds;
        let day = self.days.get(&date);
        let mut out = Vec::new();
        let has = |u: Use| self.devices.values().any(|d| d.use_kind == Some(u));
        if let (Some(latest), true) = (routine.kettle_latest, has(Use::Kettle)) {
            if day.is_none_or(|d| d.kettle_first.is_none()) {
                out.push((
                    AlertKind::KettleNotUsed,
                    local_to_utc(date, latest + t.kettle_margin_min) * 1000,
                ));
            }
        }
        if let (Some(latest), true) = (routine.drawer_latest, has(Use::MedicationDrawer)) {
            if day.is_none_or(|d| d.drawer_opens.is_empty()) {
                out.push((
                    AlertKind::MedicationNotTaken,
                    local_to_utc(date, latest + t.drawer_margin_min) * 1000,
                ));
            }
        }
        out
    }

    /// When the hours without movement since the last activity reach the
    /// threshold, counting only hours the resident is usually up.
    fn no_movement_deadline(&self) -> Option<i64> {
        let (_, routine) = self.routine.as_ref()?;
        if !routine.is_ready() || routine.active_hours == 0 {
            return None;
        }
        let last = self.last_activity_ms?;
        let mut need = self.thresholds.no_movement_hours * 3600;
        let mut at = last.div_euclid(1000);
        // Walk forward hour slice by hour slice, for at most two days.
        for _ in 0..(48 * 2) {
            let minute = local_minute(at);
            let slice_end = at + (60 - minute % 60) * 60 - at.rem_euclid(60);
            let slice = slice_end - at;
            if routine.is_active_hour(minute / 60) {
                if slice >= need {
                    return Some((at + need) * 1000);
                }
                need -= slice;
            }
            at = slice_end;
        }
        None
    }

    fn cold_deadline(&self) -> Option<i64> {
        self.cold_since_ms
            .map(|since| since + self.thresholds.cold_min * 60_000)
    }

    fn silent_deadline(&self, d: &DeviceState) -> Option<i64> {
        Some(d.last_seen_ms? + self.thresholds.silent_intervals * d.interval_ms?)
    }

    /// Every deadline rule at `now_ms`.
    fn evaluate(&mut self, now_ms: i64) -> Vec<Alert> {
        self.last_tick_ms = self.last_tick_ms.max(now_ms);
        let mut alerts = Vec::new();
        let (today, _) = to_local(now_ms.div_euclid(1000));
        let routine = self.routine(now_ms).clone();
        let t = self.thresholds.clone();
        for (kind, due) in self.daily_deadlines(today, &routine) {
            if now_ms < due {
                continue;
            }
            let by = hh_mm(to_local(due / 1000).1);
            let (usual, latest, done, missed) = match kind {
                AlertKind::KettleNotUsed => (
                    routine.kettle_usual,
                    routine.kettle_latest,
                    "kettle used",
                    format!("no kettle use by {by}"),
                ),
                _ => (
                    routine.drawer_usual,
                    routine.drawer_latest,
                    "medication drawer opened",
                    format!("medication drawer not opened by {by}"),
                ),
            };
            alerts.push(self.alert(
                kind,
                today.to_string(),
                due,
                None,
                format!(
                    "{done} by {by} (usually {}, latest {})",
                    usual.map(hh_mm).unwrap_or_default(),
                    latest.map(hh_mm).unwrap_or_default()
                ),
                missed,
            ));
        }
        if let (Some(due), Some(last)) = (self.no_movement_deadline(), self.last_activity_ms) {
            // The motion sensor must have said "quiet" during the quiet
            // hours themselves: silence is a technical matter.
            let stretch = due - t.no_movement_hours * 3_600_000;
            if now_ms >= due
                && self
                    .quiet_report_ms
                    .is_some_and(|q| q > last && q >= stretch)
            {
                alerts.push(self.alert(
                    AlertKind::NoMovement,
                    last.to_string(),
                    due.max(self.quiet_report_ms.unwrap_or(due)).min(now_ms),
                    None,
                    format!(
                        "movement within {} hours while usually up",
                        t.no_movement_hours
                    ),
                    format!(
                        "no movement since {}",
                        hh_mm(to_local(last.div_euclid(1000)).1)
                    ),
                ));
            }
        }
        if let (Some(due), Some(since)) = (self.cold_deadline(), self.cold_since_ms) {
            if now_ms >= due {
                let latest = self.last_temperature.map_or(0.0, |(_, c)| c);
                alerts.push(self.alert(
                    AlertKind::ColdHome,
                    since.to_string(),
                    due,
                    None,
                    match routine.usual_temperature {
                        Some(usual) => {
                            format!("room at {} °C or above (usually {usual:.1} °C)", t.cold_c)
                        }
                        // Not enough days learnt to know the usual.
                        None => format!("room at {} °C or above", t.cold_c),
                    },
                    format!(
                        "below {} °C since {}, now {latest:.1} °C",
                        t.cold_c,
                        hh_mm(to_local(since.div_euclid(1000)).1)
                    ),
                ));
            }
        }
        let silent: Vec<(String, i64, i64)> = self
            .devices
            .iter()
            .filter_map(|(eui, d)| {
                let due = self.silent_deadline(d)?;
                (now_ms >= due).then(|| (eui.clone(), due, d.last_seen_ms.unwrap_or(0)))
            })
            .collect();
        for (eui, due, last) in silent {
            alerts.push(self.alert(
                AlertKind::DeviceSilent,
                format!("{eui}:{last}"),
                due,
                Some(&eui),
                format!(
                    "an uplink at least every {} minutes",
                    (due - last) / 60_000 / t.silent_intervals
                ),
                format!("nothing heard for {} minutes", (now_ms - last) / 60_000),
            ));
        }
        alerts.retain(|a| self.raised.insert((a.kind, a.episode.clone())));
        alerts
    }
}
