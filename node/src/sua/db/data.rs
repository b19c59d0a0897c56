//! SQL of SUA imports (bulk inserts), reports and the OCDS export.
//!
//! Imports write through [`ImportStatements`], prepared once inside the caller's
//! transaction: one `sua_procedures` row per procedure (with its `source` and `external_key`,
//! whose unique index makes re-imports idempotent), one `sua_participants` row when the
//! buyer is a Comune of this Province and one `sua_lots` row per lot. The import itself is
//! recorded once, in `sua_import_batches`: a procedure's history starts from its batch
//! (`sua::db::transitions`), so a million lots do not write 400,000 copies of the same step.
//!
//! A lot awarded to a raggruppamento (several suppliers) keeps the members in one row:
//! `supplier_name` holds the names and `supplier_cf` the codici fiscali, each list joined by
//! [`SUPPLIER_SEPARATOR`], in the same order (the mandataria first, as the file gives them).

use rusqlite::{Connection, OptionalExtension, Statement, params, params_from_iter};

use crate::sua::State;

/// Joins the members of a raggruppamento in `supplier_name` and `supplier_cf`.
pub const SUPPLIER_SEPARATOR: &str = "; ";

/// The states that are still requests (not yet accepted by the SUA): left out of reports.
const REQUEST_STATES: &str = "'submitted', 'returned', 'withdrawn'";

/// A procedure to insert.
#[derive(Debug, Clone, Default)]
pub struct NewProcedure {
    /// The Comune of this Province the procedure serves, if the buyer is one.
    pub comune_code: Option<String>,
    /// The buyer's codice fiscale as the file gives it (may be empty).
    pub buyer_cf: String,
    /// The buyer's name.
    pub buyer_name: String,
    /// Oggetto.
    pub object: String,
    /// Longer description.
    pub description: String,
    /// `works`, `services`, `supplies`.
    pub contract_type: &'static str,
    /// Main CPV code with check digit.
    pub cpv_main: String,
    /// Other CPV codes (JSON array text).
    pub cpv_other: String,
    /// Estimated amount, cents.
    pub estimated_cents: i64,
    /// ANAC procedure code.
    pub procedure_code: i64,
    /// ANAC procedure title.
    pub procedure_label: String,
    /// Award criterion wire name.
    pub award_criterion: &'static str,
    /// CUP.
    pub cup: Option<String>,
    /// Funding source.
    pub funding_source: String,
    /// PNRR-funded.
    pub pnrr: bool,
    /// State.
    pub state: Option<State>,
    /// ANAC numero gara.
    pub anac_gara: Option<String>,
    /// OCDS ocid (imports of OCDS releases keep ANAC's).
    pub ocid: Option<String>,
    /// Dates, `YYYY-MM-DD`.
    pub published_on: Option<String>,
    /// Deadline for bids.
    pub deadline_on: Option<String>,
    /// Award date (the first award of its lots).
    pub awarded_on: Option<String>,
    /// Contract date (the last contract of its lots).
    pub contract_signed_on: Option<String>,
    /// Completion date.
    pub completed_on: Option<String>,
    /// The request instant (Unix seconds).
    pub requested_at: i64,
    /// The year the procedure counts in.
    pub year: i32,
    /// The key that identifies it in its source (ocid, CSV procedure key).
    pub external_key: String,
}

/// A lot to insert.
#[derive(Debug, Clone, Default)]
pub struct NewLot {
    /// Position in the procedure, from 1.
    pub lot_no: i64,
    /// CIG.
    pub cig: Option<String>,
    /// Description.
    pub description: String,
    /// CPV of the lot, if it has its own.
    pub cpv: Option<String>,
    /// Base amount, cents.
    pub amount_cents: i64,
    /// `active`, `awarded`, `deserted`, `cancelled`.
    pub status: &'static str,
    /// Bids received.
    pub bids_count: Option<i64>,
    /// Supplier name(s), joined by [`SUPPLIER_SEPARATOR`].
    pub supplier_name: Option<String>,
    /// Supplier codice(i) fiscale(i), joined by [`SUPPLIER_SEPARATOR`].
    pub supplier_cf: Option<String>,
    /// Award amount, cents.
    pub award_cents: Option<i64>,
    /// Ribasso, thousandths of a percent.
    pub ribasso_milli: Option<i64>,
    /// Award date.
    pub awarded_on: Option<String>,
    /// Contract date.
    pub contract_signed_on: Option<String>,
}

