//! Convenzioni: which Comuni have delegated their procurement to the SUA, from when, for
//! which contracts. SUA staff record and revoke them; a Comune reads its own. A Comune
//! submits requests only under a convenzione in force that covers the contract type.

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{FieldErrors, begin, optional_text, record_convention, text_field};
use crate::auth::Identity;
use crate::db;
use crate::error::AppError;
use crate::state::AppState;
use crate::sua::day::{self, Day};
use crate::sua::db as sql;
use crate::sua::policy::{self, Action, Scope};
use crate::sua::{ContractType, ConventionScope};

/// Longest document reference.
pub const DOCUMENT_REF_MAX: usize = 300;

/// A convenzione as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConventionView {
    /// Id.
    pub id: i64,
    /// The delegating Comune.
    #[schema(example = "026086")]
    pub comune_code: String,
    /// Its name.
    pub comune_name: String,
    /// What it delegates.
    pub scope: ConventionScope,
    /// First day in force, `YYYY-MM-DD`.
    pub valid_from: String,
    /// Last day in force, `YYYY-MM-DD` (null: no expiry).
    pub valid_until: Option<String>,
    /// Reference of the signed document (resolution, protocol number).
    pub document_ref: String,
    /// Notes.
    pub notes: String,
    /// Whether it is in force today.
    pub in_force: bool,
    /// Who recorded it.
    pub created_by: String,
    /// RFC 3339.
    pub created_at: String,
    /// When it was revoked, RFC 3339.
    pub revoked_at: Option<String>,
}

impl ConventionView {
    /// Builds the view, deciding `in_force` on `today`.
    pub fn new(row: sql::ConventionRow, today: &str) -> ConventionView {
        let in_force = row.revoked_at.is_none()
            && row.valid_from.as_str() <= today
            && row
                .valid_until
                .as_deref()
                .is_none_or(|until| until >= today);
        ConventionView {
            id: row.id,
            comune_code: row.comune_code,
            comune_name: row.comune_name,
            scope: row.scope,
            valid_from: row.valid_from,
            valid_until: row.valid_until,
            document_ref: row.document_ref,
            notes: row.notes,
            in_force,
            created_by: row.created_by,
            created_at: db::rfc3339(row.created_at),
            revoked_at: row.revoked_at.map(db::rfc3339),
        }
    }
}

/// Body of `POST /v1/sua/conventions`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConvention {
    /// ISTAT code of the delegating Comune.
    #[schema(example = "026086")]
    pub comune_code: String,
    /// `goods_services`, `works` or `all`.
    #[schema(value_type = ConventionScope)]
    pub scope: String,
    /// First day in force, `YYYY-MM-DD`.
    #[schema(example = "2026-01-01")]
    pub valid_from: String,
    /// Last day in force, `YYYY-MM-DD`; omit for no expiry.
    #[serde(default)]
    pub valid_until: Option<String>,
    /// Reference of the signed document, 1–300 characters.
    #[schema(example = "Delibera C.C. n. 12 del 15/01/2026")]
    pub document_ref: String,
    /// Notes.
    #[serde(default)]
    pub notes: Option<String>,
}

/// Creates a convenzione (SUA staff).
pub async fn create_convention(
    state: &AppState,
    identity: &Identity,
    input: &NewConvention,
) -> Result<ConventionView, AppError> {
    policy::authorize(identity, Action::ManageConventions)?;
    let mut errors = FieldErrors::new();
    let comune = input.comune_code.trim().to_owned();
    if !(comune.len() == 6
        && comune.bytes().all(|b| b.is_ascii_digit())
        && comune.starts_with(&state.province.code))
    {
        errors.add(
            "comune_code",
            format!(
                "{comune:?} non è il codice ISTAT di un Comune della {}",
                state.province.name
            ),
        );
    }
    let scope = ConventionScope::parse(input.scope.trim());
    if scope.is_none() {
        errors.add(
            "scope",
            "Scegliete l'ambito: goods_services (servizi e forniture), works (lavori) o all (tutti)",
        );
    }
    let valid_from = errors.take("valid_from", Day::parse(&input.valid_from));
    let valid_until = match optional_text(input.valid_until.as_deref()) {
        Some(text) => errors.take("valid_until", Day::parse(text)),
        None => None,
    };
    if let (Some(from), Some(until)) = (valid_from, valid_until)
        && until < from
    {
        errors.add(
            "valid_until",
            "La scadenza non può precedere la data di inizio",
        );
    }
    let document_ref = errors.take(
        "document_ref",
        text_field(&input.document_ref, DOCUMENT_REF_MAX, true),
    );
    let notes = errors
        .take(
            "notes",
            text_field(
                input.notes.as_deref().unwrap_or_default(),
                crate::sua::TEXT_MAX,
                false,
            ),
        )
        .unwrap_or_default();
    errors.check()?;
    let (Some(scope), Some(valid_from), Some(document_ref)) = (scope, valid_from, document_ref)
    else {
        return Err(AppError::Internal("validated fields missing".into()));
    };
    let actor = identity.actor();
    let today = Day::today().iso();
    state
        .db
        .call(move |conn| {
            let now = db::now();
            let tx = begin(conn)?;
            if db::comuni::name_of(&tx, &comune)?.is_none() {
                let mut errors = FieldErrors::new();
                errors.add("comune_code", format!("{comune} non è un Comune di questa Provincia"));
                return Err(errors.into());
            }
            let valid_from = valid_from.iso();
            let valid_until = valid_until.map(Day::iso);
            let id = sql::insert_convention(
                &tx,
                &sql::NewConvention {
                    comune_code: &comune,
                    scope,
                    valid_from: &valid_from,
                    valid_until: valid_until.as_deref(),
                    document_ref: &document_ref,
                    notes: &notes,
                },
                &actor.label,
                now,
            )?;
            record_convention(
                &tx,
                &actor,
                id,
                "sua.convention.create",
                &json!({"comune": comune, "scope": scope.as_str(), "valid_from": valid_from, "valid_until": valid_until}),
                now,
            )?;
            let row = sql::convention(&tx, id)?.ok_or(AppError::NotFound)?;
            tx.commit()?;
            Ok(ConventionView::new(row, &today))
        })
        .await
}

