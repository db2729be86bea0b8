//! The sensor service over the API, for the TEC team: alerts and their
//! lifecycle, a home's devices, alerts, readings and learnt routine,
//! per-resident thresholds, and the device registry. Every route goes
//! through `wherry_access::sensors` (the `tec_sensors` agreement decides
//! what each purpose sees; every disclosure and change is audited); a
//! change to a home reloads its rules at once.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use wherry_access::sensors::Step;
use wherry_sensors::registry::{self, NewDevice, RegistryError};
use wherry_sensors::{Routine, Thresholds};

use crate::{ApiCaller, ApiError, AppState, json_body};

/// `?person=&all=`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlertQuery {
    person: Option<String>,
    #[serde(default)]
    all: bool,
}

/// `GET /api/v1/sensors/alerts`: open and acknowledged alerts (every one
/// with `all=true`), most urgent first, of everyone or one resident.
pub(crate) async fn alerts(
    State(state): State<Arc<AppState>>,
    ApiCaller { caller, request }: ApiCaller,
    query: Result<Query<AlertQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| bad_query(&e))?;
    let alerts = state
        .access
        .sensor_alerts(&caller, q.person.as_deref(), q.all, request.as_str())
        .await?;
    Ok(Json(json!({ "alerts": alerts })))
}

/// A lifecycle step's body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StepBody {
    #[serde(default)]
    note: String,
}

/// `POST /api/v1/sensors/alerts/{id}/{acknowledge|resolve}`.
pub(crate) async fn alert_step(
    State(state): State<Arc<AppState>>,
    Path((id, verb)): Path<(String, String)>,
    ApiCaller { caller, request }: ApiCaller,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let step = match verb.as_str() {
        "acknowledge" => Step::Acknowledge,
        "resolve" => Step::Resolve,
        _ => return Err(crate::no_route().await),
    };
    let id: i64 = id.parse().map_err(|_| ApiError::not_found("alert"))?;
    // The note is optional, and so is the body.
    let body: StepBody = if body.iter().all(u8::is_ascii_whitespace) {
        StepBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                format!("the body: {e}"),
            )
        })?
    };
    let alert = state
        .access
        .sensor_alert_step(&caller, id, step, &body.note, request.as_str())
        .await?;
    Ok(Json(json!(alert)))
}

/// `?date=YYYY-MM-DD` (default today, UK local).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HomeQuery {
    date: Option<String>,
}

/// A local day's bounds (Unix ms), from `YYYY-MM-DD` or today.
pub(crate) fn day_bounds(date: Option<&str>) -> Result<(wherry_core::Date, i64, i64), ApiError> {
    let day = match date {
        Some(d) => wherry_core::Date::parse(d).map_err(|e| {
            ApiError::new(StatusCode::BAD_REQUEST, "bad_date", format!("date: {e}"))
        })?,
        None => wherry_core::localtime::to_local(wherry_core::clock::unix_seconds()).0,
    };
    let from = wherry_core::localtime::local_to_utc(day, 0) * 1000;
    let to = wherry_core::localtime::local_to_utc(day.add_days(1), 0) * 1000;
    Ok((day, from, to))
}

/// `GET /api/v1/sensors/homes/{person}`: a home's devices, alerts, the
/// day's readings and the learnt routine, as the agreement shares them.
pub(crate) async fn home(
    State(state): State<Arc<AppState>>,
    Path(person): Path<String>,
    ApiCaller { caller, request }: ApiCaller,
    query: Result<Query<HomeQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| bad_query(&e))?;
    let (day, from, to) = day_bounds(q.date.as_deref())?;
    let home = state
        .access
        .home_sensors(&caller, &person, from, to, request.as_str())
        .await?;
    let routine = if home.withheld.contains(&"readings") {
        None
    } else {
        routine_of(&state, &person, from)
    };
    Ok(Json(
        json!({"date": day.to_string(), "home": home, "routine": routine}),
    ))
}

