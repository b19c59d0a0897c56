//! Server-rendered pages (Bootstrap Italia through `pico_service::web`): what UPI staff and
//! the public read on the hub. The national home ([`home`]), the SUA dashboards
//! (`crate::appalti::pages`), the EU funds (`crate::sape::pages`), the best-practice library and its documents ([`library`]), the
//! transparency log explained ([`transparency`]), the operators' enrolment area
//! ([`operator`]), and the page that answers an address the hub does not know.
//!
//! Every word is Italian, dates `dd/mm/yyyy` in Europe/Rome and numbers in Italian notation
//! ([`crate::format`]); charts are drawn in HTML ([`charts`]) and followed by their table.

pub mod charts;
pub mod home;
pub mod library;
pub mod operator;
pub mod transparency;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use pico_service::Problem;
use pico_service::web::{self, Chrome, NavLink};

use crate::error::HubError;
use crate::state::AppState;

/// The page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home::show_home))
        .route(library::PATH, get(library::show_library))
        .route(
            &format!("{}/{{province}}/{{id}}", library::PATH),
            get(library::show_practice),
        )
        .route(transparency::PATH, get(transparency::show_log))
        .route(
            operator::PATH,
            get(operator::show_operator).post(operator::act_operator),
        )
        .route(
            operator::LOGIN_PATH,
            get(operator::show_login).post(operator::log_in),
        )
        .route("/stato", get(show_status))
        .route("/api", get(show_api))
        .merge(crate::appalti::pages::router())
        .merge(crate::sape::pages::router())
        .merge(crate::formazione::pages::router())
        .merge(crate::sit::pages::router())
        .merge(crate::bes::pages::router())
        .merge(crate::report::pages::router())
}

/// `GET /stato`: the human status page (machines read `/status`, `/readyz`, `/metrics`).
async fn show_status(State(state): State<AppState>) -> Response {
    let ready = state.db.is_ready().await;
    web::status_page(&chrome(&state, "/stato"), ready, env!("CARGO_PKG_VERSION"))
}

/// `GET /api`: what the hub's public API offers and where its OpenAPI document is.
async fn show_api(State(state): State<AppState>) -> Markup {
    web::api_page(
        &chrome(&state, "/api"),
        "/v1/openapi.json",
        "L'hub offre a chiunque i dati nazionali pubblicati dalle Province (dataset, appalti, fondi europei, formazione, buone pratiche e il registro di trasparenza con le sue prove), e alle Province l'interfaccia della federazione, con cui i loro nodi inviano i dati firmati.",
    )
}

/// The header, navigation and footer of every hub page; `current` is the section's path.
/// The operators' area is in the menu only where it is active (an operator token is set),
/// so that no menu item leads to a page that is not there.
pub(crate) fn chrome(state: &AppState, current: &str) -> Chrome {
    let mut nav = vec![
        NavLink::new("Quadro nazionale", "/", current == "/"),
        NavLink::new(
            "Appalti SUA",
            crate::appalti::pages::PATH,
            current == crate::appalti::pages::PATH,
        ),
        NavLink::new(
            "Fondi europei",
            crate::sape::pages::PATH,
            current == crate::sape::pages::PATH || current == crate::sape::pages::PROJECTS_PATH,
        ),
        NavLink::new(
            "Formazione",
            crate::formazione::pages::PATH,
            current == crate::formazione::pages::PATH,
        ),
        NavLink::new(
            "Servizi SIT",
            crate::sit::pages::PATH,
            current == crate::sit::pages::PATH || current == crate::sit::pages::CATALOGUE_PATH,
        ),
        NavLink::new(
            "Benessere (BES)",
            crate::bes::pages::PATH,
            crate::bes::pages::covers(current),
        ),
        NavLink::new(
            "Rapporto sui dati",
            crate::report::pages::PATH,
            current == crate::report::pages::PATH,
        ),
        NavLink::new("Buone pratiche", library::PATH, current == library::PATH),
        NavLink::new(
            "Registro di trasparenza",
            transparency::PATH,
            current == transparency::PATH,
        ),
    ];
    if !state.config.operator_token.is_empty() {
        nav.push(NavLink::new(
            "Area operatori",
            operator::PATH,
            current == operator::PATH,
        ));
    }
    Chrome {
        site_name: "Pi.Co. — Hub nazionale UPI".into(),
        tagline: "Federazione delle Province italiane".into(),
        nav,
        header_actions: None,
        // The footer's default links: the hub serves the `/stato` and `/api` pages too.
        footer_links: Vec::new(),
        about: Some(
            "Hub nazionale della federazione UPI \u{201c}Province & Comuni\u{201d}.".into(),
        ),
    }
}

/// A whole page with the hub's chrome.
pub(crate) fn render(state: &AppState, title: &str, current: &str, main: &Markup) -> Response {
    Html(web::page(&chrome(state, current), title, main).into_string()).into_response()
}

