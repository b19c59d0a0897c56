//! Bulk import of existing procedures into the SUA tables, from ANAC OCDS compiled releases
//! ([`ocds`]) or from a CSV file with one row per lot ([`csv`]).
//!
//! An import is one SQLite transaction (`BEGIN IMMEDIATE`): either the whole file is taken
//! or nothing is. It runs while the node serves, but holds the write lock throughout: the
//! node's reads go on, its writes wait (up to the busy timeout) for the import to finish.
//! Each import is recorded once, as a batch (`sua_import_batches`) with its [`ImportReport`]:
//! an imported procedure's history starts from its batch (`sua::db::transitions`).
//! `sua::national::refresh_procedures` is called in the same transaction so the national
//! `appalti` dataset never disagrees with the procedures.
//!
//! Re-importing the same file imports nothing: each record carries the key that identifies
//! it in its source (the ocid of a release, the `procedure_key` of a CSV procedure), unique
//! per source, and a record whose key is already in the node is reported as skipped.
//!
//! The two formats differ on bad records. ANAC files are other people's data with known
//! quirks: a release that cannot become a procedure (no lots, a lot id that is not a CIG…)
//! is skipped with its reason and the rest is imported. A CSV file is prepared by the
//! Province for this import: any bad row refuses the whole file, with every problem listed
//! by line and field.
//!
//! Buyers are matched to the Comuni of this Province: by codice fiscale when an earlier
//! procedure already linked that codice fiscale to a Comune, otherwise by name
//! (`COMUNE DI BERGAMO` is the Comune "Bergamo"; case, accents and apostrophes do not
//! matter). Buyers that are not Comuni of this Province (other Provinces' Comuni, ASL,
//! Regioni, Unioni di Comuni…) are kept with their name and codice fiscale and no Comune,
//! and the report says so.

pub mod csv;
pub mod ocds;

use std::collections::BTreeMap;
use std::io::Read;

use rusqlite::{Connection, TransactionBehavior};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::db::audit::{self, Actor};
use crate::error::AppError;
use crate::federation::Signer;
use crate::sua::day::Day;
use crate::sua::db::data::{self as store, NewLot, NewProcedure};

/// Items listed in each list of a report; the counts cover everything.
pub const MAX_LISTED: usize = 1000;

/// Procedures handed to `refresh_procedures` at a time, so memory stays bounded on big files.
const REFRESH_CHUNK: usize = 10_000;

/// SQLite page cache of the importing connection while it imports, in KiB (the default is
/// 2 MiB). A bulk import writes into eight indexes at once; with the default cache their
/// pages are written out to the WAL and read back again and again: for a million lots the
/// kernel time fell from 4.5 s to 1.4 s with 64 MiB (`benches/sua_import.rs`, which gives
/// the plain insert it is compared with the same cache). Given back when the import ends.
pub const IMPORT_CACHE_KIB: i64 = 64 * 1024;

/// The formats an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ImportFormat {
    /// OCDS releases: a release package, a record package, a JSON array of releases, one
    /// release, or JSON Lines (one release or package per line, as ANAC's bulk files).
    Ocds,
    /// CSV, one row per lot (see [`csv`]).
    Csv,
}

impl ImportFormat {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportFormat::Ocds => "ocds",
            ImportFormat::Csv => "csv",
        }
    }

    /// The `sua_procedures.source` of what it imports.
    pub fn source(self) -> &'static str {
        match self {
            ImportFormat::Ocds => "import_ocds",
            ImportFormat::Csv => "import_csv",
        }
    }

    /// Parses the wire name.
    pub fn parse(text: &str) -> Option<ImportFormat> {
        match text.trim().to_ascii_lowercase().as_str() {
            "ocds" | "json" | "jsonl" => Some(ImportFormat::Ocds),
            "csv" => Some(ImportFormat::Csv),
            _ => None,
        }
    }

    /// Guesses the format from the file name, then from the first non-blank byte
    /// (`{` or `[` is JSON).
    pub fn detect(filename: &str, head: &[u8]) -> ImportFormat {
        let lower = filename.to_ascii_lowercase();
        if lower.ends_with(".json") || lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
            return ImportFormat::Ocds;
        }
        if lower.ends_with(".csv") {
            return ImportFormat::Csv;
        }
        let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
        match head.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{' | b'[') => ImportFormat::Ocds,
            _ => ImportFormat::Csv,
        }
    }
}

