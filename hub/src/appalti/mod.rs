//! The national procurement view (SUA dashboards): what the public API and the `/appalti`
//! page share — the query they accept, the figures as served (decimals as text, rounded half
//! away from zero), labels, the names of the Comuni, and the CSV form of every table. The
//! arithmetic over the rows is in `db::appalti`, the routes in `http::appalti` and
//! [`pages`].

pub mod pages;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use pico_service::Problem;
use pico_service::csv::{CsvWriter, Separator};
use serde::{Deserialize, Serialize};

use crate::db::appalti::{ComuneServed, ComuneTally, Filter, Group, GroupTally, Summary, Tally};
pub use crate::query::Format;
use crate::query::{self, bad, present};

/// ISTAT's Comuni (code, name, province), as shipped in `hub/data`.
const COMUNI_CSV: &str = include_str!("../../data/comuni_istat_2025.csv");

/// The 45 CPV divisions with their official Italian (and English) labels, as shipped in
/// `hub/data` (provenance in its PROVENANCE.md).
const CPV_DIVISIONS_CSV: &str = include_str!("../../data/cpv_2008_divisions.csv");

/// Attribution required by the licences of the names shown: Provinces, regions and Comuni
/// (ISTAT) and CPV divisions (European Union).
pub const ATTRIBUTION: &str = "Nomi di Province, regioni e Comuni: Fonte: Istat (CC BY 4.0). \
     Divisioni CPV: Fonte: Regolamento (CE) n. 213/2008 della Commissione, © Unione europea \
     (denominazioni italiane dall'Ufficio delle pubblicazioni dell'Unione europea, CC BY 4.0)";

/// A row of `cpv_2008_divisions.csv`.
#[derive(Debug, Deserialize)]
struct DivisionRow {
    division: String,
    label_it: String,
}

/// The official Italian label of a CPV division (`45` → `Lavori di costruzione`). There is
/// no English fallback: where a label is missing, pages show the code alone.
pub fn cpv_division_label(division: &str) -> Option<&'static str> {
    static LABELS: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    LABELS
        .get_or_init(|| {
            csv::Reader::from_reader(CPV_DIVISIONS_CSV.as_bytes())
                .deserialize::<DivisionRow>()
                .filter_map(Result::ok)
                .map(|row| (row.division, row.label_it))
                .collect()
        })
        .get(division)
        .map(String::as_str)
}

/// The name of a Comune by its ISTAT code, if the shipped list has it.
pub fn comune_name(code: &str) -> Option<&'static str> {
    static NAMES: OnceLock<BTreeMap<&'static str, &'static str>> = OnceLock::new();
    NAMES
        .get_or_init(|| {
            COMUNI_CSV
                .lines()
                .skip(1)
                .filter_map(|line| {
                    let mut cells = line.split(',');
                    Some((cells.next()?, cells.next()?))
                })
                .collect()
        })
        .get(code)
        .copied()
}

/// The Italian label of a procedure state (the node's `sua::State`).
pub fn state_label(state: &str) -> &'static str {
    match state {
        "published" => "Pubblicata",
        "bids_closed" => "Offerte chiuse",
        "evaluation" => "In valutazione",
        "awarded" => "Aggiudicata",
        "contract_signed" => "Contratto stipulato",
        "completed" => "Conclusa",
        "cancelled" => "Annullata dopo la pubblicazione",
        "deserted" => "Deserta",
        _ => "Non indicato",
    }
}

/// The Italian label of a contract type.
pub fn contract_type_label(kind: &str) -> &'static str {
    match kind {
        "works" => "Lavori",
        "services" => "Servizi",
        "supplies" => "Forniture",
        _ => "Non indicato",
    }
}

/// The Italian title of a grouping, as a table heading ("Per Provincia").
pub fn group_title(group: Group) -> &'static str {
    match group {
        Group::Province => "Provincia",
        Group::Region => "Regione",
        Group::ProcedureType => "Tipo di procedura",
        Group::CpvDivision => "Divisione CPV",
        Group::Year => "Anno di pubblicazione",
        Group::Month => "Mese di pubblicazione",
        Group::ContractType => "Tipo di contratto",
        Group::State => "Stato",
    }
}

