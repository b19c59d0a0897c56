//! SQL of the Community module: best practices, their attachments (bytes stored here) and
//! the upload state of attachments declared to the hub.

use rusqlite::{Connection, OptionalExtension as _, params, params_from_iter, types::Value};

use crate::db::federation::PendingUpload;

/// A stored best practice (without attachment bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PracticeRow {
    /// Local id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// Module name (`sua` … `community`).
    pub module: String,
    /// Comune codes, JSON array.
    pub comuni: Vec<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// BCP 47 language.
    pub language: String,
    /// Markdown text.
    pub body: String,
    /// Shown on the public pages.
    pub public: bool,
    /// `off` or `national`.
    pub federation: String,
    /// What the hub last received: `none`, `published`, `withdrawn`.
    pub hub_status: String,
    /// Seq of the last entry about this document.
    pub hub_seq: Option<i64>,
    /// Who created it (`user:<name>`).
    pub created_by: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

/// The editable fields of a practice.
#[derive(Debug, Clone)]
pub struct PracticeFields<'a> {
    /// Title.
    pub title: &'a str,
    /// Summary.
    pub summary: &'a str,
    /// Module name.
    pub module: &'a str,
    /// Comune codes.
    pub comuni: &'a [String],
    /// Tags.
    pub tags: &'a [String],
    /// Language.
    pub language: &'a str,
    /// Body.
    pub body: &'a str,
    /// Public.
    pub public: bool,
}

fn to_json(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".to_owned())
}

fn from_json(column: usize, text: &str) -> rusqlite::Result<Vec<String>> {
    serde_json::from_str(text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, e.into())
    })
}

const COLUMNS: &str =
    "id, title, summary, module, comuni, tags, language, body, public, federation,
    hub_status, hub_seq, created_by, created_at, updated_at";

fn read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<PracticeRow> {
    Ok(PracticeRow {
        id: row.get(0)?,
        title: row.get(1)?,
        summary: row.get(2)?,
        module: row.get(3)?,
        comuni: from_json(4, &row.get::<_, String>(4)?)?,
        tags: from_json(5, &row.get::<_, String>(5)?)?,
        language: row.get(6)?,
        body: row.get(7)?,
        public: row.get(8)?,
        federation: row.get(9)?,
        hub_status: row.get(10)?,
        hub_seq: row.get(11)?,
        created_by: row.get(12)?,
        created_at: row.get(13)?,
        updated_at: row.get(14)?,
    })
}

/// Inserts a practice; returns its id.
pub fn insert(
    conn: &Connection,
    fields: &PracticeFields<'_>,
    created_by: &str,
    now: i64,
) -> rusqlite::Result<i64> {
    conn.query_row(
        "INSERT INTO practices (title, summary, module, comuni, tags, language, body, public,
             created_by, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10) RETURNING id",
        params![
            fields.title,
            fields.summary,
            fields.module,
            to_json(fields.comuni),
            to_json(fields.tags),
            fields.language,
            fields.body,
            fields.public,
            created_by,
            now
        ],
        |row| row.get(0),
    )
}

/// Replaces the editable fields of a practice.
pub fn update(
    conn: &Connection,
    id: i64,
    fields: &PracticeFields<'_>,
    now: i64,
) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "UPDATE practices SET title = ?2, summary = ?3, module = ?4, comuni = ?5, tags = ?6,
             language = ?7, body = ?8, public = ?9, updated_at = ?10 WHERE id = ?1",
        params![
            id,
            fields.title,
            fields.summary,
            fields.module,
            to_json(fields.comuni),
            to_json(fields.tags),
            fields.language,
            fields.body,
            fields.public,
            now
        ],
    )? == 1)
}

/// Sets the federation setting.
pub fn set_federation(
    conn: &Connection,
    id: i64,
    federation: &str,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE practices SET federation = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, federation, now],
    )?;
    Ok(())
}

/// Records what the hub was last sent about a practice.
pub fn set_hub_status(conn: &Connection, id: i64, status: &str, seq: u64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE practices SET hub_status = ?2, hub_seq = ?3 WHERE id = ?1",
        params![id, status, seq as i64],
    )?;
    Ok(())
}

/// One practice.
pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<PracticeRow>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM practices WHERE id = ?1"))?
        .query_row([id], read_row)
        .optional()
}

