//! UTC timestamps for uplinks; UK local time is `wherry_core::localtime`'s.

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

pub use wherry_core::localtime::{local_to_utc, uk_offset};
