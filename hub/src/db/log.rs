//! The per-node logs (entries and receipts), the transparency log (leaves and perfect
//! Merkle nodes), checkpoints and equivocation evidence.

use pico_protocol::Hash32;
use pico_protocol::ProvinceCode;
use pico_protocol::merkle::{self, MerkleError, NodeSource};
use pico_protocol::verify::Head;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{DbError, corrupt};

fn hash_from(table: &'static str, bytes: &[u8]) -> Result<Hash32, DbError> {
    <[u8; 32]>::try_from(bytes)
        .map(Hash32)
        .map_err(|_| corrupt(table, "hash is not 32 bytes"))
}

/// The hub's view of a Province's log: its last accepted seq and entry hash.
pub fn head(conn: &Connection, province: ProvinceCode) -> Result<Head, DbError> {
    let row = conn
        .query_row(
            "SELECT seq, entry_hash FROM entries WHERE province = ?1 ORDER BY seq DESC LIMIT 1",
            [province.as_str()],
            |row| Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?)),
        )
        .optional()?;
    match row {
        None => Ok(Head::EMPTY),
        Some((seq, hash)) => Ok(Head {
            seq: seq as u64,
            hash: hash_from("entries", &hash)?,
        }),
    }
}

/// The entry hash stored at `seq` of a Province's log.
pub fn hash_at(
    conn: &Connection,
    province: ProvinceCode,
    seq: u64,
) -> Result<Option<Hash32>, DbError> {
    conn.query_row(
        "SELECT entry_hash FROM entries WHERE province = ?1 AND seq = ?2",
        params![province.as_str(), seq as i64],
        |row| row.get::<_, Vec<u8>>(0),
    )
    .optional()?
    .map(|bytes| hash_from("entries", &bytes))
    .transpose()
}

/// The receipt (JWS flattened JSON text) stored for an entry.
pub fn receipt_at(
    conn: &Connection,
    province: ProvinceCode,
    seq: u64,
) -> Result<Option<String>, DbError> {
    Ok(conn
        .query_row(
            "SELECT receipt FROM entries WHERE province = ?1 AND seq = ?2",
            params![province.as_str(), seq as i64],
            |row| row.get(0),
        )
        .optional()?)
}

/// The wire bytes stored at `seq` of a Province's log.
pub fn wire_at(
    conn: &Connection,
    province: ProvinceCode,
    seq: u64,
) -> Result<Option<Vec<u8>>, DbError> {
    Ok(conn
        .query_row(
            "SELECT wire FROM entries WHERE province = ?1 AND seq = ?2",
            params![province.as_str(), seq as i64],
            |row| row.get(0),
        )
        .optional()?)
}

/// The log index and entry hash of an accepted entry.
pub fn leaf_of(
    conn: &Connection,
    province: ProvinceCode,
    seq: u64,
) -> Result<Option<(u64, Hash32)>, DbError> {
    conn.query_row(
        "SELECT log_index, entry_hash FROM entries WHERE province = ?1 AND seq = ?2",
        params![province.as_str(), seq as i64],
        |row| Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?)),
    )
    .optional()?
    .map(|(index, hash)| Ok((index as u64, hash_from("entries", &hash)?)))
    .transpose()
}

/// An accepted entry, as written together with its leaf and receipt.
#[derive(Debug)]
pub struct NewEntry<'a> {
    /// Sender.
    pub province: ProvinceCode,
    /// Its seq.
    pub seq: u64,
    /// Its entry hash.
    pub entry_hash: Hash32,
    /// Payload kind wire name.
    pub kind: &'static str,
    /// Key id that signed it.
    pub kid: &'a str,
    /// Signing time (advisory).
    pub iat: i64,
    /// When the hub accepted it.
    pub received_at: i64,
    /// Leaf index in the transparency log.
    pub log_index: u64,
    /// The wire bytes.
    pub wire: &'a [u8],
    /// The signed receipt (JWS flattened JSON).
    pub receipt: &'a str,
}

