//! A home's day as people read it: each reading turned into an event
//! ("kettle on", "drawer opened", "moving", "19.5 °C"), and the day drawn
//! as an SVG chart against the learnt routine: one row per device, hours
//! along the bottom (UK local time), the usual and latest times of the
//! first kettle use and drawer opening marked, the room's temperature as a
//! line with its own axis in °C. Pure: text in, text out.

use std::fmt::Write as _;

use wherry_core::localtime::{hh_mm, to_local};

use crate::registry::Use;
use crate::routine::{Routine, Thresholds};

/// One thing a device said, as a person reads it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DayEvent {
    /// When (Unix ms).
    pub at_ms: i64,
    /// Local time, `HH:MM`.
    pub time: String,
    /// The device's use.
    pub use_kind: &'static str,
    /// What happened.
    pub what: String,
    /// A temperature, for the line.
    #[serde(skip)]
    pub celsius: Option<f64>,
}

/// The events in a day's readings, each the decoded reading as stored (the
/// vendor's field names): quiet reports left out, temperatures kept.
pub fn day_events(
    readings: &[(Use, i64, serde_json::Value)],
    thresholds: &Thresholds,
) -> Vec<DayEvent> {
    let mut out = Vec::new();
    for (u, at_ms, r) in readings {
        let text = |k: &str| r.get(k).and_then(|v| v.as_str());
        let (what, celsius) = match u {
            Use::Kettle => match r.get("active_power").and_then(|v| v.as_u64()) {
                Some(w) if w >= u64::from(thresholds.kettle_watts) => {
                    (format!("kettle on ({w} W)"), None)
                }
                _ => continue,
            },
            Use::MedicationDrawer if text("door") == Some("open") => {
                ("medication drawer opened".to_string(), None)
            }
            Use::FrontDoor if text("door") == Some("open") => {
                ("front door opened".to_string(), None)
            }
            Use::Motion if text("pir") == Some("trigger") => ("movement".to_string(), None),
            Use::RoomTemperature => match r.get("temperature").and_then(|v| v.as_f64()) {
                Some(t) => (format!("room at {t:.1} °C"), Some(t)),
                None => continue,
            },
            _ => continue,
        };
        out.push(DayEvent {
            at_ms: *at_ms,
            time: hh_mm(to_local(at_ms.div_euclid(1000)).1),
            use_kind: u.code(),
            what,
            celsius,
        });
    }
    out.sort_by_key(|e| e.at_ms);
    out
}

const WIDTH: f64 = 760.0;
const LEFT: f64 = 150.0;
const RIGHT: f64 = 50.0;
const ROW: f64 = 34.0;
const TOP: f64 = 44.0;

const ROWS: [(Use, &str); 5] = [
    (Use::Kettle, "Kettle"),
    (Use::MedicationDrawer, "Medication drawer"),
    (Use::FrontDoor, "Front door"),
    (Use::Motion, "Movement"),
    (Use::RoomTemperature, "Room temperature"),
];

