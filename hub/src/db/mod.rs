//! All SQL of the hub: plain synchronous functions over `&Connection` / `&Transaction`.
//!
//! Async code reaches this layer only through `pico_service::Db::call` (the blocking pool),
//! and every write of ingest goes through the one writer of [`crate::state::AppState`], so
//! the runtime is never blocked on SQLite and ingest has exactly one writer.

pub mod appalti;
pub mod attachments;
pub mod bes;
pub mod bulk;
pub mod catalogue;
pub mod contributions;
pub mod formazione;
pub mod keys;
pub mod log;
pub mod national;
pub mod networks;
pub mod practices;
pub mod registry;
pub mod report;
pub mod sape;
mod schema;
pub mod sit;

pub use schema::{MIGRATION_FILES, MIGRATIONS, SCHEMA_VERSION};

/// Why a database operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite reported an error.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// The shared plumbing (pool, migrations, blocking task) failed.
    #[error(transparent)]
    Service(#[from] pico_service::DbError),
    /// A stored value is not in the form the hub wrote.
    #[error("corrupt stored value in {table}: {detail}")]
    Corrupt {
        /// Table holding it.
        table: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// The registry could not be read.
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
}

/// Shorthand for a stored value that does not parse.
pub(crate) fn corrupt(table: &'static str, detail: impl std::fmt::Display) -> DbError {
    DbError::Corrupt {
        table,
        detail: detail.to_string(),
    }
}

/// Seconds since the Unix epoch, as stored in every time column.
pub fn now_unix() -> i64 {
    pico_protocol::Timestamp::now().unix()
}

/// RFC 3339 UTC text of a stored time.
pub fn rfc3339(unix: i64) -> String {
    pico_protocol::Timestamp::from_unix(unix)
        .map(|t| t.to_string())
        .unwrap_or_default()
}
