//! Reading an edition of ISTAT's BES dei territori: the indicators file (one line per
//! indicator, sex and territory, one column per year) and its metadata (one line per indicator:
//! type, definition, detailed source), checked whole before anything is written.
//!
//! The file names territories, never codes: a Province is tied to the hub's registry by its
//! name (ISTAT's names, the same in both lists, plus [`ALIASES`]); one that is not in the
//! registry (a Province abolished since) keeps the file's name and no code. Its region is the
//! region line that precedes it in the file, which lists each region followed by its Provinces.

use std::collections::{BTreeMap, BTreeSet};

use super::Sex;

/// The edition shipped with the hub, imported by `pico-hub init` when the database has none.
pub const BUNDLED_EDITION: i64 = 2020;

/// The indicators of the bundled edition (`hub/data/bes/`, "Fonte: Istat", CC BY 4.0).
pub const BUNDLED_INDICATORS: &str =
    include_str!("../../data/bes/istat_bes_territori_2020_indicatori_provincia_sesso.csv");

/// The metadata of the bundled edition.
pub const BUNDLED_METADATA: &str =
    include_str!("../../data/bes/istat_bes_territori_2020_metadati.csv");

/// File name recorded as the bundled edition's source.
pub const BUNDLED_SOURCE: &str = "istat_bes_territori_2020_indicatori_provincia_sesso.csv";

/// Names the BES file gives a Province that differ from the registry's: Valle d'Aosta's one
/// unit is "Aosta" in the BES and "Valle d'Aosta/Vallée d'Aoste" (code 007) in the registry.
pub const ALIASES: [(&str, &str); 1] = [("Aosta", "007")];

/// ISTAT's macro-areas (ripartizioni), as the BES files name them.
const MACRO_AREAS: [&str; 7] = [
    "Nord",
    "Centro",
    "Mezzogiorno",
    "Nord-ovest",
    "Nord-est",
    "Sud",
    "Isole",
];

/// The whole nation.
const ITALY: &str = "Italia";

/// A unit of the hub's registry, as the import needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryUnit {
    /// Historical ISTAT code.
    pub code: String,
    /// ISTAT's name.
    pub name: String,
    /// ISTAT's name of its region.
    pub region: String,
}

/// What kind of territory a line is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TerritoryKind {
    /// Italy.
    Italy,
    /// A macro-area (Nord, Centro, Mezzogiorno).
    MacroArea,
    /// A region.
    Region,
    /// A Province or metropolitan city.
    Province,
}

impl TerritoryKind {
    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            TerritoryKind::Italy => "italia",
            TerritoryKind::MacroArea => "ripartizione",
            TerritoryKind::Region => "regione",
            TerritoryKind::Province => "provincia",
        }
    }
}

/// An indicator of the edition.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorRecord {
    /// ISTAT's code, e.g. `01SAL001`.
    pub code: String,
    /// The domain's number, the code's first two digits.
    pub domain_code: String,
    /// The domain's name.
    pub domain: String,
    /// The indicator's name.
    pub name: String,
    /// Unit of measure.
    pub unit: String,
    /// Source.
    pub source: String,
    /// Bes, Proxy or Locale (metadata).
    pub kind: Option<String>,
    /// Definition (metadata).
    pub definition: Option<String>,
    /// Notes (the distinct texts of the file's NOTE column for the indicator).
    pub note: Option<String>,
}

/// A territory of the edition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerritoryRecord {
    /// Italy, macro-area, region or Province.
    pub kind: TerritoryKind,
    /// As the file names it.
    pub name: String,
    /// The registry's code of a Province, when its name maps.
    pub province: Option<String>,
    /// The region (of a Province, or the region's own name).
    pub region: Option<String>,
}

/// One cell of the file: indicator and territory by index, sex, year, value (`None` where the
/// file says "....", not available).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValueRecord {
    /// Index into [`Edition::indicators`].
    pub indicator: usize,
    /// Index into [`Edition::territories`].
    pub territory: usize,
    /// Sex.
    pub sex: Sex,
    /// Year.
    pub year: i32,
    /// The value.
    pub value: Option<f64>,
}

/// An edition read whole and checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Edition {
    /// Indicators in file order.
    pub indicators: Vec<IndicatorRecord>,
    /// Territories in file order.
    pub territories: Vec<TerritoryRecord>,
    /// Every non-empty cell.
    pub values: Vec<ValueRecord>,
    /// Metadata lines naming no indicator of the file.
    pub unused_metadata: Vec<String>,
}

impl Edition {
    /// The Provinces of the file whose name is not in the registry.
    pub fn unmapped_provinces(&self) -> Vec<&str> {
        self.territories
            .iter()
            .filter(|t| t.kind == TerritoryKind::Province && t.province.is_none())
            .map(|t| t.name.as_str())
            .collect()
    }

