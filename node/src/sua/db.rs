//! SQL of the SUA workflow: convenzioni, procedures, participants, lots, transitions,
//! attachments. Plain synchronous functions; the callers (`sua::ops`) have already checked the
//! policy and the input, and run these inside one transaction per change.

pub mod data;
pub mod national;

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::sua::{AwardCriterion, ContractType, ConventionScope, LotStatus, State};

fn bad_enum(index: usize) -> rusqlite::Error {
    rusqlite::Error::InvalidColumnType(index, "enum".into(), rusqlite::types::Type::Text)
}

// ---------------------------------------------------------------------------------------
// Convenzioni

/// A convenzione row with the Comune's name.
#[derive(Debug, Clone)]
pub struct ConventionRow {
    /// Id.
    pub id: i64,
    /// The delegating Comune.
    pub comune_code: String,
    /// Its name.
    pub comune_name: String,
    /// What it delegates.
    pub scope: ConventionScope,
    /// First day in force (`YYYY-MM-DD`).
    pub valid_from: String,
    /// Last day in force, if it expires.
    pub valid_until: Option<String>,
    /// Reference of the signed document (resolution number, protocol).
    pub document_ref: String,
    /// Notes.
    pub notes: String,
    /// Who recorded it.
    pub created_by: String,
    /// When (Unix seconds).
    pub created_at: i64,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
}

const CONVENTION_SELECT: &str = "SELECT v.id, v.comune_code, c.name, v.scope, v.valid_from, v.valid_until, \
    v.document_ref, v.notes, v.created_by, v.created_at, v.revoked_at \
    FROM sua_conventions v JOIN comuni c ON c.code = v.comune_code";

fn convention_from_row(row: &Row<'_>) -> rusqlite::Result<ConventionRow> {
    let scope: String = row.get(3)?;
    Ok(ConventionRow {
        id: row.get(0)?,
        comune_code: row.get(1)?,
        comune_name: row.get(2)?,
        scope: ConventionScope::parse(&scope).ok_or_else(|| bad_enum(3))?,
        valid_from: row.get(4)?,
        valid_until: row.get(5)?,
        document_ref: row.get(6)?,
        notes: row.get(7)?,
        created_by: row.get(8)?,
        created_at: row.get(9)?,
        revoked_at: row.get(10)?,
    })
}

/// A new convenzione, already validated.
#[derive(Debug, Clone)]
pub struct NewConvention<'a> {
    /// The delegating Comune.
    pub comune_code: &'a str,
    /// What it delegates.
    pub scope: ConventionScope,
    /// First day in force.
    pub valid_from: &'a str,
    /// Last day in force.
    pub valid_until: Option<&'a str>,
    /// Document reference.
    pub document_ref: &'a str,
    /// Notes.
    pub notes: &'a str,
}

/// Inserts a convenzione; returns its id.
pub fn insert_convention(
    conn: &Connection,
    new: &NewConvention<'_>,
    created_by: &str,
    now: i64,
) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO sua_conventions (comune_code, scope, valid_from, valid_until, document_ref, notes, created_by, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            new.comune_code,
            new.scope.as_str(),
            new.valid_from,
            new.valid_until,
            new.document_ref,
            new.notes,
            created_by,
            now
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// One convenzione.
pub fn convention(conn: &Connection, id: i64) -> rusqlite::Result<Option<ConventionRow>> {
    conn.query_row(
        &format!("{CONVENTION_SELECT} WHERE v.id = ?1"),
        [id],
        convention_from_row,
    )
    .optional()
}

/// Convenzioni, newest first: of one Comune or all; revoked ones only when asked.
pub fn conventions(
    conn: &Connection,
    comune: Option<&str>,
    include_revoked: bool,
    before_id: Option<i64>,
    limit: u32,
) -> rusqlite::Result<Vec<ConventionRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{CONVENTION_SELECT} WHERE (?1 IS NULL OR v.comune_code = ?1) AND (?2 OR v.revoked_at IS NULL) \
         AND (?3 IS NULL OR v.id < ?3) ORDER BY v.id DESC LIMIT ?4"
    ))?;
    let rows = stmt.query_map(
        params![comune, include_revoked, before_id, limit],
        convention_from_row,
    )?;
    rows.collect()
}

