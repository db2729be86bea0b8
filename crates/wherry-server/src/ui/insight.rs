//! The insight pages. Fire prevention's: homes ranked for home fire
//! safety visits, each with the factors that put it there and their
//! points, the factors the purpose cannot see and the home's data
//! completeness, and the list as the CSV visit planners load
//! (`wherry_insight::targets`). Coordinated visits: residents three or
//! more services saw in 90 days, with a suggested lead and the visits one
//! lead would save (`wherry_insight::visits`). Every resident listed is
//! audited.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;

use super::render::{OrPage, Page, code_label, govuk_date, page};
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
            chart => wherry_insight::targets::chart(&listed),
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

/// `GET /insight/visits`: coordinated visits.
pub(crate) async fn visits(State(state): State<Arc<AppState>>, acting: Acting) -> Page {
    let who = &acting.who;
    let listed = wherry_insight::visits::coordinated_visits(
        &state.access,
        &acting.caller,
        wherry_core::Date::today_utc(),
        acting.request.as_str(),
    )
    .await
    .map_err(ApiError::from)
    .or_page(who)?;
    let rows: Vec<_> = listed
        .residents
        .iter()
        .map(|r| {
            let services: Vec<String> = r
                .services
                .iter()
                .map(|s| format!("{} ({})", code_label(&s.service), s.contacts))
                .collect();
            context! {
                person => r.person_id, name => r.name, services,
                lead => r.lead.as_ref().map(|l| l.practitioner.clone()),
                lead_service => r.lead.as_ref().map(|l| code_label(&l.service)),
                lead_reason => r.lead.as_ref().map(|l| l.reason.clone()),
                home_visits => r.home_visits, saved => r.saved,
            }
        })
        .collect();
    let sources: Vec<String> = listed.sources.iter().map(|s| code_label(s)).collect();
    Ok(page(
        StatusCode::OK,
        "insight_visits.html",
        context! {
            title => "Coordinated visits", user => who.ctx(), csrf => who.csrf,
            rows, sources, total_saved => listed.total_saved,
            chart => wherry_insight::visits::chart(&listed, code_label),
            since => govuk_date(&listed.since), until => govuk_date(&listed.until),
            lead_services => state.access.policy().lead_services().iter().map(|s| code_label(s)).collect::<Vec<_>>(),
        },
    ))
}

/// `GET /insight/demand`: demand by area, a chart per service (the
/// county's contacts a month and the forecast with its intervals), the
/// forecast as a table, and the back-test.
pub(crate) async fn demand(State(state): State<Arc<AppState>>, acting: Acting) -> Page {
    let who = &acting.who;
    let d = crate::insight::demand_report(&state, &acting.caller, acting.request.as_str())
        .await
        .or_page(who)?;
    let services: Vec<_> = wherry_insight::demand::service_totals(&d)
        .into_iter()
        .map(|(service, history, forecast)| {
            let label = code_label(&service);
            let chart = wherry_insight::chart::forecast_svg(
                &format!("chart-{service}"),
                &format!("{label}: contacts a month"),
                "contacts a month",
                &d.months,
                &history,
                &d.forecast_months,
                &forecast,
            );
            let rows: Vec<_> = d
                .forecast_months
                .iter()
                .zip(&forecast)
                .map(|(m, f)| {
                    context! {
                        month => m, mean => format!("{:.0}", f.mean),
                        interval => format!("{:.0} to {:.0}", f.lo95, f.hi95),
                    }
                })
                .collect();
            context! {
                id => service, label, chart, rows,
                areas => d.series.iter().filter(|s| s.service == service).count(),
            }
        })
        .collect();
    let sources: Vec<String> = d.sources.iter().map(|s| code_label(s)).collect();
    Ok(page(
        StatusCode::OK,
        "insight_demand.html",
        context! {
            title => "Demand by area", user => who.ctx(), csrf => who.csrf,
            services, sources, area => if d.area == "ward" { "ward" } else { "postcode district" },
            first => d.months.first(), last => d.months.last(), months => d.months.len(),
            backtest => d.backtest.as_ref().map(|b| context! {
                trials => b.trials, wherry => format!("{:.3}", b.mase_wherry),
                naive => format!("{:.3}", b.mase_seasonal_naive),
            }),
            unplaced => d.unplaced, not_in_lookup => d.not_in_lookup,
        },
    ))
}

/// `GET /insight/demand.csv`: every series and its forecast.
pub(crate) async fn demand_csv(
    State(state): State<Arc<AppState>>,
    acting: Acting,
) -> Result<Response, Response> {
    let d = crate::insight::demand_report(&state, &acting.caller, acting.request.as_str())
        .await
        .or_page(&acting.who)?;
    Ok(crate::insight::csv_file(
        "demand.csv",
        wherry_insight::demand::to_csv(&d),
    ))
}
