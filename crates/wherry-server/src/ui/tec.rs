//! The TEC team's pages: open alerts by urgency (wellbeing apart from the
//! devices' technical alerts), and a page per home with its devices
//! (battery, signal, last heard), the day's events against the learnt
//! routine as a chart with the same events as a table, and the alert
//! history, where an alert is acknowledged or resolved with a note. Every
//! read goes through `wherry_access::sensors` (the `tec_sensors`
//! agreement, audited).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use minijinja::context;
use serde::Deserialize;
use wherry_access::sensors::Step;
use wherry_core::localtime::{hh_mm, to_local};
use wherry_sensors::Use;
use wherry_sensors::chart::{day_events, day_svg};
use wherry_store::sensor_alerts::StoredAlert;

use super::render::{OrPage, Page, page};
use super::session::{Acting, Posted};
use crate::AppState;

/// An alert as the pages show it.
#[derive(Debug, serde::Serialize)]
pub(crate) struct Shown {
    id: i64,
    person_id: String,
    kind: String,
    urgency: &'static str,
    when: String,
    expected: String,
    observed: String,
    status: String,
    acknowledged: String,
    resolved: String,
}

fn when(ms: i64) -> String {
    let (day, minute) = to_local(ms.div_euclid(1000));
    format!(
        "{} at {}",
        super::render::govuk_date(&day.to_string()),
        hh_mm(minute)
    )
}

pub(crate) fn shown(a: &StoredAlert) -> Shown {
    let step = |s: &Option<wherry_store::sensor_alerts::Step>| {
        s.as_ref().map_or(String::new(), |s| {
            let note = if s.note.is_empty() {
                String::new()
            } else {
                format!(": {}", s.note)
            };
            format!("{} by {}{note}", when(s.at_ms), s.by)
        })
    };
    Shown {
        id: a.id,
        person_id: a.person_id.clone(),
        kind: super::render::code_label(&a.kind),
        urgency: match a.urgency {
            1 => "Urgent",
            2 => "Today",
            _ => "When you can",
        },
        when: when(a.due_ms),
        expected: a.expected.clone(),
        observed: a.observed.clone(),
        status: a.status.clone(),
        acknowledged: step(&a.acknowledged),
        resolved: step(&a.resolved),
    }
}

/// `GET /tec`: open and acknowledged alerts, most urgent first.
pub(crate) async fn alerts(State(state): State<Arc<AppState>>, acting: Acting) -> Page {
    let who = &acting.who;
    let alerts = state
        .access
        .sensor_alerts(&acting.caller, None, false, acting.request.as_str())
        .await
        .or_page(who)?;
    let (wellbeing, technical): (Vec<&StoredAlert>, Vec<&StoredAlert>) =
        alerts.iter().partition(|a| a.wellbeing);
    let wellbeing: Vec<Shown> = wellbeing.into_iter().map(shown).collect();
    let technical: Vec<Shown> = technical.into_iter().map(shown).collect();
    // The homes watched, each with its devices and open alerts.
    let devices = state
        .access
        .sensor_devices(&acting.caller, acting.request.as_str())
        .await
        .or_page(who)?;
    let mut homes: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    for d in &devices {
        if let Some(p) = &d.device.person_id {
            homes.entry(p.clone()).or_default().0 += 1;
        }
    }
    for a in &alerts {
        if let Some(h) = homes.get_mut(&a.person_id) {
            h.1 += 1;
        }
    }
    let homes: Vec<_> = homes
        .into_iter()
        .map(|(person, (devices, open))| context! {person, devices, open})
        .collect();
    Ok(page(
        StatusCode::OK,
        "tec_alerts.html",
        context! {
            title => "Sensor alerts", user => who.ctx(), csrf => who.csrf, homes,
            sections => vec![
                context! {id => "wellbeing-alerts", caption => "Wellbeing alerts", rows => wellbeing},
                context! {id => "technical-alerts", caption => "Device alerts", rows => technical},
            ],
        },
    ))
}

/// `?date=YYYY-MM-DD`.
#[derive(Debug, Deserialize)]
pub(crate) struct DayQuery {
    date: Option<String>,
}