/// The convenzioni of `comune` in force on `day` (not revoked, `valid_from ≤ day ≤
/// valid_until`), newest first.
pub fn conventions_in_force(
    conn: &Connection,
    comune: &str,
    day: &str,
) -> rusqlite::Result<Vec<ConventionRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{CONVENTION_SELECT} WHERE v.comune_code = ?1 AND v.revoked_at IS NULL AND v.valid_from <= ?2 \
         AND (v.valid_until IS NULL OR v.valid_until >= ?2) ORDER BY v.id DESC"
    ))?;
    let rows = stmt.query_map(params![comune, day], convention_from_row)?;
    rows.collect()
}

/// Marks a convenzione revoked (once); returns whether it changed.
pub fn revoke_convention(conn: &Connection, id: i64, now: i64) -> rusqlite::Result<bool> {
    let changed = conn.execute(
        "UPDATE sua_conventions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![id, now],
    )?;
    Ok(changed == 1)
}

// ---------------------------------------------------------------------------------------
// Procedures

/// A procedure row with the requesting Comune's name.
#[derive(Debug, Clone)]
pub struct ProcedureRow {
    /// Id.
    pub id: i64,
    /// The requesting Comune (none for an aggregated initiative of the SUA).
    pub comune_code: Option<String>,
    /// Its name.
    pub comune_name: Option<String>,
    /// Codice fiscale of the buyer, when known.
    pub buyer_cf: String,
    /// Name of the buyer.
    pub buyer_name: String,
    /// Whether it serves several Comuni.
    pub aggregated: bool,
    /// Oggetto.
    pub object: String,
    /// Description.
    pub description: String,
    /// Works, services, supplies.
    pub contract_type: ContractType,
    /// Main CPV code.
    pub cpv_main: String,
    /// Other CPV codes (JSON array text).
    pub cpv_other: Vec<String>,
    /// Estimated amount in cents.
    pub estimated_cents: i64,
    /// ANAC procedure code.
    pub procedure_code: i64,
    /// Its title.
    pub procedure_label: String,
    /// Award criterion.
    pub award_criterion: AwardCriterion,
    /// CUP.
    pub cup: Option<String>,
    /// Funding source.
    pub funding_source: String,
    /// Whether PNRR funds it.
    pub pnrr: bool,
    /// RUP name.
    pub rup_name: String,
    /// RUP email.
    pub rup_email: String,
    /// Desired award date.
    pub desired_by: Option<String>,
    /// State.
    pub state: State,
    /// Why it was last returned, while returned.
    pub return_reason: Option<String>,
    /// ANAC numero gara.
    pub anac_gara: Option<String>,
    /// OCDS ocid (imports).
    pub ocid: Option<String>,
    /// Publication date.
    pub published_on: Option<String>,
    /// Bids deadline.
    pub deadline_on: Option<String>,
    /// Award date.
    pub awarded_on: Option<String>,
    /// Contract date.
    pub contract_signed_on: Option<String>,
    /// Completion date.
    pub completed_on: Option<String>,
    /// When the Comune asked (Unix seconds).
    pub requested_at: i64,
    /// When the SUA accepted it.
    pub accepted_at: Option<i64>,
    /// Reference year.
    pub year: i64,
    /// `web`, `api`, `import_ocds`, `import_csv`.
    pub source: String,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

const PROCEDURE_SELECT: &str = "SELECT p.id, p.comune_code, c.name, p.buyer_cf, p.buyer_name, p.aggregated, p.object, \
    p.description, p.contract_type, p.cpv_main, p.cpv_other, p.estimated_cents, p.procedure_code, p.procedure_label, \
    p.award_criterion, p.cup, p.funding_source, p.pnrr, p.rup_name, p.rup_email, p.desired_by, p.state, p.return_reason, \
    p.anac_gara, p.ocid, p.published_on, p.deadline_on, p.awarded_on, p.contract_signed_on, p.completed_on, \
    p.requested_at, p.accepted_at, p.year, p.source, p.created_by, p.created_at, p.updated_at \
    FROM sua_procedures p LEFT JOIN comuni c ON c.code = p.comune_code";

fn procedure_from_row(row: &Row<'_>) -> rusqlite::Result<ProcedureRow> {
    let contract_type: String = row.get(8)?;
    let cpv_other: String = row.get(10)?;
    let criterion: String = row.get(14)?;
    let state: String = row.get(21)?;
    Ok(ProcedureRow {
        id: row.get(0)?,
        comune_code: row.get(1)?,
        comune_name: row.get(2)?,
        buyer_cf: row.get(3)?,
        buyer_name: row.get(4)?,
        aggregated: row.get(5)?,
        object: row.get(6)?,
        description: row.get(7)?,
        contract_type: ContractType::parse(&contract_type).ok_or_else(|| bad_enum(8))?,
        cpv_main: row.get(9)?,
        cpv_other: serde_json::from_str(&cpv_other).unwrap_or_default(),
        estimated_cents: row.get(11)?,
        procedure_code: row.get(12)?,
        procedure_label: row.get(13)?,
        award_criterion: AwardCriterion::parse(&criterion).ok_or_else(|| bad_enum(14))?,
        cup: row.get(15)?,
        funding_source: row.get(16)?,
        pnrr: row.get(17)?,
        rup_name: row.get(18)?,
        rup_email: row.get(19)?,
        desired_by: row.get(20)?,
        state: State::parse(&state).ok_or_else(|| bad_enum(21))?,
        return_reason: row.get(22)?,
        anac_gara: row.get(23)?,
        ocid: row.get(24)?,
        published_on: row.get(25)?,
        deadline_on: row.get(26)?,
        awarded_on: row.get(27)?,
        contract_signed_on: row.get(28)?,
        completed_on: row.get(29)?,
        requested_at: row.get(30)?,
        accepted_at: row.get(31)?,
        year: row.get(32)?,
        source: row.get(33)?,
        created_by: row.get(34)?,
        created_at: row.get(35)?,
        updated_at: row.get(36)?,
    })
}

/// The request content of a procedure, already validated: what a Comune writes when it asks
/// and what the SUA may correct later.
#[derive(Debug, Clone)]
pub struct RequestFields {
    /// Buyer name.
    pub buyer_name: String,
    /// Oggetto.
    pub object: String,
    /// Description.
    pub description: String,
    /// Contract type.
    pub contract_type: ContractType,
    /// Main CPV code.
    pub cpv_main: String,
    /// Other CPV codes.
    pub cpv_other: Vec<String>,
    /// Estimated amount in cents.
    pub estimated_cents: i64,
    /// ANAC procedure code.
    pub procedure_code: u16,
    /// Its title.
    pub procedure_label: String,
    /// Award criterion.
    pub award_criterion: AwardCriterion,
    /// CUP.
    pub cup: Option<String>,
    /// Funding source.
    pub funding_source: String,
    /// PNRR.
    pub pnrr: bool,
    /// RUP name.
    pub rup_name: String,
    /// RUP email.
    pub rup_email: String,
    /// Desired award date.
    pub desired_by: Option<String>,
}

/// Where a new procedure comes from and where it starts.
#[derive(Debug, Clone)]
pub struct NewProcedure<'a> {
    /// The requesting Comune (none for an aggregated initiative).
    pub comune_code: Option<&'a str>,
    /// Whether it serves several Comuni.
    pub aggregated: bool,
    /// First state.
    pub state: State,
    /// `web` or `api`.
    pub source: &'a str,
    /// Reference year.
    pub year: i32,
    /// Who created it.
    pub created_by: &'a str,
    /// When the SUA accepted it (initiatives start accepted).
    pub accepted_at: Option<i64>,
}

