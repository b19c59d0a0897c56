//! Running a procedure: lists and detail, state transitions with the data each state needs,
//! tender data (numero gara and dates), lots with their CIG, awards, attachments.

use serde::Deserialize;
use serde_json::json;

use super::requests::{amount_field, check_uploads};
use super::{
    FieldErrors, LotView, ProcedureAttachmentView, ProcedureDetail, ProcedureView, TransitionView,
    allowed_transitions, begin, commit_view, comuni_of, conflict, display_name, load_visible,
    optional_text, permissions, record_change, run_change, text_field,
};
use crate::auth::Identity;
use crate::db;
use crate::error::AppError;
use crate::lifecycle::Step;
use crate::state::AppState;
use crate::sua::day::{self, Day};
use crate::sua::db as sql;
use crate::sua::fiscal::FiscalCode;
use crate::sua::policy::{self, Action, Scope};
use crate::sua::{
    ATTACHMENTS, Cig, ContractType, Cpv, Euro, LotStatus, MACHINE, OBJECT_MAX, Ribasso, State,
    TEXT_MAX,
};
use crate::upload::Upload;

// ---------------------------------------------------------------------------------------
// Reading

/// List filters from the query string.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProcedureQuery {
    /// Only this state.
    pub state: Option<State>,
    /// Only requests not yet accepted (submitted or returned).
    pub requests: Option<bool>,
    /// Only procedures serving this Comune (SUA staff; a Comune user always sees those
    /// serving it).
    pub comune: Option<String>,
    /// Only this reference year.
    pub year: Option<i32>,
    /// Only this contract type.
    pub contract_type: Option<ContractType>,
    /// Only aggregated initiatives (true) or only ordinary procedures (false).
    pub aggregated: Option<bool>,
    /// Text in the object, description, CUP, numero gara or a lot's CIG.
    pub q: Option<String>,
    /// Page size: 50 by default; values above 200 are reduced to 200, and 0 is read as 1.
    #[param(inline)]
    pub limit: Option<pico_service::Limit>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// The SQL filter of `query` for `identity`: a Comune user always sees their own Comune.
fn procedure_filter(
    identity: &Identity,
    query: &ProcedureQuery,
    before_id: Option<i64>,
) -> Result<sql::ProcedureFilter, AppError> {
    let comune = match policy::sua_scope(identity)? {
        Scope::All => query.comune.clone().filter(|c| !c.trim().is_empty()),
        Scope::Comune(own) => Some(own),
    };
    Ok(sql::ProcedureFilter {
        comune,
        state: query.state,
        requests_only: query.requests.unwrap_or(false),
        year: query.year,
        contract_type: query.contract_type,
        aggregated: query.aggregated,
        text: optional_text(query.q.as_deref()).map(str::to_owned),
        before_id,
    })
}

/// Procedures visible to the caller, newest first.
pub async fn list_procedures(
    state: &AppState,
    identity: &Identity,
    query: &ProcedureQuery,
    limit: u32,
    before_id: Option<i64>,
) -> Result<Vec<ProcedureView>, AppError> {
    let filter = procedure_filter(identity, query, before_id)?;
    state
        .db
        .call(move |conn| {
            let rows = sql::procedures(conn, &filter, limit)?;
            rows.into_iter()
                .map(|row| {
                    let participants = sql::participants(conn, row.id)?;
                    Ok(ProcedureView::new(row, &participants))
                })
                .collect::<Result<Vec<_>, AppError>>()
        })
        .await
}

/// One page of the procedures visible to the caller in the order `order_by` (built by
/// `web::list` from `sql::PROCEDURE_SORT_COLUMNS`), with how many match in all.
pub async fn list_procedures_page(
    state: &AppState,
    identity: &Identity,
    query: &ProcedureQuery,
    order_by: String,
    limit: u32,
    offset: u32,
) -> Result<(Vec<ProcedureView>, u64), AppError> {
    let filter = procedure_filter(identity, query, None)?;
    state
        .db
        .call(move |conn| {
            let total = sql::count_procedures(conn, &filter)?;
            let rows = sql::procedures_page(conn, &filter, &order_by, limit, offset)?;
            let views = rows
                .into_iter()
                .map(|row| {
                    let participants = sql::participants(conn, row.id)?;
                    Ok(ProcedureView::new(row, &participants))
                })
                .collect::<Result<Vec<_>, AppError>>()?;
            Ok((views, total))
        })
        .await
}

/// The reference years that have procedures, for the list filter.
pub async fn years(state: &AppState) -> Result<Vec<i64>, AppError> {
    state
        .db
        .call(|conn| sql::years(conn).map_err(AppError::from))
        .await
}