/// `value / divisor` rounded to the nearest integer, halves away from zero.
pub fn rounded_div(value: i128, divisor: i128) -> i128 {
    let magnitude = (value.abs() * 2 + divisor) / (2 * divisor);
    if value < 0 { -magnitude } else { magnitude }
}

/// `units` of 10^-`scale` as decimal text (`123456`, 2 → `1234.56`).
pub fn scaled(units: i128, scale: u32) -> String {
    let sign = if units < 0 { "-" } else { "" };
    let abs = units.unsigned_abs();
    if scale == 0 {
        return format!("{sign}{abs}");
    }
    let pow = 10u128.pow(scale);
    format!(
        "{sign}{}.{:0width$}",
        abs / pow,
        abs % pow,
        width = scale as usize
    )
}

/// Figures of a group as served. Amounts are decimal euro text; shares are percentages with
/// two decimals; averages are rounded half away from zero; a share or average with nothing
/// to divide by is `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Figures {
    /// Distinct procedures (by CPV division: procedures with a lot in the division).
    pub procedures: u64,
    /// Lots.
    pub lots: u64,
    /// Sum of the lots' base amounts, euro.
    pub value: String,
    /// Lots with an award.
    pub awarded_lots: u64,
    /// Sum of the award amounts, euro.
    pub awarded_value: String,
    /// PNRR-funded procedures.
    pub pnrr_procedures: u64,
    /// Lots of PNRR-funded procedures.
    pub pnrr_lots: u64,
    /// Base amounts of those lots, euro.
    pub pnrr_value: String,
    /// PNRR-funded procedures as a percentage of the procedures (`33.33`).
    pub pnrr_share_procedures: Option<String>,
    /// PNRR-funded value as a percentage of the value.
    pub pnrr_share_value: Option<String>,
    /// Mean ribasso of the lots that have one, percent with three decimals.
    pub avg_ribasso: Option<String>,
    /// Lots with a ribasso.
    pub ribasso_lots: u64,
    /// Mean days from the Comune's request to the award, over awarded lots, one decimal.
    pub avg_duration_days: Option<String>,
    /// Lots with a duration.
    pub duration_lots: u64,
}

impl Figures {
    /// The served form of a tally.
    pub fn of(tally: &Tally) -> Figures {
        let share = |part: i128, whole: i128| {
            (whole > 0).then(|| scaled(rounded_div(part * 10_000, whole), 2))
        };
        Figures {
            procedures: tally.procedures,
            lots: tally.lots,
            value: scaled(tally.value_cents, 2),
            awarded_lots: tally.awarded_lots,
            awarded_value: scaled(tally.awarded_cents, 2),
            pnrr_procedures: tally.pnrr_procedures,
            pnrr_lots: tally.pnrr_lots,
            pnrr_value: scaled(tally.pnrr_cents, 2),
            pnrr_share_procedures: share(
                i128::from(tally.pnrr_procedures),
                i128::from(tally.procedures),
            ),
            pnrr_share_value: share(tally.pnrr_cents, tally.value_cents),
            avg_ribasso: (tally.ribasso_lots > 0).then(|| {
                scaled(
                    rounded_div(tally.ribasso_milli, i128::from(tally.ribasso_lots)),
                    3,
                )
            }),
            ribasso_lots: tally.ribasso_lots,
            avg_duration_days: (tally.duration_lots > 0).then(|| {
                scaled(
                    rounded_div(tally.duration_days * 10, i128::from(tally.duration_lots)),
                    1,
                )
            }),
            duration_lots: tally.duration_lots,
        }
    }

    /// Column names of the CSV form, after the key and label.
    pub const CSV_COLUMNS: [&'static str; 14] = [
        "procedure",
        "lotti",
        "importo",
        "lotti_aggiudicati",
        "importo_aggiudicato",
        "procedure_pnrr",
        "lotti_pnrr",
        "importo_pnrr",
        "quota_pnrr_procedure",
        "quota_pnrr_importo",
        "ribasso_medio",
        "lotti_con_ribasso",
        "durata_media_giorni",
        "lotti_con_durata",
    ];

