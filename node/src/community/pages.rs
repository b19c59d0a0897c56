//! Pages of the best practices: `/buone-pratiche` (list with a word search) and
//! `/buone-pratiche/{id}` (the document, its attachments). Everyone sees public documents;
//! Province staff also see drafts, marked as such. The Markdown body is shown as plain text
//! (escaped, line breaks kept).
//!
//! Administrators and Community operators (`ManagePractices`) also write them here:
//! `/buone-pratiche/nuova` and `/buone-pratiche/{id}/modifica` are one form (fields,
//! attachments, draft or public, federation off or national), saved in one transaction by
//! [`super::save_form`]. A refused form is shown again with the user's input and a message
//! saying what to fix.

use axum::Router;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use pico_service::http::body_limit;
use pico_service::json::{Path, Query};
use pico_service::web as layout;
use serde::Deserialize;

use super::{FormSubmission, HubStatus, PracticeInput, PracticeView};
use crate::auth::policy::{self, Action};
use crate::auth::{Identity, Module};
use crate::dati::Federation;
use crate::error::AppError;
use crate::state::AppState;
use crate::upload::MultipartForm;
use crate::web::check_form_csrf;

/// Upper bound of a form's body: its files plus room for the text.
const FORM_BODY_LIMIT: usize = super::FORM_BYTES_MAX + 1024 * 1024;

/// The page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/buone-pratiche", get(show_list))
        .route(
            "/buone-pratiche/nuova",
            get(show_new_practice)
                .post(submit_new_practice)
                .layer(body_limit(FORM_BODY_LIMIT)),
        )
        .route("/buone-pratiche/{id}", get(show_practice))
        .route(
            "/buone-pratiche/{id}/modifica",
            get(show_edit_practice)
                .post(submit_edit_practice)
                .layer(body_limit(FORM_BODY_LIMIT)),
        )
}

#[derive(Debug, Deserialize)]
struct SearchForm {
    q: Option<String>,
}

/// Italian name of a module (its code if the text names none).
pub fn module_label(module: &str) -> &str {
    match Module::parse(module) {
        Some(known) => known.label(),
        None => module,
    }
}

fn badges(public: bool, federation: Federation, hub: HubStatus) -> Markup {
    html! {
        @if !public { span class="badge bg-warning text-dark me-1" { "Bozza" } }
        @if federation == Federation::National { span class="badge bg-primary me-1" { "Nazionale" } }
        @if hub == HubStatus::Withdrawn { span class="badge bg-secondary me-1" { "Ritirata dall'hub" } }
    }
}

async fn show_list(
    State(state): State<AppState>,
    identity: Identity,
    Query(form): Query<SearchForm>,
) -> Result<Markup, AppError> {
    let q = form.q.unwrap_or_default();
    let items = super::list(&state, &identity, Some(&q), None, 200).await?;
    let can_manage = policy::authorize(&identity, Action::ManagePractices).is_ok();
    let body = html! {
        h1 { "Buone pratiche" }
        p class="lead" { "Esperienze e documenti della " (state.province.name) " per i Comuni e le altre Province." }
        @if can_manage {
            p { a class="btn btn-primary" href="/buone-pratiche/nuova" id="new-practice" { "Nuova buona pratica" } }
        }
        form method="get" action="/buone-pratiche" class="mb-4" role="search" {
            div class="form-group" {
                label for="q" { "Cerca per parole" }
                input type="search" class="form-control" id="q" name="q" value=(q);
            }
            button type="submit" class="btn btn-primary" { "Cerca" }
        }
        @if items.is_empty() {
            p { "Nessuna buona pratica trovata." }
        } @else {
            ul class="list-unstyled" {
                @for item in &items {
                    li class="mb-3" {
                        div class="card card-bg" { div class="card-body" {
                            h2 class="card-title h5" {
                                a href=(format!("/buone-pratiche/{}", item.id)) { (item.title) }
                            }
                            p class="mb-1" { (badges(item.public, item.federation, item.hub_status)) small { (module_label(&item.module)) " · aggiornata il " (pico_service::format::rfc3339(&item.updated_at)) } }
                            @if !item.summary.is_empty() { p class="card-text" { (item.summary) } }
                            @if !item.tags.is_empty() { p { small { "Parole chiave: " (item.tags.join(", ")) } } }
                        } }
                    }
                }
            }
        }
    };
    Ok(layout::page(
        &state.chrome(Some(&identity), "/buone-pratiche"),
        "Buone pratiche",
        &body,
    ))
}