/// Why an import was refused. Nothing was written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The file cannot be read in its format (JSON syntax, CSV header…).
    #[error("{0}")]
    Malformed(String),
    /// CSV rows with problems, each with its line and field.
    #[error("{} problemi nel file, non è stato importato nulla: {}", .count, .errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Rows {
        /// The first problems, in file order.
        errors: Vec<RowError>,
        /// All problems (more than listed when there are many).
        count: u64,
    },
    /// Reading the file failed.
    #[error("il file non si può leggere: {0}")]
    Io(#[from] std::io::Error),
    /// Database failure.
    #[error("errore del database: {0}")]
    Db(#[from] rusqlite::Error),
    /// The national dataset could not be brought in line.
    #[error("{0}")]
    National(AppError),
}

/// One problem of a CSV row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RowError {
    /// Line in the file (the header is line 1).
    pub line: u64,
    /// The column, when the problem is one cell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What is wrong, for a person to read.
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "riga {}, colonna {field}: {}", self.line, self.message),
            None => write!(f, "riga {}: {}", self.line, self.message),
        }
    }
}

/// The counts of an import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportCounts {
    /// Records read: releases (OCDS) or procedures (CSV, rows grouped by `procedure_key`).
    pub records: u64,
    /// Procedures imported.
    pub imported: u64,
    /// Records skipped (see `skipped` for the reasons).
    pub skipped: u64,
    /// Lots imported.
    pub lots: u64,
    /// Lots imported with an award.
    pub awards: u64,
    /// Lots imported with a signed contract.
    pub contracts: u64,
    /// Imported procedures linked to a Comune of this Province.
    pub linked_to_comune: u64,
    /// Imported procedures whose buyer is not a Comune of this Province (kept with the
    /// buyer's name and codice fiscale, no Comune).
    pub other_buyers: u64,
    /// Warnings (see `warnings`).
    pub warnings: u64,
}

/// One imported procedure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportedRecord {
    /// Ordinal of the record in the file, from 1.
    pub record: u64,
    /// Line in the file (CSV: the procedure's first row; JSON Lines: its line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The source key (ocid or CSV `procedure_key`).
    pub key: String,
    /// The new procedure's id.
    pub procedure_id: i64,
    /// State given to it.
    pub state: crate::sua::State,
    /// Lots imported.
    pub lots: u64,
    /// Lots with an award.
    pub awards: u64,
    /// The Comune it serves, or null when the buyer is not a Comune of this Province.
    pub comune_code: Option<String>,
    /// The buyer as the file names it.
    pub buyer_name: String,
    /// The buyer's codice fiscale, if given.
    pub buyer_cf: String,
}

/// One skipped record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SkippedRecord {
    /// Ordinal of the record in the file, from 1.
    pub record: u64,
    /// Line in the file, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The source key, when the record has one.
    pub key: Option<String>,
    /// Stable reason code: `already_imported`, `already_in_node`, `duplicate_in_file`,
    /// `no_lots`, `invalid_cig`, `cig_in_use`, `no_cpv`, `no_buyer`, `no_object`, `no_date`,
    /// `not_eur` (amounts in another currency), `bad_amount`, `not_a_release`.
    pub code: &'static str,
    /// Why, for a person to read.
    pub reason: String,
}

/// One warning: the record was imported, but something was repaired or left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportWarning {
    /// Ordinal of the record in the file, from 1.
    pub record: u64,
    /// Line in the file, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The source key.
    pub key: String,
    /// What happened.
    pub message: String,
}

/// The outcome of an import, returned by the API, printed by the CLI and stored with the
/// batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// The batch id (`sua_import_batches`).
    pub batch: i64,
    /// `ocds` or `csv`.
    pub format: String,
    /// The file name given.
    pub filename: String,
    /// SHA-256 of the file.
    pub sha256: String,
    /// Counts.
    pub counts: ImportCounts,
    /// Imported procedures (the first 1000).
    pub imported: Vec<ImportedRecord>,
    /// Skipped records with their reason (the first 1000).
    pub skipped: Vec<SkippedRecord>,
    /// Warnings (the first 1000).
    pub warnings: Vec<ImportWarning>,
    /// Items left out of the three lists above because they were full.
    pub omitted: u64,
}

