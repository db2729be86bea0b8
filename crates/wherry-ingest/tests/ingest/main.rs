//! Ingest on SQLite and on PostgreSQL: nothing lost, exactly the broken rows
//! quarantined, idempotent, bad files refused with the store untouched.

mod util;

mod bad_input;
mod chunks;
mod county;
mod properties;
mod versions;
