//! The pages of the Comuni's requests for support: the section of a call's page where a
//! Comune asks (and sees its requests on the call), and `/sape/supporto`, where the office
//! answers every request and a Comune follows its own. Also the call page's section of the
//! searches for partners across the Provinces (`partners`), where the office publishes one.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use maud::{Markup, html};
use pico_service::format as fmt;
use pico_service::json::Path;
use pico_service::web as layout;
use serde::Deserialize;

use crate::auth::Identity;
use crate::error::AppError;
use crate::sape::SupportState;
use crate::sape::pages::{CallForms, call_page};
use crate::sape::partners::{self, NewPartnerSearch};
use crate::sape::policy;
use crate::sape::support::{self, NewSupport, SupportMove, SupportView};
use crate::state::AppState;
use crate::web::form::{self, FormState, error_summary, input, textarea};
use crate::web::{PageForm, breadcrumb, check_form_csrf};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sape/bandi/{id}/supporto", post(submit_request))
        .route("/sape/supporto", get(show_requests))
        .route("/sape/supporto/{id}/stato", post(submit_move))
        .route(
            "/sape/bandi/{id}/ricerca-partner",
            post(submit_partner_search),
        )
}

const SEARCH_LABELS: &[(&str, &str)] = &[
    ("profile", "Partner cercato"),
    ("deadline", "Rispondere entro"),
];

/// The searches for partners on the call from every Province of the SAPE network, with the
/// thread where to answer; the office's form to publish one.
pub async fn partners_section(
    state: &AppState,
    identity: &Identity,
    call: i64,
    identifier: &str,
    form: &FormState,
) -> Result<Markup, AppError> {
    let staff = identity.require_user()?.roles.any(policy::is_sape_staff);
    let searches = partners::for_call(state, identity, identifier).await?;
    let csrf = identity.csrf().unwrap_or_default();
    Ok(html! {
           h2 class="h4" id="partner-searches" { "Ricerca di partner tra le Province" }
           @if searches.is_empty() {
               p { "Nessuna Provincia della rete SAPE cerca partner per questo bando." }
           } @else {
               ul class="list-unstyled" id="partner-search-list" { @for s in &searches { li class="mb-3" {
                   strong { (s.province_name) } @if s.own { " (questa Provincia)" } " cerca: " (s.profile)
                   br;
                   small { @if s.open { "Rispondere entro il " } @else { "Scaduta il " } (fmt::iso_date(&s.deadline))
    }
                   @if staff { br; a href=(format!("/networks/sape/threads/{}/{}", s.province, s.seq)) { "Rispondi nella rete SAPE" span class="visually-hidden" { " a " (s.province_name) } } }
               } } }
           }
           @if staff {
               details class="mb-4" open[form.is_refused()] {
                   summary { "Cerca partner per questo bando tra le Province" }
                   p class="mt-2" { "La ricerca è pubblicata nella rete tematica SAPE: le altre Province la vedono sulla pagina di questo bando e rispondono nella discussione." }
                   (error_summary(form, SEARCH_LABELS))
                   form method="post" action=(format!("/sape/bandi/{call}/ricerca-partner")) novalidate {
                       input type="hidden" name="csrf" value=(csrf);
                       (textarea(form, "profile", "Partner cercato", 3, true, Some("Tipo di ente, paese, competenze, ruolo nel consorzio.")))
                       (input(form, "deadline", "Rispondere entro", "date", true, None))
                       button type="submit" class="btn btn-outline-primary" id="publish-partner-search" { "Pubblica la ricerca" }
                   }
               }
           }
       })
}

#[derive(Debug, Deserialize)]
struct SearchForm {
    csrf: String,
    #[serde(default)]
    profile: String,
    #[serde(default)]
    deadline: String,
}

async fn submit_partner_search(
    State(state): State<AppState>,
    identity: Identity,
    Path(call): Path<i64>,
    PageForm(form): PageForm<SearchForm>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, &form.csrf)?;
    let input = NewPartnerSearch {
        profile: form.profile.clone(),
        deadline: form.deadline.clone(),
    };
    let outcome = partners::publish(&state, &identity, call, input).await;
    form::answer(
        outcome,
        |_| {
            layout::redirect_with_flash(
                &format!("/sape/bandi/{call}#partner-searches"),
                "Ricerca di partner pubblicata nella rete SAPE.",
            )
        },
        async |error| {
            let values = BTreeMap::from([
                ("profile".to_owned(), form.profile),
                ("deadline".to_owned(), form.deadline),
            ]);
            let forms = CallForms {
                partner_search: FormState::refused(values, error).with_prefix("search-"),
                ..CallForms::default()
            };
            call_page(&state, &identity, call, &forms).await
        },
    )
    .await
}

