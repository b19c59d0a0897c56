//! Signed tree heads of the transparency log: C2SP checkpoints inside C2SP signed notes.
//!
//! The format follows <https://c2sp.org/signed-note> and <https://c2sp.org/tlog-checkpoint> so
//! that off-the-shelf witnesses and verifiers (Go's `golang.org/x/mod/sumdb/note`,
//! `transparency-dev/formats`) accept what the hub publishes. A note is a text ending in a
//! newline, a blank line, then signature lines `— <key name> <base64(key id || signature)>`.
//! The signature covers the text bytes exactly, so nothing is re-serialised before verifying.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use crate::hash::Hash32;

/// Largest note accepted, in bytes. A checkpoint with a handful of signatures is under 1 KiB;
/// the limit only stops a hostile peer from making us scan megabytes.
pub const MAX_NOTE_BYTES: usize = 1 << 20;

/// Most signature lines accepted in one note (C2SP requires at least 16; Go's verifier uses 100).
pub const MAX_SIGNATURES: usize = 100;

/// Signature type byte of Ed25519 in key ids and verifier keys (c2sp.org/signed-note).
const ALG_ED25519: u8 = 0x01;

/// Start of every signature line: U+2014 EM DASH and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// Why a note or checkpoint was refused, or could not be produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The note is larger than [`MAX_NOTE_BYTES`].
    #[error("la nota è di {size} byte, più dei {MAX_NOTE_BYTES} ammessi")]
    TooLarge {
        /// Size of the note in bytes.
        size: usize,
    },
    /// The note is not valid UTF-8.
    #[error("la nota non è UTF-8 valido")]
    NotUtf8,
    /// The note contains a carriage return (notes use bare `\n` line ends).
    #[error(
        "la nota contiene un ritorno a capo (CR) al byte {offset}: le righe devono finire con il solo carattere di nuova riga"
    )]
    CarriageReturn {
        /// Byte offset of the first CR.
        offset: usize,
    },
    /// The note contains an ASCII control character other than newline.
    #[error("la nota contiene il carattere di controllo {byte:#04x} al byte {offset}")]
    ControlCharacter {
        /// Byte offset of the first such character.
        offset: usize,
        /// The character.
        byte: u8,
    },
    /// No blank line separates the text from the signatures.
    #[error("la nota non ha una riga vuota prima delle firme")]
    MissingBlankLine,
    /// Nothing follows the blank line.
    #[error("la nota non ha righe di firma")]
    MissingSignatures,
    /// The last signature line does not end with a newline.
    #[error("la nota non termina con un carattere di nuova riga")]
    MissingFinalNewline,
    /// A signature line is not `— <key name> <base64 of at least 5 bytes>`.
    #[error("la riga di firma {line} non è valida")]
    MalformedSignatureLine {
        /// One-based position of the line among the signature lines.
        line: usize,
    },
    /// The note has more than [`MAX_SIGNATURES`] signature lines.
    #[error("la nota ha {count} righe di firma, più delle {MAX_SIGNATURES} ammesse")]
    TooManySignatures {
        /// Number of signature lines.
        count: usize,
    },
    /// No signature line carries the expected key name and key id.
    #[error("la nota non ha una firma della chiave attesa")]
    NoMatchingSignature,
    /// A signature line of the expected key does not verify over the note text.
    #[error("la firma della chiave attesa non è valida")]
    BadSignature,
    /// The checkpoint text has fewer than the three mandatory lines.
    #[error("il checkpoint ha {lines} righe, ne servono almeno 3 (origine, dimensione, radice)")]
    MissingLines {
        /// Number of lines found.
        lines: usize,
    },
    /// The origin line is empty.
    #[error("l'origine del checkpoint è vuota")]
    EmptyOrigin,
    /// The tree size is not a decimal number that fits in 64 bits.
    #[error("la dimensione dell'albero del checkpoint non è un numero decimale entro 64 bit")]
    BadSize,
    /// The tree size has a leading zero.
    #[error("la dimensione dell'albero del checkpoint ha uno zero iniziale")]
    SizeLeadingZero,
    /// The root hash line is not standard padded base64.
    #[error("la radice del checkpoint non è in base64 standard")]
    BadRootBase64,
    /// The root hash does not decode to 32 bytes.
    #[error("la radice del checkpoint è di {len} byte, ne servono 32")]
    BadRootLength {
        /// Decoded length.
        len: usize,
    },
    /// An extension line is empty (C2SP requires extension lines to be non-empty).
    #[error("il checkpoint ha una riga di estensione vuota")]
    EmptyExtensionLine,
    /// The key name is empty or contains a space or a plus sign.
    #[error("il nome della chiave non deve essere vuoto né contenere spazi o '+'")]
    InvalidKeyName,
    /// Text to be signed cannot form a valid note or checkpoint: empty or multi-line origin or
    /// extension, control characters, or no final newline.
    #[error("il testo non si può firmare come nota: {reason}")]
    InvalidText {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A verifier key string is not `<name>+<8 hex digits>+<base64(0x01 || key)>` with a matching
    /// key id and a valid Ed25519 key.
    #[error("chiave di verifica non valida")]
    BadVerifierKey,
}

