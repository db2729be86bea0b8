//! The rules on hand-made days: deadlines fire at the deadline from the
//! scheduler's call, not at the next uplink; an episode is alerted once,
//! also after a restart; thresholds are the resident's.

use wherry_core::Date;
use wherry_core::localtime::local_to_utc;
use wherry_lorawan::Reading;
use wherry_lorawan::reading::{Climate, Contact, DoorState, Motion, PirState, SmartSocket};
use wherry_sensors::{AlertKind, Home, Seen, Thresholds, Use};

const KETTLE: &str = "70b3d57ed0000001";
const DRAWER: &str = "70b3d57ed0000002";
const DOOR: &str = "70b3d57ed0000003";
const PIR: &str = "70b3d57ed0000004";
const ROOM: &str = "70b3d57ed0000005";

fn home(t: Thresholds) -> Home {
    let devices = [
        (KETTLE, Use::Kettle),
        (DRAWER, Use::MedicationDrawer),
        (DOOR, Use::FrontDoor),
        (PIR, Use::Motion),
        (ROOM, Use::RoomTemperature),
    ]
    .map(|(e, u)| (e.to_string(), u));
    Home::new("P1", t, &devices)
}

fn plug(watts: u32) -> Reading {
    Reading::SmartSocket(SmartSocket {
        active_power: Some(watts),
        ..Default::default()
    })
}

fn contact(open: bool) -> Reading {
    Reading::Contact(Contact {
        battery: Some(90),
        door: Some(if open {
            DoorState::Open
        } else {
            DoorState::Close
        }),
        ..Default::default()
    })
}

fn pir(moved: bool) -> Reading {
    Reading::Motion(Motion {
        battery: Some(90),
        pir: Some(if moved {
            PirState::Trigger
        } else {
            PirState::Normal
        }),
        ..Default::default()
    })
}

fn room(celsius: f64) -> Reading {
    Reading::Climate(Climate {
        battery: Some(90),
        temperature: Some(celsius),
        ..Default::default()
    })
}

struct Feed {
    home: Home,
    f_cnt: u32,
    alerts: Vec<wherry_sensors::Alert>,
}

impl Feed {
    fn new(t: Thresholds) -> Feed {
        Feed {
            home: home(t),
            f_cnt: 0,
            alerts: Vec::new(),
        }
    }

    /// Wakes at every deadline up to `at_ms`, as the scheduler does, then
    /// hands the reading in.
    fn at(&mut self, at_ms: i64, dev_eui: &str, reading: Reading) {
        self.wake(at_ms);
        self.f_cnt += 1;
        let seen = Seen {
            dev_eui,
            f_cnt: self.f_cnt,
            reading: &reading,
            at_ms,
        };
        self.alerts.extend(self.home.observe(seen, at_ms));
    }

    fn wake(&mut self, until_ms: i64) {
        while let Some(due) = self.home.next_deadline().filter(|&d| d <= until_ms) {
            self.alerts.extend(self.home.tick(due));
        }
    }

    /// An ordinary day: up at 07:00, kettle 07:15, drawer 07:40, moving
    /// each hour 07:00–22:00, the room at 20 °C.
    fn ordinary(&mut self, day: Date) {
        let at = |m: i64| local_to_utc(day, m) * 1000;
        let mut readings = vec![
            (at(7 * 60 + 15), KETTLE, plug(2900)),
            (at(7 * 60 + 18), KETTLE, plug(0)),
            (at(7 * 60 + 40), DRAWER, contact(true)),
            (at(7 * 60 + 41), DRAWER, contact(false)),
        ];
        for h in 0..24 {
            readings.push((at(h * 60 + 59), PIR, pir((7..22).contains(&h))));
            readings.push((at(h * 60 + 5), ROOM, room(20.0)));
        }
        readings.sort_by_key(|r| r.0);
        for (t, dev, reading) in readings {
            self.at(t, dev, reading);
        }
    }
}

fn day(n: i64) -> Date {
    Date::new(2026, 11, 1).unwrap().add_days(n)
}

/// The wellbeing alerts' kinds (the tests' partial days leave devices
/// silent, which is the last test's business).
fn kinds(alerts: &[wherry_sensors::Alert]) -> Vec<AlertKind> {
    alerts
        .iter()
        .map(|a| a.kind)
        .filter(|k| k.is_wellbeing())
        .collect()
}

