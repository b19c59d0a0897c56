//! `pico-node`: the service a Province runs for its Comuni.
//!
//! The library holds everything; `main.rs` only parses the command line. [`app`] builds the
//! router from an [`AppState`] (tests drive it directly), [`run`] serves it on a bound
//! listener until a shutdown future resolves (tests bind port 0 first, so no sleeps).

pub mod api;
pub mod attachments;
pub mod auth;
pub mod cli;
pub mod community;
pub mod config;
pub mod dati;
pub mod db;
pub mod error;
pub mod federation;
pub mod formazione;
pub mod helpdesk;
pub mod labels;
pub mod lifecycle;
pub mod modules;
pub mod networks;
pub mod people;
pub mod portale;
pub mod roles;
pub mod sape;
pub mod sit;
pub mod state;
pub mod sua;
pub mod upload;
pub mod web;

use std::future::Future;
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use pico_service::lock::DataDirLock;
use pico_service::observe::Metrics;
use pico_service::page_cache::PageCache;
use pico_service::{Db, Server, health, http};
use tokio::net::TcpListener;

pub use config::NodeConfig;
pub use state::AppState;

/// Opens the node's database (applying pending migrations) and loads its Province.
pub fn open_state(config: NodeConfig) -> anyhow::Result<AppState> {
    let db_path = config.db_path();
    if !db_path.exists() {
        anyhow::bail!(
            "nessun database del nodo in {}: eseguire prima `pico-node init --province <codice> --data-dir {}`",
            db_path.display(),
            config.data_dir.display()
        );
    }
    let db = Db::open(&db_path, db::MIGRATIONS, config.db_pool_size)?;
    let province = db::comuni::province(&*db.get()?)?
        .context("il database non ha una Provincia: non è stato creato da `pico-node init`")?;
    let signer = federation::Signer {
        province: pico_protocol::ProvinceCode::parse(&province.code)?,
        key: pico_protocol::SecretKey::load(&config.key_path()).with_context(|| {
            format!(
                "impossibile caricare la chiave di firma {}",
                config.key_path().display()
            )
        })?,
    };
    Ok(AppState {
        db,
        config: Arc::new(config),
        province: Arc::new(province),
        metrics: Metrics::global(),
        signer: Arc::new(signer),
        wake: federation::Wake::default(),
        modules: modules::ALL,
    })
}

/// The whole HTTP application: API, pages, health endpoints and static assets, wrapped in
/// the shared middleware stack.
pub fn app(state: AppState) -> Router {
    let settings = state.config.http.clone();
    let transport = http::Transport::of_public_url(&state.config.public_url);
    let router = Router::new()
        .merge(api::router(state.clone()))
        .merge(web::router(state.clone()))
        .merge(health::router(state.db.clone(), state.metrics.clone()))
        .merge(pico_service::web::static_router())
        .fallback(web::fallback)
        .with_state(state);
    http::layers(PageCache::layer(router), &settings, transport)
}

/// Serves the node on `listener` until `shutdown` resolves, holding the data directory lock.
pub async fn run(
    config: NodeConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let _lock = DataDirLock::acquire(&config.lock_path(), "pico-node")?;
    for warning in config.warnings() {
        tracing::warn!("{warning}");
    }
    let state = open_state(config)?;
    tracing::info!(node.province = %state.province.code, "Province node ready");
    // Background work of the modules (the publisher, the networks' inbox). Each is safe to
    // abort: what it did is committed, or redone from the database on the next start.
    let tasks: Vec<_> = state
        .modules
        .iter()
        .filter_map(|kit| (kit.background)(&state))
        .collect();
    let served = Server::from_listener(listener)?
        .run(app(state), shutdown)
        .await;
    for task in tasks {
        task.abort();
        let _ignored = task.await;
    }
    served?;
    Ok(())
}
