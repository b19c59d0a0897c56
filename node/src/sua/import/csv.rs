//! Import of procedures from CSV: one row per lot, rows of one procedure consecutive and
//! sharing its `procedure_key`. UTF-8 (a BOM is tolerated), `,` or `;` as separator
//! (detected from the header), a header row naming the columns in any order; names are
//! case-insensitive.
//!
//! | column | | content |
//! |---|---|---|
//! | `procedure_key` | required | the procedure's key in the file's source system; rows with the same key are one procedure; a key already imported is skipped (re-importing a file imports nothing) |
//! | `comune_code` | * | ISTAT code of the Comune of this Province served |
//! | `buyer_cf` | | codice fiscale of the buyer |
//! | `buyer_name` | * | name of the buyer (default "Comune di …"); *either `comune_code` or `buyer_name` is required; a buyer name that is a Comune of this Province is linked to it |
//! | `object` | required | oggetto (at most 500 characters) |
//! | `description` | | longer description |
//! | `contract_type` | required | `works`, `services`, `supplies` (or `goods`; `lavori`, `servizi`, `forniture`) |
//! | `cpv` | required | main CPV code with its check digit (`45233162-2`; without it, it is computed) |
//! | `procedure_code` | required | ANAC "scelta del contraente" code (`1` open, `4`, `24`, `34`…) |
//! | `procedure_label` | | ANAC title; required for codes the node does not know |
//! | `award_criterion` | | `lowest_price`, `best_value`, `fixed_price` or empty (unknown) |
//! | `cup` | | CUP, 15 characters |
//! | `pnrr` | | `true`/`false` (also `1`/`0`, `si`/`no`); empty is false |
//! | `funding_source` | | text |
//! | `estimated_amount` | | euro (`150000.00`, `150.000,00`); empty is the sum of the lots |
//! | `requested_on` | * | date of the Comune's request, `YYYY-MM-DD` (or `DD/MM/YYYY`) |
//! | `published_on` | * | publication date; *one of the two dates is required: the first present gives the year |
//! | `deadline_on` | | deadline for bids |
//! | `state` | | a state of the workflow (`published`, `awarded`, `contract_signed`, `completed`…); empty: `contract_signed` when every awarded lot has a contract date, `awarded` when a lot is awarded, else `published` |
//! | `anac_gara` | | ANAC numero gara (the OCDS export then uses `ocds-hu01ve-<numero>`) |
//! | `completed_on` | | completion date |
//! | `cig` | required | CIG of the lot (10 characters), unique in the node |
//! | `lot_description` | | default: the object |
//! | `lot_cpv` | | the lot's own CPV code |
//! | `lot_amount` | required | base amount of the lot, euro |
//! | `bids_count` | | bids received |
//! | `supplier_name` | | awardee (members of a raggruppamento joined by `; `) |
//! | `supplier_cf` | | awardee's codice fiscale / partita IVA (joined by `; ` likewise) |
//! | `award_amount` | | awarded amount, euro |
//! | `ribasso` | | percentage with up to three decimals; empty: computed from the amounts |
//! | `awarded_on` | | award date |
//! | `contract_signed_on` | | contract date |
//!
//! Procedure columns (`procedure_key` to `completed_on`) may be left empty on a
//! procedure's second and later rows; when given they must repeat the first row's value.
//! Any bad row refuses the whole file: every problem is reported with its line and column
//! (the first 100; the count covers all), and nothing is imported.
//!
//! The file is streamed: rows are checked on one thread and written, one procedure at a time,
//! on another inside the import's transaction, which is rolled back if any row was bad, so
//! memory does not grow with the file.

use std::io::{BufRead, Read};

use super::{
    Buyers, ImportError, ImportedRecord, KeyStatus, RowError, SkippedRecord, Writer, cf_shaped,
    day_start, iso_day, parse_day,
};
use crate::sua::db::data::{NewLot, NewProcedure};
use crate::sua::{
    AwardCriterion, Cig, ContractType, Cpv, Cup, Euro, OBJECT_MAX, Ribasso, State, procedure_label,
};

/// The message of an empty required cell (the problem names the column).
const REQUIRED_MESSAGE: &str = "obbligatorio: la cella è vuota";

/// Problems listed at most (the count covers all).
pub const MAX_ERRORS: usize = 100;