/// A procedure with lots, history, attachments and what the caller may do.
pub async fn procedure_detail(
    state: &AppState,
    identity: &Identity,
    id: i64,
) -> Result<ProcedureDetail, AppError> {
    let identity = identity.clone();
    state
        .db
        .call(move |conn| {
            let (row, participants) = load_visible(conn, &identity, id)?;
            let comuni = comuni_of(&participants);
            let lots = sql::lots(conn, id)?;
            let transitions = sql::transitions(conn, id)?;
            let attachments = ATTACHMENTS.list(conn, id)?;
            Ok(ProcedureDetail {
                allowed_transitions: allowed_transitions(&identity, &comuni, row.state),
                permissions: permissions(&identity, &comuni, row.state),
                procedure: ProcedureView::new(row, &participants),
                lots: lots.into_iter().map(LotView::new).collect(),
                transitions: transitions.into_iter().map(TransitionView::new).collect(),
                attachments: attachments
                    .into_iter()
                    .map(ProcedureAttachmentView::new)
                    .collect(),
            })
        })
        .await
}

/// The history of a procedure.
pub async fn transitions(
    state: &AppState,
    identity: &Identity,
    id: i64,
) -> Result<Vec<TransitionView>, AppError> {
    let identity = identity.clone();
    state
        .db
        .call(move |conn| {
            load_visible(conn, &identity, id)?;
            Ok(sql::transitions(conn, id)?
                .into_iter()
                .map(TransitionView::new)
                .collect())
        })
        .await
}

/// The lots of a procedure.
pub async fn lots(
    state: &AppState,
    identity: &Identity,
    id: i64,
) -> Result<Vec<LotView>, AppError> {
    let identity = identity.clone();
    state
        .db
        .call(move |conn| {
            load_visible(conn, &identity, id)?;
            Ok(sql::lots(conn, id)?.into_iter().map(LotView::new).collect())
        })
        .await
}

// ---------------------------------------------------------------------------------------
// Tender data and transitions

/// The numero gara and dates of the tender. In a `PATCH`, an absent field stays as it is and
/// an empty string clears it; in a transition, the fields are set with the move.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenderInput {
    /// ANAC numero gara (digits).
    #[serde(default)]
    #[schema(example = "8315069")]
    pub anac_gara: Option<String>,
    /// Publication date, `YYYY-MM-DD` (required to publish).
    #[serde(default)]
    pub published_on: Option<String>,
    /// Bids deadline, `YYYY-MM-DD`, after the publication (required to publish).
    #[serde(default)]
    pub deadline_on: Option<String>,
    /// Award date, `YYYY-MM-DD` (defaults to the latest award of the lots).
    #[serde(default)]
    pub awarded_on: Option<String>,
    /// Contract date, `YYYY-MM-DD` (required to move to contract_signed).
    #[serde(default)]
    pub contract_signed_on: Option<String>,
    /// Completion date, `YYYY-MM-DD` (required to complete).
    #[serde(default)]
    pub completed_on: Option<String>,
}

impl TenderInput {
    fn is_empty(&self) -> bool {
        [
            &self.anac_gara,
            &self.published_on,
            &self.deadline_on,
            &self.awarded_on,
            &self.contract_signed_on,
            &self.completed_on,
        ]
        .iter()
        .all(|field| field.is_none())
    }
}

/// Body of `POST /v1/sua/procedures/{id}/transitions`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionInput {
    /// Target state.
    pub to: State,
    /// The state the caller saw: if the procedure has left it meanwhile, 409 `stale_state`
    /// and nothing changes. By default, the state it has when the call arrives.
    #[serde(default)]
    pub from: Option<State>,
    /// Reason: required to return a request, cancel or declare deserted.
    #[serde(default)]
    pub reason: Option<String>,
    /// ANAC numero gara to set with the move (SUA staff).
    #[serde(default)]
    pub anac_gara: Option<String>,
    /// Publication date to set with the move, `YYYY-MM-DD` (SUA staff).
    #[serde(default)]
    pub published_on: Option<String>,
    /// Bids deadline to set with the move, `YYYY-MM-DD` (SUA staff).
    #[serde(default)]
    pub deadline_on: Option<String>,
    /// Award date to set with the move, `YYYY-MM-DD` (SUA staff).
    #[serde(default)]
    pub awarded_on: Option<String>,
    /// Contract date to set with the move, `YYYY-MM-DD` (SUA staff).
    #[serde(default)]
    pub contract_signed_on: Option<String>,
    /// Completion date to set with the move, `YYYY-MM-DD` (SUA staff).
    #[serde(default)]
    pub completed_on: Option<String>,
}

impl TransitionInput {
    /// A move to `to` with nothing else.
    pub fn to(to: State) -> TransitionInput {
        TransitionInput {
            to,
            from: None,
            reason: None,
            anac_gara: None,
            published_on: None,
            deadline_on: None,
            awarded_on: None,
            contract_signed_on: None,
            completed_on: None,
        }
    }

