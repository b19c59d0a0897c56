//! SQL of publishing: the node's signed log (the transactional outbox), its head, the pinned
//! hub identity, receipts, checkpoints and alarms.
//!
//! [`append_entry`] is the only way an entry is born: it runs inside the caller's transaction,
//! reads the head, signs seq = head + 1, stores the exact wire bytes and advances the head.
//! The change and its entry therefore commit or roll back together, and a seq is signed once:
//! a rolled-back transaction leaves no trace, so the next attempt signs that seq afresh
//! without any copy having left the node.

use pico_protocol::{EntryDraft, EntryError, Hash32, Payload, Seq, Timestamp};
use rusqlite::{Connection, OptionalExtension as _, params};
use serde::Serialize;

use crate::federation::Signer;

/// Why an entry could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// Publishing is blocked (the hub holds entries this node does not: a restored backup).
    #[error(
        "la pubblicazione verso l'hub è bloccata: {0}. Le modifiche ai dati condivisi sono rifiutate \
         finché un amministratore non riallinea il nodo con l'hub (`pico-node federation resync`)"
    )]
    Blocked(String),
    /// The payload could not be signed (too large, invalid).
    #[error("impossibile firmare la modifica: {0}")]
    Sign(#[from] EntryError),
    /// Database failure.
    #[error("errore del database: {0}")]
    Db(#[from] rusqlite::Error),
}

/// An entry just written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// Its seq.
    pub seq: u64,
    /// Its entry hash.
    pub hash: Hash32,
    /// Size of its wire form.
    pub bytes: usize,
}

/// The node's head: seq and hash of its last signed entry.
pub fn head(conn: &Connection) -> rusqlite::Result<(u64, Hash32)> {
    let (seq, hash): (i64, String) = conn
        .prepare_cached("SELECT head_seq, head_hash FROM federation_state WHERE id = 1")?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    let hash = hash.parse::<Hash32>().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, e.into())
    })?;
    Ok((u64::try_from(seq).unwrap_or(0), hash))
}

/// Signs `payload` as the node's next entry and stores it, in the caller's transaction.
/// `summary` is a short label for the status page (no personal data).
pub fn append_entry(
    conn: &Connection,
    signer: &Signer,
    payload: &Payload,
    summary: &str,
) -> Result<Appended, OutboxError> {
    if let Some(reason) = blocked_reason(conn)? {
        return Err(OutboxError::Blocked(reason));
    }
    let (head_seq, head_hash) = head(conn)?;
    let seq = Seq::new(head_seq + 1).map_err(|e| EntryError::Malformed(e.to_string()))?;
    let entry = EntryDraft {
        sender: signer.province,
        seq,
        prev: head_hash,
        iat: Timestamp::now(),
        payload,
    }
    .sign(&signer.key)?;
    let bytes = entry.to_bytes();
    let hash = entry.entry_hash();
    let now = super::now();
    conn.prepare_cached(
        "INSERT INTO outbox (seq, entry_hash, kind, summary, bytes, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        seq.get() as i64,
        hash.to_hex(),
        payload.kind().as_str(),
        summary,
        bytes,
        now
    ])?;
    conn.prepare_cached("UPDATE federation_state SET head_seq = ?1, head_hash = ?2 WHERE id = 1")?
        .execute(params![seq.get() as i64, hash.to_hex()])?;
    Ok(Appended {
        seq: seq.get(),
        hash,
        bytes: bytes.len(),
    })
}

/// Why publishing is blocked, if it is.
pub fn blocked_reason(conn: &Connection) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT blocked_reason FROM federation_state WHERE id = 1")?
        .query_row([], |row| row.get(0))
}

/// Blocks signing, remembering the hub's head that caused it.
pub fn set_blocked(
    conn: &Connection,
    reason: &str,
    hub_seq: u64,
    hub_hash: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE federation_state SET blocked_reason = ?1, hub_seen_seq = ?2, hub_seen_hash = ?3 WHERE id = 1",
        params![reason, hub_seq as i64, hub_hash],
    )?;
    Ok(())
}