const LABELS: &[(&str, &str)] = &[("message", "Di che cosa ha bisogno il Comune")];

fn badge(state: SupportState) -> Markup {
    let class = match state {
        SupportState::Requested => "bg-warning text-dark",
        SupportState::Accepted => "bg-success",
        SupportState::Declined => "bg-danger",
        SupportState::Withdrawn => "bg-secondary",
    };
    html! { span class=(format!("badge {class}")) { (state.label()) } }
}

/// The Comune's part of a call's page: its requests on the call and the form to ask (not
/// while one waits). Nothing for the office, who answers on `/sape/supporto`.
pub async fn call_section(
    state: &AppState,
    identity: &Identity,
    call: i64,
    form: &FormState,
) -> Result<Markup, AppError> {
    let user = identity.require_user()?;
    if user.roles.comune().is_none() {
        return Ok(html! {});
    }
    let requests = support::list(state, identity, Some(call), None, 50).await?;
    let waiting = requests.iter().any(|r| r.state == SupportState::Requested);
    let csrf = identity.csrf().unwrap_or_default();
    Ok(html! {
        h2 class="h4" id="support" { "Supporto del SAPE" }
        @if !requests.is_empty() {
            ul id="support-requests" { @for r in &requests { li {
                (badge(r.state)) " " (fmt::rfc3339(&r.created_at)) ": " (r.message)
                @if let Some(answer) = &r.answer { br; "Risposta del SAPE: " (answer) }
            } } }
        }
        @if waiting {
            p { "La richiesta del Comune è in attesa di risposta: la trovate anche tra le " a href="/sape/supporto" { "richieste di supporto" } "." }
        } @else {
            p { "Il Comune vuole partecipare a questo bando e ha bisogno dell'ufficio europeo della Provincia? Scrivete che cosa vi serve." }
            (error_summary(form, LABELS))
            form method="post" action=(format!("/sape/bandi/{call}/supporto")) novalidate class="mb-4" {
                input type="hidden" name="csrf" value=(csrf);
                (textarea(form, "message", "Di che cosa ha bisogno il Comune", 4, true, Some("Ad esempio: cerchiamo partner, aiuto per il budget, una verifica dei requisiti.")))
                button type="submit" class="btn btn-primary" id="ask-support" { "Chiedi supporto al SAPE" }
            }
        }
    })
}

#[derive(Debug, Deserialize)]
struct RequestForm {
    csrf: String,
    #[serde(default)]
    message: String,
}

async fn submit_request(
    State(state): State<AppState>,
    identity: Identity,
    Path(call): Path<i64>,
    PageForm(form): PageForm<RequestForm>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, &form.csrf)?;
    let input = NewSupport {
        message: form.message.clone(),
    };
    let outcome = support::ask(&state, &identity, call, input).await;
    form::answer(
        outcome,
        |_| {
            layout::redirect_with_flash(
                &format!("/sape/bandi/{call}#support"),
                "Richiesta inviata al SAPE: riceverete la risposta qui e tra le richieste di supporto.",
            )
        },
        async |error| {
            let values = BTreeMap::from([("message".to_owned(), form.message)]);
            let forms = CallForms {
                support: FormState::refused(values, error).with_prefix("support-"),
                ..CallForms::default()
            };
            call_page(&state, &identity, call, &forms).await
        },
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    stato: Option<String>,
}

async fn show_requests(
    State(state): State<AppState>,
    identity: Identity,
    Query(query): Query<ListQuery>,
) -> Result<Markup, AppError> {
    let wanted = query.stato.as_deref().and_then(SupportState::parse);
    let requests = support::list(&state, &identity, None, wanted, 500).await?;
    requests_page(&state, &identity, &requests, wanted, None)
}

