//! Charts people read rather than tables: SVG with a title, labelled axes
//! and units, and an accessible name (`role="img"`, `<title>` and
//! `<desc>`). Pure: numbers in, text out.

use std::fmt::Write as _;

use crate::forecast::Forecast;

const W: f64 = 720.0;
const H: f64 = 320.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 56.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A chart's opening: the SVG element with its accessible name, the
/// title, and the value axis from 0 to `top` in `step`s (gridlines,
/// ticks, and `unit` as its label).
fn open(s: &mut String, id: &str, title: &str, desc: &str, unit: &str, top: f64, step: f64) {
    let y = |v: f64| TOP + (H - TOP - BOTTOM) * (1.0 - v / top);
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-labelledby="{id}-title {id}-desc" font-family="Arial, sans-serif" font-size="12"><title id="{id}-title">{t}</title><desc id="{id}-desc">{d}</desc><rect width="{W}" height="{H}" fill="#fff"/><text x="{LEFT}" y="22" font-size="15" font-weight="bold" fill="#0b0c0c">{t}</text>"##,
        t = esc(title),
        d = esc(desc),
    );
    let mut v = 0.0;
    while v <= top + 1e-9 {
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#dddddd"/><text x="{}" y="{:.1}" text-anchor="end" fill="#0b0c0c">{}</text>"##,
            W - RIGHT,
            LEFT - 6.0,
            y(v) + 4.0,
            (v * 100.0).round() / 100.0,
            y = y(v),
        );
        v += step;
    }
    let _ = write!(
        s,
        r##"<text transform="translate(14 {:.1}) rotate(-90)" text-anchor="middle" fill="#0b0c0c">{}</text>"##,
        TOP + (H - TOP - BOTTOM) / 2.0,
        esc(unit)
    );
}

/// A round step for an axis up to `max` in about five ticks.
fn step(max: f64) -> f64 {
    let raw = (max / 5.0).max(1e-9);
    let p = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * p)
}