impl CheckpointError {
    /// A stable snake_case code for problem+json documents and test vectors.
    pub fn code(&self) -> &'static str {
        match self {
            CheckpointError::TooLarge { .. } => "too_large",
            CheckpointError::NotUtf8 => "not_utf8",
            CheckpointError::CarriageReturn { .. } => "carriage_return",
            CheckpointError::ControlCharacter { .. } => "control_character",
            CheckpointError::MissingBlankLine => "missing_blank_line",
            CheckpointError::MissingSignatures => "missing_signatures",
            CheckpointError::MissingFinalNewline => "missing_final_newline",
            CheckpointError::MalformedSignatureLine { .. } => "malformed_signature_line",
            CheckpointError::TooManySignatures { .. } => "too_many_signatures",
            CheckpointError::NoMatchingSignature => "no_matching_signature",
            CheckpointError::BadSignature => "bad_signature",
            CheckpointError::MissingLines { .. } => "missing_lines",
            CheckpointError::EmptyOrigin => "empty_origin",
            CheckpointError::BadSize => "bad_size",
            CheckpointError::SizeLeadingZero => "size_leading_zero",
            CheckpointError::BadRootBase64 => "bad_root_base64",
            CheckpointError::BadRootLength { .. } => "bad_root_length",
            CheckpointError::EmptyExtensionLine => "empty_extension_line",
            CheckpointError::InvalidKeyName => "invalid_key_name",
            CheckpointError::InvalidText { .. } => "invalid_text",
            CheckpointError::BadVerifierKey => "bad_verifier_key",
        }
    }
}

/// A signed tree head: the log's identity, its size and its root hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity, e.g. `upi.example/pico-log`; the first line of the note.
    pub origin: String,
    /// Number of leaves in the tree.
    pub size: u64,
    /// RFC 6962 root hash of the tree at `size`.
    pub root: Hash32,
    /// Extension lines after the root hash. C2SP allows them and does not recommend them; the
    /// hub emits none, and a parsed note keeps whatever it carried so that it can be re-emitted
    /// byte for byte.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    pub fn new(origin: impl Into<String>, size: u64, root: Hash32) -> Self {
        Checkpoint {
            origin: origin.into(),
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// The note text: origin, size, base64 root hash and any extensions, one per line, each
    /// ending in a newline. These are the bytes the signature covers.
    pub fn body(&self) -> Result<String, CheckpointError> {
        if self.origin.is_empty() {
            return Err(CheckpointError::InvalidText {
                reason: "origine vuota",
            });
        }
        if self.extensions.iter().any(String::is_empty) {
            return Err(CheckpointError::InvalidText {
                reason: "riga di estensione vuota",
            });
        }
        let lines = std::iter::once(&self.origin).chain(&self.extensions);
        if lines.flat_map(|line| line.bytes()).any(|b| b < 0x20) {
            return Err(CheckpointError::InvalidText {
                reason: "l'origine o un'estensione contiene un a capo o un carattere di controllo",
            });
        }
        let mut body = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root.0)
        );
        for extension in &self.extensions {
            body.push_str(extension);
            body.push('\n');
        }
        Ok(body)
    }

    /// The complete signed note for this checkpoint, signed by `key` under `key_name`.
    pub fn sign(&self, key_name: &str, key: &SigningKey) -> Result<String, CheckpointError> {
        sign_note(&self.body()?, key_name, key)
    }

    /// Verifies a signed note by the key `key_name` / `key` and parses the checkpoint it carries.
    ///
    /// Signature lines of other keys are ignored, as C2SP requires; every line of the expected key
    /// must verify. The caller still has to check that [`Checkpoint::origin`] is the log it
    /// expects.
    pub fn parse_and_verify(
        note: &str,
        key_name: &str,
        key: &VerifyingKey,
    ) -> Result<Checkpoint, CheckpointError> {
        Self::parse_and_verify_bytes(note.as_bytes(), key_name, key)
    }

    /// [`Checkpoint::parse_and_verify`] for a note received as bytes, which may not be UTF-8.
    pub fn parse_and_verify_bytes(
        note: &[u8],
        key_name: &str,
        key: &VerifyingKey,
    ) -> Result<Checkpoint, CheckpointError> {
        // The text is only interpreted once its signature holds (c2sp.org/signed-note).
        let text = open_note(note, key_name, key)?;
        parse_body(text)
    }
}