/// Inserts the batch row (counts and report are written by [`finish_batch`]).
pub fn insert_batch(
    conn: &Connection,
    format: &str,
    filename: &str,
    sha256: &str,
    actor: &str,
    now: i64,
) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO sua_import_batches (format, filename, sha256, imported, skipped, report, actor, at)
         VALUES (?1, ?2, ?3, 0, 0, '{}', ?4, ?5)",
        params![format, filename, sha256, actor, now],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Records the outcome of a batch.
pub fn finish_batch(
    conn: &Connection,
    id: i64,
    sha256: &str,
    imported: u64,
    skipped: u64,
    report: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE sua_import_batches SET sha256 = ?2, imported = ?3, skipped = ?4, report = ?5 WHERE id = ?1",
        params![id, sha256, imported as i64, skipped as i64, report],
    )?;
    Ok(())
}

/// One import batch as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRow {
    /// Id.
    pub id: i64,
    /// `ocds` or `csv`.
    pub format: String,
    /// File name as uploaded.
    pub filename: String,
    /// SHA-256 of the file.
    pub sha256: String,
    /// Procedures imported.
    pub imported: i64,
    /// Records skipped.
    pub skipped: i64,
    /// The report (JSON text).
    pub report: String,
    /// Who.
    pub actor: String,
    /// When (Unix seconds).
    pub at: i64,
}

fn batch_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<BatchRow> {
    Ok(BatchRow {
        id: row.get(0)?,
        format: row.get(1)?,
        filename: row.get(2)?,
        sha256: row.get(3)?,
        imported: row.get(4)?,
        skipped: row.get(5)?,
        report: row.get(6)?,
        actor: row.get(7)?,
        at: row.get(8)?,
    })
}

/// Import batches, newest first, before `before` (an id), at most `limit`.
pub fn batches(
    conn: &Connection,
    before: Option<i64>,
    limit: u32,
) -> rusqlite::Result<Vec<BatchRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, format, filename, sha256, imported, skipped, report, actor, at
         FROM sua_import_batches WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
    )?;
    stmt.query_map(params![before.unwrap_or(i64::MAX), limit], batch_row)?
        .collect()
}

/// One import batch.
pub fn batch(conn: &Connection, id: i64) -> rusqlite::Result<Option<BatchRow>> {
    conn.query_row(
        "SELECT id, format, filename, sha256, imported, skipped, report, actor, at
         FROM sua_import_batches WHERE id = ?1",
        [id],
        batch_row,
    )
    .optional()
}

/// The import batch that wrote procedure `id` (none for the workflow's procedures).
pub fn import_batch_of(conn: &Connection, id: i64) -> rusqlite::Result<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT import_batch FROM sua_procedures WHERE id = ?1",
            [id],
            |row| row.get::<_, Option<i64>>(0),
        )
        .optional()?
        .flatten())
}

/// The procedure holding `ocid`, if any.
pub fn procedure_by_ocid(conn: &Connection, ocid: &str) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT id FROM sua_procedures WHERE ocid = ?1")?
        .query_row([ocid], |row| row.get(0))
        .optional()
}

/// Every procedure with an ANAC numero gara: (gara, id). Read once per import (there is
/// no index on the column).
pub fn procedures_by_gara(conn: &Connection) -> rusqlite::Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare(
        "SELECT anac_gara, min(id) FROM sua_procedures WHERE anac_gara IS NOT NULL AND anac_gara <> '' GROUP BY anac_gara",
    )?;
    stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect()
}

/// The procedure holding the lot with `cig`, if any.
pub fn lot_owner(conn: &Connection, cig: &str) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT procedure_id FROM sua_lots WHERE cig = ?1")?
        .query_row([cig], |row| row.get(0))
        .optional()
}

