//! Publishing to the UPI hub: the node's signing identity ([`Signer`]), the background
//! [`publisher`] that delivers the outbox and stores receipts, then [`uploads`] the files the
//! accepted entries declare, the [`transparency`] checks of the hub's log, and the status API
//! and admin page ([`api`]).
//!
//! Entries are born in `db::federation::append_entry`, inside the transaction of the change
//! they record; this module only moves their stored bytes.

pub mod api;
pub mod cli;
pub mod client;
pub mod publisher;
pub mod transparency;
pub mod uploads;

use std::sync::Arc;

use pico_protocol::{ProvinceCode, SecretKey};
use tokio::sync::Notify;

use crate::auth::policy::{self, Action};
use crate::modules::{Audience, ModuleKit, NavEntry};

/// The node's Province and signing key, loaded once at start.
#[derive(Debug)]
pub struct Signer {
    /// The node's Province (the entries' `sender`).
    pub province: ProvinceCode,
    /// Its signing key (hidden from `Debug` by its type).
    pub key: SecretKey,
}

/// Wakes the publisher when an entry was just committed, so that it does not wait for its
/// next poll. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Wake(Arc<Notify>);

impl Wake {
    /// Signals that the outbox grew.
    pub fn notify(&self) {
        self.0.notify_one();
    }

    /// Waits for a signal.
    pub async fn notified(&self) {
        self.0.notified().await;
    }
}

/// Stable alarm kinds.
pub mod alarm {
    /// The hub holds more of this node's log than the node (a restored old backup, or a fork).
    pub const LOG_BEHIND_HUB: &str = "log_behind_hub";
    /// The hub presented a key different from the one pinned.
    pub const HUB_KEY_CHANGED: &str = "hub_key_changed";
    /// The hub refused an entry for a reason retrying cannot fix.
    pub const ENTRY_REFUSED: &str = "entry_refused";
    /// A receipt did not verify or did not match the entry.
    pub const BAD_RECEIPT: &str = "bad_receipt";
    /// A checkpoint did not verify with the pinned key.
    pub const CHECKPOINT_INVALID: &str = "checkpoint_invalid";
    /// A checkpoint is not consistent with the last accepted one.
    pub const CHECKPOINT_INCONSISTENT: &str = "checkpoint_inconsistent";
    /// An entry's inclusion proof failed.
    pub const INCLUSION_FAILED: &str = "inclusion_failed";
    /// The hub refused the bytes of a declared attachment (404 undeclared, 422 mismatch).
    pub const ATTACHMENT_REFUSED: &str = "attachment_refused";
}

/// Publishing's part of the OpenAPI document.
#[derive(Debug, utoipa::OpenApi)]
#[openapi(paths(api::get_federation_status))]
pub struct FederationApi;

/// Publishing to the hub in the module registry: its status API and admin page.
pub const KIT: ModuleKit = ModuleKit {
    api: api::api_router,
    pages: api::page_router,
    openapi: <FederationApi as utoipa::OpenApi>::openapi,
    nav: Some(NavEntry {
        label: "Pubblicazione",
        path: "/admin/federation",
        covers_subpaths: false,
        audience: Audience::SignedIn(|role| policy::permits(role, Action::ViewFederation)),
    }),
    // Whatever the publisher was doing when aborted is either committed or will be redone
    // from the database.
    background: |state| {
        let publisher = publisher::spawn(
            state.db.clone(),
            state.signer.clone(),
            state.config.federation.clone(),
            state.wake.clone(),
        );
        if publisher.is_none() {
            tracing::warn!("publishing is off: no [federation] hub_url configured");
        }
        publisher
    },
    cli: Some(cli::CLI),
    ..ModuleKit::new("federation")
};
