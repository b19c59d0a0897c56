//! The administrator's pages: people (list with filters, add, roles, disable/enable, new
//! one-time password, revoke tokens) and the audit log with its filters. Every action is a
//! form with the session's CSRF token; a one-time password is shown once, on the page that
//! answers the form, and never stored anywhere but as its hash.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use pico_service::format;
use pico_service::web as layout;
use serde::Deserialize;

use crate::auth::policy::{Action, authorize};
use crate::auth::{Identity, Module, Role};
use crate::db::{self, audit::AuditFilter, people::PeopleFilter, people::Person};
use crate::error::AppError;
use crate::people::ops::{self, FieldErrors, NewPerson};
use crate::state::AppState;
use crate::web::form::{FormState, error_summary, input};
use crate::web::{CsrfForm, PageForm, check_form_csrf, query_value};

/// The people list.
pub const PEOPLE: &str = "/amministrazione/persone";
/// The form that adds a person.
pub const NEW_PERSON: &str = "/amministrazione/persone/nuova";
/// The audit log.
pub const AUDIT: &str = "/amministrazione/registro";
/// Rows per page of both lists.
const PAGE_SIZE: u32 = 50;

/// The page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(PEOPLE, get(show_people))
        .route(NEW_PERSON, get(show_new_person).post(submit_new_person))
        .route("/amministrazione/persone/{id}", get(show_person))
        .route("/amministrazione/persone/{id}/ruoli", post(submit_roles))
        .route(
            "/amministrazione/persone/{id}/disattiva",
            post(submit_disable),
        )
        .route(
            "/amministrazione/persone/{id}/riattiva",
            post(submit_enable),
        )
        .route(
            "/amministrazione/persone/{id}/password",
            post(submit_reset_password),
        )
        .route(
            "/amministrazione/persone/{id}/token",
            post(submit_revoke_tokens),
        )
        .route(AUDIT, get(show_audit))
}

fn person_path(id: i64) -> String {
    format!("{PEOPLE}/{id}")
}

/// A query string of the non-empty `pairs`, values encoded.
fn query_string(pairs: &[(&str, &str)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| format!("{name}={}", query_value(value)))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// Previous and next links of a list of `total` rows shown from `offset`.
fn pagination(base: &str, pairs: &[(&str, &str)], page: u32, total: i64) -> Markup {
    let pages = u32::try_from((total + i64::from(PAGE_SIZE) - 1) / i64::from(PAGE_SIZE))
        .unwrap_or(u32::MAX)
        .max(1);
    let link = |to: u32| {
        let number = to.to_string();
        let mut all: Vec<(&str, &str)> = pairs.to_vec();
        if to > 1 {
            all.push(("pagina", &number));
        }
        format!("{base}{}", query_string(&all))
    };
    html! {
        @if pages > 1 {
            nav class="pagination-wrapper" aria-label="Pagine dell'elenco" {
                p { "Pagina " (page) " di " (pages) }
                ul class="pagination" {
                    @if page > 1 {
                        li class="page-item" { a class="page-link" href=(link(page - 1)) rel="prev" { "Pagina precedente" } }
                    }
                    @if page < pages {
                        li class="page-item" { a class="page-link" href=(link(page + 1)) rel="next" { "Pagina successiva" } }
                    }
                }
            }
        }
    }
}

/// A select that may be left empty (`empty` names that choice), with its message.
fn optional_select(
    form: &FormState,
    name: &str,
    label: &str,
    options: &[(String, String)],
    empty: &str,
) -> Markup {
    let error = form.error(name);
    let current = form.value(name);
    html! {
        div class="mb-3" {
            label for=(name) class="form-label" { (label) }
            select class=(if error.is_some() { "form-select is-invalid" } else { "form-select" }) id=(name) name=(name)
                aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| format!("{name}-error"))] {
                option value="" { (empty) }
                @for (value, text) in options {
                    option value=(value) selected[value == current] { (text) }
                }
            }
            @if let Some(message) = error {
                div class="invalid-feedback d-block" id=(format!("{name}-error")) { (message) }
            }
        }
    }
}

fn page_number(text: Option<&str>) -> u32 {
    text.and_then(|text| text.parse::<u32>().ok())
        .filter(|page| *page >= 1 && *page <= 100_000)
        .unwrap_or(1)
}