/// Buyer codici fiscali already linked to a Comune of this Province by earlier procedures:
/// (codice fiscale, Comune code).
pub fn known_buyer_cfs(conn: &Connection) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT buyer_cf, min(comune_code) FROM sua_procedures
         WHERE buyer_cf <> '' AND comune_code IS NOT NULL AND aggregated = 0
         GROUP BY buyer_cf",
    )?;
    stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect()
}

/// Every Comune of the Province with its names: (code, name, Italian name, other name).
pub fn comuni_names(conn: &Connection) -> rusqlite::Result<Vec<(String, String, String, String)>> {
    let mut stmt = conn.prepare("SELECT code, name, name_it, name_other FROM comuni")?;
    stmt.query_map([], |row| {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
    })?
    .collect()
}

/// The statements of one import, prepared once for its whole transaction rather than
/// fetched from the statement cache on every row (hashing the SQL text and resetting the
/// statement on its way back: 1.5 % of a bulk import's instructions, measured with callgrind).
pub struct ImportStatements<'c> {
    conn: &'c Connection,
    by_key: Statement<'c>,
    procedure: Statement<'c>,
    participant: Statement<'c>,
    lot: Statement<'c>,
}

impl std::fmt::Debug for ImportStatements<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportStatements").finish_non_exhaustive()
    }
}

impl<'c> ImportStatements<'c> {
    /// Prepares the statements on `conn` (inside the import's transaction).
    pub fn prepare(conn: &'c Connection) -> rusqlite::Result<ImportStatements<'c>> {
        Ok(ImportStatements {
            conn,
            by_key: conn.prepare(
                "SELECT id, import_batch FROM sua_procedures WHERE source = ?1 AND external_key = ?2",
            )?,
            procedure: conn.prepare(
                "INSERT INTO sua_procedures (comune_code, buyer_cf, buyer_name, aggregated, object,
                    description, contract_type, cpv_main, cpv_other, estimated_cents, procedure_code,
                    procedure_label, award_criterion, cup, funding_source, pnrr, state, anac_gara, ocid,
                    published_on, deadline_on, awarded_on, contract_signed_on, completed_on,
                    requested_at, accepted_at, year, source, import_batch, external_key, created_by,
                    created_at, updated_at)
                 VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                    ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?30)",
            )?,
            participant: conn.prepare(
                "INSERT INTO sua_participants (procedure_id, comune_code, share_cents) VALUES (?1, ?2, ?3)",
            )?,
            lot: conn.prepare(
                "INSERT INTO sua_lots (procedure_id, lot_no, cig, description, cpv, amount_cents,
                    status, bids_count, supplier_name, supplier_cf, award_cents, ribasso_milli,
                    awarded_on, contract_signed_on)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?,
        })
    }

    /// The procedure already imported from `source` under `key`: its id and import batch.
    pub fn imported_procedure(
        &mut self,
        source: &str,
        key: &str,
    ) -> rusqlite::Result<Option<(i64, Option<i64>)>> {
        self.by_key
            .query_row(params![source, key], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()
    }

    /// Inserts a procedure with its participant row (when it serves a Comune). Returns its
    /// id.
    pub fn insert_procedure(
        &mut self,
        procedure: &NewProcedure,
        source: &str,
        batch: i64,
        actor: &str,
        now: i64,
    ) -> rusqlite::Result<i64> {
        let state = procedure.state.unwrap_or(State::Published).as_str();
        self.procedure.execute(params![
            procedure.comune_code,
            procedure.buyer_cf,
            procedure.buyer_name,
            procedure.object,
            procedure.description,
            procedure.contract_type,
            procedure.cpv_main,
            procedure.cpv_other,
            procedure.estimated_cents,
            procedure.procedure_code,
            procedure.procedure_label,
            procedure.award_criterion,
            procedure.cup,
            procedure.funding_source,
            procedure.pnrr,
            state,
            procedure.anac_gara,
            procedure.ocid,
            procedure.published_on,
            procedure.deadline_on,
            procedure.awarded_on,
            procedure.contract_signed_on,
            procedure.completed_on,
            procedure.requested_at,
            procedure.year,
            source,
            batch,
            procedure.external_key,
            actor,
            now,
        ])?;
        let id = self.conn.last_insert_rowid();
        if let Some(comune) = &procedure.comune_code {
            self.participant
                .execute(params![id, comune, procedure.estimated_cents])?;
        }
        Ok(id)
    }

    /// Inserts a lot of procedure `procedure_id`.
    pub fn insert_lot(&mut self, procedure_id: i64, lot: &NewLot) -> rusqlite::Result<()> {
        self.lot.execute(params![
            procedure_id,
            lot.lot_no,
            lot.cig,
            lot.description,
            lot.cpv,
            lot.amount_cents,
            lot.status,
            lot.bids_count,
            lot.supplier_name,
            lot.supplier_cf,
            lot.award_cents,
            lot.ribasso_milli,
            lot.awarded_on,
            lot.contract_signed_on,
        ])?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Reports

/// What a report is restricted to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportFilter {
    /// One year.
    pub year: Option<i32>,
    /// One Comune (ISTAT code).
    pub comune: Option<String>,
    /// One contract type (`works`, `services`, `supplies`).
    pub contract_type: Option<&'static str>,
    /// One ANAC procedure code.
    pub procedure_code: Option<i64>,
    /// Only PNRR-funded (`true`) or only not (`false`).
    pub pnrr: Option<bool>,
}

/// One report line (a Comune in a year) as sums and counts, so that lines add up exactly
/// into totals; averages are computed at the edge.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportSums {
    /// The Comune, or `None` for buyers that are not Comuni of this Province (imports).
    pub comune_code: Option<String>,
    /// Its name.
    pub comune_name: Option<String>,
    /// The year.
    pub year: i64,
    /// Procedures (an aggregated initiative counts once for each Comune it serves).
    pub procedures: i64,
    /// Estimated amounts (a Comune's share for aggregated initiatives), cents.
    pub estimated_cents: i64,
    /// Awarded amounts (pro rata of the share for aggregated initiatives), cents.
    pub awarded_cents: i64,
    /// Lots with an award amount.
    pub awarded_lots: i64,
    /// Sum of the lots' ribassi, thousandths of a percent.
    pub ribasso_sum: i64,
    /// Lots with a ribasso.
    pub ribasso_count: i64,
    /// Sum of days from request to award over awarded procedures.
    pub days_sum: f64,
    /// Awarded procedures with both dates.
    pub days_count: i64,
}

