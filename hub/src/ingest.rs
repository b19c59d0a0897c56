//! Ingest: verify an entry, place it in its sender's log, and apply it — all or nothing.
//!
//! Verification (signature, form, payload) is CPU work that needs only the key directory, so it
//! runs first, in parallel, on any read connection ([`preverify`]). [`ingest`] then runs on the
//! single writer: in one SQLite transaction it re-checks that the key it was verified with is
//! unchanged (re-verifying if not, e.g. after a rotation earlier in the same push), decides the
//! entry's place with `check_chain`, and writes the entry, its transparency-log leaf and
//! completed Merkle nodes, its signed receipt and its effect on the national view (or, for a
//! thematic-network post, its place in the inbox). A crash at any point leaves either all of
//! it or none of it.

use std::cell::RefCell;
use std::sync::{Arc, Mutex};

use pico_protocol::limits::CURRENT_VERSION;
use pico_protocol::payload::Payload;
use pico_protocol::receipt::ReceiptStatus;
use pico_protocol::verify::{ChainStatus, check_chain, verify_entry};
use pico_protocol::{
    EntryError, Hash32, KeyDirectory, KeyId, KeyRecord, Receipt, SecretKey, SignedEntry, Timestamp,
    VerifiedEntry,
};
use rusqlite::{Connection, TransactionBehavior};

use crate::db::keys::{self, DbKeys};
use crate::db::log::{self, DbTree, NewEntry, TreeError};
use crate::db::{DbError, corrupt, national, networks, practices};

/// The connection ingest writes with: one, outside the read pool, opened on first use. The
/// writer keeps a large page cache (the hot end of every Province's key range); on pooled
/// connections that cache would grow again in each connection the writer happened to get,
/// up to pool size × cache size of memory. Callers hold the writer lock.
#[derive(Debug, Clone)]
pub struct IngestConnection {
    db: pico_service::Db,
    conn: Arc<Mutex<Option<Connection>>>,
    cache_kib: i64,
}

impl IngestConnection {
    /// The writer of `db`, with a page cache of at most `cache_mib` MiB.
    pub fn new(db: pico_service::Db, cache_mib: u64) -> IngestConnection {
        IngestConnection {
            db,
            conn: Arc::default(),
            cache_kib: i64::try_from(cache_mib.saturating_mul(1024)).unwrap_or(i64::MAX),
        }
    }

    /// Runs `f` with the writer's connection on the blocking pool.
    pub async fn call<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = this
                .conn
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if guard.is_none() {
                let conn = this.db.dedicated_connection().map_err(DbError::from)?;
                // Negative: in KiB.
                conn.pragma_update(None, "cache_size", -this.cache_kib)
                    .map_err(DbError::from)?;
                *guard = Some(conn);
            }
            let Some(conn) = guard.as_mut() else {
                return Err(E::from(corrupt(
                    "connection",
                    "the writer connection vanished",
                )));
            };
            f(conn)
        })
        .await
        .map_err(|err| {
            E::from(DbError::Service(pico_service::DbError::Task(
                err.to_string(),
            )))
        })?
    }
}

/// The hub's signing identity: its key and the origin line of its log.
#[derive(Debug)]
pub struct HubIdentity {
    /// Signs receipts and checkpoints.
    pub key: SecretKey,
    /// The log's origin (checkpoint first line, receipt `log`), also the checkpoint key name.
    pub log_origin: String,
}

/// Why an entry was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The entry was refused, for the reason the protocol names.
    #[error(transparent)]
    Entry(#[from] EntryError),
    /// Storage failed; nothing of the entry was kept.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for IngestError {
    fn from(e: rusqlite::Error) -> Self {
        IngestError::Db(e.into())
    }
}

impl From<TreeError> for IngestError {
    fn from(e: TreeError) -> Self {
        match e {
            TreeError::Db(e) => IngestError::Db(e),
            TreeError::Merkle(e) => IngestError::Db(corrupt("merkle_nodes", e)),
        }
    }
}

/// An accepted entry (now or earlier) and the receipt for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The sender's seq.
    pub seq: u64,
    /// The entry hash.
    pub hash: Hash32,
    /// The receipt, JWS flattened JSON text.
    pub receipt: String,
    /// Whether this was a resend of an entry already accepted.
    pub duplicate: bool,
    /// The inbox cursor of a newly accepted network post, so long-polling readers are woken
    /// once the transaction has committed.
    pub inbox_cursor: Option<i64>,
}