/// The Italian name of a kind of role in the filter.
const ROLE_KINDS: [(&str, &str); 3] = [
    ("admin", "Amministratori"),
    ("operator", "Operatori"),
    ("comune", "Utenti dei Comuni"),
];

#[derive(Debug, Default, Deserialize)]
struct PeopleQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    ruolo: String,
    #[serde(default)]
    modulo: String,
    #[serde(default)]
    comune: String,
    #[serde(default)]
    stato: String,
    pagina: Option<String>,
}

fn roles_text(person: &Person) -> String {
    match &person.comune_name {
        Some(name) => format!("Comune di {name}"),
        None => person.user.roles.label(),
    }
}

async fn comuni_options(state: &AppState) -> Result<Vec<(String, String)>, AppError> {
    let comuni = state
        .db
        .call(|conn| db::comuni::list(conn, None, 10_000).map_err(AppError::from))
        .await?;
    let mut options: Vec<(String, String)> = comuni
        .into_iter()
        .map(|comune| (comune.code, comune.name))
        .collect();
    options.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(options)
}

async fn show_people(
    State(state): State<AppState>,
    identity: Identity,
    Query(query): Query<PeopleQuery>,
) -> Result<Markup, AppError> {
    authorize(&identity, Action::ManagePeople)?;
    let filter = PeopleFilter {
        role: ROLE_KINDS
            .iter()
            .map(|(code, _)| *code)
            .find(|code| *code == query.ruolo),
        module: Module::ALL
            .iter()
            .map(|module| module.as_str())
            .find(|code| *code == query.modulo),
        comune: Some(query.comune.clone()).filter(|code| !code.is_empty()),
        active: match query.stato.as_str() {
            "attivi" => Some(true),
            "disattivati" => Some(false),
            _ => None,
        },
        search: Some(query.q.trim().to_owned()).filter(|text| !text.is_empty()),
    };
    let page = page_number(query.pagina.as_deref());
    let offset = (page - 1).saturating_mul(PAGE_SIZE);
    let (people, total) = state
        .db
        .call(move |conn| {
            db::people::list_people(conn, &filter, db::now(), PAGE_SIZE, offset)
                .map_err(AppError::from)
        })
        .await?;
    let comuni = comuni_options(&state).await?;
    let pairs = [
        ("q", query.q.as_str()),
        ("ruolo", query.ruolo.as_str()),
        ("modulo", query.modulo.as_str()),
        ("comune", query.comune.as_str()),
        ("stato", query.stato.as_str()),
    ];
    let chosen = |value: &str, option: &str| value == option;
    let body = html! {
        h1 { "Persone" }
        p { "Le persone che accedono al nodo, con i loro ruoli. Ogni modifica è registrata nel "
            a href=(AUDIT) { "registro delle attività" } "." }
        p { a class="btn btn-primary" href=(NEW_PERSON) { "Aggiungi una persona" } }
        form method="get" action=(PEOPLE) class="row g-3 align-items-end mb-4" aria-label="Filtri delle persone" {
            div class="col-12 col-md-4" {
                div class="form-group mb-0" {
                    label for="q" class="active" { "Cerca per nome o nome utente" }
                    input type="search" class="form-control" id="q" name="q" value=(query.q);
                }
            }
            div class="col-12 col-md-4 col-lg-2" {
                label for="ruolo" class="form-label" { "Ruolo" }
                select class="form-select" id="ruolo" name="ruolo" {
                    option value="" { "Tutti" }
                    @for (code, label) in ROLE_KINDS {
                        option value=(code) selected[chosen(&query.ruolo, code)] { (label) }
                    }
                }
            }
            div class="col-12 col-md-4 col-lg-2" {
                label for="modulo" class="form-label" { "Modulo" }
                select class="form-select" id="modulo" name="modulo" {
                    option value="" { "Tutti" }
                    @for module in Module::ALL {
                        option value=(module.as_str()) selected[chosen(&query.modulo, module.as_str())] { (module.label()) }
                    }
                }
            }
            div class="col-12 col-md-4 col-lg-2" {
                label for="comune" class="form-label" { "Comune" }
                select class="form-select" id="comune" name="comune" {
                    option value="" { "Tutti" }
                    @for (code, name) in &comuni {
                        option value=(code) selected[chosen(&query.comune, code)] { (name) }
                    }
                }
            }
            div class="col-12 col-md-4 col-lg-2" {
                label for="stato" class="form-label" { "Stato" }
                select class="form-select" id="stato" name="stato" {
                    option value="" { "Tutti" }
                    option value="attivi" selected[chosen(&query.stato, "attivi")] { "Attivi" }
                    option value="disattivati" selected[chosen(&query.stato, "disattivati")] { "Disattivati" }
                }
            }
            div class="col-12" {
                button type="submit" class="btn btn-outline-primary" { "Filtra" }
                " "
                a class="btn btn-link" href=(PEOPLE) { "Togli i filtri" }
            }
        }
        p role="status" { (format::integer(total)) @if total == 1 { " persona trovata." } @else { " persone trovate." } }
        @if !people.is_empty() {
            div class="table-responsive" tabindex="0" role="region" aria-label="Elenco delle persone, scorrevole" {
                table class="table table-sm" {
                    caption { "Persone (pagina " (page) ")" }
                    thead { tr {
                        th scope="col" { "Nome" }
                        th scope="col" { "Nome utente" }
                        th scope="col" { "Ruoli" }
                        th scope="col" { "Stato" }
                        th scope="col" { "Token API attivi" }
                    } }
                    tbody {
                        @for person in &people {
                            tr {
                                td { a href=(person_path(person.user.id)) { (person.user.display_name) } }
                                td { (person.user.username) }
                                td { (roles_text(person)) }
                                td { @if person.disabled { "Disattivato" } @else { "Attivo" } }
                                td { (person.live_tokens) }
                            }
                        }
                    }
                }
            }
        }
        (pagination(PEOPLE, &pairs, page, total))
    };
    Ok(layout::page(
        &state.chrome(Some(&identity), PEOPLE),
        "Persone",
        &body,
    ))
}

