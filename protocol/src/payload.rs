//! What an entry carries: the payload kinds, as versioned serde types.
//!
//! A payload travels as canonical JSON in the entry's `body`. Unknown fields are refused, so a
//! typo never silently drops data. Amounts of money are decimal strings, never numbers.

use std::fmt;

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use crate::Hash32;
pub use crate::dcat::DatasetMetadata;
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
    /// The DCAT-AP_IT description of a federated dataset ([`DatasetMetadata`]), from
    /// protocol version 2.
    DatasetMetadata,
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
            Self::DatasetMetadata => "dataset_metadata",
        }
    }

    /// The protocol version that defines this kind: an entry of this kind is signed with it
    /// (so that every other kind keeps the version it always had), and an entry whose `v` is
    /// lower is `malformed_envelope` (SPEC §14).
    pub fn since_version(self) -> u64 {
        match self {
            Self::DatasetMetadata => 2,
            _ => 1,
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
    /// See [`DatasetMetadata`].
    DatasetMetadata(DatasetMetadata),
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
            Self::DatasetMetadata(_) => PayloadKind::DatasetMetadata,
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
            Self::DatasetMetadata(p) => crate::canonical::to_vec(p),
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
            PayloadKind::DatasetMetadata => Payload::DatasetMetadata(read(body)?),
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
            Self::DatasetMetadata(p) => p.validate(),
            Self::KeyRotation(_) | Self::KeyRevocation(_) => Ok(()),
        }
    }
}

/// A field value of a dataset row: null, boolean, integer (within ±(2^53−1)) or text.
/// Amounts of money and decimals are text (`"1234.50"`); dates are text (`"2026-01-15"`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FieldValue {
    /// No value.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer within ±(2^53−1).
    Int(i64),
    /// Text. Short texts (codes, amounts, dates: up to 24 bytes) are stored inline, which
    /// saves most of the allocations when a receiver parses thousands of rows.
    Text(CompactString),
}

impl FieldValue {
    /// Whether the value is null.
    pub fn is_null(&self) -> bool {
        matches!(self, FieldValue::Null)
    }
}

impl FieldValue {
    /// The text, if the value is text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            FieldValue::Text(text) => Some(text),
            _ => None,
        }
    }
}

impl From<&str> for FieldValue {
    fn from(text: &str) -> Self {
        FieldValue::Text(text.into())
    }
}

impl From<String> for FieldValue {
    fn from(text: String) -> Self {
        FieldValue::Text(text.into())
    }
}

impl From<i64> for FieldValue {
    fn from(n: i64) -> Self {
        FieldValue::Int(n)
    }
}

impl From<bool> for FieldValue {
    fn from(b: bool) -> Self {
        FieldValue::Bool(b)
    }
}

impl Serialize for FieldValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            FieldValue::Null => serializer.serialize_unit(),
            FieldValue::Bool(b) => serializer.serialize_bool(*b),
            FieldValue::Int(n) => serializer.serialize_i64(*n),
            FieldValue::Text(text) => serializer.serialize_str(text),
        }
    }
}

