//! The clock, read in one place: timestamps as the store and the audit
//! log keep them (RFC 3339, UTC, whole seconds); a monotonic [`Clock`] for
//! expiry (sessions, caches) that a test can move by hand; and lower-case
//! hex for hashes and random ids.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::Date;

/// A moment on a [`Clock`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(Duration);

impl Instant {
    /// How long after `earlier` this is (zero if it is not after).
    pub fn since(self, earlier: Instant) -> Duration {
        self.0.saturating_sub(earlier.0)
    }
}

/// A monotonic clock for expiry: the system's, or one that moves only when
/// a test moves it ([`Clock::manual`], [`Clock::advance`]).
#[derive(Debug, Clone)]
pub struct Clock {
    origin: std::time::Instant,
    /// Wall-clock milliseconds when a manual clock was made.
    wall_origin: i64,
    manual: Option<Arc<Mutex<Duration>>>,
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl Clock {
    /// The system's monotonic clock.
    pub fn system() -> Self {
        Self {
            origin: std::time::Instant::now(),
            wall_origin: unix_ms(),
            manual: None,
        }
    }

    /// A clock standing still until [`Clock::advance`] moves it (for tests).
    pub fn manual() -> Self {
        Self {
            origin: std::time::Instant::now(),
            wall_origin: unix_ms(),
            manual: Some(Arc::new(Mutex::new(Duration::ZERO))),
        }
    }

    /// Moves a manual clock on by `by` (a system clock is not moved).
    pub fn advance(&self, by: Duration) {
        if let Some(m) = &self.manual {
            *m.lock().unwrap_or_else(|e| e.into_inner()) += by;
        }
    }

    /// Now.
    pub fn now(&self) -> Instant {
        match &self.manual {
            Some(m) => Instant(*m.lock().unwrap_or_else(|e| e.into_inner())),
            None => Instant(self.origin.elapsed()),
        }
    }
}

impl Clock {
    /// Wall-clock milliseconds since the Unix epoch (what is shared with
    /// other processes, as stored sessions are): the system's, or a manual
    /// clock's start moved on as it has been moved.
    pub fn unix_ms(&self) -> i64 {
        match &self.manual {
            Some(m) => {
                let moved = *m.lock().unwrap_or_else(|e| e.into_inner());
                self.wall_origin + moved.as_millis() as i64
            }
            None => unix_ms(),
        }
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Seconds since the Unix epoch, now.
pub fn unix_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `secs` since the Unix epoch as RFC 3339 UTC: `2026-12-01T22:28:37Z`.
pub fn rfc3339(secs: i64) -> String {
    let d = Date::from_days_since_epoch(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!("{d}T{:02}:{:02}:{:02}Z", s / 3600, s % 3600 / 60, s % 60)
}

/// The current time, RFC 3339 UTC (seconds).
pub fn now() -> String {
    rfc3339(unix_seconds())
}

/// Lower-case hexadecimal of `bytes` (without a formatter per byte: this is
/// on ingest's path for every row).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_and_hex() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_796_164_117), "2026-12-01T22:28:37Z");
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert!(now().ends_with('Z') && now().len() == 20);
    }

    #[test]
    fn a_manual_clock_moves_only_when_moved() {
        let c = Clock::manual();
        let t0 = c.now();
        assert_eq!(c.now().since(t0), Duration::ZERO);
        c.clone().advance(Duration::from_secs(90));
        assert_eq!(c.now().since(t0), Duration::from_secs(90));
        assert_eq!(t0.since(c.now()), Duration::ZERO);
    }
}
