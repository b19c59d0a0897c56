//! SQL of the thematic networks: the node's copy of its memberships, the posts (its own and
//! those pulled from the hub's inbox), the quarantine, the pinned key directory and the inbox
//! cursor.
//!
//! A local post is written by [`insert_post`] in the same transaction as the signed entry
//! that carries it (`db::federation::append_entry`), so a post never exists without its entry
//! nor the reverse. Received posts are deduplicated by `(origin, seq)`.

use pico_protocol::verify::KeyRecord;
use pico_protocol::{PublicKey, Seq};
use rusqlite::{Connection, OptionalExtension as _, params};
use serde::Serialize;

/// Stable names of the networks, as the hub and the payloads spell them.
pub const NETWORKS: [&str; 4] = ["sua", "sape", "sit", "personale"];

/// The protocol's network for `name`, if it is one.
pub fn parse_network(name: &str) -> Option<pico_protocol::payload::Network> {
    use pico_protocol::payload::Network;
    match name {
        "sua" => Some(Network::Sua),
        "sape" => Some(Network::Sape),
        "sit" => Some(Network::Sit),
        "personale" => Some(Network::Personale),
        _ => None,
    }
}

/// The stable name of `network`.
pub fn network_name(network: pico_protocol::payload::Network) -> &'static str {
    use pico_protocol::payload::Network;
    match network {
        Network::Sua => "sua",
        Network::Sape => "sape",
        Network::Sit => "sit",
        Network::Personale => "personale",
    }
}

fn unsigned(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// Networks this node belongs to, with the join time (Unix seconds), by name.
pub fn memberships(conn: &Connection) -> rusqlite::Result<Vec<(String, i64)>> {
    conn.prepare_cached("SELECT network, joined_at FROM network_memberships ORDER BY network")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect()
}

/// Whether the node belongs to `network`.
pub fn is_member(conn: &Connection, network: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM network_memberships WHERE network = ?1)")?
        .query_row([network], |row| row.get(0))
}

/// Records a membership the hub confirmed (keeps the first join time).
pub fn add_membership(conn: &Connection, network: &str, joined_at: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO network_memberships (network, joined_at) VALUES (?1, ?2)",
        params![network, joined_at],
    )?;
    Ok(())
}

/// Forgets a membership; whether there was one.
pub fn remove_membership(conn: &Connection, network: &str) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "DELETE FROM network_memberships WHERE network = ?1",
        [network],
    )? == 1)
}

/// Makes the local copy equal to the hub's list (an operator may change memberships at the
/// hub); returns whether anything changed.
pub fn replace_memberships(conn: &Connection, networks: &[String]) -> rusqlite::Result<bool> {
    let now = crate::db::now();
    let mut changed = false;
    for (name, _) in memberships(conn)? {
        if !networks.contains(&name) {
            changed |= remove_membership(conn, &name)?;
        }
    }
    for name in networks {
        if NETWORKS.contains(&name.as_str()) && !is_member(conn, name)? {
            add_membership(conn, name, now)?;
            changed = true;
        }
    }
    Ok(changed)
}

/// A post about to be stored.
#[derive(Debug, Clone)]
pub struct NewPost<'a> {
    /// Province that signed it.
    pub origin: &'a str,
    /// Its seq in the origin's log.
    pub seq: u64,
    /// Network.
    pub network: &'a str,
    /// Opening post of its thread (itself when it opens one).
    pub thread: (&'a str, u64),
    /// The post it answers.
    pub reply_to: Option<(&'a str, u64)>,
    /// Subject (opening posts).
    pub subject: Option<&'a str>,
    /// Text.
    pub body: &'a str,
    /// Attachments as declared in the payload (JSON array; files are not fetched).
    pub attachments: &'a str,
    /// Entry hash, hex.
    pub entry_hash: &'a str,
    /// Signing time from the entry header (Unix seconds).
    pub signed_at: i64,
}

/// Stores a post; `false` when `(origin, seq)` is already stored (a re-delivery).
pub fn insert_post(conn: &Connection, post: &NewPost<'_>) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached(
            "INSERT OR IGNORE INTO network_posts (origin, seq, network, thread_origin, thread_seq,
                 reply_origin, reply_seq, subject, body, attachments, entry_hash, signed_at, stored_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?
        .execute(params![
            post.origin,
            post.seq as i64,
            post.network,
            post.thread.0,
            post.thread.1 as i64,
            post.reply_to.map(|r| r.0),
            post.reply_to.map(|r| r.1 as i64),
            post.subject,
            post.body,
            post.attachments,
            post.entry_hash,
            post.signed_at,
            crate::db::now()
        ])?
        == 1)
}

