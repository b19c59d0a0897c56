//! The wire format of the Pi.Co. federation, as a pure library.
//!
//! Everything a Province node and the UPI hub exchange is defined here and nowhere else:
//! identifiers ([`ids`]), canonical JSON ([`canonical`]), keys ([`keys`]), signed log entries
//! ([`envelope`]) and their payloads ([`payload`]), verification ([`verify`]), receipts
//! ([`receipt`]), and the transparency log ([`merkle`], [`checkpoint`]).
//!
//! The crate performs no network or database I/O; the only file access is reading and writing
//! key files in [`keys`]. `protocol/SPEC.md` is the normative description of the same format.

pub mod canonical;
pub mod checkpoint;
pub mod dcat;
pub mod envelope;
pub mod error;
pub mod hash;
pub mod ids;
pub mod jws;
pub mod keys;
pub mod limits;
pub mod merkle;
pub mod payload;
pub mod rdf;
pub mod receipt;
pub mod request_auth;
pub mod targets;
pub mod timestamp;
pub mod verify;

pub use envelope::{EntryDraft, EntryHeader, SignedEntry};
pub use error::EntryError;
pub use hash::Hash32;
pub use ids::{ComuneCode, KeyId, NodeId, ProvinceCode, Seq, UtsCode};
pub use keys::{PublicKey, SecretKey};
pub use payload::{Payload, PayloadKind};
pub use receipt::Receipt;
pub use timestamp::Timestamp;
pub use verify::{
    ChainStatus, Head, KeyDirectory, KeyRecord, VerifiedEntry, check_chain, verify_entry,
};