/// The columns, in the documented order.
pub const COLUMNS: [&str; 32] = [
    "procedure_key",
    "comune_code",
    "buyer_cf",
    "buyer_name",
    "object",
    "description",
    "contract_type",
    "cpv",
    "procedure_code",
    "procedure_label",
    "award_criterion",
    "cup",
    "pnrr",
    "funding_source",
    "estimated_amount",
    "requested_on",
    "published_on",
    "deadline_on",
    "state",
    "anac_gara",
    "completed_on",
    "cig",
    "lot_description",
    "lot_cpv",
    "lot_amount",
    "bids_count",
    "supplier_name",
    "supplier_cf",
    "award_amount",
    "ribasso",
    "awarded_on",
    "contract_signed_on",
];

const KEY: usize = 0;
const COMUNE: usize = 1;
const BUYER_CF: usize = 2;
const BUYER_NAME: usize = 3;
const OBJECT: usize = 4;
const DESCRIPTION: usize = 5;
const CONTRACT_TYPE: usize = 6;
const CPV: usize = 7;
const PROCEDURE_CODE: usize = 8;
const PROCEDURE_LABEL: usize = 9;
const CRITERION: usize = 10;
const CUP: usize = 11;
const PNRR: usize = 12;
const FUNDING: usize = 13;
const ESTIMATED: usize = 14;
const REQUESTED_ON: usize = 15;
const PUBLISHED_ON: usize = 16;
const DEADLINE_ON: usize = 17;
const STATE: usize = 18;
const ANAC_GARA: usize = 19;
const COMPLETED_ON: usize = 20;
/// Columns before this one describe the procedure; from it on, the lot.
const FIRST_LOT_COLUMN: usize = 21;
const CIG: usize = 21;
const LOT_DESCRIPTION: usize = 22;
const LOT_CPV: usize = 23;
const LOT_AMOUNT: usize = 24;
const BIDS: usize = 25;
const SUPPLIER_NAME: usize = 26;
const SUPPLIER_CF: usize = 27;
const AWARD_AMOUNT: usize = 28;
const RIBASSO: usize = 29;
const AWARDED_ON: usize = 30;
const CONTRACT_SIGNED_ON: usize = 31;

const REQUIRED: [usize; 7] = [
    KEY,
    OBJECT,
    CONTRACT_TYPE,
    CPV,
    PROCEDURE_CODE,
    CIG,
    LOT_AMOUNT,
];

/// The problems found so far.
#[derive(Debug, Default)]
struct Problems {
    listed: Vec<RowError>,
    count: u64,
}

impl Problems {
    fn push(&mut self, line: u64, field: Option<usize>, message: impl Into<String>) {
        self.add(row_error(line, field, message));
    }

    fn add(&mut self, error: RowError) {
        self.count += 1;
        if self.listed.len() < MAX_ERRORS {
            self.listed.push(error);
        }
    }
}

fn row_error(line: u64, field: Option<usize>, message: impl Into<String>) -> RowError {
    RowError {
        line,
        field: field.map(|i| COLUMNS[i].to_owned()),
        message: message.into(),
    }
}

/// Groups of rows handed from the reading thread to the writing one at a time.
const GROUPS_PER_HANDOVER: usize = 256;

/// Handovers the reading thread may be ahead of the writing one.
const HANDOVERS_AHEAD: usize = 4;

/// Which key statuses a problem of a group's rows counts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Always: the row itself is broken, or disagrees with the procedure's first row.
    Always,
    /// Unless the procedure was imported before (its lots are not read again).
    UnlessImported,
    /// Only when the procedure is new (its procedure cells are read only then).
    OnlyNew,
}

/// A problem found on a row, waiting for its procedure's key status.
#[derive(Debug)]
struct Found {
    scope: Scope,
    error: RowError,
}

/// The rows of one procedure (consecutive in the file), read and checked.
#[derive(Debug)]
struct Group {
    key: String,
    line: u64,
    /// The first row's procedure cells, to compare later rows with.
    cells: Vec<String>,
    /// `None` when the procedure cells were bad.
    procedure: Option<NewProcedure>,
    explicit_state: bool,
    lots: Vec<(u64, NewLot)>,
    /// The problems of its rows, in file order.
    found: Vec<Found>,
}

impl Group {
    fn push(&mut self, scope: Scope, line: u64, field: Option<usize>, message: impl Into<String>) {
        self.found.push(Found {
            scope,
            error: row_error(line, field, message),
        });
    }

