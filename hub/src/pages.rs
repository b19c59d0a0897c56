//! Server-rendered pages (Bootstrap Italia through `pico_service::web`): the public national
//! dashboard, the best-practice library, and the operators' enrolment area.
//!
//! Charts are plain SVG drawn on the server (no script), each marked as an image with a text
//! alternative and followed by the table of the same figures, so they read with a screen
//! reader and print as they are.

use axum::Form;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::{Markup, html};
use pico_protocol::{KeyId, ProvinceCode, PublicKey};
use pico_service::json::Query;
use pico_service::web::{self, Chrome, NavLink};
use serde::Deserialize;

use crate::db::national::{self, AggregateRow, GroupBy};
use crate::db::practices::{self, PracticeQuery};
use crate::db::registry::{self, ProvinceStatus};
use crate::db::{keys, log};
use crate::error::HubError;
use crate::state::AppState;

/// Cookie carrying the operator token for the operator pages.
const OPERATOR_COOKIE: &str = "pico_operator";

/// The page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(show_dashboard))
        .route("/buone-pratiche", get(show_library))
        .route("/operatore", get(show_operator).post(act_operator))
        .route("/operatore/accesso", get(show_login).post(log_in))
        .merge(crate::appalti::pages::router())
}

pub(crate) fn chrome(current: &str) -> Chrome {
    Chrome {
        site_name: "Pi.Co. — Hub nazionale UPI".into(),
        tagline: "Federazione delle Province italiane".into(),
        nav: vec![
            NavLink::new("Cruscotto nazionale", "/", current == "/"),
            NavLink::new(
                "Appalti SUA",
                crate::appalti::pages::PATH,
                current == crate::appalti::pages::PATH,
            ),
            NavLink::new(
                "Buone pratiche",
                "/buone-pratiche",
                current == "/buone-pratiche",
            ),
            NavLink::new("Area operatori", "/operatore", current == "/operatore"),
        ],
        header_actions: None,
        // The hub keeps its machine endpoints until it serves `/stato` and `/api` pages
        // (`pico_service::web::status_page`, `api_page`).
        footer_links: vec![
            NavLink::new("API (OpenAPI)", "/v1/openapi.json", false),
            NavLink::new("Stato del servizio", "/status", false),
        ],
        about: Some(
            "Hub nazionale della federazione UPI \u{201c}Province & Comuni\u{201d}.".into(),
        ),
    }
}

fn render(title: &str, current: &str, main: &Markup) -> Response {
    Html(web::page(&chrome(current), title, main).into_string()).into_response()
}

/// Renders a failure as a readable page; the cause of a 5xx is logged once, here.
fn error_page(current: &str, error: HubError) -> Response {
    let problem = error.into_problem();
    web::error_page(
        &chrome(current),
        problem.status(),
        problem.detail().unwrap_or("Errore imprevisto."),
    )
}

fn enrolment_label(status: &str) -> &'static str {
    match status {
        "enrolled" => "Aderente",
        "revoked" => "Chiave revocata",
        _ => "Non aderente",
    }
}

/// A horizontal bar chart in SVG, with its text alternative; the caller prints the table.
fn bar_chart(id: &str, title: &str, rows: &[(String, u64)]) -> Markup {
    let max = rows.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let bar_height = 22u64;
    let height = bar_height * rows.len() as u64 + 10;
    let summary = rows
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join("; ");
    html! {
        figure class="my-3" {
            svg id=(id) role="img" aria-label=(format!("{title}. {summary}")) width="100%"
                height=(height) viewBox=(format!("0 0 600 {height}")) preserveAspectRatio="xMinYMin meet" {
                @for (i, (label, value)) in rows.iter().enumerate() {
                    @let y = i as u64 * bar_height + 5;
                    @let width = 380 * value / max;
                    text x="0" y=(y + 15) font-size="13" fill="#1a1a1a" { (label) }
                    rect x="190" y=(y + 2) width=(width.max(1)) height=(bar_height - 6) fill="#0066cc" {}
                    text x=(195 + width) y=(y + 15) font-size="13" fill="#1a1a1a" { (value) }
                }
            }
            figcaption class="small" { (title) " (i valori sono nella tabella che segue)" }
        }
    }
}