/// Inserts a procedure; returns its id.
pub fn insert_procedure(
    conn: &Connection,
    new: &NewProcedure<'_>,
    fields: &RequestFields,
    now: i64,
) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO sua_procedures (comune_code, buyer_name, aggregated, object, description, contract_type, cpv_main, \
         cpv_other, estimated_cents, procedure_code, procedure_label, award_criterion, cup, funding_source, pnrr, rup_name, \
         rup_email, desired_by, state, requested_at, accepted_at, year, source, created_by, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?20, ?20)",
        params![
            new.comune_code,
            fields.buyer_name,
            new.aggregated,
            fields.object,
            fields.description,
            fields.contract_type.as_str(),
            fields.cpv_main,
            serde_json::to_string(&fields.cpv_other).unwrap_or_else(|_| "[]".into()),
            fields.estimated_cents,
            fields.procedure_code,
            fields.procedure_label,
            fields.award_criterion.as_str(),
            fields.cup,
            fields.funding_source,
            fields.pnrr,
            fields.rup_name,
            fields.rup_email,
            fields.desired_by,
            new.state.as_str(),
            now,
            new.accepted_at,
            new.year,
            new.source,
            new.created_by,
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Replaces the request content of a procedure.
pub fn update_request_fields(
    conn: &Connection,
    id: i64,
    fields: &RequestFields,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE sua_procedures SET buyer_name = ?2, object = ?3, description = ?4, contract_type = ?5, cpv_main = ?6, \
         cpv_other = ?7, estimated_cents = ?8, procedure_code = ?9, procedure_label = ?10, award_criterion = ?11, cup = ?12, \
         funding_source = ?13, pnrr = ?14, rup_name = ?15, rup_email = ?16, desired_by = ?17, updated_at = ?18 WHERE id = ?1",
        params![
            id,
            fields.buyer_name,
            fields.object,
            fields.description,
            fields.contract_type.as_str(),
            fields.cpv_main,
            serde_json::to_string(&fields.cpv_other).unwrap_or_else(|_| "[]".into()),
            fields.estimated_cents,
            fields.procedure_code,
            fields.procedure_label,
            fields.award_criterion.as_str(),
            fields.cup,
            fields.funding_source,
            fields.pnrr,
            fields.rup_name,
            fields.rup_email,
            fields.desired_by,
            now,
        ],
    )?;
    Ok(())
}

