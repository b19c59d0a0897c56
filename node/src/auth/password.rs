//! Changing one's own password, and one-time passwords: a password printed by `pico-node
//! init`, `user add` or `user reset-password` must be changed at the first login, and until
//! then [`gate_pages`] sends every page to the change form and [`gate_api`] answers 403
//! `password_change_required` (except the change itself).

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use pico_service::{Json, Problem, ProblemDocument};
use serde::Deserialize;
use serde_json::json;

use crate::auth::{Identity, SESSION_COOKIE, Via, cookie_in, secrets};
use crate::db;
use crate::error::AppError;
use crate::state::AppState;

/// Shortest password a user may choose, in characters.
pub const MIN_LENGTH: usize = 12;
/// Longest password accepted, in characters (argon2 hashes anything, but a megabyte of
/// password is an attack on the CPU, not a password).
pub const MAX_LENGTH: usize = 1024;
/// The page where a user changes its password.
pub const PAGE: &str = "/account/password";
/// The API call that changes it.
pub const API: &str = "/v1/me/password";

/// Body of `POST /v1/me/password` (and the page's form, with `new_password_repeat`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The password in use now.
    pub current_password: String,
    /// The new password: at least 12 characters, not the username, not the current one.
    pub new_password: String,
}

/// Messages by field name, in Italian, for the page and for the problem's `errors`.
pub type FieldErrors = BTreeMap<&'static str, String>;

/// The rules a new password must follow, apart from knowing the current one. `repeat` is
/// the page's second entry (the API has none).
pub fn check_new(username: &str, current: &str, new: &str, repeat: Option<&str>) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let length = new.chars().count();
    if length < MIN_LENGTH {
        errors.insert(
            "new_password",
            format!("La nuova password deve avere almeno {MIN_LENGTH} caratteri."),
        );
    } else if length > MAX_LENGTH {
        errors.insert(
            "new_password",
            format!("La nuova password può avere al massimo {MAX_LENGTH} caratteri."),
        );
    } else if new.trim().to_lowercase() == username.trim().to_lowercase() {
        errors.insert(
            "new_password",
            "La nuova password non può essere uguale al nome utente.".to_owned(),
        );
    } else if new == current {
        errors.insert(
            "new_password",
            "La nuova password deve essere diversa da quella attuale.".to_owned(),
        );
    }
    if let Some(repeat) = repeat
        && repeat != new
    {
        errors.insert(
            "new_password_repeat",
            "Le due password nuove non coincidono.".to_owned(),
        );
    }
    errors
}

/// The 422 problem of a refused change.
pub fn problem(errors: &FieldErrors) -> AppError {
    let mut problem = Problem::from_status(StatusCode::UNPROCESSABLE_ENTITY)
        .with_code("invalid_field")
        .with_detail("La password non è stata cambiata: correggere i campi indicati.");
    for (field, message) in errors {
        problem = problem.with_field_error(*field, message.clone());
    }
    AppError::from(problem)
}

/// Changes the caller's own password: checks the current one and the rules, stores the new
/// argon2id hash, clears the one-time flag and ends the user's other sessions
/// (`keep_session`: the hash of the session that asked, kept signed in). Field errors come
/// back as `Ok(Err(…))` for the page to show beside the fields.
pub async fn change_own(
    state: &AppState,
    identity: &Identity,
    keep_session: Option<String>,
    input: PasswordChange,
    repeat: Option<String>,
) -> Result<Result<(), FieldErrors>, AppError> {
    let user = identity.require_user()?.clone();
    let mut errors = check_new(
        &user.username,
        &input.current_password,
        &input.new_password,
        repeat.as_deref(),
    );
    let actor = identity.actor();
    state
        .db
        .call(move |conn| {
            let now = db::now();
            let tx = conn.transaction()?;
            let hash = db::people::password_hash(&tx, user.id)?.ok_or(AppError::NotFound)?;
            if !secrets::verify_password(&input.current_password, &hash) {
                errors.insert(
                    "current_password",
                    "La password attuale non è corretta.".to_owned(),
                );
            }
            if !errors.is_empty() {
                return Ok(Err(errors));
            }
            let new_hash = secrets::hash_password(&input.new_password)
                .map_err(|err| AppError::Internal(format!("hashing a password: {err}")))?;
            db::people::change_own_password(&tx, user.id, &new_hash, keep_session.as_deref())?;
            db::audit::record(
                &tx,
                &actor,
                "user.change_password",
                &format!("user:{}", user.id),
                &json!({}),
                now,
            )?;
            tx.commit()?;
            Ok(Ok(()))
        })
        .await
}

