//! The steward's review queue: the open items, one pair side by side (each
//! record as the steward's purpose may see its source) with the waterfall
//! of match weights, and the decision, which takes effect at once (the
//! same `wherry_hub::steward::settle` the API and `wherry review` call).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use minijinja::context;
use wherry_store::ReviewStatus;

use super::render::{OrPage, Page, error_page, field_label, page, value_text};
use super::session::{Acting, Posted};
use crate::AppState;

/// `GET /review`: the steward's open items.
pub(crate) async fn review(
    State(state): State<Arc<AppState>>,
    Acting {
        who,
        caller,
        request,
    }: Acting,
) -> Page {
    let items = state
        .access
        .review_list(&caller, Some(ReviewStatus::Open), request.as_str())
        .await
        .or_page(&who)?;
    let items: Vec<minijinja::Value> = items
        .into_iter()
        .map(|i| {
            context! {
                id => i.id,
                left => format!("{} {}", i.left.source, i.left.record_id),
                right => format!("{} {}", i.right.source, i.right.record_id),
                probability => format!("{:.3}", i.probability),
            }
        })
        .collect();
    Ok(page(
        StatusCode::OK,
        "review.html",
        context! {title => "Review queue", user => who.ctx(), csrf => who.csrf, items},
    ))
}

/// The waterfall's steps and chart for a stored explanation (JSON, or the
/// text table of items queued before explanations were JSON).
fn waterfall(stored: &str) -> (Vec<(String, f64)>, String) {
    use wherry_link::explain::{Stored, waterfall_svg};
    match Stored::parse(stored).steps() {
        Some((steps, p)) => {
            let chart = waterfall_svg(&steps, p);
            (steps, chart)
        }
        None => (vec![], String::new()),
    }
}

/// `GET /review/{id}`: the pair side by side and the waterfall.
pub(crate) async fn review_item(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Acting {
        who,
        caller,
        request,
    }: Acting,
) -> Page {
    let not_found = || {
        error_page(
            StatusCode::NOT_FOUND,
            Some(&who),
            "Review item not found",
            "There is no review item with that number.",
            Some(("/review", "Go to the review queue")),
        )
    };
    let id = id.parse::<i64>().map_err(|_| not_found())?;
    let pair = state
        .access
        .review_pair(&caller, id, request.as_str())
        .await
        .or_page(&who)?
        .ok_or_else(not_found)?;
    let sides: Vec<minijinja::Value> = pair
        .sides
        .iter()
        .map(|s| {
            let fields: Vec<(String, String)> = s
                .fields
                .iter()
                .map(|(k, v)| (field_label(k), value_text(v)))
                .collect();
            context! {
                source => s.record.source, record_id => s.record.record_id,
                fields, person => s.person,
            }
        })
        .collect();
    let (steps, chart) = waterfall(&pair.item.explanation);
    let steps: Vec<(String, String)> = steps
        .into_iter()
        .map(|(l, w)| (l, format!("{w:+.2}")))
        .collect();
    let status = pair.item.status;
    Ok(page(
        StatusCode::OK,
        "review_item.html",
        context! {
            title => format!("Review item {id}"),
            user => who.ctx(), csrf => who.csrf, id, sides, chart, steps,
            probability => format!("{:.3}", pair.item.probability),
            open => status == ReviewStatus::Open, status => status.as_str(),
        },
    ))
}

/// `POST /review/{id}`: accept or reject, with a reason.
pub(crate) async fn review_decide(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    posted: Posted,
) -> Page {
    let (
        Acting {
            who,
            caller,
            request,
        },
        form,
    ) = posted.acting(&state).await?;
    let accept = match form.get("decision").map(String::as_str) {
        Some("accept") => true,
        Some("reject") => false,
        _ => {
            return Err(error_page(
                StatusCode::BAD_REQUEST,
                Some(&who),
                "Choose a decision",
                "Select whether the records are the same resident or different residents, then record your decision.",
                Some((&format!("/review/{id}"), "Go back to the item")),
            ));
        }
    };
    let reason = form.get("reason").map(String::as_str).unwrap_or_default();
    let Ok(n) = id.parse::<i64>() else {
        return Ok(Redirect::to("/review").into_response());
    };
    let settled =
        wherry_hub::steward::settle(&state.access, &caller, n, accept, reason, request.as_str())
            .await
            .or_page(&who)?;
    match settled {
        Some(_) => Ok(Redirect::to("/review").into_response()),
        None => Err(error_page(
            StatusCode::NOT_FOUND,
            Some(&who),
            "This item is already settled",
            "Another steward may have decided it. Nothing was changed.",
            Some(("/review", "Go to the review queue")),
        )),
    }
}
