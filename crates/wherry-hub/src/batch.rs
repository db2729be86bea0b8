//! A linkage run over the store: every current record linked under the
//! steward's decisions, clusters mapped onto the previous person ids, and
//! the outcome (links, history, review queue, model) stored in one
//! transaction.

use std::sync::Arc;

use wherry_core::PersonChange;
use wherry_link::relink::{Current, Decision, Input, Options, Outcome, relink_with};
use wherry_link::{Model, Progress, ReviewRange, Stage};
use wherry_store::{DecisionKind, Link, LinkMethod, Linkage, NewReviewItem, RecordKey, Store};

use crate::Error;

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Score with this model instead of training one.
    pub model: Option<Model>,
    /// Match probability at or above which records join a person (default:
    /// the model's).
    pub threshold: Option<f64>,
    /// Pairs with a probability in this range go to the review queue.
    pub review: ReviewRange,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq)]
pub struct RunReport {
    /// Records linked.
    pub records: usize,
    /// Persons they form.
    pub persons: usize,
    /// Persons created.
    pub created: usize,
    /// Merges.
    pub merged: usize,
    /// Splits.
    pub split: usize,
    /// Persons retired (no records left).
    pub retired: usize,
    /// Pairs put in the review queue (a pair already there is not queued again).
    pub review: usize,
}

/// Links the store's current records (see the module docs); `progress`
/// hears each stage, reading and saving included.
pub async fn link_run(
    store: &Store,
    options: &RunOptions,
    progress: Arc<dyn Progress + Send>,
) -> Result<RunReport, Error> {
    progress.start(Stage::Read, 0);
    let input = read_input(store).await?;
    let relink_options = Options {
        model: options.model.clone(),
        threshold: options.threshold,
        review: options.review,
    };
    let heard = progress.clone();
    let outcome =
        tokio::task::spawn_blocking(move || relink_with(input, &relink_options, heard.as_ref()))
            .await
            .map_err(|e| Error::Task(e.to_string()))??;
    progress.start(Stage::Save, 0);
    let linkage = to_linkage(&outcome);
    let model = serde_json::to_string(&outcome.model).expect("models serialise");
    let mut tx = store.begin().await?;
    tx.save_linkage(&linkage).await?;
    tx.save_model(&model).await?;
    tx.commit().await?;
    store.analyze().await?;
    let count = |k: &str| linkage.history.iter().filter(|h| h.kind() == k).count();
    Ok(RunReport {
        records: outcome.records,
        persons: outcome.persons,
        created: count("created"),
        merged: count("merged"),
        split: count("split"),
        retired: count("retired"),
        review: outcome.review.len(),
    })
}

/// What the engine needs from the store: current records, the previous
/// links, the steward's decisions and the last person number.
async fn read_input(store: &Store) -> Result<Input, Error> {
    let rows = store.current_records().await?;
    if rows.is_empty() {
        return Err(Error::NoRecords);
    }
    let mut input = Input {
        records: rows
            .into_iter()
            .map(|r| Current {
                key: (r.source, r.record_id),
                values: r.values,
                person: r.person,
            })
            .collect(),
        ..Input::default()
    };
    // Links of records no longer current end.
    input.gone = store
        .stale_links()
        .await?
        .into_iter()
        .map(|l| (l.record.into_pair(), l.person))
        .collect();
    input.decisions = store
        .decisions()
        .await?
        .into_iter()
        .map(|d| Decision {
            same_person: d.kind == DecisionKind::MustLink,
            left: d.left.into_pair(),
            right: d.right.into_pair(),
        })
        .collect();
    input.last_person_number = store.last_person().await?.number();
    Ok(input)
}

/// The outcome as the store keeps it.
fn to_linkage(o: &Outcome) -> Linkage {
    let mut l = Linkage {
        links: o
            .links
            .iter()
            .map(|((s, r), p)| Link {
                source: s.clone(),
                record_id: r.clone(),
                person: p.clone(),
                method: LinkMethod::Automatic,
                probability: None,
            })
            .collect(),
        unlinked: o.unlinked.iter().cloned().map(RecordKey::from).collect(),
        review: o
            .review
            .iter()
            .map(|p| NewReviewItem {
                left: RecordKey::from(p.left.clone()),
                right: RecordKey::from(p.right.clone()),
                probability: p.probability,
                explanation: serde_json::to_string(&p.explanation).expect("explanations serialise"),
            })
            .collect(),
        ..Linkage::default()
    };
    for e in &o.events {
        match e {
            PersonChange::Created { person } => l.created.push(person.clone()),
            PersonChange::Retired { person } => l.retired.push(person.clone()),
            _ => {}
        }
        l.history.push(e.clone());
    }
    l
}