/// `GET /tec/homes/{person}`: one home's devices, day and alerts.
pub(crate) async fn home(
    State(state): State<Arc<AppState>>,
    Path(person): Path<String>,
    query: Result<Query<DayQuery>, axum::extract::rejection::QueryRejection>,
    acting: Acting,
) -> Page {
    let who = &acting.who;
    let date = query
        .ok()
        .and_then(|Query(q)| q.date)
        .filter(|d| !d.is_empty());
    let (day, from, to) = crate::sensors::day_bounds(date.as_deref()).or_page(who)?;
    let home = state
        .access
        .home_sensors(&acting.caller, &person, from, to, acting.request.as_str())
        .await
        .or_page(who)?;
    let uses: std::collections::HashMap<&str, Use> = home
        .devices
        .iter()
        .filter_map(|d| Some((d.device.dev_eui.as_str(), d.device.use_kind.parse().ok()?)))
        .collect();
    let readings: Vec<(Use, i64, serde_json::Value)> = home
        .readings
        .iter()
        .filter_map(|u| {
            let reading = serde_json::from_str(&u.reading).ok()?;
            Some((*uses.get(u.dev_eui.as_str())?, u.time_ms, reading))
        })
        .collect();
    let thresholds: wherry_sensors::Thresholds = home
        .thresholds
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default();
    let events = day_events(&readings, &thresholds);
    let routine = if home.withheld.contains(&"readings") {
        None
    } else {
        crate::sensors::routine_of(&state, &person, from)
    };
    let date_label = super::render::govuk_date(&day.to_string());
    let chart = (!home.withheld.contains(&"readings")).then(|| {
        day_svg(
            &format!("The home on {date_label}"),
            &events,
            routine.as_ref(),
            &thresholds,
        )
    });
    let devices: Vec<_> = home
        .devices
        .iter()
        .map(|d| {
            context! {
                dev_eui => d.device.dev_eui, use_kind => super::render::code_label(&d.device.use_kind),
                model => d.device.model,
                battery => d.battery.map(|b| format!("{b:.0}%")).unwrap_or_else(|| "not reported".into()),
                signal => d.rssi.map(|r| format!("{r} dBm")).unwrap_or_else(|| "not reported".into()),
                last_seen => d.last_seen_ms.map(when).unwrap_or_else(|| "never".into()),
                consent => if d.device.consent_withdrawn_ms.is_some() { "withdrawn" } else { "given" },
            }
        })
        .collect();
    let alerts: Vec<Shown> = home.alerts.iter().map(shown).collect();
    let usual = routine.as_ref().filter(|r| r.is_ready()).map(|r| {
        context! {
            kettle => r.kettle_usual.map(hh_mm), drawer => r.drawer_usual.map(hh_mm),
            temperature => r.usual_temperature.map(|t| format!("{t:.1} °C")), days => r.days,
        }
    });
    let temps: Vec<f64> = events.iter().filter_map(|e| e.celsius).collect();
    let room = (!temps.is_empty()).then(|| {
        let low = temps.iter().copied().fold(f64::INFINITY, f64::min);
        let high = temps.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        format!("between {low:.1} °C and {high:.1} °C")
    });
    let shown_events: Vec<_> = events.iter().filter(|e| e.celsius.is_none()).collect();
    Ok(page(
        StatusCode::OK,
        "tec_home.html",
        context! {
            title => "A home's sensors", user => who.ctx(), csrf => who.csrf, person,
            date => day.to_string(), date_label, previous => day.add_days(-1).to_string(),
            next => day.add_days(1).to_string(), devices, alerts, chart, events => shown_events,
            usual, room, withheld => home.withheld,
        },
    ))
}

/// `POST /tec/alerts/{id}` (`action` = `acknowledge` or `resolve`, `note`,
/// `back` = the home's person id or empty): the step, then the page again.
pub(crate) async fn alert_step(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    posted: Posted,
) -> Page {
    let (acting, form) = posted.acting(&state).await?;
    let who = &acting.who;
    let step = match form.get("action").map(String::as_str) {
        Some("acknowledge") => Step::Acknowledge,
        Some("resolve") => Step::Resolve,
        _ => {
            return Err(super::render::failed(
                who,
                crate::ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_form",
                    "choose acknowledge or resolve",
                ),
            ));
        }
    };
    let note = form.get("note").map(String::as_str).unwrap_or("");
    let alert = state
        .access
        .sensor_alert_step(&acting.caller, id, step, note, acting.request.as_str())
        .await
        .or_page(who)?;
    let back = match form.get("back").map(String::as_str) {
        Some("home") => format!("/tec/homes/{}", alert.person_id),
        _ => "/tec".to_string(),
    };
    Ok(Redirect::to(&back).into_response())
}