    /// Keeps the problems `checked` found on one of its rows.
    fn keep(&mut self, scope: Scope, checked: Problems) {
        self.found.extend(
            checked
                .listed
                .into_iter()
                .map(|error| Found { scope, error }),
        );
    }

    /// Completes the procedure for the writing thread. The first row's cells are freed
    /// here: what one thread allocates costs another more to free.
    fn hand_over(mut self) -> Handover {
        self.complete();
        self.cells = Vec::new();
        Handover::Group(Box::new(self))
    }

    /// Fills in what the rows leave to be derived: lot descriptions, the estimated amount,
    /// the state and the award and contract dates.
    fn complete(&mut self) {
        let Some(procedure) = self.procedure.as_mut() else {
            return;
        };
        for (_, lot) in &mut self.lots {
            if lot.description.is_empty() {
                lot.description.clone_from(&procedure.object);
            }
        }
        if procedure.estimated_cents < 0 {
            procedure.estimated_cents = self.lots.iter().map(|(_, l)| l.amount_cents).sum();
        }
        let awarded: Vec<&NewLot> = self
            .lots
            .iter()
            .map(|(_, l)| l)
            .filter(|l| l.status == "awarded")
            .collect();
        let all_signed = awarded.iter().all(|l| l.contract_signed_on.is_some());
        if !self.explicit_state {
            procedure.state = Some(if awarded.is_empty() {
                State::Published
            } else if all_signed {
                State::ContractSigned
            } else {
                State::Awarded
            });
        }
        procedure.awarded_on = awarded.iter().filter_map(|l| l.awarded_on.clone()).min();
        if all_signed {
            procedure.contract_signed_on = awarded
                .iter()
                .filter_map(|l| l.contract_signed_on.clone())
                .max();
        }
    }
}

/// What the reading thread hands over, in file order.
#[derive(Debug)]
enum Handover {
    /// A problem outside any procedure (before the first one).
    Problem(u64, Option<usize>, String),
    /// A procedure's rows.
    Group(Box<Group>),
}

/// Reads `input` and imports its procedures; any bad row refuses the file.
///
/// Two threads share the work: a second thread reads and checks the rows while this one,
/// which holds the transaction, writes the procedures as they come (in file order, a few
/// hundred at a time through a bounded channel, so memory stays flat). Checking a row costs
/// about a third of writing it, so the import runs at the speed of its writes.
pub(crate) fn import(
    writer: &mut Writer<'_>,
    input: &mut (impl Read + Send),
) -> Result<(), ImportError> {
    let rows = Rows::open(input, writer.buyers())?;
    let mut problems = Problems::default();
    let read = std::thread::scope(|scope| {
        let (hand, take) = std::sync::mpsc::sync_channel(HANDOVERS_AHEAD);
        let reading = scope.spawn(move || rows.read_all(&hand));
        for items in take {
            for item in items {
                match item {
                    Handover::Problem(line, field, message) => problems.push(line, field, message),
                    Handover::Group(group) => take_group(writer, *group, &mut problems)?,
                }
            }
        }
        reading
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })?;
    if read == 0 && problems.count == 0 {
        return Err(ImportError::Malformed(
            "il file ha la riga di intestazione ma nessuna riga di dati".to_owned(),
        ));
    }
    if problems.count > 0 {
        return Err(ImportError::Rows {
            errors: problems.listed,
            count: problems.count,
        });
    }
    Ok(())
}

/// The reading side: the CSV reader past its header, and the Comuni buyers are matched to.
struct Rows<'i, R: Read> {
    reader: ::csv::Reader<std::io::BufReader<&'i mut R>>,
    positions: [Option<usize>; COLUMNS.len()],
    columns: usize,
    buyers: Buyers,
}