const NEW_LABELS: [(&str, &str); 4] = [
    ("display_name", "Nome e cognome"),
    ("username", "Nome utente"),
    ("ruoli", "Ruoli della Provincia"),
    ("comune", "Comune"),
];

/// The checkboxes of the Province roles, ticked as in `held`, with the message of `error`.
fn role_boxes(prefix: &str, held: &[Role], error: Option<&str>) -> Markup {
    let id = format!("{prefix}ruoli");
    let ticked = |role: &Role| held.contains(role);
    html! {
        fieldset class="mb-3" id=(id) aria-describedby=[error.map(|_| format!("{id}-error"))] {
            legend class="h6" { "Ruoli della Provincia" }
            div class="form-check" {
                input class="form-check-input" type="checkbox" id=(format!("{prefix}ruolo-admin")) name="ruolo" value="admin" checked[ticked(&Role::Admin)];
                label class="form-check-label" for=(format!("{prefix}ruolo-admin")) { "Amministratore" }
            }
            @for module in Module::ALL {
                @let box_id = format!("{prefix}ruolo-{}", module.as_str());
                div class="form-check" {
                    input class="form-check-input" type="checkbox" id=(box_id) name="ruolo" value=(module.as_str()) checked[ticked(&Role::Operator(module))];
                    label class="form-check-label" for=(box_id) { "Operatore " (module.label()) }
                }
            }
            @if let Some(message) = error {
                div class="invalid-feedback d-block" id=(format!("{id}-error")) { (message) }
            }
        }
    }
}

/// The roles ticked in a form: `ruolo=admin` and `ruolo=<module>`; an unknown value is a
/// message for the field.
fn ticked_roles(pairs: &[(String, String)]) -> Result<Vec<Role>, String> {
    pairs
        .iter()
        .filter(|(name, _)| name == "ruolo")
        .map(|(_, value)| match value.as_str() {
            "admin" => Ok(Role::Admin),
            code => code
                .parse::<Module>()
                .map(Role::Operator)
                .map_err(|_| "Uno dei ruoli scelti non esiste: ricaricare la pagina.".to_owned()),
        })
        .collect()
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(field, _)| field == name)
        .map_or("", |(_, value)| value.as_str())
}

