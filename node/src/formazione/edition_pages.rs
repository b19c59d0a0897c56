//! Edition pages' actions beyond enrolment: a Province employee's own enrolment, and the
//! office's removal of an edition or of a session (refused, with the reason on the page,
//! once attendance is recorded).

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use maud::{Markup, html};
use pico_service::json::Path;
use pico_service::web as layout;

use crate::auth::Identity;
use crate::error::AppError;
use crate::formazione::EnrolmentState;
use crate::formazione::editions;
use crate::state::AppState;
use crate::web::{CsrfForm, PageForm, check_form_csrf};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/formazione/edizioni/{id}/iscriviti", post(submit_self))
        .route(
            "/formazione/edizioni/{id}/elimina",
            post(submit_delete_edition),
        )
        .route(
            "/formazione/incontri/{id}/elimina",
            post(submit_delete_session),
        )
}

async fn submit_self(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, &form.csrf)?;
    let view = editions::enrol_self(&state, &identity, id).await?;
    Ok(layout::redirect_with_flash(
        &format!("/formazione/edizioni/{id}"),
        &format!(
            "Iscrizione registrata: {}.",
            view.state.label().to_lowercase()
        ),
    ))
}

async fn submit_delete_edition(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, &form.csrf)?;
    let course = editions::delete_edition(&state, &identity, id).await?;
    Ok(layout::redirect_with_flash(
        &format!("/formazione/corsi/{course}"),
        "Edizione eliminata.",
    ))
}

async fn submit_delete_session(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, &form.csrf)?;
    let edition = editions::delete_session(&state, &identity, id).await?;
    Ok(layout::redirect_with_flash(
        &format!("/formazione/edizioni/{edition}"),
        "Incontro eliminato.",
    ))
}

/// The self-enrolment block of an edition's page for a Province employee in the staff list
/// (`own`: their enrolment's state, if any).
pub fn self_block(
    identity: &Identity,
    edition_id: i64,
    open: bool,
    own: Option<EnrolmentState>,
) -> Markup {
    html! {
        h2 class="h4" id="self-enrolment" { "La tua iscrizione" }
        @match own {
            Some(state) => p id="own-state" { "Sei nell'elenco di questa edizione: " (state.label().to_lowercase()) "." },
            None if open => form method="post" action=(format!("/formazione/edizioni/{edition_id}/iscriviti")) {
                input type="hidden" name="csrf" value=(identity.csrf().unwrap_or_default());
                button type="submit" class="btn btn-primary" id="enrol-self" { "Iscriviti" }
            },
            None => p { "Le iscrizioni a questa edizione sono chiuse." },
        }
    }
}

/// The office's button that removes an edition or a session.
pub fn delete_button(identity: &Identity, action: &str, label: &str) -> Markup {
    html! {
        form method="post" action=(action) class="d-inline" {
            input type="hidden" name="csrf" value=(identity.csrf().unwrap_or_default());
            button type="submit" class="btn btn-sm btn-outline-danger ms-1" aria-label=(label) { "Elimina" }
        }
    }
}