async fn show_practice(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Markup, AppError> {
    let practice = super::get(&state, &identity, id).await?;
    let can_manage = policy::authorize(&identity, Action::ManagePractices).is_ok();
    let body = html! {
        nav aria-label="Percorso" { a href="/buone-pratiche" { "← Tutte le buone pratiche" } }
        h1 { (practice.title) }
        @if can_manage {
            p { a class="btn btn-outline-primary btn-sm" href=(format!("/buone-pratiche/{}/modifica", practice.id)) id="edit-practice" { "Modifica" } }
        }
        p { (badges(practice.public, practice.federation, practice.hub_status)) small { (module_label(&practice.module)) " · lingua " (practice.language) " · aggiornata il " (pico_service::format::rfc3339(&practice.updated_at)) } }
        @if !practice.summary.is_empty() { p class="lead" { (practice.summary) } }
        @if !practice.comuni.is_empty() { p { "Comuni coinvolti: " (practice.comuni.join(", ")) } }
        @if !practice.tags.is_empty() { p { "Parole chiave: " (practice.tags.join(", ")) } }
        div class="my-4" style="white-space: pre-wrap" { (practice.body) }
        @if !practice.attachments.is_empty() {
            h2 class="h4" { "Allegati" }
            ul {
                @for a in &practice.attachments {
                    li class="practice-attachment" {
                        a href=(format!("/v1/practices/{}/attachments/{}", practice.id, a.id)) { (a.filename) }
                        " " small { "(" (a.media_type) ", " (a.size) " byte)" }
                    }
                }
            }
        }
    };
    Ok(layout::page(
        &state.chrome(Some(&identity), "/buone-pratiche"),
        &practice.title,
        &body,
    ))
}

/// The form's values as typed (kept as text, so that a refused form shows them again).
#[derive(Debug, Clone, Default)]
struct FormValues {
    title: String,
    summary: String,
    module: String,
    comuni: String,
    tags: String,
    language: String,
    body: String,
    public: bool,
    national: bool,
}

impl FormValues {
    fn of(practice: &PracticeView) -> FormValues {
        FormValues {
            title: practice.title.clone(),
            summary: practice.summary.clone(),
            module: practice.module.clone(),
            comuni: practice.comuni.join(", "),
            tags: practice.tags.join(", "),
            language: practice.language.clone(),
            body: practice.body.clone(),
            public: practice.public,
            national: practice.federation == Federation::National,
        }
    }

    fn read(form: &MultipartForm) -> FormValues {
        FormValues {
            title: form.field("title"),
            summary: form.field("summary"),
            module: form.field("module"),
            comuni: form.field("comuni"),
            tags: form.field("tags"),
            language: form.field("language"),
            body: form.field("body"),
            public: form.field("visibility") == "public",
            national: form.field("federation") == "national",
        }
    }

    /// The input of the domain operation; `Err` names the field that cannot even be read.
    fn to_input(&self) -> Result<PracticeInput, FormError> {
        let module = self.module.parse::<Module>().map_err(|_| FormError {
            field: Some("module"),
            message: "Scegliere il modulo a cui appartiene la buona pratica.".into(),
        })?;
        let list = |text: &str| -> Vec<String> {
            text.split([',', ';', '\n'])
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(str::to_owned)
                .collect()
        };
        Ok(PracticeInput {
            title: self.title.clone(),
            summary: self.summary.clone(),
            module,
            comuni: list(&self.comuni),
            tags: list(&self.tags),
            language: if self.language.trim().is_empty() {
                "it".to_owned()
            } else {
                self.language.trim().to_owned()
            },
            body: self.body.clone(),
            public: self.public,
        })
    }
}

/// Why a form was refused, for people: the field (its input is marked) and what to do.
#[derive(Debug, Clone)]
struct FormError {
    field: Option<&'static str>,
    message: String,
}

/// Turns a refusal of the operation into a message in the page's language. Problems that are
/// not about the input (not allowed, not found, failures) stay errors and become pages.
fn form_error(error: AppError) -> Result<FormError, AppError> {
    let problem = error.to_problem();
    let detail = problem.detail().unwrap_or_default().to_owned();
    let field_and_message = |detail: &str| {
        detail
            .split_once(": ")
            .map(|(field, message)| (field.to_owned(), message.to_owned()))
    };
    let (field, message): (Option<&'static str>, String) = match (problem.status(), problem.code())
    {
        (StatusCode::PAYLOAD_TOO_LARGE, _) => (
            Some("attachment"),
            format!(
                "Gli allegati superano il limite: ciascun file al massimo {} MB, in tutto {} MB per invio.",
                super::ATTACHMENT_MAX / (1024 * 1024),
                super::FORM_BYTES_MAX / (1024 * 1024)
            ),
        ),
        (StatusCode::CONFLICT, Some("federation_blocked")) => (
            Some("federation"),
            format!(
                "La pubblicazione verso l'hub nazionale è bloccata: salvare come «Solo locale» e avvisare l'amministratore. ({detail})"
            ),
        ),
        (StatusCode::UNPROCESSABLE_ENTITY, _) => {
            let (name, technical) = field_and_message(&detail).unwrap_or_default();
            match name.as_str() {
                "title" => (
                    Some("title"),
                    format!(
                        "Il titolo è obbligatorio e può avere al massimo {} caratteri.",
                        super::TITLE_MAX
                    ),
                ),
                "summary" => (
                    Some("summary"),
                    format!(
                        "Il riassunto può avere al massimo {} caratteri.",
                        super::SUMMARY_MAX
                    ),
                ),
                "body" => (
                    Some("body"),
                    format!(
                        "Il testo può avere al massimo {} caratteri.",
                        super::BODY_MAX
                    ),
                ),
                "comuni" => (
                    Some("comuni"),
                    format!(
                        "Comuni coinvolti: indicare i codici ISTAT (6 cifre) di Comuni di questa Provincia, separati da virgole. ({technical})"
                    ),
                ),
                "tags" => (
                    Some("tags"),
                    format!(
                        "Parole chiave: al massimo {} voci separate da virgole, ciascuna di 1-50 caratteri.",
                        super::LIST_MAX
                    ),
                ),
                "language" => (
                    Some("language"),
                    "Lingua: indicare un codice come «it» o «de».".to_owned(),
                ),
                "attachment" => (
                    Some("attachment"),
                    format!(
                        "Allegato non accettato: sono ammessi PDF, immagini, testo e documenti office, non vuoti. ({technical})"
                    ),
                ),
                _ => (
                    None,
                    format!("Il documento non può essere salvato: {detail}"),
                ),
            }
        }
        _ => return Err(error),
    };
    Ok(FormError { field, message })
}

fn invalid_class(error: Option<&FormError>, field: &str) -> &'static str {
    if error.is_some_and(|e| e.field == Some(field)) {
        "form-control is-invalid"
    } else {
        "form-control"
    }
}

fn practice_form(
    action: &str,
    csrf: &str,
    values: &FormValues,
    error: Option<&FormError>,
    existing: Option<&PracticeView>,
) -> Markup {
    html! {
        @if let Some(error) = error {
            div class="alert alert-danger" role="alert" id="form-error" { (error.message) }
        }
        form method="post" action=(action) enctype="multipart/form-data" id="practice-form" novalidate {
            input type="hidden" name="csrf" value=(csrf);
            div class="form-group" {
                label for="title" class="active" { "Titolo" }
                input type="text" class=(invalid_class(error, "title")) id="title" name="title" value=(values.title) maxlength=(super::TITLE_MAX) required;
            }
            div class="form-group" {
                label for="summary" class="active" { "Riassunto (per gli elenchi)" }
                textarea class=(invalid_class(error, "summary")) id="summary" name="summary" rows="2" { (values.summary) }
            }
            div class="mb-3" {
                label for="module" class="form-label" { "Modulo" }
                select class="form-select" id="module" name="module" {
                    @for module in Module::ALL {
                        option value=(module.as_str()) selected[values.module == module.as_str()] { (module_label(module.as_str())) }
                    }
                }
            }
            div class="form-group" {
                label for="comuni" class="active" { "Comuni coinvolti (codici ISTAT separati da virgole, facoltativo)" }
                input type="text" class=(invalid_class(error, "comuni")) id="comuni" name="comuni" value=(values.comuni);
            }
            div class="form-group" {
                label for="tags" class="active" { "Parole chiave (separate da virgole)" }
                input type="text" class=(invalid_class(error, "tags")) id="tags" name="tags" value=(values.tags);
            }
            div class="form-group" {
                label for="language" class="active" { "Lingua (codice, es. it)" }
                input type="text" class=(invalid_class(error, "language")) id="language" name="language" value=(values.language) maxlength="35";
            }
            div class="form-group" {
                label for="body" class="active" { "Testo (Markdown)" }
                textarea class=(invalid_class(error, "body")) id="body" name="body" rows="12" { (values.body) }
            }
            @if let Some(practice) = existing.filter(|p| !p.attachments.is_empty()) {
                p class="mb-1" { "Allegati già presenti:" }
                ul { @for a in &practice.attachments { li { (a.filename) " " small { "(" (a.size) " byte)" } } } }
            }
            div class="mb-3" {
                label for="attachment" class="form-label" {
                    "Aggiungi allegati (facoltativo: al massimo " (super::FORM_FILES_MAX) " file, "
                    (super::ATTACHMENT_MAX / (1024 * 1024)) " MB ciascuno; PDF, immagini, testo, documenti office)"
                }
                input type="file" class=(invalid_class(error, "attachment")) id="attachment" name="attachment" multiple;
            }
            fieldset class="mb-3" {
                legend class="h6" { "Visibilità" }
                div class="form-check" {
                    input class="form-check-input" type="radio" name="visibility" id="visibility-draft" value="draft" checked[!values.public];
                    label class="form-check-label" for="visibility-draft" { "Bozza: visibile solo al personale della Provincia" }
                }
                div class="form-check" {
                    input class="form-check-input" type="radio" name="visibility" id="visibility-public" value="public" checked[values.public];
                    label class="form-check-label" for="visibility-public" { "Pubblica: sulle pagine pubbliche del nodo" }
                }
            }
            fieldset class="mb-3" {
                legend class="h6" { "Condivisione con le altre Province" }
                div class="form-check" {
                    input class=(if error.is_some_and(|e| e.field == Some("federation")) { "form-check-input is-invalid" } else { "form-check-input" }) type="radio" name="federation" id="federation-off" value="off" checked[!values.national];
                    label class="form-check-label" for="federation-off" { "Solo locale" }
                }
                div class="form-check" {
                    input class="form-check-input" type="radio" name="federation" id="federation-national" value="national" checked[values.national];
                    label class="form-check-label" for="federation-national" { "Nazionale: pubblicata nella biblioteca dell'hub UPI (se pubblica), ritirata se torna bozza o solo locale" }
                }
            }
            button type="submit" class="btn btn-primary" id="save-practice" { "Salva" }
        }
    }
}

fn form_page(
    state: &AppState,
    identity: &Identity,
    title: &str,
    form: &Markup,
    status: StatusCode,
) -> Response {
    let body = html! {
        nav aria-label="Percorso" { a href="/buone-pratiche" { "← Tutte le buone pratiche" } }
        h1 { (title) }
        (form)
    };
    (
        status,
        layout::page(
            &state.chrome(Some(identity), "/buone-pratiche"),
            title,
            &body,
        ),
    )
        .into_response()
}

async fn show_new_practice(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Response, AppError> {
    policy::authorize(&identity, Action::ManagePractices)?;
    let csrf = identity.csrf().unwrap_or_default().to_owned();
    let values = FormValues {
        module: "community".into(),
        language: "it".into(),
        ..FormValues::default()
    };
    let form = practice_form("/buone-pratiche/nuova", &csrf, &values, None, None);
    Ok(form_page(
        &state,
        &identity,
        "Nuova buona pratica",
        &form,
        StatusCode::OK,
    ))
}

async fn show_edit_practice(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    policy::authorize(&identity, Action::ManagePractices)?;
    let practice = super::get(&state, &identity, id).await?;
    let csrf = identity.csrf().unwrap_or_default().to_owned();
    let form = practice_form(
        &format!("/buone-pratiche/{id}/modifica"),
        &csrf,
        &FormValues::of(&practice),
        None,
        Some(&practice),
    );
    Ok(form_page(
        &state,
        &identity,
        &format!("Modifica: {}", practice.title),
        &form,
        StatusCode::OK,
    ))
}

async fn submit_new_practice(
    State(state): State<AppState>,
    identity: Identity,
    multipart: Multipart,
) -> Result<Response, AppError> {
    submit(&state, &identity, None, multipart).await
}

async fn submit_edit_practice(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<Response, AppError> {
    submit(&state, &identity, Some(id), multipart).await
}

/// Saves the form, or shows it again with the input and what to fix (422).
async fn submit(
    state: &AppState,
    identity: &Identity,
    id: Option<i64>,
    multipart: Multipart,
) -> Result<Response, AppError> {
    policy::authorize(identity, Action::ManagePractices)?;
    let action = id.map_or_else(
        || "/buone-pratiche/nuova".to_owned(),
        |id| format!("/buone-pratiche/{id}/modifica"),
    );
    let (values, files, refused) = match MultipartForm::read(multipart, "attachment").await {
        Ok(form) => {
            check_form_csrf(identity, &form.field("csrf"))?;
            (FormValues::read(&form), form.files, None)
        }
        // Over the body limit: nothing of the form could be kept.
        Err(error) => (FormValues::default(), Vec::new(), Some(form_error(error)?)),
    };
    let error = match (refused, values.to_input()) {
        (Some(refused), _) | (None, Err(refused)) => refused,
        (None, Ok(input)) => {
            let submission = FormSubmission {
                input,
                files,
                federation: if values.national {
                    Federation::National
                } else {
                    Federation::Off
                },
            };
            match super::save_form(state, identity, id, submission).await {
                Ok(saved) => {
                    let target = format!("/buone-pratiche/{}", saved.id);
                    return Ok(layout::redirect_with_flash(
                        &target,
                        "Buona pratica salvata.",
                    ));
                }
                Err(error) => form_error(error)?,
            }
        }
    };
    let existing = match id {
        Some(id) => Some(super::get(state, identity, id).await?),
        None => None,
    };
    let csrf = identity.csrf().unwrap_or_default().to_owned();
    let title = match &existing {
        Some(practice) => format!("Modifica: {}", practice.title),
        None => "Nuova buona pratica".to_owned(),
    };
    let form = practice_form(&action, &csrf, &values, Some(&error), existing.as_ref());
    Ok(form_page(
        state,
        identity,
        &title,
        &form,
        StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

/// [`dashboard_cards`] as the module registry calls it.
pub fn cards<'a>(state: &'a AppState, identity: &'a Identity) -> crate::modules::CardsFuture<'a> {
    Box::pin(dashboard_cards(state, identity))
}

/// Best practices on the dashboard of who manages them: drafts to finish, published and
/// national ones. `None` for the other roles.
pub async fn dashboard_cards(
    state: &AppState,
    identity: &Identity,
) -> Result<Option<Markup>, AppError> {
    if policy::authorize(identity, Action::ManagePractices).is_err() {
        return Ok(None);
    }
    let items = super::list(state, identity, None, None, 200).await?;
    let count = |keep: &dyn Fn(&&super::PracticeSummary) -> bool| {
        i64::try_from(items.iter().filter(|i| keep(i)).count()).unwrap_or(i64::MAX)
    };
    Ok(Some(html! {
        section aria-labelledby="dashboard-practices" class="mb-5" {
            h2 id="dashboard-practices" { "Buone pratiche" }
            div class="row" {
                (layout::figure("Bozze da completare", count(&|i| !i.public), "/buone-pratiche"))
                (layout::figure("Pubblicate", count(&|i| i.public), "/buone-pratiche"))
                (layout::figure("Condivise a livello nazionale", count(&|i| i.federation == Federation::National), "/buone-pratiche"))
            }
            p { a href="/buone-pratiche/nuova" { "Nuova buona pratica" } " · " a href="/buone-pratiche" { "Tutte le buone pratiche" } }
        }
    }))
}
