//! The Province and its Comuni, seeded at `init` from the ISTAT list shipped in the binary.

use pico_protocol::{ComuneCode, ProvinceCode};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// The ISTAT list of Comuni (Fonte: Istat, CC BY 4.0; see `node/data/PROVENANCE.md`).
pub const ISTAT_COMUNI_CSV: &str = include_str!("../../data/comuni_istat_2025.csv");

/// One row of the ISTAT list, as the node needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IstatComune {
    /// 6-digit ISTAT code.
    pub code: ComuneCode,
    /// Official name (Italian and other language).
    pub name: String,
    /// Italian name.
    pub name_it: String,
    /// Name in the other official language, or empty.
    pub name_other: String,
    /// Cadastral (Belfiore) code.
    pub cadastral_code: String,
    /// Region name.
    pub region: String,
    /// Territorial unit code and name.
    pub uts_code: String,
    /// Territorial unit name (the Province or Città metropolitana).
    pub uts_name: String,
    /// Territorial unit type as ISTAT codes it (1 Provincia … 5 non-administrative).
    pub uts_kind: String,
    /// Car plate code.
    pub sigla: String,
    /// Whether it is the capoluogo.
    pub capoluogo: bool,
}

/// What went wrong reading the embedded list.
#[derive(Debug, thiserror::Error)]
#[error("l'elenco ISTAT incluso nel programma non è leggibile: {0}")]
pub struct IstatError(String);

/// The Comuni of `province` (matched on the historical province code, the prefix of the
/// Comune codes, so Città metropolitane work too).
pub fn istat_comuni(province: ProvinceCode) -> Result<Vec<IstatComune>, IstatError> {
    let mut reader = csv::Reader::from_reader(ISTAT_COMUNI_CSV.as_bytes());
    let mut found = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|err| IstatError(err.to_string()))?;
        let field = |i: usize| record.get(i).unwrap_or_default().to_owned();
        if field(10) != province.as_str() {
            continue;
        }
        let code = ComuneCode::parse(&field(0)).map_err(|err| IstatError(err.to_string()))?;
        found.push(IstatComune {
            code,
            name: field(1),
            name_it: field(2),
            name_other: field(3),
            cadastral_code: field(4),
            region: field(6),
            uts_code: field(7),
            uts_name: field(8),
            uts_kind: field(9),
            sigla: field(11),
            capoluogo: field(12) == "1",
        });
    }
    Ok(found)
}

/// The Province row.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Province {
    /// Historical ISTAT province code (identifies the node).
    pub code: String,
    /// Territorial unit code (differs for Città metropolitane).
    pub uts_code: String,
    /// Display name, e.g. "Provincia di Treviso".
    pub name: String,
    /// Car plate code.
    pub sigla: String,
    /// Region.
    pub region: String,
}

/// Seeds the Province and all its Comuni. Returns how many Comuni were written.
pub fn seed(
    conn: &Connection,
    province: ProvinceCode,
    comuni: &[IstatComune],
    now: i64,
) -> rusqlite::Result<usize> {
    let Some(first) = comuni.first() else {
        return Ok(0);
    };
    let kind = match first.uts_kind.as_str() {
        "3" => "Città metropolitana di",
        "4" => "Libero consorzio comunale di",
        "2" => "Provincia autonoma di",
        _ => "Provincia di",
    };
    conn.execute(
        "INSERT INTO province (id, code, uts_code, name, kind, sigla, region, created_at) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![province.as_str(), first.uts_code, format!("{kind} {}", first.uts_name), first.uts_kind, first.sigla, first.region, now],
    )?;
    let mut insert = conn.prepare(
        "INSERT INTO comuni (code, name, name_it, name_other, cadastral_code, capoluogo) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for comune in comuni {
        insert.execute(params![
            comune.code.as_str(),
            comune.name,
            comune.name_it,
            comune.name_other,
            comune.cadastral_code,
            comune.capoluogo
        ])?;
    }
    Ok(comuni.len())
}

/// The Province of this node.
pub fn province(conn: &Connection) -> rusqlite::Result<Option<Province>> {
    conn.query_row(
        "SELECT code, uts_code, name, sigla, region FROM province WHERE id = 1",
        [],
        |row| {
            Ok(Province {
                code: row.get(0)?,
                uts_code: row.get(1)?,
                name: row.get(2)?,
                sigla: row.get(3)?,
                region: row.get(4)?,
            })
        },
    )
    .optional()
}

/// A Comune as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Comune {
    /// ISTAT code (6 digits).
    #[schema(example = "026086")]
    pub code: String,
    /// Official name.
    #[schema(example = "Treviso")]
    pub name: String,
    /// Cadastral (Belfiore) code.
    #[schema(example = "L407")]
    pub cadastral_code: String,
}

/// Comuni ordered by code, after `after`, at most `limit`.
pub fn list(conn: &Connection, after: Option<&str>, limit: u32) -> rusqlite::Result<Vec<Comune>> {
    let mut stmt = conn.prepare_cached(
        "SELECT code, name, cadastral_code FROM comuni WHERE code > ?1 ORDER BY code LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![after.unwrap_or(""), limit], |row| {
        Ok(Comune {
            code: row.get(0)?,
            name: row.get(1)?,
            cadastral_code: row.get(2)?,
        })
    })?;
    rows.collect()
}

/// How many Comuni the node holds.
pub fn count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT count(*) FROM comuni", [], |row| row.get(0))
}

/// The name of a Comune of this Province, if it is one.
pub fn name_of(conn: &Connection, code: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT name FROM comuni WHERE code = ?1", [code], |row| {
        row.get(0)
    })
    .optional()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count_for(code: &str) -> usize {
        istat_comuni(ProvinceCode::parse(code).expect("code"))
            .expect("list")
            .len()
    }

    #[test]
    fn embedded_list_has_the_known_counts() {
        assert_eq!(count_for("026"), 94);
        assert_eq!(count_for("017"), 205);
        assert_eq!(count_for("041"), 50);
        // Città metropolitana di Torino: historical code 001, UTS 201.
        let torino = istat_comuni(ProvinceCode::parse("001").expect("code")).expect("list");
        assert_eq!(torino.len(), 312);
        assert_eq!(torino[0].uts_code, "201");
        assert_eq!(count_for("999"), 0);
    }
}