impl ImportReport {
    /// The report as text for a person (the CLI's output).
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let c = &self.counts;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Importazione di {} ({}, importazione n. {}): {} record letti, {} procedure importate ({} lotti, {} aggiudicati, {} con contratto stipulato), {} saltati, {} avvisi.",
            self.filename,
            self.format,
            self.batch,
            c.records,
            c.imported,
            c.lots,
            c.awards,
            c.contracts,
            c.skipped,
            c.warnings
        );
        let _ = writeln!(
            out,
            "  Collegate a un Comune di questa Provincia: {}; altri enti (conservate senza Comune): {}.",
            c.linked_to_comune, c.other_buyers
        );
        if !self.imported.is_empty() {
            let _ = writeln!(out, "Importate:");
            for r in &self.imported {
                let whom = match &r.comune_code {
                    Some(code) => format!("Comune {code}"),
                    None => "non è un Comune di questa Provincia".to_owned(),
                };
                let _ = writeln!(
                    out,
                    "  {} -> procedura {} ({}, {} lotti, {} aggiudicati), ente {} [{}]",
                    r.key,
                    r.procedure_id,
                    r.state.label(),
                    r.lots,
                    r.awards,
                    r.buyer_name,
                    whom
                );
            }
        }
        if !self.skipped.is_empty() {
            let _ = writeln!(out, "Saltati:");
            for s in &self.skipped {
                let _ = writeln!(
                    out,
                    "  {}{}: {}",
                    s.key.as_deref().unwrap_or("(senza chiave)"),
                    s.line.map(|l| format!(" (riga {l})")).unwrap_or_default(),
                    s.reason
                );
            }
        }
        if !self.warnings.is_empty() {
            let _ = writeln!(out, "Avvisi:");
            for w in &self.warnings {
                let _ = writeln!(out, "  {}: {}", w.key, w.message);
            }
        }
        if self.omitted > 0 {
            let _ = writeln!(
                out,
                "(altri {} elementi non elencati; i conteggi qui sopra li comprendono tutti)",
                self.omitted
            );
        }
        out
    }
}

/// A reader that hashes what passes through it (the file's SHA-256 for the batch row),
/// so files are streamed rather than held whole.
#[derive(Debug)]
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> HashingReader<R> {
        HashingReader {
            inner,
            hasher: Sha256::new(),
        }
    }

    /// The hex SHA-256 of everything read so far.
    pub fn hex(&self) -> String {
        hex::encode(self.hasher.clone().finalize())
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Imports `input` in one transaction, recording the batch and an audit event. Returns the
/// report; on any error nothing is written.
pub fn import(
    conn: &mut Connection,
    signer: &Signer,
    actor: &Actor,
    format: ImportFormat,
    filename: &str,
    input: impl Read + Send,
) -> Result<ImportReport, ImportError> {
    let cache = store::cache_size(conn)?;
    store::set_cache_size(conn, -IMPORT_CACHE_KIB)?;
    let imported = import_in_transaction(conn, signer, actor, format, filename, input);
    store::set_cache_size(conn, cache)?;
    imported
}

fn import_in_transaction(
    conn: &mut Connection,
    signer: &Signer,
    actor: &Actor,
    format: ImportFormat,
    filename: &str,
    input: impl Read + Send,
) -> Result<ImportReport, ImportError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let now = crate::db::now();
    let batch = store::insert_batch(&tx, format.as_str(), filename, "", &actor.label, now)?;
    let mut input = HashingReader::new(std::io::BufReader::with_capacity(256 * 1024, input));
    let mut writer = Writer::new(&tx, signer, format, batch, &actor.label, now)?;
    match format {
        ImportFormat::Ocds => ocds::import(&mut writer, &mut input)?,
        ImportFormat::Csv => csv::import(&mut writer, &mut input)?,
    }
    // Whatever the parser left unread (trailing bytes) still belongs to the file's hash.
    std::io::copy(&mut input, &mut std::io::sink())?;
    writer.flush_refresh()?;
    let mut report = writer.finish();
    report.batch = batch;
    report.format = format.as_str().to_owned();
    report.filename = filename.to_owned();
    report.sha256 = input.hex();
    let text = serde_json::to_string(&report).map_err(|e| ImportError::Malformed(e.to_string()))?;
    store::finish_batch(
        &tx,
        batch,
        &report.sha256,
        report.counts.imported,
        report.counts.skipped,
        &text,
    )?;
    audit::record(
        &tx,
        actor,
        "sua.import",
        &format!("sua_import_batch:{batch}"),
        &json!({
            "format": format.as_str(),
            "sha256": report.sha256,
            "imported": report.counts.imported,
            "skipped": report.counts.skipped,
        }),
        now,
    )?;
    tx.commit()?;
    Ok(report)
}

