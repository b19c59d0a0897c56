//! What the Province node and the UPI hub share as *services*: HTTP conventions
//! (problem+json errors, pagination, limits), observability (tracing spans, Prometheus
//! metrics, health endpoints), SQLite plumbing (pool, migrations, backup) and the vendored
//! Bootstrap Italia assets. It knows nothing of the wire format (that is `pico-protocol`) and
//! nothing of either service's domain, so `node` and `hub` can both depend on it without
//! depending on each other.
//!
//! A service uses it in this order (see `pico-node`'s `lib.rs` for the whole picture):
//!
//! 1. [`config::load`] its config struct (defaults → TOML file → `PREFIX_*` environment);
//! 2. [`observe::init_tracing`] and [`observe::Metrics::global`];
//! 3. [`db::Db::open`] its SQLite file with its [`db::Migrations`];
//! 4. build its `Router`, merge [`health::router`] and [`web::static_router`], wrap it with
//!    [`http::layers`];
//! 5. [`server::Server::bind`] then [`server::Server::run`] with [`server::shutdown_signal`].

pub mod cli;
pub mod config;
pub mod csv;
pub mod db;
pub mod download;
pub mod format;
pub mod health;
pub mod http;
pub mod json;
pub mod lock;
pub mod migration_files;
pub mod observe;
pub mod openapi;
pub mod page;
pub mod page_cache;
pub mod problem;
pub mod ratelimit;
pub mod server;
pub mod text;
pub mod web;

pub use db::{Db, DbError};
pub use json::Json;
pub use page::{Limit, Page, PageParams};
pub use problem::{Problem, ProblemDocument};
pub use server::Server;
