//! The page of the Moodle import (`/formazione/moodle`, the training office): what the
//! report must contain, the upload, and what the import did or why it was refused.

use axum::Router;
use axum::extract::{Multipart, State};
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};
use pico_service::web as layout;

use crate::auth::Identity;
use crate::error::AppError;
use crate::formazione::moodle::{self, MoodleReport};
use crate::formazione::policy::{self, Action};
use crate::state::AppState;
use crate::upload::MultipartForm;
use crate::web::form;
use crate::web::{breadcrumb, check_form_csrf};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new().route(
        "/formazione/moodle",
        get(show_import)
            .post(submit_import)
            .layer(pico_service::http::body_limit(
                crate::formazione::api::IMPORT_BODY_LIMIT,
            )),
    )
}

async fn show_import(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Markup, AppError> {
    policy::authorize(&identity, Action::Manage)?;
    Ok(import_page(&state, &identity, None))
}

fn import_page(
    state: &AppState,
    identity: &Identity,
    outcome: Option<&Result<MoodleReport, AppError>>,
) -> Markup {
    let body = html! {
        (breadcrumb(&[("Formazione", "/formazione")], "Importa da Moodle"))
        h1 { "Importa i completamenti da Moodle" }
        p { "Il report di completamento dei corsi scaricato da Moodle in CSV (per esempio un report personalizzato con le colonne «Course short name», «Full name», «Email address», «Time enrolled» e «Time completed», o le stesse in italiano). Le persone sono riconosciute dall'e-mail dell'elenco del personale, i corsi dal «nome breve Moodle» indicato nella loro scheda. Ogni completamento è registrato come frequenza di tutti gli incontri dell'edizione iniziata entro la data di completamento; chi non era iscritto all'edizione viene iscritto." }
        p { "Se una sola riga non corrisponde il file è rifiutato per intero e nulla viene registrato. Importare di nuovo lo stesso report non cambia nulla." }
        @if let Some(Ok(report)) = outcome {
            div class="alert alert-success" role="status" id="import-report" {
                "Report importato: " (report.rows) " righe lette, " (report.completions) " completamenti ("
                (report.recorded) " registrati ora, " (report.unchanged) " già presenti), "
                (report.enrolments_created) " nuove iscrizioni, " (report.not_completed) " persone non hanno ancora completato."
            }
        }
        @if let Some(Err(error)) = outcome {
            (form::import_refusal(error, "Importazione rifiutata, nulla è stato registrato. Righe che non corrispondono:"))
        }
        (form::import_form("/formazione/moodle", identity.csrf().unwrap_or_default(), "File CSV del report di Moodle", ".csv,text/csv"))
    };
    layout::page(
        &state.chrome(Some(identity), "/formazione"),
        "Importa da Moodle",
        &body,
    )
}

async fn submit_import(
    State(state): State<AppState>,
    identity: Identity,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let upload = MultipartForm::read(multipart, "file").await?;
    check_form_csrf(
        &identity,
        upload.fields.get("csrf").map_or("", String::as_str),
    )?;
    let outcome = match upload.files.into_iter().next() {
        Some(file) => moodle::import(&state, &identity, &file.data).await,
        None => Err(AppError::invalid_field(
            "file",
            "Scegli il file da importare.",
        )),
    };
    form::report(outcome, async |outcome| {
        Ok(import_page(&state, &identity, Some(outcome)))
    })
    .await
}