/// Entry hash of the stored post `(origin, seq)`, if any.
pub fn post_hash(conn: &Connection, origin: &str, seq: u64) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT entry_hash FROM network_posts WHERE origin = ?1 AND seq = ?2")?
        .query_row(params![origin, seq as i64], |row| row.get(0))
        .optional()
}

/// Where a stored post sits: `(network, thread_origin, thread_seq)`.
pub fn post_place(
    conn: &Connection,
    origin: &str,
    seq: u64,
) -> rusqlite::Result<Option<(String, String, u64)>> {
    conn.prepare_cached(
        "SELECT network, thread_origin, thread_seq FROM network_posts WHERE origin = ?1 AND seq = ?2",
    )?
    .query_row(params![origin, seq as i64], |row| {
        Ok((row.get(0)?, row.get(1)?, unsigned(row.get(2)?)))
    })
    .optional()
}

/// A post as pages and the API show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Post {
    /// Province that signed it (ISTAT code).
    pub origin: String,
    /// Its seq in the origin's log.
    pub seq: u64,
    /// The post it answers, `{origin, seq}`.
    pub reply_to: Option<PostRef>,
    /// Subject (opening posts only).
    pub subject: Option<String>,
    /// Text (Markdown, shown as plain text).
    pub body: String,
    /// Documents the origin declared (and signed), with whether this node holds their bytes.
    pub attachments: Vec<PostDocument>,
    /// When the origin signed it (RFC 3339).
    pub signed_at: String,
    /// Entry hash (hex), for cross-checking with the hub's log.
    pub entry_hash: String,
}

/// An entry reference `{origin, seq}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostRef {
    /// Province code.
    pub origin: String,
    /// Seq in its log.
    pub seq: u64,
}

/// A thread in a network's list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ThreadSummary {
    /// Network.
    pub network: String,
    /// Province that opened it.
    pub origin: String,
    /// Seq of the opening post.
    pub seq: u64,
    /// Subject (empty if the opening post has not arrived yet).
    pub subject: String,
    /// Posts in the thread, opening post included.
    pub posts: u64,
    /// Signing time of the newest post (RFC 3339).
    pub last_activity_at: String,
    /// Provinces that posted, in order of first post.
    pub provinces: Vec<String>,
}

fn post_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Post> {
    let reply_origin: Option<String> = row.get(2)?;
    let reply_seq: Option<i64> = row.get(3)?;
    Ok(Post {
        origin: row.get(0)?,
        seq: unsigned(row.get(1)?),
        reply_to: reply_origin.zip(reply_seq).map(|(origin, seq)| PostRef {
            origin,
            seq: unsigned(seq),
        }),
        subject: row.get(4)?,
        body: row.get(5)?,
        attachments: Vec::new(),
        signed_at: crate::db::rfc3339(row.get(7)?),
        entry_hash: row.get(8)?,
    })
}

