//! The registry of Italian supra-municipal units, seeded from ISTAT's list (`hub/data`).
//!
//! The CSV is compiled into the binary so that `pico-hub init` needs nothing from outside the
//! repository. Data: "Fonte: Istat", CC BY 4.0 (see `hub/data/PROVENANCE.md`).

use pico_protocol::{ProvinceCode, UtsCode};
use serde::{Deserialize, Serialize};

/// ISTAT's list of the 107 supra-municipal units (2025), as shipped in `hub/data`.
pub const PROVINCE_CSV: &str = include_str!("../data/province_istat_2025.csv");

/// Attribution required by the licence of the registry data.
pub const ATTRIBUTION: &str = "Fonte: Istat (CC BY 4.0)";

/// One supra-municipal unit of ISTAT's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Province {
    /// Historical province code: the prefix of its Comuni, and the node's identity.
    pub code: ProvinceCode,
    /// Territorial unit code (2xx for the Città metropolitane).
    pub uts: UtsCode,
    /// Name of the unit.
    pub name: String,
    /// ISTAT type code (1 Provincia, 2 Provincia autonoma, 3 Città metropolitana,
    /// 4 Libero consorzio di comuni, 5 Unità non amministrativa).
    pub kind: u8,
    /// ISTAT's label for the type.
    pub kind_label: String,
    /// Car plate abbreviation (e.g. `TV`).
    pub sigla: String,
    /// Region code (2 digits).
    pub region_code: String,
    /// Region name.
    pub region: String,
    /// Chief town(s).
    pub capoluogo: String,
    /// Number of Comuni.
    pub comuni: u32,
    /// Whether the unit is one of the 86 of the UPI "Province & Comuni" programme.
    pub upi: bool,
}

/// Region code of Valle d'Aosta, whose single type-1 unit is not a UPI Province.
const VALLE_D_AOSTA: &str = "02";

/// The UPI programme counts the 76 Provinces of the ordinary-statute regions, the 6 Sicilian
/// liberi consorzi and the 4 Sardinian Provinces: every type-1 unit but Valle d'Aosta, plus
/// every type-4 unit.
fn in_upi_programme(kind: u8, region_code: &str) -> bool {
    (kind == 1 && region_code != VALLE_D_AOSTA) || kind == 4
}

#[derive(Deserialize)]
struct CsvRow {
    codice_uts: String,
    denominazione_uts: String,
    tipologia_uts: u8,
    tipologia_descr: String,
    sigla_automobilistica: String,
    codice_provincia_storico: String,
    codice_regione: String,
    regione: String,
    capoluogo: String,
    n_comuni: u32,
}

/// Why the registry CSV could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// A row is not in the expected form.
    #[error("province registry, row {row}: {detail}")]
    Row {
        /// 1-based data row.
        row: usize,
        /// What is wrong.
        detail: String,
    },
}

/// Parses ISTAT's province list.
pub fn parse(csv_text: &str) -> Result<Vec<Province>, RegistryError> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let mut out = Vec::new();
    for (i, record) in reader.deserialize::<CsvRow>().enumerate() {
        let bad = |detail: String| RegistryError::Row { row: i + 1, detail };
        let row = record.map_err(|e| bad(e.to_string()))?;
        out.push(Province {
            code: ProvinceCode::parse(&row.codice_provincia_storico)
                .map_err(|e| bad(e.to_string()))?,
            uts: UtsCode::parse(&row.codice_uts).map_err(|e| bad(e.to_string()))?,
            upi: in_upi_programme(row.tipologia_uts, &row.codice_regione),
            name: row.denominazione_uts,
            kind: row.tipologia_uts,
            kind_label: row.tipologia_descr,
            sigla: row.sigla_automobilistica,
            region_code: row.codice_regione,
            region: row.regione,
            capoluogo: row.capoluogo,
            comuni: row.n_comuni,
        });
    }
    Ok(out)
}

/// The registry shipped with the hub.
pub fn bundled() -> Result<Vec<Province>, RegistryError> {
    parse(PROVINCE_CSV)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_list_has_107_units_of_which_86_are_upi_provinces() -> Result<(), RegistryError> {
        let units = bundled()?;
        assert_eq!(units.len(), 107);
        assert_eq!(units.iter().filter(|p| p.upi).count(), 86);
        let by_code = |code: &str| units.iter().find(|p| p.code.as_str() == code);
        let treviso = by_code("026").map(|p| (p.upi, p.sigla.as_str()));
        assert_eq!(treviso, Some((true, "TV")));
        // Città metropolitana di Torino: UTS 201, historical code 001, not in the 86.
        let torino = by_code("001").map(|p| (p.uts.as_str().to_owned(), p.upi));
        assert_eq!(torino, Some(("201".to_owned(), false)));
        assert_eq!(by_code("007").map(|p| p.upi), Some(false));
        assert_eq!(by_code("084").map(|p| p.upi), Some(true));
        assert_eq!(by_code("111").map(|p| p.upi), Some(true));
        Ok(())
    }
}