/// Writes imported procedures and builds the report; shared by both formats.
pub(crate) struct Writer<'c> {
    conn: &'c Connection,
    statements: store::ImportStatements<'c>,
    signer: &'c Signer,
    format: ImportFormat,
    batch: i64,
    actor: String,
    now: i64,
    buyers: Buyers,
    to_refresh: Vec<i64>,
    /// Set once the file is known to be refused (a bad row): the rest is still read and
    /// written, to report every problem, but the national refresh would be wasted work.
    doomed: bool,
    /// Numero gara → procedure, read on first use (OCDS imports only).
    garas: Option<BTreeMap<String, i64>>,
    report: ImportReport,
}

impl std::fmt::Debug for Writer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("batch", &self.batch)
            .finish()
    }
}

/// What became of a record's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyStatus {
    /// Not in the node.
    New,
    /// Imported by an earlier import.
    Imported(i64),
    /// Already written by this import (the key appears twice in the file).
    ThisBatch(i64),
}

impl<'c> Writer<'c> {
    fn new(
        conn: &'c Connection,
        signer: &'c Signer,
        format: ImportFormat,
        batch: i64,
        actor: &str,
        now: i64,
    ) -> Result<Writer<'c>, ImportError> {
        let names = store::comuni_names(conn)?;
        let buyers = Buyers {
            comuni: names
                .iter()
                .map(|(code, name, _, _)| (code.clone(), name.clone()))
                .collect(),
            matcher: BuyerMatcher::new(&names, store::known_buyer_cfs(conn)?),
        };
        Ok(Writer {
            conn,
            statements: store::ImportStatements::prepare(conn)?,
            signer,
            format,
            batch,
            actor: actor.to_owned(),
            now,
            buyers,
            to_refresh: Vec::new(),
            doomed: false,
            garas: None,
            report: ImportReport::default(),
        })
    }

    /// This import's batch id.
    pub(crate) fn batch(&self) -> i64 {
        self.batch
    }

    /// The connection (inside the import's transaction).
    pub(crate) fn conn(&self) -> &'c Connection {
        self.conn
    }

    /// The Comune of this Province a buyer is, if it is one.
    pub(crate) fn match_buyer(&mut self, cf: &str, name: &str) -> Option<String> {
        self.buyers.find(cf, name)
    }

    /// A copy of the buyers known when the import started, for a reading thread.
    pub(crate) fn buyers(&self) -> Buyers {
        self.buyers.clone()
    }

    /// Whether `key` is already in the node.
    pub(crate) fn key_status(&mut self, key: &str) -> Result<KeyStatus, ImportError> {
        Ok(
            match self
                .statements
                .imported_procedure(self.format.source(), key)?
            {
                None => KeyStatus::New,
                Some((id, Some(batch))) if batch == self.batch => KeyStatus::ThisBatch(id),
                Some((id, _)) => KeyStatus::Imported(id),
            },
        )
    }

    /// The procedure with ANAC numero gara `gara`, if any. The column has no index: the
    /// numbers are read once per import and the new ones added as they are written.
    pub(crate) fn gara_owner(&mut self, gara: &str) -> Result<Option<i64>, ImportError> {
        if self.garas.is_none() {
            self.garas = Some(store::procedures_by_gara(self.conn)?.into_iter().collect());
        }
        Ok(self
            .garas
            .as_ref()
            .and_then(|garas| garas.get(gara).copied()))
    }

    /// Counts a record read.
    pub(crate) fn count_record(&mut self) -> u64 {
        self.report.counts.records += 1;
        self.report.counts.records
    }

    /// Inserts a procedure (lots follow with [`Writer::insert_lot`]).
    pub(crate) fn insert_procedure(
        &mut self,
        procedure: &NewProcedure,
    ) -> Result<i64, ImportError> {
        // The procedures waiting are complete (their lots are written before the next
        // procedure starts): hand them over before they pile up.
        if self.to_refresh.len() >= REFRESH_CHUNK && !self.doomed {
            self.flush_refresh()?;
        }
        let id = self.statements.insert_procedure(
            procedure,
            self.format.source(),
            self.batch,
            &self.actor,
            self.now,
        )?;
        self.to_refresh.push(id);
        if let (Some(garas), Some(gara)) = (self.garas.as_mut(), &procedure.anac_gara) {
            garas.entry(gara.clone()).or_insert(id);
        }
        let counts = &mut self.report.counts;
        counts.imported += 1;
        if procedure.comune_code.is_some() {
            counts.linked_to_comune += 1;
        } else {
            counts.other_buyers += 1;
        }
        Ok(id)
    }

    /// Inserts a lot. A CIG already in the node is reported as `Ok(Some(owner))` and
    /// nothing is written.
    pub(crate) fn insert_lot(
        &mut self,
        procedure_id: i64,
        lot: &NewLot,
    ) -> Result<Option<i64>, ImportError> {
        match self.statements.insert_lot(procedure_id, lot) {
            Ok(()) => {}
            Err(rusqlite::Error::SqliteFailure(err, _))
                if err.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                let owner = match &lot.cig {
                    Some(cig) => store::lot_owner(self.conn, cig)?,
                    None => None,
                };
                return Ok(Some(owner.unwrap_or(procedure_id)));
            }
            Err(err) => return Err(err.into()),
        }
        let counts = &mut self.report.counts;
        counts.lots += 1;
        if lot.award_cents.is_some() || lot.supplier_name.is_some() {
            counts.awards += 1;
        }
        if lot.contract_signed_on.is_some() {
            counts.contracts += 1;
        }
        Ok(None)
    }

    /// Lists an imported procedure.
    pub(crate) fn imported(&mut self, record: ImportedRecord) {
        if self.report.imported.len() < MAX_LISTED {
            self.report.imported.push(record);
        } else {
            self.report.omitted += 1;
        }
    }

    /// Lists a skipped record.
    pub(crate) fn skipped(&mut self, record: SkippedRecord) {
        self.report.counts.skipped += 1;
        if self.report.skipped.len() < MAX_LISTED {
            self.report.skipped.push(record);
        } else {
            self.report.omitted += 1;
        }
    }

    /// Lists a warning.
    pub(crate) fn warn(&mut self, record: u64, line: Option<u64>, key: &str, message: String) {
        self.report.counts.warnings += 1;
        if self.report.warnings.len() < MAX_LISTED {
            self.report.warnings.push(ImportWarning {
                record,
                line,
                key: key.to_owned(),
                message,
            });
        } else {
            self.report.omitted += 1;
        }
    }

    /// Hands the procedures written so far to the national dataset.
    fn flush_refresh(&mut self) -> Result<(), ImportError> {
        if !self.to_refresh.is_empty() {
            crate::sua::national::refresh_procedures(self.conn, self.signer, &self.to_refresh)
                .map_err(ImportError::National)?;
            self.to_refresh.clear();
        }
        Ok(())
    }

    fn finish(self) -> ImportReport {
        self.report
    }
}