    /// The tender data carried by the move.
    pub fn tender(&self) -> TenderInput {
        TenderInput {
            anac_gara: self.anac_gara.clone(),
            published_on: self.published_on.clone(),
            deadline_on: self.deadline_on.clone(),
            awarded_on: self.awarded_on.clone(),
            contract_signed_on: self.contract_signed_on.clone(),
            completed_on: self.completed_on.clone(),
        }
    }
}

/// Applies `input` over `current`, gathering field messages.
fn merge_tender(
    current: &sql::TenderFields,
    input: &TenderInput,
    errors: &mut FieldErrors,
) -> sql::TenderFields {
    let mut merged = current.clone();
    if let Some(text) = &input.anac_gara {
        let text = text.trim();
        if text.is_empty() {
            merged.anac_gara = None;
        } else if text.len() <= 12 && text.bytes().all(|b| b.is_ascii_digit()) {
            merged.anac_gara = Some(text.to_owned());
        } else {
            errors.add(
                "anac_gara",
                format!("{text:?} non è un numero gara ANAC: solo cifre, al massimo 12"),
            );
        }
    }
    let mut date = |field: &str, value: &Option<String>, target: &mut Option<String>| {
        if let Some(text) = value {
            if text.trim().is_empty() {
                *target = None;
            } else if let Some(day) = errors.take(field, Day::parse(text)) {
                *target = Some(day.iso());
            }
        }
    };
    date(
        "published_on",
        &input.published_on,
        &mut merged.published_on,
    );
    date("deadline_on", &input.deadline_on, &mut merged.deadline_on);
    date("awarded_on", &input.awarded_on, &mut merged.awarded_on);
    date(
        "contract_signed_on",
        &input.contract_signed_on,
        &mut merged.contract_signed_on,
    );
    date(
        "completed_on",
        &input.completed_on,
        &mut merged.completed_on,
    );
    merged
}

/// The dates a procedure in `state` must have, and their order.
fn check_tender(tender: &sql::TenderFields, state: State, errors: &mut FieldErrors) {
    // Cancelled and deserted procedures keep whatever dates they had.
    let position = |s: State| State::ALL.iter().position(|x| *x == s).unwrap_or(0);
    let reached = |milestone: State| {
        !matches!(state, State::Cancelled | State::Deserted)
            && position(state) >= position(milestone)
    };
    let mut require = |field: &str, value: &Option<String>, milestone: State, what: &str| {
        if reached(milestone) && value.is_none() {
            errors.add(field, format!("Obbligatoria: {what}"));
        }
    };
    require(
        "published_on",
        &tender.published_on,
        State::Published,
        "indicate la data di pubblicazione del bando",
    );
    require(
        "deadline_on",
        &tender.deadline_on,
        State::Published,
        "indicate la scadenza per la presentazione delle offerte",
    );
    require(
        "contract_signed_on",
        &tender.contract_signed_on,
        State::ContractSigned,
        "indicate la data di stipula del contratto",
    );
    require(
        "completed_on",
        &tender.completed_on,
        State::Completed,
        "indicate la data di conclusione",
    );
    let after = |errors: &mut FieldErrors,
                 field: &str,
                 later: &Option<String>,
                 earlier: &Option<String>,
                 message: &str| {
        if let (Some(later), Some(earlier)) = (later, earlier)
            && later < earlier
        {
            errors.add(field, format!("{message} ({})", day::italian(earlier)));
        }
    };
    if let (Some(deadline), Some(published)) = (&tender.deadline_on, &tender.published_on)
        && deadline <= published
    {
        errors.add(
            "deadline_on",
            format!(
                "La scadenza delle offerte deve seguire la pubblicazione ({})",
                day::italian(published)
            ),
        );
    }
    after(
        errors,
        "awarded_on",
        &tender.awarded_on,
        &tender.published_on,
        "L'aggiudicazione non può precedere la pubblicazione",
    );
    after(
        errors,
        "contract_signed_on",
        &tender.contract_signed_on,
        &tender.awarded_on,
        "La stipula non può precedere l'aggiudicazione",
    );
    after(
        errors,
        "completed_on",
        &tender.completed_on,
        &tender.contract_signed_on,
        "La conclusione non può precedere la stipula",
    );
}

