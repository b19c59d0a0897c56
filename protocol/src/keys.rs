//! Ed25519 keys: generation, key files (PKCS#8 PEM, mode 0600), public keys in text form, and
//! key ids (RFC 7638 JWK thumbprints).
//!
//! This is the only module of the crate that touches the file system.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signer, Verifier};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Hash32;
use crate::ids::KeyId;

/// Prefix of the text form of a public key.
const PUBLIC_KEY_PREFIX: &str = "ed25519:";

/// What went wrong with a key or a key file. Messages name the file and say how to fix it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key file could not be read or written.
    #[error("impossibile accedere al file della chiave {path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Refusing to overwrite an existing key: it may be the only copy of a node's identity.
    #[error(
        "il file della chiave {path} esiste già: spostarlo altrove prima, se si vuole davvero sostituire la chiave"
    )]
    Exists {
        /// The key file.
        path: PathBuf,
    },
    /// The key file can be read by users other than its owner.
    #[error(
        "il file della chiave {path} è leggibile da altri utenti (permessi {mode:o}): eseguire `chmod 600 {path}` e verificare che il proprietario sia soltanto l'utente del servizio"
    )]
    TooOpen {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The key file is not a PKCS#8 PEM Ed25519 private key.
    #[error(
        "il file della chiave {path} non contiene una chiave privata Ed25519 in formato PKCS#8 PEM: {detail}"
    )]
    Malformed {
        /// The key file.
        path: PathBuf,
        /// What the decoder said.
        detail: String,
    },
    /// A public key text is not `ed25519:` followed by 43 base64url characters of a valid point.
    #[error(
        "«{0}» non è una chiave pubblica: serve \"ed25519:\" seguito dalla chiave di 32 byte in base64url, come la stampa `key show`"
    )]
    BadPublicKey(String),
}

/// A node's or the hub's private signing key. Its `Debug` output never shows the secret.
pub struct SecretKey(ed25519_dalek::SigningKey);

impl SecretKey {
    /// Generates a new key from the operating system's random source.
    pub fn generate() -> SecretKey {
        SecretKey(ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng))
    }

    /// Builds the key from a 32-byte seed. Only for test vectors and tests.
    pub fn from_seed(seed: &[u8; 32]) -> SecretKey {
        SecretKey(ed25519_dalek::SigningKey::from_bytes(seed))
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// The key id of the matching public key.
    pub fn key_id(&self) -> KeyId {
        self.public_key().key_id()
    }

    /// Signs `message` (Ed25519, RFC 8032).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }

    /// The underlying dalek key, for the Merkle checkpoint signer.
    pub fn as_dalek(&self) -> &ed25519_dalek::SigningKey {
        &self.0
    }

    /// Writes the key to a new file readable only by its owner (mode 0600).
    ///
    /// Refuses to overwrite an existing file. The file is created with its final permissions,
    /// so the secret is never readable by others, not even for an instant.
    pub fn save(&self, path: &Path) -> Result<(), KeyError> {
        use std::io::Write;
        let io = |source| KeyError::Io {
            path: path.to_owned(),
            source,
        };
        let pem = self
            .0
            .to_pkcs8_pem(Default::default())
            .map_err(|e| KeyError::Malformed {
                path: path.to_owned(),
                detail: e.to_string(),
            })?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::AlreadyExists {
                KeyError::Exists {
                    path: path.to_owned(),
                }
            } else {
                io(source)
            }
        })?;
        file.write_all(pem.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(())
    }

    /// Reads a key file written by [`SecretKey::save`], refusing one that others can read.
    pub fn load(path: &Path) -> Result<SecretKey, KeyError> {
        let io = |source| KeyError::Io {
            path: path.to_owned(),
            source,
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path).map_err(io)?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(KeyError::TooOpen {
                    path: path.to_owned(),
                    mode,
                });
            }
        }
        let pem = zeroize::Zeroizing::new(std::fs::read_to_string(path).map_err(io)?);
        let key =
            ed25519_dalek::SigningKey::from_pkcs8_pem(&pem).map_err(|e| KeyError::Malformed {
                path: path.to_owned(),
                detail: e.to_string(),
            })?;
        Ok(SecretKey(key))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(kid={}, secret hidden)", self.key_id())
    }
}

/// An Ed25519 public key. Text form: `ed25519:` + base64url (no padding) of the 32 bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(ed25519_dalek::VerifyingKey);

