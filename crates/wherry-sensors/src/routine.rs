//! A home's routine: what its sensors say of each local day, and what
//! fourteen such days say is usual. Pure: no clock, no store.
//!
//! A day ([`Day`]) keeps only what the rules need: the first kettle use and
//! first medication-drawer opening (minutes after local midnight), the
//! drawer's openings, the hours with movement, whether the front door
//! opened at night, and the room's temperatures. [`Routine::learn`] reads
//! the days before today: the usual time (median) and the latest usual time
//! (90th percentile) of the first kettle use and drawer opening, the hours
//! the resident is usually up and about, how many nights the door is used,
//! and the usual room temperature.

use serde::{Deserialize, Serialize};

/// Days of routine learnt.
pub const LEARN_DAYS: usize = 14;

/// Days needed before a routine is trusted: until then no rule that
/// compares a day with the routine fires (cold and technical rules do).
pub const MIN_DAYS: usize = 4;

/// The share of days with movement in an hour that makes it an hour the
/// resident is usually up and about.
const ACTIVE_SHARE: f64 = 0.8;

/// What can be adjusted per resident. Times are minutes after local midnight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// A kettle is in use above this power, watts.
    pub kettle_watts: u32,
    /// A rise in the plug's energy total that shows a use missed, Wh.
    pub kettle_energy_wh: u32,
    /// Minutes after the latest usual first kettle use before an alert.
    pub kettle_margin_min: i64,
    /// Minutes after the latest usual first drawer opening before an alert.
    pub drawer_margin_min: i64,
    /// Hours the resident is usually up without any movement before an alert.
    pub no_movement_hours: i64,
    /// Night begins (front door use is unusual), minutes after midnight.
    pub night_start_min: i64,
    /// Night ends, minutes after midnight.
    pub night_end_min: i64,
    /// A room below this is cold, °C.
    pub cold_c: f64,
    /// Minutes a room must stay cold before an alert.
    pub cold_min: i64,
    /// Battery at or below this is low, percent.
    pub battery_low_percent: u8,
    /// A device silent for this many of its reporting intervals is missing.
    pub silent_intervals: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            kettle_watts: 1000,
            kettle_energy_wh: 40,
            kettle_margin_min: 60,
            drawer_margin_min: 60,
            no_movement_hours: 3,
            night_start_min: 23 * 60,
            night_end_min: 6 * 60,
            cold_c: 16.0,
            cold_min: 120,
            battery_low_percent: 10,
            silent_intervals: 3,
        }
    }
}

impl Thresholds {
    /// Checks the values make sense; names the first that does not.
    pub fn check(&self) -> Result<(), String> {
        let minute = |m: i64| (0..24 * 60).contains(&m);
        let rules: [(&str, bool); 8] = [
            (
                "kettle_watts must be 1 to 5000",
                (1..=5000).contains(&self.kettle_watts),
            ),
            (
                "kettle_margin_min must be 0 to 600",
                (0..=600).contains(&self.kettle_margin_min),
            ),
            (
                "drawer_margin_min must be 0 to 600",
                (0..=600).contains(&self.drawer_margin_min),
            ),
            (
                "no_movement_hours must be 1 to 24",
                (1..=24).contains(&self.no_movement_hours),
            ),
            (
                "night_start_min and night_end_min must be minutes of a day",
                minute(self.night_start_min) && minute(self.night_end_min),
            ),
            (
                "cold_c must be 5 to 25",
                (5.0..=25.0).contains(&self.cold_c),
            ),
            (
                "cold_min must be 10 to 1440",
                (10..=1440).contains(&self.cold_min),
            ),
            (
                "battery_low_percent must be below 100 and silent_intervals 2 to 48",
                self.battery_low_percent < 100 && (2..=48).contains(&self.silent_intervals),
            ),
        ];
        match rules.iter().find(|(_, ok)| !ok) {
            Some((rule, _)) => Err((*rule).to_string()),
            None => Ok(()),
        }
    }

    /// Whether a minute after local midnight is at night.
    pub fn is_night(&self, minute: i64) -> bool {
        if self.night_start_min <= self.night_end_min {
            (self.night_start_min..self.night_end_min).contains(&minute)
        } else {
            minute >= self.night_start_min || minute < self.night_end_min
        }
    }
}

/// One local day of a home, as the rules need it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Day {
    /// First kettle use, minutes after midnight.
    pub kettle_first: Option<i64>,
    /// Medication drawer openings, minutes after midnight, in arrival order.
    pub drawer_opens: Vec<i64>,
    /// Hours (bit per hour) with movement.
    pub motion_hours: u32,
    /// Hours (bit per hour) the motion sensor reported at all.
    pub reported_hours: u32,
    /// The front door opened at night.
    pub night_door: bool,
    /// Room temperatures read, °C.
    pub temperatures: Vec<f64>,
}

impl Day {
    /// The first drawer opening.
    pub fn drawer_first(&self) -> Option<i64> {
        self.drawer_opens.iter().copied().min()
    }
}

/// What is usual for a home.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Routine {
    /// Days it was learnt from.
    pub days: usize,
    /// Usual first kettle use (median), minutes after midnight.
    pub kettle_usual: Option<i64>,
    /// Latest usual first kettle use (90th percentile).
    pub kettle_latest: Option<i64>,
    /// Usual first drawer opening (median).
    pub drawer_usual: Option<i64>,
    /// Latest usual first drawer opening (90th percentile).
    pub drawer_latest: Option<i64>,
    /// Drawer openings on a usual day (median).
    pub drawer_per_day: f64,
    /// Hours (bit per hour) with movement on most days: when the resident
    /// is up and about.
    pub active_hours: u32,
    /// Share of days with movement, per hour.
    pub motion_by_hour: Vec<f64>,
    /// Nights the front door was used.
    pub night_door_nights: usize,
    /// Usual room temperature (median of the days' medians), °C.
    pub usual_temperature: Option<f64>,
}

