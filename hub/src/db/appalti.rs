//! The national procurement view: the figures of the SUA dashboards, computed from the rows
//! of the federated `appalti` dataset (one row per lot; schema in
//! `protocol/datasets/appalti.md`).
//!
//! Each Province's rows are read once into a small **cube**: its lots tallied by year,
//! month, procedure type, CPV division, contract type and state, plus the Comuni it served.
//! Every grouping and filter the API offers is then a sum over cubes, a few thousand cells
//! per Province, never a scan of the national table. A cube is keyed by the Province and the
//! hash of the last entry that changed its `appalti` rows: that hash commits to the
//! Province's whole log up to it (each entry names the previous one), hence to exactly the
//! rows the hub holds, so a cube is recomputed only after that Province pushes again (a range
//! of the rows index), and cubes can be shared by every hub in the process (tests run many).
//!
//! **Counting procedures.** Rows are lots; a procedure is `(Province, procedure_id)`. The
//! attributes of a procedure (year, month, type, contract type, state, PNRR) are the same on
//! all its lots, but its lots may fall in different CPV divisions. So each cell counts a
//! procedure twice over: once where its first lot falls (`procedures`, summed for every
//! grouping but CPV division, which gives distinct procedures) and once in every cell where
//! it has a lot (`cell_procedures`, summed by CPV division: a procedure with lots in two
//! divisions counts in both, and the divisions' total can exceed the grand total). The node
//! writes a procedure's rows under one key range (`[procedure_id, lot_no]`), so its lots are
//! read together.

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde::Deserialize;

use super::DbError;
use super::contributions::{Contributions, Contributor, each_row};

/// The dataset's name.
pub const DATASET: &str = "appalti";

/// Additive figures of a set of lots. Amounts are euro cents, ribasso thousandths of a
/// percent, durations days.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Distinct procedures.
    pub procedures: u64,
    /// Lots.
    pub lots: u64,
    /// Sum of the lots' base amounts (`lot_amount`).
    pub value_cents: i128,
    /// Lots with an award amount.
    pub awarded_lots: u64,
    /// Sum of the award amounts.
    pub awarded_cents: i128,
    /// Distinct PNRR-funded procedures.
    pub pnrr_procedures: u64,
    /// Lots of PNRR-funded procedures.
    pub pnrr_lots: u64,
    /// Base amounts of those lots.
    pub pnrr_cents: i128,
    /// Lots with a ribasso.
    pub ribasso_lots: u64,
    /// Sum of their ribasso.
    pub ribasso_milli: i128,
    /// Lots with a duration (request to award).
    pub duration_lots: u64,
    /// Sum of their durations.
    pub duration_days: i128,
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.procedures += other.procedures;
        self.lots += other.lots;
        self.value_cents += other.value_cents;
        self.awarded_lots += other.awarded_lots;
        self.awarded_cents += other.awarded_cents;
        self.pnrr_procedures += other.pnrr_procedures;
        self.pnrr_lots += other.pnrr_lots;
        self.pnrr_cents += other.pnrr_cents;
        self.ribasso_lots += other.ribasso_lots;
        self.ribasso_milli += other.ribasso_milli;
        self.duration_lots += other.duration_lots;
        self.duration_days += other.duration_days;
    }
}

/// The coordinates of a cell: every dimension a summary groups or filters by, except the
/// Province (a cube is one Province).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct CellKey {
    year: Option<i64>,
    month: Option<i64>,
    procedure_code: Option<i64>,
    cpv_division: String,
    contract_type: String,
    state: String,
}

#[derive(Debug, Clone, Default)]
struct Cell {
    /// `procedures` and `pnrr_procedures` count procedures at their first lot.
    tally: Tally,
    /// Procedures with at least one lot in this cell.
    cell_procedures: u64,
    /// PNRR-funded ones among them.
    cell_pnrr_procedures: u64,
}

/// What a Comune was served, in one year.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ComuneTally {
    /// Procedures run for it (alone or with others).
    pub procedures: u64,
    /// Of which aggregated initiatives.
    pub aggregated_procedures: u64,
    /// Lots of those procedures.
    pub lots: u64,
    /// Base amounts of those lots, whole (an aggregated initiative counts in full for each
    /// of its Comuni, so these do not add up across Comuni).
    pub value_cents: i128,
}

