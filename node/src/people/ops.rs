//! What the administrator does to people, each in one IMMEDIATE transaction with its audit
//! event: add a person, change their roles, disable or enable them, reset their password,
//! revoke their API tokens. The node always keeps an enabled administrator: nobody removes
//! the last administrator's role or disables themselves.

use pico_protocol::ComuneCode;
use rusqlite::TransactionBehavior;
use serde_json::json;

use crate::auth::policy::{Action, authorize};
use crate::auth::{Identity, Role, Roles, RolesError, secrets};
use crate::db::{self, people::Person};
use crate::error::AppError;
use crate::state::AppState;

/// Messages by field name, in Italian, shown beside the fields.
pub type FieldErrors = std::collections::BTreeMap<&'static str, String>;

/// A person being added, as typed.
#[derive(Debug, Clone, Default)]
pub struct NewPerson {
    /// Name shown on pages.
    pub display_name: String,
    /// Login name (an email address will do).
    pub username: String,
    /// The Province roles ticked (none for a Comune user).
    pub roles: Vec<Role>,
    /// The ISTAT code of the Comune of a Comune user (empty for Province staff).
    pub comune: String,
}

/// Longest login or display name accepted, in characters.
const MAX_NAME: usize = 120;

/// The roles a form asks for, or the message for the field it names.
fn roles_from_form(
    roles: &[Role],
    comune: Option<ComuneCode>,
) -> Result<Roles, (&'static str, String)> {
    let all = roles.iter().cloned().chain(comune.map(Role::Comune));
    Roles::from_roles(all).map_err(|err| match err {
        RolesError::Empty => (
            "ruoli",
            "Scegliere almeno un ruolo della Provincia oppure un Comune.".to_owned(),
        ),
        RolesError::ComuneAndProvince => (
            "comune",
            "Un utente di un Comune non può avere anche ruoli della Provincia: togliere il \
             Comune o i ruoli."
                .to_owned(),
        ),
        RolesError::TwoComuni => ("comune", "Scegliere un solo Comune.".to_owned()),
    })
}

fn roles_codes(roles: &Roles) -> Vec<String> {
    roles.to_vec().iter().map(ToString::to_string).collect()
}

/// Adds a person with a one-time password; returns their id and the password, to be shown
/// once. Field errors come back as `Ok(Err(…))`.
pub async fn add_person(
    state: &AppState,
    identity: &Identity,
    input: NewPerson,
) -> Result<Result<(i64, String), FieldErrors>, AppError> {
    authorize(identity, Action::ManagePeople)?;
    let actor = identity.actor();
    let password = secrets::new_password();
    // Hashed before the transaction: argon2 takes a while and must not hold the write lock.
    let hash = secrets::hash_password(&password)
        .map_err(|err| AppError::Internal(format!("hashing a password: {err}")))?;
    state
        .db
        .call(move |conn| {
            let mut errors = FieldErrors::new();
            let display_name = input.display_name.trim().to_owned();
            let username = input.username.trim().to_owned();
            if display_name.is_empty() {
                errors.insert("display_name", "Indicare il nome e cognome.".to_owned());
            } else if display_name.chars().count() > MAX_NAME
                || display_name.contains(char::is_control)
            {
                errors.insert(
                    "display_name",
                    format!("Il nome può avere al massimo {MAX_NAME} caratteri, senza a capo."),
                );
            }
            if username.is_empty() {
                errors.insert("username", "Indicare il nome utente.".to_owned());
            } else if username.chars().count() > MAX_NAME
                || !username
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '@' | '+'))
            {
                errors.insert(
                    "username",
                    "Il nome utente può contenere lettere, cifre e i segni . - _ @ + (per \
                     esempio un indirizzo email), senza spazi."
                        .to_owned(),
                );
            }
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if !errors.contains_key("username")
                && db::people::user_by_name(&tx, &username)?.is_some()
            {
                errors.insert(
                    "username",
                    "Questo nome utente è già in uso: sceglierne un altro.".to_owned(),
                );
            }
            let comune = match input.comune.trim() {
                "" => None,
                code => match ComuneCode::parse(code) {
                    Ok(code) if db::comuni::name_of(&tx, code.as_str())?.is_some() => Some(code),
                    _ => {
                        errors.insert(
                            "comune",
                            "Scegliere un Comune della Provincia dall'elenco.".to_owned(),
                        );
                        None
                    }
                },
            };
            let roles = match roles_from_form(&input.roles, comune) {
                Ok(roles) => Some(roles),
                Err((field, message)) => {
                    errors.entry(field).or_insert(message);
                    None
                }
            };
            let Some(roles) = roles.filter(|_| errors.is_empty()) else {
                return Ok(Err(errors));
            };
            let now = db::now();
            let id = db::people::insert_user(&tx, &username, &display_name, &hash, &roles, now)?;
            db::people::set_must_change_password(&tx, id, true)?;
            db::audit::record(
                &tx,
                &actor,
                "user.add",
                &format!("user:{id}"),
                &json!({"roles": roles_codes(&roles), "must_change_password": true}),
                now,
            )?;
            tx.commit()?;
            Ok(Ok((id, password)))
        })
        .await
}