/// The Comuni of this Province, by code, and the buyers matched to them.
#[derive(Debug, Clone)]
pub(crate) struct Buyers {
    comuni: BTreeMap<String, String>,
    matcher: BuyerMatcher,
}

impl Buyers {
    /// The name of a Comune of this Province.
    pub(crate) fn comune_name(&self, code: &str) -> Option<&str> {
        self.comuni.get(code).map(String::as_str)
    }

    /// The Comune of this Province a buyer is, if it is one (see [`BuyerMatcher::find`]).
    pub(crate) fn find(&mut self, cf: &str, name: &str) -> Option<String> {
        self.matcher.find(cf, name)
    }
}

/// Finds the Comune of this Province a buyer is.
#[derive(Debug, Default, Clone)]
pub struct BuyerMatcher {
    by_cf: BTreeMap<String, String>,
    /// Normalised name → Comune code; `None` when two Comuni share the name.
    by_name: BTreeMap<String, Option<String>>,
}

impl BuyerMatcher {
    /// From the Comuni (code, name, Italian name, other-language name) and the codici
    /// fiscali already linked to them.
    pub fn new(
        comuni: &[(String, String, String, String)],
        known_cfs: Vec<(String, String)>,
    ) -> BuyerMatcher {
        let mut by_name: BTreeMap<String, Option<String>> = BTreeMap::new();
        for (code, name, name_it, name_other) in comuni {
            let mut names: Vec<String> = Vec::new();
            for text in [name, name_it, name_other] {
                // Bilingual names are written "Bolzano/Bozen".
                for part in text.split('/') {
                    let normal = normalise(part);
                    if !normal.is_empty() && !names.contains(&normal) {
                        names.push(normal);
                    }
                }
            }
            for normal in names {
                by_name
                    .entry(normal)
                    .and_modify(|existing| {
                        if existing.as_deref() != Some(code.as_str()) {
                            *existing = None;
                        }
                    })
                    .or_insert_with(|| Some(code.clone()));
            }
        }
        BuyerMatcher {
            by_cf: known_cfs.into_iter().collect(),
            by_name,
        }
    }

