//! A Comune asks the SAPE for support on a call: it writes what it needs, the office accepts
//! or declines with its reasons, the Comune may withdraw while it waits ([`SUPPORT`]). One
//! request per Comune and call waits at a time. A Comune sees only its own requests; the
//! office sees them all and counts those waiting on its dashboard.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::Identity;
use crate::db::{self, audit};
use crate::error::AppError;
use crate::lifecycle::Step;
use crate::sape::db::{self as store, SupportRow};
use crate::sape::ops::{FieldErrors, optional_text, required_text};
use crate::sape::policy::{self, Action};
use crate::sape::{SUPPORT, SupportState};
use crate::state::AppState;
use pico_service::text::Lines;

/// The longest message or reason, in characters.
pub const MAX_TEXT: usize = 4000;

/// Body of `POST /v1/sape/calls/{id}/support`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSupport {
    /// What the Comune needs from the office (at most 4,000 characters).
    pub message: String,
}

/// Body of `POST /v1/sape/support/{id}/transitions`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupportMove {
    /// The state asked for.
    pub state: SupportState,
    /// The state the caller saw (409 `stale_state` if the request has left it); the current
    /// one when absent.
    #[serde(default)]
    pub from: Option<SupportState>,
    /// Why: required to decline.
    #[serde(default)]
    pub reason: String,
}

/// One move of a request.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SupportStepView {
    /// State before (none for the creation).
    pub from: Option<SupportState>,
    /// State after.
    pub to: SupportState,
    /// Why.
    pub reason: String,
    /// Who, by name.
    pub actor: String,
    /// RFC 3339 UTC.
    pub at: String,
}

/// A request as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SupportView {
    /// Id.
    pub id: i64,
    /// The call.
    pub call_id: i64,
    /// The call's identifier.
    pub call_identifier: String,
    /// The call's title.
    pub call_title: String,
    /// ISTAT code of the Comune asking.
    pub comune: String,
    /// Its name.
    pub comune_name: String,
    /// What the Comune wrote.
    pub message: String,
    /// State.
    pub state: SupportState,
    /// The office's last answer (the reason of the last move), if any.
    pub answer: Option<String>,
    /// States the caller may move it to now.
    pub allowed_transitions: Vec<SupportState>,
    /// Its moves, oldest first, the creation first.
    pub history: Vec<SupportStepView>,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC.
    pub updated_at: String,
}

/// The Comune of `identity` if it is a Comune user.
fn comune_of(identity: &Identity) -> Option<String> {
    identity
        .user
        .as_ref()
        .and_then(|user| user.roles.comune())
        .map(|code| code.as_str().to_owned())
}

fn view(
    identity: &Identity,
    row: SupportRow,
    history: Vec<crate::lifecycle::HistoryStep<SupportState>>,
) -> SupportView {
    let owners = [row.comune.0.clone()];
    let answer = history
        .iter()
        .rev()
        .find(|step| step.from.is_some() && !step.reason.is_empty())
        .map(|step| step.reason.clone());
    SupportView {
        id: row.id,
        call_id: row.call_id,
        call_identifier: row.call.0,
        call_title: row.call.1,
        allowed_transitions: SUPPORT.allowed(identity, &owners, row.state),
        comune: row.comune.0,
        comune_name: row.comune.1,
        message: row.message,
        state: row.state,
        answer,
        history: history
            .into_iter()
            .map(|step| SupportStepView {
                from: step.from,
                to: step.to,
                reason: step.reason,
                actor: step.actor,
                at: db::rfc3339(step.at),
            })
            .collect(),
        created_at: db::rfc3339(row.created_at),
        updated_at: db::rfc3339(row.updated_at),
    }
}