impl ComuneTally {
    fn add(&mut self, other: &ComuneTally) {
        self.procedures += other.procedures;
        self.aggregated_procedures += other.aggregated_procedures;
        self.lots += other.lots;
        self.value_cents += other.value_cents;
    }
}

/// One Province's rows, tallied.
#[derive(Debug, Default)]
struct Cube {
    cells: Vec<(CellKey, Cell)>,
    /// Procedure type labels as the rows give them.
    labels: BTreeMap<i64, String>,
    /// Comune code and year to what it was served.
    comuni: BTreeMap<(String, Option<i64>), ComuneTally>,
}

/// The fields of a row the dashboards read; the others are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LotRow<'a> {
    procedure_id: Option<i64>,
    #[serde(borrow)]
    comune: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    comuni: Option<std::borrow::Cow<'a, str>>,
    aggregated: Option<bool>,
    #[serde(borrow)]
    contract_type: Option<std::borrow::Cow<'a, str>>,
    procedure_code: Option<i64>,
    #[serde(borrow)]
    procedure_label: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    cpv_division: Option<std::borrow::Cow<'a, str>>,
    pnrr: Option<bool>,
    #[serde(borrow)]
    state: Option<std::borrow::Cow<'a, str>>,
    year: Option<i64>,
    month: Option<i64>,
    #[serde(borrow)]
    lot_amount: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    award_amount: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    ribasso: Option<std::borrow::Cow<'a, str>>,
    duration_days: Option<i64>,
}

/// Parses a decimal with at most `scale` decimals into units of 10^-`scale`
/// (`"12.5"`, scale 2 → 1250). Anything else is not counted.
pub fn parse_fixed(text: &str, scale: u32) -> Option<i128> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty()
        || int.len() > 20
        || frac.len() > scale as usize
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let units: i128 = format!("{int}{frac:0<width$}", width = scale as usize)
        .parse()
        .ok()?;
    Some(if negative { -units } else { units })
}

/// Reads one Province's rows (a range of the rows index, in key order) into its cube.
fn build_cube(conn: &Connection, dataset_id: i64, province: &str) -> Result<Cube, DbError> {
    let mut cells: BTreeMap<CellKey, Cell> = BTreeMap::new();
    let mut cube = Cube::default();
    let mut current: Option<i64> = None;
    let mut seen_cells: Vec<CellKey> = Vec::new();
    each_row(conn, dataset_id, province, |data| {
        // A row that does not follow the schema still counts, as a lot with nothing known.
        let lot: LotRow<'_> = serde_json::from_str(data).unwrap_or_default();
        let new_procedure = lot.procedure_id.is_none() || lot.procedure_id != current;
        if new_procedure {
            current = lot.procedure_id;
            seen_cells.clear();
        }
        let key = CellKey {
            year: lot.year,
            month: lot.month.filter(|m| (1..=12).contains(m)),
            procedure_code: lot.procedure_code,
            cpv_division: lot.cpv_division.as_deref().unwrap_or("").to_owned(),
            contract_type: lot.contract_type.as_deref().unwrap_or("").to_owned(),
            state: lot.state.as_deref().unwrap_or("").to_owned(),
        };
        if let (Some(code), Some(label)) = (lot.procedure_code, lot.procedure_label.as_deref()) {
            cube.labels.entry(code).or_insert_with(|| label.to_owned());
        }
        let pnrr = lot.pnrr == Some(true);
        let amount = lot
            .lot_amount
            .as_deref()
            .and_then(|a| parse_fixed(a, 2))
            .unwrap_or(0);
        let first_in_cell = !seen_cells.contains(&key);
        if first_in_cell {
            seen_cells.push(key.clone());
        }
        let cell = cells.entry(key).or_default();
        let tally = &mut cell.tally;
        tally.lots += 1;
        tally.value_cents += amount;
        if let Some(award) = lot.award_amount.as_deref().and_then(|a| parse_fixed(a, 2)) {
            tally.awarded_lots += 1;
            tally.awarded_cents += award;
        }
        if pnrr {
            tally.pnrr_lots += 1;
            tally.pnrr_cents += amount;
        }
        if let Some(ribasso) = lot.ribasso.as_deref().and_then(|r| parse_fixed(r, 3)) {
            tally.ribasso_lots += 1;
            tally.ribasso_milli += ribasso;
        }
        if let Some(days) = lot.duration_days.filter(|d| *d >= 0) {
            tally.duration_lots += 1;
            tally.duration_days += i128::from(days);
        }
        if new_procedure {
            tally.procedures += 1;
            tally.pnrr_procedures += u64::from(pnrr);
        }
        if first_in_cell {
            cell.cell_procedures += 1;
            cell.cell_pnrr_procedures += u64::from(pnrr);
        }
        let served = lot.comuni.as_deref().unwrap_or("");
        let lead = lot.comune.as_deref().unwrap_or("");
        let mut codes: Vec<&str> = served.split_whitespace().collect();
        if codes.is_empty() && !lead.is_empty() {
            codes.push(lead);
        }
        for code in codes {
            let comune = cube.comuni.entry((code.to_owned(), lot.year)).or_default();
            comune.lots += 1;
            comune.value_cents += amount;
            if new_procedure {
                comune.procedures += 1;
                comune.aggregated_procedures += u64::from(lot.aggregated == Some(true));
            }
        }
    })?;
    cube.cells = cells.into_iter().collect();
    Ok(cube)
}

