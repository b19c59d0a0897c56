//! The shared state of the hub's handlers and background tasks.

use std::sync::Arc;
use std::time::Duration;

use pico_service::Db;
use pico_service::observe::Metrics;
use tokio::sync::{Mutex, watch};

use crate::admission::Admission;
use crate::config::HubConfig;
use crate::ingest::{HubIdentity, IngestConnection};
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
    /// Wakes inbox long-polls when a network post is accepted or the hub stops.
    pub inbox: InboxSignal,
    /// Per-Province partial aggregates of the national datasets.
    pub aggregates: Arc<crate::db::national::AggregateCache>,
    /// The budget of push and upload bytes in flight.
    pub admission: Admission,
    /// The connection ingest writes with (under `writer`).
    pub ingest: IngestConnection,
}

/// What inbox long-polls wait on: the latest inbox cursor (moved by ingest after commit) and
/// whether the hub is shutting down (so a 60 s poll does not hold up a graceful stop).
#[derive(Debug, Clone)]
pub struct InboxSignal {
    latest: Arc<watch::Sender<i64>>,
    closing: Arc<watch::Sender<bool>>,
}

impl InboxSignal {
    /// A signal with nothing posted yet.
    pub fn new() -> InboxSignal {
        InboxSignal {
            latest: Arc::new(watch::channel(0).0),
            closing: Arc::new(watch::channel(false).0),
        }
    }

    /// Announces a committed post. Synchronous, so the single writer calls it from its
    /// blocking task right after the transaction commits.
    pub fn posted(&self, cursor: i64) {
        self.latest.send_if_modified(|latest| {
            let newer = cursor > *latest;
            if newer {
                *latest = cursor;
            }
            newer
        });
    }

    /// Receives every later [`InboxSignal::posted`].
    pub fn subscribe(&self) -> watch::Receiver<i64> {
        self.latest.subscribe()
    }

    /// How many inbox polls are subscribed right now (waiting, or about to read).
    pub fn waiting(&self) -> usize {
        self.latest.receiver_count()
    }

    /// Tells every waiting poll to answer now: the hub is stopping.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves once [`InboxSignal::close`] was called.
    pub async fn closed(&self) {
        let mut closing = self.closing.subscribe();
        // An error means the sender is gone, which only happens when the hub is gone.
        let _ = closing.wait_for(|closing| *closing).await;
    }
}

impl Default for InboxSignal {
    fn default() -> Self {
        InboxSignal::new()
    }
}

impl AppState {
    /// State over an opened database and a loaded key.
    pub fn new(db: Db, hub: HubIdentity, config: HubConfig) -> AppState {
        let admission = Admission::new(
            config.ingest.max_inflight_bytes,
            Duration::from_millis(config.ingest.admission_wait_ms),
        );
        let ingest = IngestConnection::new(db.clone(), config.ingest.writer_cache_mib);
        AppState {
            ingest,
            db,
            writer: Arc::new(Mutex::new(())),
            hub: Arc::new(hub),
            quota: NodeQuota::new(config.quota.clone()),
            config: Arc::new(config),
            metrics: Metrics::global(),
            inbox: InboxSignal::new(),
            aggregates: Arc::default(),
            admission,
        }
    }
}
