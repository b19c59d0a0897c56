//! SAPE web pages: the calls search with filters and pages, a call's page (follow, flags,
//! proposals), hand entry and import of calls, the Comune's calendar address and feed, the
//! proposals with their budgets, and the dashboard card.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Multipart, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use pico_service::format as fmt;
use pico_service::http::body_limit;
use pico_service::json::Path;
use pico_service::web as layout;
use serde::Deserialize;

use crate::auth::Identity;
use crate::db;
use crate::error::AppError;
use crate::sape::documents::{self, DocumentView};
use crate::sape::national::is_funded;
use crate::sape::ops::{
    self, CallQuery, CallView, FlagsInput, NewCall, NewTransition, PartnerInput, ProposalInput,
    ProposalView, WorkPackageInput, field_messages,
};
use crate::sape::outcome::{self, AmountsInput, OutcomeInput, is_evaluated, is_paying};
use crate::sape::policy::{self, Action};
use crate::sape::{
    CallStatus, DeadlineModel, Management, PartnerRole, PersonnelUnit, Programme, ProposalState,
    ProvinceRole,
};
use crate::state::AppState;
use crate::upload::MultipartForm;
use crate::web::form::{self, FormState, error_summary, file, input, select, textarea};
use crate::web::{PageForm, breadcrumb, check_form_csrf};

/// Calls per page of the search.
const PAGE_SIZE: u32 = 25;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sape", get(show_calls))
        .route(
            "/sape/bandi/nuovo",
            get(show_new_call).post(submit_new_call),
        )
        .route(
            "/sape/importa",
            get(show_import)
                .post(submit_import)
                .layer(body_limit(crate::sape::api::IMPORT_BODY_LIMIT)),
        )
        .route("/sape/bandi/{id}", get(show_call))
        .route("/sape/bandi/{id}/segui", post(submit_follow))
        .route("/sape/bandi/{id}/segnalazioni", post(submit_flags))
        .route("/sape/calendario", get(show_calendar).post(submit_calendar))
        .route("/sape/calendario/{file}", get(calendar_feed))
        .route("/sape/rapporti", get(show_reports))
        .route("/sape/rapporti/export.csv", get(export_reports))
        .route("/sape/progetti", get(show_proposals))
        .route(
            "/sape/progetti/nuovo",
            get(show_new_proposal).post(submit_new_proposal),
        )
        .route("/sape/progetti/{id}", get(show_proposal))
        .route("/sape/progetti/{id}/partner", post(submit_partner))
        .route("/sape/progetti/{id}/pacchetti", post(submit_work_package))
        .route("/sape/progetti/{id}/stato", post(submit_transition))
        .route("/sape/progetti/{id}/esito", post(submit_outcome))
        .route(
            "/sape/progetti/{id}/documenti",
            post(submit_documents).layer(body_limit(crate::sape::api::DOCUMENT_BODY_LIMIT * 5)),
        )
        .route(
            "/sape/progetti/{id}/documenti/{document}",
            get(download_document),
        )
        .merge(crate::sape::support_pages::router())
}

fn page(state: &AppState, identity: &Identity, title: &str, body: &Markup) -> Markup {
    layout::page(&state.chrome(Some(identity), "/sape"), title, body)
}

/// The form again with `error`'s messages beside its fields (`rename` maps API field names to
/// the form's), or in the summary when it names none.
fn form_with_error(
    values: BTreeMap<String, String>,
    error: &AppError,
    rename: &dyn Fn(&str) -> String,
) -> FormState {
    let mut errors = BTreeMap::new();
    for (field, message) in field_messages(error) {
        errors.entry(rename(&field)).or_insert(message);
    }
    if errors.is_empty() {
        errors.insert(
            "form".to_owned(),
            error.to_problem().detail().unwrap_or_default().to_owned(),
        );
    }
    FormState {
        values,
        errors,
        ..FormState::default()
    }
}

/// A decimal as the API writes it (`13.50`) in Italian (`13,5`).
fn italian_decimal(text: &str) -> String {
    text.parse::<f64>()
        .map_or_else(|_| text.to_owned(), |value| fmt::decimal(value, 2))
}

fn euro(decimal: &str) -> String {
    fmt::euro_decimal(decimal)
}

fn status_badge(status: CallStatus) -> Markup {
    let class = match status {
        CallStatus::Forthcoming => "bg-info",
        CallStatus::Open => "bg-success",
        CallStatus::Closed => "bg-secondary",
    };
    html! { span class=(format!("badge {class}")) { (status.label()) } }
}

fn options<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<(String, String)> {
    all.iter()
        .map(|v| (code(*v).to_owned(), label(*v).to_owned()))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Search

/// The search form as sent: empty strings mean "any", dates are `31/12/2025`.
#[derive(Debug, Default, Deserialize)]
struct SearchForm {
    q: Option<String>,
    programme: Option<String>,
    status: Option<String>,
    deadline_from: Option<String>,
    deadline_to: Option<String>,
    followed: Option<String>,
    flagged: Option<String>,
    da: Option<u32>,
}

impl SearchForm {
    fn value(value: &Option<String>) -> String {
        value.clone().unwrap_or_default().trim().to_owned()
    }

    /// The query, and the messages of the dates that are not dates (those filters are left
    /// out).
    fn to_query(&self) -> (CallQuery, BTreeMap<String, String>) {
        let mut errors = BTreeMap::new();
        let mut day = |name: &str, value: &Option<String>| {
            let text = Self::value(value);
            if text.is_empty() {
                return None;
            }
            match crate::sape::Day::parse(&text) {
                Ok(day) => Some(day.iso()),
                Err(_) => {
                    errors.insert(
                        name.to_owned(),
                        format!("«{text}» non è una data: scrivila come 31/12/2025."),
                    );
                    None
                }
            }
        };
        let query = CallQuery {
            q: Some(Self::value(&self.q)).filter(|q| !q.is_empty()),
            programme: Programme::parse(&Self::value(&self.programme)),
            status: CallStatus::parse(&Self::value(&self.status)),
            deadline_from: day("deadline_from", &self.deadline_from),
            deadline_to: day("deadline_to", &self.deadline_to),
            followed: Some(self.followed.as_deref() == Some("1")),
            flagged: Some(self.flagged.as_deref() == Some("1")),
            ..CallQuery::default()
        };
        (query, errors)
    }

    /// The query string of this search from offset `da`.
    fn href(&self, da: u32) -> String {
        let mut pairs: Vec<(&str, String)> = [
            ("q", &self.q),
            ("programme", &self.programme),
            ("status", &self.status),
            ("deadline_from", &self.deadline_from),
            ("deadline_to", &self.deadline_to),
            ("followed", &self.followed),
            ("flagged", &self.flagged),
        ]
        .into_iter()
        .map(|(name, value)| (name, Self::value(value)))
        .filter(|(_, value)| !value.is_empty())
        .collect();
        if da > 0 {
            pairs.push(("da", da.to_string()));
        }
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        if query.is_empty() {
            "/sape".to_owned()
        } else {
            format!("/sape?{query}")
        }
    }
}

async fn show_calls(
    State(state): State<AppState>,
    identity: Identity,
    Query(form): Query<SearchForm>,
) -> Result<Markup, AppError> {
    policy::authorize(&identity, Action::ViewCalls)?;
    let user = identity.require_user()?;
    let staff = user.roles.any(policy::is_sape_staff);
    let is_comune = user.roles.comune().is_some();
    let (query, errors) = form.to_query();
    let offset = form.da.unwrap_or(0);
    let mut calls = ops::search_calls(&state, &identity, &query, PAGE_SIZE + 1, offset).await?;
    let more = calls.len() > PAGE_SIZE as usize;
    calls.truncate(PAGE_SIZE as usize);
    let filters = FormState {
        values: [
            ("q", &form.q),
            ("deadline_from", &form.deadline_from),
            ("deadline_to", &form.deadline_to),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), SearchForm::value(v)))
        .collect(),
        errors,
        prefix: "f-".to_owned(),
    };
    let chosen = |value: &Option<String>, option: &str| value.as_deref() == Some(option);
    let body = html! {
        h1 { "Bandi europei e regionali" }
        p { "Il catalogo dei bandi che il Servizio associato politiche europee della Provincia segue per i Comuni. Lo stato di ogni bando è calcolato dalle sue date." }
        @if staff {
            ul class="list-inline" {
                li class="list-inline-item" { a class="btn btn-primary" href="/sape/bandi/nuovo" { "Inserisci un bando" } }
                li class="list-inline-item" { a class="btn btn-outline-primary" href="/sape/importa" { "Importa dal portale UE" } }
                li class="list-inline-item" { a class="btn btn-outline-primary" href="/sape/progetti" { "Progetti" } }
            }
        }
        @if is_comune {
            ul class="list-inline" {
                li class="list-inline-item" { a href="/sape?flagged=1" { "Bandi segnalati al Comune" } }
                li class="list-inline-item" { a href="/sape?followed=1" { "Bandi seguiti" } }
                li class="list-inline-item" { a href="/sape/calendario" { "Calendario delle scadenze" } }
                li class="list-inline-item" { a href="/sape/progetti" { "Progetti del Comune" } }
            }
        }
        form method="get" action="/sape" class="row g-3 align-items-end mb-4" aria-label="Ricerca dei bandi" novalidate {
            div class="col-12 col-lg-4" { (input(&filters, "q", "Parole cercate", "search", false, Some("Titolo, parole chiave, programma o codice del bando"))) }
            div class="col-6 col-lg-2" {
                label for="f-programme" class="form-label" { "Programma" }
                select class="form-select" id="f-programme" name="programme" {
                    option value="" { "Tutti" }
                    @for p in Programme::ALL { option value=(p.as_str()) selected[chosen(&form.programme, p.as_str())] { (p.label()) } }
                }
            }
            div class="col-6 col-lg-2" {
                label for="f-status" class="form-label" { "Stato" }
                select class="form-select" id="f-status" name="status" {
                    option value="" { "Tutti" }
                    @for s in CallStatus::ALL { option value=(s.as_str()) selected[chosen(&form.status, s.as_str())] { (s.label()) } }
                }
            }
            div class="col-6 col-lg-2" { (input(&filters, "deadline_from", "Scadenza dal", "text", false, Some("gg/mm/aaaa"))) }
            div class="col-6 col-lg-2" { (input(&filters, "deadline_to", "Scadenza al", "text", false, Some("gg/mm/aaaa"))) }
            @if form.followed.as_deref() == Some("1") { input type="hidden" name="followed" value="1"; }
            @if form.flagged.as_deref() == Some("1") { input type="hidden" name="flagged" value="1"; }
            div class="col-12" { button type="submit" class="btn btn-outline-primary" { "Cerca" } }
        }
        p class="small" { "Cercando parole, i bandi più pertinenti vengono per primi; se ne corrispondono più di 1.000, l'elenco segue le scadenze, dalla più lontana: aggiungete parole o filtri per restringerlo." }
        @if calls.is_empty() {
            p id="no-calls" { "Nessun bando corrisponde alla ricerca." }
        } @else {
            div class="table-responsive" tabindex="0" role="region" aria-label="Bandi trovati" { table class="table" id="calls" {
                caption { "Bandi trovati, dal " (offset + 1) "° al " (offset as usize + calls.len()) "°" }
                thead { tr {
                    th scope="col" { "Bando" } th scope="col" { "Programma" } th scope="col" { "Stato" } th scope="col" { "Chiusura" }
                } }
                tbody {
                    @for c in &calls {
                        tr {
                            td { a href=(format!("/sape/bandi/{}", c.id)) { (c.title) } br; small { (c.identifier) } }
                            td { (c.programme.label()) }
                            td { (status_badge(c.status)) }
                            td { (c.closing_date.as_deref().map_or_else(|| "Sempre aperto".to_owned(), fmt::iso_date)) }
                        }
                    }
                }
            } }
        }
        nav aria-label="Pagine dei risultati" {
            ul class="list-inline" {
                @if offset > 0 {
                    li class="list-inline-item" { a href=(form.href(offset.saturating_sub(PAGE_SIZE))) rel="prev" { "Pagina precedente" } }
                }
                @if more {
                    li class="list-inline-item" { a href=(form.href(offset + PAGE_SIZE)) rel="next" { "Pagina successiva" } }
                }
            }
        }
    };
    Ok(page(&state, &identity, "Bandi europei", &body))
}