    /// The cells of a CSV line; amounts and shares with a decimal comma where the separator
    /// is the semicolon (spreadsheets set to Italian).
    fn csv_cells(&self, sep: Separator) -> [String; 14] {
        let decimal = |v: &str| sep.decimal(v);
        let optional = |v: &Option<String>| decimal(v.as_deref().unwrap_or_default());
        [
            self.procedures.to_string(),
            self.lots.to_string(),
            decimal(&self.value),
            self.awarded_lots.to_string(),
            decimal(&self.awarded_value),
            self.pnrr_procedures.to_string(),
            self.pnrr_lots.to_string(),
            decimal(&self.pnrr_value),
            optional(&self.pnrr_share_procedures),
            optional(&self.pnrr_share_value),
            optional(&self.avg_ribasso),
            self.ribasso_lots.to_string(),
            optional(&self.avg_duration_days),
            self.duration_lots.to_string(),
        ]
    }
}

/// One group of a summary as served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct GroupView {
    /// Province code, region, ANAC procedure code, CPV division, `YYYY`, `YYYY-MM`,
    /// contract type or state; empty for rows that do not say.
    pub key: String,
    /// Label for people (Province name, procedure title, Italian label), possibly empty.
    pub label: String,
    /// Figures.
    #[serde(flatten)]
    pub figures: Figures,
}

/// A summary as served by `GET /v1/appalti/summary`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SummaryView {
    /// The grouping.
    pub group: String,
    /// The year filter, if any.
    pub year: Option<i64>,
    /// The Province filter, if any.
    pub province: Option<String>,
    /// Provinces whose rows are counted.
    pub provinces: u64,
    /// Every counted lot.
    pub total: Figures,
    /// The groups, in key order (numbers by value; the unknown group last).
    pub items: Vec<GroupView>,
    /// Source of the names.
    pub attribution: &'static str,
}

fn group_label(group: Group, row: &GroupTally) -> String {
    if row.key.is_empty() {
        return "Non indicato".to_owned();
    }
    match group {
        Group::State => state_label(&row.key).to_owned(),
        Group::ContractType => contract_type_label(&row.key).to_owned(),
        Group::CpvDivision => cpv_division_label(&row.key).unwrap_or("").to_owned(),
        _ => row.label.clone(),
    }
}

impl SummaryView {
    /// The served form of a summary.
    pub fn of(summary: &Summary, group: Group, filter: &Filter) -> SummaryView {
        SummaryView {
            group: group.as_str().to_owned(),
            year: filter.year,
            province: filter.province.clone(),
            provinces: summary.provinces,
            total: Figures::of(&summary.total),
            items: summary
                .groups
                .iter()
                .map(|row| GroupView {
                    key: row.key.clone(),
                    label: group_label(group, row),
                    figures: Figures::of(&row.tally),
                })
                .collect(),
            attribution: ATTRIBUTION,
        }
    }

    /// The CSV form: one line per group (no total line, so that sums over the file are
    /// right); the first column is named after the grouping.
    pub fn to_csv(&self, sep: Separator, bom: bool) -> Result<Vec<u8>, csv::Error> {
        let mut writer = CsvWriter::new(sep, bom);
        let column = Group::parse(&self.group).map_or(self.group.as_str(), |g| g.csv_column());
        let mut header = vec![column, "descrizione"];
        header.extend(Figures::CSV_COLUMNS);
        writer.write(&header)?;
        for item in &self.items {
            let mut record = vec![item.key.clone(), item.label.clone()];
            record.extend(item.figures.csv_cells(sep));
            writer.write(&record)?;
        }
        writer.finish()
    }
}

