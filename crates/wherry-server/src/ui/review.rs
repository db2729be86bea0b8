//! The steward's review queue: the open items, one pair side by side (each
//! record as the steward's purpose may see its source) with the waterfall
//! of match weights, and the decision, which takes effect at once (the
//! same `wherry_hub::steward::settle` the API and `wherry review` call).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use minijinja::context;
use wherry_store::ReviewStatus;

use super::render::{OrPage, Page, error_page, field_label, page, value_text};
use super::session::{Acting, Posted};
use crate::AppState;

/// Items on one page of the queue.
pub(crate) const QUEUE_PAGE: usize = 25;

/// `?page=&sort=&source=&done=&decision=` on the queue.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct QueueQuery {
    #[serde(default)]
    page: Option<usize>,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    done: Option<i64>,
    #[serde(default)]
    decision: String,
}

/// The ways the queue sorts: (value, label).
const SORTS: [(&str, &str); 3] = [
    ("probability", "Most likely the same first"),
    ("oldest", "Oldest first"),
    ("newest", "Newest first"),
];

/// `GET /review`: the steward's open items, counted, filtered by source,
/// sorted by probability or age, a page at a time; after a decision, a
/// confirmation.
pub(crate) async fn review(
    State(state): State<Arc<AppState>>,
    Acting {
        who,
        caller,
        request,
    }: Acting,
    query: Result<Query<QueueQuery>, axum::extract::rejection::QueryRejection>,
) -> Page {
    let Ok(Query(q)) = query else {
        return Err(error_page(
            StatusCode::BAD_REQUEST,
            Some(&who),
            "The queue could not be shown",
            "Its page, sort or source could not be read: a page is a whole number. Nothing was changed.",
            Some(("/review", "Go to the review queue")),
        ));
    };
    let all = state
        .access
        .review_list(&caller, Some(ReviewStatus::Open), request.as_str())
        .await
        .or_page(&who)?;
    let mut sources: Vec<String> = all
        .iter()
        .flat_map(|i| [i.left.source.clone(), i.right.source.clone()])
        .collect();
    sources.sort();
    sources.dedup();
    let source = q.source.trim();
    let mut items: Vec<_> = all
        .into_iter()
        .filter(|i| source.is_empty() || i.left.source == source || i.right.source == source)
        .collect();
    let sort = SORTS
        .iter()
        .find(|(v, _)| *v == q.sort)
        .map_or("probability", |(v, _)| v);
    match sort {
        "oldest" => items.sort_by_key(|i| i.id),
        "newest" => items.sort_by_key(|i| std::cmp::Reverse(i.id)),
        _ => items.sort_by(|a, b| {
            b.probability
                .total_cmp(&a.probability)
                .then(a.id.cmp(&b.id))
        }),
    }
    let total = items.len();
    let pages = total.div_ceil(QUEUE_PAGE).max(1);
    let page_no = q.page.unwrap_or(1).clamp(1, pages);
    let page_items: Vec<_> = items
        .iter()
        .skip((page_no - 1) * QUEUE_PAGE)
        .take(QUEUE_PAGE)
        .collect();
    // Where each pair's records are now: linked by the matcher in the
    // uncertain band (to confirm or split), or apart (to link or keep
    // apart).
    let keys: Vec<wherry_store::RecordKey> = page_items
        .iter()
        .flat_map(|i| [i.left.clone(), i.right.clone()])
        .collect();
    let persons = state.store().persons_of(&keys).await.or_page(&who)?;
    let shown: Vec<minijinja::Value> = page_items
        .iter()
        .map(|i| {
            let together = matches!(
                (persons.get(&i.left), persons.get(&i.right)),
                (Some(a), Some(b)) if a == b
            );
            context! {
                id => i.id,
                left => super::render::code_label(&i.left.source),
                right => super::render::code_label(&i.right.source),
                probability => format!("{:.0}%", i.probability * 100.0),
                now => if together { "Linked by the matcher: confirm or split" } else { "Apart: link or keep apart" },
                together,
            }
        })
        .collect();
    let link = |p: usize| {
        let mut parts = vec![format!("page={p}"), format!("sort={sort}")];
        if !source.is_empty() {
            parts.push(format!("source={source}"));
        }
        format!("/review?{}", parts.join("&"))
    };
    let done = q.done.map(|id| match q.decision.as_str() {
        "accept" => format!("Item {id} settled: the two records are now one resident."),
        _ => format!("Item {id} settled: the two records are kept apart."),
    });
    let sorts: Vec<minijinja::Value> = SORTS
        .iter()
        .map(|(value, label)| context! {value, label, selected => *value == sort})
        .collect();
    let sources: Vec<minijinja::Value> = sources
        .iter()
        .map(|s| context! {value => s, label => super::render::code_label(s), selected => s == source})
        .collect();
    Ok(page(
        StatusCode::OK,
        "review.html",
        context! {
            title => "Review queue", user => who.ctx(), csrf => who.csrf,
            items => shown, total, page => page_no, pages,
            from => if total == 0 { 0 } else { (page_no - 1) * QUEUE_PAGE + 1 },
            to => (page_no * QUEUE_PAGE).min(total),
            previous => (page_no > 1).then(|| link(page_no - 1)),
            next => (page_no < pages).then(|| link(page_no + 1)),
            sorts, sources, done,
        },
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
    acting: Acting,
) -> Page {
    item_page(&state, &acting, &id, StatusCode::OK, None, "").await
}

/// The item's page; with an error, the decision form shows it (GOV.UK's
/// error summary and the field's message) and keeps the reason typed.
async fn item_page(
    state: &AppState,
    Acting {
        who,
        caller,
        request,
    }: &Acting,
    id: &str,
    status: StatusCode,
    error: Option<(&str, String)>,
    reason: &str,
) -> Page {
    let not_found = || {
        error_page(
            StatusCode::NOT_FOUND,
            Some(who),
            "Review item not found",
            "There is no review item with that number.",
            Some(("/review", "Go to the review queue")),
        )
    };
    let id = id.parse::<i64>().map_err(|_| not_found())?;
    let pair = state
        .access
        .review_pair(caller, id, request.as_str())
        .await
        .or_page(who)?
        .ok_or_else(not_found)?;
    let sides: Vec<minijinja::Value> = pair
        .sides
        .iter()
        .map(|s| {
            context! {
                source => super::render::code_label(&s.record.source),
                record_id => s.record.record_id,
                person => s.person,
            }
        })
        .collect();
    // The two records' fields aligned, a row a field, in canonical order;
    // whether they hold the same value (case and spacing aside).
    let names: Vec<&str> = wherry_core::Field::NAMES[2..]
        .iter()
        .copied()
        .filter(|f| pair.sides.iter().any(|s| s.fields.contains_key(*f)))
        .collect();
    let rows: Vec<minijinja::Value> = names
        .iter()
        .map(|f| {
            let held: Vec<Option<&serde_json::Value>> =
                pair.sides.iter().map(|s| s.fields.get(*f)).collect();
            let values: Vec<String> = held
                .iter()
                .map(|v| v.map(value_text).unwrap_or_default())
                .collect();
            use wherry_access::survivorship::agreement_key;
            let same = matches!(held.as_slice(), [Some(a), Some(b)]
                if !values[0].is_empty() && agreement_key(a) == agreement_key(b));
            let missing = values.iter().any(String::is_empty);
            context! {
                label => field_label(f),
                left => values.first().cloned().unwrap_or_default(),
                right => values.get(1).cloned().unwrap_or_default(),
                agree => if same { "Same" } else if missing { "Missing on one side" } else { "Different" },
                same,
            }
        })
        .collect();
    let (steps, chart) = waterfall(&pair.item.explanation);
    let steps: Vec<(String, String)> = steps
        .into_iter()
        .map(|(l, w)| (l, format!("{w:+.2}")))
        .collect();
    let item_status = pair.item.status;
    let errors = super::render::error_summary(error.as_ref().map(|(f, m)| (*f, m.as_str())));
    let (decision_error, reason_error) = match &error {
        Some(("decision", m)) => (Some(m.clone()), None),
        Some((_, m)) => (None, Some(m.clone())),
        None => (None, None),
    };
    Ok(page(
        status,
        "review_item.html",
        context! {
            title => format!("Review item {id}"),
            user => who.ctx(), csrf => who.csrf, id, sides, rows, chart, steps,
            probability => format!("{:.0}%", pair.item.probability * 100.0),
            open => item_status == ReviewStatus::Open, status => item_status.as_str(),
            errors, decision_error, reason_error, reason,
        },
    ))
}

/// `POST /review/{id}`: accept or reject, with a reason; then the queue
/// with a confirmation. A missing decision or a reason too long: the form
/// again, saying so.
pub(crate) async fn review_decide(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    posted: Posted,
) -> Page {
    let (acting, form) = posted.acting(&state).await?;
    let reason = form.get("reason").map(String::as_str).unwrap_or_default();
    let accept = match form.get("decision").map(String::as_str) {
        Some("accept") => true,
        Some("reject") => false,
        _ => {
            return item_page(
                &state,
                &acting,
                &id,
                StatusCode::BAD_REQUEST,
                Some((
                    "decision",
                    "Select whether the records are the same resident or different residents"
                        .into(),
                )),
                reason,
            )
            .await;
        }
    };
    let Ok(n) = id.parse::<i64>() else {
        return Ok(Redirect::to("/review").into_response());
    };
    let settled = wherry_hub::steward::settle(
        &state.access,
        &acting.caller,
        n,
        accept,
        reason,
        acting.request.as_str(),
    )
    .await;
    match settled {
        Ok(Some(_)) => Ok(Redirect::to(&format!(
            "/review?done={n}&decision={}",
            if accept { "accept" } else { "reject" }
        ))
        .into_response()),
        Ok(None) => Err(error_page(
            StatusCode::NOT_FOUND,
            Some(&acting.who),
            "This item is already settled",
            "Another steward may have decided it. Nothing was changed.",
            Some(("/review", "Go to the review queue")),
        )),
        Err(e) => {
            let message = super::render::form_error(&acting.who, e)?;
            item_page(
                &state,
                &acting,
                &id,
                StatusCode::BAD_REQUEST,
                Some(("reason", message)),
                reason,
            )
            .await
        }
    }
}