/// Parses verified checkpoint text (ends with a newline, checked by [`open_note`]).
fn parse_body(text: &str) -> Result<Checkpoint, CheckpointError> {
    let lines: Vec<&str> = text
        .strip_suffix('\n')
        .unwrap_or(text)
        .split('\n')
        .collect();
    let [origin, size, root, extensions @ ..] = lines.as_slice() else {
        return Err(CheckpointError::MissingLines { lines: lines.len() });
    };
    if origin.is_empty() {
        return Err(CheckpointError::EmptyOrigin);
    }
    let size = parse_size(size)?;
    let root_bytes = STANDARD
        .decode(root)
        .map_err(|_| CheckpointError::BadRootBase64)?;
    let root = <[u8; 32]>::try_from(root_bytes.as_slice()).map_err(|_| {
        CheckpointError::BadRootLength {
            len: root_bytes.len(),
        }
    })?;
    if extensions.iter().any(|line| line.is_empty()) {
        return Err(CheckpointError::EmptyExtensionLine);
    }
    Ok(Checkpoint {
        origin: (*origin).to_owned(),
        size,
        root: Hash32(root),
        extensions: extensions.iter().map(|line| (*line).to_owned()).collect(),
    })
}

/// ASCII decimal without sign or leading zeros (`0` itself is the empty tree).
fn parse_size(text: &str) -> Result<u64, CheckpointError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CheckpointError::BadSize);
    }
    if text.len() > 1 && text.starts_with('0') {
        return Err(CheckpointError::SizeLeadingZero);
    }
    text.parse().map_err(|_| CheckpointError::BadSize)
}

/// C2SP key names: non-empty, no Unicode white space, no `+` (which separates verifier key parts).
fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

/// The 4-byte key id of an Ed25519 note key: SHA-256(key name || 0x0A || 0x01 || public key)[..4].
pub fn key_id(key_name: &str, key: &VerifyingKey) -> [u8; 4] {
    let digest = Hash32::digest_of(&[key_name.as_bytes(), b"\n", &[ALG_ED25519], key.as_bytes()]);
    [digest.0[0], digest.0[1], digest.0[2], digest.0[3]]
}

/// The verifier key string `<name>+<hex key id>+<base64(0x01 || public key)>` that Go's
/// `note.NewVerifier` and other C2SP tools take to check our notes.
pub fn note_verifier_key(key_name: &str, key: &VerifyingKey) -> Result<String, CheckpointError> {
    if !is_valid_key_name(key_name) {
        return Err(CheckpointError::InvalidKeyName);
    }
    let mut typed_key = vec![ALG_ED25519];
    typed_key.extend_from_slice(key.as_bytes());
    Ok(format!(
        "{key_name}+{}+{}",
        hex::encode(key_id(key_name, key)),
        STANDARD.encode(typed_key)
    ))
}