/// A verified entry with what the writer will store, computed beforehand.
#[derive(Debug)]
pub struct Prepared {
    verified: VerifiedEntry,
    /// The key record it was verified with.
    record: KeyRecord,
    /// Its wire bytes, as stored.
    wire: Vec<u8>,
    /// Its dataset rows as stored, for a dataset batch.
    rows: Option<national::PreparedRows>,
}

impl Prepared {
    /// `wire` is the entry exactly as received.
    fn new(mut verified: VerifiedEntry, record: KeyRecord, wire: Vec<u8>) -> Prepared {
        let rows = match &mut verified.payload {
            Payload::DatasetBatch(batch) => {
                let rows = national::prepare(batch);
                // The prepared rows are all the writer needs of them: a parsed batch is
                // several times its wire size, and many pushes wait for the writer at once.
                batch.upserts = Vec::new();
                batch.deletes = Vec::new();
                Some(rows)
            }
            _ => None,
        };
        Prepared {
            wire,
            verified,
            record,
            rows,
        }
    }
}

/// The result of verifying an entry before it reaches the writer.
#[derive(Debug)]
pub enum Preverified {
    /// Verified, and prepared for storage.
    Verified(Box<Prepared>),
    /// Refused; the entry's wire bytes are kept in case the refusal depended on keys the
    /// writer may know.
    Refused(Vec<u8>, EntryError),
}

/// Remembers the key record `verify_entry` used, so the writer can tell whether it changed.
struct Recording<'a> {
    inner: DbKeys<'a>,
    seen: RefCell<Option<KeyRecord>>,
}

impl KeyDirectory for Recording<'_> {
    fn key(&self, kid: &KeyId) -> Option<KeyRecord> {
        let record = self.inner.key(kid);
        self.seen.replace(record.clone());
        record
    }
}

/// Verifies an entry against the key directory as `conn` sees it. `wire` is the entry's bytes
/// exactly as received (`entry` parsed from them): they are what is stored and what the inbox
/// delivers (SPEC §11.3), never a re-serialisation.
pub fn preverify(conn: &Connection, wire: Vec<u8>, entry: SignedEntry) -> Preverified {
    let directory = Recording {
        inner: DbKeys(conn),
        seen: RefCell::new(None),
    };
    match verify_entry(entry, &directory) {
        Ok(verified) => match directory.seen.into_inner() {
            Some(record) => Preverified::Verified(Box::new(Prepared::new(verified, record, wire))),
            None => Preverified::Refused(
                wire,
                EntryError::Malformed("la chiave non è stata letta durante la verifica".into()),
            ),
        },
        Err(error) => Preverified::Refused(wire, error),
    }
}

/// Whether a refusal depends on the key directory (and so may change once earlier entries of
/// the same push are applied).
fn depends_on_keys(error: &EntryError) -> bool {
    matches!(
        error,
        EntryError::UnknownKey(_)
            | EntryError::UnauthorisedKey { .. }
            | EntryError::RevokedKey { .. }
    )
}

/// Verifies again inside the writer's transaction, against the keys as they are now.
fn reverify(conn: &Connection, wire: Vec<u8>) -> Result<Prepared, IngestError> {
    let verified = verify_entry(SignedEntry::from_bytes(&wire)?, &DbKeys(conn))?;
    let record = keys::get(conn, &verified.kid)?
        .ok_or_else(|| corrupt("keys", "verified with a key that is not stored"))?;
    Ok(Prepared::new(verified, record, wire))
}

