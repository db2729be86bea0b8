//! Forecasting monthly contacts: Wherry's model, the seasonal-naive
//! baseline, and rolling-origin back-testing. Pure.
//!
//! **The model.** A service's seasonal shape is the same in every area
//! (winter pressure on care does not stop at a postcode boundary), so it
//! is estimated once per service from the service's county-wide totals,
//! where it is clear, rather than from each area's small and noisy counts:
//! the seasonal index of a calendar month is the mean of that month's
//! totals over the training years divided by the mean month, normalised to
//! average 1. Each area's level is then the exponentially smoothed
//! deseasonalised count (the smoothing weight chosen from a grid by the
//! smallest one-step squared error on the area's own history). The
//! forecast for `h` months ahead is the level times the index of that
//! calendar month. Prediction intervals are normal around it, with the
//! one-step errors' variance growing as simple exponential smoothing's
//! does (`σ²(1 + (h−1)α²)`), cut at zero.
//!
//! **The baseline.** Seasonal naive: the same month a year before.
//!
//! **Back-testing.** From every origin with at least [`MIN_TRAIN`] months
//! behind it, each method forecasts up to [`HORIZON`] months ahead from
//! that history alone; the errors are scaled by the series' in-sample
//! mean absolute one-month change (MASE with a one-step naive scale: a
//! seasonal-naive scale needs more than a year of history before the
//! first origin, which two years of history cannot give), and averaged
//! over every series, origin and step.

/// Months ahead forecast.
pub const HORIZON: usize = 6;

/// The fewest months of history a forecast is made from (a whole year,
/// so every calendar month has been seen).
pub const MIN_TRAIN: usize = 12;

const ALPHAS: [f64; 10] = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.7, 0.9];

/// One month's forecast, with 80% and 95% prediction intervals.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Forecast {
    /// The expected count.
    pub mean: f64,
    /// 80% interval.
    pub lo80: f64,
    /// 80% interval.
    pub hi80: f64,
    /// 95% interval.
    pub lo95: f64,
    /// 95% interval.
    pub hi95: f64,
}

/// The seasonal index of each calendar month (0 = the month of
/// `first`'s position, i.e. index `t % 12` for a series starting at month
/// position `first`), from `totals` (a service's county-wide monthly
/// totals). Months with no history get 1.
pub fn seasonal_indices(totals: &[f64], first: usize) -> [f64; 12] {
    let mut sum = [0.0; 12];
    let mut n = [0usize; 12];
    for (t, v) in totals.iter().enumerate() {
        let c = (first + t) % 12;
        sum[c] += v;
        n[c] += 1;
    }
    let mean = totals.iter().sum::<f64>() / totals.len().max(1) as f64;
    let mut s = [1.0; 12];
    if mean <= 0.0 {
        return s;
    }
    for c in 0..12 {
        if n[c] > 0 {
            s[c] = (sum[c] / n[c] as f64) / mean;
        }
    }
    let avg = s.iter().sum::<f64>() / 12.0;
    if avg > 0.0 {
        for v in &mut s {
            *v /= avg;
        }
    }
    s
}

/// The smoothed level after `d` with weight `alpha`, and the one-step
/// errors on the original scale (`y − level·index`).
fn smooth(y: &[f64], idx: &[f64], alpha: f64) -> (f64, Vec<f64>) {
    let d: Vec<f64> = y
        .iter()
        .zip(idx)
        .map(|(v, s)| if *s > 0.0 { v / s } else { *v })
        .collect();
    let warm = d.len().clamp(1, 6);
    let mut level = d.iter().take(warm).sum::<f64>() / warm as f64;
    let mut errors = Vec::with_capacity(d.len());
    for (t, dt) in d.iter().enumerate() {
        errors.push(y[t] - level * idx[t]);
        level += alpha * (dt - level);
    }
    (level, errors)
}