// ---------------------------------------------------------------------------------------
// One call

fn deadline_list(call: &CallView) -> Markup {
    html! {
        @if call.deadlines.is_empty() {
            "Nessuna: il bando è sempre aperto."
        } @else {
            ul class="mb-0" {
                @for d in &call.deadlines { li { (d.stage.label()) ": " (fmt::iso_date(&d.date)) } }
            }
        }
    }
}

async fn show_call(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Markup, AppError> {
    call_page(&state, &identity, id, &CallForms::default()).await
}

/// The forms of a call's page, one of them possibly refused.
pub(crate) struct CallForms {
    /// A Comune's request for support.
    pub support: FormState,
    /// The office's search for partners.
    pub partner_search: FormState,
}

impl Default for CallForms {
    fn default() -> Self {
        CallForms {
            support: FormState::prefixed("support-"),
            partner_search: FormState::prefixed("search-"),
        }
    }
}

/// A call's page.
pub(crate) async fn call_page(
    state: &AppState,
    identity: &Identity,
    id: i64,
    forms: &CallForms,
) -> Result<Markup, AppError> {
    let detail = ops::call_detail(state, identity, id).await?;
    let user = identity.require_user()?;
    let staff = user.roles.any(policy::is_sape_staff);
    let is_comune = user.roles.comune().is_some();
    let proposals = ops::list_proposals(state, identity, Some(id), None, 100).await?;
    let comuni = if staff {
        state
            .db
            .call(|conn| db::comuni::list(conn, None, 10_000).map_err(AppError::from))
            .await?
    } else {
        Vec::new()
    };
    let flagged: Vec<&str> = detail
        .flags
        .iter()
        .map(|f| f.comune_code.as_str())
        .collect();
    let note = detail.flags.first().map_or("", |f| f.note.as_str());
    let csrf = identity.csrf().unwrap_or_default().to_owned();
    let support_section =
        crate::sape::support_pages::call_section(state, identity, id, &forms.support).await?;
    let partners_section = crate::sape::support_pages::partners_section(
        state,
        identity,
        id,
        &detail.call.identifier,
        &forms.partner_search,
    )
    .await?;
    let c = &detail.call;
    let body = html! {
        (breadcrumb(&[("Bandi", "/sape")], &c.identifier))
        h1 { (c.title) }
        dl class="row" id="call" {
            dt class="col-sm-3" { "Codice" } dd class="col-sm-9" { (c.identifier) @if !c.call_identifier.is_empty() { " (invito " (c.call_identifier) ")" } }
            dt class="col-sm-3" { "Programma" } dd class="col-sm-9" { (c.programme.label()) ", " (c.management.label().to_lowercase()) }
            dt class="col-sm-3" { "Stato" } dd class="col-sm-9" id="call-status" { (status_badge(c.status)) }
            dt class="col-sm-3" { "Modello di scadenza" } dd class="col-sm-9" { (c.deadline_model.label()) }
            dt class="col-sm-3" { "Apertura" } dd class="col-sm-9" { (c.opening_date.as_deref().map_or_else(|| "—".to_owned(), fmt::iso_date)) }
            dt class="col-sm-3" { "Scadenze" } dd class="col-sm-9" id="deadlines" { (deadline_list(c)) }
            @if !c.type_of_action.is_empty() { dt class="col-sm-3" { "Tipo di azione" } dd class="col-sm-9" { (c.type_of_action) } }
            @if let Some(rate) = c.funding_rate { dt class="col-sm-3" { "Tasso di finanziamento" } dd class="col-sm-9" { (rate) " %" } }
            @if let Some(budget) = &c.budget { dt class="col-sm-3" { "Dotazione" } dd class="col-sm-9" { (euro(budget)) } }
            @if let Some(grants) = c.expected_grants { dt class="col-sm-3" { "Progetti finanziabili previsti" } dd class="col-sm-9" { (grants) } }
            @if let (Some(min), Some(max)) = (&c.min_contribution, &c.max_contribution) {
                dt class="col-sm-3" { "Contributo per progetto" } dd class="col-sm-9" { "da " (euro(min)) " a " (euro(max)) }
            }
            @if !c.keywords.is_empty() { dt class="col-sm-3" { "Parole chiave" } dd class="col-sm-9" { (c.keywords) } }
            @if !c.url.is_empty() { dt class="col-sm-3" { "Scheda ufficiale" } dd class="col-sm-9" { a href=(c.url) rel="noopener" { "Apri la scheda del bando" span class="visually-hidden" { " " (c.identifier) } } } }
        }
        @if is_comune {
            @for f in &detail.flags {
                div class="alert alert-info" role="status" id="flag-notice" { "La Provincia ha segnalato questo bando al Comune" @if !f.note.is_empty() { ": " (f.note) } "." }
            }
            form method="post" action=(format!("/sape/bandi/{id}/segui")) class="mb-4" {
                input type="hidden" name="csrf" value=(csrf);
                @if detail.followed {
                    input type="hidden" name="follow" value="0";
                    p { "Il Comune segue questo bando: le sue scadenze sono nel " a href="/sape/calendario" { "calendario del Comune" } "." }
                    button type="submit" class="btn btn-outline-primary" id="unfollow" { "Non seguire più" }
                } @else {
                    input type="hidden" name="follow" value="1";
                    button type="submit" class="btn btn-primary" id="follow" { "Segui il bando" }
                }
            }
        }
        @if staff {
            h2 class="h4" { "Segnalazione ai Comuni" }
            @if detail.flags.is_empty() { p { "Il bando non è segnalato a nessun Comune." } } @else {
                p id="flags" { "Segnalato a: " @for (i, f) in detail.flags.iter().enumerate() { @if i > 0 { ", " } (f.comune_name) } "." }
            }
            form method="post" action=(format!("/sape/bandi/{id}/segnalazioni")) class="mb-4" {
                input type="hidden" name="csrf" value=(csrf);
                div class="mb-3" {
                    label for="flag-comuni" class="form-label" { "Comuni a cui il bando è adatto" }
                    select class="form-select" id="flag-comuni" name="comuni" multiple size="6" aria-describedby="flag-comuni-hint" {
                        @for m in &comuni { option value=(m.code) selected[flagged.contains(&m.code.as_str())] { (m.name) } }
                    }
                    small class="form-text" id="flag-comuni-hint" { "Tenete premuto Ctrl (o Cmd) per sceglierne più di uno." }
                }
                div class="form-group" {
                    label for="flag-note" class="active" { "Perché è adatto (lo leggono i Comuni)" }
                    input type="text" class="form-control" id="flag-note" name="note" value=(note);
                }
                button type="submit" class="btn btn-outline-primary" id="save-flags" { "Salva la segnalazione" }
            }
        }
        h2 class="h4" { "Progetti per questo bando" }
        @if proposals.is_empty() { p { "Nessun progetto." } } @else {
            ul id="call-proposals" { @for p in &proposals { li { a href=(format!("/sape/progetti/{}", p.id)) { (p.acronym) " — " (p.title) } } } }
        }
        @if staff { p { a class="btn btn-outline-primary" href=(format!("/sape/progetti/nuovo?bando={id}")) { "Nuovo progetto per questo bando" } } }
        (partners_section)
        (support_section)
    };
    Ok(page(state, identity, &c.identifier, &body))
}

#[derive(Debug, Deserialize)]
struct FollowForm {
    csrf: String,
    follow: String,
}

async fn submit_follow(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(form): PageForm<FollowForm>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, &form.csrf)?;
    let follow = form.follow == "1";
    ops::set_following(&state, &identity, id, follow).await?;
    Ok(layout::redirect_with_flash(
        &format!("/sape/bandi/{id}"),
        if follow {
            "Il Comune segue il bando: le sue scadenze sono nel calendario."
        } else {
            "Il Comune non segue più il bando."
        },
    ))
}

