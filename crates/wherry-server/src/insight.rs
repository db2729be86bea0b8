//! Insight over the API: `GET /api/v1/insight/fire-targets`, homes ranked
//! for home fire safety visits as the caller's purpose may see the
//! partners' records (`wherry_insight::targets`, every resident listed
//! audited), as JSON or as the CSV visit planners load; and
//! `GET /api/v1/insight/coordinated-visits`, residents three or more
//! services saw in 90 days with a suggested lead
//! (`wherry_insight::visits`); and `GET /api/v1/insight/demand`, demand
//! by area with forecasts (`wherry_insight::demand`, pseudonymised).

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use wherry_core::Date;
use wherry_insight::targets::{MAX_TOP, Targets, fire_targets as list, to_csv};
use wherry_insight::visits;

use crate::{ApiCaller, ApiError, AppState};

/// `?top=N&format=json|csv`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TargetsQuery {
    top: Option<usize>,
    format: Option<String>,
}

/// The list for `caller`, `top` homes (checked: 1 to [`MAX_TOP`]).
pub(crate) async fn targets(
    state: &AppState,
    caller: &wherry_access::Caller,
    top: usize,
    request: &str,
) -> Result<Targets, ApiError> {
    if !(1..=MAX_TOP).contains(&top) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_query",
            format!("top must be from 1 to {MAX_TOP}"),
        ));
    }
    Ok(list(
        &state.access,
        caller,
        &state.fire_weights,
        top,
        Date::today_utc(),
        request,
    )
    .await?)
}

/// The list as a CSV download.
pub(crate) fn csv_download(listed: &Targets) -> Response {
    csv_file("fire-targets.csv", to_csv(listed))
}

/// `GET /api/v1/insight/fire-targets`: the `top` homes (500 unless given),
/// highest score first, each with its points, unknown factors and data
/// completeness.
pub(crate) async fn fire_targets(
    State(state): State<Arc<AppState>>,
    ApiCaller { caller, request }: ApiCaller,
    query: Result<Query<TargetsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) =
        query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_query", e.body_text()))?;
    let csv = wants_csv(q.format.as_deref())?;
    let listed = targets(&state, &caller, q.top.unwrap_or(500), request.as_str()).await?;
    Ok(json_or_csv(csv, &listed, "fire-targets.csv", to_csv))
}

/// `?format=json|csv`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FormatQuery {
    format: Option<String>,
}

/// The JSON of `value`, or (when `csv` is asked for) the CSV download
/// `name` made by `to_csv`.
fn json_or_csv<T: serde::Serialize>(
    csv: bool,
    value: &T,
    name: &str,
    to_csv: impl FnOnce(&T) -> String,
) -> Response {
    if csv {
        csv_file(name, to_csv(value))
    } else {
        Json(value).into_response()
    }
}

/// The parsed `?format=`: whether it asks for CSV.
fn format_of(query: Result<Query<FormatQuery>, QueryRejection>) -> Result<bool, ApiError> {
    let Query(q) =
        query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_query", e.body_text()))?;
    wants_csv(q.format.as_deref())
}

/// Whether `format` asks for CSV (`json`, the default, or `csv`).
fn wants_csv(format: Option<&str>) -> Result<bool, ApiError> {
    match format {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(other) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_query",
            format!("format {other:?}: json or csv"),
        )),
    }
}

/// A CSV download named `name`.
pub(crate) fn csv_file(name: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// `GET /api/v1/insight/coordinated-visits`: residents three or more
/// services saw in the last 90 days, most home visits saved first.
pub(crate) async fn coordinated_visits(
    State(state): State<Arc<AppState>>,
    ApiCaller { caller, request }: ApiCaller,
    query: Result<Query<FormatQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let csv = format_of(query)?;
    let listed =
        visits::coordinated_visits(&state.access, &caller, Date::today_utc(), request.as_str())
            .await?;
    Ok(json_or_csv(
        csv,
        &listed,
        "coordinated-visits.csv",
        visits::to_csv,
    ))
}

/// `GET /api/v1/insight/demand`: contacts per service, month and postcode
/// district (or ward, with `[insight] wards`), each series forecast six
/// months ahead, and the back-test; pseudonymised, for analysts.
pub(crate) async fn demand(
    State(state): State<Arc<AppState>>,
    ApiCaller { caller, request }: ApiCaller,
    query: Result<Query<FormatQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let csv = format_of(query)?;
    let d = demand_report(&state, &caller, request.as_str()).await?;
    Ok(json_or_csv(
        csv,
        &d,
        "demand.csv",
        wherry_insight::demand::to_csv,
    ))
}

/// The demand report for `caller`, as this hub is configured.
pub(crate) async fn demand_report(
    state: &AppState,
    caller: &wherry_access::Caller,
    request: &str,
) -> Result<wherry_insight::demand::Demand, ApiError> {
    Ok(wherry_insight::demand::demand(
        &state.access,
        caller,
        state.wards.as_ref(),
        Date::today_utc(),
        request,
    )
    .await?)
}