/// Reads a verifier key string back into its key name and Ed25519 public key, checking that the
/// key id matches.
pub fn parse_note_verifier_key(vkey: &str) -> Result<(String, VerifyingKey), CheckpointError> {
    // The base64 part may itself contain '+', so split at the first two only.
    let mut parts = vkey.splitn(3, '+');
    let (Some(name), Some(id_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(CheckpointError::BadVerifierKey);
    };
    let lower_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    if !is_valid_key_name(name) || id_hex.len() != 8 || !id_hex.bytes().all(lower_hex) {
        return Err(CheckpointError::BadVerifierKey);
    }
    let mut id = [0u8; 4];
    hex::decode_to_slice(id_hex, &mut id).map_err(|_| CheckpointError::BadVerifierKey)?;
    let typed_key = STANDARD
        .decode(key_b64)
        .map_err(|_| CheckpointError::BadVerifierKey)?;
    let Some((&ALG_ED25519, raw)) = typed_key.split_first() else {
        return Err(CheckpointError::BadVerifierKey);
    };
    let raw = <[u8; 32]>::try_from(raw).map_err(|_| CheckpointError::BadVerifierKey)?;
    let key = VerifyingKey::from_bytes(&raw).map_err(|_| CheckpointError::BadVerifierKey)?;
    if key_id(name, &key) != id {
        return Err(CheckpointError::BadVerifierKey);
    }
    Ok((name.to_owned(), key))
}

/// Checks the byte-level rules of c2sp.org/signed-note: size, UTF-8, no control characters.
fn check_note_bytes(note: &[u8]) -> Result<&str, CheckpointError> {
    if note.len() > MAX_NOTE_BYTES {
        return Err(CheckpointError::TooLarge { size: note.len() });
    }
    let text = std::str::from_utf8(note).map_err(|_| CheckpointError::NotUtf8)?;
    // UTF-8 continuation bytes are ≥ 0x80, so a byte scan finds exactly the ASCII controls.
    if let Some(offset) = note.iter().position(|&b| b < 0x20 && b != b'\n') {
        return Err(match note[offset] {
            b'\r' => CheckpointError::CarriageReturn { offset },
            byte => CheckpointError::ControlCharacter { offset, byte },
        });
    }
    Ok(text)
}

/// Signs `text` (which must end with a newline) as a C2SP note with one Ed25519 signature.
pub fn sign_note(text: &str, key_name: &str, key: &SigningKey) -> Result<String, CheckpointError> {
    if !is_valid_key_name(key_name) {
        return Err(CheckpointError::InvalidKeyName);
    }
    if !text.ends_with('\n') {
        return Err(CheckpointError::InvalidText {
            reason: "il testo deve terminare con un carattere di nuova riga",
        });
    }
    if text.bytes().any(|b| b < 0x20 && b != b'\n') {
        return Err(CheckpointError::InvalidText {
            reason: "il testo contiene un carattere di controllo",
        });
    }
    let signature = key.sign(text.as_bytes());
    let mut blob = Vec::with_capacity(4 + Signature::BYTE_SIZE);
    blob.extend_from_slice(&key_id(key_name, &key.verifying_key()));
    blob.extend_from_slice(&signature.to_bytes());
    let note = format!(
        "{text}\n{SIGNATURE_PREFIX}{key_name} {}\n",
        STANDARD.encode(blob)
    );
    if note.len() > MAX_NOTE_BYTES {
        return Err(CheckpointError::TooLarge { size: note.len() });
    }
    Ok(note)
}

/// Verifies a C2SP signed note against one Ed25519 key and returns its text (with the final
/// newline, without the blank line), which is what the signature covers.
///
/// Lines from other keys (another name, or the same name with another key id) are skipped
/// unverified. Every line of the expected key must verify: C2SP says a failing signature from a
/// known key should reject the note, and we do not let a good line excuse a bad one.
pub fn open_note<'a>(
    note: &'a [u8],
    key_name: &str,
    key: &VerifyingKey,
) -> Result<&'a str, CheckpointError> {
    if !is_valid_key_name(key_name) {
        return Err(CheckpointError::InvalidKeyName);
    }
    let note = check_note_bytes(note)?;
    // The text ends at the last blank line; the text itself may contain blank lines.
    let split = note
        .rfind("\n\n")
        .ok_or(CheckpointError::MissingBlankLine)?;
    let (text, signatures) = (&note[..=split], &note[split + 2..]);
    if signatures.is_empty() {
        return Err(CheckpointError::MissingSignatures);
    }
    let Some(signatures) = signatures.strip_suffix('\n') else {
        return Err(CheckpointError::MissingFinalNewline);
    };
    let lines: Vec<&str> = signatures.split('\n').collect();
    if lines.len() > MAX_SIGNATURES {
        return Err(CheckpointError::TooManySignatures { count: lines.len() });
    }

    let expected_id = key_id(key_name, key);
    let mut verified = false;
    for (position, line) in lines.iter().enumerate() {
        let malformed = CheckpointError::MalformedSignatureLine { line: position + 1 };
        let (name, blob_b64) = line
            .strip_prefix(SIGNATURE_PREFIX)
            .and_then(|rest| rest.split_once(' '))
            .ok_or_else(|| malformed.clone())?;
        let blob = STANDARD.decode(blob_b64).map_err(|_| malformed.clone())?;
        if !is_valid_key_name(name) || blob.len() < 5 {
            return Err(malformed);
        }
        let (id, signature) = blob.split_at(4);
        if name != key_name || id != expected_id {
            continue;
        }
        let signature =
            Signature::from_slice(signature).map_err(|_| CheckpointError::BadSignature)?;
        // Strict verification refuses small-order keys and non-canonical signatures, so a
        // signature has one valid encoding and cannot be altered into a second valid note.
        key.verify_strict(text.as_bytes(), &signature)
            .map_err(|_| CheckpointError::BadSignature)?;
        verified = true;
    }
    if !verified {
        return Err(CheckpointError::NoMatchingSignature);
    }
    Ok(text)
}