impl<'de> Deserialize<'de> for FieldValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldVisitor;
        impl serde::de::Visitor<'_> for FieldVisitor {
            type Value = FieldValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("null, un booleano, un intero entro ±(2^53-1) o una stringa")
            }
            fn visit_unit<E>(self) -> Result<FieldValue, E> {
                Ok(FieldValue::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<FieldValue, E> {
                Ok(FieldValue::Bool(b))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<FieldValue, E> {
                if n.unsigned_abs() > crate::canonical::MAX_SAFE_INTEGER {
                    return Err(E::custom(format!(
                        "l'intero {n} è fuori da ±(2^53-1): scriverlo come stringa"
                    )));
                }
                Ok(FieldValue::Int(n))
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<FieldValue, E> {
                if n > crate::canonical::MAX_SAFE_INTEGER {
                    return Err(E::custom(format!(
                        "l'intero {n} è fuori da ±(2^53-1): scriverlo come stringa"
                    )));
                }
                Ok(FieldValue::Int(n as i64))
            }
            fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<FieldValue, E> {
                Err(E::custom(format!(
                    "{n} è un numero in virgola mobile: scrivere i decimali come stringhe"
                )))
            }
            fn visit_str<E>(self, text: &str) -> Result<FieldValue, E> {
                Ok(FieldValue::Text(text.into()))
            }
            fn visit_string<E>(self, text: String) -> Result<FieldValue, E> {
                Ok(FieldValue::Text(text.into()))
            }
        }
        deserializer.deserialize_any(FieldVisitor)
    }
}

/// One dataset row: values in the order of [`DatasetBatch::fields`].
pub type Row = Vec<FieldValue>;

/// Changes to one federated dataset, in columnar form: field names once, then rows of values.
///
/// Columnar rows keep bodies small (names are not repeated in every record) and map directly
/// onto a prepared insert at the receiver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetBatch {
    /// Dataset name: lowercase letters, digits and `_`, starting with a letter (e.g. `appalti`).
    pub dataset: String,
    /// Version of the dataset's schema the rows follow.
    pub schema_version: u32,
    /// Names of the fields, in the order of every row's values.
    pub fields: Vec<String>,
    /// Names of the fields (a subset of `fields`) that together identify a row.
    pub primary_key: Vec<String>,
    /// Present when this batch is part of a full snapshot that replaces the dataset.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub snapshot: Option<SnapshotPart>,
    /// Rows inserted or replaced, each with one value per field.
    pub upserts: Vec<Row>,
    /// Rows removed, each given by its primary-key values in `primary_key` order.
    pub deletes: Vec<Row>,
}

/// Position of a batch within a full snapshot sent over several entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotPart {
    /// Identifier shared by all parts of one snapshot.
    pub id: String,
    /// This part's number, from 1.
    pub part: u32,
    /// How many parts the snapshot has. After the last, rows not in the snapshot are gone.
    pub parts: u32,
}

/// Deserialises an optional member that, when present, holds a value: `null` is refused, so
/// that absence has one encoding (the member omitted, SPEC §8). Use with `#[serde(default)]`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// Whether `name` is a valid dataset or field name (SPEC §8.1).
pub fn valid_dataset_name(name: &str) -> bool {
    valid_name(name)
}

fn valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z'))
        && name.len() <= 64
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_'))
}

/// The field that, when a dataset has it, names the Comune a row is about. The hub indexes it
/// for the national view's `comune` filter, so it must name a Comune of the sender (SPEC §8.1).
pub const COMUNE_FIELD: &str = "comune";

impl DatasetBatch {
    /// Checks that every upserted row's `comune` value, when the dataset has that field, is
    /// null or the code of a Comune of `sender`: a Province speaks for its own Comuni only.
    pub fn check_comuni(&self, sender: ProvinceCode) -> Result<(), String> {
        let Some(at) = self.fields.iter().position(|field| field == COMUNE_FIELD) else {
            return Ok(());
        };
        for (i, row) in self.upserts.iter().enumerate() {
            match row.get(at) {
                None | Some(FieldValue::Null) => {}
                Some(FieldValue::Text(code))
                    if ComuneCode::parse(code).is_ok_and(|code| code.belongs_to(sender)) => {}
                Some(other) => {
                    return Err(format!(
                        "upsert {i}: comune {} non è il codice ISTAT di un Comune della Provincia {sender}",
                        serde_json::to_string(other).unwrap_or_default()
                    ));
                }
            }
        }
        Ok(())
    }

    /// Positions of the primary-key fields within `fields`.
    pub fn key_positions(&self) -> Vec<usize> {
        self.primary_key
            .iter()
            .filter_map(|key| self.fields.iter().position(|field| field == key))
            .collect()
    }

