//! A linkage run over the store: every current record linked under the
//! steward's decisions, clusters mapped onto the previous person ids, and
//! the outcome (links, history, review queue, model) stored in one
//! transaction.

use std::sync::Arc;

use wherry_link::persons::PersonEvent;
use wherry_link::relink::{Current, Decision, Input, Options, Outcome, relink_with};
use wherry_link::{Model, Progress, Stage};
use wherry_store::{Link, Linkage, Store};

use crate::Error;

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Score with this model instead of training one.
    pub model: Option<Model>,
    /// Match probability at or above which records join a person (default:
    /// the model's).
    pub threshold: Option<f64>,
    /// Pairs with a probability in `[low, high)` go to the review queue.
    pub review: (f64, f64),
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            model: None,
            threshold: None,
            review: (0.5, 0.95),
        }
    }
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
    let count = |k: &str| linkage.history.iter().filter(|h| h.0 == k).count();
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
        .map(|(s, r, p)| ((s, r), p))
        .collect();
    input.decisions = store
        .decisions()
        .await?
        .into_iter()
        .map(|(kind, sl, rl, sr, rr)| Decision {
            same_person: kind == "must_link",
            left: (sl, rl),
            right: (sr, rr),
        })
        .collect();
    // A read-only transaction, rolled back when dropped.
    input.last_person_number = store.begin().await?.last_person_number().await?;
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
                method: "automatic".into(),
                probability: None,
            })
            .collect(),
        unlinked: o.unlinked.clone(),
        review: o
            .review
            .iter()
            .map(|p| {
                (
                    p.left.0.clone(),
                    p.left.1.clone(),
                    p.right.0.clone(),
                    p.right.1.clone(),
                    p.probability,
                    p.explanation.clone(),
                )
            })
            .collect(),
        ..Linkage::default()
    };
    for e in &o.events {
        l.history.push(history_entry(e));
        match e {
            PersonEvent::Created { person } => l.created.push(person.clone()),
            PersonEvent::Retired { person } => l.retired.push(person.clone()),
            _ => {}
        }
    }
    l
}

/// A person event as a link history entry: (kind, person, others JSON, detail JSON).
pub(crate) fn history_entry(e: &PersonEvent) -> (String, String, String, String) {
    let (kind, person, others) = match e {
        PersonEvent::Created { person } => ("created", person, vec![]),
        PersonEvent::Merged { person, absorbed } => ("merged", person, absorbed.clone()),
        PersonEvent::Split { person, into } => ("split", person, into.clone()),
        PersonEvent::Retired { person } => ("retired", person, vec![]),
    };
    (
        kind.into(),
        person.clone(),
        serde_json::to_string(&others).expect("ids serialise"),
        serde_json::to_string(e).expect("events serialise"),
    )
}
