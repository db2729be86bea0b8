//! UK local time (GMT or BST) for routines, and UTC timestamps for uplinks.

use wherry_core::Date;

/// Seconds since the epoch as RFC 3339 UTC with milliseconds.
pub fn rfc3339(secs: i64, millis: u16) -> String {
    let d = Date::from_days_since_epoch(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{d}T{:02}:{:02}:{:02}.{millis:03}Z",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

fn last_sunday(year: i32, month: u8) -> Date {
    let mut d =
        Date::new(year, month, wherry_core::date::days_in_month(year, month)).expect("month end");
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

/// UTC seconds of a local wall-clock time (minutes after local midnight) on `day`.
pub(super) fn local_to_utc(day: Date, minute: i64) -> i64 {
    let naive = day.days_since_epoch() * 86_400 + minute * 60;
    naive - uk_offset(naive - 3600)
}