fn region_counts(upi: &[ProvinceStatus]) -> Vec<(String, u64, u64)> {
    let mut by_region: std::collections::BTreeMap<&str, (u64, u64)> = Default::default();
    for p in upi {
        let entry = by_region.entry(p.region.as_str()).or_default();
        entry.0 += 1;
        if p.enrolment == "enrolled" {
            entry.1 += 1;
        }
    }
    by_region
        .into_iter()
        .map(|(r, (all, enrolled))| (r.to_owned(), all, enrolled))
        .collect()
}

/// The public national dashboard: the 86 Provinces with status and freshness, and charts.
pub async fn show_dashboard(State(state): State<AppState>) -> Response {
    let cache = state.aggregates.clone();
    let loaded = state
        .db
        .call(move |conn| {
            let provinces = registry::list_status(conn)?;
            let datasets = national::list_datasets(conn)?;
            let mut charts = Vec::new();
            for dataset in &datasets {
                let rows =
                    national::aggregate(conn, &cache, &dataset.name, GroupBy::Region, None, None)?
                        .unwrap_or_default();
                charts.push((dataset.name.clone(), rows));
            }
            let log_size = log::latest_checkpoint(conn)?.map_or(0, |c| c.size);
            Ok::<_, HubError>((provinces, datasets, charts, log_size))
        })
        .await;
    let (provinces, datasets, charts, log_size) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return error_page("/", error),
    };
    let upi: Vec<ProvinceStatus> = provinces.into_iter().filter(|p| p.upi).collect();
    let enrolled = upi.iter().filter(|p| p.enrolment == "enrolled").count();
    let regions = region_counts(&upi);
    let main = html! {
        h1 { "Cruscotto nazionale" }
        div class="row g-3 my-2" {
            div class="col-12 col-md-4" { div class="card card-bg" { div class="card-body" {
                p class="h2 mb-0" id="aderenti" { (enrolled) " / " (upi.len()) }
                p class="mb-0" { "Province aderenti" }
            } } }
            div class="col-12 col-md-4" { div class="card card-bg" { div class="card-body" {
                p class="h2 mb-0" { (datasets.len()) }
                p class="mb-0" { "Dataset nazionali" }
            } } }
            div class="col-12 col-md-4" { div class="card card-bg" { div class="card-body" {
                p class="h2 mb-0" { (log_size) }
                p class="mb-0" { "Voci nel registro di trasparenza (ultimo checkpoint)" }
            } } }
        }

        h2 class="mt-4" id="adesione-per-regione" { "Adesione per regione" }
        (bar_chart("grafico-adesione", "Province aderenti per regione",
            &regions.iter().map(|(r, _, e)| (r.clone(), *e)).collect::<Vec<_>>()))
        table class="table table-sm" aria-describedby="adesione-per-regione" {
            caption { "Province del programma UPI e Province aderenti, per regione" }
            thead { tr { th scope="col" { "Regione" } th scope="col" class="text-end" { "Province" } th scope="col" class="text-end" { "Aderenti" } } }
            tbody { @for (region, all, enrolled) in &regions {
                tr { th scope="row" { (region) } td class="text-end" { (all) } td class="text-end" { (enrolled) } }
            } }
        }

        @for (name, rows) in &charts {
            @let id = format!("dataset-{name}");
            h2 class="mt-4" id=(id) { "Dataset " code { (name) } ": righe per regione" }
            (bar_chart(&format!("grafico-{name}"), &format!("Righe del dataset {name} per regione"),
                &rows.iter().map(|r: &AggregateRow| (r.key.clone(), r.count)).collect::<Vec<_>>()))
            table class="table table-sm" aria-describedby=(id) {
                caption { "Righe del dataset " (name) " per regione" }
                thead { tr { th scope="col" { "Regione" } th scope="col" class="text-end" { "Righe" } } }
                tbody { @for row in rows { tr { th scope="row" { (row.key) } td class="text-end" { (row.count) } } } }
            }
            p { a href=(format!("/v1/datasets/{name}/rows?format=csv&sep=semicolon")) { "Scarica le righe in CSV" } }
        }

        h2 class="mt-4" id="province" { "Le 86 Province" }
        div class="table-responsive" {
            table class="table table-striped" id="tabella-province" {
                caption { "Province del programma UPI, stato di adesione e aggiornamento dei dati" }
                thead { tr {
                    th scope="col" { "Codice" } th scope="col" { "Provincia" } th scope="col" { "Regione" }
                    th scope="col" { "Adesione" } th scope="col" { "Ultimo invio" } th scope="col" class="text-end" { "Voci" }
                } }
                tbody {
                    @for p in &upi {
                        tr {
                            td { (p.code) } th scope="row" { (p.name) } td { (p.region) }
                            td { (enrolment_label(p.enrolment)) }
                            td { @if let Some(at) = &p.last_entry_at { time datetime=(at) { (at) } } @else { "—" } }
                            td class="text-end" { (p.head_seq) }
                        }
                    }
                }
            }
        }
        p class="small" { "Elenco delle Province: " (crate::registry::ATTRIBUTION) ". Dati aperti: "
            a href="/v1/provinces" { "/v1/provinces" } ", " a href="/v1/datasets" { "/v1/datasets" } "." }
    };
    render("Cruscotto nazionale", "/", &main)
}

