//! SUA workflow operations shared by the API and the web pages. Each one loads the procedure
//! inside one immediate transaction, asks the policy, checks the input and the state, changes
//! the data, appends the history and the audit event, brings the national `appalti` rows in
//! line ([`crate::sua::national::refresh_procedures`]) and commits: a change is all there or
//! not at all.
//!
//! Messages meant for people (field errors, refusals) are in Italian: the people who read
//! them are the Comuni's and the Province's staff, through the pages or their own software.

pub mod conventions;
pub mod requests;
pub mod workflow;

use std::collections::BTreeMap;

use rusqlite::{Connection, Transaction};
use serde::Serialize;

use crate::auth::Identity;
use crate::db::{self, audit};
use crate::error::AppError;
use crate::federation::Signer;
use crate::state::AppState;
use crate::sua::db as sql;
use crate::sua::policy::{self, Action};
use crate::sua::{AwardCriterion, ContractType, Euro, LotStatus, Ribasso, State};

/// One message per invalid field, gathered so a person sees every mistake at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors {
    errors: BTreeMap<String, String>,
    code: Option<&'static str>,
}

impl FieldErrors {
    /// No errors yet.
    pub fn new() -> FieldErrors {
        FieldErrors::default()
    }

    /// Records a message for `field` (the first one wins: it is usually the root cause).
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors
            .entry(field.into())
            .or_insert_with(|| message.into());
    }

    /// Keeps the value of `result`, or records its message for `field`.
    pub fn take<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    /// Uses `code` instead of `invalid_field` for the problem (`no_convention`).
    #[must_use]
    pub fn with_code(mut self, code: &'static str) -> FieldErrors {
        self.code = Some(code);
        self
    }

    /// Whether there is nothing to report.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The messages by field.
    pub fn messages(&self) -> &BTreeMap<String, String> {
        &self.errors
    }

    /// `Ok` when empty, else the 422 problem.
    pub fn check(self) -> Result<(), AppError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.into())
        }
    }
}

impl From<FieldErrors> for AppError {
    fn from(errors: FieldErrors) -> AppError {
        crate::web::list::refuse_with_code(&errors.errors, errors.code.unwrap_or("invalid_field"))
    }
}

/// The field messages of a refused change, for the pages that show them beside their fields.
pub use crate::web::form::field_messages;

/// A 409 problem with a stable code and an Italian message.
pub fn conflict(code: &'static str, detail: impl Into<String>) -> AppError {
    AppError::Conflict {
        code,
        detail: detail.into(),
    }
}

/// Trims `text`; a message when it is empty (if `required`), longer than `max` characters
/// or holds control characters other than newline and tab (`pico_service::text`).
pub fn text_field(text: &str, max: usize, required: bool) -> Result<String, String> {
    pico_service::text::clean(text, pico_service::text::Lines::Many, max, required)
        .map_err(|err| err.to_string())
}

/// An optional text: `None` when blank.
pub fn optional_text(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|text| !text.is_empty())
}

/// The Comuni a procedure serves: the list the policy decides on.
pub fn comuni_of(participants: &[sql::ParticipantRow]) -> Vec<String> {
    participants.iter().map(|p| p.comune_code.clone()).collect()
}

/// Starts the transaction of a change. Immediate: it takes the write lock before reading,
/// so what it read cannot change before it writes.
pub use crate::lifecycle::begin;

/// Loads a procedure the caller may see: 404 when it does not exist or belongs to other
/// Comuni (for a Comune user), 401/403 per the policy.
pub fn load_visible(
    conn: &Connection,
    identity: &Identity,
    id: i64,
) -> Result<(sql::ProcedureRow, Vec<sql::ParticipantRow>), AppError> {
    let row = sql::procedure(conn, id)?.ok_or(AppError::NotFound)?;
    let participants = sql::participants(conn, id)?;
    policy::authorize(
        identity,
        Action::ViewProcedure {
            comuni: &comuni_of(&participants),
        },
    )?;
    Ok((row, participants))
}

