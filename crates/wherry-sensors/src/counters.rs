//! Street and library counters as open data: each counter's readings
//! turned into counts per hour and per day (UK local time) at its place.
//!
//! A counter reports the counts of its last period and its running totals.
//! The totals recover periods whose uplinks were lost, so counts come from
//! the difference of consecutive totals; where a total went down, the
//! device either wrapped (the PCR2's totals are 16-bit) or was reset
//! (powered off, replaced), and the period's own count is taken instead.
//! The first reading of a device counts its period. Pure: readings in,
//! counts out.

use std::collections::BTreeMap;

use serde::Serialize;
use wherry_core::localtime::to_local;

use crate::registry::Use;

/// One counter's reading, as stored (the vendor's field names).
#[derive(Debug, Clone)]
pub struct CounterReading {
    /// The device.
    pub dev_eui: String,
    /// `traffic` or `footfall`.
    pub use_kind: Use,
    /// When (Unix ms).
    pub at_ms: i64,
    /// The decoded reading.
    pub reading: serde_json::Value,
}

/// What a reading says: the period's counts each way and the running
/// totals, with the totals' range (they wrap there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Said {
    period: (u64, u64),
    totals: Option<(u64, u64)>,
    wraps_at: u64,
}

fn said(use_kind: Use, r: &serde_json::Value) -> Option<Said> {
    let n = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_u64());
    match use_kind {
        Use::Traffic => Some(Said {
            period: (n(r, "LTR")?, n(r, "RTL")?),
            totals: n(r, "LTR_SUM").zip(n(r, "RTL_SUM")),
            wraps_at: 1 << 16,
        }),
        Use::Footfall => {
            let line = r.get("line_1")?;
            Some(Said {
                period: (
                    n(line, "period_in").unwrap_or(0),
                    n(line, "period_out").unwrap_or(0),
                ),
                totals: n(line, "total_in").zip(n(line, "total_out")),
                wraps_at: 1 << 32,
            })
        }
        _ => None,
    }
}

/// Counts since the previous total: the difference, across a wrap; or,
/// when the total went down further than a wrap explains (a reset), the
/// period's own count.
fn since(prev: u64, now: u64, period: u64, wraps_at: u64) -> u64 {
    if now >= prev {
        now - prev
    } else {
        let wrapped = now + wraps_at - prev;
        // A wrap adds about one period's worth; a reset throws a total away.
        if wrapped <= period.saturating_mul(4).max(1000) {
            wrapped
        } else {
            period
        }
    }
}

/// Counts at a place in one hour or day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count {
    /// The device.
    pub dev_eui: String,
    /// `traffic` (left to right, right to left) or `footfall` (in, out).
    #[serde(rename = "use")]
    pub use_kind: &'static str,
    /// The local hour (`2026-11-20T08`) or day (`2026-11-20`).
    pub period: String,
    /// Left to right, or in.
    pub a: u64,
    /// Right to left, or out.
    pub b: u64,
}

/// Hourly or daily counts per device, in time order (`daily` sums the
/// hours of each local day).
pub fn aggregate(readings: &[CounterReading], daily: bool) -> Vec<Count> {
    let mut by_device: BTreeMap<&str, Vec<&CounterReading>> = BTreeMap::new();
    for r in readings {
        by_device.entry(r.dev_eui.as_str()).or_default().push(r);
    }
    let mut out = Vec::new();
    for (eui, mut rs) in by_device {
        rs.sort_by_key(|r| r.at_ms);
        let mut buckets: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        let mut prev: Option<(u64, u64)> = None;
        let mut use_code = "";
        for r in rs {
            let Some(s) = said(r.use_kind, &r.reading) else {
                continue;
            };
            use_code = r.use_kind.code();
            let counts = match (prev, s.totals) {
                (Some((pa, pb)), Some((ta, tb))) => (
                    since(pa, ta, s.period.0, s.wraps_at),
                    since(pb, tb, s.period.1, s.wraps_at),
                ),
                _ => s.period,
            };
            if s.totals.is_some() {
                prev = s.totals;
            }
            // A report just after the hour counts the hour before it.
            let (day, minute) = to_local((r.at_ms - 60_000).div_euclid(1000));
            let key = if daily {
                day.to_string()
            } else {
                format!("{day}T{:02}", minute / 60)
            };
            let b = buckets.entry(key).or_default();
            b.0 += counts.0;
            b.1 += counts.1;
        }
        out.extend(buckets.into_iter().map(|(period, (a, b))| Count {
            dev_eui: eui.to_string(),
            use_kind: use_code,
            period,
            a,
            b,
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn traffic(at_h: i64, ltr: u64, sum: u64) -> CounterReading {
        CounterReading {
            dev_eui: "70b3d57ed0045391".into(),
            use_kind: Use::Traffic,
            // 2026-11-20 (GMT), a minute before the hour's end.
            at_ms: (1_795_132_800 + at_h * 3600 + 3540) * 1000,
            reading: json!({"LTR": ltr, "RTL": 0, "LTR_SUM": sum, "RTL_SUM": 0}),
        }
    }

    #[test]
    fn totals_recover_lost_periods_across_a_wrap_and_a_reset() {
        let readings = vec![
            traffic(6, 100, 65_400),
            // 07:00's uplink lost; 08:00's total says 300 passed since.
            traffic(8, 150, 164), // 65,400 + 300 wraps to 164
            traffic(9, 120, 284),
            // The counter was reset: its total starts again.
            traffic(10, 90, 90),
            traffic(11, 80, 170),
        ];
        let hours = aggregate(&readings, false);
        let got: Vec<(&str, u64)> = hours.iter().map(|c| (&c.period[11..], c.a)).collect();
        assert_eq!(
            got,
            vec![
                ("06", 100),
                ("08", 300),
                ("09", 120),
                ("10", 90),
                ("11", 80)
            ]
        );
        let days = aggregate(&readings, true);
        assert_eq!(
            (days.len(), days[0].a, days[0].period.as_str()),
            (1, 690, "2026-11-20")
        );
    }

    #[test]
    fn footfall_counts_people_in_and_out() {
        let r = |h: i64, pin: u64, tin: u64| CounterReading {
            dev_eui: "70b3d57ed0045392".into(),
            use_kind: Use::Footfall,
            at_ms: (1_795_132_800 + h * 3600 + 3540) * 1000,
            reading: json!({"line_1": {"period_in": pin, "period_out": pin, "total_in": tin, "total_out": tin}}),
        };
        let hours = aggregate(&[r(9, 20, 1020), r(10, 35, 1055)], false);
        assert_eq!(
            hours.iter().map(|c| (c.a, c.b)).collect::<Vec<_>>(),
            vec![(20, 20), (35, 35)]
        );
        assert_eq!(hours[0].use_kind, "footfall");
    }
}