impl Routine {
    /// Learns from up to [`LEARN_DAYS`] days (the most recent last).
    pub fn learn(days: &[&Day]) -> Routine {
        let days = &days[days.len().saturating_sub(LEARN_DAYS)..];
        let kettle: Vec<i64> = days.iter().filter_map(|d| d.kettle_first).collect();
        let drawer: Vec<i64> = days.iter().filter_map(|d| d.drawer_first()).collect();
        let mut motion_by_hour = vec![0.0; 24];
        let mut active_hours = 0u32;
        for (h, share) in motion_by_hour.iter_mut().enumerate() {
            let reported = days.iter().filter(|d| d.reported_hours >> h & 1 == 1);
            let (n, moved) = reported.fold((0usize, 0usize), |(n, m), d| {
                (n + 1, m + usize::from(d.motion_hours >> h & 1 == 1))
            });
            if n > 0 {
                *share = moved as f64 / n as f64;
                if n * 2 >= days.len() && *share >= ACTIVE_SHARE {
                    active_hours |= 1 << h;
                }
            }
        }
        let medians: Vec<f64> = days
            .iter()
            .filter_map(|d| median_f(&d.temperatures))
            .collect();
        let mut openings: Vec<f64> = days
            .iter()
            .filter(|d| !d.drawer_opens.is_empty())
            .map(|d| d.drawer_opens.len() as f64)
            .collect();
        openings.sort_by(f64::total_cmp);
        Routine {
            days: days.len(),
            kettle_usual: quantile(&kettle, 0.5),
            kettle_latest: quantile(&kettle, 0.9),
            drawer_usual: quantile(&drawer, 0.5),
            drawer_latest: quantile(&drawer, 0.9),
            drawer_per_day: openings.get(openings.len() / 2).copied().unwrap_or(0.0),
            active_hours,
            motion_by_hour,
            night_door_nights: days.iter().filter(|d| d.night_door).count(),
            usual_temperature: median_f(&medians),
        }
    }

    /// Whether enough days have been seen to compare a day with it.
    pub fn is_ready(&self) -> bool {
        self.days >= MIN_DAYS
    }

    /// Whether the resident is usually up and about in a local hour.
    pub fn is_active_hour(&self, hour: i64) -> bool {
        (0..24).contains(&hour) && self.active_hours >> hour & 1 == 1
    }

    /// Whether using the front door at night is part of the routine (more
    /// than one night in seven).
    pub fn uses_door_at_night(&self) -> bool {
        self.night_door_nights * 7 > self.days
    }
}

/// The `q` quantile (nearest rank) of some minutes.
fn quantile(values: &[i64], q: f64) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_unstable();
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    Some(v[rank - 1])
}

fn median_f(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(kettle: i64, drawer: i64, active: std::ops::Range<u32>) -> Day {
        let motion: u32 = active.map(|h| 1 << h).sum();
        Day {
            kettle_first: Some(kettle),
            drawer_opens: vec![drawer, 20 * 60],
            motion_hours: motion,
            reported_hours: (1 << 24) - 1,
            night_door: false,
            temperatures: vec![19.5, 20.5, 20.0],
        }
    }

    #[test]
    fn learns_usual_and_latest_times_and_active_hours() {
        let days: Vec<Day> = (0..10)
            .map(|i| day(7 * 60 + i * 5, 8 * 60 + i * 3, 7..22))
            .collect();
        let refs: Vec<&Day> = days.iter().collect();
        let r = Routine::learn(&refs);
        assert!(r.is_ready());
        // Ten first uses 07:00..07:45: median the 5th (07:20), 90th the 9th (07:40).
        assert_eq!(r.kettle_usual, Some(7 * 60 + 20));
        assert_eq!(r.kettle_latest, Some(7 * 60 + 40));
        assert_eq!(r.drawer_latest, Some(8 * 60 + 24));
        assert_eq!(r.drawer_per_day, 2.0);
        assert!(r.is_active_hour(7) && r.is_active_hour(21));
        assert!(!r.is_active_hour(6) && !r.is_active_hour(22));
        assert_eq!(r.usual_temperature, Some(20.0));
        assert!(!r.uses_door_at_night());
    }

    #[test]
    fn a_few_days_are_not_a_routine_and_old_days_are_forgotten() {
        let early: Vec<Day> = (0..3).map(|_| day(7 * 60, 8 * 60, 7..22)).collect();
        let refs: Vec<&Day> = early.iter().collect();
        assert!(!Routine::learn(&refs).is_ready());
        // Twenty days: the first six (kettle at 05:00) fall out of the window.
        let days: Vec<Day> = (0..20)
            .map(|i| day(if i < 6 { 5 * 60 } else { 9 * 60 }, 8 * 60, 7..22))
            .collect();
        let refs: Vec<&Day> = days.iter().collect();
        let r = Routine::learn(&refs);
        assert_eq!(r.days, LEARN_DAYS);
        assert_eq!(r.kettle_usual, Some(9 * 60));
    }

    #[test]
    fn nights_wrap_past_midnight_and_thresholds_are_checked() {
        let t = Thresholds::default();
        assert!(t.is_night(23 * 60 + 30) && t.is_night(2 * 60) && !t.is_night(6 * 60));
        assert!(t.check().is_ok());
        let bad = Thresholds {
            no_movement_hours: 0,
            ..Thresholds::default()
        };
        assert_eq!(
            bad.check().unwrap_err(),
            "no_movement_hours must be 1 to 24"
        );
    }
}