/// Moves a procedure to `input.to`, if the policy, the state machine and the data allow it.
pub async fn transition(
    state: &AppState,
    identity: &Identity,
    id: i64,
    input: &TransitionInput,
) -> Result<ProcedureView, AppError> {
    let identity = identity.clone();
    let signer = state.signer.clone();
    let input = input.clone();
    run_change(state, move |tx, now| {
        let (row, participants) = load_visible(&tx, &identity, id)?;
        let comuni = comuni_of(&participants);
        let (from, to) = (input.from.unwrap_or(row.state), input.to);
        // Stale (the procedure left `from`), refused by the policy or not a move of the
        // machine: nothing else is looked at.
        MACHINE.check(&tx, &Step::new(&identity, &comuni, id, from, to).at(now))?;
        let mut errors = FieldErrors::new();
        let reason = errors
            .take("reason", text_field(input.reason.as_deref().unwrap_or_default(), TEXT_MAX, false))
            .unwrap_or_default();
        if reason.is_empty() && matches!(to, State::Returned | State::Cancelled | State::Deserted) {
            let why = match to {
                State::Returned => "Indicate il motivo della restituzione: il Comune lo leggerà per correggere la richiesta",
                State::Cancelled => "Indicate il motivo dell'annullamento",
                _ => "Indicate il motivo per cui la procedura è deserta",
            };
            errors.add("reason", why);
        }
        let tender_input = input.tender();
        if !tender_input.is_empty() && policy::authorize(&identity, Action::ManageProcedures).is_err() {
            return Err(AppError::Forbidden);
        }
        let current = sql::TenderFields::of(&row);
        let mut tender = merge_tender(&current, &tender_input, &mut errors);
        let lots = sql::lots(&tx, id)?;
        if to == State::Awarded && tender.awarded_on.is_none() {
            tender.awarded_on = lots.iter().filter_map(|l| l.awarded_on.clone()).max();
        }
        check_tender(&tender, to, &mut errors);
        errors.check()?;
        match to {
            State::Published => {
                let active: Vec<&sql::LotRow> = lots.iter().filter(|l| l.status == LotStatus::Active).collect();
                if active.is_empty() {
                    return Err(conflict("lots_incomplete", "Per pubblicare serve almeno un lotto: aggiungetelo con il suo CIG."));
                }
                let without: Vec<String> = active.iter().filter(|l| l.cig.is_none()).map(|l| l.lot_no.to_string()).collect();
                if !without.is_empty() {
                    return Err(conflict("lots_incomplete", format!("Per pubblicare ogni lotto deve avere il suo CIG: manca ai lotti {}.", without.join(", "))));
                }
            }
            State::Awarded => {
                let open: Vec<String> = lots.iter().filter(|l| l.status == LotStatus::Active).map(|l| l.lot_no.to_string()).collect();
                if !open.is_empty() {
                    return Err(conflict("lots_incomplete", format!(
                        "Per aggiudicare, ogni lotto deve essere aggiudicato o dichiarato deserto o annullato: restano aperti i lotti {}.",
                        open.join(", ")
                    )));
                }
                if !lots.iter().any(|l| l.status == LotStatus::Awarded) {
                    return Err(conflict("lots_incomplete", "Nessun lotto è aggiudicato: se non ci sono offerte valide, dichiarate la procedura deserta."));
                }
            }
            State::Submitted => {
                if let (Some(code), Some(name)) = (&row.comune_code, &row.comune_name) {
                    super::conventions::require_convention(&tx, code, name, row.contract_type, "contract_type")?;
                }
            }
            _ => {}
        }
        MACHINE.enter(&tx, &Step::new(&identity, &comuni, id, from, to).reason(&reason).at(now))?;
        let return_reason = (to == State::Returned).then_some(reason.as_str());
        sql::after_move(&tx, id, to, return_reason, now)?;
        if tender != current {
            sql::update_tender(&tx, id, &tender, now)?;
        }
        match to {
            State::Deserted => {
                sql::close_active_lots(&tx, id, LotStatus::Deserted)?;
            }
            State::Cancelled => {
                sql::close_active_lots(&tx, id, LotStatus::Cancelled)?;
            }
            State::ContractSigned => {
                if let Some(day) = &tender.contract_signed_on {
                    sql::sign_awarded_lots(&tx, id, day)?;
                }
            }
            _ => {}
        }
        // The lifecycle wrote the history and the audit line; the national rows follow.
        crate::sua::national::refresh_procedures(&tx, &signer, &[id])?;
        commit_view(tx, id)
    })
    .await
}

/// Loads a procedure the caller runs: visible, SUA staff, not final.
fn load_managed(
    tx: &rusqlite::Connection,
    identity: &Identity,
    id: i64,
) -> Result<(sql::ProcedureRow, Vec<sql::ParticipantRow>), AppError> {
    let (row, participants) = load_visible(tx, identity, id)?;
    policy::authorize(identity, Action::ManageProcedures)?;
    if row.state.is_final() {
        return Err(conflict(
            "procedure_final",
            format!(
                "La procedura è «{}»: non si può più modificare.",
                row.state.label()
            ),
        ));
    }
    policy::authorize(
        identity,
        Action::EditProcedure {
            comuni: &comuni_of(&participants),
            state: row.state,
        },
    )?;
    Ok((row, participants))
}

