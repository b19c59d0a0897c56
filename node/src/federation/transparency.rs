//! Transparency checks: the node holds the hub to what it signed.
//!
//! Each round fetches the latest checkpoint and verifies it with the pinned verifier key,
//! checks that it extends the last accepted one (consistency proof), then checks the
//! inclusion of every receipted entry not yet verified whose leaf the checkpoint covers.
//! A failure raises an alarm; an unreachable hub only postpones the round.

use pico_protocol::Hash32;
use pico_protocol::checkpoint::{Checkpoint, parse_note_verifier_key};
use pico_protocol::merkle::{leaf_hash, verify_consistency, verify_inclusion};

use super::alarm;
use super::client::HubError;
use super::publisher::{Publisher, Session};
use crate::db::federation as store;
use pico_service::DbError;

/// Entries whose inclusion is checked per round (the rest wait for the next one).
const INCLUSIONS_PER_ROUND: u32 = 2_000;

enum Failure {
    /// Raise this alarm.
    Alarm(&'static str, String),
    /// The hub could not be asked: try next round.
    Later(String),
}

impl From<HubError> for Failure {
    fn from(error: HubError) -> Failure {
        if error.is_transient() {
            Failure::Later(error.to_string())
        } else {
            // The hub answered, and not with what a correct log serves.
            Failure::Alarm(alarm::INCLUSION_FAILED, error.to_string())
        }
    }
}

impl From<DbError> for Failure {
    fn from(error: DbError) -> Failure {
        Failure::Later(error.to_string())
    }
}

/// Runs one round; failures are recorded as alarms (or postponed).
pub async fn check(publisher: Publisher, session: Session) {
    match round(&publisher, &session).await {
        Ok(verified) if verified > 0 => {
            tracing::info!(verified, "transparency: entries verified in the hub's log");
        }
        Ok(_) => {}
        Err(Failure::Later(reason)) => {
            tracing::debug!(%reason, "transparency: check postponed");
        }
        Err(Failure::Alarm(kind, detail)) => publisher.alarm(kind, detail).await,
    }
}

async fn round(publisher: &Publisher, session: &Session) -> Result<u64, Failure> {
    let note = publisher.client().checkpoint().await?;
    let (name, vkey) = parse_note_verifier_key(&session.vkey).map_err(|e| {
        Failure::Alarm(
            alarm::CHECKPOINT_INVALID,
            format!("la chiave di verifica dei checkpoint registrata non è utilizzabile: {e}"),
        )
    })?;
    let checkpoint = Checkpoint::parse_and_verify(&note, &name, &vkey).map_err(|e| {
        Failure::Alarm(
            alarm::CHECKPOINT_INVALID,
            format!(
                "il checkpoint dell'hub non è verificato dalla chiave registrata {name}: {} ({e})",
                e.code()
            ),
        )
    })?;
    if checkpoint.origin != session.log_origin || name != session.key_name {
        return Err(Failure::Alarm(
            alarm::CHECKPOINT_INVALID,
            format!(
                "il checkpoint è del registro {:?}, ma il nodo ha registrato {:?}",
                checkpoint.origin, session.log_origin
            ),
        ));
    }
    let db = publisher.db().clone();
    let last = db
        .call(|conn| store::last_checkpoint(conn).map_err(DbError::from))
        .await?;
    if let Some((old_size, old_root)) = last {
        let old_root: Hash32 = old_root
            .parse()
            .map_err(|_| Failure::Later("stored checkpoint root unreadable".to_owned()))?;
        let new = checkpoint.size;
        if new < old_size {
            return Err(Failure::Alarm(
                alarm::CHECKPOINT_INCONSISTENT,
                format!("il registro dell'hub si è ridotto da {old_size} a {new} voci"),
            ));
        }
        let hashes = if new > old_size && old_size > 0 {
            let proof = publisher.client().consistency(old_size, new).await?;
            if proof.old_size != old_size || proof.new_size != new {
                return Err(Failure::Alarm(
                    alarm::CHECKPOINT_INCONSISTENT,
                    format!(
                        "chiesta una prova di coerenza {old_size}→{new}, ricevuta {}→{}",
                        proof.old_size, proof.new_size
                    ),
                ));
            }
            proof.hashes
        } else {
            Vec::new()
        };
        verify_consistency(old_size, new, &old_root, &checkpoint.root, &hashes).map_err(|e| {
            Failure::Alarm(
                alarm::CHECKPOINT_INCONSISTENT,
                format!(
                    "il checkpoint di dimensione {new} non estende quello accettato di dimensione {old_size}: {}",
                    e.code()
                ),
            )
        })?;
    }
    let (size, root, text) = (checkpoint.size, checkpoint.root, note.clone());
    let pending = db
        .call(move |conn| {
            store::store_checkpoint(conn, size, &root.to_hex(), &text)?;
            store::unverified(conn, INCLUSIONS_PER_ROUND).map_err(DbError::from)
        })
        .await?;
    let province = publisher.signer().province;
    let mut verified = 0;
    for entry in pending.into_iter().filter(|e| e.log_index < size) {
        let proof = publisher
            .client()
            .inclusion(province, entry.seq, size)
            .await?;
        let hash: Hash32 = entry
            .entry_hash
            .parse()
            .map_err(|_| Failure::Later("stored entry hash unreadable".to_owned()))?;
        let leaf = leaf_hash(hash.as_bytes());
        let outcome = if proof.leaf_index != entry.log_index || proof.tree_size != size {
            Err(format!(
                "la prova è per la foglia {} di {}, la ricevuta indica la foglia {} (albero di {size})",
                proof.leaf_index, proof.tree_size, entry.log_index
            ))
        } else {
            verify_inclusion(&leaf, entry.log_index, size, &proof.hashes, &root)
                .map_err(|e| e.code().to_owned())
        };
        if let Err(problem) = outcome {
            return Err(Failure::Alarm(
                alarm::INCLUSION_FAILED,
                format!(
                    "la voce n. {} non risulta nel registro dell'hub di dimensione {size}: {problem}",
                    entry.seq
                ),
            ));
        }
        let seq = entry.seq;
        db.call(move |conn| store::mark_verified(conn, seq, size).map_err(DbError::from))
            .await?;
        verified += 1;
    }
    Ok(verified)
}