/// Wherry's forecast of `y` (monthly counts whose first month has
/// calendar position `first`, `0..12` from any fixed month) for the next
/// `horizon` months, given the service's seasonal indices.
pub fn forecast(y: &[f64], first: usize, seasonal: &[f64; 12], horizon: usize) -> Vec<Forecast> {
    if y.is_empty() {
        return vec![
            Forecast {
                mean: 0.0,
                lo80: 0.0,
                hi80: 0.0,
                lo95: 0.0,
                hi95: 0.0,
            };
            horizon
        ];
    }
    let idx: Vec<f64> = (0..y.len()).map(|t| seasonal[(first + t) % 12]).collect();
    let (alpha, level, errors) = ALPHAS
        .iter()
        .map(|&a| {
            let (level, errors) = smooth(y, &idx, a);
            (a, level, errors)
        })
        .min_by(|a, b| {
            let sse = |e: &[f64]| e.iter().skip(1).map(|x| x * x).sum::<f64>();
            sse(&a.2).total_cmp(&sse(&b.2))
        })
        .expect("a grid");
    let n = errors.len().saturating_sub(1).max(1) as f64;
    let sigma2 = errors.iter().skip(1).map(|e| e * e).sum::<f64>() / n;
    (1..=horizon)
        .map(|h| {
            let mean = (level * seasonal[(first + y.len() + h - 1) % 12]).max(0.0);
            let sd = (sigma2 * (1.0 + (h as f64 - 1.0) * alpha * alpha)).sqrt();
            Forecast {
                mean,
                lo80: (mean - 1.2816 * sd).max(0.0),
                hi80: mean + 1.2816 * sd,
                lo95: (mean - 1.96 * sd).max(0.0),
                hi95: mean + 1.96 * sd,
            }
        })
        .collect()
}

/// The seasonal-naive forecast `h` months (from 1) after `y`: the same
/// month a year before (the last value when the history is shorter).
pub fn seasonal_naive(y: &[f64], h: usize) -> f64 {
    let n = y.len();
    if n == 0 {
        return 0.0;
    }
    let back = 12 - ((h - 1) % 12);
    if n >= back { y[n - back] } else { y[n - 1] }
}

/// The MASE scale of a history: its mean absolute one-month change
/// (`None` for a flat or one-month history, which cannot scale an error).
pub fn scale(y: &[f64]) -> Option<f64> {
    if y.len() < 2 {
        return None;
    }
    let s = y.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / (y.len() - 1) as f64;
    (s > 0.0).then_some(s)
}

/// One back-test forecast.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Trial {
    /// The series (an index into the caller's list).
    pub series: usize,
    /// Months of history used (the origin).
    pub origin: usize,
    /// Months ahead, from 1.
    pub h: usize,
    /// What happened.
    pub actual: f64,
    /// Wherry's forecast.
    pub wherry: f64,
    /// Seasonal naive's.
    pub naive: f64,
    /// The series' scale at the origin.
    pub scale: f64,
}

/// Rolling-origin back-test over a service's `series` (each the same
/// months, first at calendar position `first`): every origin from
/// [`MIN_TRAIN`] months, every step to [`HORIZON`] that has an actual;
/// the seasonal indices re-estimated from the history before each origin.
pub fn backtest(series: &[Vec<f64>], first: usize) -> Vec<Trial> {
    let months = series.iter().map(Vec::len).max().unwrap_or(0);
    let mut out = Vec::new();
    for origin in MIN_TRAIN..months {
        let totals: Vec<f64> = (0..origin)
            .map(|t| {
                series
                    .iter()
                    .map(|s| s.get(t).copied().unwrap_or(0.0))
                    .sum()
            })
            .collect();
        let seasonal = seasonal_indices(&totals, first);
        for (i, y) in series.iter().enumerate() {
            let history = &y[..origin.min(y.len())];
            let Some(sc) = scale(history) else {
                continue;
            };
            let f = forecast(history, first, &seasonal, HORIZON);
            for h in 1..=HORIZON {
                let Some(&actual) = y.get(origin + h - 1) else {
                    break;
                };
                out.push(Trial {
                    series: i,
                    origin,
                    h,
                    actual,
                    wherry: f[h - 1].mean,
                    naive: seasonal_naive(history, h),
                    scale: sc,
                });
            }
        }
    }
    out
}

