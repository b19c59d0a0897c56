//! The shared state of the hub's handlers and background tasks.

use std::sync::Arc;

use pico_service::Db;
use pico_service::observe::Metrics;
use tokio::sync::Mutex;

use crate::config::HubConfig;
use crate::ingest::HubIdentity;
use crate::quota::NodeQuota;

/// Everything a handler needs; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database (read pool and blocking bridge).
    pub db: Db,
    /// Held by whoever writes the log (ingest, checkpoints): one writer, waited for
    /// asynchronously so that waiting pushes hold no database connection.
    pub writer: Arc<Mutex<()>>,
    /// The hub's key and log origin.
    pub hub: Arc<HubIdentity>,
    /// The configuration it was started with.
    pub config: Arc<HubConfig>,
    /// Per-node push limits.
    pub quota: NodeQuota,
    /// Prometheus recorder.
    pub metrics: Metrics,
}

impl AppState {
    /// State over an opened database and a loaded key.
    pub fn new(db: Db, hub: HubIdentity, config: HubConfig) -> AppState {
        AppState {
            db,
            writer: Arc::new(Mutex::new(())),
            hub: Arc::new(hub),
            quota: NodeQuota::new(config.quota.clone()),
            config: Arc::new(config),
            metrics: Metrics::global(),
        }
    }
}
