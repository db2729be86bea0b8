//! Wherry's record linkage engine: which records, across and within
//! partners, are the same resident.
//!
//! The stages are named for what they do, as in Splink:
//! [`Dataset::prepare`] interns and normalises the columns;
//! [`blocking::block`] produces candidate pairs from the blocking rules;
//! [`Model::train`] estimates u from random pairs ([`model::estimate_u`]),
//! m by EM per blocking rule ([`model::estimate_m_by_em`]) and the prior;
//! [`score::score`] weighs every candidate pair; [`cluster::cluster`] joins
//! records into persons; [`explain::explain`] says why any pair scored what
//! it did. [`link`] runs them all.
//!
//! Invariant: the crate is pure. It reads no files, opens no connections and
//! reads no clock: callers hand it records and get results back. The same
//! records, settings and seed give the same results, whatever the number of
//! threads (rayon parallelises every stage; results are sorted, not ordered
//! by thread).
//!
//! ```
//! use wherry_link::{RawRecord, Settings, LinkType, link};
//! let columns: Vec<String> = ["given_name", "family_name", "dob"].map(String::from).to_vec();
//! let people = [("Margaret", "Thrower", "1948-03-07"), ("Peggy", "Thrower", "07/03/1948"), ("John", "Smith", "1990-01-01")];
//! let records: Vec<RawRecord> = people.iter().enumerate().map(|(i, (g, f, d))| RawRecord {
//!     source: "demo".into(),
//!     record_id: i.to_string(),
//!     values: vec![Some(g.to_string()), Some(f.to_string()), Some(d.to_string())],
//! }).collect();
//! let settings = Settings::for_canonical_columns(&["given_name", "family_name", "dob"], LinkType::Dedupe);
//! let result = link(&settings, &columns, records, None, &()).unwrap();
//! assert_eq!(result.clustering.cluster.len(), 3);
//! ```

pub mod blocking;
pub mod cluster;
pub mod compare;
pub mod dataset;
pub mod evaluate;
pub mod explain;
pub mod model;
pub mod persons;
pub mod place;
pub mod prior;
pub mod realtime;
pub mod recall;
pub mod relink;
pub mod score;
pub mod settings;
pub mod similarity;
pub mod training;

mod error;

pub use cluster::{Clustering, Constraints};
pub use dataset::{Dataset, RawRecord};
pub use error::Error;
pub use model::Model;
pub use place::ReviewRange;
pub use score::ScoredPair;
pub use settings::{BlockingRule, ComparisonKind, ComparisonSpec, LinkType, Settings};

/// A stage of a linkage run, for progress reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Normalising and interning columns.
    Prepare,
    /// Producing candidate pairs.
    Block,
    /// Comparing candidate pairs.
    Compare,
    /// Estimating u, m and the prior.
    Train,
    /// Scoring pairs.
    Score,
    /// Joining records into persons.
    Cluster,
    /// Reading the records in (the caller's stage, for one display).
    Read,
    /// Mapping persons onto the previous run's ids ([`relink`]).
    Persons,
    /// Explaining the pairs for review ([`relink`]).
    Review,
    /// Writing the results out (the caller's stage).
    Save,
}

/// Hears how a run is going: each stage as it starts, with its amount of
/// work (0 when unknown), and the work done as it is done. Called from worker
/// threads, so implementations are `Sync`. `()` hears nothing.
pub trait Progress: Sync {
    /// A stage starts, with `total` units of work.
    fn start(&self, stage: Stage, total: u64) {
        let _ = (stage, total);
    }
    /// `n` more units of the current stage are done.
    fn advance(&self, n: u64) {
        let _ = n;
    }
}

impl Progress for () {}

/// Everything a linkage run produces.
#[derive(Debug, Clone)]
pub struct LinkResult {
    /// The prepared records.
    pub dataset: Dataset,
    /// The model (trained, or the one given).
    pub model: Model,
    /// Candidate pairs at or above the settings' `report_min_probability`
    /// (or the threshold, if lower).
    pub scored: Vec<ScoredPair>,
    /// Candidate pairs in all.
    pub candidate_pairs: u64,
    /// Persons.
    pub clustering: Clustering,
}

/// Links `records` (values in the order of `column_names`): prepares,
/// blocks, trains (unless `model` is given, whose settings are then used),
/// scores and clusters. `progress` hears each stage and its work.
pub fn link(
    settings: &Settings,
    column_names: &[String],
    records: Vec<RawRecord>,
    model: Option<Model>,
    progress: &dyn Progress,
) -> Result<LinkResult, Error> {
    link_with(
        settings,
        column_names,
        records,
        model,
        &Constraints::default(),
        progress,
    )
}

/// [`link`] under steward decisions: `constraints` name records by their
/// index in `records`.
pub fn link_with(
    settings: &Settings,
    column_names: &[String],
    records: Vec<RawRecord>,
    model: Option<Model>,
    constraints: &Constraints,
    progress: &dyn Progress,
) -> Result<LinkResult, Error> {
    if let Some(m) = &model {
        m.check()?;
    }
    let settings = model.as_ref().map_or(settings, |m| &m.settings).clone();
    progress.start(Stage::Prepare, 0);
    let dataset = Dataset::prepare(&settings, column_names, records)?;
    progress.start(Stage::Block, 2 * settings.blocking_rules.len() as u64);
    let blocked = blocking::block(
        &dataset,
        settings.link_type,
        &settings.blocking_rules,
        settings.max_pairs_per_rule,
        progress,
    )?;
    progress.start(Stage::Compare, blocked.pairs.len() as u64);
    let comparisons: Vec<compare::Comparison> = settings
        .comparisons
        .iter()
        .map(|s| compare::Comparison::new(s, &dataset))
        .collect();
    let patterns = model::patterns(&dataset, &comparisons, &blocked.pairs, progress);
    progress.start(Stage::Train, blocked.rules.len() as u64 + 2);
    let model = match model {
        Some(m) => m,
        None => Model::train(&dataset, &settings, &blocked, &patterns, progress),
    };
    progress.start(Stage::Score, blocked.pairs.len() as u64);
    let floor = settings.report_min_probability.min(settings.threshold);
    let scored = score::score(&model, &dataset, &blocked.pairs, &patterns, floor, progress);
    progress.start(Stage::Cluster, 0);
    let clustering = cluster::cluster_with(&model, &dataset, &scored, constraints);
    Ok(LinkResult {
        dataset,
        model,
        scored,
        candidate_pairs: blocked.pairs.len() as u64,
        clustering,
    })
}