/// The data of the tender the SUA runs: numero gara and its dates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenderFields {
    /// ANAC numero gara.
    pub anac_gara: Option<String>,
    /// Publication date.
    pub published_on: Option<String>,
    /// Bids deadline.
    pub deadline_on: Option<String>,
    /// Award date.
    pub awarded_on: Option<String>,
    /// Contract date.
    pub contract_signed_on: Option<String>,
    /// Completion date.
    pub completed_on: Option<String>,
}

impl TenderFields {
    /// The tender data of a procedure row.
    pub fn of(row: &ProcedureRow) -> TenderFields {
        TenderFields {
            anac_gara: row.anac_gara.clone(),
            published_on: row.published_on.clone(),
            deadline_on: row.deadline_on.clone(),
            awarded_on: row.awarded_on.clone(),
            contract_signed_on: row.contract_signed_on.clone(),
            completed_on: row.completed_on.clone(),
        }
    }
}

/// Replaces the tender data.
pub fn update_tender(
    conn: &Connection,
    id: i64,
    tender: &TenderFields,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE sua_procedures SET anac_gara = ?2, published_on = ?3, deadline_on = ?4, awarded_on = ?5, \
         contract_signed_on = ?6, completed_on = ?7, updated_at = ?8 WHERE id = ?1",
        params![
            id,
            tender.anac_gara,
            tender.published_on,
            tender.deadline_on,
            tender.awarded_on,
            tender.contract_signed_on,
            tender.completed_on,
            now
        ],
    )?;
    Ok(())
}

/// What a move to `to` implies on the procedure, once the lifecycle has moved its state
/// (`crate::sua::MACHINE`, in the same transaction). A return keeps its reason on the
/// procedure (the Comune reads it there); any other move clears it.
pub fn after_move(
    conn: &Connection,
    id: i64,
    to: State,
    return_reason: Option<&str>,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE sua_procedures SET return_reason = ?3, updated_at = ?4, \
         accepted_at = CASE WHEN ?2 = 'received' THEN ?4 ELSE accepted_at END WHERE id = ?1",
        params![id, to.as_str(), return_reason, now],
    )?;
    Ok(())
}

/// One procedure.
pub fn procedure(conn: &Connection, id: i64) -> rusqlite::Result<Option<ProcedureRow>> {
    conn.query_row(
        &format!("{PROCEDURE_SELECT} WHERE p.id = ?1"),
        [id],
        procedure_from_row,
    )
    .optional()
}

/// List filters, already authorised (`comune` is forced for Comune users).
#[derive(Debug, Clone, Default)]
pub struct ProcedureFilter {
    /// Only procedures serving this Comune (requesting or participating).
    pub comune: Option<String>,
    /// Only this state.
    pub state: Option<State>,
    /// Only open requests (submitted or returned), the SUA's inbox.
    pub requests_only: bool,
    /// Only this reference year.
    pub year: Option<i32>,
    /// Only this contract type.
    pub contract_type: Option<ContractType>,
    /// Only aggregated initiatives (`Some(true)`) or only ordinary ones.
    pub aggregated: Option<bool>,
    /// Text in the object, description, CUP, numero gara or a lot's CIG.
    pub text: Option<String>,
    /// Ids below this (cursor).
    pub before_id: Option<i64>,
}