/// Monthly counts and their forecast: the history as a solid line, the
/// forecast dashed with its 80% and 95% intervals as bands. `id` makes
/// the element ids unique on a page.
pub fn forecast_svg(
    id: &str,
    title: &str,
    unit: &str,
    months: &[String],
    history: &[f64],
    forecast_months: &[String],
    forecast: &[Forecast],
) -> String {
    let n = months.len() + forecast_months.len();
    let max = history
        .iter()
        .copied()
        .chain(forecast.iter().map(|f| f.hi95))
        .fold(0.0, f64::max)
        .max(1.0);
    let step = step(max);
    let top = (max / step).ceil() * step;
    let x = |i: usize| LEFT + (W - LEFT - RIGHT) * (i as f64 + 0.5) / n.max(1) as f64;
    let y = |v: f64| TOP + (H - TOP - BOTTOM) * (1.0 - v / top);
    let mut s = String::new();
    let desc = match (history.last(), forecast.last(), forecast_months.last()) {
        (Some(h), Some(f), Some(m)) => format!(
            "{} months of history, latest {h:.0} {unit}; forecast for {m}: {:.0} (95% interval {:.0} to {:.0}).",
            history.len(),
            f.mean,
            f.lo95,
            f.hi95
        ),
        _ => "No history.".to_string(),
    };
    open(&mut s, id, title, &desc, unit, top, step);
    // The x axis: every third month labelled.
    let all: Vec<&String> = months.iter().chain(forecast_months).collect();
    for (i, m) in all.iter().enumerate() {
        if i % 3 == 0 || i + 1 == all.len() {
            let _ = write!(
                s,
                r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#0b0c0c">{m}</text>"##,
                x(i),
                H - BOTTOM + 16.0
            );
        }
    }
    let _ = write!(
        s,
        r##"<line x1="{LEFT}" x2="{}" y1="{b}" y2="{b}" stroke="#0b0c0c"/><text x="{:.1}" y="{}" text-anchor="middle" fill="#0b0c0c">Month (history, then forecast)</text>"##,
        W - RIGHT,
        LEFT + (W - LEFT - RIGHT) / 2.0,
        H - 12.0,
        b = H - BOTTOM,
    );
    // The bands, then the lines.
    let h0 = months.len();
    type Bound = fn(&Forecast) -> f64;
    let bands: [(Bound, Bound, &str); 2] = [
        (|f| f.lo95, |f| f.hi95, "#cfe3f3"),
        (|f| f.lo80, |f| f.hi80, "#9cc4e6"),
    ];
    for (lo, hi, fill) in bands {
        if forecast.is_empty() {
            break;
        }
        let upper: Vec<String> = forecast
            .iter()
            .enumerate()
            .map(|(k, f)| format!("{:.1},{:.1}", x(h0 + k), y(hi(f))))
            .collect();
        let lower: Vec<String> = forecast
            .iter()
            .enumerate()
            .rev()
            .map(|(k, f)| format!("{:.1},{:.1}", x(h0 + k), y(lo(f))))
            .collect();
        let _ = write!(
            s,
            r##"<polygon points="{} {}" fill="{fill}"/>"##,
            upper.join(" "),
            lower.join(" ")
        );
    }
    let line = |points: Vec<(usize, f64)>| -> String {
        points
            .iter()
            .map(|(i, v)| format!("{:.1},{:.1}", x(*i), y(*v)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let _ = write!(
        s,
        r##"<polyline points="{}" fill="none" stroke="#1d70b8" stroke-width="2.5"/>"##,
        line(history.iter().copied().enumerate().collect())
    );
    if let Some(last) = history.last() {
        let mut pts = vec![(h0 - 1, *last)];
        pts.extend(forecast.iter().enumerate().map(|(k, f)| (h0 + k, f.mean)));
        let _ = write!(
            s,
            r##"<polyline points="{}" fill="none" stroke="#0b0c0c" stroke-width="2" stroke-dasharray="6 4"/>"##,
            line(pts)
        );
    }
    let _ = write!(
        s,
        r##"<text x="{}" y="{}" text-anchor="end" fill="#0b0c0c">solid: recorded; dashed: forecast; bands: 80% and 95% intervals</text></svg>"##,
        W - RIGHT,
        TOP - 6.0
    );
    s
}

/// Bars, one a label, with their values written on them: `unit` labels
/// the value axis, `axis` the bars'.
pub fn bars_svg(id: &str, title: &str, unit: &str, axis: &str, bars: &[(String, f64)]) -> String {
    let max = bars.iter().map(|b| b.1).fold(0.0, f64::max);
    let max = if max > 0.0 { max } else { 1.0 };
    let step = step(max);
    let top = (max / step).ceil() * step;
    let n = bars.len().max(1) as f64;
    let slot = (W - LEFT - RIGHT) / n;
    let y = |v: f64| TOP + (H - TOP - BOTTOM) * (1.0 - v / top);
    let desc: Vec<String> = bars.iter().map(|(l, v)| format!("{l}: {v:.2}")).collect();
    let mut s = String::new();
    open(&mut s, id, title, &desc.join("; "), unit, top, step);
    for (i, (label, value)) in bars.iter().enumerate() {
        let x = LEFT + slot * i as f64 + slot * 0.2;
        let w = slot * 0.6;
        let fill = if i % 2 == 0 { "#1d70b8" } else { "#003078" };
        let _ = write!(
            s,
            r##"<rect x="{x:.1}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="{fill}"/><text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#0b0c0c">{value:.2}</text><text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#0b0c0c">{}</text>"##,
            y(*value),
            (H - BOTTOM) - y(*value),
            x + w / 2.0,
            y(*value) - 4.0,
            x + w / 2.0,
            H - BOTTOM + 16.0,
            esc(label),
        );
    }
    let _ = write!(
        s,
        r##"<line x1="{LEFT}" x2="{}" y1="{b}" y2="{b}" stroke="#0b0c0c"/><text x="{:.1}" y="{}" text-anchor="middle" fill="#0b0c0c">{}</text></svg>"##,
        W - RIGHT,
        LEFT + (W - LEFT - RIGHT) / 2.0,
        H - 12.0,
        esc(axis),
        b = H - BOTTOM,
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_has_a_title_labelled_axes_and_an_accessible_name() {
        let months: Vec<String> = (1..=12).map(|m| format!("2026-{m:02}")).collect();
        let f = Forecast {
            mean: 10.0,
            lo80: 8.0,
            hi80: 12.0,
            lo95: 6.0,
            hi95: 14.0,
        };
        let svg = forecast_svg(
            "c1",
            "Reablement <contacts>",
            "contacts a month",
            &months,
            &[9.0; 12],
            &["2027-01".to_string()],
            &[f],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(
            svg.contains(r#"role="img""#) && svg.contains(r#"aria-labelledby="c1-title c1-desc""#)
        );
        assert!(svg.contains("<title id=\"c1-title\">Reablement &lt;contacts&gt;</title>"));
        assert!(svg.contains("contacts a month") && svg.contains("Month (history, then forecast)"));
        assert!(svg.contains("2026-01") && svg.contains("2027-01"));
        assert!(svg.contains("95% interval 6 to 14"), "{svg}");
        assert_eq!(svg.matches("<polygon").count(), 2);
        assert_eq!(step(9.0), 2.0);
        assert_eq!(step(0.135), 0.05);
        let bars = bars_svg(
            "b",
            "Outcome contacts",
            "contacts per resident",
            "group and window",
            &[
                ("Cohort, before".into(), 0.4),
                ("Cohort, after".into(), 0.2),
            ],
        );
        assert!(bars.contains(r#"role="img""#) && bars.contains("contacts per resident"));
        assert!(bars.contains("group and window") && bars.contains("Cohort, after: 0.20"));
        assert_eq!(bars.matches("<rect x=").count(), 2);
        assert_eq!(step(1234.0), 500.0);
    }
}