/// The person `id`, for the administrator.
pub async fn person(state: &AppState, identity: &Identity, id: i64) -> Result<Person, AppError> {
    authorize(identity, Action::ManagePeople)?;
    state
        .db
        .call(move |conn| db::people::person(conn, id, db::now()).map_err(AppError::from))
        .await?
        .ok_or(AppError::NotFound)
}

fn refused(code: &'static str, detail: &str) -> AppError {
    AppError::Conflict {
        code,
        detail: detail.to_owned(),
    }
}

/// Runs `change` on person `id` in one IMMEDIATE transaction, after the checks every change
/// shares, and records `action` with `detail`.
async fn change_person<T: Send + 'static>(
    state: &AppState,
    identity: &Identity,
    id: i64,
    action: &'static str,
    change: impl FnOnce(
        &rusqlite::Transaction<'_>,
        &Person,
        i64,
    ) -> Result<(T, serde_json::Value), AppError>
    + Send
    + 'static,
) -> Result<T, AppError> {
    authorize(identity, Action::ManagePeople)?;
    let actor = identity.actor();
    state
        .db
        .call(move |conn| {
            let now = db::now();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let person = db::people::person(&tx, id, now)?.ok_or(AppError::NotFound)?;
            let (outcome, detail) = change(&tx, &person, now)?;
            db::audit::record(&tx, &actor, action, &format!("user:{id}"), &detail, now)?;
            tx.commit()?;
            Ok(outcome)
        })
        .await
}

/// Gives person `id` exactly the Province roles `roles` (a Comune user keeps its Comune and
/// holds nothing else). Refuses to take the administrator's role from the last enabled
/// administrator, which includes oneself when one is the last.
pub async fn set_roles(
    state: &AppState,
    identity: &Identity,
    id: i64,
    roles: Vec<Role>,
) -> Result<Result<Roles, FieldErrors>, AppError> {
    // A person's Comune never changes, so it can be read before the transaction.
    let comune = person(state, identity, id)
        .await?
        .user
        .roles
        .comune()
        .copied();
    let roles = match roles_from_form(&roles, comune) {
        Ok(roles) => roles,
        Err((_, message)) => {
            // The roles form has no Comune field: every message goes beside the roles.
            return Ok(Err(FieldErrors::from([("ruoli", message)])));
        }
    };
    change_person(state, identity, id, "user.roles", move |tx, person, _| {
        if person.user.roles.is_admin()
            && !roles.is_admin()
            && !person.disabled
            && db::people::active_admins(tx)? <= 1
        {
            return Err(refused(
                "last_admin",
                "È l'unico amministratore attivo del nodo: nominare prima un altro \
                 amministratore, poi togliere questo ruolo.",
            ));
        }
        db::people::set_roles(tx, person.user.id, &roles)?;
        let detail = json!({"roles": roles_codes(&roles)});
        Ok((roles, detail))
    })
    .await
    .map(Ok)
}

/// Disables person `id` (their sessions end and their tokens are revoked at once) or
/// enables them again. Nobody disables themselves.
pub async fn set_disabled(
    state: &AppState,
    identity: &Identity,
    id: i64,
    disabled: bool,
) -> Result<Person, AppError> {
    let me = identity.require_user()?.id;
    let action = if disabled {
        "user.disable"
    } else {
        "user.enable"
    };
    change_person(state, identity, id, action, move |tx, person, now| {
        if disabled && person.user.id == me {
            return Err(refused(
                "self_disable",
                "Non potete disattivare il vostro stesso account: chiedetelo a un altro \
                 amministratore.",
            ));
        }
        db::people::set_disabled_by_id(tx, person.user.id, disabled, now)?;
        Ok((person.clone(), json!({})))
    })
    .await
}

/// Gives person `id` a new one-time password (their sessions end); returns it, to be
/// shown once. One's own password is changed on the password page, which asks for the
/// current one.
pub async fn reset_password(
    state: &AppState,
    identity: &Identity,
    id: i64,
) -> Result<(Person, String), AppError> {
    let me = identity.require_user()?.id;
    let password = secrets::new_password();
    let hash = secrets::hash_password(&password)
        .map_err(|err| AppError::Internal(format!("hashing a password: {err}")))?;
    change_person(
        state,
        identity,
        id,
        "user.reset_password",
        move |tx, person, _| {
            if person.user.id == me {
                return Err(refused(
                    "own_password",
                    "La vostra password si cambia dalla pagina «Cambia password».",
                ));
            }
            db::people::set_password_by_id(tx, person.user.id, &hash, true)?;
            Ok((
                (person.clone(), password),
                json!({"must_change_password": true}),
            ))
        },
    )
    .await
}

/// Revokes every live API token of person `id`; returns how many.
pub async fn revoke_tokens(
    state: &AppState,
    identity: &Identity,
    id: i64,
) -> Result<usize, AppError> {
    change_person(
        state,
        identity,
        id,
        "user.revoke_tokens",
        move |tx, person, now| {
            let revoked = db::people::revoke_tokens_of(tx, person.user.id, now)?;
            Ok((revoked, json!({"revoked": revoked})))
        },
    )
    .await
}