/// Threads of `network`, newest activity first.
pub fn threads(
    conn: &Connection,
    network: &str,
    limit: u32,
) -> rusqlite::Result<Vec<ThreadSummary>> {
    conn.prepare_cached(
        "SELECT p.thread_origin, p.thread_seq,
             (SELECT o.subject FROM network_posts o WHERE o.origin = p.thread_origin AND o.seq = p.thread_seq),
             count(*), max(p.signed_at), max(p.id),
             (SELECT group_concat(origin, ',') FROM (SELECT origin, min(id) AS first FROM network_posts q
                 WHERE q.network = p.network AND q.thread_origin = p.thread_origin AND q.thread_seq = p.thread_seq
                 GROUP BY origin ORDER BY first))
         FROM network_posts p WHERE p.network = ?1
         GROUP BY p.thread_origin, p.thread_seq
         ORDER BY max(p.signed_at) DESC, max(p.id) DESC LIMIT ?2",
    )?
    .query_map(params![network, limit], |row| {
        let provinces: Option<String> = row.get(6)?;
        Ok(ThreadSummary {
            network: network.to_owned(),
            origin: row.get(0)?,
            seq: unsigned(row.get(1)?),
            subject: row.get::<_, Option<String>>(2)?.unwrap_or_default(),
            posts: unsigned(row.get(3)?),
            last_activity_at: crate::db::rfc3339(row.get(4)?),
            provinces: provinces
                .unwrap_or_default()
                .split(',')
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
        })
    })?
    .collect()
}

/// The posts of one thread in the order they were stored (per origin, seq order), each
/// with its documents.
pub fn thread_posts(
    conn: &Connection,
    network: &str,
    origin: &str,
    seq: u64,
) -> rusqlite::Result<Vec<Post>> {
    let mut posts: Vec<Post> = conn
        .prepare_cached(
            "SELECT origin, seq, reply_origin, reply_seq, subject, body, attachments, signed_at, entry_hash
             FROM network_posts WHERE network = ?1 AND thread_origin = ?2 AND thread_seq = ?3
             ORDER BY (origin = ?2 AND seq = ?3) DESC, signed_at, id",
        )?
        .query_map(params![network, origin, seq as i64], post_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    for post in &mut posts {
        post.attachments = documents(conn, &post.origin, post.seq)?;
    }
    Ok(posts)
}

/// Posts stored per network.
pub fn post_counts(conn: &Connection) -> rusqlite::Result<Vec<(String, u64)>> {
    conn.prepare_cached("SELECT network, count(*) FROM network_posts GROUP BY network")?
        .query_map([], |row| Ok((row.get(0)?, unsigned(row.get(1)?))))?
        .collect()
}

/// The inbox cursor (the hub's `next` of the last page fully stored).
pub fn cursor(conn: &Connection) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT cursor FROM network_inbox WHERE id = 1")?
        .query_row([], |row| row.get(0))
}

/// Advances the cursor after a page was stored; never moves it back.
pub fn set_cursor(conn: &Connection, cursor: i64) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE network_inbox SET cursor = max(cursor, ?1), last_pull_at = ?2, last_error = NULL WHERE id = 1",
    )?
    .execute(params![cursor, crate::db::now()])?;
    Ok(())
}

/// Records why the last pull failed.
pub fn set_inbox_error(conn: &Connection, error: &str) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE network_inbox SET last_error = ?1 WHERE id = 1",
        [error],
    )?;
    Ok(())
}

/// State of the inbox for the status API.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InboxStatus {
    /// The hub's cursor up to which everything is stored.
    pub cursor: i64,
    /// Last successful pull (RFC 3339).
    pub last_pull_at: Option<String>,
    /// Why the last pull failed, if it did.
    pub last_error: Option<String>,
    /// Posts received from other Provinces.
    pub received: u64,
    /// Received posts held in quarantine.
    pub quarantined: u64,
}

/// The inbox state; `own` is this node's Province (its posts are not "received").
pub fn inbox_status(conn: &Connection, own: &str) -> rusqlite::Result<InboxStatus> {
    conn.query_row(
        "SELECT cursor, last_pull_at, last_error,
             (SELECT count(*) FROM network_posts WHERE origin <> ?1),
             (SELECT count(*) FROM network_quarantine WHERE released_at IS NULL)
         FROM network_inbox WHERE id = 1",
        [own],
        |row| {
            Ok(InboxStatus {
                cursor: row.get(0)?,
                last_pull_at: row.get::<_, Option<i64>>(1)?.map(crate::db::rfc3339),
                last_error: row.get(2)?,
                received: unsigned(row.get(3)?),
                quarantined: unsigned(row.get(4)?),
            })
        },
    )
}

