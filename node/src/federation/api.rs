//! Publishing status for administrators: `GET /v1/federation/status` (JSON) and the page
//! `/admin/federation` (queue, last success and error, hub reachability, pinned hub key,
//! head, receipts, verified entries, alarms).

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use maud::{Markup, html};
use pico_service::Json;
use pico_service::web as layout;
use serde::Serialize;

use crate::auth::Identity;
use crate::auth::policy::{self, Action};
use crate::db::federation::{self as store, Alarm, Status};
use crate::error::AppError;
use crate::state::AppState;

/// The JSON route (merged under the API's CSRF guard).
pub fn api_router() -> Router<AppState> {
    Router::new().route("/v1/federation/status", get(get_federation_status))
}

/// The page route (merged with the other pages).
pub fn page_router() -> Router<AppState> {
    Router::new().route("/admin/federation", get(show_federation))
}

/// Publishing status and recent alarms.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FederationStatus {
    /// The configured hub, empty when publishing is off.
    pub hub_url: String,
    /// Whether a hub is configured.
    pub publishing: bool,
    /// Counters and state.
    #[serde(flatten)]
    pub status: Status,
    /// The latest alarms, open first.
    pub alarms: Vec<Alarm>,
}

async fn load(state: &AppState) -> Result<FederationStatus, AppError> {
    let (status, alarms) = state
        .db
        .call(|conn| {
            let status = store::status(conn)?;
            let mut alarms = store::alarms(conn, true, 50)?;
            alarms.extend(
                store::alarms(conn, false, 20)?
                    .into_iter()
                    .filter(|a| a.resolved_at.is_some()),
            );
            Ok::<_, AppError>((status, alarms))
        })
        .await?;
    let hub_url = state.config.federation.hub_url.trim().to_owned();
    Ok(FederationStatus {
        publishing: !hub_url.is_empty(),
        hub_url,
        status,
        alarms,
    })
}

/// Publishing status (administrators).
#[utoipa::path(get, path = "/v1/federation/status", tag = "federation", security(("bearer" = [])),
    responses((status = 200, body = FederationStatus)))]
pub async fn get_federation_status(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Json<FederationStatus>, AppError> {
    policy::authorize(&identity, Action::ViewFederation)?;
    Ok(Json(load(&state).await?))
}

fn or_dash(value: Option<&str>) -> String {
    value.unwrap_or("—").to_owned()
}

/// An RFC 3339 time as Italian civil time, or a dash.
fn time_or_dash(value: Option<&str>) -> String {
    value.map_or_else(|| "—".to_owned(), pico_service::format::rfc3339)
}

async fn show_federation(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Markup, AppError> {
    policy::authorize(&identity, Action::ViewFederation)?;
    let view = load(&state).await?;
    let s = &view.status;
    let body = html! {
        h1 { "Pubblicazione verso l'hub UPI" }
        @if !view.publishing {
            div class="alert alert-warning" role="alert" {
                "La pubblicazione è disattivata: nessun hub configurato (" code { "[federation] hub_url" } "). "
                "Le modifiche ai dataset federati sono firmate e restano in coda."
            }
        }
        @if let Some(reason) = &s.blocked {
            div class="alert alert-danger" role="alert" {
                strong { "Firma bloccata. " } (reason) ". Le modifiche ai dataset federati sono rifiutate finché un amministratore non esegue "
                code { "pico-node federation resync" } "."
            }
        }
        @if let Some(reason) = &s.halted {
            div class="alert alert-danger" role="alert" { strong { "Invio fermato. " } (reason) }
        }
        div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole" { table class="table" {
            caption { "Stato della pubblicazione" }
            tbody {
                tr { th scope="row" { "Indirizzo dell'hub" } td { (if view.publishing { view.hub_url.clone() } else { "—".to_owned() }) } }
                tr { th scope="row" { "Hub raggiungibile" } td { (if s.hub_reachable { "sì" } else { "no" }) } }
                tr { th scope="row" { "Impronta della chiave dell'hub registrata all'adesione" } td { code { (or_dash(s.hub_kid.as_deref())) } } }
                tr { th scope="row" { "Ultimo invio riuscito" } td { (time_or_dash(s.last_success_at.as_deref())) } }
                tr { th scope="row" { "Ultimo errore" } td { (or_dash(s.last_error.as_deref())) " " small { (time_or_dash(s.last_error_at.as_deref())) } } }
                tr { th scope="row" { "Modifiche in attesa di invio" } td { (s.pending) } }
                tr { th scope="row" { "Modifiche firmate dalla Provincia" } td { (s.head_seq) } }
                tr { th scope="row" { "Conferme di ricezione dell'hub" } td { (s.receipts) } }
                tr { th scope="row" { "Modifiche verificate nel registro pubblico dell'hub" } td { (s.verified) } }
                tr { th scope="row" { "Ultima verifica del registro pubblico" } td { (s.checkpoint_size.map_or_else(|| "—".to_owned(), |n| format!("{n} voci"))) " " small { (time_or_dash(s.checkpoint_at.as_deref())) } } }
                tr { th scope="row" { "Allarmi aperti" } td { (s.open_alarms) } }
            }
        } }
        h2 { "Allarmi" }
        @if view.alarms.is_empty() {
            p { "Nessun allarme." }
        } @else {
            div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole" { table class="table table-sm" {
                thead { tr { th scope="col" { "Quando" } th scope="col" { "Tipo" } th scope="col" { "Dettaglio" } th scope="col" { "Risolto" } } }
                tbody {
                    @for alarm in &view.alarms {
                        tr {
                            td { (pico_service::format::rfc3339(&alarm.at)) }
                            td { code { (alarm.kind) } }
                            td { (alarm.detail) }
                            td { (time_or_dash(alarm.resolved_at.as_deref())) }
                        }
                    }
                }
            } }
        }
    };
    Ok(layout::page(
        &state.chrome(Some(&identity), "/admin/federation"),
        "Pubblicazione",
        &body,
    ))
}