impl<'i, R: Read> Rows<'i, R> {
    /// Reads and checks the header.
    fn open(input: &'i mut R, buyers: Buyers) -> Result<Rows<'i, R>, ImportError> {
        let mut input = std::io::BufReader::with_capacity(64 * 1024, input);
        let head = input.fill_buf()?;
        let bom = head.starts_with(b"\xEF\xBB\xBF");
        let head = if bom { &head[3..] } else { head };
        if head.iter().all(u8::is_ascii_whitespace) {
            return Err(ImportError::Malformed(
                "il file è vuoto: la prima riga deve elencare i nomi delle colonne".to_owned(),
            ));
        }
        let first_line = head.split(|&b| b == b'\n').next().unwrap_or_default();
        let count = |sep: u8| first_line.iter().filter(|&&b| b == sep).count();
        let separator = if count(b';') > count(b',') {
            b';'
        } else {
            b','
        };
        if bom {
            input.consume(3);
        }
        let mut reader = ::csv::ReaderBuilder::new()
            .delimiter(separator)
            .has_headers(true)
            .flexible(true)
            .from_reader(input);
        let header = reader
            .headers()
            .map_err(|err| {
                ImportError::Malformed(format!("riga 1: l'intestazione non si può leggere: {err}"))
            })?
            .clone();
        let mut positions: [Option<usize>; COLUMNS.len()] = [None; COLUMNS.len()];
        let mut problems = Problems::default();
        for (i, name) in header.iter().enumerate() {
            let name = name.trim().to_ascii_lowercase();
            match COLUMNS.iter().position(|c| *c == name) {
                Some(column) if positions[column].is_some() => {
                    problems.push(1, None, format!("la colonna {name:?} compare due volte"));
                }
                Some(column) => positions[column] = Some(i),
                None if name.is_empty() => {}
                None => problems.push(
                    1,
                    None,
                    format!(
                        "la colonna {name:?} non è prevista; le colonne sono: {}",
                        COLUMNS.join(", ")
                    ),
                ),
            }
        }
        for column in REQUIRED {
            if positions[column].is_none() {
                problems.push(
                    1,
                    None,
                    format!("manca la colonna obbligatoria {}", COLUMNS[column]),
                );
            }
        }
        if positions[COMUNE].is_none() && positions[BUYER_NAME].is_none() {
            problems.push(
                1,
                None,
                "serve una colonna comune_code o una colonna buyer_name",
            );
        }
        if positions[REQUESTED_ON].is_none() && positions[PUBLISHED_ON].is_none() {
            problems.push(
                1,
                None,
                "serve una colonna requested_on o una colonna published_on",
            );
        }
        if problems.count > 0 {
            return Err(ImportError::Rows {
                errors: problems.listed,
                count: problems.count,
            });
        }
        Ok(Rows {
            reader,
            positions,
            columns: header.len(),
            buyers,
        })
    }

    /// Reads every row, handing the procedures over as they complete; returns the number of
    /// rows read. Stops early if the writing side is gone (it failed).
    fn read_all(
        mut self,
        hand: &std::sync::mpsc::SyncSender<Vec<Handover>>,
    ) -> Result<u64, ImportError> {
        let mut record = ::csv::StringRecord::new();
        let mut group: Option<Group> = None;
        let mut out: Vec<Handover> = Vec::with_capacity(GROUPS_PER_HANDOVER);
        let mut rows = 0u64;
        // A problem belongs to the procedure being read, if any, so it is listed in order.
        let push = |group: &mut Option<Group>,
                    out: &mut Vec<Handover>,
                    line: u64,
                    field: Option<usize>,
                    message: String| match group {
            Some(g) => g.push(Scope::Always, line, field, message),
            None => out.push(Handover::Problem(line, field, message)),
        };
        loop {
            match self.reader.read_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(err) => {
                    let line = err.position().map_or(0, ::csv::Position::line);
                    let message = match err.kind() {
                        ::csv::ErrorKind::Utf8 { .. } => {
                            "il testo non è UTF-8 valido (salvate il file come CSV UTF-8)"
                                .to_owned()
                        }
                        ::csv::ErrorKind::Io(_) => {
                            return Err(ImportError::Malformed(err.to_string()));
                        }
                        _ => err.to_string(),
                    };
                    push(&mut group, &mut out, line, None, message);
                    continue;
                }
            }
            let line = record.position().map_or(0, ::csv::Position::line);
            if record.iter().all(|cell| cell.trim().is_empty()) {
                continue;
            }
            rows += 1;
            if record.len() != self.columns {
                let message = format!(
                    "{} celle, ma l'intestazione ne ha {}",
                    record.len(),
                    self.columns
                );
                push(&mut group, &mut out, line, None, message);
                continue;
            }
            let positions = &self.positions;
            let cell = |column: usize| -> &str {
                positions[column]
                    .and_then(|i| record.get(i))
                    .map_or("", str::trim)
            };
            let key = cell(KEY);
            if key.is_empty() {
                push(
                    &mut group,
                    &mut out,
                    line,
                    Some(KEY),
                    REQUIRED_MESSAGE.to_owned(),
                );
                continue;
            }
            match group.as_mut() {
                Some(g) if g.key == key => {
                    for column in 0..FIRST_LOT_COLUMN {
                        let (value, first) = (cell(column), &g.cells[column]);
                        if !value.is_empty() && value != first {
                            let message = format!(
                                "{value:?} è diverso da {first:?} della riga {}, la prima della procedura {}",
                                g.line, g.key
                            );
                            g.push(Scope::Always, line, Some(column), message);
                        }
                    }
                }
                _ => {
                    if let Some(done) = group.take() {
                        out.push(done.hand_over());
                        if out.len() >= GROUPS_PER_HANDOVER
                            && hand.send(std::mem::take(&mut out)).is_err()
                        {
                            return Ok(rows);
                        }
                    }
                    let mut next = Group {
                        key: key.to_owned(),
                        line,
                        cells: (0..FIRST_LOT_COLUMN).map(|c| cell(c).to_owned()).collect(),
                        procedure: None,
                        explicit_state: !cell(STATE).is_empty(),
                        lots: Vec::new(),
                        found: Vec::new(),
                    };
                    let mut checked = Problems::default();
                    next.procedure = parse_procedure(&mut self.buyers, &cell, line, &mut checked);
                    next.keep(Scope::OnlyNew, checked);
                    group = Some(next);
                }
            }
            if let Some(g) = group.as_mut() {
                let mut checked = Problems::default();
                if let Some(lot) = parse_lot(&cell, line, g.lots.len() as i64 + 1, &mut checked) {
                    g.lots.push((line, lot));
                }
                g.keep(Scope::UnlessImported, checked);
            }
        }
        if let Some(done) = group.take() {
            out.push(done.hand_over());
        }
        if !out.is_empty() {
            // The writing side being gone means it failed: its error is the one reported.
            let _gone = hand.send(out);
        }
        Ok(rows)
    }
}

