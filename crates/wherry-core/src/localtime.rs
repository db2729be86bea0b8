//! UK local time (GMT in winter, BST in summer): routines are lived in it,
//! uplinks carry UTC. Times are Unix seconds.

use crate::Date;

fn last_sunday(year: i32, month: u8) -> Date {
    let mut d = Date::new(year, month, crate::date::days_in_month(year, month)).expect("month end");
    while d.weekday() != 6 {
        d = d.add_days(-1);
    }
    d
}

/// UK local time's offset from UTC in seconds at `utc_secs` (BST: from 01:00
/// UTC on the last Sunday of March to 01:00 UTC on the last Sunday of October).
pub fn uk_offset(utc_secs: i64) -> i64 {
    let year = Date::from_days_since_epoch(utc_secs.div_euclid(86_400)).year();
    let start = last_sunday(year, 3).days_since_epoch() * 86_400 + 3600;
    let end = last_sunday(year, 10).days_since_epoch() * 86_400 + 3600;
    if (start..end).contains(&utc_secs) {
        3600
    } else {
        0
    }
}

/// UTC seconds of a local wall-clock time (minutes after local midnight) on
/// `day`. Minutes past 24 hours run into the next day.
pub fn local_to_utc(day: Date, minute: i64) -> i64 {
    let naive = day.days_since_epoch() * 86_400 + minute * 60;
    naive - uk_offset(naive - 3600)
}

/// The local day and minute of the day at `utc_secs`.
pub fn to_local(utc_secs: i64) -> (Date, i64) {
    let local = utc_secs + uk_offset(utc_secs);
    (
        Date::from_days_since_epoch(local.div_euclid(86_400)),
        local.rem_euclid(86_400) / 60,
    )
}

/// Minutes after midnight as `HH:MM`.
pub fn hh_mm(minute: i64) -> String {
    let m = minute.rem_euclid(24 * 60);
    format!("{:02}:{:02}", m / 60, m % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u8, d: u8, h: i64) -> i64 {
        Date::new(y, m, d).unwrap().days_since_epoch() * 86_400 + h * 3600
    }

    #[test]
    fn bst_starts_and_ends_on_the_last_sundays() {
        // 2026: BST from 29 March 01:00 UTC to 25 October 01:00 UTC.
        assert_eq!(uk_offset(at(2026, 3, 29, 0)), 0);
        assert_eq!(uk_offset(at(2026, 3, 29, 1)), 3600);
        assert_eq!(uk_offset(at(2026, 10, 25, 0)), 3600);
        assert_eq!(uk_offset(at(2026, 10, 25, 1)), 0);
    }

    #[test]
    fn local_times_round_trip_in_summer_and_winter() {
        for day in [
            Date::new(2026, 7, 1).unwrap(),
            Date::new(2026, 12, 1).unwrap(),
        ] {
            for minute in [0, 7 * 60 + 45, 23 * 60 + 59] {
                assert_eq!(to_local(local_to_utc(day, minute)), (day, minute));
            }
        }
        // 08:00 BST is 07:00 UTC.
        let july = Date::new(2026, 7, 1).unwrap();
        assert_eq!(local_to_utc(july, 8 * 60), at(2026, 7, 1, 7));
        assert_eq!(hh_mm(7 * 60 + 5), "07:05");
    }
}