    /// The indicators without a definition in the metadata.
    pub fn without_metadata(&self) -> Vec<&str> {
        self.indicators
            .iter()
            .filter(|i| i.definition.is_none())
            .map(|i| i.code.as_str())
            .collect()
    }
}

/// Why a file was refused; nothing is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// The file is not CSV, or a column is missing.
    #[error("{file}: {detail}")]
    File {
        /// Which file.
        file: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// A line is wrong.
    #[error("{file}, riga {line}: {detail}")]
    Line {
        /// Which file.
        file: &'static str,
        /// 1-based line of the file (the header is line 1).
        line: u64,
        /// What is wrong.
        detail: String,
    },
}

const INDICATORS_FILE: &str = "file degli indicatori";
const METADATA_FILE: &str = "file dei metadati";

fn column(
    headers: &csv::StringRecord,
    name: &str,
    file: &'static str,
) -> Result<usize, ImportError> {
    headers
        .iter()
        .position(|h| h.trim().trim_start_matches('\u{feff}') == name)
        .ok_or_else(|| ImportError::File {
            file,
            detail: format!("manca la colonna {name}"),
        })
}

/// A value as ISTAT writes it: `77.6`, `3,2` (decimal comma), `....` (not available).
fn parse_value(text: &str) -> Result<Option<f64>, String> {
    let text = text.trim();
    if text.chars().all(|c| c == '.') {
        return Ok(None);
    }
    text.replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(Some)
        .ok_or_else(|| format!("valore {text:?} non numerico"))
}

struct Metadata {
    kind: Option<String>,
    definition: Option<String>,
}

fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn read_metadata(text: &str) -> Result<BTreeMap<String, Metadata>, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| ImportError::File {
            file: METADATA_FILE,
            detail: format!("non è un CSV leggibile ({e})"),
        })?
        .clone();
    let name = column(&headers, "Indicatore", METADATA_FILE)?;
    let definition = column(&headers, "Definizione", METADATA_FILE)?;
    let kind = headers
        .iter()
        .position(|h| h.trim().starts_with("Tipo di indicatore"));
    let mut out = BTreeMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| ImportError::File {
            file: METADATA_FILE,
            detail: format!("non è un CSV leggibile ({e})"),
        })?;
        let Some(indicator) = non_empty(record.get(name).unwrap_or("")) else {
            continue; // the footnote explaining the types
        };
        out.insert(
            indicator,
            Metadata {
                kind: kind.and_then(|k| non_empty(record.get(k).unwrap_or(""))),
                definition: non_empty(record.get(definition).unwrap_or("")),
            },
        );
    }
    Ok(out)
}

/// Classifies the territories as they come, in file order.
struct Territories<'a> {
    by_name: BTreeMap<String, &'a RegistryUnit>,
    by_code: BTreeMap<&'a str, &'a RegistryUnit>,
    regions: BTreeSet<&'a str>,
    current_region: Option<String>,
    seen: BTreeMap<String, usize>,
    list: Vec<TerritoryRecord>,
}

impl<'a> Territories<'a> {
    fn new(registry: &'a [RegistryUnit]) -> Territories<'a> {
        Territories {
            by_name: registry
                .iter()
                .map(|u| (u.name.to_lowercase(), u))
                .collect(),
            by_code: registry.iter().map(|u| (u.code.as_str(), u)).collect(),
            regions: registry.iter().map(|u| u.region.as_str()).collect(),
            current_region: None,
            seen: BTreeMap::new(),
            list: Vec::new(),
        }
    }

    fn unit(&self, name: &str) -> Option<&'a RegistryUnit> {
        ALIASES
            .iter()
            .find(|(alias, _)| *alias == name)
            .and_then(|(_, code)| self.by_code.get(code).copied())
            .or_else(|| self.by_name.get(&name.to_lowercase()).copied())
    }

    /// The index of the territory named on a line, adding it the first time.
    fn index(&mut self, name: &str) -> Result<usize, String> {
        if let Some(&index) = self.seen.get(name) {
            return Ok(index);
        }
        let record = if name == ITALY {
            TerritoryRecord {
                kind: TerritoryKind::Italy,
                name: name.to_owned(),
                province: None,
                region: None,
            }
        } else if MACRO_AREAS.contains(&name) {
            TerritoryRecord {
                kind: TerritoryKind::MacroArea,
                name: name.to_owned(),
                province: None,
                region: None,
            }
        } else if self.regions.contains(name) {
            self.current_region = Some(name.to_owned());
            TerritoryRecord {
                kind: TerritoryKind::Region,
                name: name.to_owned(),
                province: None,
                region: Some(name.to_owned()),
            }
        } else if let Some(unit) = self.unit(name) {
            TerritoryRecord {
                kind: TerritoryKind::Province,
                name: name.to_owned(),
                province: Some(unit.code.clone()),
                region: Some(unit.region.clone()),
            }
        } else {
            let region = self.current_region.clone().ok_or_else(|| {
                format!(
                    "il territorio {name:?} non è nel registro e nessuna regione lo precede nel file"
                )
            })?;
            TerritoryRecord {
                kind: TerritoryKind::Province,
                name: name.to_owned(),
                province: None,
                region: Some(region),
            }
        };
        let index = self.list.len();
        self.list.push(record);
        self.seen.insert(name.to_owned(), index);
        Ok(index)
    }
}