/// Takes a procedure's rows on the writing side: lists its problems that count for its
/// key's status, then writes it (or lists it as already imported).
fn take_group(
    writer: &mut Writer<'_>,
    mut group: Group,
    problems: &mut Problems,
) -> Result<(), ImportError> {
    let record = writer.count_record();
    let status = writer.key_status(&group.key)?;
    if matches!(status, KeyStatus::ThisBatch(_)) {
        problems.push(
            group.line,
            Some(KEY),
            format!(
                "la procedura {} compare già in righe precedenti non subito sopra: tenete di seguito le righe di una stessa procedura",
                group.key
            ),
        );
    }
    for found in std::mem::take(&mut group.found) {
        let counts = match found.scope {
            Scope::Always => true,
            Scope::UnlessImported => !matches!(status, KeyStatus::Imported(_)),
            Scope::OnlyNew => status == KeyStatus::New,
        };
        if counts {
            problems.add(found.error);
        }
    }
    writer.doomed |= problems.count > 0;
    match status {
        KeyStatus::Imported(id) => {
            writer.skipped(SkippedRecord {
                record,
                line: Some(group.line),
                key: Some(group.key),
                code: "already_imported",
                reason: format!("già importata (procedura {id})"),
            });
            Ok(())
        }
        KeyStatus::ThisBatch(_) => Ok(()),
        KeyStatus::New => write_group(writer, record, group, problems),
    }
}

fn required<'a>(
    value: &'a str,
    column: usize,
    line: u64,
    problems: &mut Problems,
) -> Option<&'a str> {
    if value.is_empty() {
        problems.push(line, Some(column), REQUIRED_MESSAGE);
        None
    } else {
        Some(value)
    }
}

fn optional_day(
    value: &str,
    column: usize,
    line: u64,
    problems: &mut Problems,
) -> Option<time::Date> {
    if value.is_empty() {
        return None;
    }
    parse_day(value)
        .map_err(|err| problems.push(line, Some(column), err))
        .ok()
}

