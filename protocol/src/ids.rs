//! Identifiers that cross the wire, as newtypes: an invalid value cannot exist past `parse`.
//!
//! ISTAT gives each supra-municipal unit two 3-digit codes. The *historical province code*
//! (`codice_provincia_storico`) is the prefix of every Comune code of that territory, so it is
//! what identifies a node ([`ProvinceCode`]). The *territorial unit code* (`codice_uts`,
//! [`UtsCode`]) is equal to it for ordinary Provinces (026 Treviso) but differs for the
//! Città metropolitane (Torino: UTS 201, historical 001). Both are kept; registries map one to
//! the other.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a text is not a valid identifier. Each message says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// A province code must be exactly three ASCII digits, not `000`.
    #[error(
        "«{0}» non è un codice ISTAT di Provincia: servono 3 cifre come 026 (Treviso), compresi gli zeri iniziali"
    )]
    Province(String),
    /// A territorial unit code must be exactly three ASCII digits, not `000`.
    #[error(
        "«{0}» non è un codice ISTAT di unità territoriale: servono 3 cifre come 201 (Città metropolitana di Torino)"
    )]
    Uts(String),
    /// A Comune code must be six ASCII digits: province (3) then progressive number (3).
    #[error(
        "«{0}» non è un codice ISTAT di Comune: servono 6 cifre come 026086 (Treviso), di cui le prime 3 sono il codice della Provincia"
    )]
    Comune(String),
    /// A key id is the 43-character base64url JWK thumbprint of the public key.
    #[error(
        "«{0}» non è un identificativo di chiave: serve l'impronta JWK (RFC 7638) di 43 caratteri base64url mostrata da `key show`"
    )]
    KeyId(String),
    /// Sequence numbers start at 1 and stay within the canonical JSON integer range.
    #[error(
        "{0} non è un numero di voce valido: la prima voce di un registro è la 1 e la più alta è 2^53-1"
    )]
    Seq(u64),
}

fn three_digits(text: &str) -> bool {
    text.len() == 3 && text.bytes().all(|b| b.is_ascii_digit()) && text != "000"
}