/// An inbox item that failed verification.
#[derive(Debug, Clone)]
pub struct NewQuarantined<'a> {
    /// Hub cursor of the item.
    pub hub_cursor: i64,
    /// Origin as the hub labelled it.
    pub origin: &'a str,
    /// Seq as the hub labelled it.
    pub seq: u64,
    /// Network as the hub labelled it.
    pub network: &'a str,
    /// Stable code (`body_mismatch`, `bad_signature`, `unverified_key`, …).
    pub code: &'a str,
    /// What failed.
    pub reason: &'a str,
    /// The entry bytes as received (evidence).
    pub wire: &'a [u8],
}

/// Holds an item in quarantine (once per distinct bytes); whether it is new.
pub fn quarantine(conn: &Connection, item: &NewQuarantined<'_>) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached(
            "INSERT OR IGNORE INTO network_quarantine (hub_cursor, origin, seq, network, code, reason,
                 wire, wire_sha256, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            item.hub_cursor,
            item.origin,
            item.seq as i64,
            item.network,
            item.code,
            item.reason,
            item.wire,
            pico_protocol::Hash32::digest_of(&[item.wire]).to_hex(),
            crate::db::now()
        ])?
        == 1)
}

/// A quarantined item.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Quarantined {
    /// Id.
    pub id: i64,
    /// Hub cursor.
    pub hub_cursor: i64,
    /// Origin as labelled by the hub.
    pub origin: String,
    /// Seq as labelled by the hub.
    pub seq: u64,
    /// Network as labelled by the hub.
    pub network: String,
    /// Stable code of the failure.
    pub code: String,
    /// What failed.
    pub reason: String,
    /// When it arrived (RFC 3339).
    pub received_at: String,
    /// When it was released after its key was trusted (RFC 3339).
    pub released_at: Option<String>,
}

/// Quarantined items, newest first.
pub fn quarantined(conn: &Connection, limit: u32) -> rusqlite::Result<Vec<Quarantined>> {
    conn.prepare_cached(
        "SELECT id, hub_cursor, origin, seq, network, code, reason, received_at, released_at
         FROM network_quarantine ORDER BY id DESC LIMIT ?1",
    )?
    .query_map([limit], |row| {
        Ok(Quarantined {
            id: row.get(0)?,
            hub_cursor: row.get(1)?,
            origin: row.get(2)?,
            seq: unsigned(row.get(3)?),
            network: row.get(4)?,
            code: row.get(5)?,
            reason: row.get(6)?,
            received_at: crate::db::rfc3339(row.get(7)?),
            released_at: row.get::<_, Option<i64>>(8)?.map(crate::db::rfc3339),
        })
    })?
    .collect()
}

/// A quarantined item to verify again: `(id, hub cursor, network, wire bytes)`.
pub type HeldItem = (i64, i64, String, Vec<u8>);

/// Unreleased quarantined items of `origin` with `code`.
pub fn held_items(conn: &Connection, origin: &str, code: &str) -> rusqlite::Result<Vec<HeldItem>> {
    conn.prepare_cached(
        "SELECT id, hub_cursor, network, wire FROM network_quarantine
         WHERE origin = ?1 AND code = ?2 AND released_at IS NULL ORDER BY hub_cursor",
    )?
    .query_map(params![origin, code], |row| {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
    })?
    .collect()
}

/// Marks a quarantined item as released (its post is now stored).
pub fn release(conn: &Connection, id: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE network_quarantine SET released_at = ?2 WHERE id = ?1",
        params![id, crate::db::now()],
    )?;
    Ok(())
}

/// A key as the node holds it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HeldKey {
    /// Key id.
    pub kid: String,
    /// Province.
    pub province: String,
    /// Whether it is pinned (trusted to verify posts).
    pub trusted: bool,
}

