//! Versioned migrations, embedded in the binary and applied by `wherry init`.
//!
//! Invariant: an applied migration is never edited. Each applied migration's
//! checksum is stored; if the text in the binary no longer matches, the
//! store refuses to go on.

use sha2::{Digest, Sha256};

/// One migration.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Timestamp version, `20261122000100`.
    pub version: i64,
    /// Short name.
    pub name: &'static str,
    /// The SQL.
    pub sql: &'static str,
}

impl Migration {
    /// SHA-256 of the SQL, hex.
    pub fn checksum(&self) -> String {
        wherry_core::clock::hex(&Sha256::digest(self.sql.as_bytes()))
    }
}

/// SQLite migrations, oldest first.
pub const SQLITE: &[Migration] = &[
    Migration {
        version: 20261122000100,
        name: "initial",
        sql: include_str!("../migrations/sqlite/20261122000100_initial.sql"),
    },
    Migration {
        version: 20261122010000,
        name: "bulk_tables_without_foreign_keys",
        sql: include_str!(
            "../migrations/sqlite/20261122010000_bulk_tables_without_foreign_keys.sql"
        ),
    },
    Migration {
        version: 20261122020000,
        name: "realtime",
        sql: include_str!("../migrations/sqlite/20261122020000_realtime.sql"),
    },
    Migration {
        version: 20261122030000,
        name: "access",
        sql: include_str!("../migrations/sqlite/20261122030000_access.sql"),
    },
    Migration {
        version: 20261122040000,
        name: "generation",
        sql: include_str!("../migrations/sqlite/20261122040000_generation.sql"),
    },
    Migration {
        version: 20261202000100,
        name: "trust",
        sql: include_str!("../migrations/sqlite/20261202000100_trust.sql"),
    },
    Migration {
        version: 20261202020000,
        name: "contact_teams",
        sql: include_str!("../migrations/sqlite/20261202020000_contact_teams.sql"),
    },
    Migration {
        version: 20261204000100,
        name: "sensors",
        sql: include_str!("../migrations/sqlite/20261204000100_sensors.sql"),
    },
    Migration {
        version: 20261204000200,
        name: "sensor_alerts",
        sql: include_str!("../migrations/sqlite/20261204000200_sensor_alerts.sql"),
    },
    Migration {
        version: 20261205000100,
        name: "device_status",
        sql: include_str!("../migrations/sqlite/20261205000100_device_status.sql"),
    },
    Migration {
        version: 20261206000100,
        name: "contact_counts",
        sql: include_str!("../migrations/sqlite/20261206000100_contact_counts.sql"),
    },
];

/// PostgreSQL migrations, oldest first.
pub const POSTGRES: &[Migration] = &[
    Migration {
        version: 20261122000100,
        name: "initial",
        sql: include_str!("../migrations/postgres/20261122000100_initial.sql"),
    },
    Migration {
        version: 20261122010000,
        name: "bulk_tables_without_foreign_keys",
        sql: include_str!(
            "../migrations/postgres/20261122010000_bulk_tables_without_foreign_keys.sql"
        ),
    },
    Migration {
        version: 20261122020000,
        name: "realtime",
        sql: include_str!("../migrations/postgres/20261122020000_realtime.sql"),
    },
    Migration {
        version: 20261122030000,
        name: "access",
        sql: include_str!("../migrations/postgres/20261122030000_access.sql"),
    },
    Migration {
        version: 20261122040000,
        name: "generation",
        sql: include_str!("../migrations/postgres/20261122040000_generation.sql"),
    },
    Migration {
        version: 20261202000100,
        name: "trust",
        sql: include_str!("../migrations/postgres/20261202000100_trust.sql"),
    },
    Migration {
        version: 20261202020000,
        name: "contact_teams",
        sql: include_str!("../migrations/postgres/20261202020000_contact_teams.sql"),
    },
    Migration {
        version: 20261204000100,
        name: "sensors",
        sql: include_str!("../migrations/postgres/20261204000100_sensors.sql"),
    },
    Migration {
        version: 20261204000200,
        name: "sensor_alerts",
        sql: include_str!("../migrations/postgres/20261204000200_sensor_alerts.sql"),
    },
    Migration {
        version: 20261205000100,
        name: "device_status",
        sql: include_str!("../migrations/postgres/20261205000100_device_status.sql"),
    },
    Migration {
        version: 20261206000100,
        name: "contact_counts",
        sql: include_str!("../migrations/postgres/20261206000100_contact_counts.sql"),
    },
];

/// The table that records applied migrations (the same on both backends).
pub const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS wherry_migrations (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at TEXT NOT NULL
)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_have_the_same_versions_in_order() {
        let v = |m: &[Migration]| m.iter().map(|x| (x.version, x.name)).collect::<Vec<_>>();
        assert_eq!(v(SQLITE), v(POSTGRES));
        assert!(SQLITE.windows(2).all(|w| w[0].version < w[1].version));
    }
}
