//! The national best-practice library: documents, full-text search (FTS5) and which
//! content-addressed attachments ([`super::attachments`]) each document declares.

use pico_protocol::payload::{BestPractice, PublicationStatus};
use pico_protocol::{Hash32, ProvinceCode};
use rusqlite::{Connection, OptionalExtension, params, params_from_iter, types::Value};
use serde::Serialize;

use super::{DbError, attachments, corrupt};

fn module_name(practice: &BestPractice) -> Result<String, DbError> {
    match serde_json::to_value(practice.module).map_err(|e| corrupt("best_practices", e))? {
        serde_json::Value::String(name) => Ok(name),
        other => Err(corrupt("best_practices", format!("module {other}"))),
    }
}

/// Applies a verified best practice: a later entry with the same id replaces the document; a
/// withdrawn one leaves the search index.
pub fn apply(
    conn: &Connection,
    province: ProvinceCode,
    seq: u64,
    entry_hash: &Hash32,
    practice: &BestPractice,
) -> Result<(), DbError> {
    let status = match practice.status {
        PublicationStatus::Published => "published",
        PublicationStatus::Withdrawn => "withdrawn",
    };
    let id: i64 = conn.query_row(
        "INSERT INTO best_practices (province, doc_id, title, summary, module, comuni, tags,
             language, body, status, seq, entry_hash, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT (province, doc_id) DO UPDATE SET title = excluded.title,
             summary = excluded.summary, module = excluded.module, comuni = excluded.comuni,
             tags = excluded.tags, language = excluded.language, body = excluded.body,
             status = excluded.status, seq = excluded.seq, entry_hash = excluded.entry_hash,
             updated_at = excluded.updated_at
         RETURNING id",
        params![
            province.as_str(),
            practice.id,
            practice.title,
            practice.summary,
            module_name(practice)?,
            to_json(&practice.comuni)?,
            to_json(&practice.tags)?,
            practice.language,
            practice.body,
            status,
            seq as i64,
            entry_hash.as_bytes().as_slice(),
            super::now_unix()
        ],
        |row| row.get(0),
    )?;
    conn.execute("DELETE FROM best_practices_fts WHERE rowid = ?1", [id])?;
    if practice.status == PublicationStatus::Published {
        conn.execute(
            "INSERT INTO best_practices_fts (rowid, title, summary, body, tags)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                id,
                practice.title,
                practice.summary,
                practice.body,
                practice.tags.join(" ")
            ],
        )?;
    }
    let previous: Vec<Vec<u8>> = conn
        .prepare_cached("SELECT sha256 FROM practice_attachments WHERE practice_id = ?1")?
        .query_map([id], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    conn.execute(
        "DELETE FROM practice_attachments WHERE practice_id = ?1",
        [id],
    )?;
    for attachment in &practice.attachments {
        attachments::declare(conn, attachment)?;
        conn.execute(
            "INSERT OR REPLACE INTO practice_attachments (practice_id, sha256, name)
             VALUES (?1, ?2, ?3)",
            params![id, attachment.sha256.as_bytes().as_slice(), attachment.name],
        )?;
    }
    // A withdrawn document's files (and files a new version dropped) are not kept: only the
    // entries that declared them stay, in the log.
    attachments::release_unreferenced(conn, &previous)?;
    Ok(())
}

/// Small values (lists of codes and tags) are stored as JSON text.
fn to_json<T: Serialize>(value: &T) -> Result<String, DbError> {
    serde_json::to_string(value).map_err(|e| corrupt("best_practices", e))
}

/// A document of the library, for lists and search results.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PracticeSummary {
    /// Province that published it.
    pub province: String,
    /// The Province's id of the document.
    pub id: String,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// Module.
    pub module: String,
    /// Keywords.
    pub tags: Vec<String>,
    /// Seq of the entry that published this version.
    pub seq: u64,
    /// Hash of that entry.
    pub entry_hash: String,
    /// When it was last updated (RFC 3339).
    pub updated_at: String,
}

/// A search of the library.
#[derive(Debug, Clone, Default)]
pub struct PracticeQuery {
    /// Full-text query (words; all must match).
    pub text: Option<String>,
    /// Only this module.
    pub module: Option<String>,
    /// Only this Province.
    pub province: Option<String>,
    /// Page size.
    pub limit: u32,
    /// Rows to skip.
    pub offset: u32,
}