fn x_of(minute: f64) -> f64 {
    LEFT + minute / (24.0 * 60.0) * (WIDTH - LEFT - RIGHT)
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The day's chart: `title` above, the routine's usual times marked, each
/// event a mark in its device's row, temperatures as a line (°C on the
/// right-hand axis). Labelled for screen readers by its title and a
/// description; the page gives the same events as a table.
pub fn day_svg(
    title: &str,
    events: &[DayEvent],
    routine: Option<&Routine>,
    t: &Thresholds,
) -> String {
    let height = TOP + ROW * ROWS.len() as f64 + 60.0;
    let bottom = TOP + ROW * ROWS.len() as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-labelledby="day-chart-title day-chart-desc" class="wherry-chart" font-family="Arial, sans-serif" font-size="13">"##
    );
    let moments = events.iter().filter(|e| e.celsius.is_none()).count();
    let _ = write!(
        s,
        r##"<title id="day-chart-title">{}</title><desc id="day-chart-desc">{} events by hour of the day (UK time) against the usual routine; the table below lists them.</desc>"##,
        esc(title),
        moments
    );
    let _ = write!(
        s,
        r##"<text x="{LEFT}" y="20" font-size="15" font-weight="bold" fill="#0b0c0c">{}</text>"##,
        esc(title)
    );
    // Rows and their labels.
    for (i, (_, label)) in ROWS.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let fill = if i % 2 == 0 { "#f3f2f1" } else { "#ffffff" };
        let _ = write!(
            s,
            r##"<rect x="{LEFT}" y="{y}" width="{}" height="{ROW}" fill="{fill}"/>"##,
            WIDTH - LEFT - RIGHT
        );
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" text-anchor="end" fill="#0b0c0c">{label}</text>"##,
            LEFT - 8.0,
            y + ROW / 2.0 + 4.0
        );
    }
    // The hour axis.
    for h in (0..=24).step_by(3) {
        let x = x_of(f64::from(h) * 60.0);
        let _ = write!(
            s,
            r##"<line x1="{x}" y1="{TOP}" x2="{x}" y2="{bottom}" stroke="#b1b4b6" stroke-width="1"/>"##
        );
        let _ = write!(
            s,
            r##"<text x="{x}" y="{}" text-anchor="middle" fill="#0b0c0c">{h:02}:00</text>"##,
            bottom + 16.0
        );
    }
    let _ = write!(
        s,
        r##"<text x="{}" y="{}" text-anchor="middle" fill="#0b0c0c">Time of day (UK time)</text>"##,
        (LEFT + WIDTH - RIGHT) / 2.0,
        bottom + 36.0
    );
    // The routine: usual (solid) and latest-plus-margin (dashed) times.
    if let Some(r) = routine.filter(|r| r.is_ready()) {
        let marks = [
            (
                0usize,
                r.kettle_usual,
                r.kettle_latest.map(|m| m + t.kettle_margin_min),
            ),
            (
                1,
                r.drawer_usual,
                r.drawer_latest.map(|m| m + t.drawer_margin_min),
            ),
        ];
        for (row, usual, by) in marks {
            let y = TOP + ROW * row as f64;
            if let Some(m) = usual {
                let x = x_of(m as f64);
                let _ = write!(
                    s,
                    r##"<line x1="{x}" y1="{y}" x2="{x}" y2="{}" stroke="#1d70b8" stroke-width="2"><title>usually by {}</title></line>"##,
                    y + ROW,
                    hh_mm(m)
                );
            }
            if let Some(m) = by {
                let x = x_of(m as f64);
                let _ = write!(
                    s,
                    r##"<line x1="{x}" y1="{y}" x2="{x}" y2="{}" stroke="#d4351c" stroke-width="2" stroke-dasharray="4 3"><title>alert if not by {}</title></line>"##,
                    y + ROW,
                    hh_mm(m)
                );
            }
        }
    }
    // The events.
    let mut temps: Vec<(f64, f64)> = Vec::new();
    for e in events {
        let minute = to_local(e.at_ms.div_euclid(1000)).1 as f64;
        let Some(row) = ROWS.iter().position(|(u, _)| u.code() == e.use_kind) else {
            continue;
        };
        if let Some(c) = e.celsius {
            temps.push((minute, c));
            continue;
        }
        let x = x_of(minute);
        let y = TOP + ROW * row as f64 + ROW / 2.0;
        let _ = write!(
            s,
            r##"<circle cx="{x}" cy="{y}" r="5" fill="#00703c"><title>{} {}</title></circle>"##,
            e.time,
            esc(&e.what)
        );
    }
    // Temperatures: 10 to 25 °C across the row, with the cold threshold.
    if !temps.is_empty() {
        let row_top = TOP + ROW * 4.0;
        let y_of = |c: f64| row_top + ROW - ((c.clamp(10.0, 25.0) - 10.0) / 15.0) * ROW;
        let points: Vec<String> = temps
            .iter()
            .map(|(m, c)| format!("{:.1},{:.1}", x_of(*m), y_of(*c)))
            .collect();
        let _ = write!(
            s,
            r##"<polyline points="{}" fill="none" stroke="#912b88" stroke-width="2"/>"##,
            points.join(" ")
        );
        let cold = y_of(t.cold_c);
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" y1="{cold}" x2="{}" y2="{cold}" stroke="#d4351c" stroke-width="1" stroke-dasharray="2 2"><title>cold below {} °C</title></line>"##,
            WIDTH - RIGHT,
            t.cold_c
        );
        let axis = WIDTH - RIGHT + 4.0;
        for c in [10.0, t.cold_c, 25.0] {
            let _ = write!(
                s,
                r##"<text x="{axis}" y="{:.1}" fill="#0b0c0c" font-size="11">{c:.0} °C</text>"##,
                y_of(c) + 4.0
            );
        }
    }
    // The key.
    let ky = height - 8.0;
    let _ = write!(
        s,
        r##"<circle cx="{LEFT}" cy="{}" r="5" fill="#00703c"/><text x="{}" y="{ky}" fill="#0b0c0c">event</text>"##,
        ky - 4.0,
        LEFT + 10.0
    );
    let _ = write!(
        s,
        r##"<line x1="{}" y1="{}" x2="{}" y2="{ky}" stroke="#1d70b8" stroke-width="2"/><text x="{}" y="{ky}" fill="#0b0c0c">usual time</text>"##,
        LEFT + 70.0,
        ky - 10.0,
        LEFT + 70.0,
        LEFT + 78.0
    );
    let _ = write!(
        s,
        r##"<line x1="{}" y1="{}" x2="{}" y2="{ky}" stroke="#d4351c" stroke-width="2" stroke-dasharray="4 3"/><text x="{}" y="{ky}" fill="#0b0c0c">alert if not by</text>"##,
        LEFT + 170.0,
        ky - 10.0,
        LEFT + 170.0,
        LEFT + 178.0
    );
    s.push_str("</svg>");
    s
}

