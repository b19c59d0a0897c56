//! SIT web pages: the public catalogue with each service's page, versions and RDF downloads;
//! the operators' forms to add, change and withdraw services; the subscriptions with their
//! moves and the requests measured against the promised levels; each Comune's digital
//! picture; the coverage report with chart, table and CSV; the dashboard card.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use pico_service::format as fmt;
use pico_service::json::Path;
use pico_service::web as layout;
use serde::Deserialize;

use crate::auth::Identity;
use crate::error::AppError;
use crate::sit::db::Document;
use crate::sit::ops::{
    self, FieldErrors, MeasureUse, NewSubscription, NewSubscriptionRequest,
    NewSubscriptionTransition, PictureInput, PlatformUse, ServiceDetail, ServiceInput, ServiceView,
    WithdrawInput,
};
use crate::sit::policy::{self, Action};
use crate::sit::reports::{CoverageRow, permille_text};
use crate::sit::{
    Audience, Category, Channel, CostModel, Measure, MeasureStatus, Platform, RequestKind,
    SubscriptionState, THEMES, rdf, theme_label,
};
use crate::state::AppState;
use crate::web::form::{
    self, FormState, checkbox, error_summary, field_id, field_messages, input, select, select_with,
    textarea,
};
use crate::web::{PageForm, breadcrumb, check_form_csrf};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sit", get(show_catalogue))
        .route("/sit/catalogo.ttl", get(catalogue_turtle))
        .route("/sit/catalogo.jsonld", get(catalogue_json_ld))
        .route(
            "/sit/servizi/nuovo",
            get(show_new_service).post(submit_new_service),
        )
        .route("/sit/servizi/{code}", get(show_service))
        .route("/sit/servizi/{code}/rdf.ttl", get(service_turtle))
        .route("/sit/servizi/{code}/rdf.jsonld", get(service_json_ld))
        .route(
            "/sit/servizi/{code}/modifica",
            get(show_edit_service).post(submit_edit_service),
        )
        .route("/sit/servizi/{code}/versioni/{version}", get(show_version))
        .route("/sit/servizi/{code}/ritiro", post(submit_withdrawal))
        .route("/sit/servizi/{code}/adesione", post(submit_subscription))
        .route("/sit/adesioni", get(show_subscriptions))
        .route("/sit/adesioni/{id}", get(show_subscription))
        .route("/sit/adesioni/{id}/stato", post(submit_transition))
        .route("/sit/adesioni/{id}/richieste", post(submit_request))
        .route("/sit/comuni", get(show_comuni))
        .route("/sit/comuni/{code}", get(show_picture).post(submit_picture))
        .route("/sit/copertura", get(show_coverage))
        .route("/sit/copertura/export.csv", get(export_coverage))
}

fn page(state: &AppState, identity: &Identity, title: &str, body: &Markup) -> Markup {
    layout::page(&state.chrome(Some(identity), "/sit"), title, body)
}

fn is_staff(identity: &Identity) -> bool {
    identity
        .user
        .as_ref()
        .is_some_and(|user| user.roles.any(policy::is_sit_staff))
}