/// The conditions of [`ProcedureFilter`], over parameters ?1 to ?8.
const PROCEDURE_WHERE: &str = "WHERE (?1 IS NULL OR EXISTS (SELECT 1 FROM sua_participants s WHERE s.procedure_id = p.id AND s.comune_code = ?1)) \
     AND (?2 IS NULL OR p.state = ?2) AND (?3 = 0 OR p.state IN ('submitted', 'returned')) \
     AND (?4 IS NULL OR p.year = ?4) AND (?5 IS NULL OR p.contract_type = ?5) AND (?6 IS NULL OR p.aggregated = ?6) \
     AND (?7 IS NULL OR p.object LIKE ?7 ESCAPE '\\' OR p.description LIKE ?7 ESCAPE '\\' OR p.cup LIKE ?7 ESCAPE '\\' \
          OR p.anac_gara LIKE ?7 ESCAPE '\\' OR EXISTS (SELECT 1 FROM sua_lots l WHERE l.procedure_id = p.id AND l.cig LIKE ?7 ESCAPE '\\')) \
     AND (?8 IS NULL OR p.id < ?8)";

/// The columns the procedure list may order by: `ORDER BY` expressions of
/// [`procedures_page`], chosen by key (`web::list`), never written by the request.
pub const PROCEDURE_SORT_COLUMNS: &[crate::web::list::SortColumn] = &[
    crate::web::list::SortColumn {
        key: "numero",
        label: "N.",
        sql: "p.id",
    },
    crate::web::list::SortColumn {
        key: "oggetto",
        label: "Oggetto",
        sql: "p.object COLLATE NOCASE",
    },
    crate::web::list::SortColumn {
        key: "importo",
        label: "Importo stimato",
        sql: "p.estimated_cents",
    },
    crate::web::list::SortColumn {
        key: "stato",
        label: "Stato",
        sql: "p.state",
    },
    crate::web::list::SortColumn {
        key: "anno",
        label: "Anno",
        sql: "p.year",
    },
];

fn like_pattern(filter: &ProcedureFilter) -> Option<String> {
    filter.text.as_ref().map(|text| {
        format!(
            "%{}%",
            text.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    })
}

/// The values of ?1 to ?8 for [`PROCEDURE_WHERE`], then `extra` (limit, offset).
fn procedure_values(filter: &ProcedureFilter, extra: &[u32]) -> Vec<rusqlite::types::Value> {
    use rusqlite::types::Value;
    let mut values = vec![
        Value::from(filter.comune.clone()),
        Value::from(filter.state.map(|s| s.as_str().to_owned())),
        Value::from(filter.requests_only),
        Value::from(filter.year),
        Value::from(filter.contract_type.map(|t| t.as_str().to_owned())),
        Value::from(filter.aggregated),
        Value::from(like_pattern(filter)),
        Value::from(filter.before_id),
    ];
    values.extend(extra.iter().map(|n| Value::from(*n)));
    values
}

/// Procedures matching `filter`, newest first, at most `limit`.
pub fn procedures(
    conn: &Connection,
    filter: &ProcedureFilter,
    limit: u32,
) -> rusqlite::Result<Vec<ProcedureRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{PROCEDURE_SELECT} {PROCEDURE_WHERE} ORDER BY p.id DESC LIMIT ?9"
    ))?;
    let rows = stmt.query_map(
        rusqlite::params_from_iter(procedure_values(filter, &[limit])),
        procedure_from_row,
    )?;
    rows.collect()
}

/// One page of the procedures matching `filter`, ordered by `order_by` (an expression of
/// [`PROCEDURE_SORT_COLUMNS`] with its direction, built by `web::list` from constants).
pub fn procedures_page(
    conn: &Connection,
    filter: &ProcedureFilter,
    order_by: &str,
    limit: u32,
    offset: u32,
) -> rusqlite::Result<Vec<ProcedureRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{PROCEDURE_SELECT} {PROCEDURE_WHERE} ORDER BY {order_by} LIMIT ?9 OFFSET ?10"
    ))?;
    let rows = stmt.query_map(
        rusqlite::params_from_iter(procedure_values(filter, &[limit, offset])),
        procedure_from_row,
    )?;
    rows.collect()
}

