//! Signed entries of a node's append-only log: building, signing, hashing, and the wire form.
//!
//! On the wire an entry is a JWS flattened JSON object with one extra member, `body`:
//!
//! ```text
//! {"protected":"<b64url header>","payload":"<b64url entry header>","signature":"<b64url>","body":{…}}
//! ```
//!
//! The JWS payload is a small *entry header* (version, kind, sender, seq, prev, time) that
//! commits to the body by its SHA-256 and length. The body is the payload itself, canonical
//! JSON embedded as it is. This keeps the signed input small: Ed25519 hashes everything it
//! signs with SHA-512, which is slower than the SHA-256 that binds a large body, and the body
//! needs no base64. Standard JOSE libraries verify the JWS and ignore `body` (RFC 7515 §7.2.1
//! allows extra members); anyone can then check the body against `body_sha256`.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::canonical;
use crate::error::EntryError;
use crate::hash::Hash32;
use crate::ids::{ProvinceCode, Seq};
use crate::jws::Jws;
use crate::keys::SecretKey;
use crate::limits::MAX_ENTRY_BYTES;
use crate::payload::{Payload, PayloadKind};
use crate::timestamp::Timestamp;

/// JWS `typ` of an entry.
pub const ENTRY_TYP: &str = "pico-entry";

/// Domain-separation prefix of the entry hash.
pub const ENTRY_HASH_PREFIX: &[u8] = b"pico-entry-v1\n";

/// The signed header of an entry (the JWS payload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryHeader {
    /// Protocol version.
    pub v: u64,
    /// Kind of payload in the body.
    pub kind: PayloadKind,
    /// Province whose log this entry belongs to.
    pub sender: ProvinceCode,
    /// Position in the sender's log, from 1.
    pub seq: Seq,
    /// Entry hash of the entry at `seq - 1`; all zeros for seq 1.
    pub prev: Hash32,
    /// When the node signed the entry (advisory).
    pub iat: Timestamp,
    /// SHA-256 of the body bytes.
    pub body_sha256: Hash32,
    /// Length of the body in bytes.
    pub body_len: u64,
}

/// An entry as it travels and as it is stored: the exact bytes a receiver verifies.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedEntry {
    /// BASE64URL of the protected header.
    pub protected: String,
    /// BASE64URL of the canonical entry header.
    pub payload: String,
    /// BASE64URL of the Ed25519 signature.
    pub signature: String,
    /// The payload, canonical JSON, embedded verbatim.
    pub body: Box<RawValue>,
}

/// The wire form as it is read (SPEC §5.1): exactly the four members, each once, in any order.
/// The three JWS members are taken as they appear, so an escape sequence in one (which no
/// base64url string needs) can be refused: each member then has one spelling on the wire.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireEntry<'a> {
    #[serde(borrow)]
    protected: Cow<'a, str>,
    #[serde(borrow)]
    payload: Cow<'a, str>,
    #[serde(borrow)]
    signature: Cow<'a, str>,
    #[serde(borrow)]
    body: &'a RawValue,
}

impl PartialEq for SignedEntry {
    fn eq(&self, other: &Self) -> bool {
        self.protected == other.protected
            && self.payload == other.payload
            && self.signature == other.signature
            && self.body.get() == other.body.get()
    }
}

impl Eq for SignedEntry {}

/// What a node signs: the header fields it chooses and the payload.
#[derive(Debug, Clone)]
pub struct EntryDraft<'a> {
    /// The node's Province.
    pub sender: ProvinceCode,
    /// The next seq of the node's log.
    pub seq: Seq,
    /// Entry hash of the node's previous entry ([`Hash32::ZERO`] for seq 1).
    pub prev: Hash32,
    /// Signing time.
    pub iat: Timestamp,
    /// The payload.
    pub payload: &'a Payload,
}

impl EntryDraft<'_> {
    /// Serialises the payload canonically and signs the entry.
    pub fn sign(&self, key: &SecretKey) -> Result<SignedEntry, EntryError> {
        let body = self
            .payload
            .to_canonical()
            .map_err(|e| EntryError::InvalidPayload {
                kind: self.payload.kind().as_str(),
                detail: e.to_string(),
            })?;
        let invalid = |detail| EntryError::InvalidPayload {
            kind: self.payload.kind().as_str(),
            detail,
        };
        self.payload.validate().map_err(invalid)?;
        if let Payload::DatasetBatch(batch) = self.payload {
            batch.check_comuni(self.sender).map_err(invalid)?;
        }
        sign_raw(key, &self.header_for(&body), body)
    }

    fn header_for(&self, body: &[u8]) -> EntryHeader {
        EntryHeader {
            v: self.payload.kind().since_version(),
            kind: self.payload.kind(),
            sender: self.sender,
            seq: self.seq,
            prev: self.prev,
            iat: self.iat,
            body_sha256: Hash32::digest_of(&[body]),
            body_len: body.len() as u64,
        }
    }
}

