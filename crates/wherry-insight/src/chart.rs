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

/// The SVG element `height` high with its accessible name (`<title>`,
/// `<desc>`), a white ground and the title written above the plot.
fn head(s: &mut String, id: &str, title: &str, desc: &str, height: f64) {
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {height}" width="{W}" height="{height}" role="img" aria-labelledby="{id}-title {id}-desc" font-family="Arial, sans-serif" font-size="12"><title id="{id}-title">{t}</title><desc id="{id}-desc">{d}</desc><rect width="{W}" height="{height}" fill="#fff"/><text x="{LEFT}" y="22" font-size="15" font-weight="bold" fill="#0b0c0c">{t}</text>"##,
        t = esc(title),
        d = esc(desc),
    );
}

/// A chart's opening: [`head`], and the value axis from 0 to `top` in
/// `step`s (gridlines, ticks, and `unit` as its label).
fn open(s: &mut String, id: &str, title: &str, desc: &str, unit: &str, top: f64, step: f64) {
    let y = |v: f64| TOP + (H - TOP - BOTTOM) * (1.0 - v / top);
    head(s, id, title, desc, H);
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

/// Rows of a horizontal bar chart: how high a row is, and the room its
/// label has on the left.
const ROW: f64 = 22.0;
const LABELS: f64 = 230.0;

/// Horizontal bars, a row each, for many or long labels: the label on the
/// left, the value at the bar's end, the value axis (labelled `unit`)
/// below. A `None` value is one not shown (suppressed, or not shared) and
/// is written as `missing` where its bar would be.
pub fn rows_svg(
    id: &str,
    title: &str,
    unit: &str,
    bars: &[(String, Option<f64>)],
    missing: &str,
) -> String {
    let max = bars.iter().filter_map(|b| b.1).fold(0.0, f64::max);
    let max = if max > 0.0 { max } else { 1.0 };
    let step = step(max);
    let top = (max / step).ceil() * step;
    let plot = W - LABELS - RIGHT - 48.0;
    let x = |v: f64| LABELS + plot * v / top;
    let bottom = TOP + ROW * bars.len().max(1) as f64;
    let height = bottom + 52.0;
    let value = |v: Option<f64>| match v {
        Some(v) if v.fract() == 0.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.2}"),
        None => missing.to_string(),
    };
    let desc: Vec<String> = bars
        .iter()
        .map(|(l, v)| format!("{l}: {}", value(*v)))
        .collect();
    let mut s = String::new();
    head(
        &mut s,
        id,
        title,
        &format!("{unit}. {}", desc.join("; ")),
        height,
    );
    let mut v = 0.0;
    while v <= top + 1e-9 {
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" x2="{x:.1}" y1="{TOP}" y2="{bottom}" stroke="#dddddd"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" fill="#0b0c0c">{}</text>"##,
            bottom + 16.0,
            (v * 100.0).round() / 100.0,
            x = x(v),
        );
        v += step;
    }
    for (i, (label, v)) in bars.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let shown: String = if label.chars().count() > 34 {
            label.chars().take(33).chain(std::iter::once('…')).collect()
        } else {
            label.clone()
        };
        let end = x(v.unwrap_or(0.0));
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#0b0c0c">{}</text><rect x="{LABELS}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#1d70b8"/><text x="{:.1}" y="{:.1}" fill="#0b0c0c"{}>{}</text>"##,
            LABELS - 8.0,
            y + ROW * 0.68,
            esc(&shown),
            y + ROW * 0.15,
            end - LABELS,
            ROW * 0.7,
            end + 4.0,
            y + ROW * 0.68,
            if v.is_none() {
                r#" font-style="italic""#
            } else {
                ""
            },
            esc(&value(*v)),
        );
    }
    let _ = write!(
        s,
        r##"<line x1="{LABELS}" x2="{LABELS}" y1="{TOP}" y2="{bottom}" stroke="#0b0c0c"/><text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#0b0c0c">{}</text></svg>"##,
        LABELS + plot / 2.0,
        height - 10.0,
        esc(unit),
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

    #[test]
    fn a_row_chart_labels_every_bar_and_says_which_are_not_shown() {
        let bars = [
            ("Aged 80 or over".to_string(), Some(412.0)),
            ("Smoker & <drinker>".to_string(), Some(37.0)),
            ("Oxygen therapy".to_string(), None),
        ];
        let svg = rows_svg("f", "Homes listed by factor", "homes", &bars, "not shared");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(r#"aria-labelledby="f-title f-desc""#));
        assert!(svg.contains("<title id=\"f-title\">Homes listed by factor</title>"));
        assert!(svg.contains(">Smoker &amp; &lt;drinker&gt;</text>"));
        assert!(svg.contains(
            "Aged 80 or over: 412; Smoker &amp; &lt;drinker&gt;: 37; Oxygen therapy: not shared"
        ));
        assert!(svg.contains(">homes</text></svg>"), "the value axis's unit");
        assert_eq!(svg.matches("<rect x=").count(), 3);
        assert!(svg.contains(r#"font-style="italic">not shared</text>"#));
        // The longest bar reaches the axis's top (500), the ticks 0..=500.
        assert!(svg.contains(">500</text>") && !svg.contains(">600</text>"));
        // The chart grows with its rows rather than squeezing them.
        let many: Vec<(String, Option<f64>)> = (0..30)
            .map(|i| (format!("row {i}"), Some(i as f64)))
            .collect();
        let tall = rows_svg("t", "t", "u", &many, "-");
        assert!(tall.contains(&format!("height=\"{}\"", TOP + ROW * 30.0 + 52.0)));
    }
}