/// The home's routine as learnt before the day starting at `from_ms`.
pub(crate) fn routine_of(state: &AppState, person: &str, from_ms: i64) -> Option<Routine> {
    state
        .intake
        .watch()
        .and_then(|w| w.routine_of(person, from_ms + 12 * 3600 * 1000))
}

/// `PUT /api/v1/sensors/homes/{person}/thresholds`: the resident's alert
/// thresholds (fields left out keep their defaults).
pub(crate) async fn set_thresholds(
    State(state): State<Arc<AppState>>,
    Path(person): Path<String>,
    ApiCaller { caller, request }: ApiCaller,
    body: Result<Json<Thresholds>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let t = json_body(body)?;
    t.check().map_err(|why| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_thresholds", why)
    })?;
    let text = serde_json::to_string(&t).map_err(|e| ApiError::internal(e.to_string()))?;
    state
        .access
        .set_sensor_thresholds(&caller, &person, &text, request.as_str())
        .await?;
    reload(&state, &person).await;
    Ok(Json(json!({"person": person, "thresholds": t})))
}

/// `GET /api/v1/sensors/devices`: the registry, with last seen, uplinks
/// stored and battery.
pub(crate) async fn devices(
    State(state): State<Arc<AppState>>,
    ApiCaller { caller, request }: ApiCaller,
) -> Result<Json<Value>, ApiError> {
    let devices = state
        .access
        .sensor_devices(&caller, request.as_str())
        .await?;
    Ok(Json(json!({ "devices": devices })))
}

/// `POST /api/v1/sensors/devices`: registers a device.
pub(crate) async fn add_device(
    State(state): State<Arc<AppState>>,
    ApiCaller { caller, request }: ApiCaller,
    body: Result<Json<NewDevice>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let d = json_body(body)?;
    let device = registry::add(&state.access, &caller, &d, request.as_str())
        .await
        .map_err(registry_error)?;
    if let Some(person) = &device.person_id {
        reload(&state, person).await;
    }
    Ok((StatusCode::CREATED, Json(json!(device))))
}

/// `DELETE /api/v1/sensors/devices/{dev_eui}`.
pub(crate) async fn remove_device(
    State(state): State<Arc<AppState>>,
    Path(eui): Path<String>,
    ApiCaller { caller, request }: ApiCaller,
) -> Result<Json<Value>, ApiError> {
    let person = registry::remove(&state.access, &caller, &eui, request.as_str())
        .await
        .map_err(registry_error)?;
    if let Some(person) = &person {
        reload(&state, person).await;
    }
    Ok(Json(
        json!({"dev_eui": eui.trim().to_ascii_lowercase(), "removed": true}),
    ))
}

/// `POST /api/v1/sensors/devices/{dev_eui}/withdraw-consent`.
pub(crate) async fn withdraw_consent(
    State(state): State<Arc<AppState>>,
    Path(eui): Path<String>,
    ApiCaller { caller, request }: ApiCaller,
) -> Result<Json<Value>, ApiError> {
    let person = registry::withdraw_consent(&state.access, &caller, &eui, request.as_str())
        .await
        .map_err(registry_error)?;
    reload(&state, &person).await;
    Ok(Json(
        json!({"dev_eui": eui.trim().to_ascii_lowercase(), "consent_withdrawn": true}),
    ))
}

/// Reloads a home's rules after a change (its devices, consent or
/// thresholds); a failure leaves the old rules until the next restart and
/// is logged without the resident.
async fn reload(state: &AppState, person: &str) {
    if let Some(watch) = state.intake.watch() {
        if let Err(e) = watch.load_home(person).await {
            crate::request::log_error("sensor_home_reload_failed", "", &e.to_string());
        }
    }
}

fn bad_query(e: &QueryRejection) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_query", e.body_text())
}

fn registry_error(e: RegistryError) -> ApiError {
    match e {
        RegistryError::Access(a) => a.into(),
        RegistryError::Store(s) => s.into(),
        RegistryError::NotRegistered(_) => ApiError::not_found("registered device"),
        RegistryError::Exists(_) => {
            ApiError::new(StatusCode::CONFLICT, "device_exists", e.to_string())
        }
        other => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_device",
            other.to_string(),
        ),
    }
}