/// The cube of each Province, rebuilt when it pushes.
static CUBES: Contributions<Cube> = Contributions::new();

/// The primary key of the national schema, as `dataset_contributions` stores it. A Province
/// whose `appalti` rows have another key (a dataset of another schema that happens to have
/// the name) is left out of the dashboards: its rows are not SUA lots.
const SCHEMA_KEY: &str = r#"["procedure_id","lot_no"]"#;

/// Every contributor with its cube, computing the cubes that are missing or stale.
fn contributors(
    conn: &Connection,
    province: Option<&str>,
) -> Result<Vec<Contributor<Cube>>, DbError> {
    CUBES.contributors(conn, DATASET, SCHEMA_KEY, province, build_cube)
}

/// What a summary groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Province (code, named).
    Province,
    /// Region.
    Region,
    /// ANAC procedure type (scelta del contraente).
    ProcedureType,
    /// CPV division (first two digits).
    CpvDivision,
    /// Year of publication.
    Year,
    /// Month of publication (`YYYY-MM`).
    Month,
    /// Works, services, supplies.
    ContractType,
    /// State of the procedure.
    State,
}

impl Group {
    /// Every grouping, in the order pages show them.
    pub const ALL: [Group; 8] = [
        Group::Province,
        Group::Region,
        Group::ProcedureType,
        Group::CpvDivision,
        Group::Year,
        Group::Month,
        Group::ContractType,
        Group::State,
    ];

    /// The query-string name.
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Province => "province",
            Group::Region => "region",
            Group::ProcedureType => "procedure_type",
            Group::CpvDivision => "cpv_division",
            Group::Year => "year",
            Group::Month => "month",
            Group::ContractType => "contract_type",
            Group::State => "state",
        }
    }

    /// The CSV column of the group's key, in Italian.
    pub fn csv_column(self) -> &'static str {
        match self {
            Group::Province => "codice_provincia",
            Group::Region => "regione",
            Group::ProcedureType => "tipo_procedura",
            Group::CpvDivision => "divisione_cpv",
            Group::Year => "anno",
            Group::Month => "mese",
            Group::ContractType => "tipo_contratto",
            Group::State => "stato",
        }
    }

    /// Parses the query-string name.
    pub fn parse(text: &str) -> Option<Group> {
        Group::ALL.into_iter().find(|g| g.as_str() == text)
    }
}

/// Which lots a summary counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this year of publication.
    pub year: Option<i64>,
    /// Only this Province (historical code).
    pub province: Option<String>,
}

/// One group of a summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupTally {
    /// The group's key: Province code, region, procedure code, CPV division, `YYYY`,
    /// `YYYY-MM`, contract type or state; empty when the rows do not say.
    pub key: String,
    /// A label for people (Province name, procedure type title…), empty if none is known.
    pub label: String,
    /// Its figures.
    pub tally: Tally,
}

/// A summary: figures by group, and the total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Groups, in key order (numeric keys by number; unknown last).
    pub groups: Vec<GroupTally>,
    /// All lots counted.
    pub total: Tally,
    /// Provinces that contributed rows (before the filter).
    pub provinces: u64,
}

fn sort_key(key: &str) -> (bool, i64, String) {
    (
        key.is_empty(),
        key.parse().unwrap_or(i64::MAX),
        key.to_owned(),
    )
}