/// Filters of the convenzioni list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConventionQuery {
    /// Only this Comune (SUA staff; a Comune user always sees its own).
    pub comune: Option<String>,
    /// Include revoked convenzioni.
    pub include_revoked: Option<bool>,
    /// Page size: 50 by default; values above 200 are reduced to 200, and 0 is read as 1.
    #[param(inline)]
    pub limit: Option<pico_service::Limit>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// Convenzioni visible to the caller, newest first.
pub async fn list_conventions(
    state: &AppState,
    identity: &Identity,
    query: &ConventionQuery,
    limit: u32,
    before_id: Option<i64>,
) -> Result<Vec<ConventionView>, AppError> {
    let comune = match policy::sua_scope(identity)? {
        Scope::All => query.comune.clone().filter(|c| !c.trim().is_empty()),
        Scope::Comune(own) => Some(own),
    };
    let include_revoked = query.include_revoked.unwrap_or(false);
    let today = Day::today().iso();
    let rows = state
        .db
        .call(move |conn| {
            sql::conventions(conn, comune.as_deref(), include_revoked, before_id, limit)
                .map_err(AppError::from)
        })
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| ConventionView::new(row, &today))
        .collect())
}

/// One convenzione: SUA staff any, a Comune its own (another Comune's answers 404).
pub async fn get_convention(
    state: &AppState,
    identity: &Identity,
    id: i64,
) -> Result<ConventionView, AppError> {
    let scope = policy::sua_scope(identity)?;
    let row = state
        .db
        .call(move |conn| sql::convention(conn, id)?.ok_or(AppError::NotFound))
        .await?;
    if let Scope::Comune(own) = scope
        && own != row.comune_code
    {
        return Err(AppError::NotFound);
    }
    Ok(ConventionView::new(row, &Day::today().iso()))
}

/// Revokes a convenzione (SUA staff). Procedures already requested under it go on.
pub async fn revoke_convention(
    state: &AppState,
    identity: &Identity,
    id: i64,
) -> Result<ConventionView, AppError> {
    policy::authorize(identity, Action::ManageConventions)?;
    let actor = identity.actor();
    let today = Day::today().iso();
    state
        .db
        .call(move |conn| {
            let now = db::now();
            let tx = begin(conn)?;
            sql::convention(&tx, id)?.ok_or(AppError::NotFound)?;
            if !sql::revoke_convention(&tx, id, now)? {
                return Err(super::conflict(
                    "already_revoked",
                    "La convenzione è già stata revocata.",
                ));
            }
            record_convention(&tx, &actor, id, "sua.convention.revoke", &json!({}), now)?;
            let row = sql::convention(&tx, id)?.ok_or(AppError::NotFound)?;
            tx.commit()?;
            Ok(ConventionView::new(row, &today))
        })
        .await
}

/// Checks that `comune` has a convenzione in force today covering `kind`; the refusal is a
/// 422 `no_convention` naming `field`, with a message that says what is missing.
pub fn require_convention(
    conn: &Connection,
    comune: &str,
    comune_name: &str,
    kind: ContractType,
    field: &str,
) -> Result<(), AppError> {
    let today = Day::today().iso();
    let in_force = sql::conventions_in_force(conn, comune, &today)?;
    if in_force.iter().any(|c| c.scope.covers(kind)) {
        return Ok(());
    }
    let message = if in_force.is_empty() {
        format!(
            "Il Comune di {comune_name} non ha una convenzione in vigore con la SUA: la Provincia può gestire le sue procedure solo dopo la stipula della convenzione"
        )
    } else {
        let scopes: Vec<&str> = in_force.iter().map(|c| c.scope.label()).collect();
        format!(
            "La convenzione in vigore del Comune di {comune_name} copre solo {}: per i contratti di tipo «{}» serve una convenzione che li comprenda",
            scopes.join(", ").to_lowercase(),
            kind.label().to_lowercase()
        )
    };
    let mut errors = FieldErrors::new();
    errors.add(field, message);
    Err(errors.with_code("no_convention").into())
}

/// A short Italian description of a convenzione's validity (`dal 01/01/2026 al 31/12/2028`).
pub fn validity(view: &ConventionView) -> String {
    match &view.valid_until {
        Some(until) => format!(
            "dal {} al {}",
            day::italian(&view.valid_from),
            day::italian(until)
        ),
        None => format!("dal {}, senza scadenza", day::italian(&view.valid_from)),
    }
}