async fn submit_flags(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    check_form_csrf(&identity, &get("csrf"))?;
    let comuni = pairs
        .iter()
        .filter(|(k, _)| k == "comuni")
        .map(|(_, v)| v.clone())
        .collect();
    ops::set_flags(
        &state,
        &identity,
        id,
        FlagsInput {
            comuni,
            note: get("note"),
        },
    )
    .await?;
    Ok(layout::redirect_with_flash(
        &format!("/sape/bandi/{id}"),
        "Segnalazione salvata.",
    ))
}

// ---------------------------------------------------------------------------------------
// Hand entry

const CALL_LABELS: &[(&str, &str)] = &[
    ("identifier", "Codice del bando"),
    ("call_identifier", "Codice dell'invito"),
    ("title", "Titolo"),
    ("programme", "Programma"),
    ("management", "Gestione"),
    ("type_of_action", "Tipo di azione"),
    ("keywords", "Parole chiave"),
    ("deadline_model", "Modello di scadenza"),
    ("opening_date", "Apertura"),
    ("deadlines", "Scadenze"),
    ("url", "Scheda ufficiale"),
    ("budget", "Dotazione"),
    ("funding_rate", "Tasso di finanziamento"),
    ("form", "Bando"),
];

async fn show_new_call(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Markup, AppError> {
    new_call_page(&state, &identity, &FormState::default())
}

fn new_call_page(
    state: &AppState,
    identity: &Identity,
    form: &FormState,
) -> Result<Markup, AppError> {
    policy::authorize(identity, Action::ManageCalls)?;
    let csrf = identity.csrf().unwrap_or_default().to_owned();
    let body = html! {
        (breadcrumb(&[("Bandi", "/sape")], "Nuovo bando"))
        h1 { "Inserisci un bando" }
        p { "Per i bandi che non vengono dal portale UE: bandi regionali FESR e FSE+, avvisi PNRR, altri programmi. I campi con * sono obbligatori." }
        (error_summary(form, CALL_LABELS))
        form method="post" action="/sape/bandi/nuovo" novalidate id="call-form" {
            input type="hidden" name="csrf" value=(csrf);
            (input(form, "identifier", "Codice del bando", "text", true, Some("Unico nel catalogo, es. FESR-VENETO-2025-01")))
            (input(form, "call_identifier", "Codice dell'invito", "text", false, None))
            (input(form, "title", "Titolo", "text", true, None))
            (select(form, "programme", "Programma", &options(&Programme::ALL, Programme::as_str, Programme::label), Some("Scegliete il programma")))
            (select(form, "management", "Gestione", &options(&Management::ALL, Management::as_str, Management::label), Some("Scegliete la gestione")))
            (input(form, "type_of_action", "Tipo di azione", "text", false, None))
            (textarea(form, "keywords", "Parole chiave", 2, false, Some("Aiutano la ricerca")))
            (select(form, "deadline_model", "Modello di scadenza", &options(&DeadlineModel::ALL, DeadlineModel::as_str, DeadlineModel::label), Some("Scegliete il modello")))
            (input(form, "opening_date", "Apertura", "text", false, Some("gg/mm/aaaa")))
            (input(form, "deadlines", "Scadenze", "text", false, Some("gg/mm/aaaa; più date separate da spazi: la prima e la seconda fase, o le scadenze intermedie")))
            (input(form, "url", "Scheda ufficiale", "url", false, None))
            (input(form, "budget", "Dotazione (euro)", "text", false, Some("Es. 2.500.000,00")))
            (input(form, "funding_rate", "Tasso di finanziamento (%)", "text", false, Some("Da 0 a 100")))
            button type="submit" class="btn btn-primary" id="save-call" { "Inserisci il bando" }
        }
    };
    Ok(page(state, identity, "Inserisci un bando", &body))
}

async fn submit_new_call(
    State(state): State<AppState>,
    identity: Identity,
    PageForm(values): PageForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let get = |name: &str| values.get(name).cloned().unwrap_or_default();
    check_form_csrf(&identity, &get("csrf"))?;
    let mut errors = ops::FieldErrors::default();
    let programme = errors.check(
        "programme",
        Programme::parse(&get("programme")).ok_or_else(|| "Scegliete il programma.".to_owned()),
    );
    let management = errors.check(
        "management",
        Management::parse(&get("management")).ok_or_else(|| "Scegliete la gestione.".to_owned()),
    );
    let deadline_model = errors.check(
        "deadline_model",
        DeadlineModel::parse(&get("deadline_model"))
            .ok_or_else(|| "Scegliete il modello di scadenza.".to_owned()),
    );
    let funding_rate = match get("funding_rate").trim().trim_end_matches('%').trim() {
        "" => None,
        text => errors.check(
            "funding_rate",
            text.parse::<u8>()
                .ok()
                .filter(|r| *r <= 100)
                .ok_or_else(|| {
                    "Il tasso di finanziamento è un numero intero da 0 a 100.".to_owned()
                }),
        ),
    };
    let input = NewCall {
        identifier: get("identifier"),
        call_identifier: get("call_identifier"),
        title: get("title"),
        programme: programme.unwrap_or(Programme::Other),
        management: management.unwrap_or(Management::Direct),
        type_of_action: get("type_of_action"),
        keywords: get("keywords"),
        deadline_model: deadline_model.unwrap_or(DeadlineModel::SingleStage),
        opening_date: Some(get("opening_date")),
        deadlines: get("deadlines")
            .split([' ', ',', ';', '\n'])
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_owned)
            .collect(),
        url: get("url"),
        budget: Some(get("budget")),
        funding_rate,
    };
    // The choices' messages and the call's own are shown together.
    let result = match (errors.finish(), ops::check_call(&input)) {
        (Ok(()), Ok(_)) => ops::create_call(&state, &identity, &input).await,
        (choices, own) => {
            let mut merged = ops::FieldErrors::default();
            for error in [choices.err(), own.err()].into_iter().flatten() {
                for (field, message) in field_messages(&error) {
                    merged.add(field, message);
                }
            }
            Err(merged
                .finish()
                .err()
                .unwrap_or_else(|| AppError::Internal("no field message".into())))
        }
    };
    form::answer(
        result,
        |view| {
            layout::redirect_with_flash(
                &format!("/sape/bandi/{}", view.id),
                "Bando inserito nel catalogo.",
            )
        },
        async |error| {
            let rename = |field: &str| {
                if field.starts_with("deadlines") {
                    "deadlines".to_owned()
                } else {
                    field.to_owned()
                }
            };
            let form = form_with_error(values.clone(), error, &rename);
            new_call_page(&state, &identity, &form)
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------
// Import

async fn show_import(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Markup, AppError> {
    import_page(&state, &identity, None)
}

fn import_page(
    state: &AppState,
    identity: &Identity,
    outcome: Option<&Result<crate::sape::import::ImportReport, AppError>>,
) -> Result<Markup, AppError> {
    policy::authorize(identity, Action::ManageCalls)?;
    let csrf = identity.csrf().unwrap_or_default().to_owned();
    let body = html! {
        (breadcrumb(&[("Bandi", "/sape")], "Importa"))
        h1 { "Importa bandi dal portale UE" }
        p { "Accetta l'elenco dei topic del portale Funding & Tenders in CSV e la risposta JSON della sua ricerca. I bandi già presenti sono aggiornati, mai duplicati. Se anche una sola riga non è valida il file è rifiutato per intero e nulla viene importato." }
        @if let Some(Ok(report)) = outcome {
            div class="alert alert-success" role="status" id="import-report" {
                "Importazione riuscita: " (report.total) " bandi letti, " (report.created) " nuovi, " (report.updated) " aggiornati."
            }
        }
        @if let Some(Err(error)) = outcome {
            (form::import_refusal(error, "Importazione rifiutata, nulla è stato importato. Righe non valide:"))
        }
        (form::import_form("/sape/importa", &csrf, "File CSV o JSON", ".csv,.json,text/csv,application/json"))
    };
    Ok(page(state, identity, "Importa bandi", &body))
}

async fn submit_import(
    State(state): State<AppState>,
    identity: Identity,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let form = MultipartForm::read(multipart, "file").await?;
    check_form_csrf(
        &identity,
        form.fields.get("csrf").map_or("", String::as_str),
    )?;
    let outcome = match form.files.into_iter().next() {
        Some(file) => ops::import_calls(&state, &identity, file.filename, file.data).await,
        None => Err(AppError::invalid_field(
            "file",
            "Scegliete il file da importare.",
        )),
    };
    form::report(outcome, async |outcome| {
        import_page(&state, &identity, Some(outcome))
    })
    .await
}

// ---------------------------------------------------------------------------------------
// Calendar

async fn show_calendar(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Markup, AppError> {
    let created = ops::calendar_created(&state, &identity).await?;
    calendar_page(&state, &identity, created, None)
}

fn calendar_page(
    state: &AppState,
    identity: &Identity,
    created: Option<i64>,
    new_url: Option<&str>,
) -> Result<Markup, AppError> {
    let csrf = identity.csrf().unwrap_or_default().to_owned();
    let body = html! {
        (breadcrumb(&[("Bandi", "/sape")], "Calendario"))
        h1 { "Calendario delle scadenze" }
        p { "Le scadenze dei bandi che il Comune segue, come calendario da aggiungere a Outlook, Thunderbird o al calendario del telefono. L'indirizzo è segreto: chi lo conosce vede le scadenze seguite, senza accedere. Rigenerarlo disattiva quello precedente." }
        @if let Some(url) = new_url {
            div class="alert alert-success" role="status" id="calendar-url" {
                p { "Nuovo indirizzo del calendario (copiatelo ora: non sarà più mostrato):" }
                p class="text-break mb-0" { code { (url) } }
            }
        } @else if let Some(at) = created {
            p id="calendar-active" { "Il Comune ha un indirizzo del calendario attivo dal " (fmt::unix_date(at)) "." }
        } @else {
            p id="calendar-none" { "Il Comune non ha ancora un indirizzo del calendario." }
        }
        form method="post" action="/sape/calendario" class="d-inline-block me-2" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="action" value="regenerate";
            button type="submit" class="btn btn-primary" id="regenerate" { @if created.is_some() || new_url.is_some() { "Rigenera l'indirizzo" } @else { "Crea l'indirizzo" } }
        }
        @if created.is_some() || new_url.is_some() {
            form method="post" action="/sape/calendario" class="d-inline-block" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="action" value="revoke";
                button type="submit" class="btn btn-outline-danger" id="revoke" { "Disattiva l'indirizzo" }
            }
        }
    };
    Ok(page(state, identity, "Calendario delle scadenze", &body))
}

#[derive(Debug, Deserialize)]
struct CalendarForm {
    csrf: String,
    action: String,
}

async fn submit_calendar(
    State(state): State<AppState>,
    identity: Identity,
    PageForm(form): PageForm<CalendarForm>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, &form.csrf)?;
    match form.action.as_str() {
        "regenerate" => {
            let link = ops::regenerate_calendar(&state, &identity).await?;
            let created = ops::calendar_created(&state, &identity).await?;
            Ok(calendar_page(&state, &identity, created, Some(&link.url))?.into_response())
        }
        "revoke" => {
            ops::revoke_calendar(&state, &identity).await?;
            Ok(layout::redirect_with_flash(
                "/sape/calendario",
                "Indirizzo del calendario disattivato.",
            ))
        }
        _ => Err(AppError::invalid_field("action", "Operazione sconosciuta.")),
    }
}

/// The feed: no session, the secret in the address is the key.
async fn calendar_feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, AppError> {
    let token = file.strip_suffix(".ics").ok_or(AppError::NotFound)?;
    let body = ops::calendar_feed(&state, token).await?;
    Ok((
        [
            (header::CONTENT_TYPE, crate::sape::ical::CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------
// Proposals

async fn show_proposals(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Markup, AppError> {
    let proposals = ops::list_proposals(&state, &identity, None, None, 200).await?;
    let staff = identity.require_user()?.roles.any(policy::is_sape_staff);
    let body = html! {
        (breadcrumb(&[("Bandi", "/sape")], "Progetti"))
        h1 { "Progetti europei" }
        @if staff { p { a class="btn btn-primary" href="/sape/progetti/nuovo" { "Nuovo progetto" } " " a href="/sape/rapporti" { "Rapporti per anno, programma e Comune" } } }
        @if proposals.is_empty() { p id="no-proposals" { "Nessun progetto." } } @else {
            div class="table-responsive" tabindex="0" role="region" aria-label="Progetti" { table class="table" id="proposals" {
                caption { "Progetti (" (proposals.len()) ")" }
                thead { tr {
                    th scope="col" { "Progetto" } th scope="col" { "Bando" } th scope="col" { "Provincia" }
                    th scope="col" { "Stato" } th scope="col" class="text-end" { "Costo totale" } th scope="col" class="text-end" { "Contributo UE" }
                } }
                tbody { @for p in &proposals { tr {
                    td { a href=(format!("/sape/progetti/{}", p.id)) { (p.acronym) } br; small { (p.title) } }
                    td { (p.call_identifier) }
                    td { (p.province_role.label()) }
                    td { (p.state.label()) }
                    td class="text-end" { (euro(&p.total.total)) }
                    td class="text-end" { (euro(&p.total.eu_contribution)) }
                } } }
            } }
        }
    };
    Ok(page(&state, &identity, "Progetti europei", &body))
}

#[derive(Debug, Default, Deserialize)]
struct NewProposalQuery {
    bando: Option<i64>,
}

const PROPOSAL_LABELS: &[(&str, &str)] = &[
    ("call", "Codice del bando"),
    ("call_id", "Codice del bando"),
    ("title", "Titolo"),
    ("acronym", "Acronimo"),
    ("province_role", "Ruolo della Provincia"),
    ("comuni", "Comuni coinvolti"),
    ("form", "Progetto"),
];

async fn show_new_proposal(
    State(state): State<AppState>,
    identity: Identity,
    Query(query): Query<NewProposalQuery>,
) -> Result<Markup, AppError> {
    let mut form = FormState::default();
    if let Some(id) = query.bando {
        let detail = ops::call_detail(&state, &identity, id).await?;
        form.values.insert("call".into(), detail.call.identifier);
    }
    new_proposal_page(&state, &identity, &form, &[]).await
}

async fn new_proposal_page(
    state: &AppState,
    identity: &Identity,
    form: &FormState,
    chosen: &[String],
) -> Result<Markup, AppError> {
    policy::authorize(identity, Action::ManageProposals)?;
    let comuni = state
        .db
        .call(|conn| db::comuni::list(conn, None, 10_000).map_err(AppError::from))
        .await?;
    let csrf = identity.csrf().unwrap_or_default().to_owned();
    let comuni_error = form.error("comuni");
    let body = html! {
        (breadcrumb(&[("Progetti", "/sape/progetti")], "Nuovo progetto"))
        h1 { "Nuovo progetto" }
        p { "Il progetto nasce come idea; partner, budget e pacchetti di lavoro si aggiungono dalla sua pagina. I campi con * sono obbligatori." }
        (error_summary(form, PROPOSAL_LABELS))
        form method="post" action="/sape/progetti/nuovo" novalidate id="proposal-form" {
            input type="hidden" name="csrf" value=(csrf);
            (input(form, "call", "Codice del bando", "text", true, Some("Es. HORIZON-CL5-2024-D3-01-01")))
            (input(form, "title", "Titolo", "text", true, None))
            (input(form, "acronym", "Acronimo", "text", true, None))
            (select(form, "province_role", "Ruolo della Provincia", &options(&ProvinceRole::ALL, ProvinceRole::as_str, ProvinceRole::label), Some("Scegliete il ruolo")))
            div class="mb-3" {
                label for="comuni" class="form-label" { "Comuni coinvolti" }
                select class=(if comuni_error.is_some() { "form-select is-invalid" } else { "form-select" }) id="comuni" name="comuni" multiple size="6"
                    aria-describedby="comuni-hint" aria-invalid=[comuni_error.map(|_| "true")] {
                    @for m in &comuni { option value=(m.code) selected[chosen.contains(&m.code)] { (m.name) } }
                }
                small class="form-text" id="comuni-hint" { "Tenete premuto Ctrl (o Cmd) per sceglierne più di uno." }
                @if let Some(message) = comuni_error { div class="invalid-feedback d-block" id="comuni-error" { (message) } }
            }
            button type="submit" class="btn btn-primary" id="save-proposal" { "Crea il progetto" }
        }
    };
    Ok(page(state, identity, "Nuovo progetto", &body))
}

async fn submit_new_proposal(
    State(state): State<AppState>,
    identity: Identity,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let mut values = BTreeMap::new();
    let mut chosen = Vec::new();
    for (name, value) in pairs {
        if name == "comuni" {
            chosen.push(value);
        } else {
            values.insert(name, value);
        }
    }
    let get = |name: &str| values.get(name).cloned().unwrap_or_default();
    check_form_csrf(&identity, &get("csrf"))?;
    policy::authorize(&identity, Action::ManageProposals)?;
    let identifier = get("call").trim().to_owned();
    let call_id = state
        .db
        .call(move |conn| Ok::<_, AppError>(crate::sape::db::call_id(conn, &identifier)?))
        .await?;
    let province_role = ProvinceRole::parse(&get("province_role"));
    let result = match (call_id, province_role) {
        (Some(call_id), Some(province_role)) => {
            ops::create_proposal(
                &state,
                &identity,
                ProposalInput {
                    call_id,
                    title: get("title"),
                    acronym: get("acronym"),
                    province_role,
                    comuni: chosen.clone(),
                    partners: Vec::new(),
                    work_packages: Vec::new(),
                },
            )
            .await
        }
        (call, role) => {
            let mut errors = ops::FieldErrors::default();
            if call.is_none() {
                errors.add("call", "Nessun bando del catalogo ha questo codice.");
            }
            if role.is_none() {
                errors.add("province_role", "Scegliete il ruolo della Provincia.");
            }
            if get("title").trim().is_empty() {
                errors.add("title", "Scrivete il titolo.");
            }
            if get("acronym").trim().is_empty() {
                errors.add("acronym", "Scrivete l'acronimo.");
            }
            Err(errors.finish().err().unwrap_or(AppError::NotFound))
        }
    };
    form::answer(
        result,
        |view| {
            layout::redirect_with_flash(&format!("/sape/progetti/{}", view.id), "Progetto creato.")
        },
        async |error| {
            let rename = |field: &str| {
                if field == "call_id" {
                    "call".to_owned()
                } else {
                    field.to_owned()
                }
            };
            let form = form_with_error(values.clone(), error, &rename);
            new_proposal_page(&state, &identity, &form, &chosen).await
        },
    )
    .await
}

fn partner_fields(form: &FormState) -> Markup {
    html! {
        div class="row" {
            div class="col-12 col-lg-6" { (input(form, "name", "Nome", "text", true, None)) }
            div class="col-6 col-lg-2" { (input(form, "country", "Paese", "text", true, Some("Codice di due lettere, es. IT"))) }
            div class="col-6 col-lg-4" { (input(form, "pic", "PIC", "text", false, Some("9 cifre; facoltativo solo per i partner associati"))) }
            div class="col-12 col-lg-6" { (select(form, "role", "Ruolo nel consorzio", &options(&PartnerRole::ALL, PartnerRole::as_str, PartnerRole::label), None)) }
            div class="col-12 col-lg-6" { (input(form, "comune_code", "Codice ISTAT, se è un Comune della Provincia", "text", false, None)) }
        }
        fieldset class="mb-3" {
            legend class="h6" { "A. Personale" }
            div class="row" {
                div class="col-12 col-lg-4" { (select(form, "personnel_unit", "Unità", &options(&PersonnelUnit::ALL, PersonnelUnit::as_str, PersonnelUnit::label), None)) }
                div class="col-6 col-lg-4" { (input(form, "personnel_quantity", "Quantità", "text", false, Some("Es. 12,5"))) }
                div class="col-6 col-lg-4" { (input(form, "personnel_rate", "Costo unitario (euro)", "text", false, Some("Per mese o per giorno"))) }
            }
        }
        div class="row" {
            div class="col-12 col-lg-4" { (input(form, "subcontracting", "B. Subappalti (euro)", "text", false, None)) }
            div class="col-12 col-lg-4" { (input(form, "travel", "C.1 Viaggi e soggiorni (euro)", "text", false, None)) }
            div class="col-12 col-lg-4" { (input(form, "equipment", "C.2 Attrezzature (euro)", "text", false, None)) }
            div class="col-12 col-lg-4" { (input(form, "other_goods", "C.3 Altri beni e servizi (euro)", "text", false, None)) }
            div class="col-12 col-lg-4" { (input(form, "other_costs", "D. Altre categorie di costo (euro)", "text", false, None)) }
            div class="col-12 col-lg-4" { (input(form, "funding_rate", "Tasso di finanziamento (%)", "text", false, Some("Vuoto: quello del bando"))) }
        }
    }
}

const PARTNER_LABELS: &[(&str, &str)] = &[
    ("name", "Nome"),
    ("country", "Paese"),
    ("pic", "PIC"),
    ("role", "Ruolo nel consorzio"),
    ("comune_code", "Codice ISTAT"),
    ("personnel_unit", "Unità"),
    ("personnel_quantity", "Quantità di personale"),
    ("personnel_rate", "Costo unitario"),
    ("subcontracting", "Subappalti"),
    ("travel", "Viaggi e soggiorni"),
    ("equipment", "Attrezzature"),
    ("other_goods", "Altri beni e servizi"),
    ("other_costs", "Altre categorie di costo"),
    ("funding_rate", "Tasso di finanziamento"),
    ("partners", "Partner"),
    ("form", "Partner"),
];

const WP_LABELS: &[(&str, &str)] = &[
    ("number", "Numero"),
    ("title", "Titolo"),
    ("lead", "Partner capofila"),
    ("start_month", "Mese di inizio"),
    ("end_month", "Mese di fine"),
    ("lump_sum", "Somma forfettaria"),
    ("form", "Pacchetto di lavoro"),
];

async fn show_proposal(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Markup, AppError> {
    let view = ops::proposal_detail(&state, &identity, id).await?;
    proposal_page(&state, &identity, &view, &ProposalForms::default()).await
}

/// The forms of a proposal's page, one of them possibly refused.
struct ProposalForms {
    partner: FormState,
    work_package: FormState,
    outcome: Option<FormState>,
    documents: FormState,
}

impl Default for ProposalForms {
    fn default() -> Self {
        ProposalForms {
            partner: FormState::prefixed("partner-"),
            work_package: FormState::prefixed("wp-"),
            outcome: None,
            documents: FormState::prefixed("doc-"),
        }
    }
}

/// The proposal's documents, and the office's form to add some.
fn documents_section(
    p: &ProposalView,
    documents: &[DocumentView],
    staff: bool,
    form: &FormState,
    csrf: &str,
) -> Markup {
    html! {
        h2 class="h4" id="documents" { "Documenti" }
        @if documents.is_empty() { p { "Nessun documento." } } @else {
            ul id="document-list" { @for d in documents { li {
                a href=(format!("/sape/progetti/{}/documenti/{}", p.id, d.id)) { (d.filename) }
                " (" (fmt::integer((d.size + 1023) / 1024)) " kB, " (d.uploaded_by) ", " (fmt::rfc3339(&d.created_at)) ")"
            } } }
        }
        @if staff {
            (error_summary(form, &[("document", "Documenti da aggiungere")]))
            form method="post" action=(format!("/sape/progetti/{}/documenti", p.id)) enctype="multipart/form-data" novalidate class="mb-4" {
                input type="hidden" name="csrf" value=(csrf);
                (file(form, "document", "Documenti da aggiungere", Some("Moduli, lettere di sostegno, convenzione, relazioni: PDF, immagini, testo o documenti d'ufficio, al massimo 10 MB ciascuno."), true, None))
                button type="submit" class="btn btn-outline-primary" id="add-documents" { "Aggiungi i documenti" }
            }
        }
    }
}

async fn submit_documents(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let form = MultipartForm::read(multipart, "document").await?;
    check_form_csrf(
        &identity,
        form.fields.get("csrf").map_or("", String::as_str),
    )?;
    let outcome = documents::add(&state, &identity, id, form.files).await;
    form::answer(
        outcome,
        |added| {
            layout::redirect_with_flash(
                &format!("/sape/progetti/{id}#documents"),
                &format!("Documenti aggiunti: {}.", added.len()),
            )
        },
        async |error| {
            let current = ops::proposal_detail(&state, &identity, id).await?;
            let forms = ProposalForms {
                documents: form_with_error(BTreeMap::new(), error, &|f: &str| f.to_owned())
                    .with_prefix("doc-"),
                ..ProposalForms::default()
            };
            proposal_page(&state, &identity, &current, &forms).await
        },
    )
    .await
}

async fn download_document(
    State(state): State<AppState>,
    identity: Identity,
    Path((id, document)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let (meta, data) = documents::read(&state, &identity, id, document).await?;
    Ok(crate::web::download(&meta.media_type, &meta.filename, data))
}

/// The outcome form's values from what is recorded.
fn outcome_values(p: &ProposalView) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    let o = &p.outcome;
    let mut put = |name: String, value: &Option<String>| {
        if let Some(value) = value {
            values.insert(name, italian_decimal(value));
        }
    };
    put("score".into(), &o.score);
    put("threshold".into(), &o.threshold);
    for (i, amounts) in o.partners.iter().enumerate() {
        put(format!("obtained_{i}"), &amounts.obtained);
        put(format!("received_{i}"), &amounts.received);
    }
    if let Some(cup) = &o.cup {
        values.insert("cup".into(), cup.clone());
    }
    values
}

/// The outcome: what is recorded, for everyone who sees the proposal, and the office's form
/// with the fields the proposal's state allows.
fn outcome_section(p: &ProposalView, staff: bool, form: &FormState, csrf: &str) -> Markup {
    let o = &p.outcome;
    let evaluated = is_evaluated(p.state);
    let funded = is_funded(p.state);
    let paying = is_paying(p.state);
    let points = |v: &Option<String>| v.as_deref().map_or_else(|| "—".to_owned(), italian_decimal);
    let money = |v: &Option<String>| v.as_deref().map_or_else(|| "—".to_owned(), euro);
    html! {
        @if evaluated {
            h2 class="h4" id="outcome" { "Esito" }
            dl class="row" id="outcome-figures" {
                dt class="col-sm-3" { "Punteggio" } dd class="col-sm-9" { (points(&o.score)) }
                dt class="col-sm-3" { "Soglia" } dd class="col-sm-9" { (points(&o.threshold)) }
                @if funded { dt class="col-sm-3" { "CUP" } dd class="col-sm-9" { (o.cup.as_deref().unwrap_or("—")) } }
            }
            @if funded && !p.partners.is_empty() {
                div class="table-responsive" tabindex="0" role="region" aria-label="Contributo ottenuto e ricevuto" { table class="table table-sm" id="amounts" {
                    caption { "Contributo UE per partner: richiesto, ottenuto e ricevuto" }
                    thead { tr {
                        th scope="col" { "Partner" } th scope="col" class="text-end" { "Richiesto" }
                        th scope="col" class="text-end" { "Ottenuto" } th scope="col" class="text-end" { "Ricevuto" }
                    } }
                    tbody { @for (partner, amounts) in p.partners.iter().zip(&o.partners) { tr {
                        th scope="row" { (partner.input.name) }
                        td class="text-end" { (euro(&partner.budget.eu_contribution)) }
                        td class="text-end" { (money(&amounts.obtained)) }
                        td class="text-end" { (money(&amounts.received)) }
                    } } }
                } }
            }
            @if staff {
                h3 class="h5" { "Registra l'esito" }
                @let labels = outcome_labels(p);
                @let labels: Vec<(&str, &str)> = labels.iter().map(|(f, l)| (f.as_str(), l.as_str())).collect();
                (error_summary(form, &labels))
                form method="post" action=(format!("/sape/progetti/{}/esito", p.id)) novalidate class="mb-4" id="outcome-form" {
                    input type="hidden" name="csrf" value=(csrf);
                    div class="row" {
                        div class="col-6 col-lg-3" { (input(form, "score", "Punteggio", "text", false, Some("Ad esempio 13,5"))) }
                        div class="col-6 col-lg-3" { (input(form, "threshold", "Soglia", "text", false, None)) }
                        @if funded { div class="col-12 col-lg-6" { (input(form, "cup", "CUP", "text", false, Some("15 caratteri, lettere e cifre"))) } }
                    }
                    @if funded {
                        @for (i, partner) in p.partners.iter().enumerate() {
                            fieldset class="row" {
                                legend class="h6" { (partner.input.name) " (richiesto " (euro(&partner.budget.eu_contribution)) ")" }
                                div class="col-6" { (input(form, &format!("obtained_{i}"), "Contributo ottenuto (euro)", "text", false, None)) }
                                @if paying { div class="col-6" { (input(form, &format!("received_{i}"), "Ricevuto finora (euro)", "text", false, None)) } }
                            }
                        }
                    }
                    button type="submit" class="btn btn-primary" id="save-outcome" { "Salva l'esito" }
                }
            }
        }
    }
}

/// The outcome form's labels for the error summary, the partners' fields named after them.
fn outcome_labels(p: &ProposalView) -> Vec<(String, String)> {
    let mut labels = vec![
        ("score".to_owned(), "Punteggio".to_owned()),
        ("threshold".to_owned(), "Soglia".to_owned()),
        ("cup".to_owned(), "CUP".to_owned()),
    ];
    for (i, partner) in p.partners.iter().enumerate() {
        let name = &partner.input.name;
        labels.push((
            format!("obtained_{i}"),
            format!("Contributo ottenuto, {name}"),
        ));
        labels.push((format!("received_{i}"), format!("Ricevuto, {name}")));
    }
    labels
}

async fn submit_outcome(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(values): PageForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let get = |name: &str| values.get(name).cloned();
    check_form_csrf(&identity, &get("csrf").unwrap_or_default())?;
    let current = ops::proposal_detail(&state, &identity, id).await?;
    let input = OutcomeInput {
        score: get("score"),
        threshold: get("threshold"),
        cup: get("cup"),
        partners: (0..current.partners.len())
            .map(|i| AmountsInput {
                obtained: get(&format!("obtained_{i}")),
                received: get(&format!("received_{i}")),
            })
            .collect(),
    };
    let result = outcome::record(&state, &identity, id, input).await;
    form::answer(
        result,
        |_| {
            layout::redirect_with_flash(
                &format!("/sape/progetti/{id}#outcome"),
                "Esito registrato.",
            )
        },
        async |error| {
            let rename = |field: &str| {
                // `partners[2].obtained` → `obtained_2`.
                field
                    .strip_prefix("partners[")
                    .and_then(|rest| rest.split_once("]."))
                    .map_or_else(|| field.to_owned(), |(i, name)| format!("{name}_{i}"))
            };
            let forms = ProposalForms {
                outcome: Some(form_with_error(values.clone(), error, &rename)),
                ..ProposalForms::default()
            };
            proposal_page(&state, &identity, &current, &forms).await
        },
    )
    .await
}

async fn proposal_page(
    state: &AppState,
    identity: &Identity,
    p: &ProposalView,
    forms: &ProposalForms,
) -> Result<Markup, AppError> {
    let partner_form = &forms.partner;
    let wp_form = &forms.work_package;
    let recorded;
    let outcome_form = match &forms.outcome {
        Some(form) => form,
        None => {
            recorded = FormState::with_values(outcome_values(p));
            &recorded
        }
    };
    let staff = identity.require_user()?.roles.any(policy::is_sape_staff);
    let editable = staff && ops::is_editable(p.state);
    let documents = documents::list(state, identity, p.id).await?;
    let codes = p.comuni.clone();
    let names = state
        .db
        .call(move |conn| {
            codes
                .iter()
                .map(|code| Ok(db::comuni::name_of(conn, code)?.unwrap_or_else(|| code.clone())))
                .collect::<Result<Vec<String>, AppError>>()
        })
        .await?;
    let csrf = identity.csrf().unwrap_or_default().to_owned();
    let body = html! {
        (breadcrumb(&[("Progetti", "/sape/progetti")], &p.acronym))
        h1 { (p.acronym) ": " (p.title) }
        dl class="row" id="proposal" {
            dt class="col-sm-3" { "Bando" } dd class="col-sm-9" { a href=(format!("/sape/bandi/{}", p.call_id)) { (p.call_identifier) } " — " (p.call_title) }
            dt class="col-sm-3" { "Ruolo della Provincia" } dd class="col-sm-9" { (p.province_role.label()) }
            dt class="col-sm-3" { "Stato" } dd class="col-sm-9" { (p.state.label()) }
            dt class="col-sm-3" { "Comuni coinvolti" } dd class="col-sm-9" id="proposal-comuni" { @if names.is_empty() { "Nessuno" } @else { (names.join(", ")) } }
        }
        @if !p.allowed_transitions.is_empty() {
            form method="post" action=(format!("/sape/progetti/{}/stato", p.id)) class="row g-2 align-items-end mb-4" id="transition-form" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="from" value=(p.state.as_str());
                div class="col-12 col-lg-4" {
                    label for="to" class="form-label" { "Nuovo stato" }
                    select class="form-select" id="to" name="state" {
                        @for to in &p.allowed_transitions { option value=(to.as_str()) { (to.label()) } }
                    }
                }
                div class="col-12 col-lg-5" {
                    label for="reason" class="form-label" { "Motivo (facoltativo)" }
                    input type="text" class="form-control" id="reason" name="reason";
                }
                div class="col-12 col-lg-3" { button type="submit" class="btn btn-outline-primary" id="move" { "Cambia stato" } }
            }
        }
        @if !p.history.is_empty() {
            h2 class="h4" { "Storia" }
            ol id="history" {
                @for step in &p.history {
                    li { (fmt::rfc3339(&step.at)) ", " (step.actor) ": "
                        @if let Some(from) = step.from { (from.label()) " → " }
                        (step.to.label()) @if !step.reason.is_empty() { " (" (step.reason) ")" } }
                }
            }
        }
        (outcome_section(p, staff, outcome_form, &csrf))
        (documents_section(p, &documents, staff, &forms.documents, &csrf))
        h2 class="h4" { "Partner e budget" }
        @if p.partners.is_empty() { p { "Nessun partner." } } @else {
            div class="table-responsive" tabindex="0" role="region" aria-label="Budget per partner" { table class="table table-sm" id="budget" {
                caption { "Budget per partner e categoria di costo (E: costi indiretti, 25 % di A + C + D)" }
                thead { tr {
                    th scope="col" { "Partner" } th scope="col" { "Ruolo" }
                    th scope="col" class="text-end" { "A. Personale" } th scope="col" class="text-end" { "B. Subappalti" }
                    th scope="col" class="text-end" { "C. Acquisti" } th scope="col" class="text-end" { "D. Altri costi" }
                    th scope="col" class="text-end" { "E. Indiretti" } th scope="col" class="text-end" { "Totale" }
                    th scope="col" class="text-end" { "Tasso" } th scope="col" class="text-end" { "Contributo UE" } th scope="col" class="text-end" { "Cofinanziamento" }
                } }
                tbody { @for partner in &p.partners { tr {
                    th scope="row" { (partner.input.name) br; small { (partner.input.country) @if let Some(pic) = &partner.input.pic { " · PIC " (pic) } } }
                    td { (partner.input.role.label()) }
                    td class="text-end" { (euro(&partner.budget.personnel)) }
                    td class="text-end" { (euro(&partner.budget.subcontracting)) }
                    td class="text-end" { (euro(&partner.budget.purchase)) }
                    td class="text-end" { (euro(&partner.budget.other)) }
                    td class="text-end" { (euro(&partner.budget.indirect)) }
                    td class="text-end" { (euro(&partner.budget.total)) }
                    td class="text-end" { (partner.input.funding_rate.unwrap_or(100)) " %" }
                    td class="text-end" { (euro(&partner.budget.eu_contribution)) }
                    td class="text-end" { (euro(&partner.budget.cofinancing)) }
                } } }
                tfoot { tr id="budget-total" {
                    th scope="row" colspan="2" { "Totale" }
                    td class="text-end" { (euro(&p.total.personnel)) }
                    td class="text-end" { (euro(&p.total.subcontracting)) }
                    td class="text-end" { (euro(&p.total.purchase)) }
                    td class="text-end" { (euro(&p.total.other)) }
                    td class="text-end" { (euro(&p.total.indirect)) }
                    td class="text-end" { (euro(&p.total.total)) }
                    td {}
                    td class="text-end" { (euro(&p.total.eu_contribution)) }
                    td class="text-end" { (euro(&p.total.cofinancing)) }
                } }
            } }
        }
        h2 class="h4" { "Pacchetti di lavoro" }
        @if let Some(lump) = &p.lump_sum {
            p id="lump-sum" class=(if lump.balanced { "" } else { "text-danger" }) {
                "Bando a somma forfettaria: le somme dei pacchetti di lavoro (" (euro(&lump.work_packages)) ") "
                @if lump.balanced { "corrispondono al contributo UE richiesto." }
                @else { "devono corrispondere al contributo UE richiesto (" (euro(&lump.requested)) ") prima della presentazione." }
            }
        }
        @if p.work_packages.is_empty() { p { "Nessun pacchetto di lavoro." } } @else {
            div class="table-responsive" tabindex="0" role="region" aria-label="Pacchetti di lavoro" { table class="table table-sm" id="work-packages" {
                caption { "Pacchetti di lavoro" }
                thead { tr { th scope="col" { "N." } th scope="col" { "Titolo" } th scope="col" { "Capofila" } th scope="col" { "Mesi" }
                    @if p.lump_sum.is_some() { th scope="col" class="text-end" { "Somma forfettaria" } } } }
                tbody { @for wp in &p.work_packages { tr {
                    td { "WP" (wp.number) } td { (wp.title) } td { (wp.lead) } td { (wp.start_month) "–" (wp.end_month) }
                    @if p.lump_sum.is_some() { td class="text-end" { (wp.lump_sum.as_deref().map_or_else(|| "—".to_owned(), euro)) } }
                } } }
            } }
        }
        @if staff && !editable {
            p id="content-frozen" { "La proposta è stata presentata: partner, budget e pacchetti di lavoro restano quelli presentati." }
        }
        @if editable {
            h2 class="h4" id="add-partner" { "Aggiungi un partner" }
            (error_summary(partner_form, PARTNER_LABELS))
            form method="post" action=(format!("/sape/progetti/{}/partner", p.id)) novalidate class="mb-4" {
                input type="hidden" name="csrf" value=(csrf);
                (partner_fields(partner_form))
                button type="submit" class="btn btn-primary" id="save-partner" { "Aggiungi il partner" }
            }
            h2 class="h4" id="add-work-package" { "Aggiungi un pacchetto di lavoro" }
            (error_summary(wp_form, WP_LABELS))
            form method="post" action=(format!("/sape/progetti/{}/pacchetti", p.id)) novalidate {
                input type="hidden" name="csrf" value=(csrf);
                div class="row" {
                    div class="col-6 col-lg-2" { (input(wp_form, "number", "Numero", "text", true, None)) }
                    div class="col-12 col-lg-4" { (input(wp_form, "title", "Titolo", "text", true, None)) }
                    div class="col-12 col-lg-2" { (input(wp_form, "lead", "Partner capofila", "text", false, None)) }
                    div class="col-6 col-lg-2" { (input(wp_form, "start_month", "Mese di inizio", "text", true, None)) }
                    div class="col-6 col-lg-2" { (input(wp_form, "end_month", "Mese di fine", "text", true, None)) }
                    @if p.lump_sum.is_some() { div class="col-12 col-lg-4" { (input(wp_form, "lump_sum", "Somma forfettaria (euro)", "text", false, Some("Il contributo UE di questo pacchetto"))) } }
                }
                button type="submit" class="btn btn-outline-primary" id="save-work-package" { "Aggiungi il pacchetto" }
            }
        }
    };
    Ok(page(state, identity, &p.acronym, &body))
}

/// The proposal's current content as an input to change.
fn to_input(p: &ProposalView) -> ProposalInput {
    ProposalInput {
        call_id: p.call_id,
        title: p.title.clone(),
        acronym: p.acronym.clone(),
        province_role: p.province_role,
        comuni: p.comuni.clone(),
        partners: p
            .partners
            .iter()
            .map(|partner| partner.input.clone())
            .collect(),
        work_packages: p.work_packages.clone(),
    }
}

/// The form's field of an API field of the last item of `list` (`partners[2].pic` → `pic`).
fn last_item_field(list: &str, index: usize) -> impl Fn(&str) -> String {
    let prefix = format!("{list}[{index}].");
    move |field: &str| field.strip_prefix(&prefix).unwrap_or(field).to_owned()
}

async fn submit_partner(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(values): PageForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let get = |name: &str| values.get(name).cloned().unwrap_or_default();
    check_form_csrf(&identity, &get("csrf"))?;
    policy::authorize(&identity, Action::ManageProposals)?;
    let current = ops::proposal_detail(&state, &identity, id).await?;
    let mut input = to_input(&current);
    let mut choices = ops::FieldErrors::default();
    let role = choices.check(
        "role",
        PartnerRole::parse(&get("role")).ok_or_else(|| "Scegliete il ruolo.".to_owned()),
    );
    let unit = choices.check(
        "personnel_unit",
        PersonnelUnit::parse(&get("personnel_unit")).ok_or_else(|| "Scegliete l'unità.".to_owned()),
    );
    let funding_rate = match get("funding_rate").trim().trim_end_matches('%').trim() {
        "" => None,
        text => choices.check(
            "funding_rate",
            text.parse::<u8>()
                .ok()
                .filter(|r| *r <= 100)
                .ok_or_else(|| {
                    "Il tasso di finanziamento è un numero intero da 0 a 100.".to_owned()
                }),
        ),
    };
    let index = input.partners.len();
    input.partners.push(PartnerInput {
        name: get("name"),
        country: get("country"),
        pic: Some(get("pic")),
        role: role.unwrap_or(PartnerRole::Beneficiary),
        comune_code: Some(get("comune_code")),
        personnel_unit: unit.unwrap_or(PersonnelUnit::Month),
        personnel_quantity: get("personnel_quantity"),
        personnel_rate: get("personnel_rate"),
        subcontracting: get("subcontracting"),
        travel: get("travel"),
        equipment: get("equipment"),
        other_goods: get("other_goods"),
        other_costs: get("other_costs"),
        funding_rate,
    });
    let result = match choices.finish() {
        Ok(()) => ops::update_proposal(&state, &identity, id, input).await,
        Err(error) => Err(error),
    };
    answer_proposal_item(
        &state,
        &identity,
        &current,
        result,
        "#budget",
        "Partner aggiunto; il budget è stato ricalcolato.",
        |error| {
            let form = form_with_error(values.clone(), error, &last_item_field("partners", index));
            ProposalForms {
                partner: form.with_prefix("partner-"),
                ..ProposalForms::default()
            }
        },
    )
    .await
}

async fn submit_work_package(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(values): PageForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let get = |name: &str| values.get(name).cloned().unwrap_or_default();
    check_form_csrf(&identity, &get("csrf"))?;
    policy::authorize(&identity, Action::ManageProposals)?;
    let current = ops::proposal_detail(&state, &identity, id).await?;
    let mut input = to_input(&current);
    let mut choices = ops::FieldErrors::default();
    let mut whole = |name: &str| {
        choices
            .check(
                name,
                get(name)
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| "Scrivete un numero intero.".to_owned()),
            )
            .unwrap_or(0)
    };
    let number = whole("number");
    let start_month = whole("start_month");
    let end_month = whole("end_month");
    let index = input.work_packages.len();
    input.work_packages.push(WorkPackageInput {
        number,
        title: get("title"),
        lead: get("lead"),
        start_month,
        end_month,
        lump_sum: values.get("lump_sum").cloned(),
    });
    let result = match choices.finish() {
        Ok(()) => ops::update_proposal(&state, &identity, id, input).await,
        Err(error) => Err(error),
    };
    answer_proposal_item(
        &state,
        &identity,
        &current,
        result,
        "#work-packages",
        "Pacchetto di lavoro aggiunto.",
        |error| {
            let form = form_with_error(
                values.clone(),
                error,
                &last_item_field("work_packages", index),
            );
            ProposalForms {
                work_package: form.with_prefix("wp-"),
                ..ProposalForms::default()
            }
        },
    )
    .await
}

/// The answer to a form adding an item (a partner, a work package) to a proposal: back to
/// the proposal's `anchor` with `done`, or the proposal page again with the `refused` forms.
async fn answer_proposal_item<T>(
    state: &AppState,
    identity: &Identity,
    current: &ProposalView,
    result: Result<T, AppError>,
    anchor: &str,
    done: &str,
    refused: impl FnOnce(&AppError) -> ProposalForms,
) -> Result<Response, AppError> {
    form::answer(
        result,
        |_| layout::redirect_with_flash(&format!("/sape/progetti/{}{anchor}", current.id), done),
        async |error| proposal_page(state, identity, current, &refused(error)).await,
    )
    .await
}

#[derive(Debug, Deserialize)]
struct TransitionForm {
    csrf: String,
    from: String,
    state: String,
    #[serde(default)]
    reason: String,
}

async fn submit_transition(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(form): PageForm<TransitionForm>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, &form.csrf)?;
    let to = ProposalState::parse(&form.state)
        .ok_or_else(|| AppError::invalid_field("state", "Scegliete uno stato dall'elenco."))?;
    let input = NewTransition {
        state: to,
        from: ProposalState::parse(&form.from),
        reason: form.reason,
    };
    ops::transition_proposal(&state, &identity, id, input).await?;
    Ok(layout::redirect_with_flash(
        &format!("/sape/progetti/{id}"),
        &format!("Stato della proposta aggiornato: {}.", to.label()),
    ))
}

// ---------------------------------------------------------------------------------------
// Dashboard

/// [`dashboard_cards`] as the module registry calls it.
pub fn cards<'a>(state: &'a AppState, identity: &'a Identity) -> crate::modules::CardsFuture<'a> {
    Box::pin(dashboard_cards(state, identity))
}

/// The SAPE on the dashboard: for a Comune, the calls flagged to it and those it follows
/// that are not closed; for SAPE staff, the open calls and the proposals. `None` for others.
pub async fn dashboard_cards(
    state: &AppState,
    identity: &Identity,
) -> Result<Option<Markup>, AppError> {
    let Some(user) = identity.user.as_ref() else {
        return Ok(None);
    };
    if !user.roles.any(policy::sees_sape) {
        return Ok(None);
    }
    let not_closed = |calls: Vec<CallView>| -> Vec<CallView> {
        calls
            .into_iter()
            .filter(|c| c.status != CallStatus::Closed)
            .collect()
    };
    let list = |id: &str, calls: &[CallView]| {
        html! {
            @if calls.is_empty() { p { "Nessun bando aperto o in arrivo." } } @else {
                ul class="list-unstyled" id=(id) {
                    @for c in calls.iter().take(5) {
                        li class="mb-2" {
                            a href=(format!("/sape/bandi/{}", c.id)) { (c.title) }
                            br;
                            small { (c.status.label()) @if let Some(day) = &c.closing_date { ", chiude il " (fmt::iso_date(day)) } }
                        }
                    }
                }
            }
        }
    };
    if user.roles.comune().is_some() {
        let flagged_query = CallQuery {
            flagged: Some(true),
            ..CallQuery::default()
        };
        let followed_query = CallQuery {
            followed: Some(true),
            ..CallQuery::default()
        };
        let flagged = not_closed(ops::search_calls(state, identity, &flagged_query, 50, 0).await?);
        let followed =
            not_closed(ops::search_calls(state, identity, &followed_query, 50, 0).await?);
        return Ok(Some(html! {
            section aria-labelledby="dashboard-sape" class="mb-5" {
                h2 id="dashboard-sape" { "Bandi europei" }
                div class="row" {
                    div class="col-12 col-lg-6" { h3 class="h5" { "Segnalati dalla Provincia" } (list("sape-flagged", &flagged)) }
                    div class="col-12 col-lg-6" { h3 class="h5" { "Seguiti dal Comune" } (list("sape-followed", &followed)) }
                }
                p { a href="/sape?status=open" { "Tutti i bandi aperti" } " · " a href="/sape/calendario" { "Calendario delle scadenze" } }
            }
        }));
    }
    policy::authorize(identity, Action::ManageProposals)?;
    let today = crate::sape::ops::today();
    let (open, proposals) = state
        .db
        .call(move |conn| {
            Ok::<_, AppError>(crate::sape::db::dashboard_counts(
                conn,
                CallStatus::Open.as_str(),
                &today,
            )?)
        })
        .await?;
    let waiting = crate::sape::support::waiting(state).await?;
    Ok(Some(html! {
        section aria-labelledby="dashboard-sape" class="mb-5" {
            h2 id="dashboard-sape" { "Politiche europee" }
            div class="row" {
                (layout::figure("Bandi aperti", open, "/sape?status=open"))
                (layout::figure("Progetti", proposals, "/sape/progetti"))
                (layout::figure("Richieste di supporto in attesa", waiting, "/sape/supporto?stato=requested"))
            }
        }
    }))
}

/// The CSV separator of the reports' download.
#[derive(Debug, Default, Deserialize)]
struct ReportsQuery {
    sep: Option<String>,
}

async fn read_reports(
    state: &AppState,
    identity: &Identity,
) -> Result<crate::sape::reports::Report, AppError> {
    policy::authorize(identity, Action::ManageProposals)?;
    state
        .db
        .call(|conn| Ok::<_, AppError>(crate::sape::reports::Report::read(conn)?))
        .await
}

fn success(sums: &crate::sape::reports::Sums) -> String {
    sums.success_rate()
        .map_or_else(|| "—".to_owned(), |rate| fmt::percent(rate * 100.0))
}

async fn show_reports(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Markup, AppError> {
    let report = read_reports(&state, &identity).await?;
    // The chart: EU contribution obtained and requested per year, in whole euro.
    let bars: Vec<(String, i64)> = report
        .by_year
        .iter()
        .flat_map(|(year, sums)| {
            [
                (
                    format!("{year}, richiesto (euro)"),
                    sums.requested_cents / 100,
                ),
                (
                    format!("{year}, ottenuto (euro)"),
                    sums.obtained_cents / 100,
                ),
            ]
        })
        .collect();
    let t = &report.totals;
    let body = html! {
        h1 { "Rapporti del SAPE" }
        p { "Proposte per anno (della scadenza del bando), programma e Comune: presentate, valutate, finanziate, tasso di successo (finanziate sulle valutate) e contributo UE richiesto e ottenuto. Una proposta conta per ogni Comune della Provincia che vi partecipa; i totali la contano una volta." }
        p {
            "Scarica: "
            a href="/sape/rapporti/export.csv?sep=semicolon" { "CSV (separatore ;)" } " · "
            a href="/sape/rapporti/export.csv?sep=comma" { "CSV (separatore ,)" }
        }
        @if report.lines.is_empty() {
            p id="no-report" { "Nessuna proposta." }
        } @else {
            (layout::bar_chart("sape-chart", "Contributo UE richiesto e ottenuto per anno (euro)", &bars))
            div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole" {
                table class="table" id="report" {
                    caption { "Proposte per anno, programma e Comune" }
                    thead { tr {
                        th scope="col" { "Anno" } th scope="col" { "Programma" } th scope="col" { "Comune" }
                        th scope="col" class="text-end" { "Proposte" } th scope="col" class="text-end" { "Presentate" }
                        th scope="col" class="text-end" { "Valutate" } th scope="col" class="text-end" { "Finanziate" }
                        th scope="col" class="text-end" { "Tasso di successo" }
                        th scope="col" class="text-end" { "Contributo UE richiesto" } th scope="col" class="text-end" { "Contributo UE ottenuto" }
                        th scope="col" class="text-end" { "Cofinanziamento" }
                    } }
                    tbody {
                        @for l in &report.lines {
                            tr {
                                td { (l.year) }
                                td { (l.programme.label()) }
                                td { @match &l.comune {
                                    Some((code, name)) => { (name) " (" (code) ")" },
                                    None => { em { "Nessun Comune" } },
                                } }
                                td class="text-end" { (fmt::integer(l.sums.proposals)) }
                                td class="text-end" { (fmt::integer(l.sums.submitted)) }
                                td class="text-end" { (fmt::integer(l.sums.evaluated)) }
                                td class="text-end" { (fmt::integer(l.sums.funded)) }
                                td class="text-end" { (success(&l.sums)) }
                                td class="text-end" { (fmt::euro_cents(l.sums.requested_cents)) }
                                td class="text-end" { (fmt::euro_cents(l.sums.obtained_cents)) }
                                td class="text-end" { (fmt::euro_cents(l.sums.cofinancing_cents)) }
                            }
                        }
                    }
                    tfoot { tr {
                        th scope="row" colspan="3" { "Totale (ogni proposta una volta)" }
                        td class="text-end" { (fmt::integer(t.proposals)) }
                        td class="text-end" { (fmt::integer(t.submitted)) }
                        td class="text-end" { (fmt::integer(t.evaluated)) }
                        td class="text-end" { (fmt::integer(t.funded)) }
                        td class="text-end" { (success(t)) }
                        td class="text-end" { (fmt::euro_cents(t.requested_cents)) }
                        td class="text-end" { (fmt::euro_cents(t.obtained_cents)) }
                        td class="text-end" { (fmt::euro_cents(t.cofinancing_cents)) }
                    } }
                }
            }
        }
        p { a href="/sape/progetti" { "Progetti europei" } }
    };
    Ok(page(&state, &identity, "Rapporti SAPE", &body))
}

async fn export_reports(
    State(state): State<AppState>,
    identity: Identity,
    Query(query): Query<ReportsQuery>,
) -> Result<Response, AppError> {
    let separator = pico_service::csv::Separator::parse(query.sep.as_deref())
        .map_err(|err| AppError::invalid_field("sep", err.to_string()))?;
    let report = read_reports(&state, &identity).await?;
    Ok(pico_service::download::csv(
        "sape-rapporti.csv",
        report.to_csv(separator)?,
    ))
}