/// A bar chart of `bars` (label, value): `title` above, the value axis
/// labelled with `unit`, each bar's value in its tooltip. Labelled for
/// screen readers; the page gives the same figures as a table.
pub fn bars_svg(id: &str, title: &str, unit: &str, bars: &[(String, u64)]) -> String {
    let (width, height, left, bottom, top) = (760.0, 300.0, 70.0, 250.0, 40.0);
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1) as f64;
    // Round ticks: 1, 2 or 5 times a power of ten, about four of them.
    let raw = (max / 4.0).max(1.0);
    let magnitude = 10f64.powf(raw.log10().floor());
    let tick = magnitude
        * match raw / magnitude {
            f if f <= 1.0 => 1.0,
            f if f <= 2.0 => 2.0,
            f if f <= 5.0 => 5.0,
            _ => 10.0,
        };
    let ticks = (max / tick).ceil().max(1.0) as u32;
    let top_value = tick * f64::from(ticks);
    let y_of = |v: f64| bottom - v / top_value * (bottom - top);
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" aria-labelledby="{id}-title {id}-desc" class="wherry-chart" font-family="Arial, sans-serif" font-size="12">"##
    );
    let _ = write!(
        s,
        r##"<title id="{id}-title">{}</title><desc id="{id}-desc">{} bars, {}; the table below gives the figures.</desc>"##,
        esc(title),
        bars.len(),
        esc(unit)
    );
    let _ = write!(
        s,
        r##"<text x="{left}" y="20" font-size="15" font-weight="bold" fill="#0b0c0c">{}</text>"##,
        esc(title)
    );
    for k in 0..=ticks {
        let v = tick * f64::from(k);
        let y = y_of(v);
        let _ = write!(
            s,
            r##"<line x1="{left}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#b1b4b6" stroke-width="1"/><text x="{}" y="{:.1}" text-anchor="end" fill="#0b0c0c">{v:.0}</text>"##,
            width - 10.0,
            left - 6.0,
            y + 4.0
        );
    }
    let _ = write!(
        s,
        r##"<text x="14" y="{:.1}" transform="rotate(-90 14 {:.1})" text-anchor="middle" fill="#0b0c0c">{}</text>"##,
        (top + bottom) / 2.0,
        (top + bottom) / 2.0,
        esc(unit)
    );
    let slot = (width - 10.0 - left) / bars.len().max(1) as f64;
    for (i, (label, value)) in bars.iter().enumerate() {
        let x = left + slot * i as f64 + slot * 0.15;
        let y = y_of(*value as f64);
        let _ = write!(
            s,
            r##"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="#1d70b8"><title>{}: {value}</title></rect>"##,
            slot * 0.7,
            bottom - y,
            esc(label)
        );
        if bars.len() <= 8 || i % bars.len().div_ceil(8) == 0 {
            let _ = write!(
                s,
                r##"<text x="{:.1}" y="{}" text-anchor="middle" fill="#0b0c0c">{}</text>"##,
                x + slot * 0.35,
                bottom + 16.0,
                esc(label)
            );
        }
    }
    let _ = write!(
        s,
        r##"<line x1="{left}" y1="{bottom}" x2="{}" y2="{bottom}" stroke="#0b0c0c" stroke-width="1"/>"##,
        width - 10.0
    );
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_has_a_title_axes_units_and_a_mark_per_event() {
        let at = |h: i64| (1_795_000_000 / 86_400 * 86_400 + h * 3600) * 1000;
        let readings = vec![
            (
                Use::Kettle,
                at(7),
                serde_json::json!({"active_power": 2900}),
            ),
            (Use::Kettle, at(8), serde_json::json!({"active_power": 0})),
            (
                Use::RoomTemperature,
                at(9),
                serde_json::json!({"temperature": 19.5}),
            ),
            (
                Use::RoomTemperature,
                at(10),
                serde_json::json!({"temperature": 15.0}),
            ),
        ];
        let t = Thresholds::default();
        let events = day_events(&readings, &t);
        assert_eq!(events.len(), 3, "the plug's idle report is not an event");
        assert_eq!(events[0].what, "kettle on (2900 W)");
        let svg = day_svg("Today & <routine>", &events, None, &t);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("<title id=\"day-chart-title\">Today &amp; &lt;routine&gt;</title>"));
        assert!(svg.contains("Time of day (UK time)") && svg.contains("12:00"));
        assert!(svg.contains("16 °C") && svg.contains("<polyline"));
        assert_eq!(
            svg.matches("<circle").count(),
            1 + 1,
            "one event and the key"
        );
    }
}