/// Adopts the hub's head recorded when publishing was blocked and unblocks: the next entry
/// continues the hub's chain. Returns the adopted `(seq, hash)`, or `None` when not blocked.
pub fn adopt_hub_head(conn: &Connection) -> rusqlite::Result<Option<(u64, String)>> {
    let seen: Option<(Option<i64>, Option<String>, Option<String>)> = conn
        .query_row(
            "SELECT hub_seen_seq, hub_seen_hash, blocked_reason FROM federation_state WHERE id = 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
    let Some((Some(seq), Some(hash), Some(_))) = seen else {
        return Ok(None);
    };
    // The hub already holds every seq up to its head: none of ours at or below it is sent.
    conn.execute(
        "UPDATE federation_state SET head_seq = ?1, head_hash = ?2, delivered_seq = ?1, blocked_reason = NULL,
             hub_seen_seq = NULL, hub_seen_hash = NULL, halted_reason = NULL WHERE id = 1",
        params![seq, hash],
    )?;
    Ok(Some((u64::try_from(seq).unwrap_or(0), hash)))
}

/// Seq up to which the hub holds the node's log (its head as last learnt).
pub fn delivered_seq(conn: &Connection) -> rusqlite::Result<u64> {
    let seq: i64 = conn.query_row(
        "SELECT delivered_seq FROM federation_state WHERE id = 1",
        [],
        |row| row.get(0),
    )?;
    Ok(u64::try_from(seq).unwrap_or(0))
}

/// Records the hub's head for this node (never moves backwards).
pub fn set_delivered_seq(conn: &Connection, seq: u64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE federation_state SET delivered_seq = max(delivered_seq, ?1) WHERE id = 1",
        [seq as i64],
    )?;
    Ok(())
}

/// Stops delivery after a refusal that retrying cannot fix (cleared on restart).
pub fn set_halted(conn: &Connection, reason: Option<&str>) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE federation_state SET halted_reason = ?1 WHERE id = 1",
        [reason],
    )?;
    Ok(())
}

/// A declared file whose bytes the hub has not received yet (a best practice's attachment,
/// a network post's document): what the publisher uploads after the declaring entry's
/// receipt.
#[derive(Debug, Clone)]
pub struct PendingUpload {
    /// Row id in the table that holds it.
    pub id: i64,
    /// SHA-256, hex.
    pub sha256: String,
    /// The bytes.
    pub data: Vec<u8>,
}

/// The hub identity pinned at first contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pinned {
    /// Hub URL at pinning time.
    pub hub_url: String,
    /// `ed25519:…`.
    pub hub_key: String,
    /// Its key id.
    pub hub_kid: String,
    /// Log origin.
    pub log_origin: String,
    /// Checkpoint key name.
    pub checkpoint_key_name: String,
    /// C2SP verifier key.
    pub checkpoint_vkey: String,
}

/// The pinned hub, if contacted already.
pub fn pinned(conn: &Connection) -> rusqlite::Result<Option<Pinned>> {
    let row: [Option<String>; 6] = conn.query_row(
        "SELECT hub_url, hub_key, hub_kid, log_origin, checkpoint_key_name, checkpoint_vkey
             FROM federation_state WHERE id = 1",
        [],
        |row| {
            Ok([
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
                row.get(5)?,
            ])
        },
    )?;
    Ok(match row {
        [
            Some(hub_url),
            Some(hub_key),
            Some(hub_kid),
            Some(log_origin),
            Some(checkpoint_key_name),
            Some(checkpoint_vkey),
        ] => Some(Pinned {
            hub_url,
            hub_key,
            hub_kid,
            log_origin,
            checkpoint_key_name,
            checkpoint_vkey,
        }),
        _ => None,
    })
}

/// Forgets the pinned hub identity: the next contact pins what the hub presents. Only after
/// confirming a key change out of band.
pub fn unpin(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE federation_state SET hub_url = NULL, hub_key = NULL, hub_kid = NULL, log_origin = NULL,
             checkpoint_key_name = NULL, checkpoint_vkey = NULL, pinned_at = NULL,
             checkpoint_size = NULL, checkpoint_root = NULL, checkpoint_note = NULL, halted_reason = NULL
         WHERE id = 1",
        [],
    )?;
    Ok(())
}

/// Pins the hub identity (first contact).
pub fn pin(conn: &Connection, pinned: &Pinned) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE federation_state SET hub_url = ?1, hub_key = ?2, hub_kid = ?3, log_origin = ?4,
             checkpoint_key_name = ?5, checkpoint_vkey = ?6, pinned_at = ?7 WHERE id = 1",
        params![
            pinned.hub_url,
            pinned.hub_key,
            pinned.hub_kid,
            pinned.log_origin,
            pinned.checkpoint_key_name,
            pinned.checkpoint_vkey,
            super::now()
        ],
    )?;
    Ok(())
}

