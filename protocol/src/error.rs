//! The errors a receiver reports about an entry, each with a stable code for problem+json.

use crate::Hash32;
use crate::canonical::CanonicalError;
use crate::ids::{KeyId, ProvinceCode, Seq};

/// Why an entry (or a receipt) was refused. `code()` is the stable identifier used on the
/// wire (`problem+json` `code` member) and in the test vectors; SPEC.md §7 lists them all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// The serialised entry or request is larger than the limit.
    #[error("la voce è di {size} byte, oltre il limite di {limit} byte")]
    Oversize {
        /// Size received (or at least received before giving up).
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The envelope is not a JSON object of the expected shape, or a part is badly encoded.
    #[error("formato non valido: {0}")]
    Malformed(String),
    /// The entry declares a protocol version this receiver does not speak.
    #[error(
        "la versione {found} del protocollo non è supportata; versioni supportate: {supported:?}"
    )]
    UnsupportedVersion {
        /// The version in the entry.
        found: u64,
        /// The versions this receiver speaks.
        supported: &'static [u64],
    },
    /// The JWS `alg` is not `EdDSA` (this refuses `none`, `HS256` and every other).
    #[error(
        "l'algoritmo di firma {0:?} non è accettato: l'unico algoritmo accettato è \"EdDSA\" (Ed25519)"
    )]
    UnsupportedAlgorithm(String),
    /// No key with this id is known to the receiver.
    #[error(
        "la chiave {0} non è conosciuta: registrarla all'hub (`pico-hub enrol`) oppure annunciarla con una rotazione della chiave"
    )]
    UnknownKey(KeyId),
    /// The key exists but may not sign this entry (another Province's key, or not yet valid).
    #[error("la chiave {kid} non può firmare la voce n. {seq} della Provincia {sender}: {reason}")]
    UnauthorisedKey {
        /// The key that signed.
        kid: KeyId,
        /// The sender named in the entry.
        sender: ProvinceCode,
        /// The entry's sequence number.
        seq: Seq,
        /// Why not.
        reason: &'static str,
    },
    /// The key was revoked from a sequence number at or before this entry's.
    #[error(
        "la chiave {kid} è revocata dalla voce n. {revoked_from} in poi: non può firmare la voce n. {seq}"
    )]
    RevokedKey {
        /// The revoked key.
        kid: KeyId,
        /// First sequence number for which it is revoked.
        revoked_from: Seq,
        /// The entry's sequence number.
        seq: Seq,
    },
    /// The signature does not verify with the key.
    #[error("la firma non è valida: la voce è stata modificata oppure firmata con un'altra chiave")]
    BadSignature,
    /// The protected header, the entry header or the body is not canonical JSON.
    #[error("{part}: non è JSON canonico: {source}")]
    NonCanonical {
        /// Which part, in Italian: `intestazione protetta`, `intestazione della voce`, `corpo`….
        part: &'static str,
        /// The first problem found.
        source: CanonicalError,
    },
    /// The body's length or SHA-256 differ from those the signed header declares.
    #[error("il corpo non corrisponde all'intestazione firmata: {0}")]
    BodyMismatch(&'static str),
    /// The body is canonical JSON but not a valid payload of the declared kind.
    #[error("contenuto di tipo {kind} non valido: {detail}")]
    InvalidPayload {
        /// The declared kind.
        kind: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// The entry's seq is ahead of the next expected one.
    #[error(
        "voci mancanti: attesa la voce n. {expected}, ricevuta la n. {found}; inviare prima le voci mancanti"
    )]
    Gap {
        /// The next sequence number the receiver expects.
        expected: Seq,
        /// The one received.
        found: Seq,
    },
    /// The entry's `prev` is not the hash of the receiver's entry at seq − 1.
    #[error("la voce n. {seq} non segue il registro: prev è {found}, atteso {expected}")]
    PrevMismatch {
        /// The entry's sequence number.
        seq: Seq,
        /// The hash of the stored previous entry.
        expected: Hash32,
        /// The prev the entry declares.
        found: Hash32,
    },
    /// A different entry was already accepted at this seq: the sender forked its log.
    #[error(
        "equivocazione: è già stata accettata una voce n. {seq} diversa (conservata {stored}, ricevuta {received})"
    )]
    Equivocation {
        /// The contested sequence number.
        seq: Seq,
        /// Hash of the entry accepted earlier.
        stored: Hash32,
        /// Hash of the entry received now.
        received: Hash32,
    },
}

impl EntryError {
    /// Stable, machine-readable code of the error (see SPEC.md §7).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Oversize { .. } => "oversize",
            Self::Malformed(_) => "malformed_envelope",
            Self::UnsupportedVersion { .. } => "unsupported_version",
            Self::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            Self::UnknownKey(_) => "unknown_key",
            Self::UnauthorisedKey { .. } => "unauthorised_key",
            Self::RevokedKey { .. } => "revoked_key",
            Self::BadSignature => "bad_signature",
            Self::NonCanonical { .. } => "non_canonical",
            Self::BodyMismatch(_) => "body_mismatch",
            Self::InvalidPayload { .. } => "invalid_payload",
            Self::Gap { .. } => "seq_gap",
            Self::PrevMismatch { .. } => "prev_mismatch",
            Self::Equivocation { .. } => "equivocation",
        }
    }

    /// The HTTP status a receiver answers with (SPEC.md §7).
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Oversize { .. } => 413,
            Self::UnknownKey(_) | Self::UnauthorisedKey { .. } | Self::RevokedKey { .. } => 403,
            Self::BadSignature => 401,
            Self::Gap { .. } | Self::PrevMismatch { .. } | Self::Equivocation { .. } => 409,
            _ => 400,
        }
    }
}
