//! The SQL of ISTAT's BES dei territori (migration `0006_bes.sql`): replacing an edition whole
//! in one transaction, and the reads of the API and pages (domains, indicators, an indicator's
//! values across the territories for a year and sex, a territory's series).

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::DbError;
use crate::bes::Sex;
use crate::bes::import::{Edition, RegistryUnit};

/// The registry's units, as the import maps names onto them.
pub fn registry_units(conn: &Connection) -> Result<Vec<RegistryUnit>, DbError> {
    let mut stmt = conn.prepare("SELECT code, name, region FROM provinces ORDER BY code")?;
    let units = stmt
        .query_map([], |row| {
            Ok(RegistryUnit {
                code: row.get(0)?,
                name: row.get(1)?,
                region: row.get(2)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(units)
}

/// What an import wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportCounts {
    /// Whether the edition was there before (and was replaced).
    pub replaced: bool,
    /// Indicators.
    pub indicators: usize,
    /// Territories of every kind.
    pub territories: usize,
    /// Provinces (territories of that kind).
    pub provinces: usize,
    /// Of which tied to the registry.
    pub mapped: usize,
    /// Values stored (not-available ones included).
    pub values: usize,
    /// First and last year with a value.
    pub years: Option<(i32, i32)>,
}

fn delete_edition(conn: &Connection, edition: i64) -> Result<bool, DbError> {
    conn.execute(
        "DELETE FROM bes_values WHERE indicator IN (SELECT id FROM bes_indicators WHERE edition = ?1)",
        [edition],
    )?;
    conn.execute("DELETE FROM bes_territories WHERE edition = ?1", [edition])?;
    conn.execute("DELETE FROM bes_indicators WHERE edition = ?1", [edition])?;
    Ok(conn.execute("DELETE FROM bes_editions WHERE edition = ?1", [edition])? > 0)
}

/// Replaces `edition` with `data` in one IMMEDIATE transaction: either the whole new edition
/// is there afterwards, or the old one is untouched.
pub fn replace_edition(
    conn: &mut Connection,
    edition: i64,
    source: &str,
    data: &Edition,
) -> Result<ImportCounts, DbError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let replaced = delete_edition(&tx, edition)?;
    tx.execute(
        "INSERT INTO bes_editions (edition, source, imported_at) VALUES (?1, ?2, ?3)",
        params![edition, source, super::now_unix()],
    )?;
    let mut indicator_ids = Vec::with_capacity(data.indicators.len());
    {
        let mut stmt = tx.prepare(
            "INSERT INTO bes_indicators (edition, code, domain_code, domain, name, unit, source,
                                         kind, definition, note, position)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?;
        for (position, i) in data.indicators.iter().enumerate() {
            stmt.execute(params![
                edition,
                i.code,
                i.domain_code,
                i.domain,
                i.name,
                i.unit,
                i.source,
                i.kind,
                i.definition,
                i.note,
                position as i64
            ])?;
            indicator_ids.push(tx.last_insert_rowid());
        }
    }
    let mut territory_ids = Vec::with_capacity(data.territories.len());
    {
        let mut stmt = tx.prepare(
            "INSERT INTO bes_territories (edition, kind, name, province, region, position)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for (position, t) in data.territories.iter().enumerate() {
            stmt.execute(params![
                edition,
                t.kind.as_str(),
                t.name,
                t.province,
                t.region,
                position as i64
            ])?;
            territory_ids.push(tx.last_insert_rowid());
        }
    }
    {
        let mut stmt = tx.prepare(
            "INSERT INTO bes_values (indicator, sex, year, territory, value) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for v in &data.values {
            stmt.execute(params![
                indicator_ids[v.indicator],
                v.sex.as_str(),
                v.year,
                territory_ids[v.territory],
                v.value
            ])?;
        }
    }
    tx.commit()?;
    let provinces = data
        .territories
        .iter()
        .filter(|t| t.kind == crate::bes::import::TerritoryKind::Province);
    let years = data.values.iter().map(|v| v.year);
    Ok(ImportCounts {
        replaced,
        indicators: data.indicators.len(),
        territories: data.territories.len(),
        provinces: provinces.clone().count(),
        mapped: provinces.filter(|t| t.province.is_some()).count(),
        values: data.values.len(),
        years: years.clone().min().zip(years.max()),
    })
}

/// The latest edition held, if any.
pub fn latest_edition(conn: &Connection) -> Result<Option<i64>, DbError> {
    Ok(
        conn.query_row("SELECT max(edition) FROM bes_editions", [], |row| {
            row.get(0)
        })?,
    )
}

/// An indicator of an edition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicator {
    /// Row id.
    pub id: i64,
    /// ISTAT's code.
    pub code: String,
    /// Domain number.
    pub domain_code: String,
    /// Domain name.
    pub domain: String,
    /// Name.
    pub name: String,
    /// Unit of measure.
    pub unit: String,
    /// Source.
    pub source: String,
    /// Bes, Proxy or Locale.
    pub kind: Option<String>,
    /// Definition.
    pub definition: Option<String>,
    /// Notes.
    pub note: Option<String>,
}

const INDICATOR_COLUMNS: &str =
    "id, code, domain_code, domain, name, unit, source, kind, definition, note";

fn indicator_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<Indicator> {
    Ok(Indicator {
        id: row.get(0)?,
        code: row.get(1)?,
        domain_code: row.get(2)?,
        domain: row.get(3)?,
        name: row.get(4)?,
        unit: row.get(5)?,
        source: row.get(6)?,
        kind: row.get(7)?,
        definition: row.get(8)?,
        note: row.get(9)?,
    })
}

/// The indicators of `edition` in file order, of one domain if asked.
pub fn indicators(
    conn: &Connection,
    edition: i64,
    domain: Option<&str>,
) -> Result<Vec<Indicator>, DbError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {INDICATOR_COLUMNS} FROM bes_indicators
         WHERE edition = ?1 AND (?2 IS NULL OR domain_code = ?2) ORDER BY position"
    ))?;
    let list = stmt
        .query_map(params![edition, domain], indicator_of)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(list)
}