/// The Italian title of an error page.
fn status_title(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "Richiesta non valida",
        401 => "Accesso non autorizzato",
        403 => "Accesso negato",
        404 => "Pagina non trovata",
        413 => "Richiesta troppo grande",
        422 => "Dati non validi",
        429 => "Troppe richieste",
        503 => "Servizio momentaneamente non disponibile",
        _ if status.is_server_error() => "Errore del servizio",
        _ => "Errore",
    }
}

/// A readable Italian page for a failure, with the navigation, so the reader can go on.
pub(crate) fn error_page(
    state: &AppState,
    current: &str,
    status: StatusCode,
    detail: &str,
) -> Response {
    let title = status_title(status);
    let main = html! {
        h1 { (title) }
        div class="alert alert-danger" role="alert" { p class="mb-0" { (detail) } }
        p { "Codice di stato HTTP: " (status.as_u16()) "." }
        p { a href="/" { "Torna al quadro nazionale" } }
    };
    (status, render(state, title, current, &main)).into_response()
}

/// Renders a hub failure as a page; the cause of a 5xx is logged once, in `into_problem`.
pub(crate) fn failure_page(state: &AppState, current: &str, error: HubError) -> Response {
    let problem = error.into_problem();
    let detail = if problem.status().is_server_error() {
        "Si è verificato un errore imprevisto; è stato registrato. Riprovare più tardi."
    } else {
        problem.detail().unwrap_or("Richiesta non valida.")
    };
    error_page(state, current, problem.status(), detail)
}

/// What the hub answers for an address it does not know: a problem document under the API,
/// a page with the navigation everywhere else.
pub async fn show_not_found(State(state): State<AppState>, uri: Uri) -> Response {
    if uri.path().starts_with("/v1/") {
        return Problem::not_found(format!("nessuna risorsa all'indirizzo {}", uri.path()))
            .into_response();
    }
    let main = html! {
        h1 { "Pagina non trovata" }
        p { "L'indirizzo " code { (uri.path()) } " non corrisponde a nessuna pagina dell'hub." }
        p { "Da qui si può andare a:" }
        ul {
            li { a href="/" { "il quadro nazionale delle Province" } }
            li { a href=(crate::appalti::pages::PATH) { "gli appalti delle Stazioni Uniche Appaltanti" } }
            li { a href=(crate::sape::pages::PATH) { "i fondi europei delle Province e dei Comuni" } }
            li { a href=(crate::formazione::pages::PATH) { "la formazione del personale e i suoi obiettivi" } }
            li { a href=(crate::sit::pages::PATH) { "i servizi innovativi delle Province e il loro catalogo" } }
            li { a href=(crate::bes::pages::PATH) { "il benessere equo e sostenibile delle Province (BES dell'Istat)" } }
            li { a href=(library::PATH) { "la biblioteca delle buone pratiche" } }
            li { a href=(transparency::PATH) { "il registro di trasparenza" } }
        }
    };
    (
        StatusCode::NOT_FOUND,
        render(&state, "Pagina non trovata", "", &main),
    )
        .into_response()
}

/// Percent-encodes a query value (regions have spaces, apostrophes and slashes).
pub(crate) fn url_encode(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `base` with the `pairs` that have a value as its query, each value percent-encoded.
pub(crate) fn link(base: &str, pairs: &[(&str, Option<impl AsRef<str>>)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .filter_map(|(name, value)| {
            value
                .as_ref()
                .map(|v| format!("{name}={}", url_encode(v.as_ref())))
        })
        .collect();
    if query.is_empty() {
        base.to_owned()
    } else {
        let joiner = if base.contains('?') { '&' } else { '?' };
        format!("{base}{joiner}{}", query.join("&"))
    }
}

/// The links that download a table from the API at `base` with the filters `pairs`: CSV,
/// CSV for spreadsheets in Italian, JSON.
pub(crate) fn download_links(base: &str, pairs: &[(&str, Option<impl AsRef<str>>)]) -> Markup {
    let joiner = if base.contains('?') { '&' } else { '?' };
    let csv = link(&format!("{base}{joiner}format=csv"), pairs);
    html! {
        a href=(csv) { "CSV" } " · "
        a href=(format!("{csv}&sep=semicolon&bom=1")) { "CSV con punto e virgola (fogli di calcolo in italiano)" } " · "
        a href=(link(base, pairs)) { "JSON" }
    }
}

/// A wrapper that lets a wide table scroll sideways on a narrow screen, reachable with the
/// keyboard (a scrolling region must take focus) and named for screen readers. It is the
/// containing block of the visually hidden texts inside, which would otherwise stick out of
/// the page at 390 px.
pub(crate) fn scroll_table(label: &str, table: &Markup) -> Markup {
    html! {
        div class="table-responsive position-relative" role="region" aria-label=(label) tabindex="0" { (table) }
    }
}
