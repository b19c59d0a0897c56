//! The application state shared by every handler. (The page chrome it renders is in
//! `web`, which reads the navigation from the module registry.)

use std::sync::Arc;

use pico_service::Db;
use pico_service::observe::Metrics;

use crate::config::NodeConfig;
use crate::db::comuni::Province;
use crate::modules::Registry;

/// Cloned into every handler (all fields are cheap handles).
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Configuration.
    pub config: Arc<NodeConfig>,
    /// This node's Province (read once at start-up: it never changes).
    pub province: Arc<Province>,
    /// Prometheus recorder.
    pub metrics: Metrics,
    /// The node's Province and signing key, loaded once at start.
    pub signer: Arc<crate::federation::Signer>,
    /// Wakes the publisher after a change wrote entries.
    pub wake: crate::federation::Wake,
    /// The modules this node runs ([`crate::modules::ALL`]; tests add their own).
    pub modules: Registry,
}
