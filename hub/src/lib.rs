//! The UPI hub of the Pi.Co. federation.
//!
//! It enrols Provinces and their keys, verifies and stores what nodes push ([`ingest`]),
//! keeps the transparency log and signs its checkpoints ([`transparency`]), and builds the
//! national view read by the public API ([`http`]) and pages ([`pages`]). All SQL lives in
//! [`db`]; the shared service plumbing (pool, health, metrics, layers) is `pico-service`.

pub mod admission;
pub mod appalti;
pub mod bes;
pub mod bulk;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod format;
pub mod formazione;
pub mod http;
pub mod ingest;
pub mod pages;
pub mod query;
pub mod quota;
pub mod registry;
pub mod report;
pub mod sape;
pub mod sit;
pub mod state;
pub mod transparency;

use std::future::Future;
use std::path::Path;

use axum::Router;
use pico_protocol::SecretKey;
use pico_service::lock::DataDirLock;
use pico_service::{Db, Server};

pub use config::HubConfig;
pub use state::AppState;

/// The whole application: API, pages, health and static assets, with the shared layers.
pub fn app(state: AppState) -> Router {
    let settings = state.config.http.clone();
    let transport = pico_service::http::Transport::of_public_url(&state.config.public_url);
    let health = pico_service::health::router(state.db.clone(), state.metrics.clone());
    let router = Router::new()
        .merge(http::router())
        .merge(pages::router())
        .fallback(pages::show_not_found)
        .with_state(state)
        .merge(health)
        .merge(pico_service::web::static_router());
    pico_service::http::layers(router, &settings, transport)
        .layer(axum::middleware::from_fn(quota::promote_node_headers))
}

/// Opens the data directory of an initialised hub: its database (migrated) and its key.
pub fn open(config: &HubConfig) -> anyhow::Result<AppState> {
    let key_path = config.key_path();
    let key = SecretKey::load(&key_path).map_err(|e| {
        anyhow::anyhow!(
            "impossibile caricare la chiave dell'hub {}: {e} (eseguire prima `pico-hub init`)",
            key_path.display()
        )
    })?;
    let db = open_db(&config.db_path(), config.pool_size)?;
    Ok(AppState::new(
        db,
        ingest::HubIdentity {
            key,
            log_origin: config.log_origin.clone(),
        },
        config.clone(),
    ))
}

/// Opens and migrates the database.
pub fn open_db(path: &Path, pool_size: u32) -> anyhow::Result<Db> {
    Ok(Db::open(path, db::MIGRATIONS, pool_size)?)
}

/// Opens the hub described by `config` and serves it on `listener` until `shutdown` resolves.
pub async fn run(
    config: HubConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let state = open(&config)?;
    serve(state, Server::from_listener(listener)?, shutdown).await?;
    Ok(())
}

/// Serves the hub on `server` until `shutdown` resolves, with the checkpoint task running.
/// It holds the data directory lock meanwhile, so `restore` cannot run under it.
pub async fn serve(
    state: AppState,
    server: Server,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let _lock = DataDirLock::acquire(&state.config.lock_path(), "pico-hub")
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::AddrInUse, e.to_string()))?;
    let checkpoints = tokio::spawn(transparency::run_checkpoints(state.clone()));
    let inbox = state.inbox.clone();
    let shutdown = async move {
        shutdown.await;
        // Long-polls answer at once, so the graceful stop does not wait for them.
        inbox.close();
    };
    let result = server.run(app(state), shutdown).await;
    checkpoints.abort();
    result
}