/// A Comune user asks for support on call `call`: 403 for anyone else, 404 for an unknown
/// call, 409 `support_pending` while its previous request on the call waits.
pub async fn ask(
    state: &AppState,
    identity: &Identity,
    call: i64,
    input: NewSupport,
) -> Result<SupportView, AppError> {
    let comune = comune_of(identity);
    let Some(comune) = comune else {
        // The office does not ask itself; anonymous callers get 401 from the policy.
        policy::authorize(identity, Action::ViewCalls)?;
        return Err(AppError::Forbidden);
    };
    policy::authorize(identity, Action::FollowCalls { comune: &comune })?;
    let mut errors = FieldErrors::default();
    let message = errors.check("message", required_text_lines(&input.message));
    errors.finish()?;
    let message = message.unwrap_or_default();
    let user = identity.require_user()?.id;
    let actor = identity.actor();
    let who = crate::lifecycle::display_name(identity);
    let id = state
        .db
        .call(move |conn| {
            let now = db::now();
            let tx = crate::lifecycle::begin(conn)?;
            store::get_call(&tx, call)?.ok_or(AppError::NotFound)?;
            if store::open_support(&tx, call, &comune)?.is_some() {
                return Err(AppError::Conflict {
                    code: "support_pending",
                    detail: "Il Comune ha già una richiesta di supporto in attesa su questo bando: aspetta la risposta del SAPE o ritirala.".into(),
                });
            }
            let id = store::insert_support(&tx, call, &comune, &message, user, now)?;
            SUPPORT.record_creation(&tx, id, SupportState::Requested, "", &who, now)?;
            audit::record(
                &tx,
                &actor,
                "sape.support.create",
                &format!("sape_support_request:{id}"),
                &json!({"call": call}),
                now,
            )?;
            tx.commit()?;
            Ok(id)
        })
        .await?;
    detail(state, identity, id).await
}

fn required_text_lines(text: &str) -> Result<String, String> {
    let cleaned = optional_text(text, MAX_TEXT, Lines::Many)?;
    if cleaned.is_empty() {
        // The same message as every required field.
        required_text("", MAX_TEXT)
    } else {
        Ok(cleaned)
    }
}

/// One request, if the caller may see it (404 for another Comune's).
pub async fn detail(
    state: &AppState,
    identity: &Identity,
    id: i64,
) -> Result<SupportView, AppError> {
    policy::authorize(identity, Action::ViewCalls)?;
    let (row, history) = state
        .db
        .call(move |conn| {
            let row = store::get_support(conn, id)?.ok_or(AppError::NotFound)?;
            Ok::<_, AppError>((row, SUPPORT.history(conn, id)?))
        })
        .await?;
    let owners = [row.comune.0.clone()];
    authorize_view(identity, &owners)?;
    Ok(view(identity, row, history))
}

/// Staff see every request, a Comune its own (404 for the others').
fn authorize_view(identity: &Identity, owners: &[String]) -> Result<(), AppError> {
    policy::authorize(identity, Action::ViewProposal { comuni: owners })
}

/// Requests the caller may see, newest first (at most `limit`): all for the office, its own
/// for a Comune; only on `call` and in `state` if given.
pub async fn list(
    state: &AppState,
    identity: &Identity,
    call: Option<i64>,
    wanted: Option<SupportState>,
    limit: u32,
) -> Result<Vec<SupportView>, AppError> {
    // The office sees every request, a Comune its own.
    policy::authorize(identity, Action::ViewCalls)?;
    let comune = comune_of(identity);
    let rows = state
        .db
        .call(move |conn| {
            let rows = store::list_support(conn, comune.as_deref(), call, wanted, limit)?;
            rows.into_iter()
                .map(|row| {
                    let history = SUPPORT.history(conn, row.id)?;
                    Ok::<_, AppError>((row, history))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    Ok(rows
        .into_iter()
        .map(|(row, history)| view(identity, row, history))
        .collect())
}

/// Moves a request: the office accepts or declines (with its reasons), the Comune withdraws.
pub async fn transition(
    state: &AppState,
    identity: &Identity,
    id: i64,
    input: SupportMove,
) -> Result<SupportView, AppError> {
    let mut errors = FieldErrors::default();
    let reason = errors
        .check(
            "reason",
            optional_text(&input.reason, MAX_TEXT, Lines::Many),
        )
        .unwrap_or_default();
    if input.state == SupportState::Declined && reason.is_empty() {
        errors.add(
            "reason",
            "Scrivi al Comune perché il SAPE non può accogliere la richiesta.",
        );
    }
    errors.finish()?;
    let row = state
        .db
        .call(move |conn| Ok::<_, AppError>(store::get_support(conn, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    let owners = vec![row.comune.0.clone()];
    authorize_view(identity, &owners)?;
    let from = input.from.unwrap_or(row.state);
    let step_identity = identity.clone();
    state
        .db
        .call(move |conn| {
            let step = Step::new(&step_identity, &owners, id, from, input.state).reason(&reason);
            SUPPORT.transition(conn, &step, |tx| {
                store::touch_support(tx, id, step.now)?;
                Ok(())
            })
        })
        .await?;
    detail(state, identity, id).await
}

/// How many requests wait for the office.
pub async fn waiting(state: &AppState) -> Result<i64, AppError> {
    state
        .db
        .call(|conn| Ok::<_, AppError>(store::count_waiting_support(conn)?))
        .await
}