/// How many procedures match `filter`.
pub fn count_procedures(conn: &Connection, filter: &ProcedureFilter) -> rusqlite::Result<u64> {
    let n: i64 = conn.query_row(
        &format!("SELECT COUNT(*) FROM sua_procedures p {PROCEDURE_WHERE}"),
        rusqlite::params_from_iter(procedure_values(filter, &[])),
        |row| row.get(0),
    )?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The reference years that have procedures, newest first (for the list filter).
pub fn years(conn: &Connection) -> rusqlite::Result<Vec<i64>> {
    let mut stmt =
        conn.prepare_cached("SELECT DISTINCT year FROM sua_procedures ORDER BY year DESC")?;
    let rows = stmt.query_map([], |row| row.get(0))?;
    rows.collect()
}

// ---------------------------------------------------------------------------------------
// Participants

/// A Comune served by a procedure, with its share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantRow {
    /// ISTAT code.
    pub comune_code: String,
    /// Name.
    pub comune_name: String,
    /// Share of the estimated amount in cents.
    pub share_cents: i64,
}

/// The Comuni a procedure serves, by code.
pub fn participants(conn: &Connection, procedure_id: i64) -> rusqlite::Result<Vec<ParticipantRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.comune_code, c.name, s.share_cents FROM sua_participants s JOIN comuni c ON c.code = s.comune_code \
         WHERE s.procedure_id = ?1 ORDER BY s.comune_code",
    )?;
    let rows = stmt.query_map([procedure_id], |row| {
        Ok(ParticipantRow {
            comune_code: row.get(0)?,
            comune_name: row.get(1)?,
            share_cents: row.get(2)?,
        })
    })?;
    rows.collect()
}

/// Replaces the Comuni a procedure serves.
pub fn replace_participants(
    conn: &Connection,
    procedure_id: i64,
    shares: &[(String, i64)],
) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM sua_participants WHERE procedure_id = ?1",
        [procedure_id],
    )?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO sua_participants (procedure_id, comune_code, share_cents) VALUES (?1, ?2, ?3)",
    )?;
    for (comune, share) in shares {
        insert.execute(params![procedure_id, comune, share])?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Lots

/// A lot.
#[derive(Debug, Clone)]
pub struct LotRow {
    /// Id.
    pub id: i64,
    /// Its procedure.
    pub procedure_id: i64,
    /// Number within the procedure, from 1.
    pub lot_no: i64,
    /// CIG.
    pub cig: Option<String>,
    /// Description.
    pub description: String,
    /// CPV code.
    pub cpv: Option<String>,
    /// Base amount in cents.
    pub amount_cents: i64,
    /// Status.
    pub status: LotStatus,
    /// Bids received.
    pub bids_count: Option<i64>,
    /// Awarded supplier.
    pub supplier_name: Option<String>,
    /// Its codice fiscale / partita IVA.
    pub supplier_cf: Option<String>,
    /// Award amount in cents.
    pub award_cents: Option<i64>,
    /// Ribasso in thousandths of a percent.
    pub ribasso_milli: Option<i64>,
    /// Award date.
    pub awarded_on: Option<String>,
    /// Contract date.
    pub contract_signed_on: Option<String>,
}

const LOT_SELECT: &str = "SELECT id, procedure_id, lot_no, cig, description, cpv, amount_cents, status, bids_count, \
    supplier_name, supplier_cf, award_cents, ribasso_milli, awarded_on, contract_signed_on FROM sua_lots";

fn lot_from_row(row: &Row<'_>) -> rusqlite::Result<LotRow> {
    let status: String = row.get(7)?;
    Ok(LotRow {
        id: row.get(0)?,
        procedure_id: row.get(1)?,
        lot_no: row.get(2)?,
        cig: row.get(3)?,
        description: row.get(4)?,
        cpv: row.get(5)?,
        amount_cents: row.get(6)?,
        status: LotStatus::parse(&status).ok_or_else(|| bad_enum(7))?,
        bids_count: row.get(8)?,
        supplier_name: row.get(9)?,
        supplier_cf: row.get(10)?,
        award_cents: row.get(11)?,
        ribasso_milli: row.get(12)?,
        awarded_on: row.get(13)?,
        contract_signed_on: row.get(14)?,
    })
}

/// The lots of a procedure, by number.
pub fn lots(conn: &Connection, procedure_id: i64) -> rusqlite::Result<Vec<LotRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{LOT_SELECT} WHERE procedure_id = ?1 ORDER BY lot_no"
    ))?;
    let rows = stmt.query_map([procedure_id], lot_from_row)?;
    rows.collect()
}