/// One indicator of `edition` by its code.
pub fn indicator(
    conn: &Connection,
    edition: i64,
    code: &str,
) -> Result<Option<Indicator>, DbError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {INDICATOR_COLUMNS} FROM bes_indicators WHERE edition = ?1 AND code = ?2"
    ))?;
    Ok(stmt
        .query_row(params![edition, code], indicator_of)
        .optional()?)
}

/// A territory of an edition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Territory {
    /// Row id.
    pub id: i64,
    /// `italia`, `ripartizione`, `regione` or `provincia`.
    pub kind: String,
    /// As the file names it.
    pub name: String,
    /// Registry code of a Province, when mapped.
    pub province: Option<String>,
    /// Region.
    pub region: Option<String>,
}

fn territory_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<Territory> {
    Ok(Territory {
        id: row.get(0)?,
        kind: row.get(1)?,
        name: row.get(2)?,
        province: row.get(3)?,
        region: row.get(4)?,
    })
}

/// Every territory of `edition`, in file order (each region before its Provinces).
pub fn territories(conn: &Connection, edition: i64) -> Result<Vec<Territory>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, name, province, region FROM bes_territories
         WHERE edition = ?1 ORDER BY position",
    )?;
    let list = stmt
        .query_map([edition], territory_of)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(list)
}

/// The sexes and years for which an indicator has a value for at least one territory.
pub fn coverage(conn: &Connection, indicator: i64) -> Result<Vec<(Sex, i32)>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT sex, year FROM bes_values WHERE indicator = ?1 AND value IS NOT NULL",
    )?;
    let mut rows = stmt.query([indicator])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let sex: String = row.get(0)?;
        let sex =
            Sex::parse(&sex).ok_or_else(|| super::corrupt("bes_values", format!("sex {sex:?}")))?;
        out.push((sex, row.get(1)?));
    }
    out.sort_unstable();
    Ok(out)
}

/// An indicator's values for a sex and year: `(territory id, value)`, `None` where not
/// available; territories with no cell are absent.
pub fn values(
    conn: &Connection,
    indicator: i64,
    sex: Sex,
    year: i32,
) -> Result<Vec<(i64, Option<f64>)>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT territory, value FROM bes_values WHERE indicator = ?1 AND sex = ?2 AND year = ?3",
    )?;
    let list = stmt
        .query_map(params![indicator, sex.as_str(), year], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(list)
}