/// Changes the tender data (SUA staff, procedure accepted and not final).
pub async fn update_tender(
    state: &AppState,
    identity: &Identity,
    id: i64,
    input: TenderInput,
) -> Result<ProcedureView, AppError> {
    let actor = identity.actor();
    let identity = identity.clone();
    let signer = state.signer.clone();
    run_change(state, move |tx, now| {
        let (row, _) = load_managed(&tx, &identity, id)?;
        if row.state.is_request() {
            return Err(conflict(
                "not_accepted",
                "I dati di gara si inseriscono dopo la presa in carico della richiesta.",
            ));
        }
        let mut errors = FieldErrors::new();
        let current = sql::TenderFields::of(&row);
        let tender = merge_tender(&current, &input, &mut errors);
        check_tender(&tender, row.state, &mut errors);
        errors.check()?;
        sql::update_tender(&tx, id, &tender, now)?;
        record_change(
            &tx,
            &signer,
            &actor,
            id,
            "sua.procedure.tender",
            &json!({"anac_gara": tender.anac_gara, "published_on": tender.published_on, "deadline_on": tender.deadline_on,
                    "awarded_on": tender.awarded_on, "contract_signed_on": tender.contract_signed_on, "completed_on": tender.completed_on}),
            now,
        )?;
        commit_view(tx, id)
    })
    .await
}

// ---------------------------------------------------------------------------------------
// Lots and awards

/// Body of `POST /v1/sua/procedures/{id}/lots`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLot {
    /// CIG, 10 characters (required before publication).
    #[serde(default)]
    #[schema(example = "90940496A3")]
    pub cig: Option<String>,
    /// Description, 1–500 characters.
    pub description: String,
    /// CPV code of the lot.
    #[serde(default)]
    pub cpv: Option<String>,
    /// Base amount in euro, as text.
    #[schema(example = "150000.00")]
    pub amount: String,
}

/// Body of `PATCH /v1/sua/procedures/{id}/lots/{lot}`: absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LotPatch {
    /// CIG (before publication; empty clears it).
    #[serde(default)]
    pub cig: Option<String>,
    /// Description (before publication).
    #[serde(default)]
    pub description: Option<String>,
    /// CPV code (before publication; empty clears it).
    #[serde(default)]
    pub cpv: Option<String>,
    /// Base amount in euro, as text (before publication).
    #[serde(default)]
    pub amount: Option<String>,
    /// Bids received (once bids are closed).
    #[serde(default)]
    pub bids_count: Option<i64>,
    /// `active`, `deserted` or `cancelled` (an award is set with `PUT …/award`).
    #[serde(default)]
    pub status: Option<LotStatus>,
}

/// Body of `PUT /v1/sua/procedures/{id}/lots/{lot}/award`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AwardInput {
    /// Supplier name.
    pub supplier_name: String,
    /// Supplier's partita IVA (11 digits) or codice fiscale (16 characters).
    #[schema(example = "03213200755")]
    pub supplier_cf: String,
    /// Award amount in euro, as text.
    #[schema(example = "132000.00")]
    pub amount: String,
    /// Ribasso in percent with up to three decimals; computed from the lot's base amount
    /// and the award amount when omitted.
    #[serde(default)]
    #[schema(example = "12.000")]
    pub ribasso: Option<String>,
    /// Award date, `YYYY-MM-DD`.
    pub awarded_on: String,
    /// Bids received for the lot.
    #[serde(default)]
    pub bids_count: Option<i64>,
}

fn lots_editable(state: State) -> Result<(), AppError> {
    if matches!(state, State::Received | State::InPreparation) {
        Ok(())
    } else {
        Err(conflict(
            "lots_locked",
            format!(
                "I lotti si definiscono tra la presa in carico e la pubblicazione; la procedura è «{}».",
                state.label()
            ),
        ))
    }
}

fn cig_field(text: &str) -> Result<String, String> {
    Cig::parse(text).map(|c| c.as_str().to_owned()).map_err(|_| {
        format!(
            "{:?} non è un CIG: il CIG ha esattamente 10 caratteri, lettere e cifre (es. 90940496A3)",
            text.trim()
        )
    })
}

fn cpv_field(text: &str) -> Result<String, String> {
    Cpv::parse(text)
        .map(|c| c.as_str().to_owned())
        .map_err(|_| super::requests::cpv_message(text))
}

/// Refuses a CIG already held by another lot.
fn check_cig_free(
    tx: &rusqlite::Connection,
    cig: Option<&str>,
    lot_id: Option<i64>,
    errors: &mut FieldErrors,
) -> Result<(), AppError> {
    if let Some(cig) = cig
        && let Some((procedure, other, lot_no)) = sql::lot_with_cig(tx, cig)?
        && Some(other) != lot_id
    {
        errors.add(
            "cig",
            format!(
                "Il CIG {cig} è già assegnato al lotto {lot_no} della procedura n. {procedure}"
            ),
        );
    }
    Ok(())
}

