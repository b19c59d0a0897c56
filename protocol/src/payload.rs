//! What an entry carries: the payload kinds, as versioned serde types.
//!
//! A payload travels as canonical JSON in the entry's `body`. Unknown fields are refused, so a
//! typo never silently drops data. Amounts of money are decimal strings, never numbers.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Hash32;
use crate::ids::{ComuneCode, KeyId, ProvinceCode, Seq};
use crate::keys::PublicKey;
use crate::limits::{MAX_ATTACHMENT_BYTES, MAX_RECORDS_PER_BATCH};

/// The kind of an entry, named in its signed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayloadKind {
    /// Changes to a federated dataset ([`DatasetBatch`]).
    DatasetBatch,
    /// A best practice published nationally ([`BestPractice`]).
    BestPractice,
    /// A post in a thematic network ([`NetworkMessage`]).
    NetworkMessage,
    /// A new signing key announced with the current one ([`KeyRotation`]).
    KeyRotation,
    /// A key withdrawn from a given seq on ([`KeyRevocation`]).
    KeyRevocation,
}

impl PayloadKind {
    /// The kind's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DatasetBatch => "dataset_batch",
            Self::BestPractice => "best_practice",
            Self::NetworkMessage => "network_message",
            Self::KeyRotation => "key_rotation",
            Self::KeyRevocation => "key_revocation",
        }
    }
}

impl fmt::Display for PayloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A decoded payload of any kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// See [`DatasetBatch`].
    DatasetBatch(DatasetBatch),
    /// See [`BestPractice`].
    BestPractice(BestPractice),
    /// See [`NetworkMessage`].
    NetworkMessage(NetworkMessage),
    /// See [`KeyRotation`].
    KeyRotation(KeyRotation),
    /// See [`KeyRevocation`].
    KeyRevocation(KeyRevocation),
}

impl Payload {
    /// The kind of this payload.
    pub fn kind(&self) -> PayloadKind {
        match self {
            Self::DatasetBatch(_) => PayloadKind::DatasetBatch,
            Self::BestPractice(_) => PayloadKind::BestPractice,
            Self::NetworkMessage(_) => PayloadKind::NetworkMessage,
            Self::KeyRotation(_) => PayloadKind::KeyRotation,
            Self::KeyRevocation(_) => PayloadKind::KeyRevocation,
        }
    }

    /// Canonical JSON of the payload, ready to be an entry's body.
    pub fn to_canonical(&self) -> Result<Vec<u8>, crate::canonical::ToCanonicalError> {
        match self {
            Self::DatasetBatch(p) => crate::canonical::to_vec(p),
            Self::BestPractice(p) => crate::canonical::to_vec(p),
            Self::NetworkMessage(p) => crate::canonical::to_vec(p),
            Self::KeyRotation(p) => crate::canonical::to_vec(p),
            Self::KeyRevocation(p) => crate::canonical::to_vec(p),
        }
    }

    /// Parses a body of the given kind and checks the payload's own rules.
    pub fn parse(kind: PayloadKind, body: &[u8]) -> Result<Payload, String> {
        fn read<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, String> {
            serde_json::from_slice(body).map_err(|e| e.to_string())
        }
        let payload = match kind {
            PayloadKind::DatasetBatch => Payload::DatasetBatch(read(body)?),
            PayloadKind::BestPractice => Payload::BestPractice(read(body)?),
            PayloadKind::NetworkMessage => Payload::NetworkMessage(read(body)?),
            PayloadKind::KeyRotation => Payload::KeyRotation(read(body)?),
            PayloadKind::KeyRevocation => Payload::KeyRevocation(read(body)?),
        };
        payload.validate()?;
        Ok(payload)
    }

    /// Checks the rules serde cannot express (non-empty keys, limits, consistency).
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Self::DatasetBatch(p) => p.validate(),
            Self::BestPractice(p) => p.validate(),
            Self::NetworkMessage(p) => p.validate(),
            Self::KeyRotation(_) | Self::KeyRevocation(_) => Ok(()),
        }
    }
}

/// A field value of a dataset record: string, integer, boolean or null (flat records only).
pub type FieldValue = serde_json::Value;

/// One dataset record: field name to value.
pub type Record = BTreeMap<String, FieldValue>;