/// Query of the library page.
#[derive(Debug, Deserialize)]
pub struct LibraryQuery {
    /// Words to search for.
    q: Option<String>,
    /// Module filter.
    module: Option<String>,
}

const MODULES: [(&str, &str); 8] = [
    ("sua", "SUA — Stazione Unica Appaltante"),
    ("sape", "SAPE — Politiche europee"),
    ("sit", "SIT — Servizi innovativi"),
    ("personale", "Personale"),
    ("helpdesk", "Help Desk"),
    ("formazione", "Formazione"),
    ("dati", "Dati"),
    ("community", "Community"),
];

/// The national best-practice library with full-text search.
pub async fn show_library(
    State(state): State<AppState>,
    Query(query): Query<LibraryQuery>,
) -> Response {
    let text = query.q.clone().filter(|q| !q.trim().is_empty());
    let module = query
        .module
        .clone()
        .filter(|m| MODULES.iter().any(|(k, _)| k == m));
    let search = PracticeQuery {
        text: text.clone(),
        module: module.clone(),
        province: None,
        limit: 100,
        offset: 0,
    };
    let found = match state
        .db
        .call(move |conn| practices::search(conn, &search))
        .await
    {
        Ok(found) => found,
        Err(error) => return error_page("/buone-pratiche", HubError::Db(error)),
    };
    let main = html! {
        h1 { "Buone pratiche delle Province" }
        form method="get" action="/buone-pratiche" class="row g-3 my-3" role="search" {
            div class="col-12 col-md-6 form-group" {
                label for="q" class="active" { "Cerca nel testo" }
                input type="search" id="q" name="q" class="form-control" value=(text.as_deref().unwrap_or(""));
            }
            div class="col-12 col-md-4 select-wrapper" {
                label for="module" { "Ambito" }
                select id="module" name="module" {
                    option value="" { "Tutti gli ambiti" }
                    @for (key, label) in MODULES {
                        option value=(key) selected[module.as_deref() == Some(key)] { (label) }
                    }
                }
            }
            div class="col-12 col-md-2 d-flex align-items-end" {
                button type="submit" class="btn btn-primary" { "Cerca" }
            }
        }
        p role="status" { (found.len()) " risultati" }
        ul class="list-unstyled" id="risultati" {
            @for p in &found {
                li class="mb-4" {
                    h2 class="h4" { (p.title) }
                    p class="mb-1" { (p.summary) }
                    p class="small text-muted mb-0" {
                        "Provincia " (p.province) " · ambito " (p.module) " · aggiornata il "
                        time datetime=(p.updated_at) { (p.updated_at) }
                        @if !p.tags.is_empty() { " · " (p.tags.join(", ")) }
                    }
                }
            }
        }
    };
    render("Buone pratiche", "/buone-pratiche", &main)
}

fn operator_token_from_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == OPERATOR_COOKIE)
        .map(|(_, value)| value.to_owned())
}

