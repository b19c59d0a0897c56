//! Pages of the best practices: `/buone-pratiche` (list with a word search) and
//! `/buone-pratiche/{id}` (the document, its attachments). Everyone sees public documents;
//! Province staff also see drafts, marked as such. The Markdown body is shown as plain text
//! (escaped, line breaks kept).

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use maud::{Markup, html};
use pico_service::json::{Path, Query};
use pico_service::web as layout;
use serde::Deserialize;

use super::HubStatus;
use crate::auth::Identity;
use crate::dati::Federation;
use crate::error::AppError;
use crate::state::AppState;

/// The page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/buone-pratiche", get(show_list))
        .route("/buone-pratiche/{id}", get(show_practice))
}

#[derive(Debug, Deserialize)]
struct SearchForm {
    q: Option<String>,
}

fn module_label(module: &str) -> &'static str {
    match module {
        "sua" => "Stazione Unica Appaltante",
        "sape" => "Politiche europee",
        "sit" => "Servizi innovativi territoriali",
        "personale" => "Personale",
        "helpdesk" => "Help Desk",
        "formazione" => "Formazione",
        "dati" => "Dati e indicatori",
        _ => "Community",
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
    let body = html! {
        h1 { "Buone pratiche" }
        p class="lead" { "Esperienze e documenti della " (state.province.name) " per i Comuni e le altre Province." }
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
                            p class="mb-1" { (badges(item.public, item.federation, item.hub_status)) small { (module_label(&item.module)) " · aggiornata il " (item.updated_at) } }
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
    let body = html! {
        nav aria-label="Percorso" { a href="/buone-pratiche" { "← Tutte le buone pratiche" } }
        h1 { (practice.title) }
        p { (badges(practice.public, practice.federation, practice.hub_status)) small { (module_label(&practice.module)) " · lingua " (practice.language) " · aggiornata il " (practice.updated_at) } }
        @if !practice.summary.is_empty() { p class="lead" { (practice.summary) } }
        @if !practice.comuni.is_empty() { p { "Comuni coinvolti: " (practice.comuni.join(", ")) } }
        @if !practice.tags.is_empty() { p { "Parole chiave: " (practice.tags.join(", ")) } }
        div class="my-4" style="white-space: pre-wrap" { (practice.body) }
        @if !practice.attachments.is_empty() {
            h2 class="h4" { "Allegati" }
            ul {
                @for a in &practice.attachments {
                    li {
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
