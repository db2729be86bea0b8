//! Open data: the street and library counters' counts per hour or day at
//! each place (`GET /api/v1/open-data/counters`, and the page
//! `/open-data` with a chart per place). Counters count public places,
//! never a person, so these need no sign-in; home devices are never in
//! them.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wherry_core::Date;
use wherry_sensors::counters::{Count, CounterReading, aggregate};

use crate::ui::session::Who;
use crate::{ApiError, AppState};

/// `?from=YYYY-MM-DD&to=YYYY-MM-DD&period=hour|day`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CountQuery {
    from: Option<String>,
    to: Option<String>,
    period: Option<String>,
}

/// A place and its counts.
#[derive(Debug, Serialize)]
pub(crate) struct Place {
    place: String,
    #[serde(rename = "use")]
    use_kind: String,
    dev_eui: String,
    lat: Option<f64>,
    lon: Option<f64>,
    /// `a` and `b`'s meaning: left to right and right to left, or in and out.
    directions: [&'static str; 2],
    counts: Vec<Count>,
}

/// Longest span asked for at once, days.
const MAX_DAYS: i64 = 92;

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_query", message)
}

/// The counts per place from `from` to `to` (local days, inclusive).
async fn places(
    state: &AppState,
    from: Date,
    to: Date,
    daily: bool,
) -> Result<Vec<Place>, ApiError> {
    use wherry_core::localtime::local_to_utc;
    let rows = state
        .store()
        .counter_uplinks(
            local_to_utc(from, 0) * 1000,
            local_to_utc(to.add_days(1), 0) * 1000,
        )
        .await?;
    let mut by_device: BTreeMap<String, (Place, Vec<CounterReading>)> = BTreeMap::new();
    for r in rows {
        let Ok(use_kind) = r.use_kind.parse::<wherry_sensors::Use>() else {
            continue;
        };
        let entry = by_device.entry(r.dev_eui.clone()).or_insert_with(|| {
            let directions = if use_kind == wherry_sensors::Use::Traffic {
                ["left_to_right", "right_to_left"]
            } else {
                ["in", "out"]
            };
            let place = Place {
                place: r.place.clone(),
                use_kind: use_kind.code().to_string(),
                dev_eui: r.dev_eui.clone(),
                lat: r.lat,
                lon: r.lon,
                directions,
                counts: Vec::new(),
            };
            (place, Vec::new())
        });
        entry.1.push(CounterReading {
            dev_eui: r.dev_eui,
            use_kind,
            at_ms: r.time_ms,
            reading: serde_json::from_str(&r.reading).unwrap_or(Value::Null),
        });
    }
    Ok(by_device
        .into_values()
        .map(|(mut place, readings)| {
            place.counts = aggregate(&readings, daily);
            place
        })
        .collect())
}

fn span(q: &CountQuery) -> Result<(Date, Date, bool), ApiError> {
    let today = wherry_core::localtime::to_local(wherry_core::clock::unix_seconds()).0;
    let day = |v: &Option<String>, name: &str, default: Date| match v {
        Some(d) => Date::parse(d).map_err(|e| bad(format!("{name}: {e}"))),
        None => Ok(default),
    };
    let to = day(&q.to, "to", today)?;
    let from = day(&q.from, "from", to.add_days(-6))?;
    if from > to || to.days_since_epoch() - from.days_since_epoch() >= MAX_DAYS {
        return Err(bad(format!(
            "from must be on or before to, at most {MAX_DAYS} days apart"
        )));
    }
    let daily = match q.period.as_deref().unwrap_or("day") {
        "day" => true,
        "hour" => false,
        _ => return Err(bad("period must be hour or day")),
    };
    Ok((from, to, daily))
}

/// `GET /api/v1/open-data/counters`: counts per place and hour or day.
pub(crate) async fn counters(
    State(state): State<Arc<AppState>>,
    query: Result<Query<CountQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| bad(e.body_text()))?;
    let (from, to, daily) = span(&q)?;
    let places = places(&state, from, to, daily).await?;
    Ok(Json(json!({
        "from": from.to_string(), "to": to.to_string(),
        "period": if daily { "day" } else { "hour" },
        "licence": "Open Government Licence v3.0",
        "places": places,
    })))
}

/// `GET /open-data`: each place's last fortnight, a chart and a table.
pub(crate) async fn page(
    State(state): State<Arc<AppState>>,
    who: Result<Who, Response>,
) -> Response {
    let who = who.ok();
    let today = wherry_core::localtime::to_local(wherry_core::clock::unix_seconds()).0;
    let (from, to) = (today.add_days(-13), today);
    let places = match places(&state, from, to, true).await {
        Ok(p) => p,
        Err(e) => return axum::response::IntoResponse::into_response(e),
    };
    let shown: Vec<_> = places
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (noun, both) = if p.use_kind == "traffic" {
                ("vehicles", "both ways")
            } else {
                ("visitors", "in")
            };
            let bars: Vec<(String, u64)> = p
                .counts
                .iter()
                .map(|c| {
                    let label = crate::ui::render::govuk_date(&c.period);
                    let short = label
                        .rsplit_once(' ')
                        .map_or(label.clone(), |(d, _)| d.to_string());
                    (
                        short,
                        if p.use_kind == "traffic" {
                            c.a + c.b
                        } else {
                            c.a
                        },
                    )
                })
                .collect();
            let title = format!("{}: {noun} a day ({both})", p.place);
            let chart =
                wherry_sensors::chart::bars_svg(&format!("counter-{i}"), &title, noun, &bars);
            context! {place => p.place, title, chart, rows => bars, noun}
        })
        .collect();
    crate::ui::render::page(
        StatusCode::OK,
        "open_data.html",
        context! {
            title => "Open data: street and library counters",
            user => who.as_ref().map(Who::ctx), csrf => who.as_ref().map(|w| w.csrf.clone()),
            places => shown, from => from.to_string(), to => to.to_string(),
        },
    )
}