    fn validate(&self) -> Result<(), String> {
        if !valid_name(&self.dataset) {
            return Err(format!(
                "il nome del dataset {:?} deve avere da 1 a 64 lettere minuscole, cifre o '_', e iniziare con una lettera",
                self.dataset
            ));
        }
        if let Some(bad) = self.fields.iter().find(|field| !valid_name(field)) {
            return Err(format!(
                "il nome del campo {bad:?} deve avere da 1 a 64 lettere minuscole, cifre o '_', e iniziare con una lettera"
            ));
        }
        let mut sorted: Vec<&String> = self.fields.iter().collect();
        sorted.sort();
        if sorted.windows(2).any(|pair| pair[0] == pair[1]) {
            return Err("un campo compare due volte in fields".into());
        }
        if self.primary_key.is_empty() || self.key_positions().len() != self.primary_key.len() {
            return Err("primary_key deve nominare uno o più dei campi in fields".into());
        }
        let rows = self.upserts.len() + self.deletes.len();
        if rows > MAX_RECORDS_PER_BATCH {
            return Err(format!(
                "{rows} righe in un lotto, oltre il limite di {MAX_RECORDS_PER_BATCH}"
            ));
        }
        if let Some(part) = &self.snapshot {
            if part.part == 0 || part.part > part.parts {
                return Err(format!(
                    "la parte {} di {} dell'istantanea è impossibile",
                    part.part, part.parts
                ));
            }
            if !self.deletes.is_empty() {
                return Err(
                    "una parte di istantanea non porta deletes: ciò che omette è cancellato".into(),
                );
            }
        }
        let keys = self.key_positions();
        for (i, row) in self.upserts.iter().enumerate() {
            if row.len() != self.fields.len() {
                return Err(format!(
                    "upsert {i} ha {} valori per {} campi",
                    row.len(),
                    self.fields.len()
                ));
            }
            if let Some(&k) = keys.iter().find(|&&k| row[k].is_null()) {
                return Err(format!(
                    "upsert {i} non ha un valore per il campo di chiave primaria {:?}",
                    self.fields[k]
                ));
            }
        }
        for (i, row) in self.deletes.iter().enumerate() {
            if row.len() != keys.len() || row.iter().any(FieldValue::is_null) {
                return Err(format!(
                    "delete {i} deve portare esattamente i valori della chiave primaria {:?}",
                    self.primary_key
                ));
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
            return Err(format!(
                "il nome dell'allegato {:?} deve essere un semplice nome di file di 1-255 byte",
                self.name
            ));
        }
        if self.length > MAX_ATTACHMENT_BYTES {
            return Err(format!(
                "l'allegato {:?} è di {} byte, oltre il limite di {MAX_ATTACHMENT_BYTES}",
                self.name, self.length
            ));
        }
        Ok(())
    }
}

/// Whether a published document is current or withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PublicationStatus {
    /// Visible in the national library.
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
    pub comuni: Vec<ComuneCode>,
    /// Free keywords.
    pub tags: Vec<String>,
    /// Language (BCP 47), usually `it`.
    pub language: String,
    /// Full text (Markdown).
    pub body: String,
    /// Attached files, content-addressed.
    pub attachments: Vec<Attachment>,
    /// Published or withdrawn.
    pub status: PublicationStatus,
}

impl BestPractice {
    fn validate(&self) -> Result<(), String> {
        if self.id.is_empty()
            || self.id.len() > 64
            || !self
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return Err(format!(
                "l'identificativo della buona pratica {:?} deve avere da 1 a 64 lettere, cifre, '-', '_' o '.'",
                self.id
            ));
        }
        if self.title.trim().is_empty() {
            return Err("il titolo della buona pratica è vuoto".into());
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
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub thread: Option<EntryRef>,
    /// The post this one answers, if any (within the same thread).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub reply_to: Option<EntryRef>,
    /// Subject; required when opening a thread.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub subject: Option<String>,
    /// Text of the post (Markdown).
    pub body: String,
    /// Attached files, content-addressed.
    pub attachments: Vec<Attachment>,
}

impl NetworkMessage {
    fn validate(&self) -> Result<(), String> {
        match (&self.thread, &self.subject) {
            (None, None) => {
                return Err("un messaggio che apre una discussione deve avere un oggetto".into());
            }
            (None, Some(_)) if self.reply_to.is_some() => {
                return Err("reply_to richiede la discussione a cui appartiene (thread)".into());
            }
            _ => {}
        }
        if self.body.trim().is_empty() {
            return Err("il testo del messaggio è vuoto".into());
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
            proof: base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(new_key.sign(message.as_bytes())),
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