/// Reads and checks an edition: `indicators` is the indicators file, `metadata` its metadata,
/// `registry` the hub's units. Every error names the file and line.
pub fn read(
    indicators: &str,
    metadata: &str,
    registry: &[RegistryUnit],
) -> Result<Edition, ImportError> {
    let metadata = read_metadata(metadata)?;
    let mut reader = csv::ReaderBuilder::new().from_reader(indicators.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| ImportError::File {
            file: INDICATORS_FILE,
            detail: format!("non è un CSV leggibile ({e})"),
        })?
        .clone();
    let [domain, code, name, sex_col, territory_col, unit, source] = [
        "DOMINIO",
        "CODICE",
        "INDICATORE",
        "SESSO",
        "TERRITORIO",
        "UNITA_MISURA",
        "FONTE",
    ]
    .map(|c| column(&headers, c, INDICATORS_FILE));
    let (domain, code, name, sex_col, territory_col, unit, source) = (
        domain?,
        code?,
        name?,
        sex_col?,
        territory_col?,
        unit?,
        source?,
    );
    let note = headers.iter().position(|h| h.trim() == "NOTE");
    let years: Vec<(usize, i32)> = headers
        .iter()
        .enumerate()
        .filter_map(|(i, h)| {
            let year = h.trim().strip_prefix("V_")?.parse::<i32>().ok()?;
            (1900..=2200).contains(&year).then_some((i, year))
        })
        .collect();
    if years.is_empty() {
        return Err(ImportError::File {
            file: INDICATORS_FILE,
            detail: "nessuna colonna degli anni (V_2004, V_2005…)".to_owned(),
        });
    }
    let mut edition = Edition::default();
    let mut indicator_index: BTreeMap<String, usize> = BTreeMap::new();
    let mut notes: Vec<BTreeSet<String>> = Vec::new();
    let mut territories = Territories::new(registry);
    let mut series: BTreeSet<(usize, usize, Sex)> = BTreeSet::new();
    for (i, record) in reader.records().enumerate() {
        let line = i as u64 + 2;
        let record = record.map_err(|e| ImportError::Line {
            file: INDICATORS_FILE,
            line,
            detail: format!("non leggibile ({e})"),
        })?;
        let bad = |detail: String| ImportError::Line {
            file: INDICATORS_FILE,
            line,
            detail,
        };
        let cell = |i: usize| record.get(i).unwrap_or("").trim();
        let indicator_code = cell(code);
        if indicator_code.len() < 3 || !indicator_code.is_ascii() {
            return Err(bad(format!(
                "codice dell'indicatore {indicator_code:?} non valido"
            )));
        }
        let domain_code = &indicator_code[..2];
        if !domain_code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(format!(
                "il codice {indicator_code:?} non inizia con il numero del dominio"
            )));
        }
        let indicator = match indicator_index.get(indicator_code) {
            Some(&index) => {
                let known = &edition.indicators[index];
                if known.name != cell(name)
                    || known.unit != cell(unit)
                    || known.domain != cell(domain)
                {
                    return Err(bad(format!(
                        "l'indicatore {indicator_code} ha qui nome, dominio o unità diversi dalle righe precedenti"
                    )));
                }
                index
            }
            None => {
                let indicator_name = cell(name).to_owned();
                if indicator_name.is_empty() {
                    return Err(bad("manca il nome dell'indicatore".to_owned()));
                }
                let meta = metadata.get(&indicator_name);
                edition.indicators.push(IndicatorRecord {
                    code: indicator_code.to_owned(),
                    domain_code: domain_code.to_owned(),
                    domain: cell(domain).to_owned(),
                    name: indicator_name,
                    unit: cell(unit).to_owned(),
                    source: cell(source).to_owned(),
                    kind: meta.and_then(|m| m.kind.clone()),
                    definition: meta.and_then(|m| m.definition.clone()),
                    note: None,
                });
                notes.push(BTreeSet::new());
                indicator_index.insert(indicator_code.to_owned(), edition.indicators.len() - 1);
                edition.indicators.len() - 1
            }
        };
        if let Some(note) = note.and_then(|n| non_empty(cell(n))) {
            notes[indicator].insert(note);
        }
        let sex = Sex::from_istat(cell(sex_col)).ok_or_else(|| {
            bad(format!(
                "sesso {:?} non previsto: Totale, Maschi o Femmine",
                cell(sex_col)
            ))
        })?;
        let territory_name = cell(territory_col);
        if territory_name.is_empty() {
            return Err(bad("manca il territorio".to_owned()));
        }
        let territory = territories.index(territory_name).map_err(bad)?;
        if !series.insert((indicator, territory, sex)) {
            return Err(bad(format!(
                "riga ripetuta: indicatore {indicator_code}, {territory_name}, {}",
                sex.label()
            )));
        }
        for &(column, year) in &years {
            let text = cell(column);
            if text.is_empty() {
                continue;
            }
            let value = parse_value(text).map_err(|e| bad(format!("anno {year}: {e}")))?;
            edition.values.push(ValueRecord {
                indicator,
                territory,
                sex,
                year,
                value,
            });
        }
    }
    if edition.indicators.is_empty() {
        return Err(ImportError::File {
            file: INDICATORS_FILE,
            detail: "nessuna riga di dati".to_owned(),
        });
    }
    for (indicator, notes) in edition.indicators.iter_mut().zip(notes) {
        indicator.note =
            (!notes.is_empty()).then(|| notes.into_iter().collect::<Vec<_>>().join("\n"));
    }
    let used: BTreeSet<&str> = edition.indicators.iter().map(|i| i.name.as_str()).collect();
    edition.unused_metadata = metadata
        .keys()
        .filter(|name| !used.contains(name.as_str()))
        .cloned()
        .collect();
    edition.territories = territories.list;
    Ok(edition)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> Vec<RegistryUnit> {
        crate::registry::bundled()
            .unwrap_or_default()
            .into_iter()
            .map(|p| RegistryUnit {
                code: p.code.as_str().to_owned(),
                name: p.name,
                region: p.region,
            })
            .collect()
    }

    #[test]
    fn values_as_istat_writes_them() {
        assert_eq!(parse_value("77.6"), Ok(Some(77.6)));
        assert_eq!(parse_value("3,2"), Ok(Some(3.2)));
        assert_eq!(parse_value("...."), Ok(None));
        assert!(parse_value("n.d.").is_err());
    }

    #[test]
    fn the_bundled_edition_reads_with_every_province_of_the_registry() {
        let edition = read(BUNDLED_INDICATORS, BUNDLED_METADATA, &registry())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(edition.indicators.len(), 55);
        let mapped: BTreeSet<&str> = edition
            .territories
            .iter()
            .filter_map(|t| t.province.as_deref())
            .collect();
        assert_eq!(mapped.len(), 107);
        assert_eq!(
            edition.unmapped_provinces(),
            [
                "Olbia-Tempio",
                "Ogliastra",
                "Medio Campidano",
                "Carbonia-Iglesias"
            ]
        );
        assert!(edition.without_metadata().is_empty());
        let aosta = edition.territories.iter().find(|t| t.name == "Aosta");
        assert_eq!(aosta.and_then(|t| t.province.as_deref()), Some("007"));
        let olbia = edition
            .territories
            .iter()
            .find(|t| t.name == "Olbia-Tempio");
        assert_eq!(olbia.and_then(|t| t.region.as_deref()), Some("Sardegna"));
    }

    #[test]
    fn a_bad_value_names_its_line_and_year() {
        let file = "DOMINIO,CODICE,INDICATORE,SESSO,TERRITORIO,UNITA_MISURA,FONTE,V_2018,V_2019,NOTE\n\
                    Salute,01SAL001,Speranza di vita,Totale,Italia,anni,Istat,83,x,\n";
        let err = read(file, "Indicatore,Definizione\n", &registry()).err();
        assert_eq!(
            err.map(|e| e.to_string()),
            Some("file degli indicatori, riga 2: anno 2019: valore \"x\" non numerico".to_owned())
        );
        let file = "DOMINIO,CODICE,INDICATORE,SESSO,TERRITORIO,UNITA_MISURA,FONTE,V_2018\n\
                    Salute,01SAL001,Speranza di vita,Tutti,Italia,anni,Istat,83\n";
        assert!(read(file, "Indicatore,Definizione\n", &registry()).is_err());
        let file = "DOMINIO,CODICE,INDICATORE,SESSO,UNITA_MISURA,FONTE,V_2018\n";
        assert_eq!(
            read(file, "Indicatore,Definizione\n", &registry())
                .err()
                .map(|e| e.to_string()),
            Some("file degli indicatori: manca la colonna TERRITORIO".to_owned())
        );
    }
}