/// Practices newest first, before id `before`, public only unless `drafts`; every word of
/// `words` must appear in the title, summary, body or tags (case-insensitive for ASCII).
pub fn list(
    conn: &Connection,
    drafts: bool,
    words: &[String],
    before: Option<i64>,
    limit: u32,
) -> rusqlite::Result<Vec<PracticeRow>> {
    let mut sql = format!("SELECT {COLUMNS} FROM practices WHERE (?1 OR public = 1) AND id < ?2");
    let mut args: Vec<Value> = vec![
        Value::Integer(i64::from(drafts)),
        Value::Integer(before.unwrap_or(i64::MAX)),
    ];
    for word in words {
        sql.push_str(
            " AND (title || ' ' || summary || ' ' || body || ' ' || tags) LIKE ? ESCAPE '\\'",
        );
        let escaped = word
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        args.push(Value::Text(format!("%{escaped}%")));
    }
    sql.push_str(" ORDER BY id DESC LIMIT ?");
    args.push(Value::Integer(i64::from(limit)));
    conn.prepare_cached(&sql)?
        .query_map(params_from_iter(args), read_row)?
        .collect()
}

/// An attachment's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentRow {
    /// Id.
    pub id: i64,
    /// Practice.
    pub practice_id: i64,
    /// File name.
    pub filename: String,
    /// Media type.
    pub media_type: String,
    /// Bytes.
    pub size: i64,
    /// SHA-256, hex.
    pub sha256: String,
    /// When the hub took the bytes (Unix seconds).
    pub uploaded_at: Option<i64>,
}

fn read_attachment(row: &rusqlite::Row<'_>) -> rusqlite::Result<AttachmentRow> {
    Ok(AttachmentRow {
        id: row.get(0)?,
        practice_id: row.get(1)?,
        filename: row.get(2)?,
        media_type: row.get(3)?,
        size: row.get(4)?,
        sha256: row.get(5)?,
        uploaded_at: row.get(6)?,
    })
}

/// The attachments of a practice, oldest first.
pub fn attachments(conn: &Connection, practice_id: i64) -> rusqlite::Result<Vec<AttachmentRow>> {
    conn.prepare_cached(
        "SELECT id, practice_id, filename, media_type, size, sha256, uploaded_at
         FROM practice_attachments WHERE practice_id = ?1 ORDER BY id",
    )?
    .query_map([practice_id], read_attachment)?
    .collect()
}

/// An attachment of a practice, with its bytes.
pub fn attachment_data(
    conn: &Connection,
    practice_id: i64,
    id: i64,
) -> rusqlite::Result<Option<(AttachmentRow, Vec<u8>)>> {
    conn.prepare_cached(
        "SELECT id, practice_id, filename, media_type, size, sha256, uploaded_at, data
         FROM practice_attachments WHERE practice_id = ?1 AND id = ?2",
    )?
    .query_row([practice_id, id], |row| {
        Ok((read_attachment(row)?, row.get(7)?))
    })
    .optional()
}

/// Marks the attachments of a practice not yet declared as declared by entry `seq`.
pub fn declare_attachments(conn: &Connection, practice_id: i64, seq: u64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE practice_attachments SET declared_seq = ?2
         WHERE practice_id = ?1 AND declared_seq IS NULL",
        params![practice_id, seq as i64],
    )?;
    Ok(())
}

/// The next attachment whose declaring entry the hub accepted (its receipt is stored) and
/// whose bytes the hub has not taken yet, skipping refused ones.
pub fn next_pending_upload(conn: &Connection) -> rusqlite::Result<Option<PendingUpload>> {
    conn.prepare_cached(
        "SELECT a.id, a.sha256, a.data FROM practice_attachments a
         JOIN receipts r ON r.seq = a.declared_seq
         WHERE a.uploaded_at IS NULL AND a.refused_reason IS NULL ORDER BY a.id LIMIT 1",
    )?
    .query_row([], |row| {
        Ok(PendingUpload {
            id: row.get(0)?,
            sha256: row.get(1)?,
            data: row.get(2)?,
        })
    })
    .optional()
}

/// Forgets what the hub was sent of a withdrawn practice's attachments: the hub deletes
/// the bytes of a withdrawn document, so publishing it again declares and uploads them anew.
pub fn undeclare_attachments(conn: &Connection, practice_id: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE practice_attachments SET declared_seq = NULL, uploaded_at = NULL, refused_reason = NULL
         WHERE practice_id = ?1",
        [practice_id],
    )?;
    Ok(())
}

/// Records that the hub holds the bytes of every attachment with this hash.
pub fn mark_uploaded(conn: &Connection, sha256: &str, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE practice_attachments SET uploaded_at = ?2
         WHERE sha256 = ?1 AND uploaded_at IS NULL AND declared_seq IS NOT NULL",
        params![sha256, now],
    )?;
    Ok(())
}

/// Records that the hub refused an upload (skipped until [`clear_refusals`]).
pub fn mark_refused(conn: &Connection, id: i64, reason: &str) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE practice_attachments SET refused_reason = ?2 WHERE id = ?1",
        params![id, reason],
    )?;
    Ok(())
}

/// Forgets refusals, so that uploads are tried again (at the publisher's start).
pub fn clear_refusals(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE practice_attachments SET refused_reason = NULL WHERE refused_reason IS NOT NULL",
        [],
    )?;
    Ok(())
}