/// What every change to a procedure ends with, inside its transaction: the audit event and
/// the national dataset brought in line.
pub fn record_change(
    tx: &Connection,
    signer: &Signer,
    actor: &audit::Actor,
    id: i64,
    action: &str,
    detail: &serde_json::Value,
    now: i64,
) -> Result<(), AppError> {
    audit::record(
        tx,
        actor,
        action,
        &format!("sua_procedure:{id}"),
        detail,
        now,
    )?;
    crate::sua::national::refresh_procedures(tx, signer, &[id])
}

/// Runs a change to the procedures in one immediate transaction ([`begin`]) with the time of
/// the change; `change` commits it (usually through [`commit_view`]). Then the push to the
/// hub is woken: the national rows the change refreshed are due.
pub async fn run_change<T, F>(state: &AppState, change: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(Transaction<'_>, i64) -> Result<T, AppError> + Send + 'static,
{
    let out = state
        .db
        .call(move |conn| {
            let now = db::now();
            let tx = begin(conn)?;
            change(tx, now)
        })
        .await?;
    state.wake.notify();
    Ok(out)
}

/// What every change to a procedure answers with: the procedure as the change left it, read
/// inside the transaction, which it then commits.
pub fn commit_view(tx: Transaction<'_>, id: i64) -> Result<ProcedureView, AppError> {
    let row = sql::procedure(&tx, id)?.ok_or(AppError::NotFound)?;
    let participants = sql::participants(&tx, id)?;
    tx.commit()?;
    Ok(ProcedureView::new(row, &participants))
}

/// The name people read for the caller in a procedure's history.
pub fn display_name(identity: &Identity) -> String {
    crate::lifecycle::display_name(identity)
}

// ---------------------------------------------------------------------------------------
// Views

/// A Comune served by a procedure.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ParticipantView {
    /// ISTAT code.
    #[schema(example = "026086")]
    pub comune_code: String,
    /// Name.
    pub comune_name: String,
    /// Its share of the estimated amount, euro with two decimals.
    #[schema(example = "75000.00")]
    pub share: String,
}

/// A procedure (or request) as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProcedureView {
    /// Id.
    pub id: i64,
    /// State.
    pub state: State,
    /// The requesting Comune (null for an aggregated initiative of the SUA, and for some
    /// imported procedures).
    pub comune_code: Option<String>,
    /// Its name.
    pub comune_name: Option<String>,
    /// Whether it serves several Comuni (aggregated initiative).
    pub aggregated: bool,
    /// The Comuni it serves with their shares (one for an ordinary procedure).
    pub participants: Vec<ParticipantView>,
    /// The buyer named in exports.
    pub buyer_name: String,
    /// Oggetto.
    pub object: String,
    /// Description.
    pub description: String,
    /// Works, services or supplies.
    pub contract_type: ContractType,
    /// Main CPV code with check digit.
    #[schema(example = "72322000-8")]
    pub cpv_main: String,
    /// Other CPV codes.
    pub cpv_other: Vec<String>,
    /// Estimated amount, euro with two decimals.
    #[schema(example = "150000.00")]
    pub estimated_amount: String,
    /// ANAC choice-of-contractor code.
    #[schema(example = 1)]
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
    /// RUP (responsible person).
    pub rup_name: String,
    /// RUP email.
    pub rup_email: String,
    /// Desired award date, `YYYY-MM-DD`.
    pub desired_by: Option<String>,
    /// Why the SUA returned it (while returned).
    pub return_reason: Option<String>,
    /// ANAC numero gara.
    pub anac_gara: Option<String>,
    /// OCDS ocid (imported procedures).
    pub ocid: Option<String>,
    /// Publication date, `YYYY-MM-DD`.
    pub published_on: Option<String>,
    /// Bids deadline, `YYYY-MM-DD`.
    pub deadline_on: Option<String>,
    /// Award date, `YYYY-MM-DD`.
    pub awarded_on: Option<String>,
    /// Contract date, `YYYY-MM-DD`.
    pub contract_signed_on: Option<String>,
    /// Completion date, `YYYY-MM-DD`.
    pub completed_on: Option<String>,
    /// When the Comune asked, RFC 3339.
    pub requested_at: String,
    /// When the SUA accepted it, RFC 3339.
    pub accepted_at: Option<String>,
    /// Reference year for reports (year of the request).
    pub year: i64,
    /// `web`, `api`, `import_ocds`, `import_csv`.
    pub source: String,
    /// Who created it.
    pub created_by: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

impl ProcedureView {
    /// Builds the view.
    pub fn new(row: sql::ProcedureRow, participants: &[sql::ParticipantRow]) -> ProcedureView {
        ProcedureView {
            id: row.id,
            state: row.state,
            comune_code: row.comune_code,
            comune_name: row.comune_name,
            aggregated: row.aggregated,
            participants: participants
                .iter()
                .map(|p| ParticipantView {
                    comune_code: p.comune_code.clone(),
                    comune_name: p.comune_name.clone(),
                    share: Euro(p.share_cents).to_decimal(),
                })
                .collect(),
            buyer_name: row.buyer_name,
            object: row.object,
            description: row.description,
            contract_type: row.contract_type,
            cpv_main: row.cpv_main,
            cpv_other: row.cpv_other,
            estimated_amount: Euro(row.estimated_cents).to_decimal(),
            procedure_code: row.procedure_code,
            procedure_label: row.procedure_label,
            award_criterion: row.award_criterion,
            cup: row.cup,
            funding_source: row.funding_source,
            pnrr: row.pnrr,
            rup_name: row.rup_name,
            rup_email: row.rup_email,
            desired_by: row.desired_by,
            return_reason: row.return_reason,
            anac_gara: row.anac_gara,
            ocid: row.ocid,
            published_on: row.published_on,
            deadline_on: row.deadline_on,
            awarded_on: row.awarded_on,
            contract_signed_on: row.contract_signed_on,
            completed_on: row.completed_on,
            requested_at: db::rfc3339(row.requested_at),
            accepted_at: row.accepted_at.map(db::rfc3339),
            year: row.year,
            source: row.source,
            created_by: row.created_by,
            created_at: db::rfc3339(row.created_at),
            updated_at: db::rfc3339(row.updated_at),
        }
    }
}

/// The award of a lot.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AwardView {
    /// Supplier name.
    pub supplier_name: String,
    /// Its codice fiscale or partita IVA.
    #[schema(example = "03213200755")]
    pub supplier_cf: String,
    /// Award amount, euro with two decimals.
    #[schema(example = "132000.00")]
    pub amount: String,
    /// Ribasso on the lot's base amount, percent with three decimals.
    #[schema(example = "12.000")]
    pub ribasso: Option<String>,
    /// Award date, `YYYY-MM-DD`.
    pub awarded_on: Option<String>,
    /// Contract date, `YYYY-MM-DD`.
    pub contract_signed_on: Option<String>,
}

