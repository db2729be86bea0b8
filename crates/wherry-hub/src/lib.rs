//! Wherry's hub operations: the linkage engine over the store.
//!
//! - [`batch::link_run`]: link every current record under the steward's
//!   decisions, map the clusters onto the previous person ids, store the
//!   links, the link history, the review queue and the model, in one
//!   transaction (what `wherry link run` does).
//! - [`realtime::Matcher`]: place one pushed record (a partner system's
//!   record, through the server) in one transaction: store its version,
//!   match it against every current record with the last run's model, attach
//!   it to a person or create one, and queue it for review if uncertain.
//! - [`steward`]: a steward's link, unlink or review decision, applied at
//!   once, whichever path asks (API, web UI, `wherry review`).
//! - [`events::add`]: a contact event a partner's system pushes.
//!
//! The engine (`wherry-link`) knows nothing of the store and the store
//! nothing of the engine; this crate is where they meet, so the CLI and the
//! server stay thin.
//!
//! Invariant: a steward's decision wins here as in the engine: a record is
//! never attached to a person holding a record it has a cannot-link with,
//! and a must-link places it with the other record's person.
//!
//! ```
//! use wherry_hub::RunOptions;
//! // A batch run queues the same review range as the real-time matcher.
//! let options = RunOptions::default();
//! assert!(options.review.contains(0.7) && !options.review.contains(0.99));
//! ```

pub mod batch;
pub mod events;
pub mod realtime;
pub mod search;
pub mod steward;

use std::collections::BTreeMap;

use wherry_link::RawRecord;

pub use batch::{RunOptions, RunReport, link_run};
pub use realtime::{Found, Matcher, Outcome, Placed, Pushed};

/// Why a hub operation failed (the store is unchanged).
#[derive(Debug, thiserror::Error)]
// Exhaustive: the server maps each variant to a status by name.
pub enum Error {
    /// The store said no.
    #[error(transparent)]
    Store(#[from] wherry_store::Error),
    /// The caller may not do this.
    #[error(transparent)]
    Denied(#[from] wherry_access::Denied),
    /// The access rules said no, or the audit log could not be written.
    #[error(transparent)]
    Access(#[from] wherry_access::Error),
    /// The engine said no.
    #[error(transparent)]
    Link(#[from] wherry_link::Error),
    /// A stored value that is not what this version wrote.
    #[error("the store holds {what} this version of Wherry cannot read: {why}")]
    Corrupt {
        /// What.
        what: &'static str,
        /// Why.
        why: String,
    },
    /// Nothing to link.
    #[error("the store holds no records: ingest partner extracts first (wherry ingest)")]
    NoRecords,
    /// No linkage run has stored a model yet.
    #[error(
        "no linkage run has been made: run `wherry link run` before matching records in real time"
    )]
    NoModel,
    /// A record pushed for a source the store does not know.
    #[error("unknown source {0:?}: register it by ingesting an extract with its manifest first")]
    UnknownSource(String),
    /// A steward named a record that is not linked to any person.
    #[error("{0}/{1} is not a current, linked record")]
    NotLinked(String, String),
    /// A steward's reason over the length allowed.
    #[error("a reason may be at most {max} characters")]
    ReasonTooLong {
        /// The most allowed.
        max: usize,
    },
    /// A steward named the same record twice.
    #[error("left and right name the same record")]
    SameRecord,
    /// The linking task stopped.
    #[error("the linking task stopped: {0}")]
    Task(String),
}

/// The canonical fields a record may carry, in the order the engine sees
/// them (the record id and source are the record's key, not values).
pub fn canonical_columns() -> Vec<String> {
    wherry_core::Field::NAMES[2..]
        .iter()
        .map(|c| c.to_string())
        .collect()
}

/// A record as the engine takes it: its canonical fields' values in
/// [`canonical_columns`] order.
pub fn raw_record(source: &str, record_id: &str, fields: &BTreeMap<String, String>) -> RawRecord {
    RawRecord {
        source: source.to_string(),
        record_id: record_id.to_string(),
        values: wherry_link::relink::canonical_values(fields),
    }
}
