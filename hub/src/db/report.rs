//! SQL of the report on the Provinces' information assets (`crate::report`): the units of
//! the registry, and every dataset a Province contributes with the metadata it sent for it.

use pico_protocol::dcat::DatasetMetadata;
use rusqlite::Connection;

use super::{DbError, corrupt};

/// A unit of the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// ISTAT code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Region.
    pub region: String,
    /// One of the 86 Provinces of the UPI programme.
    pub upi: bool,
}

/// Every unit of the registry, by code.
pub fn units(conn: &Connection) -> Result<Vec<Unit>, DbError> {
    let mut statement =
        conn.prepare_cached("SELECT code, name, region, upi FROM provinces ORDER BY code")?;
    let rows = statement.query_map([], |row| {
        Ok(Unit {
            code: row.get(0)?,
            name: row.get(1)?,
            region: row.get(2)?,
            upi: row.get::<_, i64>(3)? != 0,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A dataset a Province contributes to the national view.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    /// Province code.
    pub province: String,
    /// Dataset name.
    pub dataset: String,
    /// Its rows at the hub.
    pub rows: u64,
    /// When its rows last changed at the hub (Unix seconds).
    pub updated_at: i64,
    /// The DCAT-AP_IT metadata the Province sent for it, if any.
    pub metadata: Option<DatasetMetadata>,
}

/// Every (Province, dataset) contribution with its metadata, by Province and dataset.
pub fn published(conn: &Connection) -> Result<Vec<Published>, DbError> {
    let mut statement = conn.prepare_cached(
        "SELECT c.province, d.name, c.row_count, c.updated_at, m.metadata
         FROM dataset_contributions c
         JOIN datasets d ON d.id = c.dataset_id
         LEFT JOIN dataset_metadata m ON m.province = c.province AND m.dataset = d.name
         ORDER BY c.province, d.name",
    )?;
    let rows = statement.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, i64>(2)?,
            row.get::<_, i64>(3)?,
            row.get::<_, Option<String>>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (province, dataset, rows, updated_at, metadata) = row?;
        let metadata = metadata
            .map(|json| serde_json::from_str(&json))
            .transpose()
            .map_err(|e| corrupt("dataset_metadata", e))?;
        out.push(Published {
            province,
            dataset,
            rows: u64::try_from(rows).unwrap_or(0),
            updated_at,
            metadata,
        });
    }
    Ok(out)
}
