//! All SQL of the node: plain synchronous functions over `&Connection`/`&Transaction`, one
//! file per domain. Async code reaches them through `pico_service::Db::call`.
//!
//! Times are stored as Unix seconds (`INTEGER`) and rendered as RFC 3339 UTC at the edge.

pub mod audit;
pub mod comuni;
pub mod datasets;
pub mod federation;
pub mod helpdesk;
pub mod networks;
pub mod people;
pub mod practices;
pub mod schema;
pub mod sua;
pub mod sua_data;
pub mod sua_national;

pub use schema::MIGRATIONS;

/// Current time in Unix seconds.
pub fn now() -> i64 {
    pico_protocol::Timestamp::now().unix()
}

/// Renders Unix seconds as RFC 3339 UTC (`2026-01-31T09:00:00Z`).
pub fn rfc3339(unix: i64) -> String {
    pico_protocol::Timestamp::from_unix(unix).map_or_else(|_| String::new(), |t| t.to_string())
}