/// A Comune served, as served by `GET /v1/appalti/comuni`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ComuneView {
    /// The Province whose SUA served it.
    pub province: String,
    /// The Comune's ISTAT code.
    pub comune: String,
    /// Its name (ISTAT 2025 list; empty for a code not in it).
    pub name: String,
    /// Procedures run for it, alone or with other Comuni.
    pub procedures: u64,
    /// Of which aggregated initiatives.
    pub aggregated_procedures: u64,
    /// Lots of those procedures.
    pub lots: u64,
    /// Base amounts of those lots, euro (an aggregated initiative counts in full for each
    /// of its Comuni: not additive across Comuni).
    pub value: String,
}

impl ComuneView {
    /// The served form.
    pub fn of(served: &ComuneServed) -> ComuneView {
        let ComuneTally {
            procedures,
            aggregated_procedures,
            lots,
            value_cents,
        } = served.tally;
        ComuneView {
            province: served.province.clone(),
            comune: served.comune.clone(),
            name: comune_name(&served.comune).unwrap_or("").to_owned(),
            procedures,
            aggregated_procedures,
            lots,
            value: scaled(value_cents, 2),
        }
    }
}

/// The Comuni list as served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ComuniView {
    /// The year filter, if any.
    pub year: Option<i64>,
    /// The Province filter, if any.
    pub province: Option<String>,
    /// Comuni served, by Province and code.
    pub items: Vec<ComuneView>,
    /// Source of the names.
    pub attribution: &'static str,
}

impl ComuniView {
    /// The CSV form.
    pub fn to_csv(&self, sep: Separator, bom: bool) -> Result<Vec<u8>, csv::Error> {
        let mut writer = CsvWriter::new(sep, bom);
        writer.write([
            "codice_provincia",
            "codice_comune",
            "comune",
            "procedure",
            "procedure_aggregate",
            "lotti",
            "importo",
        ])?;
        for item in &self.items {
            writer.write([
                item.province.clone(),
                item.comune.clone(),
                item.name.clone(),
                item.procedures.to_string(),
                item.aggregated_procedures.to_string(),
                item.lots.to_string(),
                sep.decimal(&item.value),
            ])?;
        }
        writer.finish()
    }
}

/// The query string of the summary and Comuni endpoints and of the page (parameters left
/// empty count as absent, as a form sends them).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Params {
    /// `province` (default), `region`, `procedure_type`, `cpv_division`, `year`, `month`,
    /// `contract_type` or `state` (summary only).
    pub group: Option<String>,
    /// Only procedures published in this year (e.g. `2025`).
    pub year: Option<String>,
    /// Only this Province (ISTAT historical code, e.g. `026`).
    pub province: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
    /// CSV separator: `comma` (default) or `semicolon`.
    pub sep: Option<String>,
    /// CSV only: `1` starts the file with the UTF-8 byte order mark (for Excel).
    pub bom: Option<String>,
}

/// A parsed, valid query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The grouping.
    pub group: Group,
    /// The filter.
    pub filter: Filter,
    /// The answer's format.
    pub format: Format,
}