/// Changes to one federated dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetBatch {
    /// Dataset name: lowercase letters, digits and `_`, starting with a letter (e.g. `appalti`).
    pub dataset: String,
    /// Version of the dataset's schema the records follow.
    pub schema_version: u32,
    /// Names of the fields that together identify a record.
    pub primary_key: Vec<String>,
    /// Present when this batch is part of a full snapshot that replaces the dataset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotPart>,
    /// Records inserted or replaced (each carries every primary-key field).
    #[serde(default)]
    pub upserts: Vec<Record>,
    /// Records removed, given by their primary-key fields only.
    #[serde(default)]
    pub deletes: Vec<Record>,
}

/// Position of a batch within a full snapshot sent over several entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotPart {
    /// Identifier shared by all parts of one snapshot.
    pub id: String,
    /// This part's number, from 1.
    pub part: u32,
    /// How many parts the snapshot has. After the last, records not in the snapshot are gone.
    pub parts: u32,
}

fn valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z'))
        && name.len() <= 64
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_'))
}

impl DatasetBatch {
    fn validate(&self) -> Result<(), String> {
        if !valid_name(&self.dataset) {
            return Err(format!(
                "dataset name {:?} must be 1-64 lowercase letters, digits or '_', starting with a letter",
                self.dataset
            ));
        }
        if self.primary_key.is_empty() || !self.primary_key.iter().all(|f| valid_name(f)) {
            return Err("primary_key must list one or more field names".into());
        }
        let records = self.upserts.len() + self.deletes.len();
        if records > MAX_RECORDS_PER_BATCH {
            return Err(format!("{records} records in one batch, over the limit of {MAX_RECORDS_PER_BATCH}"));
        }
        if let Some(part) = &self.snapshot {
            if part.part == 0 || part.part > part.parts {
                return Err(format!("snapshot part {} of {} is impossible", part.part, part.parts));
            }
            if !self.deletes.is_empty() {
                return Err("a snapshot part carries no deletes: what it omits is deleted".into());
            }
        }
        for (i, record) in self.upserts.iter().enumerate() {
            for field in &self.primary_key {
                if record.get(field).is_none_or(|v| v.is_null()) {
                    return Err(format!("upsert {i} lacks primary-key field {field:?}"));
                }
            }
            for (name, value) in record {
                if value.is_array() || value.is_object() {
                    return Err(format!("upsert {i} field {name:?}: records are flat (string, integer, boolean or null)"));
                }
            }
        }
        for (i, record) in self.deletes.iter().enumerate() {
            let keys_only = record.len() == self.primary_key.len()
                && self.primary_key.iter().all(|f| record.contains_key(f));
            if !keys_only {
                return Err(format!("delete {i} must carry exactly the primary-key fields {:?}", self.primary_key));
            }
        }
        Ok(())
    }
}

/// The module a best practice or a network belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Module {
    /// Stazione Unica Appaltante (procurement for the Comuni).
    Sua,
    /// Servizio Associato Politiche Europee (EU funding).
    Sape,
    /// Servizi Innovativi Territoriali (innovative and digital services).
    Sit,
    /// Personnel policies.
    Personale,
    /// Help Desk for the Comuni.
    Helpdesk,
    /// Training.
    Formazione,
    /// Open data, indicators, PIAO and performance.
    Dati,
    /// Community and experiences.
    Community,
}

/// A file attached to a document, identified by its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    /// File name shown to people.
    pub name: String,
    /// Media type, e.g. `application/pdf`.
    pub media_type: String,
    /// SHA-256 of the file's bytes: the receiver checks it on upload.
    pub sha256: Hash32,
    /// Length of the file in bytes.
    pub length: u64,
}

impl Attachment {
    fn validate(&self) -> Result<(), String> {
        if self.name.trim().is_empty() || self.name.len() > 255 || self.name.contains(['/', '\\']) {
            return Err(format!("attachment name {:?} must be a plain file name of 1-255 bytes", self.name));
        }
        if self.length > MAX_ATTACHMENT_BYTES {
            return Err(format!(
                "attachment {:?} is {} bytes, over the limit of {MAX_ATTACHMENT_BYTES}",
                self.name, self.length
            ));
        }
        Ok(())
    }
}

/// Whether a published document is current or withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PublicationStatus {
    /// Visible in the national library.
    #[default]
    Published,
    /// Removed from the national library (the signed history remains).
    Withdrawn,
}

