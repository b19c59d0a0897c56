//! The SQL of the tables every module uses (Province and Comuni, people, audit, the signed
//! log and outbox, datasets): plain synchronous functions over `&Connection`/`&Transaction`.
//! A module's own tables are read and written in its own `db.rs` (`sua::db`, `helpdesk::db` …).
//! Async code reaches them through `pico_service::Db::call`.
//!
//! Times are stored as Unix seconds (`INTEGER`) and rendered as RFC 3339 UTC at the edge.

pub mod audit;
pub mod comuni;
pub mod datasets;
pub mod federation;
pub mod lifecycle;
pub mod migration_files;
pub mod people;
pub mod schema;

pub use schema::{MIGRATION_FILES, MIGRATIONS};

/// Current time in Unix seconds.
pub fn now() -> i64 {
    pico_protocol::Timestamp::now().unix()
}

/// Renders Unix seconds as RFC 3339 UTC (`2026-01-31T09:00:00Z`).
pub fn rfc3339(unix: i64) -> String {
    pico_protocol::Timestamp::from_unix(unix).map_or_else(|_| String::new(), |t| t.to_string())
}