#[test]
fn ordinary_days_raise_nothing_and_a_missed_kettle_alerts_at_the_deadline() {
    let mut f = Feed::new(Thresholds::default());
    for d in 0..7 {
        f.ordinary(day(d));
    }
    assert_eq!(kinds(&f.alerts), vec![], "ordinary days");
    // Day 7: up and about, drawer opened, but no kettle. The latest usual
    // first use is 07:15, so the deadline is 08:15; the scheduler's wake at
    // 08:15 raises it, before any later uplink arrives.
    let at = |m: i64| local_to_utc(day(7), m) * 1000;
    f.at(at(7 * 60 + 40), DRAWER, contact(true));
    f.wake(at(8 * 60 + 14));
    assert_eq!(kinds(&f.alerts), vec![]);
    f.wake(at(9 * 60));
    assert_eq!(kinds(&f.alerts), vec![AlertKind::KettleNotUsed]);
    let a = f.alerts.iter().find(|a| a.kind.is_wellbeing()).unwrap();
    assert_eq!(a.at_ms, at(8 * 60 + 15));
    assert_eq!(a.episode, "2026-11-08");
    assert!(
        a.expected.contains("by 08:15 (usually 07:15"),
        "{}",
        a.expected
    );
    // Later readings do not raise the same episode again.
    f.at(at(9 * 60 + 59), PIR, pir(true));
    f.at(at(10 * 60), KETTLE, plug(0));
    assert_eq!(kinds(&f.alerts).len(), 1);
}

#[test]
fn an_alerted_episode_is_not_raised_again_after_a_restart() {
    let mut f = Feed::new(Thresholds::default());
    for d in 0..6 {
        f.ordinary(day(d));
    }
    let at = |m: i64| local_to_utc(day(6), m) * 1000;
    // Day 6: the motion sensor reports quiet hours from midnight; nothing else.
    let quiet: Vec<i64> = (0..10).map(|h| at(h * 60 + 59)).collect();
    // A restart: a new Home fed the same history, told what was raised.
    let mut again = Feed::new(Thresholds::default());
    for d in 0..6 {
        again.ordinary(day(d));
    }
    for &q in &quiet {
        f.at(q, PIR, pir(false));
        again.at(q, PIR, pir(false));
    }
    again.alerts.clear();
    f.wake(at(10 * 60));
    // Nobody up by 10:00: three usual active hours without movement too.
    assert_eq!(
        kinds(&f.alerts),
        vec![
            AlertKind::KettleNotUsed,
            AlertKind::MedicationNotTaken,
            AlertKind::NoMovement
        ]
    );
    for a in &f.alerts {
        again.home.note_raised(a.kind, &a.episode);
    }
    again.wake(at(10 * 60));
    assert!(again.alerts.is_empty(), "{:?}", again.alerts);
}

#[test]
fn an_episode_whose_alert_was_not_stored_is_raised_again() {
    let mut f = Feed::new(Thresholds::default());
    for d in 0..6 {
        f.ordinary(day(d));
    }
    f.alerts.clear();
    let deadline_passed = local_to_utc(day(6), 12 * 60) * 1000;
    f.at(local_to_utc(day(6), 7 * 60) * 1000, PIR, pir(true));
    f.wake(deadline_passed);
    let raised = f.alerts.clone();
    assert_eq!(
        kinds(&raised),
        vec![AlertKind::KettleNotUsed, AlertKind::MedicationNotTaken]
    );
    f.alerts.clear();
    f.wake(deadline_passed + 60_000);
    assert!(f.alerts.is_empty(), "raised once: {:?}", f.alerts);
    // The store did not take the kettle's: its home forgets it and the
    // next round raises it again, the same episode; the drawer's stays.
    let kettle = raised
        .iter()
        .find(|a| a.kind == AlertKind::KettleNotUsed)
        .unwrap();
    f.home.forget_raised(kettle);
    f.wake(deadline_passed + 120_000);
    assert_eq!(kinds(&f.alerts), vec![AlertKind::KettleNotUsed]);
    let again = f.alerts.iter().find(|a| a.kind == AlertKind::KettleNotUsed);
    assert_eq!(again.map(|a| &a.episode), Some(&kettle.episode));
}

#[test]
fn a_home_not_heard_today_is_offline_not_idle() {
    let mut f = Feed::new(Thresholds::default());
    for d in 0..6 {
        f.ordinary(day(d));
    }
    // Nothing at all on day 6: no wellbeing alert, the devices go silent.
    f.wake(local_to_utc(day(6), 12 * 60) * 1000);
    assert_eq!(kinds(&f.alerts), vec![]);
    assert!(f.alerts.iter().any(|a| a.kind == AlertKind::DeviceSilent));
}

