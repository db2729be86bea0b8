//! The crate's one error type.

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
// Exhaustive: the server maps each variant to a status by name.
pub enum Error {
    /// The database URL is not one Wherry knows.
    #[error(
        "database URL must start with sqlite:// or postgres:// (got a URL starting {scheme:?})"
    )]
    UnknownScheme {
        /// What it started with.
        scheme: String,
    },
    /// An applied migration's text has changed since it was applied.
    #[error(
        "migration {version} was edited after it was applied; migrations are never edited, add a new one"
    )]
    MigrationEdited {
        /// Its version.
        version: i64,
    },
    /// The database has migrations this program does not know.
    #[error("the database has migration {version}, newer than this wherry knows: upgrade wherry")]
    DatabaseNewer {
        /// The unknown version.
        version: i64,
    },
    /// The store has not been initialised.
    #[error("the store has not been initialised: run `wherry init`")]
    NotInitialised,
    /// A stored value could not be read back.
    #[error("corrupt stored value in {table}: {detail}")]
    Corrupt {
        /// Which table.
        table: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// The database said no.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}
