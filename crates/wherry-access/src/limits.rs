//! Per-caller rate limits: a token bucket for each user (API token, OpenID
//! Connect user or web session's user), refilled at the configured rate up
//! to the burst. A caller over the limit is told how long to wait; others
//! are not slowed.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use serde::Deserialize;

/// Per-caller rate limits (`[limits]` in the server's configuration).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Sustained requests per second.
    pub requests_per_second: f64,
    /// Requests allowed at once above the sustained rate (0: no limit).
    pub burst: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            requests_per_second: 50.0,
            burst: 100,
        }
    }
}

/// Failed authentications allowed per client address: 10 at once, then
/// one every 6 seconds.
pub const AUTH_FAILURES: Limits = Limits {
    requests_per_second: 1.0 / 6.0,
    burst: 10,
};

/// The buckets.
#[derive(Debug)]
pub struct RateLimiter {
    limits: Limits,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// Buckets for `limits`.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `caller`'s bucket: `Err(seconds to wait)`
    /// when it is empty.
    pub fn take(&self, caller: &str) -> Result<(), u64> {
        self.take_at(caller, Instant::now())
    }

    /// Whether `caller`'s bucket holds a request, without taking one:
    /// `Err(seconds to wait)` when it is empty.
    pub fn check(&self, caller: &str) -> Result<(), u64> {
        self.check_at(caller, Instant::now())
    }

    fn check_at(&self, caller: &str, now: Instant) -> Result<(), u64> {
        if self.limits.burst == 0 {
            return Ok(());
        }
        let buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let Some((tokens, at)) = buckets.get(caller) else {
            return Ok(());
        };
        let rate = self.limits.requests_per_second;
        let tokens = (tokens + now.duration_since(*at).as_secs_f64() * rate)
            .min(f64::from(self.limits.burst));
        if tokens >= 1.0 {
            Ok(())
        } else {
            Err(((1.0 - tokens) / rate).ceil().max(1.0) as u64)
        }
    }

    fn take_at(&self, caller: &str, now: Instant) -> Result<(), u64> {
        if self.limits.burst == 0 {
            return Ok(());
        }
        let burst = f64::from(self.limits.burst);
        let rate = self.limits.requests_per_second;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > 100_000 {
            // Full buckets are as good as none: drop them.
            buckets.retain(|_, (t, at)| *t + now.duration_since(*at).as_secs_f64() * rate < burst);
        }
        let (tokens, at) = buckets.entry(caller.to_string()).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * rate).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / rate).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_caller_gets_the_burst_then_the_rate_and_others_are_untouched() {
        let l = RateLimiter::new(Limits {
            requests_per_second: 2.0,
            burst: 3,
        });
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.take_at("a", t0), Ok(()));
        }
        assert_eq!(l.take_at("a", t0), Err(1));
        assert_eq!(
            l.take_at("b", t0),
            Ok(()),
            "another caller has their own bucket"
        );
        let later = t0 + Duration::from_millis(500);
        assert_eq!(
            l.take_at("a", later),
            Ok(()),
            "one more after half a second at 2/s"
        );
        assert!(l.take_at("a", later).is_err());
        assert!(l.check_at("a", later).is_err(), "checking takes nothing");
        assert_eq!(l.check_at("never-seen", later), Ok(()));
        let off = RateLimiter::new(Limits {
            requests_per_second: 1.0,
            burst: 0,
        });
        assert!((0..1000).all(|_| off.take_at("a", t0).is_ok()));
    }
}