/// A lot.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LotView {
    /// Id.
    pub id: i64,
    /// Number within the procedure, from 1.
    pub lot_no: i64,
    /// CIG.
    #[schema(example = "90940496A3")]
    pub cig: Option<String>,
    /// Description.
    pub description: String,
    /// CPV code.
    pub cpv: Option<String>,
    /// Base amount, euro with two decimals.
    pub amount: String,
    /// Status.
    pub status: LotStatus,
    /// Bids received.
    pub bids_count: Option<i64>,
    /// The award, once awarded.
    pub award: Option<AwardView>,
}

impl LotView {
    /// Builds the view.
    pub fn new(row: sql::LotRow) -> LotView {
        let award = match (row.supplier_name, row.supplier_cf, row.award_cents) {
            (Some(supplier_name), Some(supplier_cf), Some(cents)) => Some(AwardView {
                supplier_name,
                supplier_cf,
                amount: Euro(cents).to_decimal(),
                ribasso: row.ribasso_milli.map(|r| Ribasso(r).to_decimal()),
                awarded_on: row.awarded_on,
                contract_signed_on: row.contract_signed_on,
            }),
            _ => None,
        };
        LotView {
            id: row.id,
            lot_no: row.lot_no,
            cig: row.cig,
            description: row.description,
            cpv: row.cpv,
            amount: Euro(row.amount_cents).to_decimal(),
            status: row.status,
            bids_count: row.bids_count,
            award,
        }
    }
}

