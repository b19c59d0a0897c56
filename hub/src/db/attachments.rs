//! Content-addressed attachment bytes, shared by best practices and thematic-network posts.
//!
//! An accepted entry *declares* a file (name, media type, SHA-256, length); the node uploads
//! the bytes afterwards and they are kept only while a live declaration references them: a
//! published best practice (public to everyone) or a routed network post (readable by the
//! members of its network). When a best practice is withdrawn or stops declaring a file, the
//! bytes no longer referenced are deleted; the signed entries that declared them stay in the
//! log, which is append-only.

use pico_protocol::payload::Attachment;
use pico_protocol::{Hash32, ProvinceCode};
use rusqlite::{Connection, OptionalExtension, params};

use super::DbError;

/// Why an attachment upload was refused.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// No live declaration (published best practice, routed network post) names this hash.
    #[error(
        "nessun documento pubblicato e nessun messaggio di rete dichiara un allegato con questo SHA-256"
    )]
    NotDeclared,
    /// The bytes differ from what the entry declared.
    #[error("il file non corrisponde a quanto dichiarato ({0})")]
    Mismatch(&'static str),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Records a declared file (its bytes come later); the first declaration of a hash fixes its
/// length and media type.
pub fn declare(conn: &Connection, attachment: &Attachment) -> Result<(), DbError> {
    conn.prepare_cached(
        "INSERT INTO attachments (sha256, length, media_type) VALUES (?1, ?2, ?3)
         ON CONFLICT (sha256) DO NOTHING",
    )?
    .execute(params![
        attachment.sha256.as_bytes().as_slice(),
        attachment.length as i64,
        attachment.media_type
    ])?;
    Ok(())
}

/// Whether a published best practice or a routed network post declares `sha256`.
fn is_referenced(conn: &Connection, sha256: &[u8]) -> Result<bool, DbError> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM practice_attachments pa
                            JOIN best_practices b ON b.id = pa.practice_id
                            WHERE pa.sha256 = ?1 AND b.status = 'published')
                 OR EXISTS (SELECT 1 FROM network_attachments WHERE sha256 = ?1)",
        )?
        .query_row([sha256], |row| row.get(0))?)
}

/// Stores the bytes of a declared attachment after checking its length and hash.
pub fn store(conn: &Connection, sha256: &Hash32, bytes: &[u8]) -> Result<(), UploadError> {
    let key = sha256.as_bytes().as_slice();
    let declared: Option<i64> = conn
        .query_row(
            "SELECT length FROM attachments WHERE sha256 = ?1",
            [key],
            |row| row.get(0),
        )
        .optional()
        .map_err(DbError::from)?;
    let length = declared.ok_or(UploadError::NotDeclared)?;
    // A withdrawn document's files are not taken back in by a late upload.
    if !is_referenced(conn, key)? {
        return Err(UploadError::NotDeclared);
    }
    if length as usize != bytes.len() {
        return Err(UploadError::Mismatch("lunghezza"));
    }
    if Hash32::digest_of(&[bytes]) != *sha256 {
        return Err(UploadError::Mismatch("SHA-256"));
    }
    conn.execute(
        "UPDATE attachments SET content = ?2, uploaded_at = ?3 WHERE sha256 = ?1 AND content IS NULL",
        params![key, bytes, super::now_unix()],
    )
    .map_err(DbError::from)?;
    Ok(())
}

/// Deletes the bytes of those of `hashes` that no live declaration references any more
/// (a withdrawn best practice, a file dropped from a document). Returns how many were deleted.
pub fn release_unreferenced(conn: &Connection, hashes: &[Vec<u8>]) -> Result<usize, DbError> {
    let mut released = 0;
    for hash in hashes {
        if !is_referenced(conn, hash)? {
            released += conn
                .prepare_cached(
                    "UPDATE attachments SET content = NULL, uploaded_at = NULL
                     WHERE sha256 = ?1 AND content IS NOT NULL",
                )?
                .execute([hash.as_slice()])?;
        }
    }
    Ok(released)
}

/// The bytes and media type of an uploaded attachment of a published best practice: what
/// the public library serves. Files of network posts are not public.
pub fn public(conn: &Connection, sha256: &Hash32) -> Result<Option<(String, Vec<u8>)>, DbError> {
    Ok(conn
        .prepare_cached(
            "SELECT a.media_type, a.content FROM attachments a
             WHERE a.sha256 = ?1 AND a.content IS NOT NULL
               AND EXISTS (SELECT 1 FROM practice_attachments pa
                           JOIN best_practices b ON b.id = pa.practice_id
                           WHERE pa.sha256 = a.sha256 AND b.status = 'published')",
        )?
        .query_row([sha256.as_bytes().as_slice()], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()?)
}

/// What a member asking for a network post's file gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberFile {
    /// The bytes and media type.
    Ready(String, Vec<u8>),
    /// A post the caller may read declares it, but its origin has not uploaded it yet.
    Pending,
    /// No post the caller may read declares it.
    Unknown,
}

/// A file declared by a network post that `province` may read: one of its own posts, or a
/// post of a network it is a member of now.
pub fn for_member(
    conn: &Connection,
    sha256: &Hash32,
    province: ProvinceCode,
) -> Result<MemberFile, DbError> {
    let visible: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM network_attachments na JOIN inbox i ON i.cursor = na.inbox_cursor
                            WHERE na.sha256 = ?1
                              AND (i.origin = ?2 OR i.network IN
                                   (SELECT network FROM network_members WHERE province = ?2)))",
        )?
        .query_row(params![sha256.as_bytes().as_slice(), province.as_str()], |row| {
            row.get(0)
        })?;
    if !visible {
        return Ok(MemberFile::Unknown);
    }
    let content: Option<(String, Option<Vec<u8>>)> = conn
        .prepare_cached("SELECT media_type, content FROM attachments WHERE sha256 = ?1")?
        .query_row([sha256.as_bytes().as_slice()], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()?;
    Ok(match content {
        Some((media_type, Some(bytes))) => MemberFile::Ready(media_type, bytes),
        _ => MemberFile::Pending,
    })
}