/// Entries ready to push: the request body itself, built as the rows are read so that each
/// entry's bytes are held once (a 10,000-row dataset is one entry of a few MB).
#[derive(Debug, Clone, Default)]
pub struct PushBatch {
    /// `{"entries":[…]}` with the exact wire bytes of each entry.
    pub body: Vec<u8>,
    /// Entries in the body.
    pub count: usize,
    /// Seq of the last entry (0 when empty).
    pub last_seq: u64,
}

/// Entries from `from_seq` on, in seq order, at most `max_entries` and (after the first)
/// at most `max_bytes` of body in total.
pub fn batch_from(
    conn: &Connection,
    from_seq: u64,
    max_entries: usize,
    max_bytes: usize,
) -> rusqlite::Result<PushBatch> {
    const OPEN: &[u8] = b"{\"entries\":[";
    const CLOSE: &[u8] = b"]}";
    let mut statement =
        conn.prepare_cached("SELECT seq, bytes FROM outbox WHERE seq >= ?1 ORDER BY seq LIMIT ?2")?;
    let mut rows = statement.query(params![from_seq as i64, max_entries as i64])?;
    let mut batch = PushBatch::default();
    batch.body.extend_from_slice(OPEN);
    while let Some(row) = rows.next()? {
        let bytes = row.get_ref(1)?.as_blob()?;
        // Each entry costs its bytes plus a comma.
        if batch.count > 0 && batch.body.len() + bytes.len() + 1 + CLOSE.len() > max_bytes {
            break;
        }
        // Grown exactly: doubling would hold a copy of the body, and room to spare, while an
        // entry of a few MB is added.
        batch.body.reserve_exact(bytes.len() + 1 + CLOSE.len());
        if batch.count > 0 {
            batch.body.push(b',');
        }
        batch.body.extend_from_slice(bytes);
        batch.count += 1;
        batch.last_seq = u64::try_from(row.get::<_, i64>(0)?).unwrap_or(0);
    }
    batch.body.extend_from_slice(CLOSE);
    Ok(batch)
}

/// Hash of the node's entry at `seq`, if it holds one.
pub fn entry_hash_at(conn: &Connection, seq: u64) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT entry_hash FROM outbox WHERE seq = ?1")?
        .query_row([seq as i64], |row| row.get(0))
        .optional()
}

/// Seqs up to `through` that the node signed but holds no receipt for: entries the hub took
/// while the node was not listening (it was killed, or the answer was lost).
pub fn seqs_without_receipt(conn: &Connection, through: u64) -> rusqlite::Result<Vec<u64>> {
    conn.prepare_cached(
        "SELECT o.seq FROM outbox o LEFT JOIN receipts r ON r.seq = o.seq
         WHERE o.seq <= ?1 AND r.seq IS NULL ORDER BY o.seq",
    )?
    .query_map([through as i64], |row| Ok(row.get::<_, i64>(0)? as u64))?
    .collect()
}

/// Stores a verified receipt (once: a duplicate push returns the same receipt).
pub fn store_receipt(
    conn: &Connection,
    seq: u64,
    log_index: u64,
    received_at: &str,
    receipt_json: &str,
) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached(
            "INSERT OR IGNORE INTO receipts (seq, log_index, received_at, receipt, stored_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            seq as i64,
            log_index as i64,
            received_at,
            receipt_json,
            super::now()
        ])?
        == 1)
}

/// A receipted entry whose inclusion is not verified yet.
#[derive(Debug, Clone)]
pub struct Unverified {
    /// Seq.
    pub seq: u64,
    /// Leaf index in the hub's log.
    pub log_index: u64,
    /// Entry hash, hex.
    pub entry_hash: String,
}

/// Up to `limit` receipted entries not yet verified, oldest first.
pub fn unverified(conn: &Connection, limit: u32) -> rusqlite::Result<Vec<Unverified>> {
    conn.prepare_cached(
        "SELECT r.seq, r.log_index, o.entry_hash FROM receipts r JOIN outbox o ON o.seq = r.seq
         WHERE r.verified_at IS NULL ORDER BY r.seq LIMIT ?1",
    )?
    .query_map([limit], |row| {
        let seq: i64 = row.get(0)?;
        let index: i64 = row.get(1)?;
        Ok(Unverified {
            seq: u64::try_from(seq).unwrap_or(0),
            log_index: u64::try_from(index).unwrap_or(0),
            entry_hash: row.get(2)?,
        })
    })?
    .collect()
}

/// Marks an entry's inclusion as verified in the tree of `tree_size`.
pub fn mark_verified(conn: &Connection, seq: u64, tree_size: u64) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE receipts SET verified_at = ?2, verified_tree_size = ?3 WHERE seq = ?1",
    )?
    .execute(params![seq as i64, super::now(), tree_size as i64])?;
    Ok(())
}