fn check_cfs(value: &str, column: usize, line: u64, problems: &mut Problems) -> bool {
    let bad = value.split(';').map(str::trim).find(|cf| !cf_shaped(cf));
    match bad {
        Some(cf) => {
            problems.push(
                line,
                Some(column),
                format!(
                    "{cf:?} non è un codice fiscale né una partita IVA (11 cifre o 16 caratteri)"
                ),
            );
            false
        }
        None => true,
    }
}

/// The procedure cells of a group's first row.
fn parse_procedure<'r>(
    buyers: &mut Buyers,
    cell: &impl Fn(usize) -> &'r str,
    line: u64,
    problems: &mut Problems,
) -> Option<NewProcedure> {
    let before = problems.count;
    let mut procedure = NewProcedure {
        external_key: cell(KEY).to_owned(),
        ..NewProcedure::default()
    };
    let comune = cell(COMUNE);
    if !comune.is_empty() {
        match buyers.comune_name(comune) {
            Some(name) => {
                procedure.comune_code = Some(comune.to_owned());
                procedure.buyer_name = format!("Comune di {name}");
            }
            None => problems.push(
                line,
                Some(COMUNE),
                format!("{comune:?} non è il codice ISTAT di un Comune di questa Provincia"),
            ),
        }
    }
    let buyer_cf = cell(BUYER_CF);
    if !buyer_cf.is_empty() && check_cfs(buyer_cf, BUYER_CF, line, problems) {
        procedure.buyer_cf = buyer_cf.to_ascii_uppercase();
    }
    let buyer_name = cell(BUYER_NAME);
    if !buyer_name.is_empty() {
        buyer_name.clone_into(&mut procedure.buyer_name);
    }
    if comune.is_empty() {
        if buyer_name.is_empty() {
            problems.push(
                line,
                Some(COMUNE),
                "indicate il comune_code, oppure il buyer_name di un ente che non è un Comune",
            );
        } else {
            procedure.comune_code = buyers.find(&procedure.buyer_cf, buyer_name);
        }
    }
    if let Some(object) = required(cell(OBJECT), OBJECT, line, problems) {
        if object.chars().count() > OBJECT_MAX {
            problems.push(
                line,
                Some(OBJECT),
                format!("al massimo {OBJECT_MAX} caratteri; il resto va nella colonna description"),
            );
        }
        object.clone_into(&mut procedure.object);
    }
    cell(DESCRIPTION).clone_into(&mut procedure.description);
    if let Some(kind) = required(cell(CONTRACT_TYPE), CONTRACT_TYPE, line, problems) {
        let parsed = match kind.to_ascii_lowercase().as_str() {
            "lavori" => Some(ContractType::Works),
            "servizi" => Some(ContractType::Services),
            "forniture" => Some(ContractType::Supplies),
            other => ContractType::parse(other),
        };
        match parsed {
            Some(kind) => procedure.contract_type = kind.as_str(),
            None => problems.push(
                line,
                Some(CONTRACT_TYPE),
                format!(
                    "{kind:?}: usate works, services o supplies (oppure lavori, servizi, forniture)"
                ),
            ),
        }
    }
    if let Some(cpv) = required(cell(CPV), CPV, line, problems) {
        match Cpv::parse(cpv) {
            Ok(cpv) => procedure.cpv_main = cpv.as_str().to_owned(),
            Err(err) => problems.push(line, Some(CPV), err),
        }
    }
    procedure.cpv_other = "[]".to_owned();
    if let Some(code) = required(cell(PROCEDURE_CODE), PROCEDURE_CODE, line, problems) {
        match code.parse::<u16>() {
            Ok(code) if code > 0 => {
                procedure.procedure_code = i64::from(code);
                let label = cell(PROCEDURE_LABEL);
                match (label.is_empty(), procedure_label(code)) {
                    (false, _) => label.clone_into(&mut procedure.procedure_label),
                    (true, Some(known)) => known.clone_into(&mut procedure.procedure_label),
                    (true, None) => problems.push(
                        line,
                        Some(PROCEDURE_LABEL),
                        format!(
                            "il procedure_code {code} non è tra quelli che il nodo conosce: indicatene la denominazione ANAC in procedure_label"
                        ),
                    ),
                }
            }
            _ => problems.push(
                line,
                Some(PROCEDURE_CODE),
                format!("{code:?} non è un codice ANAC di scelta del contraente (un numero come 1, 4, 24, 34)"),
            ),
        }
    }
    let criterion = cell(CRITERION);
    procedure.award_criterion = if criterion.is_empty() {
        AwardCriterion::Unknown.as_str()
    } else {
        match AwardCriterion::parse(&criterion.to_ascii_lowercase()) {
            Some(c) => c.as_str(),
            None => {
                problems.push(
                    line,
                    Some(CRITERION),
                    format!(
                        "{criterion:?}: usate lowest_price, best_value, fixed_price o lasciate la cella vuota"
                    ),
                );
                AwardCriterion::Unknown.as_str()
            }
        }
    };
    let cup = cell(CUP);
    if !cup.is_empty() {
        match Cup::parse(cup) {
            Ok(cup) => procedure.cup = Some(cup.as_str().to_owned()),
            Err(err) => problems.push(line, Some(CUP), err),
        }
    }
    procedure.pnrr = match cell(PNRR).to_ascii_lowercase().as_str() {
        "" | "0" | "false" | "no" | "n" => false,
        "1" | "true" | "si" | "sì" | "yes" | "y" | "s" => true,
        other => {
            problems.push(
                line,
                Some(PNRR),
                format!("{other:?}: usate true o false (oppure sì/no, 1/0)"),
            );
            false
        }
    };
    cell(FUNDING).clone_into(&mut procedure.funding_source);
    let estimated = cell(ESTIMATED);
    if !estimated.is_empty() {
        match Euro::parse(estimated) {
            Ok(amount) => procedure.estimated_cents = amount.cents(),
            Err(err) => problems.push(line, Some(ESTIMATED), err),
        }
    } else {
        procedure.estimated_cents = -1;
    }
    let requested = optional_day(cell(REQUESTED_ON), REQUESTED_ON, line, problems);
    let published = optional_day(cell(PUBLISHED_ON), PUBLISHED_ON, line, problems);
    procedure.published_on = published.map(iso_day);
    procedure.deadline_on =
        optional_day(cell(DEADLINE_ON), DEADLINE_ON, line, problems).map(iso_day);
    procedure.completed_on =
        optional_day(cell(COMPLETED_ON), COMPLETED_ON, line, problems).map(iso_day);
    match requested.or(published) {
        Some(day) => {
            procedure.requested_at = day_start(day);
            procedure.year = day.year();
        }
        None if cell(REQUESTED_ON).is_empty() && cell(PUBLISHED_ON).is_empty() => problems.push(
            line,
            Some(REQUESTED_ON),
            "indicate requested_on o published_on: l'anno della procedura si ricava da lì",
        ),
        None => {}
    }
    let state = cell(STATE);
    if !state.is_empty() {
        match State::parse(&state.to_ascii_lowercase()) {
            Some(state) => procedure.state = Some(state),
            None => problems.push(
                line,
                Some(STATE),
                format!(
                    "{state:?} non è uno stato; usate uno di questi: {}",
                    State::ALL.map(State::as_str).join(", ")
                ),
            ),
        }
    }
    let gara = cell(ANAC_GARA);
    if !gara.is_empty() {
        if gara.bytes().all(|b| b.is_ascii_digit()) && gara.len() <= 12 {
            procedure.anac_gara = Some(gara.to_owned());
        } else {
            problems.push(
                line,
                Some(ANAC_GARA),
                format!("{gara:?} non è un numero gara ANAC (solo cifre, al massimo 12)"),
            );
        }
    }
    (problems.count == before).then_some(procedure)
}