    /// The Comune code of the buyer, if it is a Comune of this Province. A match by name
    /// teaches the codice fiscale for the rest of the import.
    pub fn find(&mut self, cf: &str, name: &str) -> Option<String> {
        let cf = cf.trim().to_ascii_uppercase();
        if !cf.is_empty()
            && let Some(code) = self.by_cf.get(&cf)
        {
            return Some(code.clone());
        }
        let found = comune_name_candidates(name)
            .into_iter()
            .find_map(|candidate| self.by_name.get(&candidate).cloned().flatten())?;
        if !cf.is_empty() {
            self.by_cf.insert(cf, found.clone());
        }
        Some(found)
    }
}

/// Upper case, accents removed, everything but letters and digits turned into single
/// spaces: `Fiorenzuola d'Arda` and `FIORENZUOLA D ARDA` are both `FIORENZUOLA D ARDA`.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        let base = match c {
            'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' | 'À' | 'Á' | 'Â' | 'Ä' | 'Ã' | 'Å' => {
                'A'
            }
            'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'E',
            'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => 'I',
            'ò' | 'ó' | 'ô' | 'ö' | 'õ' | 'Ò' | 'Ó' | 'Ô' | 'Ö' | 'Õ' => 'O',
            'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => 'U',
            'ç' | 'Ç' => 'C',
            'ñ' | 'Ñ' => 'N',
            'ß' => 'S',
            c if c.is_ascii_alphanumeric() => c.to_ascii_uppercase(),
            _ => ' ',
        };
        if base == ' ' {
            space = !out.is_empty();
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(base);
        }
    }
    out
}

/// The names a buyer called "COMUNE DI …" (or "CITTÀ DI …") may have as a Comune; none
/// for other buyers (an "UNIONE DEI COMUNI …" is not a Comune).
fn comune_name_candidates(buyer: &str) -> Vec<String> {
    let normal = normalise(buyer);
    let rest = ["COMUNE ", "CITTA "]
        .iter()
        .find_map(|prefix| normal.strip_prefix(prefix));
    let Some(rest) = rest else {
        return Vec::new();
    };
    let mut candidates = Vec::new();
    // "COMUNE DI X", "COMUNE D X" (D'…), and the articulated prepositions, whose article
    // is part of the name: "COMUNE DELLA SPEZIA" is "La Spezia", "COMUNE DELL AQUILA" is
    // "L'Aquila".
    for (preposition, article) in [
        ("DI ", ""),
        ("D ", ""),
        ("DEL ", "IL "),
        ("DELLO ", "LO "),
        ("DELLA ", "LA "),
        ("DELL ", "L "),
        ("DEI ", "I "),
        ("DEGLI ", "GLI "),
        ("DELLE ", "LE "),
    ] {
        if let Some(name) = rest.strip_prefix(preposition) {
            candidates.push(format!("{article}{name}"));
            if !article.is_empty() {
                candidates.push(name.to_owned());
            }
        }
    }
    candidates.push(rest.to_owned());
    candidates
}

/// A `YYYY-MM-DD` (or Italian `DD/MM/YYYY`) date, parsed as the workflow parses it.
pub fn parse_day(text: &str) -> Result<time::Date, String> {
    Day::parse(text).map(Day::date)
}

/// The stored form of a date.
pub fn iso_day(date: time::Date) -> String {
    Day::from(date).iso()
}