/// The last checkpoint accepted: `(size, root hex)`.
pub fn last_checkpoint(conn: &Connection) -> rusqlite::Result<Option<(u64, String)>> {
    let row: (Option<i64>, Option<String>) = conn.query_row(
        "SELECT checkpoint_size, checkpoint_root FROM federation_state WHERE id = 1",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    Ok(match row {
        (Some(size), Some(root)) => Some((u64::try_from(size).unwrap_or(0), root)),
        _ => None,
    })
}

/// Accepts a verified, consistent checkpoint.
pub fn store_checkpoint(
    conn: &Connection,
    size: u64,
    root_hex: &str,
    note: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE federation_state SET checkpoint_size = ?1, checkpoint_root = ?2, checkpoint_note = ?3,
             checkpoint_at = ?4 WHERE id = 1",
        params![size as i64, root_hex, note, super::now()],
    )?;
    Ok(())
}

/// Records a successful exchange with the hub.
pub fn record_success(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE federation_state SET hub_reachable = 1, last_success_at = ?1 WHERE id = 1",
        [super::now()],
    )?;
    Ok(())
}

/// Records a failed exchange. `reachable` says whether the hub answered at all.
pub fn record_error(conn: &Connection, error: &str, reachable: bool) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE federation_state SET hub_reachable = ?1, last_error = ?2, last_error_at = ?3 WHERE id = 1",
        params![reachable, error, super::now()],
    )?;
    Ok(())
}

/// Raises an alarm unless one of the same kind is still open; whether it is new.
pub fn raise_alarm(conn: &Connection, kind: &str, detail: &str) -> rusqlite::Result<bool> {
    let open: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM alarms WHERE kind = ?1 AND resolved_at IS NULL)",
        [kind],
        |row| row.get(0),
    )?;
    if open {
        return Ok(false);
    }
    conn.execute(
        "INSERT INTO alarms (at, kind, detail) VALUES (?1, ?2, ?3)",
        params![super::now(), kind, detail],
    )?;
    Ok(true)
}

/// Resolves the open alarms of `kind`.
pub fn resolve_alarms(conn: &Connection, kind: &str) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE alarms SET resolved_at = ?1 WHERE kind = ?2 AND resolved_at IS NULL",
        params![super::now(), kind],
    )
}

/// An alarm.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Alarm {
    /// Id.
    pub id: i64,
    /// When it was raised (RFC 3339).
    pub at: String,
    /// Stable kind (`log_behind_hub`, `hub_key_changed`, `entry_refused`, `bad_receipt`,
    /// `checkpoint_invalid`, `checkpoint_inconsistent`, `inclusion_failed`,
    /// `attachment_refused`).
    pub kind: String,
    /// What happened.
    pub detail: String,
    /// When it was resolved.
    pub resolved_at: Option<String>,
}

/// Alarms, newest first; only open ones when `open_only`.
pub fn alarms(conn: &Connection, open_only: bool, limit: u32) -> rusqlite::Result<Vec<Alarm>> {
    conn.prepare_cached(
        "SELECT id, at, kind, detail, resolved_at FROM alarms
         WHERE (?1 = 0 OR resolved_at IS NULL) ORDER BY id DESC LIMIT ?2",
    )?
    .query_map(params![open_only, limit], |row| {
        let resolved: Option<i64> = row.get(4)?;
        Ok(Alarm {
            id: row.get(0)?,
            at: super::rfc3339(row.get(1)?),
            kind: row.get(2)?,
            detail: row.get(3)?,
            resolved_at: resolved.map(super::rfc3339),
        })
    })?
    .collect()
}

/// Everything the status page and API show.
// Named apart in the OpenAPI document: the Help Desk's `Status` is another schema.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = PublishingStatus)]
pub struct Status {
    /// Seq of the node's last signed entry.
    pub head_seq: u64,
    /// Its hash.
    pub head_hash: String,
    /// Entries signed and not yet held by the hub.
    pub pending: u64,
    /// Receipts held.
    pub receipts: u64,
    /// Entries whose inclusion in the hub's log is verified.
    pub verified: u64,
    /// Whether the last exchange with the hub got an answer.
    pub hub_reachable: bool,
    /// Last successful exchange (RFC 3339).
    pub last_success_at: Option<String>,
    /// Last error.
    pub last_error: Option<String>,
    /// When it happened.
    pub last_error_at: Option<String>,
    /// Why signing is blocked, if it is.
    pub blocked: Option<String>,
    /// Why delivery stopped, if it did.
    pub halted: Option<String>,
    /// Key id of the pinned hub key.
    pub hub_kid: Option<String>,
    /// Log origin pinned.
    pub log_origin: Option<String>,
    /// Size of the last accepted checkpoint.
    pub checkpoint_size: Option<u64>,
    /// When it was accepted.
    pub checkpoint_at: Option<String>,
    /// Open alarms.
    pub open_alarms: u64,
}

