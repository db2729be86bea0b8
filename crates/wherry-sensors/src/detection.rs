//! Replaying recorded readings through the rules as the live hub would (a
//! scheduler waking each home at its next deadline), and scoring the alerts
//! against planted anomalies. Used by the detection test and the figures in
//! `docs/benchmarks.md`.

use std::collections::BTreeMap;

use serde::Serialize;
use wherry_lorawan::Reading;

use crate::monitor::{Alert, AlertKind, Home};
use crate::watch::{feed, wake};

/// A reading from a home's device.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Index of the home in the replay's list.
    pub home: usize,
    /// The device.
    pub dev_eui: String,
    /// Its frame counter.
    pub f_cnt: u32,
    /// What it said.
    pub reading: Reading,
    /// When (Unix ms).
    pub at_ms: i64,
}

/// Replays `readings` (in time order per home) through `homes`, waking each
/// home at its deadlines as the scheduler does, up to `end_ms`.
pub fn replay(homes: &mut [Home], readings: &[Recorded], end_ms: i64) -> Vec<Alert> {
    let mut per_home: Vec<Vec<&Recorded>> = vec![Vec::new(); homes.len()];
    for r in readings {
        per_home[r.home].push(r);
    }
    let mut alerts = Vec::new();
    for (home, readings) in homes.iter_mut().zip(per_home) {
        for r in readings {
            alerts.extend(feed(home, &r.dev_eui, r.f_cnt, &r.reading, r.at_ms));
        }
        alerts.extend(wake(home, end_ms));
    }
    alerts
}

/// An anomaly planted in recorded data.
#[derive(Debug, Clone)]
pub struct Planted {
    /// The resident.
    pub person_id: String,
    /// The alert it should raise.
    pub kind: AlertKind,
    /// When it began (Unix ms).
    pub start_ms: i64,
    /// When it ended.
    pub end_ms: i64,
}

/// How long after a planted anomaly ends an alert still counts for it.
pub const GRACE_MS: i64 = 2 * 3600 * 1000;

/// Detection of one kind of anomaly.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KindScore {
    /// Anomalies planted.
    pub planted: usize,
    /// Of those, alerted.
    pub alerted: usize,
    /// The longest wait from the anomaly's start to its alert, minutes.
    pub max_delay_min: i64,
}

/// How alerts compare with planted anomalies.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Score {
    /// Per anomaly kind (its alert's code).
    pub kinds: BTreeMap<&'static str, KindScore>,
    /// Wellbeing alerts outside every planted anomaly of their home, per kind.
    pub false_alerts: BTreeMap<&'static str, usize>,
    /// Technical alerts raised.
    pub technical: usize,
}

impl Score {
    /// Share of planted anomalies alerted.
    pub fn detected_share(&self) -> f64 {
        let (p, a) = self
            .kinds
            .values()
            .fold((0, 0), |(p, a), k| (p + k.planted, a + k.alerted));
        if p == 0 { 0.0 } else { a as f64 / p as f64 }
    }

    /// False wellbeing alerts in all.
    pub fn false_total(&self) -> usize {
        self.false_alerts.values().sum()
    }
}

/// Scores `alerts` against `planted`.
pub fn score(alerts: &[Alert], planted: &[Planted]) -> Score {
    let mut s = Score::default();
    for p in planted {
        let k = s.kinds.entry(p.kind.code()).or_default();
        k.planted += 1;
        let first = alerts
            .iter()
            .filter(|a| {
                a.person_id == p.person_id
                    && a.kind == p.kind
                    && (p.start_ms..=p.end_ms + GRACE_MS).contains(&a.at_ms)
            })
            .map(|a| a.at_ms)
            .min();
        if let Some(at) = first {
            k.alerted += 1;
            k.max_delay_min = k.max_delay_min.max((at - p.start_ms) / 60_000);
        }
    }
    for a in alerts {
        if !a.kind.is_wellbeing() {
            s.technical += 1;
            continue;
        }
        let explained = planted.iter().any(|p| {
            p.person_id == a.person_id && (p.start_ms..=p.end_ms + GRACE_MS).contains(&a.at_ms)
        });
        if !explained {
            *s.false_alerts.entry(a.kind.code()).or_default() += 1;
        }
    }
    s
}