/// Per Comune and year: procedures, amounts, ribasso and days to award, over the procedures
/// the SUA accepted (requests not yet accepted are left out). Ordinary procedures are read
/// through `sua_procedures_comune_year`; aggregated initiatives through their participants,
/// each Comune with its share.
pub fn report(conn: &Connection, filter: &ReportFilter) -> rusqlite::Result<Vec<ReportSums>> {
    let mut ordinary = vec![
        "p.aggregated = 0".to_owned(),
        format!("p.state NOT IN ({REQUEST_STATES})"),
    ];
    let mut aggregated = vec![
        "p.aggregated = 1".to_owned(),
        format!("p.state NOT IN ({REQUEST_STATES})"),
    ];
    let mut values: Vec<rusqlite::types::Value> = Vec::new();
    // The same numbered parameter serves both branches.
    let mut bind = |value: rusqlite::types::Value| {
        values.push(value);
        values.len()
    };
    if let Some(comune) = &filter.comune {
        let n = bind(comune.clone().into());
        ordinary.push(format!("p.comune_code = ?{n}"));
        aggregated.push(format!("pa.comune_code = ?{n}"));
    }
    if let Some(year) = filter.year {
        let n = bind(i64::from(year).into());
        ordinary.push(format!("p.year = ?{n}"));
        aggregated.push(format!("p.year = ?{n}"));
    }
    if let Some(kind) = filter.contract_type {
        let n = bind(kind.to_owned().into());
        ordinary.push(format!("p.contract_type = ?{n}"));
        aggregated.push(format!("p.contract_type = ?{n}"));
    }
    if let Some(code) = filter.procedure_code {
        let n = bind(code.into());
        ordinary.push(format!("p.procedure_code = ?{n}"));
        aggregated.push(format!("p.procedure_code = ?{n}"));
    }
    if let Some(pnrr) = filter.pnrr {
        let n = bind(i64::from(pnrr).into());
        ordinary.push(format!("p.pnrr = ?{n}"));
        aggregated.push(format!("p.pnrr = ?{n}"));
    }
    // Aggregated initiatives are read from the `comune_code IS NULL` range of
    // `sua_procedures_comune_year` (an aggregated initiative has no lead Comune, as the
    // workflow writes it; the schema allows a NULL Comune only to those and to imports),
    // then their participants by primary key: a handful of rows, where reading a Comune's
    // participations would visit every procedure it ever had.
    aggregated.push("p.comune_code IS NULL".to_owned());
    // Days from the request to the award, as the hub counts them (`duration_days` of
    // protocol/datasets/appalti.md): none when the award precedes the recorded request (an
    // imported or back-dated history), which would otherwise pull the mean below zero.
    let days = "CASE WHEN julianday(p.awarded_on) >= julianday(date(p.requested_at, 'unixepoch'))
                     THEN julianday(p.awarded_on) - julianday(date(p.requested_at, 'unixepoch')) END";
    let sql = format!(
        "SELECT t.comune_code, c.name, t.year, count(*), sum(t.estimated), sum(t.awarded),
                sum(t.awarded_lots), sum(t.rib_sum), sum(t.rib_n), total(t.days), count(t.days)
         FROM (
            SELECT p.comune_code AS comune_code, p.year AS year, p.estimated_cents AS estimated,
                   coalesce(sum(l.award_cents), 0) AS awarded, count(l.award_cents) AS awarded_lots,
                   coalesce(sum(l.ribasso_milli), 0) AS rib_sum, count(l.ribasso_milli) AS rib_n,
                   {days} AS days
            FROM sua_procedures p LEFT JOIN sua_lots l ON l.procedure_id = p.id
            WHERE {ordinary}
            GROUP BY p.id
            UNION ALL
            SELECT pa.comune_code, p.year, pa.share_cents,
                   CASE WHEN p.estimated_cents > 0
                        THEN CAST(round(coalesce(sum(l.award_cents), 0) * 1.0 * pa.share_cents / p.estimated_cents) AS INTEGER)
                        ELSE 0 END,
                   count(l.award_cents), coalesce(sum(l.ribasso_milli), 0), count(l.ribasso_milli),
                   {days}
            FROM sua_procedures p JOIN sua_participants pa ON pa.procedure_id = p.id
                 LEFT JOIN sua_lots l ON l.procedure_id = p.id
            WHERE {aggregated}
            GROUP BY p.id, pa.comune_code
         ) t LEFT JOIN comuni c ON c.code = t.comune_code
         GROUP BY t.comune_code, t.year
         ORDER BY t.year DESC, t.comune_code IS NULL, t.comune_code",
        ordinary = ordinary.join(" AND "),
        aggregated = aggregated.join(" AND "),
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    stmt.query_map(params_from_iter(values), |row| {
        Ok(ReportSums {
            comune_code: row.get(0)?,
            comune_name: row.get(1)?,
            year: row.get(2)?,
            procedures: row.get(3)?,
            estimated_cents: row.get(4)?,
            awarded_cents: row.get(5)?,
            awarded_lots: row.get(6)?,
            ribasso_sum: row.get(7)?,
            ribasso_count: row.get(8)?,
            days_sum: row.get(9)?,
            days_count: row.get(10)?,
        })
    })?
    .collect()
}

// ---------------------------------------------------------------------------------------
// OCDS export

/// A procedure as the OCDS export reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportProcedure {
    /// Id.
    pub id: i64,
    /// The Comune served, if one.
    pub comune_code: Option<String>,
    /// That Comune's name.
    pub comune_name: Option<String>,
    /// Buyer codice fiscale.
    pub buyer_cf: String,
    /// Buyer name.
    pub buyer_name: String,
    /// Aggregated initiative.
    pub aggregated: bool,
    /// Oggetto.
    pub object: String,
    /// Description.
    pub description: String,
    /// Contract type wire name.
    pub contract_type: String,
    /// Main CPV.
    pub cpv_main: String,
    /// Other CPV (JSON array text).
    pub cpv_other: String,
    /// Estimated amount, cents.
    pub estimated_cents: i64,
    /// ANAC procedure code.
    pub procedure_code: i64,
    /// ANAC procedure title.
    pub procedure_label: String,
    /// Award criterion wire name.
    pub award_criterion: String,
    /// CUP.
    pub cup: Option<String>,
    /// Funding source.
    pub funding_source: String,
    /// PNRR.
    pub pnrr: bool,
    /// State wire name.
    pub state: String,
    /// ANAC numero gara.
    pub anac_gara: Option<String>,
    /// Stored ocid.
    pub ocid: Option<String>,
    /// Dates `YYYY-MM-DD`.
    pub published_on: Option<String>,
    /// Deadline.
    pub deadline_on: Option<String>,
    /// Award.
    pub awarded_on: Option<String>,
    /// Contract.
    pub contract_signed_on: Option<String>,
    /// Completion.
    pub completed_on: Option<String>,
    /// Source (`web`, `api`, `import_ocds`, `import_csv`).
    pub source: String,
    /// Last change (Unix seconds).
    pub updated_at: i64,
    /// Comuni served (aggregated initiatives: several) with their names.
    pub participants: Vec<(String, String)>,
    /// Lots by number.
    pub lots: Vec<ExportLot>,
}