impl Params {
    /// Checks the parameters, with a message naming the one that is wrong.
    pub fn parse(&self) -> Result<Request, Problem> {
        let group = match present(self.group.as_ref()) {
            None => Group::Province,
            Some(text) => Group::parse(text).ok_or_else(|| {
                bad(format!(
                    "group «{text}» non è un raggruppamento: usare uno tra {}",
                    Group::ALL.map(Group::as_str).join(", ")
                ))
            })?,
        };
        let year = query::year(self.year.as_ref())?;
        let province = query::province(self.province.as_ref())?;
        let format = query::format(self.format.as_ref(), self.sep.as_ref(), self.bom.as_ref())?;
        Ok(Request {
            group,
            filter: Filter { year, province },
            format,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_neutralised() {
        let view = ComuniView {
            year: None,
            province: None,
            items: vec![ComuneView {
                province: "026".into(),
                comune: "026086".into(),
                name: "=HYPERLINK(\"http://evil.example\")".into(),
                procedures: 1,
                aggregated_procedures: 0,
                lots: 1,
                value: "-10.00".into(),
            }],
            attribution: ATTRIBUTION,
        };
        let csv =
            String::from_utf8(view.to_csv(Separator::Comma, false).expect("csv")).expect("utf-8");
        assert_eq!(
            csv.lines().nth(1),
            Some("026,026086,\"'=HYPERLINK(\"\"http://evil.example\"\")\",1,0,1,-10.00")
        );
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(rounded_div(5, 2), 3);
        assert_eq!(rounded_div(-5, 2), -3);
        assert_eq!(rounded_div(4, 3), 1);
        assert_eq!(rounded_div(5, 3), 2);
        assert_eq!(rounded_div(0, 7), 0);
        assert_eq!(scaled(123_456, 2), "1234.56");
        assert_eq!(scaled(-1_500, 3), "-1.500");
        assert_eq!(scaled(5, 2), "0.05");
        assert_eq!(scaled(7, 0), "7");
    }

    /// The node's copy of the whole CPV 2008 vocabulary (`code,label_en,label_it`), whose
    /// Italian labels come from the Publications Office's file (`node/data/PROVENANCE.md`).
    const VOCABULARY: &str = include_str!("../../../node/data/cpv_2008.csv");

    #[test]
    fn cpv_divisions_have_their_official_italian_labels() {
        assert_eq!(cpv_division_label("45"), Some("Lavori di costruzione"));
        assert_eq!(
            cpv_division_label("72"),
            Some("Servizi informatici: consulenza, sviluppo di software, Internet e supporto")
        );
        assert_eq!(cpv_division_label("99"), None);
        let official: BTreeMap<String, (String, String)> =
            csv::Reader::from_reader(VOCABULARY.as_bytes())
                .deserialize::<(String, String, String)>()
                .map(|row| {
                    let (code, english, italian) = row.unwrap();
                    (code, (english, italian))
                })
                .collect();
        let divisions: Vec<(String, String, String, String)> =
            csv::Reader::from_reader(CPV_DIVISIONS_CSV.as_bytes())
                .deserialize()
                .map(Result::unwrap)
                .collect();
        assert_eq!(divisions.len(), 45);
        let in_vocabulary = official.keys().filter(|c| &c[2..8] == "000000").count();
        assert_eq!(in_vocabulary, 45, "the vocabulary has 45 divisions");
        for (division, code, italian, english) in &divisions {
            assert_eq!(&code[..2], division);
            assert_eq!(&code[2..8], "000000", "{code} is a division");
            let (official_english, official_italian) = &official[code];
            assert_eq!(
                italian, official_italian,
                "{code}: the official Italian label"
            );
            assert_eq!(english, official_english, "{code}");
            assert_ne!(
                italian, english,
                "{code}: the label shown is not the English one"
            );
            assert_eq!(cpv_division_label(division), Some(italian.as_str()));
        }
    }

    #[test]
    fn comune_names_come_from_istat() {
        assert_eq!(comune_name("026086"), Some("Treviso"));
        assert_eq!(comune_name("999999"), None);
    }

    #[test]
    fn parameters_are_checked_with_clear_messages() {
        let params = |group: Option<&str>, year: Option<&str>, province: Option<&str>| Params {
            group: group.map(str::to_owned),
            year: year.map(str::to_owned),
            province: province.map(str::to_owned),
            format: None,
            sep: None,
            bom: None,
        };
        assert_eq!(
            params(None, Some(""), None).parse().ok().map(|r| r.group),
            Some(Group::Province)
        );
        let error = params(Some("comune"), None, None).parse().unwrap_err();
        assert!(
            error.detail().unwrap().contains("procedure_type"),
            "{error:?}"
        );
        assert!(params(None, Some("25"), None).parse().is_err());
        assert!(params(None, None, Some("26")).parse().is_err());
        assert_eq!(
            params(Some("month"), Some("2025"), Some("026"))
                .parse()
                .ok()
                .map(|r| r.filter),
            Some(Filter {
                year: Some(2025),
                province: Some("026".into())
            })
        );
    }
}