/// One lot of a procedure.
pub fn lot(conn: &Connection, procedure_id: i64, id: i64) -> rusqlite::Result<Option<LotRow>> {
    conn.query_row(
        &format!("{LOT_SELECT} WHERE procedure_id = ?1 AND id = ?2"),
        params![procedure_id, id],
        lot_from_row,
    )
    .optional()
}

/// The lot holding a CIG, anywhere in the node, as `(procedure id, lot id, lot number)`.
pub fn lot_with_cig(conn: &Connection, cig: &str) -> rusqlite::Result<Option<(i64, i64, i64)>> {
    conn.query_row(
        "SELECT procedure_id, id, lot_no FROM sua_lots WHERE cig = ?1",
        [cig],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
    )
    .optional()
}

/// The structure of a lot, already validated.
#[derive(Debug, Clone)]
pub struct LotFields {
    /// CIG.
    pub cig: Option<String>,
    /// Description.
    pub description: String,
    /// CPV code.
    pub cpv: Option<String>,
    /// Base amount in cents.
    pub amount_cents: i64,
}

/// Adds a lot with the next number; returns its id.
pub fn insert_lot(
    conn: &Connection,
    procedure_id: i64,
    fields: &LotFields,
) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO sua_lots (procedure_id, lot_no, cig, description, cpv, amount_cents) \
         VALUES (?1, (SELECT COALESCE(MAX(lot_no), 0) + 1 FROM sua_lots WHERE procedure_id = ?1), ?2, ?3, ?4, ?5)",
        params![
            procedure_id,
            fields.cig,
            fields.description,
            fields.cpv,
            fields.amount_cents
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Replaces the structure of a lot.
pub fn update_lot_fields(conn: &Connection, id: i64, fields: &LotFields) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE sua_lots SET cig = ?2, description = ?3, cpv = ?4, amount_cents = ?5 WHERE id = ?1",
        params![
            id,
            fields.cig,
            fields.description,
            fields.cpv,
            fields.amount_cents
        ],
    )?;
    Ok(())
}

/// Sets the bids received by a lot.
pub fn set_bids(conn: &Connection, id: i64, bids: Option<i64>) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE sua_lots SET bids_count = ?2 WHERE id = ?1",
        params![id, bids],
    )?;
    Ok(())
}

/// Sets the status of a lot that is not awarded (active, deserted, cancelled).
pub fn set_lot_status(conn: &Connection, id: i64, status: LotStatus) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE sua_lots SET status = ?2 WHERE id = ?1",
        params![id, status.as_str()],
    )?;
    Ok(())
}

/// Marks every still active lot of a procedure with `status` (a deserted or cancelled
/// procedure takes its open lots with it); returns how many changed.
pub fn close_active_lots(
    conn: &Connection,
    procedure_id: i64,
    status: LotStatus,
) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE sua_lots SET status = ?2 WHERE procedure_id = ?1 AND status = 'active'",
        params![procedure_id, status.as_str()],
    )
}

/// Sets the contract date of every awarded lot that has none.
pub fn sign_awarded_lots(conn: &Connection, procedure_id: i64, day: &str) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE sua_lots SET contract_signed_on = ?2 WHERE procedure_id = ?1 AND status = 'awarded' AND contract_signed_on IS NULL",
        params![procedure_id, day],
    )?;
    Ok(())
}

/// An award, already validated.
#[derive(Debug, Clone)]
pub struct AwardFields {
    /// Supplier name.
    pub supplier_name: String,
    /// Its codice fiscale / partita IVA.
    pub supplier_cf: String,
    /// Award amount in cents.
    pub award_cents: i64,
    /// Ribasso in thousandths of a percent.
    pub ribasso_milli: Option<i64>,
    /// Award date.
    pub awarded_on: String,
    /// Bids received.
    pub bids_count: Option<i64>,
}

/// Records the award of a lot.
pub fn set_award(conn: &Connection, id: i64, award: &AwardFields) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE sua_lots SET status = 'awarded', supplier_name = ?2, supplier_cf = ?3, award_cents = ?4, ribasso_milli = ?5, \
         awarded_on = ?6, bids_count = COALESCE(?7, bids_count) WHERE id = ?1",
        params![
            id,
            award.supplier_name,
            award.supplier_cf,
            award.award_cents,
            award.ribasso_milli,
            award.awarded_on,
            award.bids_count
        ],
    )?;
    Ok(())
}

