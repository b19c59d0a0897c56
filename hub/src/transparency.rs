//! Signed checkpoints of the transparency log, and the task that keeps them fresh.
//!
//! Every `checkpoint_interval_ms` (at most a minute) the task looks at the log: when it grew, it
//! signs a checkpoint of the new size and stores it (every checkpoint is kept, one row per
//! size). When it did not, the heartbeat re-signs the same checkpoint. Ed25519 signatures are
//! deterministic, so the heartbeat note is byte for byte the latest one: rather than mint a
//! new note (C2SP discourages extension lines, and a timestamp line would make witnesses see
//! "new" checkpoints of an unchanged log), the hub records the time it last confirmed the note
//! (`confirmed_at`, served as `Last-Modified`). A monitor that sees that time stop advancing
//! knows the hub stopped.

use std::time::Duration;

use pico_protocol::checkpoint::{Checkpoint, note_verifier_key};
use pico_protocol::merkle;
use rusqlite::Connection;

use crate::db::log::{self, DbTree, StoredCheckpoint};
use crate::error::HubError;
use crate::ingest::HubIdentity;
use crate::state::AppState;

/// The C2SP verifier key of the hub's checkpoints (`<origin>+<id>+<key>`).
pub fn verifier_key(hub: &HubIdentity) -> String {
    note_verifier_key(&hub.log_origin, &hub.key.as_dalek().verifying_key()).unwrap_or_default()
}

/// Signs a checkpoint of the log's current size if it grew since the latest one, otherwise
/// confirms the latest one. Run it under the writer lock.
pub fn sign_or_confirm(conn: &Connection, hub: &HubIdentity) -> Result<StoredCheckpoint, HubError> {
    let tree = DbTree::open(conn)?;
    let size = merkle::NodeSource::size(&tree);
    let now = crate::db::now_unix();
    if let Some(latest) = log::latest_checkpoint(conn)?
        && latest.size == size
    {
        log::confirm_checkpoint(conn, size, now)?;
        return Ok(StoredCheckpoint {
            confirmed_at: now,
            ..latest
        });
    }
    let root = merkle::root_at(&tree, size)?;
    let note = Checkpoint::new(hub.log_origin.clone(), size, root)
        .sign(&hub.log_origin, hub.key.as_dalek())
        .map_err(|e| crate::db::corrupt("checkpoints", e))?;
    let checkpoint = StoredCheckpoint {
        size,
        root,
        note,
        signed_at: now,
        confirmed_at: now,
    };
    log::insert_checkpoint(conn, &checkpoint)?;
    Ok(checkpoint)
}

/// One run of the task: takes the writer lock, then signs or confirms.
pub async fn tick(state: &AppState) -> Result<StoredCheckpoint, HubError> {
    let _writer = state.writer.lock().await;
    let hub = state.hub.clone();
    state.db.call(move |conn| sign_or_confirm(conn, &hub)).await
}

/// Runs forever: a checkpoint at start-up, then one per interval.
pub async fn run_checkpoints(state: AppState) {
    let period = Duration::from_millis(state.config.checkpoint_interval_ms.clamp(1, 60_000));
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        match tick(&state).await {
            Ok(checkpoint) => {
                metrics::gauge!("hub_log_size").set(checkpoint.size as f64);
                tracing::debug!(log.size = checkpoint.size, "checkpoint current");
            }
            Err(error) => {
                let _problem = error.into_problem();
            }
        }
    }
}