/// What the node knows about `kid`: `Some(trusted)`, or `None` if never seen.
pub fn key_state(conn: &Connection, kid: &str) -> rusqlite::Result<Option<bool>> {
    conn.prepare_cached("SELECT trusted FROM network_keys WHERE kid = ?1")?
        .query_row([kid], |row| row.get(0))
        .optional()
}

/// Province of a known key.
pub fn key_province(conn: &Connection, kid: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT province FROM network_keys WHERE kid = ?1")?
        .query_row([kid], |row| row.get(0))
        .optional()
}

/// Whether `province` has at least one pinned key.
pub fn has_pinned_key(conn: &Connection, province: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM network_keys WHERE province = ?1 AND trusted = 1)",
    )?
    .query_row([province], |row| row.get(0))
}

/// Records a key seen in the hub's directory: `trusted` pins it, otherwise it is held until
/// an operator trusts it. An existing row keeps its key and Province (a kid is the thumbprint
/// of its key, so they cannot differ) and only takes the hub's `revoked_from`.
pub fn record_key(
    conn: &Connection,
    kid: &str,
    province: &str,
    public_key: &str,
    valid_from: u64,
    revoked_from: Option<u64>,
    trusted: bool,
) -> rusqlite::Result<()> {
    let now = crate::db::now();
    conn.prepare_cached(
        "INSERT INTO network_keys (kid, province, public_key, valid_from, revoked_from, trusted, first_seen_at, trusted_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, CASE WHEN ?6 THEN ?7 END)
         ON CONFLICT (kid) DO UPDATE SET revoked_from = excluded.revoked_from",
    )?
    .execute(params![
        kid,
        province,
        public_key,
        valid_from as i64,
        revoked_from.map(|s| s as i64),
        trusted,
        now
    ])?;
    Ok(())
}

/// Pins a held key after an operator confirmed it out of band; its Province, or `None`
/// when no such key is held.
pub fn trust_key(conn: &Connection, kid: &str) -> rusqlite::Result<Option<String>> {
    let province = key_province(conn, kid)?;
    conn.execute(
        "UPDATE network_keys SET trusted = 1, trusted_at = ?2 WHERE kid = ?1 AND trusted = 0",
        params![kid, crate::db::now()],
    )?;
    Ok(province)
}

/// Keys the node holds, pinned and held.
pub fn keys(conn: &Connection) -> rusqlite::Result<Vec<HeldKey>> {
    conn.prepare_cached("SELECT kid, province, trusted FROM network_keys ORDER BY province, kid")?
        .query_map([], |row| {
            Ok(HeldKey {
                kid: row.get(0)?,
                province: row.get(1)?,
                trusted: row.get(2)?,
            })
        })?
        .collect()
}

/// The pinned key directory, as `verify_entry` reads it. Rows that do not parse (they were
/// checked on the way in) are skipped rather than trusted.
pub fn pinned_directory(conn: &Connection) -> rusqlite::Result<Vec<KeyRecord>> {
    let rows: Vec<(String, String, i64, Option<i64>)> = conn
        .prepare_cached(
            "SELECT province, public_key, valid_from, revoked_from FROM network_keys WHERE trusted = 1",
        )?
        .query_map([], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|(province, key, valid_from, revoked_from)| {
            Some(KeyRecord {
                province: pico_protocol::ProvinceCode::parse(&province).ok()?,
                key: key.parse::<PublicKey>().ok()?,
                valid_from: Seq::new(unsigned(valid_from).max(1)).ok()?,
                revoked_from: match revoked_from {
                    Some(seq) => Some(Seq::new(unsigned(seq)).ok()?),
                    None => None,
                },
            })
        })
        .collect())
}

