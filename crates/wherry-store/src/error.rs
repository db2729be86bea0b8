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
    /// The store could not be opened: what went wrong and what to do, in
    /// one line (the location is the caller's to add).
    #[error("{0}")]
    Open(String),
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

impl Error {
    /// Whether the database was too busy to answer in time (SQLite's
    /// writer lock past the busy timeout, no connection free in the pool,
    /// PostgreSQL out of connections or a lock not granted): the request
    /// may be tried again shortly.
    pub fn is_overloaded(&self) -> bool {
        match self {
            Error::Database(sqlx::Error::PoolTimedOut) => true,
            Error::Database(sqlx::Error::Database(d)) => matches!(
                d.code().as_deref(),
                // SQLITE_BUSY, SQLITE_LOCKED; PostgreSQL's too_many_connections, lock_not_available.
                Some("5" | "6" | "517" | "262" | "53300" | "55P03")
            ),
            _ => false,
        }
    }
}