/// The lot cells of a row.
fn parse_lot<'r>(
    cell: &impl Fn(usize) -> &'r str,
    line: u64,
    lot_no: i64,
    problems: &mut Problems,
) -> Option<NewLot> {
    let before = problems.count;
    let mut lot = NewLot {
        lot_no,
        status: "active",
        ..NewLot::default()
    };
    if let Some(cig) = required(cell(CIG), CIG, line, problems) {
        match Cig::parse(cig) {
            Ok(cig) => lot.cig = Some(cig.as_str().to_owned()),
            Err(err) => problems.push(line, Some(CIG), err),
        }
    }
    cell(LOT_DESCRIPTION).clone_into(&mut lot.description);
    let cpv = cell(LOT_CPV);
    if !cpv.is_empty() {
        match Cpv::parse(cpv) {
            Ok(cpv) => lot.cpv = Some(cpv.as_str().to_owned()),
            Err(err) => problems.push(line, Some(LOT_CPV), err),
        }
    }
    if let Some(amount) = required(cell(LOT_AMOUNT), LOT_AMOUNT, line, problems) {
        match Euro::parse(amount) {
            Ok(amount) => lot.amount_cents = amount.cents(),
            Err(err) => problems.push(line, Some(LOT_AMOUNT), err),
        }
    }
    let bids = cell(BIDS);
    if !bids.is_empty() {
        match bids.parse::<u32>() {
            Ok(n) => lot.bids_count = Some(i64::from(n)),
            Err(_) => problems.push(
                line,
                Some(BIDS),
                format!("{bids:?} non è un numero di offerte (un numero intero, come 3)"),
            ),
        }
    }
    let supplier = cell(SUPPLIER_NAME);
    if !supplier.is_empty() {
        lot.supplier_name = Some(supplier.to_owned());
    }
    let supplier_cf = cell(SUPPLIER_CF);
    if !supplier_cf.is_empty() && check_cfs(supplier_cf, SUPPLIER_CF, line, problems) {
        lot.supplier_cf = Some(supplier_cf.to_ascii_uppercase());
    }
    let award = cell(AWARD_AMOUNT);
    if !award.is_empty() {
        match Euro::parse(award) {
            Ok(amount) => lot.award_cents = Some(amount.cents()),
            Err(err) => problems.push(line, Some(AWARD_AMOUNT), err),
        }
    }
    let ribasso = cell(RIBASSO);
    if ribasso.is_empty() {
        lot.ribasso_milli = lot
            .award_cents
            .and_then(|a| Ribasso::between(Euro(lot.amount_cents), Euro(a)))
            .map(|r| r.0);
    } else {
        match Ribasso::parse(ribasso) {
            Ok(r) => lot.ribasso_milli = Some(r.0),
            Err(err) => problems.push(line, Some(RIBASSO), err),
        }
    }
    lot.awarded_on = optional_day(cell(AWARDED_ON), AWARDED_ON, line, problems).map(iso_day);
    lot.contract_signed_on =
        optional_day(cell(CONTRACT_SIGNED_ON), CONTRACT_SIGNED_ON, line, problems).map(iso_day);
    if lot.supplier_name.is_none()
        && (lot.award_cents.is_some() || lot.supplier_cf.is_some() || lot.awarded_on.is_some())
    {
        problems.push(
            line,
            Some(SUPPLIER_NAME),
            "un'aggiudicazione (importo, data o codice fiscale) richiede il nome dell'aggiudicatario in supplier_name",
        );
    }
    if lot.supplier_name.is_some() {
        lot.status = "awarded";
    }
    (problems.count == before).then_some(lot)
}