/// A document a post declares, about to be stored: the node's own (with its bytes) or a
/// received one (bytes fetched later).
#[derive(Debug, Clone)]
pub struct NewAttachment<'a> {
    /// Province that signed the post.
    pub origin: &'a str,
    /// The post's seq in the origin's log.
    pub seq: u64,
    /// Position in the post's `attachments`, from 0.
    pub position: u32,
    /// File name as declared.
    pub filename: &'a str,
    /// Media type as declared.
    pub media_type: &'a str,
    /// Length as declared.
    pub size: u64,
    /// SHA-256 as declared, hex.
    pub sha256: &'a str,
    /// The bytes, for the node's own posts.
    pub data: Option<&'a [u8]>,
}

/// Stores a post's document (once: a re-delivered post changes nothing).
pub fn insert_attachment(conn: &Connection, doc: &NewAttachment<'_>) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO network_attachments (origin, seq, position, filename, media_type,
             size, sha256, data, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        doc.origin,
        doc.seq as i64,
        doc.position,
        doc.filename,
        doc.media_type,
        doc.size as i64,
        doc.sha256,
        doc.data,
        crate::db::now()
    ])?;
    Ok(())
}

/// Where a post's document stands on this node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DocumentState {
    /// The bytes are here (this node's own, or fetched and verified): downloadable.
    Available,
    /// Received post whose file is not fetched yet (its origin may not have uploaded it).
    Pending,
    /// The bytes served by the hub did not match what the origin signed: refused.
    Refused,
}

/// A document of a post, as pages and the API show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PostDocument {
    /// Position in the post's declaration, from 0 (the download path uses it).
    pub position: u32,
    /// File name declared by the origin.
    pub name: String,
    /// Media type declared by the origin.
    pub media_type: String,
    /// Length in bytes declared by the origin.
    pub size: u64,
    /// SHA-256 declared (and signed) by the origin, hex.
    pub sha256: String,
    /// Whether it can be downloaded.
    pub state: DocumentState,
    /// Why it is refused, or the last fetch error.
    pub detail: Option<String>,
}

/// The documents of the post `(origin, seq)`, in declaration order.
pub fn documents(conn: &Connection, origin: &str, seq: u64) -> rusqlite::Result<Vec<PostDocument>> {
    conn.prepare_cached(
        "SELECT position, filename, media_type, size, sha256, data IS NOT NULL, refused_reason, last_error
         FROM network_attachments WHERE origin = ?1 AND seq = ?2 ORDER BY position",
    )?
    .query_map(params![origin, seq as i64], |row| {
        let available: bool = row.get(5)?;
        let refused: Option<String> = row.get(6)?;
        let last_error: Option<String> = row.get(7)?;
        let (state, detail) = match (available, refused) {
            (true, _) => (DocumentState::Available, None),
            (false, Some(reason)) => (DocumentState::Refused, Some(reason)),
            (false, None) => (DocumentState::Pending, last_error),
        };
        Ok(PostDocument {
            position: row.get(0)?,
            name: row.get(1)?,
            media_type: row.get(2)?,
            size: unsigned(row.get(3)?),
            sha256: row.get(4)?,
            state,
            detail,
        })
    })?
    .collect()
}

/// A stored document with its bytes: `(file name, media type, bytes)`.
pub type DocumentFile = (String, String, Vec<u8>);

/// The bytes of an available document of the post `(origin, seq)` in `network`.
pub fn document_data(
    conn: &Connection,
    network: &str,
    origin: &str,
    seq: u64,
    position: u32,
) -> rusqlite::Result<Option<DocumentFile>> {
    conn.prepare_cached(
        "SELECT a.filename, a.media_type, a.data FROM network_attachments a
         JOIN network_posts p ON p.origin = a.origin AND p.seq = a.seq
         WHERE p.network = ?1 AND a.origin = ?2 AND a.seq = ?3 AND a.position = ?4
           AND a.data IS NOT NULL",
    )?
    .query_row(params![network, origin, seq as i64, position], |row| {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?))
    })
    .optional()
}