/// The publishing status.
pub fn status(conn: &Connection) -> rusqlite::Result<Status> {
    conn.query_row(
        "SELECT s.head_seq, s.head_hash,
             max(s.head_seq - s.delivered_seq, 0),
             (SELECT count(*) FROM receipts),
             (SELECT count(*) FROM receipts WHERE verified_at IS NOT NULL),
             s.hub_reachable, s.last_success_at, s.last_error, s.last_error_at, s.blocked_reason,
             s.halted_reason, s.hub_kid, s.log_origin, s.checkpoint_size, s.checkpoint_at,
             (SELECT count(*) FROM alarms WHERE resolved_at IS NULL)
         FROM federation_state s WHERE s.id = 1",
        [],
        |row| {
            let count = |i: usize| -> rusqlite::Result<u64> {
                Ok(u64::try_from(row.get::<_, i64>(i)?).unwrap_or(0))
            };
            let time = |i: usize| -> rusqlite::Result<Option<String>> {
                Ok(row.get::<_, Option<i64>>(i)?.map(super::rfc3339))
            };
            Ok(Status {
                head_seq: count(0)?,
                head_hash: row.get(1)?,
                pending: count(2)?,
                receipts: count(3)?,
                verified: count(4)?,
                hub_reachable: row.get(5)?,
                last_success_at: time(6)?,
                last_error: row.get(7)?,
                last_error_at: time(8)?,
                blocked: row.get(9)?,
                halted: row.get(10)?,
                hub_kid: row.get(11)?,
                log_origin: row.get(12)?,
                checkpoint_size: row
                    .get::<_, Option<i64>>(13)?
                    .map(|size| u64::try_from(size).unwrap_or(0)),
                checkpoint_at: time(14)?,
                open_alarms: count(15)?,
            })
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outbox(entries: &[&str]) -> Connection {
        let conn = Connection::open_in_memory().expect("memory db");
        conn.execute_batch(
            "CREATE TABLE outbox (seq INTEGER PRIMARY KEY, entry_hash TEXT NOT NULL,
             kind TEXT NOT NULL, summary TEXT NOT NULL, bytes BLOB NOT NULL,
             created_at INTEGER NOT NULL);",
        )
        .expect("table");
        for (i, bytes) in entries.iter().enumerate() {
            conn.execute(
                "INSERT INTO outbox VALUES (?1, 'h', 'k', 's', ?2, 0)",
                params![i as i64 + 1, bytes.as_bytes()],
            )
            .expect("entry");
        }
        conn
    }

    #[test]
    fn the_push_body_holds_whole_entries_within_both_limits() {
        let conn = outbox(&[r#"{"a":1}"#, r#"{"b":22}"#, r#"{"c":333}"#]);

        let all = batch_from(&conn, 1, 10, 1 << 20).expect("batch");
        assert_eq!(
            String::from_utf8(all.body).expect("utf-8"),
            r#"{"entries":[{"a":1},{"b":22},{"c":333}]}"#
        );
        assert_eq!((all.count, all.last_seq), (3, 3));

        let two = batch_from(&conn, 2, 2, 1 << 20).expect("batch");
        assert_eq!(two.body, br#"{"entries":[{"b":22},{"c":333}]}"#);
        assert_eq!((two.count, two.last_seq), (2, 3));

        // `{"entries":[{"a":1},{"b":22}]}` is 30 bytes: a limit of 30 takes two entries, 29 one.
        let fits = batch_from(&conn, 1, 10, 30).expect("batch");
        assert_eq!((fits.count, fits.last_seq), (2, 2));
        assert_eq!(fits.body.len(), 30);
        let one = batch_from(&conn, 1, 10, 29).expect("batch");
        assert_eq!((one.count, one.body.len()), (1, 21));

        // The first entry always goes, whatever its size; nothing after the last seq.
        assert_eq!(batch_from(&conn, 1, 10, 1).expect("batch").count, 1);
        let none = batch_from(&conn, 4, 10, 1 << 20).expect("batch");
        assert_eq!(
            (none.count, none.body.as_slice()),
            (0, &b"{\"entries\":[]}"[..])
        );
    }
}