/// A lot as the OCDS export reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportLot {
    /// Number within the procedure.
    pub lot_no: i64,
    /// CIG.
    pub cig: Option<String>,
    /// Description.
    pub description: String,
    /// CPV.
    pub cpv: Option<String>,
    /// Base amount, cents.
    pub amount_cents: i64,
    /// Status.
    pub status: String,
    /// Bids.
    pub bids_count: Option<i64>,
    /// Supplier name(s).
    pub supplier_name: Option<String>,
    /// Supplier codice(i) fiscale(i).
    pub supplier_cf: Option<String>,
    /// Award amount, cents.
    pub award_cents: Option<i64>,
    /// Award date.
    pub awarded_on: Option<String>,
    /// Contract date.
    pub contract_signed_on: Option<String>,
}

const EXPORT_COLUMNS: &str =
    "p.id, p.comune_code, c.name, p.buyer_cf, p.buyer_name, p.aggregated, p.object,
    p.description, p.contract_type, p.cpv_main, p.cpv_other, p.estimated_cents, p.procedure_code,
    p.procedure_label, p.award_criterion, p.cup, p.funding_source, p.pnrr, p.state, p.anac_gara,
    p.ocid, p.published_on, p.deadline_on, p.awarded_on, p.contract_signed_on, p.completed_on,
    p.source, p.updated_at";