/// One step of a procedure's history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TransitionView {
    /// Id; null for an import, recorded once for its whole import batch.
    pub id: Option<i64>,
    /// State before (null for the creation).
    pub from: Option<State>,
    /// State after.
    pub to: State,
    /// Reason given.
    pub reason: String,
    /// Who.
    pub actor: String,
    /// When, RFC 3339.
    pub at: String,
}

impl TransitionView {
    /// Builds the view.
    pub fn new(row: sql::TransitionRow) -> TransitionView {
        TransitionView {
            id: row.id,
            from: row.from_state,
            to: row.to_state,
            reason: row.reason,
            actor: row.actor,
            at: db::rfc3339(row.at),
        }
    }
}

/// An attachment as listed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProcedureAttachmentView {
    /// Id.
    pub id: i64,
    /// File name.
    pub filename: String,
    /// Media type.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// SHA-256, hex.
    pub sha256: String,
    /// Who uploaded it.
    pub uploaded_by: String,
    /// When, RFC 3339.
    pub created_at: String,
}

impl ProcedureAttachmentView {
    /// Builds the view.
    pub fn new(row: crate::attachments::AttachmentRow) -> ProcedureAttachmentView {
        ProcedureAttachmentView {
            id: row.id,
            filename: row.filename,
            content_type: row.media_type,
            size: row.size,
            sha256: row.sha256,
            uploaded_by: row.uploaded_by.unwrap_or_default(),
            created_at: db::rfc3339(row.created_at),
        }
    }
}

/// What the caller may do on a procedure now.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Permissions {
    /// Change the request content (`PUT /v1/sua/procedures/{id}`).
    pub edit: bool,
    /// Run the procedure: tender data, lots, awards, shares (SUA staff, procedure not final).
    pub manage: bool,
    /// Attach files.
    pub attach: bool,
}

/// A procedure with its lots, history, attachments and what the caller may do.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProcedureDetail {
    /// The procedure.
    pub procedure: ProcedureView,
    /// Lots by number.
    pub lots: Vec<LotView>,
    /// History, oldest first.
    pub transitions: Vec<TransitionView>,
    /// Attachments.
    pub attachments: Vec<ProcedureAttachmentView>,
    /// States the caller may move it to now.
    pub allowed_transitions: Vec<State>,
    /// What else the caller may do.
    pub permissions: Permissions,
}

/// The states `identity` may move a procedure to, given the state machine and the policy.
pub fn allowed_transitions(identity: &Identity, comuni: &[String], from: State) -> Vec<State> {
    crate::sua::MACHINE.allowed(identity, comuni, from)
}

/// What `identity` may do on a procedure serving `comuni` in `state`.
pub fn permissions(identity: &Identity, comuni: &[String], state: State) -> Permissions {
    let edit = policy::authorize(identity, Action::EditProcedure { comuni, state }).is_ok();
    let manage = edit && policy::authorize(identity, Action::ManageProcedures).is_ok();
    Permissions {
        edit,
        manage,
        attach: edit,
    }
}

/// Records a change to a convenzione in the audit log.
pub fn record_convention(
    tx: &Connection,
    actor: &audit::Actor,
    id: i64,
    action: &str,
    detail: &serde_json::Value,
    now: i64,
) -> Result<(), AppError> {
    audit::record(
        tx,
        actor,
        action,
        &format!("sua_convention:{id}"),
        detail,
        now,
    )?;
    Ok(())
}
