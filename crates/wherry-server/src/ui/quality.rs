//! The data team's pages: each extract with what it did, the rows one
//! extract quarantined (line, field, reason) and the same as a CSV to send
//! back to the partner, and per source the figures a steward watches.
//! Steward only, through `wherry_access::quality`, each view audited.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use minijinja::context;
use wherry_store::{ExtractRow, QuarantinedRow};

use super::render::{OrPage, Page, code_label, error_page, govuk_date, page};
use super::session::Acting;
use crate::AppState;

/// `GET /quarantine`: every extract, newest first.
pub(crate) async fn extracts(State(state): State<Arc<AppState>>, acting: Acting) -> Page {
    let Acting {
        who,
        caller,
        request,
    } = acting;
    let list = state
        .access
        .extracts(&caller, request.as_str())
        .await
        .or_page(&who)?;
    let rows: Vec<minijinja::Value> = list
        .iter()
        .map(|e| {
            context! {
                id => e.id, source => code_label(&e.source), file => e.file, kind => e.kind,
                rows => e.rows, stored => e.stored, quarantined => e.quarantined,
                loaded => govuk_date(&e.loaded_at), by => e.loaded_by,
            }
        })
        .collect();
    Ok(page(
        StatusCode::OK,
        "extracts.html",
        context! {title => "Extracts and quarantine", user => who.ctx(), csrf => who.csrf, rows},
    ))
}

fn not_found(who: &super::session::Who) -> axum::response::Response {
    error_page(
        StatusCode::NOT_FOUND,
        Some(who),
        "Extract not found",
        "There is no extract with that number.",
        Some(("/quarantine", "Go to the extracts")),
    )
}

/// The extract `id` names and its quarantined rows, through the access
/// rules (audited), or the page to send instead.
async fn quarantined(
    state: &AppState,
    id: &str,
    acting: &Acting,
) -> Result<(ExtractRow, Vec<QuarantinedRow>), axum::response::Response> {
    let who = &acting.who;
    let id = id.parse::<i64>().map_err(|_| not_found(who))?;
    state
        .access
        .quarantine(&acting.caller, id, acting.request.as_str())
        .await
        .or_page(who)?
        .ok_or_else(|| not_found(who))
}

/// `GET /quarantine/{id}`: the rows one extract quarantined.
pub(crate) async fn quarantine(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    acting: Acting,
) -> Page {
    let (extract, rows) = quarantined(&state, &id, &acting).await?;
    let who = acting.who;
    let rows: Vec<minijinja::Value> = rows
        .iter()
        .map(|q| context! {line => q.line, field => q.field, reason => q.reason})
        .collect();
    Ok(page(
        StatusCode::OK,
        "quarantine.html",
        context! {
            title => format!("Quarantine: {}", extract.file),
            user => who.ctx(), csrf => who.csrf, rows,
            id => extract.id, file => extract.file, source => code_label(&extract.source),
            read => extract.rows, stored => extract.stored, quarantined => extract.quarantined,
            loaded => govuk_date(&extract.loaded_at),
        },
    ))
}

/// `GET /quarantine/{id}/rows.csv`: the same rows as CSV (file, line,
/// field, reason), for the partner to correct and send again.
pub(crate) async fn quarantine_csv(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    acting: Acting,
) -> Page {
    let (extract, rows) = quarantined(&state, &id, &acting).await?;
    let rows = rows.into_iter().map(|q| {
        vec![
            q.file,
            q.line.to_string(),
            q.field.unwrap_or_default(),
            q.reason,
        ]
    });
    super::render::csv_download(
        &acting.who,
        &format!("quarantine-{}-{}.csv", extract.source, extract.id),
        &["file", "line", "field", "reason"],
        rows,
    )
}

/// `GET /quality`: per source, records, quarantined rows, match rate,
/// review backlog and how often its values disagree with other sources'.
pub(crate) async fn quality(State(state): State<Arc<AppState>>, acting: Acting) -> Page {
    let Acting {
        who,
        caller,
        request,
    } = acting;
    let figures = state
        .access
        .data_quality(&caller, request.as_str())
        .await
        .or_page(&who)?;
    let pct = |x: f64| format!("{:.1}%", x * 100.0);
    let rows: Vec<minijinja::Value> = figures
        .iter()
        .map(|f| {
            context! {
                source => code_label(&f.source), partner => f.partner, records => f.records,
                quarantined => f.quarantined, match_rate => pct(f.match_rate()),
                backlog => f.review_backlog, disagreement => pct(f.disagreement_rate()),
            }
        })
        .collect();
    Ok(page(
        StatusCode::OK,
        "quality.html",
        context! {title => "Data quality", user => who.ctx(), csrf => who.csrf, rows},
    ))
}