fn export_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ExportProcedure> {
    Ok(ExportProcedure {
        id: row.get(0)?,
        comune_code: row.get(1)?,
        comune_name: row.get(2)?,
        buyer_cf: row.get(3)?,
        buyer_name: row.get(4)?,
        aggregated: row.get(5)?,
        object: row.get(6)?,
        description: row.get(7)?,
        contract_type: row.get(8)?,
        cpv_main: row.get(9)?,
        cpv_other: row.get(10)?,
        estimated_cents: row.get(11)?,
        procedure_code: row.get(12)?,
        procedure_label: row.get(13)?,
        award_criterion: row.get(14)?,
        cup: row.get(15)?,
        funding_source: row.get(16)?,
        pnrr: row.get(17)?,
        state: row.get(18)?,
        anac_gara: row.get(19)?,
        ocid: row.get(20)?,
        published_on: row.get(21)?,
        deadline_on: row.get(22)?,
        awarded_on: row.get(23)?,
        contract_signed_on: row.get(24)?,
        completed_on: row.get(25)?,
        source: row.get(26)?,
        updated_at: row.get(27)?,
        participants: Vec::new(),
        lots: Vec::new(),
    })
}

fn public_states() -> String {
    State::ALL
        .into_iter()
        .filter(|s| s.is_public())
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Public procedures (published or later) with id above `after`, by id, at most `limit`,
/// with their participants and lots.
pub fn public_procedures(
    conn: &Connection,
    after: i64,
    limit: u32,
) -> rusqlite::Result<Vec<ExportProcedure>> {
    let sql = format!(
        "SELECT {EXPORT_COLUMNS} FROM sua_procedures p LEFT JOIN comuni c ON c.code = p.comune_code
         WHERE p.id > ?1 AND p.state IN ({}) ORDER BY p.id LIMIT ?2",
        public_states()
    );
    let mut procedures: Vec<ExportProcedure> = conn
        .prepare_cached(&sql)?
        .query_map(params![after, limit], export_row)?
        .collect::<rusqlite::Result<_>>()?;
    for procedure in &mut procedures {
        fill_children(conn, procedure)?;
    }
    Ok(procedures)
}

/// One procedure in any state, with its participants and lots.
pub fn export_procedure(conn: &Connection, id: i64) -> rusqlite::Result<Option<ExportProcedure>> {
    let sql = format!(
        "SELECT {EXPORT_COLUMNS} FROM sua_procedures p LEFT JOIN comuni c ON c.code = p.comune_code
         WHERE p.id = ?1"
    );
    let Some(mut procedure) = conn
        .prepare_cached(&sql)?
        .query_row([id], export_row)
        .optional()?
    else {
        return Ok(None);
    };
    fill_children(conn, &mut procedure)?;
    Ok(Some(procedure))
}

fn fill_children(conn: &Connection, procedure: &mut ExportProcedure) -> rusqlite::Result<()> {
    procedure.participants = conn
        .prepare_cached(
            "SELECT pa.comune_code, c.name FROM sua_participants pa JOIN comuni c ON c.code = pa.comune_code
             WHERE pa.procedure_id = ?1 ORDER BY pa.comune_code",
        )?
        .query_map([procedure.id], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    procedure.lots = conn
        .prepare_cached(
            "SELECT lot_no, cig, description, cpv, amount_cents, status, bids_count, supplier_name,
                    supplier_cf, award_cents, awarded_on, contract_signed_on
             FROM sua_lots WHERE procedure_id = ?1 ORDER BY lot_no",
        )?
        .query_map([procedure.id], |row| {
            Ok(ExportLot {
                lot_no: row.get(0)?,
                cig: row.get(1)?,
                description: row.get(2)?,
                cpv: row.get(3)?,
                amount_cents: row.get(4)?,
                status: row.get(5)?,
                bids_count: row.get(6)?,
                supplier_name: row.get(7)?,
                supplier_cf: row.get(8)?,
                award_cents: row.get(9)?,
                awarded_on: row.get(10)?,
                contract_signed_on: row.get(11)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(())
}

/// The Comuni a procedure serves (for the authorisation of the per-procedure export).
pub fn procedure_comuni(conn: &Connection, id: i64) -> rusqlite::Result<Option<Vec<String>>> {
    let exists: Option<Option<String>> = conn
        .query_row(
            "SELECT comune_code FROM sua_procedures WHERE id = ?1",
            [id],
            |row| row.get(0),
        )
        .optional()?;
    let Some(lead) = exists else {
        return Ok(None);
    };
    let mut comuni: Vec<String> = conn
        .prepare_cached("SELECT comune_code FROM sua_participants WHERE procedure_id = ?1")?
        .query_map([id], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if let Some(lead) = lead
        && !comuni.contains(&lead)
    {
        comuni.push(lead);
    }
    Ok(Some(comuni))
}

/// The connection's page cache size (`PRAGMA cache_size`: pages if positive, KiB if
/// negative).
pub fn cache_size(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "cache_size", |row| row.get(0))
}

/// Sets the connection's page cache size (see [`cache_size`]); an import enlarges it for its
/// transaction and restores it after.
pub fn set_cache_size(conn: &Connection, size: i64) -> rusqlite::Result<()> {
    conn.pragma_update(None, "cache_size", size)
}