async fn new_person_page(
    state: &AppState,
    identity: &Identity,
    form: &FormState,
    held: &[Role],
    status: StatusCode,
) -> Result<Response, AppError> {
    let csrf = identity.csrf().unwrap_or_default();
    let comuni = comuni_options(state).await?;
    let body = html! {
        div class="row" { div class="col-12 col-lg-8" {
            h1 { "Aggiungi una persona" }
            p { "La persona riceve una password provvisoria, mostrata una sola volta dopo il salvataggio: al primo accesso dovrà sceglierne una propria." }
            (error_summary(form, &NEW_LABELS))
            form method="post" action=(NEW_PERSON) novalidate {
                input type="hidden" name="csrf" value=(csrf);
                (input(form, "display_name", NEW_LABELS[0].1, "text", true, None))
                (input(form, "username", NEW_LABELS[1].1, "text", true, Some("Per esempio nome.cognome o l'indirizzo email; lettere, cifre e . - _ @ +.")))
                (role_boxes("", held, form.error("ruoli")))
                (optional_select(form, "comune", "Comune (solo per il personale di un Comune)", &comuni, "Nessuno: personale della Provincia"))
                button type="submit" class="btn btn-primary" { "Aggiungi" }
                " "
                a class="btn btn-link" href=(PEOPLE) { "Annulla" }
            }
        } }
    };
    let mut response = layout::page(
        &state.chrome(Some(identity), PEOPLE),
        "Aggiungi una persona",
        &body,
    )
    .into_response();
    *response.status_mut() = status;
    Ok(response)
}