/// The API route of this module.
pub fn api_router() -> Router<AppState> {
    Router::new().route(API, post(update_password))
}

/// Changes the caller's own password. Every other session of the user ends (a session that
/// makes this call stays signed in); API tokens stay valid.
#[utoipa::path(post, path = "/v1/me/password", tag = "people", request_body = PasswordChange,
    security(("bearer" = [])),
    responses((status = 204, description = "Changed; the one-time flag is cleared"),
              (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 422, description = "Wrong current password, or a new password that breaks the rules (`errors` by field)", body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn update_password(
    State(state): State<AppState>,
    identity: Identity,
    headers: HeaderMap,
    Json(input): Json<PasswordChange>,
) -> Result<StatusCode, AppError> {
    let session = matches!(identity.via, Via::Session { .. })
        .then(|| cookie_in(&headers, SESSION_COOKIE))
        .flatten()
        .map(|value| secrets::sha256_hex(&value));
    match change_own(&state, &identity, session, input, None).await? {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(errors) => Err(problem(&errors)),
    }
}

/// Whether the request comes from a user who must first change a one-time password.
async fn must_change(request: Request, state: &AppState) -> (bool, Request) {
    let (mut parts, body) = request.into_parts();
    let must = Identity::from_request_parts(&mut parts, state)
        .await
        .ok()
        .and_then(|identity| identity.user)
        .is_some_and(|user| user.must_change_password);
    (must, Request::from_parts(parts, body))
}

/// Pages: a user with a one-time password is sent to the change page (logging out and the
/// static assets stay reachable).
pub async fn gate_pages(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path == PAGE || path == "/logout" || path == "/login" {
        return next.run(request).await;
    }
    let (must, request) = must_change(request, &state).await;
    if must {
        Redirect::to(PAGE).into_response()
    } else {
        next.run(request).await
    }
}

/// API: a user with a one-time password gets 403 `password_change_required` for anything
/// but `POST /v1/me/password` and `GET /v1/me`.
pub async fn gate_api(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let exempt = (path == API && request.method() == Method::POST)
        || (path == "/v1/me" && request.method() == Method::GET)
        || !path.starts_with("/v1/");
    if exempt {
        return next.run(request).await;
    }
    let (must, request) = must_change(request, &state).await;
    if must {
        AppError::from(
            Problem::from_status(StatusCode::FORBIDDEN)
                .with_code("password_change_required")
                .with_detail(
                    "La password in uso è provvisoria: cambiarla con POST /v1/me/password \
                     (o dalla pagina /account/password) prima di ogni altra operazione.",
                ),
        )
        .into_response()
    } else {
        next.run(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_password_rules() {
        let ok = check_new("mario", "vecchia-password", "una frase lunga e nuova", None);
        assert!(ok.is_empty(), "{ok:?}");
        assert!(check_new("mario", "x", "corta", None).contains_key("new_password"));
        assert!(
            check_new("mario.rossi.1", "x", "MARIO.ROSSI.1", None).contains_key("new_password")
        );
        assert!(
            check_new("mario", "stessa password!", "stessa password!", None)
                .contains_key("new_password")
        );
        let mismatch = check_new("mario", "x", "una frase lunga e nuova", Some("un'altra"));
        assert_eq!(
            mismatch.keys().copied().collect::<Vec<_>>(),
            ["new_password_repeat"]
        );
        // Twelve characters, not bytes: "àèìòù" counts five.
        assert!(check_new("mario", "x", "àèìòùàèìòùàè", None).is_empty());
    }
}