/// Stores an accepted entry; returns its row id (which the inbox refers to).
pub fn insert_entry(conn: &Connection, e: &NewEntry<'_>) -> Result<i64, DbError> {
    conn.prepare_cached(
        "INSERT INTO entries (province, seq, entry_hash, kind, kid, iat, received_at, log_index,
                              wire, receipt)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        e.province.as_str(),
        e.seq as i64,
        e.entry_hash.as_bytes().as_slice(),
        e.kind,
        e.kid,
        e.iat,
        e.received_at,
        e.log_index as i64,
        e.wire,
        e.receipt
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Why a Merkle operation over the database failed.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The request or the stored tree is inconsistent.
    #[error(transparent)]
    Merkle(#[from] MerkleError),
}

impl From<rusqlite::Error> for TreeError {
    fn from(e: rusqlite::Error) -> Self {
        TreeError::Db(e.into())
    }
}

/// The transparency log's perfect nodes in SQLite, as a [`NodeSource`] fixed at the size it
/// had when opened (inside a transaction that is the size the transaction sees).
#[derive(Debug)]
pub struct DbTree<'c> {
    conn: &'c Connection,
    size: u64,
}

impl<'c> DbTree<'c> {
    /// Opens the tree at its current size.
    pub fn open(conn: &'c Connection) -> Result<Self, DbError> {
        let size: i64 = conn.query_row(
            "SELECT coalesce(max(idx) + 1, 0) FROM log_leaves",
            [],
            |row| row.get(0),
        )?;
        Ok(DbTree {
            conn,
            size: size as u64,
        })
    }

    /// Appends a leaf (an entry hash) with the perfect nodes it completes; returns its index.
    pub fn append(
        &mut self,
        province: ProvinceCode,
        seq: u64,
        entry_hash: &Hash32,
    ) -> Result<u64, TreeError> {
        let index = self.size;
        let leaf = merkle::leaf_hash(entry_hash.as_bytes());
        let nodes = merkle::nodes_completed_by_append(&*self, leaf)?;
        self.conn
            .prepare_cached(
                "INSERT INTO log_leaves (idx, province, seq, entry_hash) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                index as i64,
                province.as_str(),
                seq as i64,
                entry_hash.as_bytes().as_slice()
            ])?;
        let mut insert = self
            .conn
            .prepare_cached("INSERT INTO merkle_nodes (level, idx, hash) VALUES (?1, ?2, ?3)")?;
        for node in nodes {
            insert.execute(params![
                node.level,
                node.index as i64,
                node.hash.as_bytes().as_slice()
            ])?;
        }
        self.size += 1;
        Ok(index)
    }
}

impl NodeSource for DbTree<'_> {
    type Error = TreeError;

    fn size(&self) -> u64 {
        self.size
    }

    fn perfect_node(&self, level: u32, index: u64) -> Result<Hash32, TreeError> {
        let bytes: Option<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT hash FROM merkle_nodes WHERE level = ?1 AND idx = ?2")?
            .query_row(params![level, index as i64], |row| row.get(0))
            .optional()?;
        match bytes {
            Some(bytes) => Ok(hash_from("merkle_nodes", &bytes)?),
            None => Err(MerkleError::NodeMissing { level, index }.into()),
        }
    }
}

/// Keeps the evidence of a fork: both entries, as received. A repeat of the same fork is
/// recorded once.
pub fn record_equivocation(
    conn: &Connection,
    province: ProvinceCode,
    seq: u64,
    stored_hash: &Hash32,
    received_hash: &Hash32,
    received_wire: &[u8],
) -> Result<(), DbError> {
    let stored_wire = wire_at(conn, province, seq)?;
    conn.execute(
        "INSERT INTO equivocations (province, seq, stored_hash, received_hash, stored_wire,
                                    received_wire, detected_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (province, seq, received_hash) DO NOTHING",
        params![
            province.as_str(),
            seq as i64,
            stored_hash.as_bytes().as_slice(),
            received_hash.as_bytes().as_slice(),
            stored_wire,
            received_wire,
            super::now_unix()
        ],
    )?;
    Ok(())
}

/// A recorded fork, for operators.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Equivocation {
    /// Province whose log forked.
    pub province: String,
    /// Contested seq.
    pub seq: u64,
    /// Hash of the entry accepted first.
    pub stored_hash: String,
    /// Hash of the conflicting entry.
    pub received_hash: String,
    /// The conflicting entry as received (wire JSON).
    pub received_entry: String,
    /// When it was detected (RFC 3339).
    pub detected_at: String,
}