/// A received document to fetch from the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueFetch {
    /// Row id.
    pub id: i64,
    /// Origin of the post.
    pub origin: String,
    /// Seq of the post.
    pub seq: u64,
    /// Declared SHA-256, hex.
    pub sha256: String,
    /// Declared length.
    pub size: u64,
    /// Failed attempts so far.
    pub attempts: u32,
}

/// The next received document due for fetching at `now` (not this node's own, not refused).
pub fn next_due_fetch(
    conn: &Connection,
    own: &str,
    now: i64,
) -> rusqlite::Result<Option<DueFetch>> {
    conn.prepare_cached(
        "SELECT id, origin, seq, sha256, size, attempts FROM network_attachments
         WHERE data IS NULL AND refused_reason IS NULL AND origin <> ?1 AND next_attempt_at <= ?2
         ORDER BY next_attempt_at, id LIMIT 1",
    )?
    .query_row(params![own, now], |row| {
        Ok(DueFetch {
            id: row.get(0)?,
            origin: row.get(1)?,
            seq: unsigned(row.get(2)?),
            sha256: row.get(3)?,
            size: unsigned(row.get(4)?),
            attempts: row.get(5)?,
        })
    })
    .optional()
}

/// When the next received document falls due (Unix seconds), if any is waiting.
pub fn next_fetch_at(conn: &Connection, own: &str) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached(
        "SELECT min(next_attempt_at) FROM network_attachments
         WHERE data IS NULL AND refused_reason IS NULL AND origin <> ?1",
    )?
    .query_row([own], |row| row.get(0))
}

/// Keeps the verified bytes of a received document (and of any other row declaring the same
/// hash and length, which the same bytes satisfy).
pub fn store_fetched(conn: &Connection, sha256: &str, data: &[u8]) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "UPDATE network_attachments SET data = ?2, fetched_at = ?3, last_error = NULL
         WHERE sha256 = ?1 AND size = ?4 AND data IS NULL AND refused_reason IS NULL",
    )?
    .execute(params![sha256, data, crate::db::now(), data.len() as i64])
}

/// Records a failed fetch, to be tried again at `next_attempt_at`.
pub fn fetch_failed(
    conn: &Connection,
    id: i64,
    error: &str,
    next_attempt_at: i64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE network_attachments SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3
         WHERE id = ?1",
    )?
    .execute(params![id, error, next_attempt_at])?;
    Ok(())
}

/// Refuses a received document for good: the bytes did not match the origin's declaration.
pub fn refuse_fetched(conn: &Connection, id: i64, reason: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE network_attachments SET refused_reason = ?2 WHERE id = ?1")?
        .execute(params![id, reason])?;
    Ok(())
}

/// The next of this node's own documents whose post the hub accepted (its receipt is
/// stored) and whose bytes the hub has not taken yet, skipping refused uploads.
pub fn next_pending_upload(
    conn: &Connection,
    own: &str,
) -> rusqlite::Result<Option<crate::db::federation::PendingUpload>> {
    conn.prepare_cached(
        "SELECT a.id, a.sha256, a.data FROM network_attachments a
         JOIN receipts r ON r.seq = a.seq
         WHERE a.origin = ?1 AND a.uploaded_at IS NULL AND a.data IS NOT NULL
           AND a.refused_reason IS NULL
         ORDER BY a.seq, a.id LIMIT 1",
    )?
    .query_row([own], |row| {
        Ok(crate::db::federation::PendingUpload {
            id: row.get(0)?,
            sha256: row.get(1)?,
            data: row.get(2)?,
        })
    })
    .optional()
}

/// Records that the hub holds the bytes of this node's documents with this hash.
pub fn mark_uploaded(conn: &Connection, own: &str, sha256: &str, now: i64) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE network_attachments SET uploaded_at = ?3
         WHERE origin = ?1 AND sha256 = ?2 AND uploaded_at IS NULL AND data IS NOT NULL",
    )?
    .execute(params![own, sha256, now])?;
    Ok(())
}