/// Mean absolute scaled error of Wherry's and seasonal naive's forecasts
/// over `trials` (`None` without any).
pub fn mase(trials: &[Trial]) -> Option<(f64, f64)> {
    if trials.is_empty() {
        return None;
    }
    let n = trials.len() as f64;
    let w = trials
        .iter()
        .map(|t| (t.actual - t.wherry).abs() / t.scale)
        .sum::<f64>();
    let s = trials
        .iter()
        .map(|t| (t.actual - t.naive).abs() / t.scale)
        .sum::<f64>();
    Some((w / n, s / n))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A seasonal series: `base` times a winter peak, plus a
    /// deterministic wobble.
    fn seasonal(base: f64, months: usize, wobble: u64) -> Vec<f64> {
        (0..months)
            .map(|t| {
                let season = 1.0 + 0.35 * (std::f64::consts::TAU * t as f64 / 12.0).cos();
                let noise = (((t as u64 + 1) * 2654435761 + wobble) % 1000) as f64 / 1000.0 - 0.5;
                (base * season + noise * base * 0.1).round()
            })
            .collect()
    }

    #[test]
    fn indices_average_one_and_peak_where_the_totals_do() {
        let y = seasonal(100.0, 24, 1);
        let s = seasonal_indices(&y, 0);
        assert!((s.iter().sum::<f64>() / 12.0 - 1.0).abs() < 1e-9);
        let peak = (0..12).max_by(|a, b| s[*a].total_cmp(&s[*b])).unwrap();
        assert!(peak == 0 || peak == 11 || peak == 1, "{s:?}");
        assert_eq!(seasonal_indices(&[0.0; 5], 0), [1.0; 12]);
    }

    #[test]
    fn the_model_beats_seasonal_naive_on_noisy_seasonal_series() {
        let series: Vec<Vec<f64>> = (0..8)
            .map(|i| seasonal(20.0 + 5.0 * i as f64, 23, i))
            .collect();
        let trials = backtest(&series, 0);
        assert!(!trials.is_empty());
        assert!(
            trials
                .iter()
                .all(|t| t.origin >= MIN_TRAIN && t.h <= HORIZON)
        );
        let (w, n) = mase(&trials).unwrap();
        assert!(w < n, "wherry {w} against naive {n}");
    }

    #[test]
    fn intervals_hold_the_mean_widen_with_the_horizon_and_stay_non_negative() {
        let y = seasonal(10.0, 18, 3);
        let s = seasonal_indices(&y, 0);
        let f = forecast(&y, 0, &s, HORIZON);
        assert_eq!(f.len(), HORIZON);
        for x in &f {
            assert!(x.lo95 <= x.lo80 && x.lo80 <= x.mean && x.mean <= x.hi80 && x.hi80 <= x.hi95);
            assert!(x.lo95 >= 0.0);
        }
        assert!(f[5].hi95 - f[5].mean >= f[0].hi95 - f[0].mean - 1e-9);
        assert_eq!(forecast(&[], 0, &s, 2).len(), 2);
    }

    #[test]
    fn seasonal_naive_is_the_same_month_last_year() {
        let y: Vec<f64> = (0..14).map(f64::from).collect();
        assert_eq!(seasonal_naive(&y, 1), 2.0);
        assert_eq!(seasonal_naive(&y, 6), 7.0);
        assert_eq!(seasonal_naive(&y[..3], 1), 2.0);
        assert_eq!(scale(&[4.0, 4.0]), None);
        assert_eq!(scale(&[1.0, 3.0, 2.0]), Some(1.5));
    }
}