fn own_comune(identity: &Identity) -> Option<String> {
    identity
        .user
        .as_ref()
        .and_then(|user| user.roles.comune())
        .map(|code| code.as_str().to_owned())
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

/// What a service costs, as the catalogue says it.
pub fn cost_text(service: &ServiceView) -> String {
    let fee = fmt::euro_cents(service.record.fee_cents);
    match service.record.cost_model {
        CostModel::Free => "Gratuito".to_owned(),
        CostModel::Fixed => format!("{fee} all'anno"),
        CostModel::PerInhabitant => format!("{fee} per abitante all'anno"),
    }
}

/// Who may use a service.
pub fn audience_text(service: &ServiceView) -> String {
    match (service.record.audience, service.record.population_threshold) {
        (Audience::UnderThreshold, Some(threshold)) => {
            format!("Comuni con meno di {} abitanti", fmt::integer(threshold))
        }
        (audience, _) => audience.label().to_owned(),
    }
}

fn availability_text(bp: i64) -> String {
    format!("{} %", fmt::decimal(bp as f64 / 100.0, 2))
}

fn state_badge(state: SubscriptionState) -> Markup {
    let class = match state {
        SubscriptionState::Requested => "bg-info",
        SubscriptionState::Active => "bg-success",
        SubscriptionState::Suspended => "bg-warning text-dark",
        SubscriptionState::Ended | SubscriptionState::Declined => "bg-secondary",
    };
    html! { span class=(format!("badge {class}")) { (state.label()) } }
}

fn base_url(state: &AppState) -> String {
    state.config.public_url.trim_end_matches('/').to_owned()
}

fn rdf_response(content_type: &'static str, body: String) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

// ---------------------------------------------------------------------------------------
// Catalogue and RDF

#[derive(Debug, Default, Deserialize)]
struct CatalogueQuery {
    ritirati: Option<String>,
}

async fn show_catalogue(
    State(state): State<AppState>,
    identity: Identity,
    headers: axum::http::HeaderMap,
    Query(query): Query<CatalogueQuery>,
) -> Result<Response, AppError> {
    let withdrawn = query.ritirati.as_deref() == Some("1");
    let services = ops::list_services(&state, withdrawn).await?;
    let staff = is_staff(&identity);
    let body = html! {
        h1 { "Servizi innovativi territoriali" }
        p { "I servizi digitali condivisi che la Provincia offre ai suoi Comuni: a chi sono rivolti, quanto costano, i livelli di servizio promessi e come contattare l'ufficio. I Comuni aderiscono dalla pagina di ogni servizio." }
        p {
            "Il catalogo in formato aperto (CPSV-AP_IT): "
            a href="/sit/catalogo.ttl" { "Turtle" } " · " a href="/sit/catalogo.jsonld" { "JSON-LD" }
            @if withdrawn { " · " a href="/sit" { "Solo i servizi offerti" } }
            @else { " · " a href="/sit?ritirati=1" { "Anche i servizi ritirati" } }
        }
        @if staff {
            p {
                a class="btn btn-primary me-2 mb-2" href="/sit/servizi/nuovo" { "Nuovo servizio" }
                a class="btn btn-outline-primary me-2 mb-2" href="/sit/adesioni" { "Adesioni" }
                a class="btn btn-outline-primary me-2 mb-2" href="/sit/comuni" { "Quadro digitale dei Comuni" }
                a class="btn btn-outline-primary mb-2" href="/sit/copertura" { "Copertura delle piattaforme" }
            }
        } @else if let Some(comune) = own_comune(&identity) {
            p {
                a href="/sit/adesioni" { "Le adesioni del Comune" } " · "
                a href=(format!("/sit/comuni/{comune}")) { "Il quadro digitale del Comune" }
            }
        }
        @if services.is_empty() {
            p id="no-services" { "Nessun servizio nel catalogo." }
        } @else {
            div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole" {
                table class="table" id="services" {
                    caption { "Servizi del catalogo" }
                    thead { tr {
                        th scope="col" { "Servizio" } th scope="col" { "Categoria" } th scope="col" { "Per chi" }
                        th scope="col" { "Costo" } th scope="col" { "Livelli di servizio" }
                    } }
                    tbody {
                        @for s in &services {
                            tr {
                                td {
                                    a href=(format!("/sit/servizi/{}", s.code)) { (s.record.name) }
                                    @if s.withdrawn { " " span class="badge bg-secondary" { "Ritirato" } }
                                }
                                td { (s.record.category.label()) }
                                td { (audience_text(s)) }
                                td { (cost_text(s)) }
                                td { "Risposta entro " (s.record.first_answer_hours) " ore, risoluzione entro " (s.record.resolution_hours) " ore" }
                            }
                        }
                    }
                }
            }
        }
    };
    let meta = crate::portale::pages::meta(
        &state,
        "/sit",
        format!(
            "Il catalogo dei servizi digitali condivisi che la {} offre ai suoi Comuni: a chi sono rivolti, costi, livelli di servizio, contatti.",
            state.province.name
        ),
    );
    let page = layout::page_with_meta(
        &state.chrome(Some(&identity), "/sit"),
        "Servizi innovativi territoriali",
        Some(&meta),
        &body,
    );
    Ok(crate::portale::cacheable(&headers, page.into_response()))
}

async fn catalogue_rows(state: &AppState) -> Result<Vec<crate::sit::db::ServiceRow>, AppError> {
    state
        .db
        .call(|conn| Ok::<_, AppError>(crate::sit::db::list_services(conn, true)?))
        .await
}

async fn service_rows(
    state: &AppState,
    code: String,
) -> Result<Vec<crate::sit::db::ServiceRow>, AppError> {
    state
        .db
        .call(move |conn| {
            Ok::<_, AppError>(vec![
                crate::sit::db::get_service(conn, &code)?.ok_or(AppError::NotFound)?,
            ])
        })
        .await
}

async fn catalogue_turtle(State(state): State<AppState>) -> Result<Response, AppError> {
    let rows = catalogue_rows(&state).await?;
    Ok(rdf_response(
        "text/turtle; charset=utf-8",
        rdf::turtle(&rdf::triples(&base_url(&state), &rows)),
    ))
}

async fn catalogue_json_ld(State(state): State<AppState>) -> Result<Response, AppError> {
    let rows = catalogue_rows(&state).await?;
    Ok(rdf_response(
        "application/ld+json",
        rdf::json_ld(&rdf::triples(&base_url(&state), &rows)).to_string(),
    ))
}

async fn service_turtle(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let rows = service_rows(&state, code).await?;
    Ok(rdf_response(
        "text/turtle; charset=utf-8",
        rdf::turtle(&rdf::triples(&base_url(&state), &rows)),
    ))
}

async fn service_json_ld(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let rows = service_rows(&state, code).await?;
    Ok(rdf_response(
        "application/ld+json",
        rdf::json_ld(&rdf::triples(&base_url(&state), &rows)).to_string(),
    ))
}

// ---------------------------------------------------------------------------------------
// A service

fn service_facts(service: &ServiceView) -> Markup {
    let r = &service.record;
    html! {
        dl class="row" id="service-facts" {
            dt class="col-sm-4" { "Categoria" } dd class="col-sm-8" { (r.category.label()) }
            dt class="col-sm-4" { "Materia" } dd class="col-sm-8" { (theme_label(r.theme)) }
            dt class="col-sm-4" { "Canali" } dd class="col-sm-8" {
                (r.channels.iter().map(|c| c.label()).collect::<Vec<_>>().join(", "))
            }
            dt class="col-sm-4" { "Per chi" } dd class="col-sm-8" { (audience_text(service)) }
            @if !r.conditions.is_empty() {
                dt class="col-sm-4" { "Condizioni" } dd class="col-sm-8" style="white-space: pre-line" { (r.conditions) }
            }
            dt class="col-sm-4" { "Costo" } dd class="col-sm-8" { (cost_text(service)) }
            dt class="col-sm-4" { "Prima risposta" } dd class="col-sm-8" { "entro " (r.first_answer_hours) " ore" }
            dt class="col-sm-4" { "Risoluzione" } dd class="col-sm-8" { "entro " (r.resolution_hours) " ore" }
            dt class="col-sm-4" { "Disponibilità" } dd class="col-sm-8" { (availability_text(r.availability_bp)) }
            dt class="col-sm-4" { "Ufficio" } dd class="col-sm-8" {
                (r.contact_office) br;
                a href=(format!("mailto:{}", r.contact_email)) { (r.contact_email) }
                @if !r.contact_phone.is_empty() { br; "Telefono " (r.contact_phone) }
            }
            @if !r.inputs.is_empty() {
                dt class="col-sm-4" { "Cosa serve" } dd class="col-sm-8" { ul class="mb-0" { @for i in &r.inputs { li { (i) } } } }
            }
            @if !r.outputs.is_empty() {
                dt class="col-sm-4" { "Cosa si ottiene" } dd class="col-sm-8" { ul class="mb-0" { @for o in &r.outputs { li { (o) } } } }
            }
            @if !r.documents.is_empty() {
                dt class="col-sm-4" { "Documenti" } dd class="col-sm-8" { ul class="mb-0" {
                    @for d in &r.documents { li { a href=(d.url) { (d.title) } } }
                } }
            }
            @if !r.publiccode_url.is_empty() {
                dt class="col-sm-4" { "Software" } dd class="col-sm-8" { a href=(r.publiccode_url) { "Scheda publiccode.yml" } }
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct FeeQuery {
    comune: Option<String>,
}

async fn show_service(
    State(state): State<AppState>,
    identity: Identity,
    headers: axum::http::HeaderMap,
    Path(code): Path<String>,
    Query(query): Query<FeeQuery>,
) -> Result<Response, AppError> {
    let detail = ops::service_detail(&state, code).await?;
    let asked = query.comune.filter(|c| !c.is_empty());
    let page = service_page(
        &state,
        &identity,
        &detail,
        &FormState::default(),
        &FormState::default(),
        asked.as_deref(),
    )
    .await?;
    Ok(crate::portale::cacheable(&headers, page.into_response()))
}

/// The fee calculator of a service page for visitors who are not a Comune: any Comune of
/// the Province chosen in a list, its fee and whether it may use the service.
async fn fee_calculator(
    state: &AppState,
    service: &ServiceView,
    asked: Option<&str>,
) -> Result<Markup, AppError> {
    let comuni = state
        .db
        .call(|conn| Ok::<_, AppError>(crate::sit::db::comuni(conn)?))
        .await?;
    let chosen = asked.and_then(|code| comuni.iter().find(|(c, _)| c == code));
    let fee = match chosen {
        Some((code, _)) => Some(ops::service_fee(state, service.code.clone(), code.clone()).await?),
        None => None,
    };
    let unknown = asked.is_some() && chosen.is_none();
    let code = &service.code;
    Ok(html! {
        section aria-labelledby="calc-title" class="mb-4" {
            h2 id="calc-title" class="h4" { "Quanto costa a un Comune" }
            form method="get" action=(format!("/sit/servizi/{code}")) id="fee-calculator" novalidate {
                div class="select-wrapper mb-3" {
                    label for="comune" { "Comune" }
                    select id="comune" name="comune" aria-describedby=[unknown.then_some("comune-error")] {
                        option value="" { "Scegli un Comune" }
                        @for (c, name) in &comuni {
                            option value=(c) selected[chosen.is_some_and(|(x, _)| x == c)] { (name) }
                        }
                    }
                    @if unknown {
                        p class="text-danger" id="comune-error" { "Il Comune scelto non è della Provincia." }
                    }
                }
                button type="submit" class="btn btn-outline-primary" { "Calcola la quota" }
            }
            @if let (Some((_, name)), Some(fee)) = (chosen, &fee) {
                p id="fee" class="mt-3" {
                    "Quota annua per il Comune di " (name) ": " strong { (fmt::euro_decimal(&fee.yearly_fee)) }
                    @if let (Some(residents), Some(year)) = (fee.residents, fee.population_year) {
                        @if fee.cost_model == CostModel::PerInhabitant {
                            " (" (fmt::integer(i64::try_from(residents).unwrap_or(i64::MAX))) " abitanti al 1° gennaio " (year) ", fonte Istat)"
                        }
                    }
                    "."
                    @if !fee.eligible { " Il Comune supera la soglia di popolazione del servizio: non può aderire." }
                }
            }
        }
    })
}

async fn service_page(
    state: &AppState,
    identity: &Identity,
    detail: &ServiceDetail,
    subscribe: &FormState,
    withdraw: &FormState,
    asked: Option<&str>,
) -> Result<Markup, AppError> {
    let service = &detail.service;
    let code = &service.code;
    let csrf = identity.csrf().unwrap_or_default().to_owned();
    let comune = own_comune(identity);
    let fee = match &comune {
        Some(comune) => Some(ops::service_fee(state, code.clone(), comune.clone()).await?),
        None => None,
    };
    // A visitor who is not a Comune works out the fee of the Comune they choose, where the
    // fee or the right to use the service depends on the Comune's residents.
    let calculator = if comune.is_none()
        && (service.record.cost_model == CostModel::PerInhabitant
            || service.record.audience == Audience::UnderThreshold)
    {
        Some(fee_calculator(state, service, asked).await?)
    } else {
        None
    };
    let body = html! {
        (breadcrumb(&[("Servizi SIT", "/sit")], &service.record.name))
        h1 { (service.record.name) }
        @if service.withdrawn {
            div class="alert alert-warning" role="status" id="withdrawn" {
                p class="fw-bold mb-1" { "Servizio ritirato dal catalogo" }
                @if let Some(at) = &service.withdrawn_at { p class="mb-1" { "Ritirato il " (fmt::rfc3339(at)) "." } }
                p class="mb-0" style="white-space: pre-line" { (service.withdrawn_reason) }
            }
        }
        p style="white-space: pre-line" { (service.record.description) }
        (service_facts(service))
        p {
            "Versione " (service.version) ". Scheda in formato aperto: "
            a href=(format!("/sit/servizi/{code}/rdf.ttl")) { "Turtle" } " · "
            a href=(format!("/sit/servizi/{code}/rdf.jsonld")) { "JSON-LD" }
        }
        @if let Some(fee) = &fee {
            section aria-labelledby="fee-title" class="mb-4" {
                h2 id="fee-title" class="h4" { "Per il Comune" }
                p id="fee" {
                    "Quota annua: " strong { (fmt::euro_decimal(&fee.yearly_fee)) }
                    @if let (Some(residents), Some(year)) = (fee.residents, fee.population_year) {
                        @if fee.cost_model == CostModel::PerInhabitant {
                            " (" (fmt::integer(i64::try_from(residents).unwrap_or(i64::MAX))) " abitanti al 1° gennaio " (year) ", fonte ISTAT)"
                        }
                    }
                    "."
                }
                @if !fee.eligible {
                    p id="not-eligible" { "Il Comune supera la soglia di popolazione del servizio: non può aderire." }
                } @else if !service.withdrawn {
                    (error_summary(subscribe, &[("note", "Nota"), ("service", "Servizio")]))
                    form method="post" action=(format!("/sit/servizi/{code}/adesione")) novalidate id="subscribe-form" {
                        input type="hidden" name="csrf" value=(csrf);
                        (textarea(subscribe, "note", "Nota per l'ufficio (facoltativa)", 3, false, Some("Cosa si aspetta il Comune, i tempi, le persone di riferimento")))
                        button type="submit" class="btn btn-primary" id="subscribe" { "Chiedi l'adesione" }
                    }
                }
            }
        }
        @if let Some(calculator) = calculator { (calculator) }
        @if is_staff(identity) && !service.withdrawn {
            section aria-labelledby="manage-title" class="mb-4" {
                h2 id="manage-title" class="h4" { "Gestione" }
                p {
                    a class="btn btn-outline-primary me-2" href=(format!("/sit/servizi/{code}/modifica")) { "Modifica il servizio" }
                    a class="btn btn-outline-primary" href=(format!("/sit/adesioni?servizio={code}")) { "Adesioni al servizio" }
                }
                (error_summary(withdraw, &[("reason", "Motivo del ritiro")]))
                form method="post" action=(format!("/sit/servizi/{code}/ritiro")) novalidate id="withdraw-form" {
                    input type="hidden" name="csrf" value=(csrf);
                    (textarea(withdraw, "reason", "Motivo del ritiro", 3, true, Some("I Comuni aderenti lo leggeranno sul loro cruscotto")))
                    button type="submit" class="btn btn-danger" id="withdraw" { "Ritira dal catalogo" }
                }
            }
        }
        section aria-labelledby="versions-title" {
            h2 id="versions-title" class="h4" { "Versioni" }
            ul id="versions" {
                @for v in &detail.versions {
                    li {
                        a href=(format!("/sit/servizi/{code}/versioni/{}", v.version)) { "Versione " (v.version) }
                        " del " (fmt::rfc3339(&v.changed_at)) ", " (v.changed_by) ": " (v.note)
                    }
                }
            }
        }
    };
    let description: String = service.record.description.chars().take(300).collect();
    let meta = crate::portale::pages::meta(state, &format!("/sit/servizi/{code}"), description);
    Ok(layout::page_with_meta(
        &state.chrome(Some(identity), "/sit"),
        &service.record.name,
        Some(&meta),
        &body,
    ))
}

async fn show_version(
    State(state): State<AppState>,
    identity: Identity,
    Path((code, version)): Path<(String, i64)>,
) -> Result<Markup, AppError> {
    let detail = ops::service_detail(&state, code.clone()).await?;
    let old = ops::service_version(&state, code.clone(), version).await?;
    let view = ServiceView {
        version: old.version,
        fee: ops::decimal(old.record.fee_cents),
        availability: ops::percent_text(old.record.availability_bp),
        record: old.record.clone(),
        ..detail.service.clone()
    };
    let title = format!("{}, versione {}", detail.service.record.name, old.version);
    let body = html! {
        (breadcrumb(&[("Servizi SIT", "/sit"), (&detail.service.record.name, &format!("/sit/servizi/{code}"))], &format!("Versione {}", old.version)))
        h1 { (old.record.name) }
        p id="version-note" {
            "Versione " (old.version) " del " (fmt::rfc3339(&old.changed_at)) ", scritta da " (old.changed_by) ": " (old.note) "."
            @if old.version != detail.service.version {
                " La versione in vigore è la " a href=(format!("/sit/servizi/{code}")) { (detail.service.version) } "."
            }
        }
        p style="white-space: pre-line" { (old.record.description) }
        (service_facts(&view))
    };
    Ok(page(&state, &identity, &title, &body))
}

// ---------------------------------------------------------------------------------------
// Service form

const SERVICE_LABELS: &[(&str, &str)] = &[
    ("code", "Codice"),
    ("name", "Nome"),
    ("description", "Descrizione"),
    ("category", "Categoria"),
    ("theme", "Materia"),
    ("channels", "Canali"),
    ("audience", "Per chi"),
    ("population_threshold", "Soglia di popolazione"),
    ("conditions", "Condizioni"),
    ("cost_model", "Modello di costo"),
    ("fee", "Quota"),
    ("first_answer_hours", "Prima risposta"),
    ("resolution_hours", "Risoluzione"),
    ("availability", "Disponibilità"),
    ("contact_office", "Ufficio"),
    ("contact_email", "Email dell'ufficio"),
    ("contact_phone", "Telefono dell'ufficio"),
    ("documents", "Documenti"),
    ("inputs", "Cosa serve"),
    ("outputs", "Cosa si ottiene"),
    ("publiccode_url", "publiccode.yml"),
    ("note", "Cosa cambia"),
];

fn theme_options() -> Vec<(String, String)> {
    THEMES
        .iter()
        .map(|(code, label)| (code.to_string(), (*label).to_owned()))
        .collect()
}

fn service_form(form: &FormState, editing: Option<&str>) -> Markup {
    let channels_error = form.error("channels");
    html! {
        @if editing.is_none() {
            (input(form, "code", "Codice", "text", true, Some("Lettere minuscole, cifre e trattini: diventa l'indirizzo della scheda, es. ufficio-transizione-digitale")))
        }
        (input(form, "name", "Nome", "text", true, None))
        (textarea(form, "description", "Descrizione", 4, true, None))
        (select(form, "category", "Categoria", &options(&Category::ALL, Category::as_str, Category::label), Some("Scegli la categoria")))
        (select(form, "theme", "Materia (vocabolario nazionale dei servizi pubblici)", &theme_options(), Some("Scegli la materia")))
        fieldset class="mb-3" id=(form.id("channels")) aria-describedby=[channels_error.map(|_| form.id("channels-error"))] {
            legend class="form-label fs-6" { "Canali di erogazione *" }
            @for channel in Channel::ALL {
                (checkbox(form, &format!("channel_{}", channel.as_str()), channel.label()))
            }
            @if let Some(message) = channels_error {
                div class="invalid-feedback d-block" id=(form.id("channels-error")) { (message) }
            }
        }
        (select(form, "audience", "Per chi", &options(&Audience::ALL, Audience::as_str, Audience::label), Some("Scegli a chi è rivolto")))
        (input(form, "population_threshold", "Soglia di popolazione (abitanti)", "text", false, Some("Solo per i servizi rivolti ai Comuni sotto una soglia, es. 15000")))
        (textarea(form, "conditions", "Condizioni", 3, false, None))
        (select(form, "cost_model", "Modello di costo", &options(&CostModel::ALL, CostModel::as_str, CostModel::label), Some("Scegli il modello")))
        (input(form, "fee", "Quota annua (euro)", "text", false, Some("Fissa o per abitante, es. 1.500,00 o 0,15; vuota se gratuito")))
        (input(form, "first_answer_hours", "Prima risposta entro (ore)", "text", true, None))
        (input(form, "resolution_hours", "Risoluzione entro (ore)", "text", true, None))
        (input(form, "availability", "Disponibilità (%)", "text", true, Some("Es. 99,5")))
        (input(form, "contact_office", "Ufficio di riferimento", "text", true, None))
        (input(form, "contact_email", "Email dell'ufficio", "email", true, None))
        (input(form, "contact_phone", "Telefono dell'ufficio", "text", false, None))
        (textarea(form, "documents", "Documenti", 3, false, Some("Uno per riga: titolo | indirizzo, es. Guida all'adesione | https://www.provincia.it/guida.pdf")))
        (textarea(form, "inputs", "Cosa serve al Comune", 3, false, Some("Uno per riga")))
        (textarea(form, "outputs", "Cosa si ottiene", 3, false, Some("Uno per riga")))
        (input(form, "publiccode_url", "publiccode.yml del software", "url", false, Some("Indirizzo del file publiccode.yml, se il servizio usa un software in riuso")))
        (input(form, "note", if editing.is_some() { "Cosa cambia in questa versione" } else { "Nota sulla prima versione" }, "text", false, None))
    }
}

/// The service's form values as the page shows them.
fn service_values(service: &ServiceView) -> BTreeMap<String, String> {
    let r = &service.record;
    let mut values = BTreeMap::new();
    let mut set = |name: &str, value: String| {
        values.insert(name.to_owned(), value);
    };
    set("code", service.code.clone());
    set("name", r.name.clone());
    set("description", r.description.clone());
    set("category", r.category.as_str().to_owned());
    set("theme", r.theme.to_string());
    for channel in &r.channels {
        set(&format!("channel_{}", channel.as_str()), "true".to_owned());
    }
    set("audience", r.audience.as_str().to_owned());
    set(
        "population_threshold",
        r.population_threshold
            .map(|t| t.to_string())
            .unwrap_or_default(),
    );
    set("conditions", r.conditions.clone());
    set("cost_model", r.cost_model.as_str().to_owned());
    set(
        "fee",
        if r.cost_model == CostModel::Free {
            String::new()
        } else {
            service.fee.replace('.', ",")
        },
    );
    set("first_answer_hours", r.first_answer_hours.to_string());
    set("resolution_hours", r.resolution_hours.to_string());
    set("availability", service.availability.replace('.', ","));
    set("contact_office", r.contact_office.clone());
    set("contact_email", r.contact_email.clone());
    set("contact_phone", r.contact_phone.clone());
    set(
        "documents",
        r.documents
            .iter()
            .map(|d| format!("{} | {}", d.title, d.url))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    set("inputs", r.inputs.join("\n"));
    set("outputs", r.outputs.join("\n"));
    set("publiccode_url", r.publiccode_url.clone());
    values
}

/// Reads the form into the API's input; what the page alone can find wrong (numbers that
/// are not, a document line without its address) is returned as field messages.
fn read_service_form(values: &BTreeMap<String, String>) -> (ServiceInput, FieldErrors) {
    let get = |name: &str| values.get(name).cloned().unwrap_or_default();
    let mut errors = FieldErrors::default();
    let mut integer = |name: &str, required: bool| -> Option<i64> {
        let text = get(name).trim().replace('.', "");
        if text.is_empty() {
            if required {
                errors.add(name, "Indica un numero intero.");
            }
            return None;
        }
        errors.check(
            name,
            text.parse::<i64>()
                .map_err(|_| format!("«{text}» non è un numero intero.")),
        )
    };
    let population_threshold = integer("population_threshold", false);
    let first_answer_hours = integer("first_answer_hours", true);
    let resolution_hours = integer("resolution_hours", true);
    let lines = |name: &str| -> Vec<String> {
        get(name)
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let mut documents = Vec::new();
    for line in lines("documents") {
        match line.rsplit_once('|') {
            Some((title, url)) => documents.push(Document {
                title: title.trim().to_owned(),
                url: url.trim().to_owned(),
            }),
            None => errors.add(
                "documents",
                format!("«{line}»: scrivi il titolo, una barra verticale e l'indirizzo."),
            ),
        }
    }
    let input = ServiceInput {
        code: get("code"),
        name: get("name"),
        description: get("description"),
        category: Category::parse(&get("category")),
        theme: get("theme").parse().ok(),
        channels: Channel::ALL
            .into_iter()
            .filter(|c| values.contains_key(&format!("channel_{}", c.as_str())))
            .collect(),
        audience: Audience::parse(&get("audience")),
        population_threshold,
        conditions: get("conditions"),
        cost_model: CostModel::parse(&get("cost_model")),
        fee: get("fee"),
        first_answer_hours,
        resolution_hours,
        availability: get("availability"),
        contact_office: get("contact_office"),
        contact_email: get("contact_email"),
        contact_phone: get("contact_phone"),
        documents,
        inputs: lines("inputs"),
        outputs: lines("outputs"),
        publiccode_url: get("publiccode_url"),
        note: get("note"),
    };
    (input, errors)
}

/// The form again with the page's and the operation's messages, each beside its field
/// (`documents[0].url` shows beside `documents`).
fn refused_form(
    values: BTreeMap<String, String>,
    page_errors: FieldErrors,
    error: Option<&AppError>,
) -> FormState {
    let mut merged = page_errors;
    if let Some(error) = error {
        let messages = field_messages(error);
        if messages.is_empty() {
            merged.add(
                crate::web::form::FORM,
                error.to_problem().detail().unwrap_or_default().to_owned(),
            );
        }
        for (field, message) in messages {
            merged.add(field_id(&field), message);
        }
    }
    let errors = match merged.finish() {
        Err(error) => field_messages(&error),
        Ok(()) => BTreeMap::new(),
    };
    FormState {
        values,
        errors,
        ..FormState::default()
    }
}

fn new_service_page(
    state: &AppState,
    identity: &Identity,
    form: &FormState,
) -> Result<Markup, AppError> {
    policy::authorize(identity, Action::ManageCatalogue)?;
    let csrf = identity.csrf().unwrap_or_default().to_owned();
    let body = html! {
        (breadcrumb(&[("Servizi SIT", "/sit")], "Nuovo servizio"))
        h1 { "Nuovo servizio del catalogo" }
        p { "I campi con * sono obbligatori." }
        (error_summary(form, SERVICE_LABELS))
        form method="post" action="/sit/servizi/nuovo" novalidate id="service-form" {
            input type="hidden" name="csrf" value=(csrf);
            (service_form(form, None))
            button type="submit" class="btn btn-primary" id="save-service" { "Aggiungi al catalogo" }
        }
    };
    Ok(page(state, identity, "Nuovo servizio", &body))
}

async fn show_new_service(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Markup, AppError> {
    new_service_page(&state, &identity, &FormState::default())
}

async fn submit_new_service(
    State(state): State<AppState>,
    identity: Identity,
    PageForm(values): PageForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, values.get("csrf").map_or("", String::as_str))?;
    policy::authorize(&identity, Action::ManageCatalogue)?;
    let (input, page_errors) = read_service_form(&values);
    let own = ops::check_service(&input).err();
    let code_ok = ops::is_service_code(input.code.trim());
    if page_errors.is_empty() && own.is_none() && code_ok {
        let outcome = ops::create_service(&state, &identity, &input).await;
        return form::answer(
            outcome,
            |view| {
                layout::redirect_with_flash(
                    &format!("/sit/servizi/{}", view.code),
                    "Servizio aggiunto al catalogo.",
                )
            },
            async |error| {
                let form = refused_form(values, FieldErrors::default(), Some(error));
                new_service_page(&state, &identity, &form)
            },
        )
        .await;
    }
    let mut page_errors = page_errors;
    if !code_ok {
        page_errors.add(
            "code",
            "Il codice ha da 3 a 60 caratteri: lettere minuscole, cifre e trattini, e comincia con una lettera.",
        );
    }
    let form = refused_form(values, page_errors, own.as_ref());
    Ok(crate::web::form::unprocessable(new_service_page(
        &state, &identity, &form,
    )?))
}

fn edit_service_page(
    state: &AppState,
    identity: &Identity,
    service: &ServiceView,
    form: &FormState,
) -> Result<Markup, AppError> {
    policy::authorize(identity, Action::ManageCatalogue)?;
    let csrf = identity.csrf().unwrap_or_default().to_owned();
    let code = &service.code;
    let body = html! {
        (breadcrumb(&[("Servizi SIT", "/sit"), (&service.record.name, &format!("/sit/servizi/{code}"))], "Modifica"))
        h1 { "Modifica il servizio" }
        p { "La modifica diventa la versione " (service.version + 1) ": la versione attuale resta consultabile. I campi con * sono obbligatori." }
        (error_summary(form, SERVICE_LABELS))
        form method="post" action=(format!("/sit/servizi/{code}/modifica")) novalidate id="service-form" {
            input type="hidden" name="csrf" value=(csrf);
            (service_form(form, Some(code)))
            button type="submit" class="btn btn-primary" id="save-service" { "Salva la nuova versione" }
        }
    };
    Ok(page(state, identity, "Modifica il servizio", &body))
}

async fn show_edit_service(
    State(state): State<AppState>,
    identity: Identity,
    Path(code): Path<String>,
) -> Result<Markup, AppError> {
    policy::authorize(&identity, Action::ManageCatalogue)?;
    let detail = ops::service_detail(&state, code).await?;
    let form = FormState::with_values(service_values(&detail.service));
    edit_service_page(&state, &identity, &detail.service, &form)
}

async fn submit_edit_service(
    State(state): State<AppState>,
    identity: Identity,
    Path(code): Path<String>,
    PageForm(values): PageForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, values.get("csrf").map_or("", String::as_str))?;
    policy::authorize(&identity, Action::ManageCatalogue)?;
    let detail = ops::service_detail(&state, code.clone()).await?;
    let (input, page_errors) = read_service_form(&values);
    let own = ops::check_service(&input).err();
    if page_errors.is_empty() && own.is_none() {
        let outcome = ops::update_service(&state, &identity, code.clone(), &input).await;
        return form::answer(
            outcome,
            |view| {
                layout::redirect_with_flash(
                    &format!("/sit/servizi/{}", view.code),
                    &format!("Servizio aggiornato: versione {}.", view.version),
                )
            },
            async |error| {
                let form = refused_form(values, FieldErrors::default(), Some(error));
                edit_service_page(&state, &identity, &detail.service, &form)
            },
        )
        .await;
    }
    let form = refused_form(values, page_errors, own.as_ref());
    Ok(crate::web::form::unprocessable(edit_service_page(
        &state,
        &identity,
        &detail.service,
        &form,
    )?))
}

#[derive(Debug, Deserialize)]
struct ReasonForm {
    csrf: String,
    #[serde(default)]
    reason: String,
}

async fn submit_withdrawal(
    State(state): State<AppState>,
    identity: Identity,
    Path(code): Path<String>,
    PageForm(form): PageForm<ReasonForm>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, &form.csrf)?;
    let input = WithdrawInput {
        reason: form.reason.clone(),
    };
    let outcome = ops::withdraw_service(&state, &identity, code.clone(), &input).await;
    form::answer(
        outcome,
        |_| {
            layout::redirect_with_flash(
                &format!("/sit/servizi/{code}"),
                "Servizio ritirato dal catalogo: i Comuni aderenti lo vedono sul loro cruscotto.",
            )
        },
        async |error| {
            let detail = ops::service_detail(&state, code.clone()).await?;
            let values = form::values([("reason", form.reason)]);
            let withdraw = FormState::refused(values, error);
            service_page(
                &state,
                &identity,
                &detail,
                &FormState::default(),
                &withdraw,
                None,
            )
            .await
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
struct NoteForm {
    csrf: String,
    #[serde(default)]
    note: String,
}

async fn submit_subscription(
    State(state): State<AppState>,
    identity: Identity,
    Path(code): Path<String>,
    PageForm(form): PageForm<NoteForm>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, &form.csrf)?;
    let input = NewSubscription {
        service: code.clone(),
        note: form.note.clone(),
    };
    let outcome = ops::create_subscription(&state, &identity, &input).await;
    form::answer(
        outcome,
        |view| {
            layout::redirect_with_flash(
                &format!("/sit/adesioni/{}", view.id),
                "Richiesta di adesione inviata alla Provincia.",
            )
        },
        async |error| {
            let detail = ops::service_detail(&state, code).await?;
            let values = form::values([("note", form.note)]);
            let subscribe = FormState::refused(values, error);
            service_page(
                &state,
                &identity,
                &detail,
                &subscribe,
                &FormState::default(),
                None,
            )
            .await
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------
// Subscriptions

#[derive(Debug, Default, Deserialize)]
struct SubscriptionsQuery {
    servizio: Option<String>,
}

async fn show_subscriptions(
    State(state): State<AppState>,
    identity: Identity,
    Query(query): Query<SubscriptionsQuery>,
) -> Result<Markup, AppError> {
    let service = query.servizio.filter(|s| !s.is_empty());
    let list = ops::list_subscriptions(&state, &identity, service.clone()).await?;
    let staff = is_staff(&identity);
    let body = html! {
        (breadcrumb(&[("Servizi SIT", "/sit")], "Adesioni"))
        h1 { @if staff { "Adesioni dei Comuni" } @else { "Le adesioni del Comune" } }
        @if let Some(code) = &service { p { "Solo le adesioni al servizio " (code) ". " a href="/sit/adesioni" { "Tutte le adesioni" } } }
        @if list.is_empty() {
            p id="no-subscriptions" { "Nessuna adesione." }
        } @else {
            div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole" {
                table class="table" id="subscriptions" {
                    caption { "Adesioni, le più recenti per prime" }
                    thead { tr {
                        th scope="col" { "Servizio" } th scope="col" { "Comune" } th scope="col" { "Stato" }
                        th scope="col" { "Accordo" } th scope="col" { "Richiesta il" }
                    } }
                    tbody {
                        @for s in &list {
                            tr {
                                td {
                                    a href=(format!("/sit/adesioni/{}", s.id)) { (s.service_name) }
                                    @if s.service_withdrawn { " " span class="badge bg-secondary" { "Servizio ritirato" } }
                                }
                                td { (s.comune_name) }
                                td { (state_badge(s.state)) }
                                td {
                                    @if s.agreement_ref.is_empty() { "—" } @else { (s.agreement_ref) }
                                    @if let Some(start) = &s.start_date { ", dal " (fmt::iso_date(start)) }
                                }
                                td { (fmt::rfc3339(&s.created_at)) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&state, &identity, "Adesioni", &body))
}

const TRANSITION_LABELS: &[(&str, &str)] = &[
    ("state", "Nuovo stato"),
    ("reason", "Motivo"),
    ("agreement_ref", "Riferimento dell'accordo"),
    ("start_date", "Data di avvio"),
];

const REQUEST_LABELS: &[(&str, &str)] = &[
    ("kind", "Tipo"),
    ("subject", "Oggetto"),
    ("description", "Descrizione"),
];

fn hours_minutes(minutes: i64) -> String {
    format!("{} h {:02} min", minutes / 60, minutes % 60)
}

async fn show_subscription(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Markup, AppError> {
    subscription_page(
        &state,
        &identity,
        id,
        &FormState::default(),
        &FormState::default(),
    )
    .await
}

async fn subscription_page(
    state: &AppState,
    identity: &Identity,
    id: i64,
    move_form: &FormState,
    request_form: &FormState,
) -> Result<Markup, AppError> {
    let detail = ops::subscription_detail(state, identity, id).await?;
    let requests = ops::subscription_requests(state, identity, id).await?;
    let s = &detail.subscription;
    let csrf = identity.csrf().unwrap_or_default().to_owned();
    let can_open = s.state == SubscriptionState::Active && own_comune(identity).is_some();
    let title = format!("Adesione di {} a {}", s.comune_name, s.service_name);
    let body = html! {
        (breadcrumb(&[("Servizi SIT", "/sit"), ("Adesioni", "/sit/adesioni")], &s.comune_name))
        h1 { (title) }
        @if s.service_withdrawn {
            div class="alert alert-warning" role="status" id="service-withdrawn" {
                p class="fw-bold mb-1" { "Il servizio è stato ritirato dal catalogo" }
                p class="mb-0" style="white-space: pre-line" { (s.service_withdrawn_reason) }
            }
        }
        dl class="row" id="subscription-facts" {
            dt class="col-sm-4" { "Servizio" } dd class="col-sm-8" { a href=(format!("/sit/servizi/{}", s.service)) { (s.service_name) } }
            dt class="col-sm-4" { "Comune" } dd class="col-sm-8" { (s.comune_name) }
            dt class="col-sm-4" { "Stato" } dd class="col-sm-8" id="subscription-state" { (state_badge(s.state)) }
            @if !s.agreement_ref.is_empty() {
                dt class="col-sm-4" { "Accordo" } dd class="col-sm-8" { (s.agreement_ref) }
            }
            @if let Some(start) = &s.start_date {
                dt class="col-sm-4" { "Avvio" } dd class="col-sm-8" { (fmt::iso_date(start)) }
            }
            @if !s.note.is_empty() {
                dt class="col-sm-4" { "Nota del Comune" } dd class="col-sm-8" style="white-space: pre-line" { (s.note) }
            }
        }
        @if !detail.allowed_transitions.is_empty() {
            section aria-labelledby="move-title" class="mb-4" {
                h2 id="move-title" class="h4" { "Cambia stato" }
                (error_summary(move_form, TRANSITION_LABELS))
                form method="post" action=(format!("/sit/adesioni/{id}/stato")) novalidate id="move-form" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="from" value=(s.state.as_str());
                    (select(move_form, "state", "Nuovo stato", &detail.allowed_transitions.iter().map(|t| (t.as_str().to_owned(), t.label().to_owned())).collect::<Vec<_>>(), Some("Scegli lo stato")))
                    @if s.state == SubscriptionState::Requested {
                        (input(move_form, "agreement_ref", "Riferimento dell'accordo", "text", false, Some("Per accettare: protocollo o delibera dell'accordo")))
                        (input(move_form, "start_date", "Data di avvio", "text", false, Some("Per accettare: gg/mm/aaaa")))
                    }
                    (textarea(move_form, "reason", "Motivo", 3, false, Some("Obbligatorio per respingere, sospendere e concludere: il Comune lo leggerà")))
                    button type="submit" class="btn btn-primary" id="move" { "Conferma" }
                }
            }
        }
        section aria-labelledby="requests-title" class="mb-4" {
            h2 id="requests-title" class="h4" { "Richieste e livelli di servizio" }
            @if requests.is_empty() {
                p id="no-requests" { "Nessuna richiesta." }
            } @else {
                div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole" {
                    table class="table" id="requests" {
                        caption { "Tempi misurati con l'orologio dell'Help Desk rispetto ai livelli promessi" }
                        thead { tr {
                            th scope="col" { "Richiesta" } th scope="col" { "Tipo" } th scope="col" { "Stato" }
                            th scope="col" { "Prima risposta" } th scope="col" { "Risoluzione" }
                        } }
                        tbody {
                            @for m in &requests {
                                tr class=[(m.first_answer_breached || m.resolution_breached).then_some("table-danger")] {
                                    td { a href=(format!("/helpdesk/{}", m.request.id)) { (m.request.subject) } }
                                    td { (m.kind.label()) }
                                    td { (m.request.status.label()) }
                                    td {
                                        @match m.first_answer_minutes { Some(minutes) => { (hours_minutes(minutes)) }, None => { "in attesa" } }
                                        " (promessa " (m.first_answer_hours) " ore)"
                                        @if m.first_answer_breached { " " strong class="text-danger" { "non rispettata" } }
                                    }
                                    td {
                                        @match m.resolution_minutes { Some(minutes) => { (hours_minutes(minutes)) }, None => { "in corso" } }
                                        " (promessa " (m.resolution_hours) " ore)"
                                        @if m.resolution_breached { " " strong class="text-danger" { "non rispettata" } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if can_open {
                h3 class="h5" { "Nuova richiesta" }
                (error_summary(request_form, REQUEST_LABELS))
                form method="post" action=(format!("/sit/adesioni/{id}/richieste")) novalidate id="request-form" {
                    input type="hidden" name="csrf" value=(csrf);
                    (select(request_form, "kind", "Tipo", &options(&RequestKind::ALL, RequestKind::as_str, RequestKind::label), Some("Scegli il tipo")))
                    (input(request_form, "subject", "Oggetto", "text", true, None))
                    (textarea(request_form, "description", "Descrizione", 4, true, None))
                    button type="submit" class="btn btn-primary" id="open-request" { "Invia la richiesta" }
                }
            }
        }
        section aria-labelledby="history-title" {
            h2 id="history-title" class="h4" { "Storia" }
            ol id="history" {
                @for step in &detail.history {
                    li {
                        (fmt::rfc3339(&step.at)) ", " (step.actor) ": "
                        @match step.from { Some(from) => { (from.label()) " → " }, None => { "richiesta → " } }
                        (step.to.label())
                        @if !step.reason.is_empty() { " (" (step.reason) ")" }
                    }
                }
            }
        }
    };
    Ok(page(state, identity, &title, &body))
}

#[derive(Debug, Deserialize)]
struct TransitionForm {
    csrf: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    agreement_ref: String,
    #[serde(default)]
    start_date: String,
}

async fn submit_transition(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(form): PageForm<TransitionForm>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, &form.csrf)?;
    let input = NewSubscriptionTransition {
        state: SubscriptionState::parse(&form.state),
        from: SubscriptionState::parse(&form.from),
        reason: form.reason.clone(),
        agreement_ref: form.agreement_ref.clone(),
        start_date: form.start_date.clone(),
    };
    let outcome = ops::transition_subscription(&state, &identity, id, &input).await;
    form::answer(
        outcome,
        |detail| {
            layout::redirect_with_flash(
                &format!("/sit/adesioni/{id}"),
                &format!(
                    "Stato dell'adesione aggiornato: {}.",
                    detail.subscription.state.label()
                ),
            )
        },
        async |error| {
            let values = form::values([
                ("state", form.state),
                ("reason", form.reason),
                ("agreement_ref", form.agreement_ref),
                ("start_date", form.start_date),
            ]);
            let move_form = FormState::refused(values, error);
            subscription_page(&state, &identity, id, &move_form, &FormState::default()).await
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
struct RequestForm {
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    description: String,
}

async fn submit_request(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(form): PageForm<RequestForm>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, &form.csrf)?;
    let result = match RequestKind::parse(&form.kind) {
        Some(kind) => {
            let input = NewSubscriptionRequest {
                kind,
                subject: form.subject.clone(),
                description: form.description.clone(),
            };
            ops::open_subscription_request(&state, &identity, id, &input).await
        }
        None => Err(AppError::invalid_field(
            "kind",
            "Scegli il tipo di richiesta.",
        )),
    };
    form::answer(
        result,
        |_| {
            layout::redirect_with_flash(
                &format!("/sit/adesioni/{id}"),
                "Richiesta inviata: la Provincia la segue nell'Help Desk.",
            )
        },
        async |error| {
            let values = form::values([
                ("kind", form.kind),
                ("subject", form.subject),
                ("description", form.description),
            ]);
            let request_form = FormState::refused(values, error);
            subscription_page(&state, &identity, id, &FormState::default(), &request_form).await
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------
// Digital picture

async fn show_comuni(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Markup, AppError> {
    policy::authorize(&identity, Action::ManagePictures)?;
    let (comuni, platforms) = state
        .db
        .call(|conn| {
            Ok::<_, AppError>((
                crate::sit::db::comuni(conn)?,
                crate::sit::db::platforms(conn, None)?,
            ))
        })
        .await?;
    let body = html! {
        (breadcrumb(&[("Servizi SIT", "/sit")], "Quadro digitale dei Comuni"))
        h1 { "Quadro digitale dei Comuni" }
        p { "Le piattaforme nazionali che ogni Comune usa e le misure PNRR «PA digitale 2026». " a href="/sit/copertura" { "Copertura delle piattaforme" } }
        div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole" {
            table class="table" id="comuni" {
                caption { "Comuni della Provincia" }
                thead { tr { th scope="col" { "Comune" } th scope="col" { "Piattaforme in uso" } } }
                tbody {
                    @for (code, name) in &comuni {
                        @let used: Vec<&str> = platforms.iter().filter(|p| &p.comune_code == code).map(|p| p.platform.label()).collect();
                        tr {
                            td { a href=(format!("/sit/comuni/{code}")) { (name) } }
                            td { @if used.is_empty() { "—" } @else { (used.join(", ")) } }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&state, &identity, "Quadro digitale dei Comuni", &body))
}

fn picture_values(picture: &ops::PictureView) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    for p in &picture.platforms {
        values.insert(
            format!("platform_{}", p.platform.as_str()),
            "true".to_owned(),
        );
        values.insert(
            format!("since_{}", p.platform.as_str()),
            fmt::iso_date(&p.since),
        );
    }
    for m in &picture.measures {
        values.insert(
            format!("measure_{}", m.measure.as_str()),
            m.status.as_str().to_owned(),
        );
        if let Some(amount) = &m.amount {
            values.insert(
                format!("amount_{}", m.measure.as_str()),
                amount.replace('.', ","),
            );
        }
    }
    values
}

async fn show_picture(
    State(state): State<AppState>,
    identity: Identity,
    Path(code): Path<String>,
) -> Result<Markup, AppError> {
    let picture = ops::picture(&state, &identity, code).await?;
    let form = FormState::with_values(picture_values(&picture));
    Ok(picture_page(&state, &identity, &picture, &form))
}

fn picture_page(
    state: &AppState,
    identity: &Identity,
    picture: &ops::PictureView,
    form: &FormState,
) -> Markup {
    let csrf = identity.csrf().unwrap_or_default().to_owned();
    let code = &picture.comune_code;
    let title = format!("Quadro digitale di {}", picture.comune_name);
    let measure_options: Vec<(String, String)> = options(
        &MeasureStatus::ALL,
        MeasureStatus::as_str,
        MeasureStatus::label,
    );
    let labels: Vec<(String, String)> = Platform::ALL
        .iter()
        .map(|p| {
            (
                format!("since_{}", p.as_str()),
                format!("{}: in uso dal", p.label()),
            )
        })
        .chain(Measure::ALL.iter().map(|m| {
            (
                format!("amount_{}", m.as_str()),
                format!("{}: importo", m.label()),
            )
        }))
        .collect();
    let label_refs: Vec<(&str, &str)> = labels
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let body = html! {
        nav aria-label="Percorso" { ol class="breadcrumb" {
            li class="breadcrumb-item" { a href="/sit" { "Servizi SIT" } }
            @if is_staff(identity) { li class="breadcrumb-item" { a href="/sit/comuni" { "Quadro digitale dei Comuni" } } }
            li class="breadcrumb-item active" aria-current="page" { (picture.comune_name) }
        } }
        h1 { (title) }
        @if let Some(residents) = picture.residents {
            p { "Popolazione residente (ISTAT): " (fmt::integer(i64::try_from(residents).unwrap_or(i64::MAX))) " abitanti." }
        }
        h2 class="h4" { "Piattaforme nazionali" }
        @if picture.platforms.is_empty() { p id="no-platforms" { "Nessuna piattaforma registrata." } } @else {
            ul id="platforms" { @for p in &picture.platforms { li { (p.platform.label()) ", in uso dal " (fmt::iso_date(&p.since)) } } }
        }
        h2 class="h4" { "Misure PNRR «PA digitale 2026»" }
        @if picture.measures.is_empty() { p id="no-measures" { "Nessuna misura registrata." } } @else {
            ul id="measures" { @for m in &picture.measures {
                li { (m.measure.label()) ": " (m.status.label()) @if let Some(amount) = &m.amount { ", " (fmt::euro_decimal(amount)) } }
            } }
        }
        @if is_staff(identity) {
            h2 class="h4" { "Aggiorna il quadro" }
            (error_summary(form, &label_refs))
            form method="post" action=(format!("/sit/comuni/{code}")) novalidate id="picture-form" {
                input type="hidden" name="csrf" value=(csrf);
                @for p in Platform::ALL {
                    fieldset class="mb-3" {
                        legend class="form-label fs-6" { (p.label()) }
                        (checkbox(form, &format!("platform_{}", p.as_str()), &format!("Il Comune usa {}", p.label())))
                        (input(form, &format!("since_{}", p.as_str()), "In uso dal", "text", false, Some("gg/mm/aaaa")))
                    }
                }
                @for m in Measure::ALL {
                    fieldset class="mb-3" {
                        legend class="form-label fs-6" { (m.label()) }
                        (select_with(form, &format!("measure_{}", m.as_str()), "Stato", &measure_options, Some("Nessuna candidatura"), false))
                        (input(form, &format!("amount_{}", m.as_str()), "Importo (euro)", "text", false, None))
                    }
                }
                button type="submit" class="btn btn-primary" id="save-picture" { "Salva il quadro" }
            }
        }
    };
    page(state, identity, &title, &body)
}

async fn submit_picture(
    State(state): State<AppState>,
    identity: Identity,
    Path(code): Path<String>,
    PageForm(values): PageForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, values.get("csrf").map_or("", String::as_str))?;
    policy::authorize(&identity, Action::ManagePictures)?;
    let get = |name: &str| values.get(name).cloned().unwrap_or_default();
    let mut page_errors = FieldErrors::default();
    let mut platforms = Vec::new();
    for p in Platform::ALL {
        if values.contains_key(&format!("platform_{}", p.as_str())) {
            let since = get(&format!("since_{}", p.as_str()));
            if since.trim().is_empty() {
                page_errors.add(
                    format!("since_{}", p.as_str()),
                    "Indica da quando il Comune la usa (gg/mm/aaaa).",
                );
            }
            platforms.push(PlatformUse { platform: p, since });
        }
    }
    let mut measures = Vec::new();
    for m in Measure::ALL {
        if let Some(status) = MeasureStatus::parse(&get(&format!("measure_{}", m.as_str()))) {
            let amount = get(&format!("amount_{}", m.as_str()));
            measures.push(MeasureUse {
                measure: m,
                status,
                amount: Some(amount),
            });
        }
    }
    let input = PictureInput {
        platforms,
        measures,
    };
    let result = match page_errors.finish() {
        Ok(()) => ops::update_picture(&state, &identity, code.clone(), &input).await,
        Err(error) => Err(error),
    };
    form::answer(
        result,
        |_| {
            layout::redirect_with_flash(
                &format!("/sit/comuni/{code}"),
                "Quadro digitale aggiornato.",
            )
        },
        async |error| {
            // Messages of the operation name list items (`platforms[2].since`): show each
            // beside the form's own field.
            let mut errors = BTreeMap::new();
            for (field, message) in field_messages(error) {
                let name = if let Some(index) = form::item_index(&field, "platforms") {
                    input
                        .platforms
                        .get(index)
                        .map_or(field.clone(), |p| format!("since_{}", p.platform.as_str()))
                } else if let Some(index) = form::item_index(&field, "measures") {
                    input
                        .measures
                        .get(index)
                        .map_or(field.clone(), |m| format!("amount_{}", m.measure.as_str()))
                } else {
                    field
                };
                errors.entry(name).or_insert(message);
            }
            let picture = ops::picture(&state, &identity, code.clone()).await?;
            let form = FormState {
                values,
                errors,
                ..FormState::default()
            };
            Ok(picture_page(&state, &identity, &picture, &form))
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------
// Coverage

async fn read_coverage(
    state: &AppState,
    identity: &Identity,
) -> Result<Vec<CoverageRow>, AppError> {
    policy::authorize(identity, Action::ViewReports)?;
    ops::coverage(state).await
}

async fn show_coverage(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Markup, AppError> {
    let rows = read_coverage(&state, &identity).await?;
    let bars: Vec<(String, i64)> = rows
        .iter()
        .map(|r| {
            (
                format!("{}, Comuni (per mille)", r.platform.label()),
                i64::try_from(r.comuni_permille).unwrap_or(0),
            )
        })
        .chain(rows.iter().map(|r| {
            (
                format!("{}, residenti (per mille)", r.platform.label()),
                i64::try_from(r.residents_permille).unwrap_or(0),
            )
        }))
        .collect();
    let count = |n: u64| fmt::integer(i64::try_from(n).unwrap_or(i64::MAX));
    let body = html! {
        (breadcrumb(&[("Servizi SIT", "/sit")], "Copertura delle piattaforme"))
        h1 { "Copertura delle piattaforme nazionali" }
        p { "Quota dei Comuni della Provincia che usano ogni piattaforma e quota dei residenti che vivono in quei Comuni (popolazione ISTAT più recente), dal quadro digitale tenuto dall'ufficio SIT." }
        p {
            "Scarica: "
            a href="/sit/copertura/export.csv?sep=semicolon" { "CSV (separatore ;)" } " · "
            a href="/sit/copertura/export.csv?sep=comma" { "CSV (separatore ,)" }
        }
        (layout::bar_chart("coverage-chart", "Copertura per piattaforma (per mille di Comuni e di residenti)", &bars))
        div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole" {
            table class="table" id="coverage" {
                caption { "Copertura per piattaforma" }
                thead { tr {
                    th scope="col" { "Piattaforma" }
                    th scope="col" class="text-end" { "Comuni" } th scope="col" class="text-end" { "Quota dei Comuni" }
                    th scope="col" class="text-end" { "Residenti" } th scope="col" class="text-end" { "Quota dei residenti" }
                } }
                tbody {
                    @for r in &rows {
                        tr {
                            th scope="row" { (r.platform.label()) }
                            td class="text-end" { (count(r.comuni)) " di " (count(r.comuni_total)) }
                            td class="text-end" { (permille_text(r.comuni_permille)) }
                            td class="text-end" { (count(r.residents)) " di " (count(r.residents_total)) }
                            td class="text-end" { (permille_text(r.residents_permille)) }
                        }
                    }
                }
            }
        }
    };
    Ok(page(
        &state,
        &identity,
        "Copertura delle piattaforme",
        &body,
    ))
}

#[derive(Debug, Default, Deserialize)]
struct CsvQuery {
    sep: Option<String>,
    bom: Option<String>,
}

async fn export_coverage(
    State(state): State<AppState>,
    identity: Identity,
    Query(query): Query<CsvQuery>,
) -> Result<Response, AppError> {
    let separator = pico_service::csv::Separator::parse(query.sep.as_deref())
        .map_err(|err| AppError::invalid_field("sep", err.to_string()))?;
    let rows = read_coverage(&state, &identity).await?;
    let mut csv = pico_service::csv::CsvWriter::new(separator, query.bom.as_deref() == Some("1"));
    let write = |csv: &mut pico_service::csv::CsvWriter, cells: Vec<String>| {
        csv.write(cells)
            .map_err(|error| AppError::Internal(error.to_string()))
    };
    write(
        &mut csv,
        [
            "piattaforma",
            "comuni",
            "comuni_totali",
            "quota_comuni_percento",
            "residenti",
            "residenti_totali",
            "quota_residenti_percento",
        ]
        .map(str::to_owned)
        .to_vec(),
    )?;
    let share = |permille: u64| separator.decimal(&format!("{}.{}", permille / 10, permille % 10));
    for r in &rows {
        write(
            &mut csv,
            vec![
                r.platform.label().to_owned(),
                r.comuni.to_string(),
                r.comuni_total.to_string(),
                share(r.comuni_permille),
                r.residents.to_string(),
                r.residents_total.to_string(),
                share(r.residents_permille),
            ],
        )?;
    }
    let bytes = csv
        .finish()
        .map_err(|error| AppError::Internal(error.to_string()))?;
    Ok(pico_service::download::csv("sit-copertura.csv", bytes))
}

// ---------------------------------------------------------------------------------------
// Dashboard

/// [`dashboard_cards`] as the module registry calls it.
pub fn cards<'a>(state: &'a AppState, identity: &'a Identity) -> crate::modules::CardsFuture<'a> {
    Box::pin(dashboard_cards(state, identity))
}

/// The SIT on the dashboard: for a Comune, its subscriptions, with a warning for each whose
/// service was withdrawn; for SIT staff, the requests waiting for a decision.
pub async fn dashboard_cards(
    state: &AppState,
    identity: &Identity,
) -> Result<Option<Markup>, AppError> {
    let Some(user) = identity.user.as_ref() else {
        return Ok(None);
    };
    if !user.roles.any(policy::sees_sit) {
        return Ok(None);
    }
    let list = ops::list_subscriptions(state, identity, None).await?;
    if user.roles.comune().is_some() {
        let open: Vec<_> = list.iter().filter(|s| s.state.is_open()).collect();
        let withdrawn: Vec<_> = open.iter().filter(|s| s.service_withdrawn).collect();
        return Ok(Some(html! {
            section aria-labelledby="dashboard-sit" class="mb-5" {
                h2 id="dashboard-sit" { "Servizi innovativi" }
                @for s in &withdrawn {
                    div class="alert alert-warning" role="status" {
                        p class="mb-1" { strong { "Servizio ritirato: " (s.service_name) } }
                        p class="mb-1" style="white-space: pre-line" { (s.service_withdrawn_reason) }
                        a href=(format!("/sit/adesioni/{}", s.id)) { "L'adesione del Comune" }
                    }
                }
                @if open.is_empty() {
                    p { "Il Comune non ha adesioni in corso. " a href="/sit" { "Il catalogo dei servizi" } }
                } @else {
                    ul class="list-unstyled" id="sit-subscriptions" {
                        @for s in open.iter().take(10) {
                            li class="mb-2" { a href=(format!("/sit/adesioni/{}", s.id)) { (s.service_name) } ": " (s.state.label()) }
                        }
                    }
                }
            }
        }));
    }
    let waiting = list
        .iter()
        .filter(|s| s.state == SubscriptionState::Requested)
        .count();
    let active = list
        .iter()
        .filter(|s| s.state == SubscriptionState::Active)
        .count();
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    Ok(Some(html! {
        section aria-labelledby="dashboard-sit" class="mb-5" {
            h2 id="dashboard-sit" { "Servizi innovativi" }
            div class="row" {
                (layout::figure("Adesioni da decidere", count(waiting), "/sit/adesioni"))
                (layout::figure("Adesioni attive", count(active), "/sit/adesioni"))
            }
        }
    }))
}