async fn lot_change<F>(
    state: &AppState,
    identity: &Identity,
    id: i64,
    change: F,
) -> Result<Option<LotView>, AppError>
where
    F: FnOnce(
            &rusqlite::Transaction<'_>,
            &sql::ProcedureRow,
        ) -> Result<(Option<i64>, &'static str, serde_json::Value), AppError>
        + Send
        + 'static,
{
    let actor = identity.actor();
    let identity = identity.clone();
    let signer = state.signer.clone();
    run_change(state, move |tx, now| {
        let (row, _) = load_managed(&tx, &identity, id)?;
        let (lot, action, detail) = change(&tx, &row)?;
        sql::touch(&tx, id, now)?;
        record_change(&tx, &signer, &actor, id, action, &detail, now)?;
        let view = match lot {
            Some(lot) => sql::lot(&tx, id, lot)?.map(LotView::new),
            None => None,
        };
        tx.commit()?;
        Ok::<_, AppError>(view)
    })
    .await
}

/// Adds a lot (SUA staff, between acceptance and publication).
pub async fn add_lot(
    state: &AppState,
    identity: &Identity,
    id: i64,
    input: NewLot,
) -> Result<LotView, AppError> {
    let view = lot_change(state, identity, id, move |tx, row| {
        lots_editable(row.state)?;
        let mut errors = FieldErrors::new();
        let cig = match optional_text(input.cig.as_deref()) {
            Some(text) => errors.take("cig", cig_field(text)),
            None => None,
        };
        let description = errors.take(
            "description",
            text_field(&input.description, OBJECT_MAX, true),
        );
        let cpv = match optional_text(input.cpv.as_deref()) {
            Some(text) => errors.take("cpv", cpv_field(text)),
            None => None,
        };
        let amount = errors.take("amount", amount_field(&input.amount, "l'importo del lotto"));
        check_cig_free(tx, cig.as_deref(), None, &mut errors)?;
        errors.check()?;
        let (Some(description), Some(amount)) = (description, amount) else {
            return Err(AppError::Internal("validated lot fields missing".into()));
        };
        let lot = sql::insert_lot(
            tx,
            row.id,
            &sql::LotFields {
                cig: cig.clone(),
                description,
                cpv,
                amount_cents: amount.cents(),
            },
        )?;
        Ok((
            Some(lot),
            "sua.lot.add",
            json!({"lot": lot, "cig": cig, "amount_cents": amount.cents()}),
        ))
    })
    .await?;
    view.ok_or(AppError::NotFound)
}

/// Changes a lot: its structure before publication, its bids once bids are closed, its
/// status (deserted, cancelled, active again) until the award.
pub async fn update_lot(
    state: &AppState,
    identity: &Identity,
    id: i64,
    lot_id: i64,
    patch: LotPatch,
) -> Result<LotView, AppError> {
    let view = lot_change(state, identity, id, move |tx, row| {
        let lot = sql::lot(tx, row.id, lot_id)?.ok_or(AppError::NotFound)?;
        let structural = patch.cig.is_some()
            || patch.description.is_some()
            || patch.cpv.is_some()
            || patch.amount.is_some();
        if structural {
            lots_editable(row.state)?;
        }
        let mut errors = FieldErrors::new();
        let mut fields = sql::LotFields {
            cig: lot.cig.clone(),
            description: lot.description.clone(),
            cpv: lot.cpv.clone(),
            amount_cents: lot.amount_cents,
        };
        if let Some(text) = &patch.cig {
            fields.cig = match optional_text(Some(text)) {
                Some(text) => errors.take("cig", cig_field(text)),
                None => None,
            };
            check_cig_free(tx, fields.cig.as_deref(), Some(lot.id), &mut errors)?;
        }
        if let Some(text) = &patch.description
            && let Some(description) =
                errors.take("description", text_field(text, OBJECT_MAX, true))
        {
            fields.description = description;
        }
        if let Some(text) = &patch.cpv {
            fields.cpv = match optional_text(Some(text)) {
                Some(text) => errors.take("cpv", cpv_field(text)),
                None => None,
            };
        }
        if let Some(text) = &patch.amount
            && let Some(amount) = errors.take("amount", amount_field(text, "l'importo del lotto"))
        {
            fields.amount_cents = amount.cents();
        }
        if let Some(bids) = patch.bids_count {
            if !matches!(
                row.state,
                State::BidsClosed | State::Evaluation | State::Awarded | State::ContractSigned
            ) {
                return Err(conflict(
                    "bids_not_closed",
                    "Il numero di offerte si registra dalla chiusura delle offerte in poi.",
                ));
            }
            if !(0..=100_000).contains(&bids) {
                errors.add("bids_count", "Indicate un numero di offerte tra 0 e 100000");
            }
        }
        if let Some(status) = patch.status {
            if status == LotStatus::Awarded {
                errors.add(
                    "status",
                    "Per aggiudicare un lotto indicate l'aggiudicatario (PUT …/award)",
                );
            } else if lot.status == LotStatus::Awarded && status != LotStatus::Awarded {
                return Err(conflict(
                    "lot_awarded",
                    "Il lotto è aggiudicato: annullate prima l'aggiudicazione.",
                ));
            } else if !matches!(
                row.state,
                State::Received
                    | State::InPreparation
                    | State::Published
                    | State::BidsClosed
                    | State::Evaluation
            ) {
                return Err(conflict(
                    "lots_locked",
                    "Lo stato dei lotti si cambia solo prima dell'aggiudicazione della procedura.",
                ));
            }
        }
        errors.check()?;
        if structural {
            sql::update_lot_fields(tx, lot.id, &fields)?;
        }
        if let Some(bids) = patch.bids_count {
            sql::set_bids(tx, lot.id, Some(bids))?;
        }
        if let Some(status) = patch.status {
            sql::set_lot_status(tx, lot.id, status)?;
        }
        Ok((
            Some(lot.id),
            "sua.lot.update",
            json!({"lot": lot.id, "cig": fields.cig, "amount_cents": fields.amount_cents,
                   "bids_count": patch.bids_count, "status": patch.status.map(LotStatus::as_str)}),
        ))
    })
    .await?;
    view.ok_or(AppError::NotFound)
}

/// Deletes a lot (before publication); the following lots are renumbered.
pub async fn delete_lot(
    state: &AppState,
    identity: &Identity,
    id: i64,
    lot_id: i64,
) -> Result<(), AppError> {
    lot_change(state, identity, id, move |tx, row| {
        lots_editable(row.state)?;
        let lot = sql::lot(tx, row.id, lot_id)?.ok_or(AppError::NotFound)?;
        sql::delete_lot(tx, row.id, lot.id)?;
        Ok((
            None,
            "sua.lot.delete",
            json!({"lot": lot.id, "lot_no": lot.lot_no, "cig": lot.cig}),
        ))
    })
    .await?;
    Ok(())
}

/// Records (or corrects) the award of a lot, during the evaluation or after the award.
pub async fn set_award(
    state: &AppState,
    identity: &Identity,
    id: i64,
    lot_id: i64,
    input: AwardInput,
) -> Result<LotView, AppError> {
    let view = lot_change(state, identity, id, move |tx, row| {
        let lot = sql::lot(tx, row.id, lot_id)?.ok_or(AppError::NotFound)?;
        if !matches!(row.state, State::Evaluation | State::Awarded) {
            return Err(conflict(
                "not_in_evaluation",
                format!(
                    "L'aggiudicazione di un lotto si registra durante la valutazione delle offerte; la procedura è «{}».",
                    row.state.label()
                ),
            ));
        }
        if matches!(lot.status, LotStatus::Deserted | LotStatus::Cancelled) {
            return Err(conflict(
                "lot_closed",
                format!(
                    "Il lotto {} è «{}»: riattivatelo prima di aggiudicarlo.",
                    lot.lot_no,
                    lot.status.label()
                ),
            ));
        }
        let mut errors = FieldErrors::new();
        let supplier_name = errors.take(
            "supplier_name",
            text_field(&input.supplier_name, OBJECT_MAX, true),
        );
        let supplier_cf = errors.take(
            "supplier_cf",
            FiscalCode::parse(&input.supplier_cf).map(|c| c.as_str().to_owned()),
        );
        let amount = errors.take("amount", amount_field(&input.amount, "l'importo di aggiudicazione"));
        let ribasso = match optional_text(input.ribasso.as_deref()) {
            Some(text) => errors
                .take(
                    "ribasso",
                    Ribasso::parse(text).map_err(|_| {
                        format!(
                            "{text:?} non è un ribasso valido: una percentuale con al massimo tre decimali, es. 12,345"
                        )
                    }),
                )
                .map(|r| r.0),
            None => amount
                .and_then(|award| Ribasso::between(Euro(lot.amount_cents), award))
                .map(|r| r.0),
        };
        let awarded_on = errors.take(
            "awarded_on",
            if input.awarded_on.trim().is_empty() {
                Err("Indicate la data di aggiudicazione".to_owned())
            } else {
                Day::parse(&input.awarded_on).and_then(|day| {
                    if day > Day::today() {
                        Err("La data di aggiudicazione non può essere nel futuro".to_owned())
                    } else {
                        Ok(day.iso())
                    }
                })
            },
        );
        if let (Some(day), Some(published)) = (&awarded_on, &row.published_on)
            && day < published
        {
            errors.add(
                "awarded_on",
                format!(
                    "L'aggiudicazione non può precedere la pubblicazione ({})",
                    day::italian(published)
                ),
            );
        }
        if let Some(bids) = input.bids_count
            && !(1..=100_000).contains(&bids)
        {
            errors.add(
                "bids_count",
                "Un lotto aggiudicato ha ricevuto almeno un'offerta",
            );
        }
        errors.check()?;
        let (Some(supplier_name), Some(supplier_cf), Some(amount), Some(awarded_on)) =
            (supplier_name, supplier_cf, amount, awarded_on)
        else {
            return Err(AppError::Internal("validated award fields missing".into()));
        };
        sql::set_award(
            tx,
            lot.id,
            &sql::AwardFields {
                supplier_name,
                supplier_cf,
                award_cents: amount.cents(),
                ribasso_milli: ribasso,
                awarded_on: awarded_on.clone(),
                bids_count: input.bids_count,
            },
        )?;
        Ok((
            Some(lot.id),
            "sua.lot.award",
            json!({"lot": lot.id, "award_cents": amount.cents(), "ribasso_milli": ribasso, "awarded_on": awarded_on}),
        ))
    })
    .await?;
    view.ok_or(AppError::NotFound)
}

/// Removes the award of a lot during the evaluation (the lot is open again).
pub async fn clear_award(
    state: &AppState,
    identity: &Identity,
    id: i64,
    lot_id: i64,
) -> Result<LotView, AppError> {
    let view = lot_change(state, identity, id, move |tx, row| {
        let lot = sql::lot(tx, row.id, lot_id)?.ok_or(AppError::NotFound)?;
        if row.state != State::Evaluation {
            return Err(conflict(
                "not_in_evaluation",
                "Un'aggiudicazione si annulla solo durante la valutazione: una procedura aggiudicata deve avere ogni lotto aggiudicato o chiuso.",
            ));
        }
        if lot.status != LotStatus::Awarded {
            return Err(conflict("lot_not_awarded", "Il lotto non è aggiudicato."));
        }
        sql::clear_award(tx, lot.id)?;
        Ok((Some(lot.id), "sua.lot.award_clear", json!({"lot": lot.id})))
    })
    .await?;
    view.ok_or(AppError::NotFound)
}

// ---------------------------------------------------------------------------------------
// Attachments

/// Adds attachments: the Comune while its request is open, SUA staff while the procedure is
/// not final.
pub async fn add_attachments(
    state: &AppState,
    identity: &Identity,
    id: i64,
    uploads: Vec<Upload>,
) -> Result<Vec<ProcedureAttachmentView>, AppError> {
    if uploads.is_empty() {
        let mut errors = FieldErrors::new();
        errors.add("attachment", "Scegliete un file da allegare");
        return Err(errors.into());
    }
    let uploads = check_uploads(uploads)?;
    let actor = identity.actor();
    let who = display_name(identity);
    let identity = identity.clone();
    let views = state
        .db
        .call(move |conn| {
            let now = db::now();
            let tx = begin(conn)?;
            let (row, participants) = load_visible(&tx, &identity, id)?;
            policy::authorize(
                &identity,
                Action::EditProcedure {
                    comuni: &comuni_of(&participants),
                    state: row.state,
                },
            )?;
            let ids: Vec<i64> = ATTACHMENTS
                .insert(&tx, &actor, Some(&who), id, &uploads, now)?
                .into_iter()
                .map(|stored| stored.id)
                .collect();
            // Attachments are not in the national `appalti` rows: nothing to refresh.
            sql::touch(&tx, id, now)?;
            let views = ATTACHMENTS
                .list(&tx, id)?
                .into_iter()
                .filter(|a| ids.contains(&a.id))
                .map(ProcedureAttachmentView::new)
                .collect();
            tx.commit()?;
            Ok::<_, AppError>(views)
        })
        .await?;
    Ok(views)
}

/// The attachments of a procedure the caller may read.
pub async fn attachments(
    state: &AppState,
    identity: &Identity,
    id: i64,
) -> Result<Vec<ProcedureAttachmentView>, AppError> {
    let identity = identity.clone();
    state
        .db
        .call(move |conn| {
            load_visible(conn, &identity, id)?;
            Ok(ATTACHMENTS
                .list(conn, id)?
                .into_iter()
                .map(ProcedureAttachmentView::new)
                .collect())
        })
        .await
}

/// The bytes of an attachment the caller may read.
pub async fn attachment(
    state: &AppState,
    identity: &Identity,
    id: i64,
    attachment_id: i64,
) -> Result<(ProcedureAttachmentView, Vec<u8>), AppError> {
    let identity = identity.clone();
    state
        .db
        .call(move |conn| {
            load_visible(conn, &identity, id)?;
            let (meta, data) = ATTACHMENTS.read(conn, id, attachment_id)?;
            Ok((ProcedureAttachmentView::new(meta), data))
        })
        .await
}
