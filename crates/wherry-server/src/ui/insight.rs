//! Fire prevention's page: homes ranked for home fire safety visits, each
//! with the factors that put it there and their points, the factors the
//! purpose cannot see and the home's data completeness, and the list as
//! the CSV visit planners load (`wherry_insight::targets`, every resident
//! listed audited).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;

use super::render::{OrPage, Page, page};
use super::session::Acting;
use crate::insight::{csv_download, targets};
use crate::{ApiError, AppState};

/// Homes listed unless `?top=` says otherwise: a station's week.
const PAGE_TOP: usize = 100;

/// `?top=N`.
#[derive(Debug, Deserialize)]
pub(crate) struct TopQuery {
    top: Option<usize>,
}

/// The homes asked for: `?top=`, else [`PAGE_TOP`]; a query that does
/// not parse is refused (400 `bad_query`), not read as the default.
fn top_of(
    query: Result<Query<TopQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<usize, ApiError> {
    let Query(q) =
        query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_query", e.body_text()))?;
    Ok(q.top.unwrap_or(PAGE_TOP))
}

/// `GET /insight/fire-targets`.
pub(crate) async fn fire_targets(
    State(state): State<Arc<AppState>>,
    query: Result<Query<TopQuery>, axum::extract::rejection::QueryRejection>,
    acting: Acting,
) -> Page {
    let who = &acting.who;
    let top = top_of(query).or_page(who)?;
    let listed = targets(&state, &acting.caller, top, acting.request.as_str())
        .await
        .or_page(who)?;
    let rows: Vec<_> = listed
        .targets
        .iter()
        .map(|t| {
            let factors: Vec<_> = t
                .scored
                .reasons
                .iter()
                .map(|r| format!("{} ({})", r.factor.label(), r.points))
                .collect();
            // Those no partner shares are said once, above the table.
            let unknown: Vec<&str> = t
                .scored
                .unknown
                .iter()
                .filter(|f| !listed.never_shared.contains(f))
                .map(|f| f.label())
                .collect();
            let residents: Vec<String> = t
                .residents
                .iter()
                .map(|r| r.name.clone().unwrap_or_else(|| r.person_id.clone()))
                .collect();
            context! {
                rank => t.rank, uprn => t.scored.uprn, score => t.scored.score,
                ceiling => t.scored.ceiling,
                completeness => format!("{:.0}%", t.scored.completeness * 100.0),
                address => t.address, postcode => t.postcode, residents, factors, unknown,
            }
        })
        .collect();
    let never: Vec<&str> = listed.never_shared.iter().map(|f| f.label()).collect();
    let weights: Vec<_> = wherry_insight::fire::Factor::ALL
        .into_iter()
        .map(|f| context! {label => f.label(), points => state.fire_weights.points(f)})
        .collect();
    Ok(page(
        StatusCode::OK,
        "insight_fire.html",
        context! {
            title => "Fire prevention targets", user => who.ctx(), csrf => who.csrf,
            rows, top, homes => listed.homes, residents => listed.residents, never, weights,
        },
    ))
}

/// `GET /insight/fire-targets.csv`: the same list as a download.
pub(crate) async fn fire_targets_csv(
    State(state): State<Arc<AppState>>,
    query: Result<Query<TopQuery>, axum::extract::rejection::QueryRejection>,
    acting: Acting,
) -> Result<Response, Response> {
    let top = top_of(query).or_page(&acting.who)?;
    let listed = targets(&state, &acting.caller, top, acting.request.as_str())
        .await
        .or_page(&acting.who)?;
    Ok(csv_download(&listed))
}