/// Records that the hub refused the upload of one of this node's documents.
pub fn mark_upload_refused(conn: &Connection, id: i64, reason: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE network_attachments SET refused_reason = ?2 WHERE id = ?1")?
        .execute(params![id, reason])?;
    Ok(())
}

/// Forgets refused uploads of this node's documents, so that they are tried again (at the
/// publisher's start). Refused received documents stay refused: their bytes were wrong.
pub fn clear_upload_refusals(conn: &Connection, own: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE network_attachments SET refused_reason = NULL
         WHERE origin = ?1 AND refused_reason IS NOT NULL AND data IS NOT NULL",
    )?
    .execute([own])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        let mut conn = Connection::open_in_memory().expect("db");
        pico_service::db::migrate(
            &mut conn,
            crate::db::MIGRATIONS,
            std::path::Path::new(":memory:"),
        )
        .expect("migrate");
        conn
    }

    #[test]
    fn a_stored_key_keeps_its_province_and_trust() {
        let conn = conn();
        record_key(&conn, "k1", "026", "ed25519:x", 1, None, true).expect("pin");
        record_key(&conn, "k1", "017", "ed25519:y", 5, Some(9), false).expect("again");
        assert_eq!(key_state(&conn, "k1").expect("state"), Some(true));
        assert_eq!(
            key_province(&conn, "k1").expect("province").as_deref(),
            Some("026")
        );
        record_key(&conn, "k2", "026", "ed25519:z", 5, None, false).expect("held");
        assert_eq!(key_state(&conn, "k2").expect("state"), Some(false));
        assert_eq!(
            trust_key(&conn, "k2").expect("trust").as_deref(),
            Some("026")
        );
        assert_eq!(key_state(&conn, "k2").expect("state"), Some(true));
    }

    #[test]
    fn posts_are_deduplicated_and_the_cursor_never_goes_back() {
        let conn = conn();
        let post = NewPost {
            origin: "026",
            seq: 3,
            network: "sua",
            thread: ("026", 3),
            reply_to: None,
            subject: Some("Gare"),
            body: "Testo",
            attachments: "[]",
            entry_hash: "ab",
            signed_at: 1,
        };
        assert!(insert_post(&conn, &post).expect("insert"));
        assert!(!insert_post(&conn, &post).expect("again"));
        assert_eq!(threads(&conn, "sua", 10).expect("threads").len(), 1);
        set_cursor(&conn, 10).expect("cursor");
        set_cursor(&conn, 4).expect("cursor");
        assert_eq!(cursor(&conn).expect("cursor"), 10);
    }
}

/// A document with its bytes, attached to the opening post of a thread.
#[derive(Debug, Clone)]
pub struct OpeningDocument {
    /// The post (the thread's opening post).
    pub post: PostRef,
    /// When its origin signed it (Unix seconds).
    pub signed_at: i64,
    /// The bytes (own, or fetched and verified against the signed SHA-256).
    pub data: Vec<u8>,
}

/// Documents named `filename` attached to the opening posts of `network`'s threads whose
/// bytes are here, newest post first (at most `limit`): how a module finds the structured
/// posts it publishes in a network (SAPE's partner searches).
pub fn opening_documents(
    conn: &Connection,
    network: &str,
    filename: &str,
    limit: u32,
) -> rusqlite::Result<Vec<OpeningDocument>> {
    conn.prepare_cached(
        "SELECT p.origin, p.seq, p.signed_at, a.data FROM network_posts p \
         JOIN network_attachments a ON a.origin = p.origin AND a.seq = p.seq \
         WHERE p.network = ?1 AND p.thread_origin = p.origin AND p.thread_seq = p.seq \
         AND a.filename = ?2 AND a.data IS NOT NULL ORDER BY p.signed_at DESC, p.id DESC LIMIT ?3",
    )?
    .query_map(params![network, filename, limit], |row| {
        Ok(OpeningDocument {
            post: PostRef {
                origin: row.get(0)?,
                seq: unsigned(row.get(1)?),
            },
            signed_at: row.get(2)?,
            data: row.get(3)?,
        })
    })?
    .collect()
}
