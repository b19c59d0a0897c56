//! The training targets of the programme (Formazione), as the hub publishes them and every
//! node pulls them: people to train per sector and per Province, and the hours of training
//! each employee should have per year.
//!
//! The document is a JWS flattened JSON object (`typ` `pico-formazione-targets`) signed with
//! the hub's key, whose payload is a canonical [`FormazioneTargets`]; a node verifies it
//! with the hub key it pinned at enrolment, exactly as it verifies a receipt
//! (`protocol/SPEC.md`, "Training targets").

use serde::{Deserialize, Serialize};

use crate::canonical;
use crate::error::EntryError;
use crate::jws::Jws;
use crate::keys::{PublicKey, SecretKey};
use crate::timestamp::Timestamp;

/// JWS `typ` of the targets document.
pub const TARGETS_TYP: &str = "pico-formazione-targets";

/// Version of the document's schema.
pub const TARGETS_VERSION: u64 = 1;

/// The target of one training sector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectorTarget {
    /// Sector code, as in the `formazione_aggregati` dataset (`appalti`, `europa`,
    /// `innovazione`, `personale`).
    pub sector: String,
    /// Its Italian name.
    pub label: String,
    /// People each Province is to train in the sector over the programme.
    pub people_per_province: u64,
}

/// What the hub signs: the programme's targets, in one revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormazioneTargets {
    /// Schema version ([`TARGETS_VERSION`]).
    pub v: u64,
    /// Revision of the targets: 1, then one more at each change; a node keeps the highest.
    pub revision: u64,
    /// When this revision was set.
    pub updated_at: Timestamp,
    /// Provinces of the programme (the national target of a sector is its
    /// `people_per_province` times this).
    pub provinces: u64,
    /// Hours of training each employee should have per year.
    pub hours_per_person_year: u64,
    /// The sectors with a target, in the order people read them.
    pub sectors: Vec<SectorTarget>,
}

impl FormazioneTargets {
    /// Signs the document with the hub's key.
    pub fn sign(&self, hub_key: &SecretKey) -> Result<Jws, canonical::ToCanonicalError> {
        let payload = canonical::to_vec(self)?;
        Ok(Jws::sign(hub_key, TARGETS_TYP, &payload))
    }

    /// Verifies a document signed by the hub's key and returns its content.
    pub fn verify(jws: &Jws, hub_key: &PublicKey) -> Result<FormazioneTargets, EntryError> {
        let protected = jws.protected_header(TARGETS_TYP)?;
        if protected.kid != hub_key.key_id() {
            return Err(EntryError::UnknownKey(protected.kid));
        }
        jws.verify_signature(hub_key)?;
        let bytes = jws.payload_bytes()?;
        canonical::check(&bytes).map_err(|source| EntryError::NonCanonical {
            part: "obiettivi di formazione",
            source,
        })?;
        let targets: FormazioneTargets = serde_json::from_slice(&bytes)
            .map_err(|e| EntryError::Malformed(format!("obiettivi di formazione: {e}")))?;
        if targets.v != TARGETS_VERSION {
            return Err(EntryError::Malformed(format!(
                "obiettivi di formazione nella versione {} (questa versione del programma legge la {TARGETS_VERSION})",
                targets.v
            )));
        }
        Ok(targets)
    }

    /// The national target of `sector` (0 for a sector without a target).
    pub fn national(&self, sector: &str) -> u64 {
        self.per_province(sector) * self.provinces
    }

    /// The target of `sector` for one Province (0 for a sector without a target).
    pub fn per_province(&self, sector: &str) -> u64 {
        self.sectors
            .iter()
            .find(|s| s.sector == sector)
            .map_or(0, |s| s.people_per_province)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn programme() -> FormazioneTargets {
        let sector = |sector: &str, label: &str, people| SectorTarget {
            sector: sector.into(),
            label: label.into(),
            people_per_province: people,
        };
        FormazioneTargets {
            v: 1,
            revision: 1,
            updated_at: Timestamp::from_unix(1_767_225_600).unwrap(),
            provinces: 86,
            hours_per_person_year: 40,
            sectors: vec![
                sector("appalti", "Appalti", 5),
                sector("europa", "Europa", 3),
                sector("innovazione", "Innovazione e Digitalizzazione", 3),
                sector("personale", "Politiche del personale", 4),
            ],
        }
    }

    #[test]
    fn signed_targets_verify_and_tampering_is_refused() {
        let hub = SecretKey::from_seed(&[7; 32]);
        let targets = programme();
        assert_eq!(
            ["appalti", "europa", "innovazione", "personale"].map(|s| targets.national(s)),
            [430, 258, 258, 344]
        );
        assert_eq!(targets.national("altro"), 0);
        let jws = targets.sign(&hub).unwrap();
        assert_eq!(
            FormazioneTargets::verify(&jws, &hub.public_key()).unwrap(),
            targets
        );
        // Another key, another typ, a changed payload: all refused.
        let other = SecretKey::from_seed(&[8; 32]);
        assert!(FormazioneTargets::verify(&jws, &other.public_key()).is_err());
        let receipt_typ = Jws::sign(&hub, "pico-receipt", &canonical::to_vec(&targets).unwrap());
        assert!(FormazioneTargets::verify(&receipt_typ, &hub.public_key()).is_err());
        let mut more = targets;
        more.sectors[0].people_per_province = 50;
        let mut tampered = jws;
        tampered.payload = more.sign(&hub).unwrap().payload;
        assert!(matches!(
            FormazioneTargets::verify(&tampered, &hub.public_key()),
            Err(EntryError::BadSignature)
        ));
    }
}