/// Every recorded fork, newest first.
pub fn list_equivocations(conn: &Connection) -> Result<Vec<Equivocation>, DbError> {
    let mut stmt = conn.prepare(
        "SELECT province, seq, stored_hash, received_hash, received_wire, detected_at
         FROM equivocations ORDER BY id DESC",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok(Equivocation {
            province: row.get(0)?,
            seq: row.get::<_, i64>(1)? as u64,
            stored_hash: hex::encode(row.get::<_, Vec<u8>>(2)?),
            received_hash: hex::encode(row.get::<_, Vec<u8>>(3)?),
            received_entry: String::from_utf8_lossy(&row.get::<_, Vec<u8>>(4)?).into_owned(),
            detected_at: super::rfc3339(row.get(5)?),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A stored checkpoint.
#[derive(Debug, Clone)]
pub struct StoredCheckpoint {
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: Hash32,
    /// The signed note.
    pub note: String,
    /// When the note was first signed.
    pub signed_at: i64,
    /// When the hub last confirmed it is still the latest (heartbeat).
    pub confirmed_at: i64,
}

fn checkpoint_from_row(
    row: &rusqlite::Row<'_>,
) -> rusqlite::Result<(i64, Vec<u8>, String, i64, i64)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

fn to_checkpoint(
    (size, root, note, signed_at, confirmed_at): (i64, Vec<u8>, String, i64, i64),
) -> Result<StoredCheckpoint, DbError> {
    Ok(StoredCheckpoint {
        size: size as u64,
        root: hash_from("checkpoints", &root)?,
        note,
        signed_at,
        confirmed_at,
    })
}

/// The latest checkpoint, if any was signed.
pub fn latest_checkpoint(conn: &Connection) -> Result<Option<StoredCheckpoint>, DbError> {
    conn.query_row(
        "SELECT size, root, note, signed_at, confirmed_at FROM checkpoints
         ORDER BY size DESC LIMIT 1",
        [],
        checkpoint_from_row,
    )
    .optional()?
    .map(to_checkpoint)
    .transpose()
}

/// Every checkpoint, oldest first.
pub fn list_checkpoints(conn: &Connection) -> Result<Vec<StoredCheckpoint>, DbError> {
    let mut stmt = conn.prepare(
        "SELECT size, root, note, signed_at, confirmed_at FROM checkpoints ORDER BY size",
    )?;
    let rows = stmt.query_map([], checkpoint_from_row)?;
    rows.map(|row| to_checkpoint(row?)).collect()
}

/// The `limit` latest checkpoints, newest first, and how many there are in all.
pub fn recent_checkpoints(
    conn: &Connection,
    limit: u32,
) -> Result<(Vec<StoredCheckpoint>, u64), DbError> {
    let mut stmt = conn.prepare(
        "SELECT size, root, note, signed_at, confirmed_at FROM checkpoints
         ORDER BY size DESC LIMIT ?1",
    )?;
    let recent = stmt
        .query_map([limit], checkpoint_from_row)?
        .map(|row| to_checkpoint(row?))
        .collect::<Result<_, _>>()?;
    let all: i64 = conn.query_row("SELECT count(*) FROM checkpoints", [], |row| row.get(0))?;
    Ok((recent, all as u64))
}

/// Stores a newly signed checkpoint.
pub fn insert_checkpoint(conn: &Connection, cp: &StoredCheckpoint) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO checkpoints (size, root, note, signed_at, confirmed_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            cp.size as i64,
            cp.root.as_bytes().as_slice(),
            cp.note,
            cp.signed_at,
            cp.confirmed_at
        ],
    )?;
    Ok(())
}

/// Records a heartbeat: the latest checkpoint is still current.
pub fn confirm_checkpoint(conn: &Connection, size: u64, at: i64) -> Result<(), DbError> {
    conn.execute(
        "UPDATE checkpoints SET confirmed_at = ?2 WHERE size = ?1",
        params![size as i64, at],
    )?;
    Ok(())
}