/// Turns free text into an FTS5 query of quoted prefix terms, so user input is never parsed
/// as FTS5 syntax.
fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(|t| format!("\"{t}\"*"))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// Published documents matching the query (best match first when searching by text).
pub fn search(conn: &Connection, query: &PracticeQuery) -> Result<Vec<PracticeSummary>, DbError> {
    let mut sql = String::from(
        "SELECT b.province, b.doc_id, b.title, b.summary, b.module, b.tags, b.seq, b.entry_hash,
                b.updated_at FROM best_practices b",
    );
    let mut args: Vec<Value> = Vec::new();
    let text = query.text.as_deref().and_then(fts_query);
    if let Some(text) = &text {
        sql.push_str(
            " JOIN best_practices_fts f ON f.rowid = b.id WHERE best_practices_fts MATCH ?",
        );
        args.push(Value::Text(text.clone()));
    } else {
        sql.push_str(" WHERE 1");
    }
    sql.push_str(" AND b.status = 'published'");
    if let Some(module) = &query.module {
        sql.push_str(" AND b.module = ?");
        args.push(Value::Text(module.clone()));
    }
    if let Some(province) = &query.province {
        sql.push_str(" AND b.province = ?");
        args.push(Value::Text(province.clone()));
    }
    sql.push_str(if text.is_some() {
        " ORDER BY bm25(best_practices_fts)"
    } else {
        " ORDER BY b.updated_at DESC, b.id DESC"
    });
    sql.push_str(" LIMIT ? OFFSET ?");
    args.push(Value::Integer(i64::from(query.limit)));
    args.push(Value::Integer(i64::from(query.offset)));
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), |row| {
        Ok((
            PracticeSummary {
                province: row.get(0)?,
                id: row.get(1)?,
                title: row.get(2)?,
                summary: row.get(3)?,
                module: row.get(4)?,
                tags: Vec::new(),
                seq: row.get::<_, i64>(6)? as u64,
                entry_hash: hex::encode(row.get::<_, Vec<u8>>(7)?),
                updated_at: super::rfc3339(row.get(8)?),
            },
            row.get::<_, String>(5)?,
        ))
    })?;
    rows.map(|row| {
        let (mut summary, tags) = row?;
        summary.tags = serde_json::from_str(&tags).map_err(|e| corrupt("best_practices", e))?;
        Ok(summary)
    })
    .collect()
}

/// A file a published document declares, as its page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PracticeFile {
    /// File name given by the Province.
    pub name: String,
    /// Media type.
    pub media_type: String,
    /// SHA-256 of the bytes, hex: the file's address under `/v1/attachments/`.
    pub sha256: String,
    /// Length in bytes.
    pub length: u64,
    /// Whether the node has uploaded the bytes yet.
    pub uploaded: bool,
}

/// One published document of the library, whole.
#[derive(Debug, Clone)]
pub struct PracticeDocument {
    /// What lists show.
    pub summary: PracticeSummary,
    /// Comuni involved (ISTAT codes).
    pub comuni: Vec<String>,
    /// Language (BCP 47).
    pub language: String,
    /// Full text (Markdown).
    pub body: String,
    /// Attached files, by name.
    pub files: Vec<PracticeFile>,
}

/// A published document by its Province and the Province's id (`None` when there is none,
/// or it was withdrawn).
pub fn get(
    conn: &Connection,
    province: &str,
    doc_id: &str,
) -> Result<Option<PracticeDocument>, DbError> {
    let found = conn
        .query_row(
            "SELECT id, province, doc_id, title, summary, module, tags, seq, entry_hash,
                    updated_at, comuni, language, body
             FROM best_practices WHERE province = ?1 AND doc_id = ?2 AND status = 'published'",
            [province, doc_id],
            |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    PracticeSummary {
                        province: row.get(1)?,
                        id: row.get(2)?,
                        title: row.get(3)?,
                        summary: row.get(4)?,
                        module: row.get(5)?,
                        tags: Vec::new(),
                        seq: row.get::<_, i64>(7)? as u64,
                        entry_hash: hex::encode(row.get::<_, Vec<u8>>(8)?),
                        updated_at: super::rfc3339(row.get(9)?),
                    },
                    row.get::<_, String>(6)?,
                    row.get::<_, String>(10)?,
                    row.get::<_, String>(11)?,
                    row.get::<_, String>(12)?,
                ))
            },
        )
        .optional()?;
    let Some((id, mut summary, tags, comuni, language, body)) = found else {
        return Ok(None);
    };
    summary.tags = serde_json::from_str(&tags).map_err(|e| corrupt("best_practices", e))?;
    let comuni = serde_json::from_str(&comuni).map_err(|e| corrupt("best_practices", e))?;
    let files = conn
        .prepare_cached(
            "SELECT pa.name, a.media_type, a.sha256, a.length, a.content IS NOT NULL
             FROM practice_attachments pa JOIN attachments a ON a.sha256 = pa.sha256
             WHERE pa.practice_id = ?1 ORDER BY pa.name",
        )?
        .query_map([id], |row| {
            Ok(PracticeFile {
                name: row.get(0)?,
                media_type: row.get(1)?,
                sha256: hex::encode(row.get::<_, Vec<u8>>(2)?),
                length: row.get::<_, i64>(3)? as u64,
                uploaded: row.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(Some(PracticeDocument {
        summary,
        comuni,
        language,
        body,
        files,
    }))
}
