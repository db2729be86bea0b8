//! The store's behaviour, on SQLite and on PostgreSQL alike.

mod basics;
mod uplinks;
