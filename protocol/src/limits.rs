//! The federation's explicit limits, shared by senders and receivers.
//!
//! A node never builds an entry or a push above these; the hub refuses anything above them
//! with the `oversize` error, before reading a body whole.

/// Protocol versions this library speaks. A receiver lists them when it refuses another.
pub const SUPPORTED_VERSIONS: &[u64] = &[1, 2];

/// The version this library writes in signed requests and receipts. An entry is signed with
/// the version that defines its kind ([`crate::PayloadKind::since_version`]).
pub const CURRENT_VERSION: u64 = 1;

/// Largest serialised entry (the whole JSON object, body included), in bytes.
pub const MAX_ENTRY_BYTES: usize = 4 * 1024 * 1024;

/// Most entries in one push request.
pub const MAX_ENTRIES_PER_PUSH: usize = 256;

/// Largest push request body, in bytes.
pub const MAX_PUSH_BYTES: usize = 16 * 1024 * 1024;

/// Most records (upserts plus deletes) in one dataset batch entry.
pub const MAX_RECORDS_PER_BATCH: usize = 10_000;

/// Largest attachment of a best practice or network message, in bytes.
pub const MAX_ATTACHMENT_BYTES: u64 = 20 * 1024 * 1024;