/// The list; `refused` is the request whose answer came back refused, with its form.
fn requests_page(
    state: &AppState,
    identity: &Identity,
    requests: &[SupportView],
    wanted: Option<SupportState>,
    refused_form: Option<(i64, &FormState)>,
) -> Result<Markup, AppError> {
    let staff = identity.require_user()?.roles.any(policy::is_sape_staff);
    let csrf = identity.csrf().unwrap_or_default();
    let waiting = requests
        .iter()
        .filter(|r| r.state == SupportState::Requested)
        .count();
    let body = html! {
        (breadcrumb(&[("Bandi", "/sape")], "Richieste di supporto"))
        h1 { "Richieste di supporto dei Comuni" }
        p { @if staff { "I Comuni chiedono l'aiuto dell'ufficio europeo su un bando: accogliete la richiesta o spiegate perché non è possibile." }
            @else { "Le richieste di supporto del Comune al SAPE e le risposte dell'ufficio." } }
        nav aria-label="Filtra per stato" { ul class="nav nav-pills mb-3" {
            li class="nav-item" { a class=(if wanted.is_none() { "nav-link active" } else { "nav-link" }) href="/sape/supporto" aria-current=[wanted.is_none().then_some("page")] { "Tutte" } }
            @for s in &SupportState::ALL {
                li class="nav-item" { a class=(if wanted == Some(*s) { "nav-link active" } else { "nav-link" }) href=(format!("/sape/supporto?stato={}", s.as_str())) aria-current=[(wanted == Some(*s)).then_some("page")] { (s.label()) } }
            }
        } }
        @if wanted.is_none() && staff { p id="support-waiting" { "In attesa di risposta: " strong { (waiting) } "." } }
        @if requests.is_empty() { p { "Nessuna richiesta." } }
        @for r in requests {
            article class="card mb-3" id=(format!("request-{}", r.id)) { div class="card-body" {
                h2 class="h5 card-title" { (r.comune_name) " — " a href=(format!("/sape/bandi/{}", r.call_id)) { (r.call_identifier) } }
                p class="mb-1" { (badge(r.state)) " " small { "Chiesta il " (fmt::rfc3339(&r.created_at)) } }
                p class="mb-1" { (r.call_title) }
                blockquote class="mb-2" { (r.message) }
                @if let Some(answer) = &r.answer { p { strong { "Risposta: " } (answer) } }
                @if !r.allowed_transitions.is_empty() {
                    @let form = refused_form.filter(|(id, _)| *id == r.id).map(|(_, f)| f.clone()).unwrap_or_else(|| FormState::prefixed(&format!("r{}-", r.id)));
                    (error_summary(&form, &[("reason", "Risposta al Comune")]))
                    form method="post" action=(format!("/sape/supporto/{}/stato", r.id)) novalidate {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="from" value=(r.state.as_str());
                        @if r.allowed_transitions.contains(&SupportState::Declined) {
                            (textarea(&form, "reason", "Risposta al Comune", 2, false, Some("Obbligatoria per non accogliere la richiesta.")))
                        }
                        div class="d-flex flex-wrap gap-2" {
                            @for to in &r.allowed_transitions {
                                button type="submit" name="state" value=(to.as_str()) class=(if *to == SupportState::Accepted { "btn btn-primary" } else { "btn btn-outline-primary" }) {
                                    (match to { SupportState::Accepted => "Accogli", SupportState::Declined => "Non accogliere", SupportState::Withdrawn => "Ritira la richiesta", SupportState::Requested => "Riapri" })
                                    span class="visually-hidden" { " la richiesta di " (r.comune_name) " su " (r.call_identifier) }
                                }
                            }
                        }
                    }
                }
            } }
        }
    };
    Ok(layout::page(
        &state.chrome(Some(identity), "/sape"),
        "Richieste di supporto",
        &body,
    ))
}

#[derive(Debug, Deserialize)]
struct MoveForm {
    csrf: String,
    from: String,
    state: String,
    #[serde(default)]
    reason: String,
}

async fn submit_move(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(form): PageForm<MoveForm>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, &form.csrf)?;
    let to = SupportState::parse(&form.state)
        .ok_or_else(|| AppError::invalid_field("state", "Scegliete una risposta."))?;
    let input = SupportMove {
        state: to,
        from: SupportState::parse(&form.from),
        reason: form.reason.clone(),
    };
    let outcome = support::transition(&state, &identity, id, input).await;
    form::answer(
        outcome,
        |view| {
            layout::redirect_with_flash(
                "/sape/supporto",
                &format!(
                    "Richiesta di {} su {}: {}.",
                    view.comune_name,
                    view.call_identifier,
                    to.label().to_lowercase()
                ),
            )
        },
        async |error| {
            let values = BTreeMap::from([("reason".to_owned(), form.reason)]);
            let refused = FormState::refused(values, error).with_prefix(format!("r{id}-"));
            let requests = support::list(&state, &identity, None, None, 500).await?;
            requests_page(&state, &identity, &requests, None, Some((id, &refused)))
        },
    )
    .await
}
