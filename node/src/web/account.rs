//! The page where every user changes its own password (`/account/password`), and where a
//! user who signed in with a one-time password is kept until it has done so.

use axum::Router;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::{Markup, html};
use pico_service::web as layout;
use serde::Deserialize;

use crate::auth::password::{self, FieldErrors, PasswordChange};
use crate::auth::{Identity, SESSION_COOKIE, secrets};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::form::{FormState, error_summary, input};
use crate::web::{PageForm, check_form_csrf};

/// The account routes.
pub fn router() -> Router<AppState> {
    Router::new().route(
        password::PAGE,
        get(show_password_form).post(submit_password_change),
    )
}

const LABELS: [(&str, &str); 3] = [
    ("current_password", "Password attuale"),
    ("new_password", "Nuova password"),
    ("new_password_repeat", "Ripeti la nuova password"),
];

fn password_page(
    state: &AppState,
    identity: &Identity,
    errors: &FieldErrors,
    status: StatusCode,
) -> Result<Response, AppError> {
    let user = identity.require_user()?;
    let csrf = identity.csrf().unwrap_or_default();
    // Passwords are never written back into the form: only the messages come back.
    let form = FormState {
        errors: errors
            .iter()
            .map(|(field, message)| ((*field).to_owned(), message.clone()))
            .collect(),
        ..FormState::default()
    };
    let hint = format!(
        "Almeno {} caratteri, diversa dal nome utente e da quella attuale. Una frase di più parole \
         è facile da ricordare e difficile da indovinare.",
        password::MIN_LENGTH
    );
    let body: Markup = html! {
        div class="row justify-content-center" { div class="col-12 col-md-8 col-lg-6" {
            h1 { "Cambia password" }
            @if user.must_change_password {
                div class="alert alert-warning" role="alert" {
                    "La password con cui hai effettuato l'accesso è provvisoria: sceglierne una nuova per continuare."
                }
            }
            (error_summary(&form, &LABELS))
            form method="post" action=(password::PAGE) novalidate {
                input type="hidden" name="csrf" value=(csrf);
                (input(&form, "current_password", LABELS[0].1, "password", true, None))
                (input(&form, "new_password", LABELS[1].1, "password", true, Some(&hint)))
                (input(&form, "new_password_repeat", LABELS[2].1, "password", true, None))
                button type="submit" class="btn btn-primary" { "Cambia password" }
            }
        } }
    };
    let mut response = layout::page(
        &state.chrome(Some(identity), password::PAGE),
        "Cambia password",
        &body,
    )
    .into_response();
    *response.status_mut() = status;
    Ok(response)
}

async fn show_password_form(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Response, AppError> {
    password_page(&state, &identity, &FieldErrors::new(), StatusCode::OK)
}

#[derive(Debug, Deserialize)]
struct PasswordForm {
    csrf: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    new_password_repeat: String,
}

async fn submit_password_change(
    State(state): State<AppState>,
    identity: Identity,
    request: Request,
) -> Result<Response, AppError> {
    identity.require_user()?;
    let (parts, body) = request.into_parts();
    let session = crate::auth::cookie(&parts, SESSION_COOKIE).map(|c| secrets::sha256_hex(&c));
    let PageForm(form) =
        PageForm::<PasswordForm>::from_request(Request::from_parts(parts, body), &state).await?;
    check_form_csrf(&identity, &form.csrf)?;
    let change = PasswordChange {
        current_password: form.current_password,
        new_password: form.new_password,
    };
    match password::change_own(
        &state,
        &identity,
        session,
        change,
        Some(form.new_password_repeat),
    )
    .await?
    {
        Ok(()) => Ok(Redirect::to("/dashboard").into_response()),
        Err(errors) => password_page(&state, &identity, &errors, StatusCode::UNPROCESSABLE_ENTITY),
    }
}