fn is_operator(state: &AppState, headers: &HeaderMap) -> bool {
    let expected = state.config.operator_token.expose();
    !expected.is_empty()
        && operator_token_from_cookie(headers).is_some_and(|given| {
            given.len() == expected.len()
                && given
                    .bytes()
                    .zip(expected.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
        })
}

/// The login page of the operator area.
pub async fn show_login(State(state): State<AppState>) -> Response {
    if state.config.operator_token.is_empty() {
        return web::error_page(
            &chrome("/operatore"),
            StatusCode::NOT_FOUND,
            "L'area operatori non è attiva su questo hub.",
        );
    }
    let main = html! {
        h1 { "Accesso operatori" }
        form method="post" action="/operatore/accesso" class="my-3" {
            div class="form-group" {
                label for="token" class="active" { "Token operatore" }
                input type="password" id="token" name="token" class="form-control" autocomplete="current-password" required;
            }
            button type="submit" class="btn btn-primary" { "Accedi" }
        }
    };
    render("Accesso operatori", "/operatore", &main)
}

/// The login form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    token: String,
}

/// Checks the token and sets the operator cookie (HttpOnly, SameSite=Strict, which also keeps
/// other sites from posting the operator forms).
pub async fn log_in(State(state): State<AppState>, Form(form): Form<LoginForm>) -> Response {
    let mut headers = HeaderMap::new();
    if let Ok(cookie) = HeaderValue::from_str(&format!("{OPERATOR_COOKIE}={}", form.token)) {
        headers.insert(header::COOKIE, cookie);
    }
    if !is_operator(&state, &headers) {
        return web::error_page(
            &chrome("/operatore"),
            StatusCode::UNAUTHORIZED,
            "Token non valido.",
        );
    }
    let cookie = format!(
        "{OPERATOR_COOKIE}={}; Path=/operatore; HttpOnly; SameSite=Strict",
        form.token
    );
    let mut response = Redirect::to("/operatore").into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// The operator area: enrolment and revocation forms, keys and equivocations.
pub async fn show_operator(State(state): State<AppState>, headers: HeaderMap) -> Response {
    operator_page(&state, &headers, None).await
}

async fn operator_page(
    state: &AppState,
    headers: &HeaderMap,
    message: Option<(bool, String)>,
) -> Response {
    if !is_operator(state, headers) {
        return Redirect::to("/operatore/accesso").into_response();
    }
    let loaded = state
        .db
        .call(|conn| {
            Ok::<_, HubError>((
                registry::list_status(conn)?,
                keys::list(conn)?,
                log::list_equivocations(conn)?,
            ))
        })
        .await;
    let (provinces, key_rows, equivocations) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return error_page("/operatore", error),
    };
    let main = html! {
        h1 { "Area operatori" }
        @if let Some((ok, text)) = &message {
            div class=(if *ok { "alert alert-success" } else { "alert alert-danger" }) role="alert" { (text) }
        }
        h2 { "Adesione di una Provincia" }
        p { "Dopo il protocollo di adesione, registrare la chiave pubblica del nodo (" code { "pico-node key show" } ")." }
        form method="post" action="/operatore" class="row g-3 mb-4" {
            input type="hidden" name="action" value="enrol";
            div class="col-12 col-md-4 select-wrapper" {
                label for="province" { "Provincia" }
                select id="province" name="province" required {
                    @for p in provinces.iter().filter(|p| p.upi) {
                        option value=(p.code) { (p.code) " — " (p.name) }
                    }
                }
            }
            div class="col-12 col-md-6 form-group" {
                label for="key" class="active" { "Chiave pubblica (ed25519:…)" }
                input type="text" id="key" name="key" class="form-control" required spellcheck="false";
            }
            div class="col-12 col-md-2 d-flex align-items-end" { button type="submit" class="btn btn-primary" { "Registra" } }
        }
        h2 { "Chiavi" }
        div class="table-responsive" { table class="table table-sm" {
            caption { "Chiavi registrate, con il primo numero di voce valido e l'eventuale revoca" }
            thead { tr { th scope="col" { "Provincia" } th scope="col" { "Identificativo" } th scope="col" { "Valida da" } th scope="col" { "Revocata da" } th scope="col" { "Origine" } th scope="col" { "Azione" } } }
            tbody { @for k in &key_rows { tr {
                td { (k.province) } td { code { (k.kid) } } td { (k.valid_from) }
                td { @if let Some(r) = k.revoked_from { (r) } @else { "—" } } td { (k.origin) }
                td { @if k.revoked_from.is_none() {
                    form method="post" action="/operatore" {
                        input type="hidden" name="action" value="revoke";
                        input type="hidden" name="province" value=(k.province);
                        input type="hidden" name="kid" value=(k.kid);
                        button type="submit" class="btn btn-outline-danger btn-sm" { "Revoca dalla prossima voce" }
                    }
                } }
            } } }
        } }
        h2 { "Equivocazioni" }
        @if equivocations.is_empty() { p { "Nessuna equivocazione registrata." } } @else {
            table class="table table-sm" {
                caption { "Voci diverse firmate con lo stesso numero: entrambe sono conservate come prova" }
                thead { tr { th scope="col" { "Provincia" } th scope="col" { "Voce" } th scope="col" { "Hash accettato" } th scope="col" { "Hash ricevuto" } th scope="col" { "Rilevata" } } }
                tbody { @for e in &equivocations { tr {
                    td { (e.province) } td { (e.seq) } td { code { (e.stored_hash) } } td { code { (e.received_hash) } } td { (e.detected_at) }
                } } }
            }
        }
    };
    let mut response = render("Area operatori", "/operatore", &main);
    if message.as_ref().is_some_and(|(ok, _)| !ok) {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    response
}

/// A form of the operator area.
#[derive(Debug, Deserialize)]
pub struct OperatorForm {
    action: String,
    province: String,
    key: Option<String>,
    kid: Option<String>,
}

/// Enrols or revokes a key from the operator forms.
pub async fn act_operator(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<OperatorForm>,
) -> Response {
    if !is_operator(&state, &headers) {
        return Redirect::to("/operatore/accesso").into_response();
    }
    let Ok(province) = ProvinceCode::parse(&form.province) else {
        return operator_page(
            &state,
            &headers,
            Some((false, "Codice di Provincia non valido.".into())),
        )
        .await;
    };
    let outcome = match form.action.as_str() {
        "enrol" => match form
            .key
            .as_deref()
            .unwrap_or("")
            .trim()
            .parse::<PublicKey>()
        {
            Err(e) => Err(format!("Chiave non valida: {e}")),
            Ok(key) => {
                let _writer = state.writer.lock().await;
                state
                    .db
                    .call(move |conn| {
                        Ok::<_, HubError>(
                            keys::enrol(conn, province, &key).map_err(|e| e.to_string()),
                        )
                    })
                    .await
                    .map_err(|e| {
                        let _ = e.into_problem();
                        "Errore interno; è stato registrato.".to_owned()
                    })
                    .and_then(|r| r)
                    .map(|record| {
                        format!(
                            "Chiave {} registrata per la Provincia {} dalla voce {}.",
                            record.key.key_id(),
                            province,
                            record.valid_from
                        )
                    })
            }
        },
        "revoke" => match form.kid.as_deref().map(KeyId::parse) {
            Some(Ok(kid)) => {
                let _writer = state.writer.lock().await;
                state
                    .db
                    .call(move |conn| {
                        Ok::<_, HubError>(
                            keys::revoke(conn, province, &kid, None, "revocata dall'operatore")
                                .map_err(|e| e.to_string()),
                        )
                    })
                    .await
                    .map_err(|e| {
                        let _ = e.into_problem();
                        "Errore interno; è stato registrato.".to_owned()
                    })
                    .and_then(|r| r)
                    .map(|from| format!("Chiave revocata dalla voce {from}."))
            }
            _ => Err("Identificativo di chiave non valido.".into()),
        },
        _ => Err("Azione sconosciuta.".into()),
    };
    if let Ok(text) = &outcome {
        tracing::info!(node.province = %province, action = %form.action, "operator action");
        return operator_page(&state, &headers, Some((true, text.clone()))).await;
    }
    operator_page(
        &state,
        &headers,
        Some((false, outcome.err().unwrap_or_default())),
    )
    .await
}