/// Places a verified entry in its sender's log and applies it, in one transaction.
pub fn ingest(
    conn: &mut Connection,
    hub: &HubIdentity,
    pre: Preverified,
) -> Result<Accepted, IngestError> {
    // A refusal that does not depend on keys stands without touching the database.
    let pre = match pre {
        Preverified::Refused(_, error) if !depends_on_keys(&error) => return Err(error.into()),
        other => other,
    };
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let prepared = match pre {
        Preverified::Verified(prepared) => {
            if keys::get(&tx, &prepared.verified.kid)?.as_ref() == Some(&prepared.record) {
                *prepared
            } else {
                reverify(&tx, prepared.wire)?
            }
        }
        Preverified::Refused(wire, _) => reverify(&tx, wire)?,
    };
    let Prepared {
        verified,
        wire,
        rows,
        ..
    } = prepared;
    let province = verified.header.sender;
    let seq = verified.header.seq.get();
    let head = log::head(&tx, province)?;
    let stored = if seq <= head.seq {
        log::hash_at(&tx, province, seq)?
    } else {
        None
    };
    match check_chain(head, &verified, stored) {
        Ok(ChainStatus::Append) => {}
        Ok(ChainStatus::Duplicate) => {
            let receipt = log::receipt_at(&tx, province, seq)?
                .ok_or_else(|| corrupt("entries", "accepted entry without receipt"))?;
            return Ok(Accepted {
                seq,
                hash: verified.hash,
                receipt,
                duplicate: true,
                inbox_cursor: None,
            });
        }
        Err(EntryError::Equivocation {
            seq,
            stored,
            received,
        }) => {
            log::record_equivocation(&tx, province, seq.get(), &stored, &received, &wire)?;
            tx.commit()?;
            tracing::warn!(node.province = %province, push.seq = seq.get(), "equivocation recorded");
            return Err(EntryError::Equivocation {
                seq,
                stored,
                received,
            }
            .into());
        }
        Err(error) => return Err(error.into()),
    }

    let mut tree = DbTree::open(&tx)?;
    let log_index = tree.append(province, seq, &verified.hash)?;
    let received_at = Timestamp::now();
    let receipt = Receipt {
        v: CURRENT_VERSION,
        log: hub.log_origin.clone(),
        sender: province,
        seq: verified.header.seq,
        entry_hash: verified.hash,
        log_index,
        received_at,
        status: ReceiptStatus::Accepted,
    };
    let receipt =
        serde_json::to_string(&receipt.sign(&hub.key)).map_err(|e| corrupt("entries", e))?;
    let entry_id = log::insert_entry(
        &tx,
        &NewEntry {
            province,
            seq,
            entry_hash: verified.hash,
            kind: verified.header.kind.as_str(),
            kid: verified.kid.as_str(),
            iat: verified.header.iat.unix(),
            received_at: received_at.unix(),
            log_index,
            wire: &wire,
            receipt: &receipt,
        },
    )?;
    let mut inbox_cursor = None;
    match &verified.payload {
        Payload::DatasetBatch(batch) => {
            // Prepared with the verification (`Prepared::new`), which dropped the parsed rows.
            let rows = rows.ok_or_else(|| corrupt("dataset_rows", "a batch without its rows"))?;
            let effect = national::apply_batch(&tx, province, seq, &verified.hash, batch, &rows)?;
            if effect.withdrawn {
                crate::db::catalogue::withdraw(&tx, province, &batch.dataset)?;
                tracing::info!(node.province = %province, push.seq = seq, dataset = %batch.dataset,
                    rows.deleted = effect.deleted, "dataset withdrawn from the national view");
            }
        }
        Payload::BestPractice(practice) => {
            practices::apply(&tx, province, seq, &verified.hash, practice)?;
        }
        Payload::DatasetMetadata(metadata) => {
            crate::db::catalogue::apply(
                &tx,
                province,
                seq,
                &verified.hash,
                metadata,
                received_at.unix(),
            )?;
        }
        Payload::KeyRotation(rotation) => {
            keys::apply_rotation(
                &tx,
                province,
                verified.header.seq,
                &verified.kid,
                &rotation.new_key,
            )?;
        }
        Payload::KeyRevocation(revocation) => {
            // A revocation naming another Province's key is logged but changes nothing.
            keys::apply_revocation(
                &tx,
                province,
                &revocation.kid,
                revocation.from_seq,
                &revocation.reason,
            )?;
        }
        // Routed whether or not the sender is a member: refusing would stall its log, whose seq
        // is already signed. Members read it from their inbox; the node's UI posts only to
        // networks it belongs to.
        Payload::NetworkMessage(message) => {
            inbox_cursor = Some(networks::record_message(
                &tx, province, seq, message, entry_id,
            )?);
        }
    }
    tx.commit()?;
    Ok(Accepted {
        seq,
        hash: verified.hash,
        receipt,
        duplicate: false,
        inbox_cursor,
    })
}