macro_rules! code_newtype {
    ($(#[$doc:meta])* $name:ident, $len:literal, $err:ident, $check:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name([u8; $len]);

        impl $name {
            /// Parses the code, refusing anything but the exact ISTAT form.
            pub fn parse(text: &str) -> Result<Self, IdError> {
                let check: fn(&str) -> bool = $check;
                if !check(text) {
                    return Err(IdError::$err(text.chars().take(40).collect()));
                }
                let mut bytes = [0u8; $len];
                bytes.copy_from_slice(text.as_bytes());
                Ok(Self(bytes))
            }

            /// The code as text, with its leading zeros.
            pub fn as_str(&self) -> &str {
                // The bytes were checked to be ASCII digits in `parse`.
                std::str::from_utf8(&self.0).unwrap_or("???")
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(text: &str) -> Result<Self, IdError> {
                Self::parse(text)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = IdError;
            fn try_from(text: &str) -> Result<Self, IdError> {
                Self::parse(text)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

code_newtype!(
    /// ISTAT historical province code (`codice_provincia_storico`), e.g. `026` Treviso,
    /// `017` Brescia, `041` Pesaro e Urbino. It identifies a node and prefixes its Comuni.
    ProvinceCode, 3, Province, three_digits
);

code_newtype!(
    /// ISTAT territorial unit code (`codice_uts`): equal to the province code for ordinary
    /// Provinces, `2xx` for the Città metropolitane.
    UtsCode, 3, Uts, three_digits
);

code_newtype!(
    /// ISTAT Comune code (`codice_comune`, 6 digits): province code then progressive number.
    ComuneCode, 6, Comune, |text| {
        text.len() == 6
            && text.bytes().all(|b| b.is_ascii_digit())
            && &text[..3] != "000"
            && &text[3..] != "000"
    }
);

/// The node of a Province is identified by its province code.
pub type NodeId = ProvinceCode;

impl ComuneCode {
    /// The historical province code: the first three digits.
    pub fn province(&self) -> ProvinceCode {
        ProvinceCode([self.0[0], self.0[1], self.0[2]])
    }

    /// Whether this Comune lies in `province`.
    pub fn belongs_to(&self, province: ProvinceCode) -> bool {
        self.province() == province
    }
}

/// Identifier of a public key: its RFC 7638 JWK thumbprint, base64url without padding
/// (43 characters). Anyone holding the public key can recompute it.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(String);

impl KeyId {
    /// Parses a key id, checking its length and alphabet (not that a key exists for it).
    pub fn parse(text: &str) -> Result<Self, IdError> {
        let well_formed = text.len() == 43
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if well_formed {
            Ok(Self(text.to_owned()))
        } else {
            Err(IdError::KeyId(text.chars().take(60).collect()))
        }
    }

    /// Builds a key id from an already computed thumbprint (see [`crate::keys`]).
    pub(crate) fn from_thumbprint(text: String) -> Self {
        Self(text)
    }

    /// The key id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.0)
    }
}

impl FromStr for KeyId {
    type Err = IdError;
    fn from_str(text: &str) -> Result<Self, IdError> {
        Self::parse(text)
    }
}

impl Serialize for KeyId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for KeyId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Position of an entry in its node's log: 1, 2, 3… with no gaps.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Seq(u64);

impl Seq {
    /// The first sequence number of every log.
    pub const FIRST: Seq = Seq(1);
    /// The largest sequence number: the canonical JSON integer limit.
    pub const MAX: u64 = crate::canonical::MAX_SAFE_INTEGER;

    /// Checks that `value` is a usable sequence number.
    pub fn new(value: u64) -> Result<Self, IdError> {
        if (1..=Self::MAX).contains(&value) {
            Ok(Seq(value))
        } else {
            Err(IdError::Seq(value))
        }
    }

    /// The number itself.
    pub fn get(self) -> u64 {
        self.0
    }

    /// The sequence number after this one.
    pub fn next(self) -> Result<Seq, IdError> {
        Seq::new(self.0 + 1)
    }
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Seq({})", self.0)
    }
}

impl<'de> Deserialize<'de> for Seq {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Seq::new(u64::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn province_codes_keep_leading_zeros() {
        assert_eq!(ProvinceCode::parse("026").unwrap().as_str(), "026");
        for bad in ["26", "0260", "000", "02a", " 026", "", "٠٢٦"] {
            assert!(ProvinceCode::parse(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn comune_code_knows_its_province() {
        let treviso = ComuneCode::parse("026086").unwrap();
        assert_eq!(treviso.province().as_str(), "026");
        assert!(treviso.belongs_to(ProvinceCode::parse("026").unwrap()));
        assert!(!treviso.belongs_to(ProvinceCode::parse("017").unwrap()));
        for bad in ["26086", "026000", "000086", "0260861", "02608x"] {
            assert!(ComuneCode::parse(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn metropolitan_uts_code_differs_from_province_code() {
        let uts = UtsCode::parse("201").unwrap();
        let province = ProvinceCode::parse("001").unwrap();
        assert_ne!(uts.as_str(), province.as_str());
    }

    #[test]
    fn error_messages_say_what_is_expected() {
        let message = ComuneCode::parse("26086").unwrap_err().to_string();
        assert!(message.contains("6 cifre"), "{message}");
    }

    #[test]
    fn seq_range() {
        assert!(Seq::new(0).is_err());
        assert!(Seq::new(Seq::MAX + 1).is_err());
        assert_eq!(Seq::new(1).unwrap(), Seq::FIRST);
        let parsed: Result<Seq, _> = serde_json::from_str("0");
        assert!(parsed.is_err());
    }
}
