//! SQL of the aggregated open-data catalogue: the DCAT-AP_IT metadata each Province sends
//! (`dataset_metadata`, SPEC §8.6), the latest per (Province, dataset), and the pages of the
//! open ones among the datasets the Province still contributes to.

use pico_protocol::dcat::DatasetMetadata;
use pico_protocol::{Hash32, ProvinceCode};
use rusqlite::{Connection, params};

use super::DbError;

/// Stores the metadata a Province sent for one of its datasets, replacing the earlier ones.
pub fn apply(
    conn: &Connection,
    province: ProvinceCode,
    seq: u64,
    entry_hash: &Hash32,
    metadata: &DatasetMetadata,
    now: i64,
) -> Result<(), DbError> {
    let json = serde_json::to_string(metadata).map_err(|e| DbError::Corrupt {
        table: "dataset_metadata",
        detail: e.to_string(),
    })?;
    conn.prepare_cached(
        "INSERT INTO dataset_metadata (province, dataset, open, metadata, seq, entry_hash, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (province, dataset) DO UPDATE SET open = excluded.open,
             metadata = excluded.metadata, seq = excluded.seq, entry_hash = excluded.entry_hash,
             updated_at = excluded.updated_at",
    )?
    .execute(params![
        province.as_str(),
        metadata.dataset,
        metadata.open,
        json,
        seq as i64,
        entry_hash.as_bytes().as_slice(),
        now
    ])?;
    Ok(())
}

/// Forgets a Province's metadata of a dataset it withdrew (SPEC §8.1).
pub fn withdraw(conn: &Connection, province: ProvinceCode, dataset: &str) -> Result<(), DbError> {
    conn.prepare_cached("DELETE FROM dataset_metadata WHERE province = ?1 AND dataset = ?2")?
        .execute(params![province.as_str(), dataset])?;
    Ok(())
}

/// An open dataset of the catalogue.
#[derive(Debug, Clone)]
pub struct OpenDataset {
    /// The Province that publishes it.
    pub province: String,
    /// Its metadata, as sent.
    pub metadata: DatasetMetadata,
    /// When its rows last changed at the hub (Unix seconds).
    pub rows_updated_at: i64,
}

const OPEN: &str = "FROM dataset_metadata m
     JOIN datasets d ON d.name = m.dataset
     JOIN dataset_contributions c ON c.dataset_id = d.id AND c.province = m.province
     WHERE m.open = 1";

/// How many open datasets the catalogue lists.
pub fn count_open(conn: &Connection) -> Result<u64, DbError> {
    let count: i64 = conn
        .prepare_cached(&format!("SELECT count(*) {OPEN}"))?
        .query_row([], |row| row.get(0))?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// Open datasets in (Province, dataset) order: `limit` of them after skipping `offset`.
pub fn open_page(conn: &Connection, offset: u64, limit: u64) -> Result<Vec<OpenDataset>, DbError> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT m.province, m.metadata, c.updated_at {OPEN}
         ORDER BY m.province, m.dataset LIMIT ?1 OFFSET ?2"
    ))?;
    let rows = statement.query_map(
        params![
            i64::try_from(limit).unwrap_or(i64::MAX),
            i64::try_from(offset).unwrap_or(i64::MAX)
        ],
        |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
            ))
        },
    )?;
    let mut out = Vec::new();
    for row in rows {
        let (province, json, rows_updated_at) = row?;
        let metadata = serde_json::from_str(&json).map_err(|e| DbError::Corrupt {
            table: "dataset_metadata",
            detail: e.to_string(),
        })?;
        out.push(OpenDataset {
            province,
            metadata,
            rows_updated_at,
        });
    }
    Ok(out)
}
