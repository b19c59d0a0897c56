//! JWS flattened JSON serialisation (RFC 7515 §7.2.2) with `alg: "EdDSA"` (RFC 8037).
//!
//! The signature covers the ASCII signing input `BASE64URL(protected) "." BASE64URL(payload)`
//! exactly as transmitted: a receiver verifies the bytes it got, never a re-serialisation.
//! Both the protected header and the payload must decode to canonical JSON, so that each
//! signed statement has exactly one encoding.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::canonical;
use crate::error::EntryError;
use crate::ids::KeyId;
use crate::keys::{PublicKey, SecretKey};

/// The only accepted JWS algorithm.
pub const ALG: &str = "EdDSA";

/// The JWS protected header the federation uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtectedHeader {
    /// Always `EdDSA`.
    pub alg: String,
    /// Key id (RFC 7638 thumbprint) of the signing key.
    pub kid: KeyId,
    /// What is signed: `pico-entry` or `pico-receipt`.
    pub typ: String,
}

/// A flattened JWS as it travels: three base64url strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jws {
    /// BASE64URL(UTF8(protected header JSON)).
    pub protected: String,
    /// BASE64URL(payload JSON).
    pub payload: String,
    /// BASE64URL(64-byte Ed25519 signature).
    pub signature: String,
}

impl Jws {
    /// Signs canonical `payload` bytes with `key`, under a protected header of type `typ`.
    pub fn sign(key: &SecretKey, typ: &str, payload: &[u8]) -> Jws {
        let header = ProtectedHeader {
            alg: ALG.to_owned(),
            kid: key.key_id(),
            typ: typ.to_owned(),
        };
        // A struct of three strings always serialises.
        let header_bytes = canonical::to_vec(&header).unwrap_or_default();
        let protected = URL_SAFE_NO_PAD.encode(header_bytes);
        let payload = URL_SAFE_NO_PAD.encode(payload);
        let signature = key.sign(signing_input(&protected, &payload).as_bytes());
        Jws {
            protected,
            payload,
            signature: URL_SAFE_NO_PAD.encode(signature),
        }
    }

    /// The bytes the signature covers.
    pub fn signing_input(&self) -> String {
        signing_input(&self.protected, &self.payload)
    }

    /// Decodes and checks the protected header: canonical, `alg` EdDSA, `typ` as expected.
    pub fn protected_header(&self, expected_typ: &str) -> Result<ProtectedHeader, EntryError> {
        let bytes = decode_b64("protected", &self.protected)?;
        // Read `alg` before anything else so that `none` or `HS256` get their own error.
        let loose: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
            EntryError::Malformed(format!("l'intestazione protetta non è JSON ({e})"))
        })?;
        match loose.get("alg").and_then(|alg| alg.as_str()) {
            Some(ALG) => {}
            Some(other) => return Err(EntryError::UnsupportedAlgorithm(other.to_owned())),
            None => {
                return Err(EntryError::Malformed(
                    "l'intestazione protetta non ha \"alg\"".into(),
                ));
            }
        }
        canonical::check(&bytes).map_err(|source| EntryError::NonCanonical {
            part: "intestazione protetta",
            source,
        })?;
        let header: ProtectedHeader = serde_json::from_value(loose).map_err(|e| {
            EntryError::Malformed(format!(
                "l'intestazione protetta deve avere esattamente \"alg\", \"kid\" e \"typ\" ({e})"
            ))
        })?;
        if header.typ != expected_typ {
            return Err(EntryError::Malformed(format!(
                "nell'intestazione protetta typ è {:?}, atteso {expected_typ:?}",
                header.typ
            )));
        }
        Ok(header)
    }

    /// Verifies the signature over the transmitted signing input.
    pub fn verify_signature(&self, key: &PublicKey) -> Result<(), EntryError> {
        let signature: [u8; 64] = decode_b64("signature", &self.signature)?
            .try_into()
            .map_err(|_| EntryError::Malformed("la firma non è di 64 byte".into()))?;
        if key.verify(self.signing_input().as_bytes(), &signature) {
            Ok(())
        } else {
            Err(EntryError::BadSignature)
        }
    }

    /// The decoded payload bytes.
    pub fn payload_bytes(&self) -> Result<Vec<u8>, EntryError> {
        decode_b64("payload", &self.payload)
    }
}

fn signing_input(protected: &str, payload: &str) -> String {
    let mut input = String::with_capacity(protected.len() + payload.len() + 1);
    input.push_str(protected);
    input.push('.');
    input.push_str(payload);
    input
}

/// Strict base64url: no padding, no whitespace, no non-zero trailing bits, so that each byte
/// string has one encoding.
pub(crate) fn decode_b64(what: &str, text: &str) -> Result<Vec<u8>, EntryError> {
    URL_SAFE_NO_PAD.decode(text).map_err(|e| {
        EntryError::Malformed(format!("{what} non è in base64url senza padding ({e})"))
    })
}
