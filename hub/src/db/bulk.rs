//! SQL of the bulk downloads (`crate::bulk`): what a download of a national dataset is made
//! of (its columns and the contributions that make up its content version), and its rows in
//! one pass, in (province, key) order, read inside one read transaction so that the rows and
//! the version they are filed under agree.

use pico_protocol::Hash32;
use rusqlite::{Connection, OptionalExtension, params};

use super::{DbError, corrupt};

/// One Province's part of a download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Province code.
    pub province: String,
    /// Seq of the entry that last changed its rows: any change moves it.
    pub last_seq: i64,
    /// Its field names.
    pub fields: Vec<String>,
}

/// What a download of a dataset (or of one Province's part of it) is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The dataset's row id.
    pub dataset_id: i64,
    /// The contributions it covers, by Province.
    pub parts: Vec<Part>,
}

impl Source {
    /// Every field of the parts, in the order the first part that has it lists them (one
    /// Province may still send an older schema with fewer fields).
    pub fn fields(&self) -> Vec<String> {
        let mut fields: Vec<String> = Vec::new();
        for part in &self.parts {
            for field in &part.fields {
                if !fields.contains(field) {
                    fields.push(field.clone());
                }
            }
        }
        fields
    }

    /// The content version of the download in `format`: a hash of every input that decides
    /// its bytes (the code's version, the format, the parts and their last seq). It names the
    /// cached file and is the download's strong `ETag`.
    pub fn version(&self, dataset: &str, scope: &str, format: &str) -> String {
        let mut text = format!(
            "pico-bulk 1\n{}\n{format}\n{dataset}\n{scope}\n",
            env!("CARGO_PKG_VERSION")
        );
        for part in &self.parts {
            text.push_str(&format!(
                "{}:{}:{}\n",
                part.province,
                part.last_seq,
                part.fields.join(",")
            ));
        }
        let hash = Hash32::digest_of(&[text.as_bytes()]);
        hex::encode(&hash.as_bytes()[..16])
    }
}

/// The source of a download of `dataset`, whole or only `province`'s part; `None` when the
/// dataset does not exist.
pub fn source(
    conn: &Connection,
    dataset: &str,
    province: Option<&str>,
) -> Result<Option<Source>, DbError> {
    let Some(dataset_id) = conn
        .prepare_cached("SELECT id FROM datasets WHERE name = ?1")?
        .query_row([dataset], |row| row.get::<_, i64>(0))
        .optional()?
    else {
        return Ok(None);
    };
    let mut statement = conn.prepare_cached(
        "SELECT province, last_seq, fields FROM dataset_contributions
         WHERE dataset_id = ?1 AND (?2 IS NULL OR province = ?2) ORDER BY province",
    )?;
    let rows = statement.query_map(params![dataset_id, province], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, String>(2)?,
        ))
    })?;
    let mut parts = Vec::new();
    for row in rows {
        let (province, last_seq, fields) = row?;
        let fields = serde_json::from_str(&fields).map_err(|e| corrupt("datasets", e))?;
        parts.push(Part {
            province,
            last_seq,
            fields,
        });
    }
    Ok(Some(Source { dataset_id, parts }))
}

/// A row as read, borrowed from SQLite's buffers for the time of one callback.
#[derive(Debug, Clone, Copy)]
pub struct BulkRow<'a> {
    /// Province that sent it.
    pub province: &'a str,
    /// Seq of the entry that last wrote it.
    pub seq: i64,
    /// Hash of that entry.
    pub entry_hash: &'a [u8],
    /// Field values, a JSON object.
    pub data: &'a str,
}

/// Runs `read` inside one read transaction (a consistent snapshot of the database however
/// long the export takes; WAL readers never block ingest).
pub fn in_snapshot<T, E: From<DbError>>(
    conn: &Connection,
    read: impl FnOnce(&Connection) -> Result<T, E>,
) -> Result<T, E> {
    let tx = conn.unchecked_transaction().map_err(DbError::from)?;
    let out = read(&tx)?;
    tx.commit().map_err(DbError::from)?;
    Ok(out)
}

/// A stored value of an unexpected type.
fn conversion(column: usize, error: rusqlite::types::FromSqlError) -> DbError {
    DbError::from(rusqlite::Error::FromSqlConversionFailure(
        column,
        rusqlite::types::Type::Text,
        Box::new(error),
    ))
}

/// Calls `each` with every row of the dataset (or of `province`'s part), in (province, key)
/// order: a range of the `(dataset_id, province, pk)` index, one row in memory at a time.
pub fn for_each_row<E: From<DbError>>(
    conn: &Connection,
    dataset_id: i64,
    province: Option<&str>,
    mut each: impl FnMut(BulkRow<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let select = "SELECT province, seq, entry_hash, data FROM dataset_rows WHERE dataset_id = ?1";
    let mut statement = match province {
        Some(_) => conn.prepare(&format!("{select} AND province = ?2 ORDER BY pk")),
        None => conn.prepare(&format!("{select} ORDER BY province, pk")),
    }
    .map_err(DbError::from)?;
    let mut rows = match province {
        Some(code) => statement.query(params![dataset_id, code]),
        None => statement.query(params![dataset_id]),
    }
    .map_err(DbError::from)?;
    while let Some(row) = rows.next().map_err(DbError::from)? {
        let value = |i: usize| row.get_ref(i).map_err(DbError::from);
        let province = value(0)?.as_str().map_err(|e| conversion(0, e))?;
        let seq = value(1)?.as_i64().map_err(|e| conversion(1, e))?;
        let entry_hash = value(2)?.as_blob().map_err(|e| conversion(2, e))?;
        let data = value(3)?.as_str().map_err(|e| conversion(3, e))?;
        each(BulkRow {
            province,
            seq,
            entry_hash,
            data,
        })?;
    }
    Ok(())
}