/// A best practice a Province publishes nationally. A later entry with the same `id` replaces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BestPractice {
    /// The Province's own identifier of the document, stable across updates.
    pub id: String,
    /// Title.
    pub title: String,
    /// Short summary for lists and search results.
    pub summary: String,
    /// Module it belongs to.
    pub module: Module,
    /// Comuni involved, if any.
    #[serde(default)]
    pub comuni: Vec<ComuneCode>,
    /// Free keywords.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Language (BCP 47), usually `it`.
    pub language: String,
    /// Full text (Markdown).
    pub body: String,
    /// Attached files, content-addressed.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// Published or withdrawn.
    #[serde(default)]
    pub status: PublicationStatus,
}

impl BestPractice {
    fn validate(&self) -> Result<(), String> {
        if self.id.is_empty() || self.id.len() > 64 || !self.id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
            return Err(format!("best practice id {:?} must be 1-64 letters, digits, '-', '_' or '.'", self.id));
        }
        if self.title.trim().is_empty() {
            return Err("best practice title is empty".into());
        }
        self.attachments.iter().try_for_each(Attachment::validate)
    }
}

/// Reference to an entry of another node's log: its origin Province and seq.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryRef {
    /// The Province that signed the entry.
    pub origin: ProvinceCode,
    /// Its sequence number in that Province's log.
    pub seq: Seq,
}

/// A thematic network hosted by the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Network {
    /// Stazioni Uniche Appaltanti.
    Sua,
    /// European policies.
    Sape,
    /// Innovative territorial services.
    Sit,
    /// Personnel policies.
    Personale,
}

/// A post in a thematic network. It opens a thread (no `thread`) or replies within one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkMessage {
    /// The network it is posted to.
    pub network: Network,
    /// The opening post of the thread; absent when this post opens a new thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<EntryRef>,
    /// The post this one answers, if any (within the same thread).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<EntryRef>,
    /// Subject; required when opening a thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Text of the post (Markdown).
    pub body: String,
    /// Attached files, content-addressed.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

impl NetworkMessage {
    fn validate(&self) -> Result<(), String> {
        match (&self.thread, &self.subject) {
            (None, None) => return Err("a post that opens a thread needs a subject".into()),
            (None, Some(_)) if self.reply_to.is_some() => {
                return Err("reply_to needs the thread it belongs to".into());
            }
            _ => {}
        }
        if self.body.trim().is_empty() {
            return Err("the post's body is empty".into());
        }
        self.attachments.iter().try_for_each(Attachment::validate)
    }
}

/// A new signing key, announced in an entry signed by the current key. The new key signs
/// every entry after this one; entries before stay verifiable with the old key forever.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRotation {
    /// The new public key.
    pub new_key: PublicKey,
    /// Proof that the sender holds the new key: base64url Ed25519 signature by the new key
    /// over [`KeyRotation::proof_message`].
    pub proof: String,
}

impl KeyRotation {
    /// The message the new key signs: `pico-key-rotation-v1\n<sender>\n<new kid>\n`.
    pub fn proof_message(sender: ProvinceCode, new_kid: &KeyId) -> String {
        format!("pico-key-rotation-v1\n{sender}\n{new_kid}\n")
    }

    /// Builds the rotation payload, signing the proof with the new key.
    pub fn new(sender: ProvinceCode, new_key: &crate::keys::SecretKey) -> KeyRotation {
        use base64::Engine;
        let message = Self::proof_message(sender, &new_key.key_id());
        KeyRotation {
            new_key: new_key.public_key(),
            proof: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(new_key.sign(message.as_bytes())),
        }
    }

    /// Checks the proof of possession of the new key.
    pub fn verify_proof(&self, sender: ProvinceCode) -> bool {
        let message = Self::proof_message(sender, &self.new_key.key_id());
        crate::jws::decode_b64("proof", &self.proof)
            .ok()
            .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
            .is_some_and(|signature| self.new_key.verify(message.as_bytes(), &signature))
    }
}

/// Withdraws one of the sender's keys from a given seq on (e.g. after a compromise).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRevocation {
    /// The key withdrawn.
    pub kid: KeyId,
    /// First seq the key may no longer sign.
    pub from_seq: Seq,
    /// Why, for the operators.
    pub reason: String,
}
