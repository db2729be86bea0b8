//! The crate's one error type.

/// Why linkage could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The settings are inconsistent.
    #[error("settings: {0}")]
    Settings(String),
    /// There are no records.
    #[error("there are no records to link")]
    NoRecords,
    /// More records than the engine indexes.
    #[error("too many records (at most 4,294,967,294)")]
    TooManyRecords,
    /// Columns the settings use are not in the input.
    #[error("missing columns: {}", .0.join(", "))]
    MissingColumns(Vec<String>),
    /// Two records share a source and record id.
    #[error("duplicate (source, record_id): {}", .0.join(", "))]
    DuplicateIds(Vec<String>),
    /// A blocking rule would produce too many pairs.
    #[error(
        "blocking rule `{rule}` would produce {pairs} pairs, more than the maximum of {max}; make it stricter or raise max_pairs_per_rule"
    )]
    TooManyPairs {
        /// The rule.
        rule: String,
        /// Pairs it would produce.
        pairs: u64,
        /// The maximum.
        max: u64,
    },
    /// A model does not fit the data or is malformed.
    #[error("model: {0}")]
    Model(String),
}
