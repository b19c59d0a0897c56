//! Thematic networks: membership, and the inbox that routes network posts to members.
//!
//! A post is written to `inbox` once, in the transaction that accepts its entry; who receives
//! it is decided when a member reads, from the membership at that moment. So a Province that
//! joins later reads the network's whole history, and one that leaves stops receiving without
//! anything being deleted.

use pico_protocol::ProvinceCode;
use pico_protocol::payload::{Network, NetworkMessage};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{DbError, attachments, corrupt};

/// Every network the hub hosts, in the order they are listed.
pub const ALL: [Network; 4] = [
    Network::Sua,
    Network::Sape,
    Network::Sit,
    Network::Personale,
];

/// The wire name of a network (`sua`, `sape`, `sit`, `personale`).
pub fn name(network: Network) -> &'static str {
    match network {
        Network::Sua => "sua",
        Network::Sape => "sape",
        Network::Sit => "sit",
        Network::Personale => "personale",
    }
}

/// The network with this wire name.
pub fn parse(text: &str) -> Option<Network> {
    ALL.into_iter().find(|network| name(*network) == text)
}

/// Adds a Province to a network; returns when it joined (earlier if it already was a member).
pub fn join(conn: &Connection, network: Network, province: ProvinceCode) -> Result<i64, DbError> {
    conn.execute(
        "INSERT INTO network_members (network, province, joined_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (network, province) DO NOTHING",
        params![name(network), province.as_str(), super::now_unix()],
    )?;
    conn.query_row(
        "SELECT joined_at FROM network_members WHERE network = ?1 AND province = ?2",
        params![name(network), province.as_str()],
        |row| row.get(0),
    )
    .optional()?
    .ok_or_else(|| corrupt("network_members", "membership vanished after insert"))
}

/// Removes a Province from a network; whether it was a member.
pub fn leave(conn: &Connection, network: Network, province: ProvinceCode) -> Result<bool, DbError> {
    Ok(conn.execute(
        "DELETE FROM network_members WHERE network = ?1 AND province = ?2",
        params![name(network), province.as_str()],
    )? > 0)
}

/// One network and its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct NetworkView {
    /// Wire name: `sua`, `sape`, `sit`, `personale`.
    pub network: &'static str,
    /// Member Provinces, by code.
    pub members: Vec<String>,
}

/// Every network, with its members (an empty list when none).
pub fn list(conn: &Connection) -> Result<Vec<NetworkView>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT province FROM network_members WHERE network = ?1 ORDER BY province",
    )?;
    ALL.into_iter()
        .map(|network| {
            let members = stmt
                .query_map([name(network)], |row| row.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(NetworkView {
                network: name(network),
                members,
            })
        })
        .collect()
}

/// Routes an accepted post (call in the entry's transaction) and records the files it
/// declares, so that their upload is accepted and members can fetch them; returns its inbox
/// cursor.
pub fn record_message(
    conn: &Connection,
    origin: ProvinceCode,
    seq: u64,
    message: &NetworkMessage,
    entry_id: i64,
) -> Result<i64, DbError> {
    conn.prepare_cached(
        "INSERT INTO inbox (origin, seq, network, entry_id) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        origin.as_str(),
        seq as i64,
        name(message.network),
        entry_id
    ])?;
    let cursor = conn.last_insert_rowid();
    for attachment in &message.attachments {
        attachments::declare(conn, attachment)?;
        conn.prepare_cached(
            "INSERT OR IGNORE INTO network_attachments (inbox_cursor, sha256, name) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![
            cursor,
            attachment.sha256.as_bytes().as_slice(),
            attachment.name
        ])?;
    }
    Ok(cursor)
}

/// One post in a member's inbox, with the entry's wire bytes as stored.
#[derive(Debug, Clone)]
pub struct InboxItem {
    /// Position in the hub's inbox.
    pub cursor: i64,
    /// The Province that signed the post.
    pub origin: String,
    /// Its seq in the origin's log.
    pub seq: u64,
    /// The network it was posted to.
    pub network: String,
    /// The signed entry, exactly as received.
    pub wire: Vec<u8>,
}

/// Up to `limit` posts after `after` in the networks `province` is a member of, not its own,
/// in cursor order (so per-origin order is the origin's seq order).
pub fn inbox(
    conn: &Connection,
    province: ProvinceCode,
    after: i64,
    limit: u32,
) -> Result<Vec<InboxItem>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT i.cursor, i.origin, i.seq, i.network, e.wire
         FROM inbox i JOIN entries e ON e.id = i.entry_id
         WHERE i.cursor > ?1 AND i.origin <> ?2
           AND i.network IN (SELECT network FROM network_members WHERE province = ?2)
         ORDER BY i.cursor
         LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![after, province.as_str(), limit], |row| {
        Ok(InboxItem {
            cursor: row.get(0)?,
            origin: row.get(1)?,
            seq: row.get::<_, i64>(2)? as u64,
            network: row.get(3)?,
            wire: row.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The highest cursor handed out so far (0 when none).
pub fn latest_cursor(conn: &Connection) -> Result<i64, DbError> {
    Ok(
        conn.query_row("SELECT coalesce(max(cursor), 0) FROM inbox", [], |row| {
            row.get(0)
        })?,
    )
}