/// The figures of the national `appalti` rows grouped by `group`, counting the lots that
/// pass `filter`.
pub fn summary(conn: &Connection, group: Group, filter: &Filter) -> Result<Summary, DbError> {
    let contributors = contributors(conn, filter.province.as_deref())?;
    let mut groups: BTreeMap<String, (String, Tally)> = BTreeMap::new();
    let mut total = Tally::default();
    for contributor in &contributors {
        let cube = &contributor.data;
        for (key, cell) in &cube.cells {
            if filter.year.is_some() && key.year != filter.year {
                continue;
            }
            total.add(&cell.tally);
            let (group_key, label) = match group {
                Group::Province => (contributor.code.clone(), contributor.name.clone()),
                Group::Region => (contributor.region.clone(), contributor.region.clone()),
                Group::ProcedureType => match key.procedure_code {
                    Some(code) => (
                        code.to_string(),
                        cube.labels.get(&code).cloned().unwrap_or_default(),
                    ),
                    None => (String::new(), String::new()),
                },
                Group::CpvDivision => (key.cpv_division.clone(), String::new()),
                Group::Year => (
                    key.year.map(|y| y.to_string()).unwrap_or_default(),
                    String::new(),
                ),
                Group::Month => (
                    match (key.year, key.month) {
                        (Some(year), Some(month)) => format!("{year:04}-{month:02}"),
                        _ => String::new(),
                    },
                    String::new(),
                ),
                Group::ContractType => (key.contract_type.clone(), String::new()),
                Group::State => (key.state.clone(), String::new()),
            };
            let entry = groups
                .entry(group_key)
                .or_insert_with(|| (label, Tally::default()));
            let mut tally = cell.tally;
            if group == Group::CpvDivision {
                tally.procedures = cell.cell_procedures;
                tally.pnrr_procedures = cell.cell_pnrr_procedures;
            }
            entry.1.add(&tally);
        }
    }
    let mut groups: Vec<GroupTally> = groups
        .into_iter()
        .map(|(key, (label, tally))| GroupTally { key, label, tally })
        .collect();
    groups.sort_by_cached_key(|g| sort_key(&g.key));
    Ok(Summary {
        groups,
        total,
        provinces: contributors.len() as u64,
    })
}

/// A Comune a Province's SUA served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComuneServed {
    /// The Province (historical code).
    pub province: String,
    /// The Comune's ISTAT code.
    pub comune: String,
    /// What it was served.
    pub tally: ComuneTally,
}

/// The Comuni served, by Province and Comune code, counting the procedures that pass
/// `filter`.
pub fn comuni(conn: &Connection, filter: &Filter) -> Result<Vec<ComuneServed>, DbError> {
    let contributors = contributors(conn, filter.province.as_deref())?;
    let mut out = Vec::new();
    for contributor in &contributors {
        let mut served: BTreeMap<&str, ComuneTally> = BTreeMap::new();
        for ((code, year), tally) in &contributor.data.comuni {
            if filter.year.is_some() && *year != filter.year {
                continue;
            }
            served.entry(code.as_str()).or_default().add(tally);
        }
        out.extend(served.into_iter().map(|(code, tally)| ComuneServed {
            province: contributor.code.clone(),
            comune: code.to_owned(),
            tally,
        }));
    }
    Ok(out)
}

/// The years that have rows, newest first (for the pages' year choice).
pub fn years(conn: &Connection) -> Result<Vec<i64>, DbError> {
    let mut years: Vec<i64> = contributors(conn, None)?
        .iter()
        .flat_map(|c| c.data.cells.iter().filter_map(|(key, _)| key.year))
        .collect();
    years.sort_unstable_by(|a, b| b.cmp(a));
    years.dedup();
    Ok(years)
}

#[cfg(test)]
mod tests {
    use super::parse_fixed;

    #[test]
    fn fixed_point_parsing() {
        assert_eq!(parse_fixed("1234.56", 2), Some(123_456));
        assert_eq!(parse_fixed("1234.5", 2), Some(123_450));
        assert_eq!(parse_fixed("1234", 2), Some(123_400));
        assert_eq!(parse_fixed("-1.5", 3), Some(-1_500));
        assert_eq!(parse_fixed("1.234", 2), None);
        assert_eq!(parse_fixed("1,5", 2), None);
        assert_eq!(parse_fixed("", 2), None);
        assert_eq!(parse_fixed(".5", 2), None);
    }
}