impl PublicKey {
    /// Builds the key from its 32 bytes, refusing bytes that are not a valid curve point.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<PublicKey, KeyError> {
        ed25519_dalek::VerifyingKey::from_bytes(bytes)
            .map(PublicKey)
            .map_err(|_| KeyError::BadPublicKey(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// The 32 bytes of the key.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The RFC 7638 JWK thumbprint: SHA-256 of `{"crv":"Ed25519","kty":"OKP","x":"…"}`,
    /// base64url without padding (RFC 8037 §A.3).
    pub fn key_id(&self) -> KeyId {
        let jwk = format!(
            r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
            URL_SAFE_NO_PAD.encode(self.0.as_bytes())
        );
        KeyId::from_thumbprint(URL_SAFE_NO_PAD.encode(Hash32::digest_of(&[jwk.as_bytes()]).0))
    }

    /// The key as a JSON Web Key (RFC 8037), for JOSE libraries.
    pub fn to_jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(self.0.as_bytes()),
            "kid": self.key_id().as_str(),
        })
    }

    /// Verifies an Ed25519 signature, refusing non-canonical and small-order encodings
    /// (`verify_strict`), so that a signature has exactly one valid form.
    pub fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        let signature = ed25519_dalek::Signature::from_bytes(signature);
        self.0.verify_strict(message, &signature).is_ok()
    }

    /// Same as [`PublicKey::verify`] but with the lenient RFC 8032 rules; used only by the
    /// RFC 8032 conformance test.
    #[doc(hidden)]
    pub fn verify_rfc8032(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        let signature = ed25519_dalek::Signature::from_bytes(signature);
        self.0.verify(message, &signature).is_ok()
    }

    /// The underlying dalek key, for the Merkle checkpoint verifier.
    pub fn as_dalek(&self) -> &ed25519_dalek::VerifyingKey {
        &self.0
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{PUBLIC_KEY_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(self.0.as_bytes())
        )
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl FromStr for PublicKey {
    type Err = KeyError;

    fn from_str(text: &str) -> Result<PublicKey, KeyError> {
        let bad = || KeyError::BadPublicKey(text.chars().take(80).collect());
        let encoded = text
            .trim()
            .strip_prefix(PUBLIC_KEY_PREFIX)
            .ok_or_else(bad)?;
        let bytes: [u8; 32] = URL_SAFE_NO_PAD
            .decode(encoded)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(bad)?;
        PublicKey::from_bytes(&bytes).map_err(|_| bad())
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_id_matches_rfc8037_thumbprint_example() {
        // RFC 8037 §A.1–A.3: the example key and its RFC 7638 thumbprint.
        let x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
        let bytes: [u8; 32] = URL_SAFE_NO_PAD.decode(x).unwrap().try_into().unwrap();
        let key = PublicKey::from_bytes(&bytes).unwrap();
        assert_eq!(
            key.key_id().as_str(),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
        let seed: [u8; 32] = URL_SAFE_NO_PAD
            .decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
            .unwrap()
            .try_into()
            .unwrap();
        assert_eq!(SecretKey::from_seed(&seed).public_key(), key);
    }

    #[test]
    fn public_key_text_round_trips() {
        let key = SecretKey::generate().public_key();
        let text = key.to_string();
        assert!(text.starts_with("ed25519:"));
        assert_eq!(text.parse::<PublicKey>().unwrap(), key);
        assert!("ed25519:abc".parse::<PublicKey>().is_err());
        assert!(
            text.replace("ed25519:", "rsa:")
                .parse::<PublicKey>()
                .is_err()
        );
    }

    #[test]
    fn debug_hides_the_secret() {
        let key = SecretKey::from_seed(&[7; 32]);
        let shown = format!("{key:?}");
        assert!(shown.contains("secret hidden"));
        assert!(!shown.contains(&hex::encode([7u8; 32])));
    }

    #[cfg(unix)]
    #[test]
    fn key_file_is_private_and_checked() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.key");
        let key = SecretKey::generate();
        key.save(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            SecretKey::load(&path).unwrap().public_key(),
            key.public_key()
        );
        assert!(matches!(key.save(&path), Err(KeyError::Exists { .. })));

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = SecretKey::load(&path).unwrap_err();
        assert!(matches!(error, KeyError::TooOpen { mode: 0o644, .. }));
        assert!(error.to_string().contains("chmod 600"), "{error}");

        std::fs::write(dir.path().join("bad.key"), "not a key").unwrap();
        std::fs::set_permissions(
            dir.path().join("bad.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        assert!(matches!(
            SecretKey::load(&dir.path().join("bad.key")),
            Err(KeyError::Malformed { .. })
        ));
    }
}
