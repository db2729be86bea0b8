//! UK local time (GMT in winter, BST in summer): routines are lived in it,
//! uplinks carry UTC. Times are Unix seconds.

use crate::Date;

/// The last Sunday of a 31-day month.
fn last_sunday(year: i32, month: u8) -> i64 {
    let end = Date::new(year, month, 31).expect("a 31-day month");
    // weekday(): Monday 0 … Sunday 6.
    end.days_since_epoch() - i64::from((end.weekday() + 1) % 7)
}

/// A year's bounds and its summer time's, in UTC seconds.
#[derive(Clone, Copy)]
struct Year {
    from: i64,
    to: i64,
    bst_from: i64,
    bst_to: i64,
}

impl Year {
    fn of(utc_secs: i64) -> Year {
        let year = Date::from_days_since_epoch(utc_secs.div_euclid(86_400)).year();
        let first = |y: i32| Date::new(y, 1, 1).expect("1 January").days_since_epoch() * 86_400;
        Year {
            from: first(year),
            to: first(year + 1),
            bst_from: last_sunday(year, 3) * 86_400 + 3600,
            bst_to: last_sunday(year, 10) * 86_400 + 3600,
        }
    }
}

thread_local! {
    /// The year last asked about: routines ask about the same one again
    /// and again.
    static LAST_YEAR: std::cell::Cell<Option<Year>> = const { std::cell::Cell::new(None) };
}

/// UK local time's offset from UTC in seconds at `utc_secs` (BST: from 01:00
/// UTC on the last Sunday of March to 01:00 UTC on the last Sunday of October).
pub fn uk_offset(utc_secs: i64) -> i64 {
    let year = LAST_YEAR.with(|cached| match cached.get() {
        Some(y) if (y.from..y.to).contains(&utc_secs) => y,
        _ => {
            let y = Year::of(utc_secs);
            cached.set(Some(y));
            y
        }
    });
    if (year.bst_from..year.bst_to).contains(&utc_secs) {
        3600
    } else {
        0
    }
}

/// Minutes after local midnight at `utc_secs` (without the date).
pub fn local_minute(utc_secs: i64) -> i64 {
    (utc_secs + uk_offset(utc_secs)).rem_euclid(86_400) / 60
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
        assert_eq!(local_minute(at(2026, 7, 1, 7) + 59), 8 * 60);
        // Asked about another year, then this one again.
        assert_eq!(uk_offset(at(2025, 7, 1, 0)), 3600);
        assert_eq!(uk_offset(at(2026, 12, 1, 0)), 0);
    }
}