/// One stored cell of a territory's series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    /// Indicator id.
    pub indicator: i64,
    /// Territory id.
    pub territory: i64,
    /// Sex.
    pub sex: Sex,
    /// Year.
    pub year: i32,
    /// Value, `None` where not available.
    pub value: Option<f64>,
}

/// Every cell of the given territories.
pub fn cells(conn: &Connection, territories: &[i64]) -> Result<Vec<Cell>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT indicator, sex, year, value FROM bes_values WHERE territory = ?1",
    )?;
    let mut out = Vec::new();
    for &territory in territories {
        let mut rows = stmt.query([territory])?;
        while let Some(row) = rows.next()? {
            let sex: String = row.get(1)?;
            out.push(Cell {
                indicator: row.get(0)?,
                territory,
                sex: Sex::parse(&sex)
                    .ok_or_else(|| super::corrupt("bes_values", format!("sex {sex:?}")))?,
                year: row.get(2)?,
                value: row.get(3)?,
            });
        }
    }
    Ok(out)
}

/// The federated dataset of the indicators a Province computes itself (the "BES delle
/// Province"), in the shape of ISTAT's table: `protocol/datasets/bes_provincia.md`.
pub const OWN_DATASET: &str = "bes_provincia";

/// Its key, as `dataset_contributions` stores it: a Province's dataset of that name with
/// another key is not this dataset and is left out.
const OWN_KEY: &str = r#"["codice","sesso","anno"]"#;

/// A value a Province computed, from its row of [`OWN_DATASET`].
#[derive(Debug, Clone, PartialEq)]
pub struct OwnValue {
    /// The indicator's code: ISTAT's when the Province computes one of ISTAT's indicators.
    pub code: String,
    /// Its domain's name.
    pub domain: String,
    /// Its name.
    pub name: String,
    /// Unit of measure.
    pub unit: String,
    /// The sex.
    pub sex: Sex,
    /// Year.
    pub year: i32,
    /// The value (`None`: not available).
    pub value: Option<f64>,
    /// Who computed it and how, as the Province writes it.
    pub source: Option<String>,
}

/// A row as the dataset writes it: decimals are text with a dot (`"84.3"`), or numbers when
/// the Province's file had whole numbers only.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct OwnRow {
    codice: String,
    dominio: Option<String>,
    indicatore: Option<String>,
    unita_misura: Option<String>,
    sesso: String,
    anno: Option<i64>,
    valore: Option<serde_json::Value>,
    fonte: Option<String>,
}

fn own_value(data: &str) -> Option<OwnValue> {
    let row: OwnRow = serde_json::from_str(data).ok()?;
    let code = row.codice.trim().to_owned();
    let sex = Sex::from_istat(&row.sesso).or_else(|| Sex::parse(&row.sesso))?;
    let year = i32::try_from(row.anno?).ok()?;
    if code.is_empty() {
        return None;
    }
    let value = match row.valore {
        Some(serde_json::Value::Number(n)) => n.as_f64(),
        Some(serde_json::Value::String(text)) => text.trim().replace(',', ".").parse().ok(),
        _ => None,
    }
    .filter(|v: &f64| v.is_finite());
    let text = |t: Option<String>| t.map(|t| t.trim().to_owned()).unwrap_or_default();
    Some(OwnValue {
        name: text(row.indicatore),
        domain: text(row.dominio),
        unit: text(row.unita_misura),
        source: row
            .fonte
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty()),
        code,
        sex,
        year,
        value,
    })
}

static OWN_VALUES: super::contributions::Contributions<Vec<OwnValue>> =
    super::contributions::Contributions::new();

/// The values `province` computed itself, in key order; `None` when it publishes no
/// [`OWN_DATASET`]. Rows that do not follow the shape are left out. Read again only when the
/// Province's last entry for the dataset changed (`db::contributions`).
pub fn own_values(
    conn: &Connection,
    province: &str,
) -> Result<Option<std::sync::Arc<Vec<OwnValue>>>, DbError> {
    let found = OWN_VALUES.contributors(
        conn,
        OWN_DATASET,
        OWN_KEY,
        Some(province),
        |conn, id, code| {
            let mut values = Vec::new();
            super::contributions::each_row(conn, id, code, |data| values.extend(own_value(data)))?;
            Ok(values)
        },
    )?;
    Ok(found.into_iter().next().map(|c| c.data))
}
