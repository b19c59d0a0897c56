//! The provinces table: seeding from ISTAT's list and the public status of every unit.

use pico_protocol::ProvinceCode;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::DbError;
use crate::registry::Province;

/// Inserts or refreshes the registry rows; enrolments and data are untouched.
pub fn seed(conn: &Connection, provinces: &[Province]) -> Result<usize, DbError> {
    let mut stmt = conn.prepare(
        "INSERT INTO provinces (code, uts, name, kind, kind_label, sigla, region_code, region,
                                capoluogo, comuni, upi)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (code) DO UPDATE SET uts = excluded.uts, name = excluded.name,
             kind = excluded.kind, kind_label = excluded.kind_label, sigla = excluded.sigla,
             region_code = excluded.region_code, region = excluded.region,
             capoluogo = excluded.capoluogo, comuni = excluded.comuni, upi = excluded.upi",
    )?;
    for p in provinces {
        stmt.execute(params![
            p.code.as_str(),
            p.uts.as_str(),
            p.name,
            p.kind,
            p.kind_label,
            p.sigla,
            p.region_code,
            p.region,
            p.capoluogo,
            p.comuni,
            p.upi
        ])?;
    }
    Ok(provinces.len())
}

/// Whether the registry knows this Province.
pub fn exists(conn: &Connection, code: ProvinceCode) -> Result<bool, DbError> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM provinces WHERE code = ?1",
            [code.as_str()],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// One unit of the registry with its enrolment status and the freshness of its data.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProvinceStatus {
    /// Historical province code (the node id).
    pub code: String,
    /// Territorial unit code.
    pub uts: String,
    /// Name.
    pub name: String,
    /// ISTAT type label.
    pub kind: String,
    /// Car plate abbreviation.
    pub sigla: String,
    /// Region name.
    pub region: String,
    /// One of the 86 of the UPI programme.
    pub upi: bool,
    /// `enrolled` (an active key), `revoked` (keys, none active) or `not_enrolled`.
    pub enrolment: &'static str,
    /// Seq of the last accepted entry (0 when none).
    pub head_seq: u64,
    /// When the hub accepted its last entry (RFC 3339), if ever.
    pub last_entry_at: Option<String>,
}

/// Every unit, ordered by code, with status and freshness.
pub fn list_status(conn: &Connection) -> Result<Vec<ProvinceStatus>, DbError> {
    let mut stmt = conn.prepare(
        "SELECT p.code, p.uts, p.name, p.kind_label, p.sigla, p.region, p.upi,
                (SELECT count(*) FROM keys k WHERE k.province = p.code) AS keys,
                (SELECT count(*) FROM keys k WHERE k.province = p.code
                    AND k.revoked_from IS NULL) AS active_keys,
                (SELECT e.seq FROM entries e WHERE e.province = p.code
                    ORDER BY e.seq DESC LIMIT 1) AS head_seq,
                (SELECT e.received_at FROM entries e WHERE e.province = p.code
                    ORDER BY e.seq DESC LIMIT 1) AS last_at
         FROM provinces p ORDER BY p.code",
    )?;
    let rows = stmt.query_map([], |row| {
        let keys: i64 = row.get(7)?;
        let active: i64 = row.get(8)?;
        let enrolment = match (keys, active) {
            (0, _) => "not_enrolled",
            (_, 0) => "revoked",
            _ => "enrolled",
        };
        Ok(ProvinceStatus {
            code: row.get(0)?,
            uts: row.get(1)?,
            name: row.get(2)?,
            kind: row.get(3)?,
            sigla: row.get(4)?,
            region: row.get(5)?,
            upi: row.get(6)?,
            enrolment,
            head_seq: row.get::<_, Option<i64>>(9)?.unwrap_or(0) as u64,
            last_entry_at: row.get::<_, Option<i64>>(10)?.map(super::rfc3339),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Region of a Province, for aggregates by region.
pub fn region_of(conn: &Connection, code: &str) -> Result<Option<String>, DbError> {
    Ok(conn
        .query_row(
            "SELECT region FROM provinces WHERE code = ?1",
            [code],
            |r| r.get(0),
        )
        .optional()?)
}