/// Removes the award of a lot (it is open again).
pub fn clear_award(conn: &Connection, id: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE sua_lots SET status = 'active', supplier_name = NULL, supplier_cf = NULL, award_cents = NULL, \
         ribasso_milli = NULL, awarded_on = NULL, contract_signed_on = NULL WHERE id = ?1",
        [id],
    )?;
    Ok(())
}

/// Deletes a lot and renumbers the following ones so numbers stay 1, 2, 3…
pub fn delete_lot(conn: &Connection, procedure_id: i64, id: i64) -> rusqlite::Result<()> {
    let lot_no: i64 = conn.query_row("SELECT lot_no FROM sua_lots WHERE id = ?1", [id], |row| {
        row.get(0)
    })?;
    conn.execute("DELETE FROM sua_lots WHERE id = ?1", [id])?;
    // Two steps, so the (procedure_id, lot_no) uniqueness holds after each statement.
    conn.execute(
        "UPDATE sua_lots SET lot_no = -lot_no WHERE procedure_id = ?1 AND lot_no > ?2",
        params![procedure_id, lot_no],
    )?;
    conn.execute(
        "UPDATE sua_lots SET lot_no = -lot_no - 1 WHERE procedure_id = ?1 AND lot_no < 0",
        params![procedure_id],
    )?;
    Ok(())
}

/// Bumps the procedure's `updated_at` (a lot or attachment changed).
pub fn touch(conn: &Connection, procedure_id: i64, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE sua_procedures SET updated_at = ?2 WHERE id = ?1",
        params![procedure_id, now],
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Transitions

/// One step of a procedure's history.
#[derive(Debug, Clone)]
pub struct TransitionRow {
    /// Id; none for an import, recorded once for its whole batch (`sua_import_batches`).
    pub id: Option<i64>,
    /// State before (none for the creation).
    pub from_state: Option<State>,
    /// State after.
    pub to_state: State,
    /// Reason given.
    pub reason: String,
    /// Who (display name).
    pub actor: String,
    /// When (Unix seconds).
    pub at: i64,
}

/// The history of a procedure, oldest first. An imported procedure starts with its import,
/// read from its batch (who, when; one row for all the procedures of a file) in the state it
/// was imported in: the state its first later step left, or its state if none did. Earlier
/// versions wrote that step as a row of its own, which is then read instead.
pub fn transitions(conn: &Connection, procedure_id: i64) -> rusqlite::Result<Vec<TransitionRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, from_state, to_state, reason, actor, at FROM (
            SELECT 0 AS step, NULL AS id, NULL AS from_state,
                   coalesce((SELECT t.from_state FROM sua_transitions t WHERE t.procedure_id = p.id
                             ORDER BY t.id LIMIT 1), p.state) AS to_state,
                   CASE p.source WHEN 'import_csv' THEN 'Importata da un file CSV'
                                 WHEN 'import_ocds' THEN 'Importata dai dati OCDS di ANAC'
                                 ELSE 'Importata' END
                       || ' (importazione n. ' || b.id || ')' AS reason, b.actor, b.at
            FROM sua_procedures p JOIN sua_import_batches b ON b.id = p.import_batch
            WHERE p.id = ?1 AND NOT EXISTS (SELECT 1 FROM sua_transitions t
                                            WHERE t.procedure_id = p.id AND t.from_state IS NULL)
            UNION ALL
            SELECT 1, id, from_state, to_state, reason, actor, at FROM sua_transitions
            WHERE procedure_id = ?1)
         ORDER BY step, id",
    )?;
    let rows = stmt.query_map([procedure_id], |row| {
        let from: Option<String> = row.get(1)?;
        let to: String = row.get(2)?;
        Ok(TransitionRow {
            id: row.get(0)?,
            from_state: match from {
                Some(from) => Some(State::parse(&from).ok_or_else(|| bad_enum(1))?),
                None => None,
            },
            to_state: State::parse(&to).ok_or_else(|| bad_enum(2))?,
            reason: row.get(3)?,
            actor: row.get(4)?,
            at: row.get(5)?,
        })
    })?;
    rows.collect()
}