#[test]
fn night_door_no_movement_and_a_cold_room() {
    let mut f = Feed::new(Thresholds::default());
    for d in 0..6 {
        f.ordinary(day(d));
    }
    let at = |m: i64| local_to_utc(day(6), m) * 1000;
    // 02:10: the front door opens.
    f.at(at(2 * 60 + 10), DOOR, contact(true));
    assert_eq!(kinds(&f.alerts), vec![AlertKind::NightDoor]);
    let night = f.alerts.iter().find(|a| a.kind.is_wellbeing()).unwrap();
    assert_eq!(night.episode, "2026-11-06", "the night of the 6th");
    f.at(at(2 * 60 + 12), DOOR, contact(true));
    assert_eq!(kinds(&f.alerts).len(), 1, "one alert a night");
    f.alerts.clear();
    // Morning as usual, then nothing moves from 11:00; the sensor reports
    // quiet hours. Three of the resident's active hours later: 13:59.
    f.at(at(7 * 60 + 15), KETTLE, plug(2900));
    f.at(at(7 * 60 + 40), DRAWER, contact(true));
    for h in 7..11 {
        f.at(at(h * 60 + 59), PIR, pir(true));
    }
    for h in 11..14 {
        f.at(at(h * 60 + 59), PIR, pir(false));
    }
    assert_eq!(kinds(&f.alerts), vec![AlertKind::NoMovement]);
    let still = f.alerts.iter().find(|a| a.kind.is_wellbeing()).unwrap();
    assert_eq!(still.at_ms, at(13 * 60 + 59));
    f.alerts.clear();
    // The room falls below 16 °C at 15:05 and stays there: alerted at 17:05
    // by the scheduler; a warmer reading before that would have cancelled it.
    f.at(at(15 * 60 + 5), ROOM, room(14.0));
    f.wake(at(17 * 60 + 4));
    assert_eq!(kinds(&f.alerts), vec![]);
    f.wake(at(17 * 60 + 5));
    assert_eq!(kinds(&f.alerts), vec![AlertKind::ColdHome]);
    let cold = f
        .alerts
        .iter()
        .find(|a| a.kind == AlertKind::ColdHome)
        .unwrap();
    assert_eq!(cold.expected, "room at 16 °C or above (usually 20.0 °C)");
}

#[test]
fn a_cold_home_with_no_usual_temperature_yet_says_only_what_was_expected() {
    // A home registered this morning: nothing learnt yet.
    let mut f = Feed::new(Thresholds::default());
    let at = |m: i64| local_to_utc(day(0), m) * 1000;
    f.at(at(9 * 60), ROOM, room(12.5));
    f.wake(at(11 * 60));
    let cold: Vec<_> = f
        .alerts
        .iter()
        .filter(|a| a.kind == AlertKind::ColdHome)
        .collect();
    assert_eq!(cold.len(), 1, "{:?}", f.alerts);
    assert_eq!(cold[0].expected, "room at 16 °C or above");
    assert!(cold[0].observed.contains("12.5"), "{}", cold[0].observed);
}

#[test]
fn thresholds_are_the_residents() {
    // Someone who often goes out at night and keeps a cool home.
    let t = Thresholds {
        night_start_min: 0,
        night_end_min: 5 * 60,
        cold_c: 14.0,
        ..Thresholds::default()
    };
    let mut f = Feed::new(t);
    for d in 0..6 {
        f.ordinary(day(d));
    }
    let at = |m: i64| local_to_utc(day(6), m) * 1000;
    f.at(at(23 * 60 + 30 - 24 * 60), DOOR, contact(true));
    f.at(at(5 * 60 + 5), ROOM, room(15.0));
    f.wake(at(7 * 60 + 10));
    assert_eq!(kinds(&f.alerts), vec![], "{:?}", f.alerts);
    f.at(at(3 * 60 + 30), DOOR, contact(true));
    assert_eq!(kinds(&f.alerts), vec![AlertKind::NightDoor]);
}

#[test]
fn silent_devices_and_low_batteries_are_technical() {
    let mut f = Feed::new(Thresholds::default());
    for d in 0..3 {
        f.ordinary(day(d));
    }
    // The room sensor stops at the end of day 2; it reported hourly.
    let last = local_to_utc(day(2), 23 * 60 + 5) * 1000;
    let mut moving = local_to_utc(day(3), 0) * 1000;
    while moving < last + 4 * 3600 * 1000 {
        f.at(moving, PIR, pir(false));
        moving += 3600 * 1000;
    }
    let silent: Vec<_> = f
        .alerts
        .iter()
        .filter(|a| a.kind == AlertKind::DeviceSilent)
        .collect();
    assert_eq!(silent.len(), 1, "{:?}", f.alerts);
    assert_eq!(silent[0].dev_eui.as_deref(), Some(ROOM));
    assert_eq!(silent[0].at_ms, last + 3 * 3600 * 1000);
    assert!(!AlertKind::DeviceSilent.is_wellbeing());
    f.at(
        moving,
        DOOR,
        Reading::Contact(Contact {
            battery: Some(8),
            door: Some(DoorState::Close),
            ..Default::default()
        }),
    );
    assert_eq!(f.alerts.last().map(|a| a.kind), Some(AlertKind::BatteryLow));
}