async fn show_new_person(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Response, AppError> {
    authorize(&identity, Action::ManagePeople)?;
    new_person_page(
        &state,
        &identity,
        &FormState::default(),
        &[],
        StatusCode::OK,
    )
    .await
}

fn form_state(pairs: &[(String, String)], names: &[&str], errors: FieldErrors) -> FormState {
    FormState {
        values: names
            .iter()
            .map(|name| ((*name).to_owned(), field(pairs, name).to_owned()))
            .collect(),
        errors: errors
            .into_iter()
            .map(|(field, message)| (field.to_owned(), message))
            .collect(),
        ..FormState::default()
    }
}

/// The answer to a form that sets a password: the password, shown this once.
fn password_notice(person_name: &str, password: &str, what: &str) -> Markup {
    html! {
        div class="alert alert-success" role="status" {
            p { (what) }
            p class="mb-1" { "Password provvisoria di " strong { (person_name) } ", mostrata solo ora: comunicatela in modo riservato." }
            p class="mb-1" { code class="fs-5" { (password) } }
            p class="mb-0" { "Al primo accesso dovrà sceglierne una nuova." }
        }
    }
}

async fn submit_new_person(
    State(state): State<AppState>,
    identity: Identity,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    authorize(&identity, Action::ManagePeople)?;
    check_form_csrf(&identity, field(&pairs, "csrf"))?;
    let names = ["display_name", "username", "comune"];
    let roles = match ticked_roles(&pairs) {
        Ok(roles) => roles,
        Err(message) => {
            let form = form_state(&pairs, &names, FieldErrors::from([("ruoli", message)]));
            return new_person_page(
                &state,
                &identity,
                &form,
                &[],
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let input = NewPerson {
        display_name: field(&pairs, "display_name").to_owned(),
        username: field(&pairs, "username").to_owned(),
        roles: roles.clone(),
        comune: field(&pairs, "comune").to_owned(),
    };
    match ops::add_person(&state, &identity, input).await? {
        Ok((id, password)) => {
            let person = ops::person(&state, &identity, id).await?;
            let notice = password_notice(
                &person.user.display_name,
                &password,
                &format!(
                    "Persona aggiunta: {} ({}).",
                    person.user.display_name,
                    roles_text(&person)
                ),
            );
            person_page(
                &state,
                &identity,
                &person,
                Some(notice),
                None,
                StatusCode::OK,
            )
            .await
        }
        Err(errors) => {
            let form = form_state(&pairs, &names, errors);
            new_person_page(
                &state,
                &identity,
                &form,
                &roles,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// A person's page: who they are, their roles (a form), and the access actions.
async fn person_page(
    state: &AppState,
    identity: &Identity,
    person: &Person,
    notice: Option<Markup>,
    roles_form: Option<(&[Role], &str)>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let csrf = identity.csrf().unwrap_or_default();
    let id = person.user.id;
    let me = identity.user.as_ref().is_some_and(|user| user.id == id);
    let held = person.user.roles.to_vec();
    let (ticked, roles_error) = roles_form.map_or((held.as_slice(), None), |(ticked, error)| {
        (ticked, Some(error))
    });
    let action = |what: &str| format!("{}/{what}", person_path(id));
    let body = html! {
        h1 { (person.user.display_name) }
        @if let Some(notice) = notice { (notice) }
        dl class="row" {
            dt class="col-sm-4 col-lg-3" { "Nome utente" } dd class="col-sm-8 col-lg-9" { (person.user.username) }
            dt class="col-sm-4 col-lg-3" { "Ruoli" } dd class="col-sm-8 col-lg-9" { (roles_text(person)) }
            dt class="col-sm-4 col-lg-3" { "Stato" } dd class="col-sm-8 col-lg-9" {
                @if person.disabled { "Disattivato: non può accedere" } @else { "Attivo" }
                @if person.user.must_change_password { " · password provvisoria da cambiare al primo accesso" }
            }
            dt class="col-sm-4 col-lg-3" { "Aggiunto il" } dd class="col-sm-8 col-lg-9" { (format::unix_date(person.created_at)) }
            dt class="col-sm-4 col-lg-3" { "Token API attivi" } dd class="col-sm-8 col-lg-9" { (person.live_tokens) }
        }
        section aria-labelledby="ruoli-titolo" class="my-4" {
            h2 id="ruoli-titolo" class="h4" { "Ruoli" }
            @if let Some(code) = person.user.roles.comune() {
                p { "Utente del " (roles_text(person)) " (" (code) "): il personale di un Comune non ha ruoli della Provincia." }
            } @else {
                @if let Some(message) = roles_error {
                    div class="alert alert-danger" role="alert" id="form-errors" tabindex="-1" {
                        p class="mb-0" { a href="#ruoli" { "Ruoli della Provincia" } ": " (message) }
                    }
                }
                form method="post" action=(action("ruoli")) novalidate {
                    input type="hidden" name="csrf" value=(csrf);
                    (role_boxes("", ticked, roles_error))
                    button type="submit" class="btn btn-primary" { "Salva i ruoli" }
                }
            }
        }
        section aria-labelledby="accesso-titolo" class="my-4" {
            h2 id="accesso-titolo" class="h4" { "Accesso" }
            div class="d-flex flex-wrap gap-2" {
                @if person.disabled {
                    form method="post" action=(action("riattiva")) {
                        input type="hidden" name="csrf" value=(csrf);
                        button type="submit" class="btn btn-outline-primary" { "Riattiva l'account" }
                    }
                } @else if !me {
                    form method="post" action=(action("disattiva")) {
                        input type="hidden" name="csrf" value=(csrf);
                        button type="submit" class="btn btn-outline-danger" { "Disattiva l'account" }
                    }
                }
                @if !me {
                    form method="post" action=(action("password")) {
                        input type="hidden" name="csrf" value=(csrf);
                        button type="submit" class="btn btn-outline-primary" { "Genera una nuova password provvisoria" }
                    }
                }
                form method="post" action=(action("token")) {
                    input type="hidden" name="csrf" value=(csrf);
                    button type="submit" class="btn btn-outline-primary" disabled[person.live_tokens == 0] { "Revoca tutti i token API" }
                }
            }
            p class="mt-2" { "Disattivare un account chiude subito le sue sessioni e revoca i suoi token API." }
        }
        p { a href=(PEOPLE) { "Torna all'elenco delle persone" } " · "
            a href=(format!("{AUDIT}?chi={}", query_value(&person.user.username))) { "Attività di questa persona" } }
    };
    let mut response = layout::page(
        &state.chrome(Some(identity), PEOPLE),
        &person.user.display_name,
        &body,
    )
    .into_response();
    *response.status_mut() = status;
    Ok(response)
}

async fn show_person(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let person = ops::person(&state, &identity, id).await?;
    person_page(&state, &identity, &person, None, None, StatusCode::OK).await
}

/// The person's page again with `err` as a message, when the change was refused for a
/// reason a person can read (409); any other error as it is.
async fn refused_page(
    state: &AppState,
    identity: &Identity,
    id: i64,
    err: AppError,
) -> Result<Response, AppError> {
    let AppError::Conflict { detail, .. } = &err else {
        return Err(err);
    };
    let person = ops::person(state, identity, id).await?;
    let notice = html! { div class="alert alert-danger" role="alert" { (detail) } };
    person_page(
        state,
        identity,
        &person,
        Some(notice),
        None,
        StatusCode::CONFLICT,
    )
    .await
}

async fn submit_roles(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    authorize(&identity, Action::ManagePeople)?;
    check_form_csrf(&identity, field(&pairs, "csrf"))?;
    let ticked = ticked_roles(&pairs);
    let outcome = match &ticked {
        Ok(roles) => ops::set_roles(&state, &identity, id, roles.clone()).await,
        Err(message) => Ok(Err(FieldErrors::from([("ruoli", message.clone())]))),
    };
    match outcome {
        Ok(Ok(roles)) => Ok(layout::redirect_with_flash(
            &person_path(id),
            &format!("Ruoli salvati: {}.", roles.label()),
        )),
        Ok(Err(errors)) => {
            let person = ops::person(&state, &identity, id).await?;
            let message = errors.into_values().next().unwrap_or_default();
            let ticked = ticked.unwrap_or_default();
            person_page(
                &state,
                &identity,
                &person,
                None,
                Some((&ticked, &message)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(err) => refused_page(&state, &identity, id, err).await,
    }
}

async fn submit_disabled(
    state: AppState,
    identity: Identity,
    id: i64,
    csrf: &str,
    disabled: bool,
) -> Result<Response, AppError> {
    authorize(&identity, Action::ManagePeople)?;
    check_form_csrf(&identity, csrf)?;
    match ops::set_disabled(&state, &identity, id, disabled).await {
        Ok(person) => Ok(layout::redirect_with_flash(
            &person_path(id),
            &if disabled {
                format!(
                    "Account di {} disattivato: le sue sessioni sono chiuse e i suoi token revocati.",
                    person.user.display_name
                )
            } else {
                format!("Account di {} riattivato.", person.user.display_name)
            },
        )),
        Err(err) => refused_page(&state, &identity, id, err).await,
    }
}

async fn submit_disable(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, AppError> {
    submit_disabled(state, identity, id, &form.csrf, true).await
}

async fn submit_enable(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, AppError> {
    submit_disabled(state, identity, id, &form.csrf, false).await
}

async fn submit_reset_password(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, AppError> {
    authorize(&identity, Action::ManagePeople)?;
    check_form_csrf(&identity, &form.csrf)?;
    match ops::reset_password(&state, &identity, id).await {
        Ok((person, password)) => {
            let person = ops::person(&state, &identity, person.user.id).await?;
            let notice = password_notice(
                &person.user.display_name,
                &password,
                "Nuova password provvisoria generata: le sessioni aperte con la precedente sono chiuse.",
            );
            person_page(
                &state,
                &identity,
                &person,
                Some(notice),
                None,
                StatusCode::OK,
            )
            .await
        }
        Err(err) => refused_page(&state, &identity, id, err).await,
    }
}

async fn submit_revoke_tokens(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, AppError> {
    authorize(&identity, Action::ManagePeople)?;
    check_form_csrf(&identity, &form.csrf)?;
    let revoked = ops::revoke_tokens(&state, &identity, id).await?;
    let message = match revoked {
        0 => "Nessun token API da revocare.".to_owned(),
        1 => "Revocato 1 token API.".to_owned(),
        n => format!("Revocati {n} token API."),
    };
    Ok(layout::redirect_with_flash(&person_path(id), &message))
}

#[derive(Debug, Default, Deserialize)]
struct AuditQuery {
    #[serde(default)]
    chi: String,
    #[serde(default)]
    azione: String,
    #[serde(default)]
    dal: String,
    #[serde(default)]
    al: String,
    pagina: Option<String>,
}

/// The Italian name of the actions people read most; others show their code.
const ACTION_LABELS: &[(&str, &str)] = &[
    ("session.login", "Accesso"),
    ("session.logout", "Uscita"),
    ("user.add", "Persona aggiunta"),
    ("user.roles", "Ruoli cambiati"),
    ("user.disable", "Account disattivato"),
    ("user.enable", "Account riattivato"),
    ("user.reset_password", "Nuova password provvisoria"),
    ("user.change_password", "Password cambiata dalla persona"),
    ("user.revoke_tokens", "Token API revocati"),
    ("token.create", "Token API creato"),
    ("token.revoke", "Token API revocato"),
    ("node.init", "Nodo inizializzato"),
    ("helpdesk.open", "Help Desk: richiesta aperta"),
    ("helpdesk.comment", "Help Desk: commento"),
    ("helpdesk.assign", "Help Desk: assegnazione"),
    ("helpdesk.transition", "Help Desk: cambio di stato"),
    ("helpdesk.attach", "Help Desk: allegato"),
    ("sua.import", "SUA: importazione"),
    ("sua.attach", "SUA: allegato"),
    ("dataset.import", "Dati: importazione"),
    ("dataset.federation", "Dati: pubblicazione nazionale"),
    ("dataset.delete_rows", "Dati: righe eliminate"),
    ("practice.create", "Buona pratica creata"),
    ("practice.update", "Buona pratica modificata"),
    ("practice.attach", "Buona pratica: allegato"),
    (
        "practice.federation",
        "Buona pratica: pubblicazione nazionale",
    ),
    ("network.join", "Rete tematica: adesione"),
    ("network.leave", "Rete tematica: uscita"),
    ("network.post", "Rete tematica: messaggio"),
    ("network.trust_key", "Rete tematica: chiave accettata"),
    ("federation.resync", "Federazione: riallineamento"),
    ("federation.unpin", "Federazione: chiave dell'hub sbloccata"),
];

fn action_label(code: &str) -> String {
    ACTION_LABELS
        .iter()
        .find(|(known, _)| *known == code)
        .map_or_else(|| code.to_owned(), |(_, label)| (*label).to_owned())
}

/// Who acted, as people say it.
fn actor_label(actor: &str) -> String {
    match actor {
        "cli" => "Riga di comando del server".to_owned(),
        "anonymous" => "Anonimo".to_owned(),
        other => other.strip_prefix("user:").unwrap_or(other).to_owned(),
    }
}

/// What an event of the people pages changed, in words; nothing for other events (their
/// details are codes for the modules' own pages).
fn detail_text(event: &db::audit::AuditEvent) -> String {
    let roles = event
        .detail
        .get("roles")
        .and_then(serde_json::Value::as_array)
        .map(|codes| {
            codes
                .iter()
                .filter_map(serde_json::Value::as_str)
                .map(|code| match code.split_once(':') {
                    None if code == "admin" => "Amministratore".to_owned(),
                    Some(("operator", module)) => module.parse::<Module>().map_or_else(
                        |_| format!("Operatore {module}"),
                        |module| format!("Operatore {}", module.label()),
                    ),
                    Some(("comune", code)) => format!("Comune {code}"),
                    _ => code.to_owned(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        });
    let mut parts = Vec::new();
    if let Some(roles) = roles {
        parts.push(format!("ruoli: {roles}"));
    }
    if let Some(revoked) = event
        .detail
        .get("revoked")
        .and_then(serde_json::Value::as_i64)
    {
        parts.push(format!("token revocati: {revoked}"));
    }
    if event.detail.get("must_change_password") == Some(&serde_json::Value::Bool(true)) {
        parts.push("password provvisoria".to_owned());
    }
    parts.join("; ")
}

/// A `gg/mm/aaaa` day as the instant its Italian day starts (and the next day's start).
fn rome_day(text: &str) -> Option<(i64, i64)> {
    let date = jiff::civil::Date::strptime("%d/%m/%Y", text.trim()).ok()?;
    let rome = jiff::tz::TimeZone::get("Europe/Rome").ok()?;
    let start = date.to_zoned(rome.clone()).ok()?.timestamp().as_second();
    let next = date
        .tomorrow()
        .ok()?
        .to_zoned(rome)
        .ok()?
        .timestamp()
        .as_second();
    Some((start, next))
}

const AUDIT_LABELS: [(&str, &str); 4] = [
    ("chi", "Chi"),
    ("azione", "Azione"),
    ("dal", "Dal"),
    ("al", "Al"),
];

async fn show_audit(
    State(state): State<AppState>,
    identity: Identity,
    Query(query): Query<AuditQuery>,
) -> Result<Response, AppError> {
    authorize(&identity, Action::ViewAudit)?;
    let mut errors = FieldErrors::new();
    let day = |field: &'static str, text: &str, errors: &mut FieldErrors| {
        if text.trim().is_empty() {
            return None;
        }
        let day = rome_day(text);
        if day.is_none() {
            errors.insert(
                field,
                "Scrivere la data come gg/mm/aaaa, per esempio 31/03/2026.".to_owned(),
            );
        }
        day
    };
    let from = day("dal", &query.dal, &mut errors);
    let until = day("al", &query.al, &mut errors);
    if let (Some((from, _)), Some((_, until))) = (from, until)
        && until <= from
    {
        errors.insert(
            "al",
            "La data finale viene prima di quella iniziale.".to_owned(),
        );
    }
    let filter = AuditFilter {
        actor: Some(query.chi.trim().to_owned()).filter(|text| !text.is_empty()),
        action: Some(query.azione.clone()).filter(|text| !text.is_empty()),
        from: from.map(|(start, _)| start),
        until: until.map(|(_, next)| next),
    };
    let page = page_number(query.pagina.as_deref());
    let offset = (page - 1).saturating_mul(PAGE_SIZE);
    let valid = errors.is_empty();
    let (events, total, actions) = state
        .db
        .call(move |conn| {
            let actions = db::audit::actions(conn)?;
            let (events, total) = if valid {
                db::audit::list_filtered(conn, &filter, PAGE_SIZE, offset)?
            } else {
                (Vec::new(), 0)
            };
            Ok::<_, AppError>((events, total, actions))
        })
        .await?;
    let form = FormState {
        values: [
            ("chi", &query.chi),
            ("azione", &query.azione),
            ("dal", &query.dal),
            ("al", &query.al),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.clone()))
        .collect(),
        errors: errors
            .into_iter()
            .map(|(field, message)| (field.to_owned(), message))
            .collect(),
        ..FormState::default()
    };
    let action_options: Vec<(String, String)> = actions
        .iter()
        .map(|code| (code.clone(), action_label(code)))
        .collect();
    let pairs = [
        ("chi", query.chi.as_str()),
        ("azione", query.azione.as_str()),
        ("dal", query.dal.as_str()),
        ("al", query.al.as_str()),
    ];
    let date_hint = "gg/mm/aaaa";
    let body = html! {
        h1 { "Registro delle attività" }
        p { "Chi ha fatto che cosa sul nodo, e quando: il registro non si può modificare né cancellare." }
        (error_summary(&form, &AUDIT_LABELS))
        form method="get" action=(AUDIT) class="row g-3 align-items-end mb-4" aria-label="Filtri del registro" novalidate {
            div class="col-12 col-md-6 col-lg-3" { (input(&form, "chi", "Chi (nome utente)", "text", false, None)) }
            div class="col-12 col-md-6 col-lg-3" {
                (optional_select(&form, "azione", "Azione", &action_options, "Tutte"))
            }
            div class="col-6 col-lg-3" { (input(&form, "dal", "Dal", "text", false, Some(date_hint))) }
            div class="col-6 col-lg-3" { (input(&form, "al", "Al", "text", false, Some(date_hint))) }
            div class="col-12" {
                button type="submit" class="btn btn-outline-primary" { "Filtra" }
                " "
                a class="btn btn-link" href=(AUDIT) { "Togli i filtri" }
            }
        }
        @if valid {
            p role="status" { (format::integer(total)) @if total == 1 { " attività trovata." } @else { " attività trovate." } }
        }
        @if !events.is_empty() {
            div class="table-responsive" tabindex="0" role="region" aria-label="Registro delle attività, scorrevole" {
                table class="table table-sm" {
                    caption { "Attività, dalla più recente (pagina " (page) ")" }
                    thead { tr {
                        th scope="col" { "Quando" }
                        th scope="col" { "Chi" }
                        th scope="col" { "Azione" }
                        th scope="col" { "Su che cosa" }
                        th scope="col" { "Dettagli" }
                        th scope="col" { "Indirizzo" }
                    } }
                    tbody {
                        @for event in &events {
                            tr {
                                td { (format::rfc3339(&event.at)) }
                                td { (actor_label(&event.actor)) }
                                td { (action_label(&event.action)) }
                                td { (event.resource) }
                                td { (detail_text(event)) }
                                td { (event.client_ip) }
                            }
                        }
                    }
                }
            }
        }
        (pagination(AUDIT, &pairs, page, total))
        p { a href=(PEOPLE) { "Persone" } }
    };
    let mut response = layout::page(
        &state.chrome(Some(&identity), AUDIT),
        "Registro delle attività",
        &body,
    )
    .into_response();
    if !valid {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}
