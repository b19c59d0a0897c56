//! The SQL of the attachment store (`crate::attachments`), over the table a module names:
//! each module keeps its files in its own table (`helpdesk_attachments`, `sua_attachments`,
//! `practice_attachments`), with the same core columns. The names are `'static` strings of
//! the module's declaration, never input.

use rusqlite::{Connection, OptionalExtension, Row, params};

/// Where a module keeps its attachments: `id`, the record column, `filename`, the media
/// type column, `size`, `sha256`, `data`, `created_at`, and optionally who uploaded it.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    /// The table (`helpdesk_attachments`).
    pub name: &'static str,
    /// The column naming the record (`request_id`).
    pub record_column: &'static str,
    /// The media type column (`content_type` or `media_type`).
    pub type_column: &'static str,
    /// The column of the uploader's name, if the table keeps it (`uploaded_by`).
    pub uploaded_by_column: Option<&'static str>,
}

/// An attachment's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentRow {
    /// Id.
    pub id: i64,
    /// File name (cleaned).
    pub filename: String,
    /// Checked media type.
    pub media_type: String,
    /// Bytes.
    pub size: i64,
    /// SHA-256, hex.
    pub sha256: String,
    /// Who uploaded it (the name people read), where the table keeps it.
    pub uploaded_by: Option<String>,
    /// When (Unix seconds).
    pub created_at: i64,
}

fn columns(table: &Table) -> String {
    format!(
        "id, filename, {}, size, sha256, {}, created_at",
        table.type_column,
        table.uploaded_by_column.unwrap_or("NULL")
    )
}

fn read_row(row: &Row<'_>) -> rusqlite::Result<AttachmentRow> {
    Ok(AttachmentRow {
        id: row.get(0)?,
        filename: row.get(1)?,
        media_type: row.get(2)?,
        size: row.get(3)?,
        sha256: row.get(4)?,
        uploaded_by: row.get(5)?,
        created_at: row.get(6)?,
    })
}

/// How many files record `record` holds, and their bytes in all.
pub fn usage(conn: &Connection, table: &Table, record: i64) -> rusqlite::Result<(i64, i64)> {
    conn.prepare_cached(&format!(
        "SELECT count(*), coalesce(sum(size), 0) FROM {} WHERE {} = ?1",
        table.name, table.record_column
    ))?
    .query_row([record], |row| Ok((row.get(0)?, row.get(1)?)))
}

/// Stores a file of record `record`; returns its id.
#[expect(
    clippy::too_many_arguments,
    reason = "one column each, named at the call site"
)]
pub fn insert(
    conn: &Connection,
    table: &Table,
    record: i64,
    filename: &str,
    media_type: &str,
    sha256: &str,
    data: &[u8],
    uploaded_by: Option<&str>,
    now: i64,
) -> rusqlite::Result<i64> {
    let (by_column, by_value) = match table.uploaded_by_column {
        Some(column) => (format!(", {column}"), ", ?8"),
        None => (String::new(), ""),
    };
    let sql = format!(
        "INSERT INTO {name} ({record_column}, filename, {type_column}, size, sha256, data, created_at{by_column}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7{by_value})",
        name = table.name,
        record_column = table.record_column,
        type_column = table.type_column,
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let size = data.len() as i64;
    if table.uploaded_by_column.is_some() {
        stmt.execute(params![
            record,
            filename,
            media_type,
            size,
            sha256,
            data,
            now,
            uploaded_by.unwrap_or_default()
        ])?;
    } else {
        stmt.execute(params![
            record, filename, media_type, size, sha256, data, now
        ])?;
    }
    Ok(conn.last_insert_rowid())
}

/// The files of record `record`, oldest first.
pub fn list(conn: &Connection, table: &Table, record: i64) -> rusqlite::Result<Vec<AttachmentRow>> {
    conn.prepare_cached(&format!(
        "SELECT {} FROM {} WHERE {} = ?1 ORDER BY id",
        columns(table),
        table.name,
        table.record_column
    ))?
    .query_map([record], read_row)?
    .collect()
}

/// File `id` of record `record`, with its bytes.
pub fn read(
    conn: &Connection,
    table: &Table,
    record: i64,
    id: i64,
) -> rusqlite::Result<Option<(AttachmentRow, Vec<u8>)>> {
    conn.prepare_cached(&format!(
        "SELECT {}, data FROM {} WHERE {} = ?1 AND id = ?2",
        columns(table),
        table.name,
        table.record_column
    ))?
    .query_row(params![record, id], |row| Ok((read_row(row)?, row.get(7)?)))
    .optional()
}