/// Midnight UTC of a date, in Unix seconds.
pub fn day_start(date: time::Date) -> i64 {
    date.midnight().assume_utc().unix_timestamp()
}

/// Whether `text` has the shape of a codice fiscale: 11 digits (entities, companies) or 16
/// letters and digits (people). The check character is not verified: historical ANAC data
/// carries identifiers as they were registered.
pub fn cf_shaped(text: &str) -> bool {
    let text = text.trim();
    (text.len() == 11 && text.bytes().all(|b| b.is_ascii_digit()))
        || (text.len() == 16 && text.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher() -> BuyerMatcher {
        let comuni = [
            ("016024", "Bergamo", "Bergamo", ""),
            ("033021", "Fiorenzuola d'Arda", "Fiorenzuola d'Arda", ""),
            ("011015", "La Spezia", "La Spezia", ""),
            ("066049", "L'Aquila", "L'Aquila", ""),
            ("021008", "Bolzano/Bozen", "Bolzano", "Bozen"),
            ("016999", "Sant'Omobono Terme", "Sant'Omobono Terme", ""),
        ]
        .map(|(a, b, c, d)| (a.to_owned(), b.to_owned(), c.to_owned(), d.to_owned()));
        BuyerMatcher::new(&comuni, vec![("00000000001".into(), "016024".into())])
    }

    #[test]
    fn buyers_match_comuni_by_name_and_cf() {
        let mut m = matcher();
        assert_eq!(m.find("", "COMUNE DI BERGAMO").as_deref(), Some("016024"));
        assert_eq!(m.find("", "Comune di Bergamo ").as_deref(), Some("016024"));
        assert_eq!(
            m.find("", "COMUNE DI FIORENZUOLA D ARDA").as_deref(),
            Some("033021")
        );
        assert_eq!(
            m.find("", "COMUNE DI FIORENZUOLA D?ARDA").as_deref(),
            Some("033021")
        );
        assert_eq!(m.find("", "COMUNE DELLA SPEZIA").as_deref(), Some("011015"));
        assert_eq!(m.find("", "COMUNE DELL'AQUILA").as_deref(), Some("066049"));
        assert_eq!(m.find("", "COMUNE DI BOZEN").as_deref(), Some("021008"));
        assert_eq!(
            m.find("", "COMUNE DI SANT’OMOBONO TERME").as_deref(),
            Some("016999")
        );
        assert_eq!(m.find("", "CITTÀ DI BERGAMO").as_deref(), Some("016024"));
        // Not Comuni, or not of this Province.
        assert_eq!(m.find("", "UNIONE DEI COMUNI DEL PRATOMAGNO"), None);
        assert_eq!(m.find("", "BERGAMO INFRASTRUTTURE SPA"), None);
        assert_eq!(m.find("", "COMUNE DI TRANI"), None);
        // A known codice fiscale wins over the name; a name match teaches the CF.
        assert_eq!(
            m.find("00000000001", "ENTE QUALSIASI").as_deref(),
            Some("016024")
        );
        assert_eq!(
            m.find("80034840167", "COMUNE DI BERGAMO").as_deref(),
            Some("016024")
        );
        assert_eq!(
            m.find("80034840167", "COMUNE DI BG").as_deref(),
            Some("016024")
        );
    }

    #[test]
    fn days() {
        assert_eq!(
            parse_day("2022-04-12").map(iso_day),
            Ok("2022-04-12".into())
        );
        assert_eq!(
            parse_day("12/04/2022").map(iso_day),
            Ok("2022-04-12".into())
        );
        assert!(parse_day("2022-02-30").is_err());
        assert!(parse_day("2022-04-12T12:00:00Z").is_err());
        assert_eq!(
            parse_day("1970-01-02").map(day_start),
            Ok(86_400),
            "midnight UTC"
        );
    }

    #[test]
    fn detects_formats() {
        assert_eq!(ImportFormat::detect("a.jsonl", b"x"), ImportFormat::Ocds);
        assert_eq!(ImportFormat::detect("a.CSV", b"{"), ImportFormat::Csv);
        assert_eq!(
            ImportFormat::detect("upload", b"\xEF\xBB\xBF  [{}]"),
            ImportFormat::Ocds
        );
        assert_eq!(
            ImportFormat::detect("upload", b"procedure_key;cig"),
            ImportFormat::Csv
        );
    }
}
