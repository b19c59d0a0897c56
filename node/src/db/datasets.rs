//! SQL of the Dati module: dataset definitions and their rows.
//!
//! A row is stored once, keyed by `(dataset, pk)` where `pk` is the canonical JSON array of
//! its primary-key values and `data` the canonical JSON array of all its values in field
//! order. Both are exactly what travels in a `dataset_batch`, so publishing needs no
//! re-encoding decisions and "did this row change?" is a string comparison.

use rusqlite::{Connection, OptionalExtension as _, params};

use crate::dati::{Dataset, FieldDef};

fn corrupt(what: &str, err: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("{what}: {err}").into(),
    )
}

fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<Dataset> {
    let fields: String = row.get(2)?;
    let primary_key: String = row.get(3)?;
    let federation: String = row.get(5)?;
    Ok(Dataset {
        name: row.get(0)?,
        title: row.get(1)?,
        fields: serde_json::from_str::<Vec<FieldDef>>(&fields)
            .map_err(|e| corrupt("datasets.fields", e))?,
        primary_key: serde_json::from_str(&primary_key)
            .map_err(|e| corrupt("datasets.primary_key", e))?,
        schema_version: row.get(4)?,
        federation: federation
            .parse()
            .map_err(|e: String| corrupt("datasets.federation", e))?,
        row_count: row.get(6)?,
        created_at: row.get(7)?,
        updated_at: row.get(8)?,
    })
}

const COLUMNS: &str = "name, title, fields, primary_key, schema_version, federation, row_count, created_at, updated_at";

/// One dataset.
pub fn get(conn: &Connection, name: &str) -> rusqlite::Result<Option<Dataset>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM datasets WHERE name = ?1"))?
        .query_row([name], read)
        .optional()
}

/// Every dataset, by name.
pub fn list(conn: &Connection) -> rusqlite::Result<Vec<Dataset>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM datasets ORDER BY name"))?
        .query_map([], read)?
        .collect()
}

/// Names of the datasets published nationally.
pub fn national(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    conn.prepare_cached("SELECT name FROM datasets WHERE federation = 'national' ORDER BY name")?
        .query_map([], |row| row.get(0))?
        .collect()
}

/// Creates or redefines a dataset (its rows are untouched).
pub fn put(conn: &Connection, dataset: &Dataset) -> rusqlite::Result<()> {
    let fields = serde_json::to_string(&dataset.fields).map_err(|e| corrupt("fields", e))?;
    let primary_key =
        serde_json::to_string(&dataset.primary_key).map_err(|e| corrupt("primary_key", e))?;
    conn.prepare_cached(
        "INSERT INTO datasets (name, title, fields, primary_key, schema_version, federation, row_count, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (name) DO UPDATE SET title = excluded.title, fields = excluded.fields,
             primary_key = excluded.primary_key, schema_version = excluded.schema_version,
             federation = excluded.federation, row_count = excluded.row_count,
             updated_at = excluded.updated_at",
    )?
    .execute(params![
        dataset.name,
        dataset.title,
        fields,
        primary_key,
        dataset.schema_version,
        dataset.federation.as_str(),
        dataset.row_count,
        dataset.created_at,
        dataset.updated_at
    ])?;
    Ok(())
}

/// The stored values of one row, if present.
pub fn row_data(conn: &Connection, dataset: &str, pk: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT data FROM dataset_rows WHERE dataset = ?1 AND pk = ?2")?
        .query_row(params![dataset, pk], |row| row.get(0))
        .optional()
}

/// Inserts or replaces one row.
pub fn put_row(conn: &Connection, dataset: &str, pk: &str, data: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO dataset_rows (dataset, pk, data) VALUES (?1, ?2, ?3)
         ON CONFLICT (dataset, pk) DO UPDATE SET data = excluded.data",
    )?
    .execute(params![dataset, pk, data])?;
    Ok(())
}

/// Deletes one row; whether it existed.
pub fn delete_row(conn: &Connection, dataset: &str, pk: &str) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM dataset_rows WHERE dataset = ?1 AND pk = ?2")?
        .execute(params![dataset, pk])?
        == 1)
}

/// Deletes every row of a dataset.
pub fn delete_all_rows(conn: &Connection, dataset: &str) -> rusqlite::Result<usize> {
    conn.prepare_cached("DELETE FROM dataset_rows WHERE dataset = ?1")?
        .execute([dataset])
}

/// Every primary key of a dataset.
pub fn pks(conn: &Connection, dataset: &str) -> rusqlite::Result<Vec<String>> {
    conn.prepare_cached("SELECT pk FROM dataset_rows WHERE dataset = ?1 ORDER BY pk")?
        .query_map([dataset], |row| row.get(0))?
        .collect()
}

/// The length in bytes of every row's values, in key order (to cut a snapshot into parts
/// without holding the rows).
pub fn row_lengths(conn: &Connection, dataset: &str) -> rusqlite::Result<Vec<usize>> {
    conn.prepare_cached(
        "SELECT octet_length(data) FROM dataset_rows WHERE dataset = ?1 ORDER BY pk",
    )?
    .query_map([dataset], |row| row.get::<_, i64>(0))?
    .map(|length| length.map(|n| usize::try_from(n).unwrap_or(0)))
    .collect()
}

/// Number of rows.
pub fn count_rows(conn: &Connection, dataset: &str) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT count(*) FROM dataset_rows WHERE dataset = ?1")?
        .query_row([dataset], |row| row.get(0))
}

/// A page of `(pk, data)` in key order, after the key `after`.
pub fn rows_page(
    conn: &Connection,
    dataset: &str,
    after: Option<&str>,
    limit: u32,
) -> rusqlite::Result<Vec<(String, String)>> {
    conn.prepare_cached(
        "SELECT pk, data FROM dataset_rows WHERE dataset = ?1 AND pk > ?2 ORDER BY pk LIMIT ?3",
    )?
    .query_map(params![dataset, after.unwrap_or(""), limit], |row| {
        Ok((row.get(0)?, row.get(1)?))
    })?
    .collect()
}

/// The stored DCAT-AP_IT metadata of a dataset (the JSON of `dati::dcat::MetadataForm`).
pub fn metadata(conn: &Connection, dataset: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT metadata FROM dataset_metadata WHERE dataset = ?1")?
        .query_row([dataset], |row| row.get(0))
        .optional()
}

/// Stores a dataset's metadata.
pub fn put_metadata(
    conn: &Connection,
    dataset: &str,
    open: bool,
    metadata: &str,
    now: i64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO dataset_metadata (dataset, open, metadata, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (dataset) DO UPDATE SET open = excluded.open, metadata = excluded.metadata,
             updated_at = excluded.updated_at",
    )?
    .execute(params![dataset, open, metadata, now])?;
    Ok(())
}

/// The open datasets with their metadata, by name.
pub fn open_with_metadata(conn: &Connection) -> rusqlite::Result<Vec<(Dataset, String)>> {
    let columns = COLUMNS
        .split(", ")
        .map(|c| format!("d.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    conn.prepare_cached(&format!(
        "SELECT {columns}, m.metadata FROM datasets d JOIN dataset_metadata m ON m.dataset = d.name
         WHERE m.open = 1 ORDER BY d.name"
    ))?
    .query_map([], |row| Ok((read(row)?, row.get(9)?)))?
    .collect()
}

/// The names of the datasets marked open.
pub fn open_names(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    conn.prepare_cached("SELECT dataset FROM dataset_metadata WHERE open = 1 ORDER BY dataset")?
        .query_map([], |row| row.get(0))?
        .collect()
}