/// Writes a new procedure once all its rows are read and completed.
fn write_group(
    writer: &mut Writer<'_>,
    record: u64,
    group: Group,
    problems: &mut Problems,
) -> Result<(), ImportError> {
    let (Some(procedure), false) = (group.procedure, group.lots.is_empty()) else {
        // Its procedure cells were bad, or every row of it was (reported).
        return Ok(());
    };
    let lots = group.lots;
    let awards = lots.iter().filter(|(_, l)| l.status == "awarded").count() as u64;
    let id = writer.insert_procedure(&procedure)?;
    for (line, lot) in &lots {
        if let Some(owner) = writer.insert_lot(id, lot)? {
            let cig = lot.cig.as_deref().unwrap_or_default();
            let message = if owner == id {
                format!(
                    "il CIG {cig} compare due volte nella procedura {}",
                    group.key
                )
            } else if crate::sua::db::data::import_batch_of(writer.conn(), owner)?
                == Some(writer.batch())
            {
                format!(
                    "il CIG {cig} compare in una riga precedente del file, in un'altra procedura"
                )
            } else {
                format!("il CIG {cig} appartiene già alla procedura {owner} di questo nodo")
            };
            problems.push(*line, Some(CIG), message);
        }
    }
    writer.imported(ImportedRecord {
        record,
        line: Some(group.line),
        key: group.key,
        procedure_id: id,
        state: procedure.state.unwrap_or(State::Published),
        lots: lots.len() as u64,
        awards,
        comune_code: procedure.comune_code,
        buyer_name: procedure.buyer_name,
        buyer_cf: procedure.buyer_cf,
    });
    Ok(())
}
