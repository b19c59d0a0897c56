//! Receipts: the hub's signed statement that it accepted an entry and where it logged it.
//!
//! A receipt is a JWS flattened JSON object (`typ` `pico-receipt`) signed with the hub's key,
//! whose payload is a canonical [`Receipt`]. A node keeps every receipt: with the hub's
//! checkpoints and inclusion proofs it proves what the hub accepted.

use serde::{Deserialize, Serialize};

use crate::Hash32;
use crate::canonical;
use crate::error::EntryError;
use crate::ids::{ProvinceCode, Seq};
use crate::jws::Jws;
use crate::keys::{PublicKey, SecretKey};
use crate::limits::SUPPORTED_VERSIONS;
use crate::timestamp::Timestamp;

/// JWS `typ` of a receipt.
pub const RECEIPT_TYP: &str = "pico-receipt";

/// Outcome stated by a receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptStatus {
    /// The entry is stored and logged.
    Accepted,
}

/// What the hub signs for each accepted entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// Protocol version.
    pub v: u64,
    /// The hub's log origin (as in its checkpoints).
    pub log: String,
    /// The Province whose entry this is.
    pub sender: ProvinceCode,
    /// The entry's seq.
    pub seq: Seq,
    /// The entry hash.
    pub entry_hash: Hash32,
    /// Index of the entry's leaf in the hub's transparency log (from 0).
    pub log_index: u64,
    /// When the hub accepted it.
    pub received_at: Timestamp,
    /// Always `accepted` in this version.
    pub status: ReceiptStatus,
}

impl Receipt {
    /// Signs the receipt with the hub's key.
    pub fn sign(&self, hub_key: &SecretKey) -> Jws {
        // A struct of strings and small integers always serialises canonically.
        let payload = canonical::to_vec(self).unwrap_or_default();
        Jws::sign(hub_key, RECEIPT_TYP, &payload)
    }

    /// Verifies a receipt signed by the hub's key and returns its content.
    pub fn verify(jws: &Jws, hub_key: &PublicKey) -> Result<Receipt, EntryError> {
        let protected = jws.protected_header(RECEIPT_TYP)?;
        if protected.kid != hub_key.key_id() {
            return Err(EntryError::UnknownKey(protected.kid));
        }
        jws.verify_signature(hub_key)?;
        let bytes = jws.payload_bytes()?;
        canonical::check(&bytes).map_err(|source| EntryError::NonCanonical {
            part: "ricevuta",
            source,
        })?;
        let receipt: Receipt = serde_json::from_slice(&bytes)
            .map_err(|e| EntryError::Malformed(format!("ricevuta: {e}")))?;
        if !SUPPORTED_VERSIONS.contains(&receipt.v) {
            return Err(EntryError::UnsupportedVersion {
                found: receipt.v,
                supported: SUPPORTED_VERSIONS,
            });
        }
        Ok(receipt)
    }
}