/// Signs a header and a body as they are. Public so that test vectors can build deliberately
/// broken entries; nodes use [`EntryDraft::sign`].
#[doc(hidden)]
pub fn sign_raw(
    key: &SecretKey,
    header: &EntryHeader,
    body: Vec<u8>,
) -> Result<SignedEntry, EntryError> {
    let header_bytes =
        canonical::to_vec(header).map_err(|e| EntryError::Malformed(e.to_string()))?;
    sign_raw_bytes(key, &header_bytes, body)
}

/// Signs header bytes and body bytes exactly as given, canonical or not (test vectors only).
#[doc(hidden)]
pub fn sign_raw_bytes(
    key: &SecretKey,
    header_bytes: &[u8],
    body: Vec<u8>,
) -> Result<SignedEntry, EntryError> {
    let jws = Jws::sign(key, ENTRY_TYP, header_bytes);
    let body = String::from_utf8(body)
        .ok()
        .and_then(|text| RawValue::from_string(text).ok())
        .ok_or_else(|| EntryError::Malformed("il corpo non è JSON".into()))?;
    let entry = SignedEntry {
        protected: jws.protected,
        payload: jws.payload,
        signature: jws.signature,
        body,
    };
    let size = entry.to_bytes().len();
    if size > MAX_ENTRY_BYTES {
        return Err(EntryError::Oversize {
            size,
            limit: MAX_ENTRY_BYTES,
        });
    }
    Ok(entry)
}

impl SignedEntry {
    /// Parses the wire form, refusing oversized input before parsing it.
    pub fn from_bytes(bytes: &[u8]) -> Result<SignedEntry, EntryError> {
        if bytes.len() > MAX_ENTRY_BYTES {
            return Err(EntryError::Oversize {
                size: bytes.len(),
                limit: MAX_ENTRY_BYTES,
            });
        }
        let wire: WireEntry<'_> =
            serde_json::from_slice(bytes).map_err(|e| EntryError::Malformed(e.to_string()))?;
        let unescaped = |member: &str, text: Cow<'_, str>| match text {
            Cow::Borrowed(text) => Ok(text.to_owned()),
            Cow::Owned(_) => Err(EntryError::Malformed(format!(
                "{member} contiene una sequenza di escape: scrivere i caratteri base64url così come sono"
            ))),
        };
        Ok(SignedEntry {
            protected: unescaped("protected", wire.protected)?,
            payload: unescaped("payload", wire.payload)?,
            signature: unescaped("signature", wire.signature)?,
            body: wire.body.to_owned(),
        })
    }

    /// The `sender` the entry header names, read without any check (`None` when the header
    /// does not decode to an object with a string `sender`). Only for deciding, before
    /// verification, that a push holds one sender's entries (SPEC §11).
    pub fn sender_unverified(&self) -> Option<String> {
        let bytes = crate::jws::decode_b64("payload", &self.payload).ok()?;
        let header: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        header.get("sender")?.as_str().map(str::to_owned)
    }

    /// The wire form: compact JSON with `body` embedded verbatim. A node stores these bytes
    /// in its outbox and resends them unchanged.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Four strings and a raw value always serialise.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The JWS part of the entry.
    pub fn jws(&self) -> Jws {
        Jws {
            protected: self.protected.clone(),
            payload: self.payload.clone(),
            signature: self.signature.clone(),
        }
    }

    /// The entry hash: SHA-256 of `"pico-entry-v1\n"` followed by the JWS signing input
    /// (`protected "." payload`). It commits to the body through `body_sha256`, and it does
    /// not depend on the signature's encoding.
    pub fn entry_hash(&self) -> Hash32 {
        Hash32::digest_of(&[
            ENTRY_HASH_PREFIX,
            self.protected.as_bytes(),
            b".",
            self.payload.as_bytes(),
        ])
    }

    /// The body bytes exactly as received.
    pub fn body_bytes(&self) -> &[u8] {
        self.body.get().as_bytes()
    }

    /// Decodes the entry header without checking the signature. Only for display and
    /// routing of entries already verified or stored; receivers use [`crate::verify`].
    pub fn header_unverified(&self) -> Result<EntryHeader, EntryError> {
        let bytes = crate::jws::decode_b64("payload", &self.payload)?;
        serde_json::from_slice(&bytes)
            .map_err(|e| EntryError::Malformed(format!("entry header: {e}")))
    }
}
