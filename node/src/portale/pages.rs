//! The Portale's pages: the public home, the list of Comuni and each Comune's page, and the
//! sitemap and robots file for search engines. Every public page has its title, a
//! description and its canonical address built from the node's configured public URL.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use pico_service::format as fmt;
use pico_service::json::Path;
use pico_service::web::{self as layout, PageMeta};

use crate::auth::Identity;
use crate::community::db as practices;
use crate::dati::{Dataset, Federation};
use crate::db::{self, datasets};
use crate::error::AppError;
use crate::modules::{Audience, Registry};
use crate::portale::cacheable;
use crate::sit::db::{ActiveService, ComuneServices, MeasureRow, PlatformRow, ServiceRow};
use crate::sit::ops::ServiceView;
use crate::sit::population;
use crate::sit::{Platform, pages as sit_pages};
use crate::state::AppState;
use crate::web::breadcrumb;

/// How many of the latest best practices the home shows.
const HOME_PRACTICES: u32 = 5;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(show_home))
        .route("/comuni", get(show_comuni))
        .route("/comuni/{code}", get(show_comune))
        .route("/sitemap.xml", get(sitemap))
        .route("/robots.txt", get(robots))
}

/// The node's public base URL, without the trailing slash.
pub fn base_url(state: &AppState) -> String {
    state.config.public_url.trim_end_matches('/').to_owned()
}

/// What search engines read of the page at `path`.
pub fn meta(state: &AppState, path: &str, description: impl Into<String>) -> PageMeta {
    PageMeta {
        description: description.into(),
        canonical: Some(format!("{}{path}", base_url(state))),
    }
}

fn public_page(
    state: &AppState,
    identity: &Identity,
    current: &str,
    title: &str,
    meta: &PageMeta,
    body: &Markup,
) -> Markup {
    layout::page_with_meta(
        &state.chrome(Some(identity), current),
        title,
        Some(meta),
        body,
    )
}

/// Everything the home shows, read in one database call.
struct HomeData {
    services: Vec<ServiceRow>,
    practices: Vec<practices::PracticeRow>,
    datasets: Vec<Dataset>,
    comuni: Vec<ComuneServices>,
}

async fn show_home(
    State(state): State<AppState>,
    identity: Identity,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let data = state
        .db
        .call(|conn| {
            Ok::<_, AppError>(HomeData {
                services: crate::sit::db::list_services(conn, false)?,
                practices: practices::list(conn, false, &[], None, HOME_PRACTICES)?,
                datasets: datasets::list(conn)?,
                comuni: crate::sit::db::comuni_with_active_services(conn)?,
            })
        })
        .await?;
    let province = &state.province.name;
    let signed_in = identity.user.is_some();
    let services: Vec<ServiceView> = data.services.into_iter().map(ServiceView::from).collect();
    let body = html! {
        h1 { (province) " — portale dei servizi ai Comuni" }
        p class="lead" { "Il nodo Pi.Co. della " (province) " offre ai suoi " (data.comuni.len()) " Comuni i servizi associati della Provincia: il catalogo dei servizi digitali condivisi, le gare della Stazione Unica Appaltante, l'assistenza, la formazione, le buone pratiche e i dati aperti." }
        @if signed_in {
            p { a class="btn btn-primary" href="/dashboard" { "Vai al tuo cruscotto" } }
        } @else {
            p { "Il personale della Provincia e dei Comuni " a href="/login" { "accede con le proprie credenziali" } "; le pagine di questo portale sono aperte a tutti." }
        }
        section aria-labelledby="servizi" class="my-4" {
            h2 id="servizi" { "Servizi" }
            div class="row" {
                @for card in state.modules.iter().filter_map(|kit| kit.home) {
                    div class="col-12 col-md-6 col-lg-3 mb-3" {
                        div class="card card-bg h-100" { div class="card-body" {
                            h3 class="card-title h5" { a href=(card.href) { (card.title) } }
                            p class="card-text" { (card.text) }
                        } }
                    }
                }
            }
        }
        section aria-labelledby="catalogo" class="my-4" {
            h2 id="catalogo" { "Catalogo dei servizi innovativi" }
            p {
                "I servizi digitali condivisi che la Provincia offre ai Comuni, con i livelli di servizio promessi. "
                a href="/sit" { "Il catalogo completo" } "; in formato aperto CPSV-AP_IT: "
                a href="/sit/catalogo.ttl" { "Turtle" } " · " a href="/sit/catalogo.jsonld" { "JSON-LD" } "."
            }
            @if services.is_empty() {
                p id="portale-no-services" { "Il catalogo non ha ancora servizi." }
            } @else {
                ul class="list-unstyled" id="portale-services" {
                    @for s in &services {
                        li class="mb-3" {
                            p class="h5 mb-1" { a href=(format!("/sit/servizi/{}", s.code)) { (s.record.name) } }
                            p class="mb-0" { (s.record.category.label()) " · " (sit_pages::audience_text(s)) " · " (sit_pages::cost_text(s)) }
                        }
                    }
                }
            }
        }
        section aria-labelledby="pratiche" class="my-4" {
            h2 id="pratiche" { "Buone pratiche" }
            @if data.practices.is_empty() {
                p { "La Provincia non ha ancora pubblicato buone pratiche." }
            } @else {
                ul id="portale-practices" {
                    @for p in &data.practices {
                        li { a href=(format!("/buone-pratiche/{}", p.id)) { (p.title) } " (" (fmt::unix_date(p.updated_at)) ")" }
                    }
                }
            }
            p { a href="/buone-pratiche" { "Tutte le buone pratiche" } }
        }
        section aria-labelledby="dati" class="my-4" {
            h2 id="dati" { "Dati aperti" }
            @if data.datasets.is_empty() {
                p { "Il nodo non pubblica ancora dataset." }
            } @else {
                div class="table-responsive" tabindex="0" role="region" aria-label="Dataset del nodo, tabella scorrevole" {
                    table class="table table-sm" id="portale-datasets" {
                        caption { "Dataset pubblicati dal nodo (dati in JSON dall'API pubblica)" }
                        thead { tr { th scope="col" { "Dataset" } th scope="col" { "Righe" } th scope="col" { "Nel quadro nazionale" } th scope="col" { "Dati" } } }
                        tbody {
                            @for d in &data.datasets {
                                tr {
                                    td { (d.title) }
                                    td { (fmt::integer(d.row_count)) }
                                    td { @if d.federation == Federation::National { "Sì" } @else { "No" } }
                                    td { a href=(format!("/v1/datasets/{}/rows", d.name)) { "Righe di " (d.title) } }
                                }
                            }
                        }
                    }
                }
            }
            p { "Tutte le interfacce del nodo sono descritte nella " a href="/api" { "documentazione dell'API" } "." }
        }
        section aria-labelledby="comuni" class="my-4" {
            h2 id="comuni" { "Comuni" }
            p { "Per ogni Comune, i servizi della Provincia che usa e il suo quadro digitale: " a href="/comuni" { "elenco dei " (data.comuni.len()) " Comuni" } "." }
            (comuni_table(&data.comuni, "Comuni della Provincia"))
        }
    };
    let description = format!(
        "Portale della {province}: i servizi ai Comuni, il catalogo dei servizi digitali condivisi, le buone pratiche, i dati aperti e il quadro digitale di ogni Comune."
    );
    let page = public_page(
        &state,
        &identity,
        "/",
        "Portale dei servizi ai Comuni",
        &meta(&state, "/", description),
        &body,
    );
    Ok(cacheable(&headers, page.into_response()))
}

fn comuni_table(comuni: &[ComuneServices], caption: &str) -> Markup {
    html! {
        div class="table-responsive" tabindex="0" role="region" aria-label=(format!("{caption}, tabella scorrevole")) {
            table class="table table-sm" {
                caption { (caption) " (fonte della popolazione: Istat)" }
                thead { tr {
                    th scope="col" { "Comune" } th scope="col" { "Codice ISTAT" }
                    th scope="col" class="text-end" { "Abitanti" } th scope="col" class="text-end" { "Servizi in uso" }
                } }
                tbody {
                    @for c in comuni {
                        tr {
                            td { a href=(format!("/comuni/{}", c.code)) { (c.name) } }
                            td { (c.code) }
                            td class="text-end" { (residents_text(&c.code)) }
                            td class="text-end" { (c.active) }
                        }
                    }
                }
            }
        }
    }
}

fn residents_text(code: &str) -> String {
    population::residents(code).map_or_else(
        || "—".to_owned(),
        |r| fmt::integer(i64::try_from(r.count).unwrap_or(i64::MAX)),
    )
}

async fn show_comuni(
    State(state): State<AppState>,
    identity: Identity,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let comuni = state
        .db
        .call(|conn| Ok::<_, AppError>(crate::sit::db::comuni_with_active_services(conn)?))
        .await?;
    let province = &state.province.name;
    let title = format!("I Comuni della {province}");
    let body = html! {
        (breadcrumb(&[("Home", "/")], "Comuni"))
        h1 { (title) }
        p { "Per ciascuno dei " (comuni.len()) " Comuni: gli abitanti (Istat), quanti servizi della Provincia usa e, nella sua pagina, quali e il suo quadro digitale." }
        (comuni_table(&comuni, &title))
    };
    let description = format!(
        "I {} Comuni della {province}, con la popolazione residente e i servizi della Provincia che ciascuno usa.",
        comuni.len()
    );
    let page = public_page(
        &state,
        &identity,
        "/comuni",
        &title,
        &meta(&state, "/comuni", description),
        &body,
    );
    Ok(cacheable(&headers, page.into_response()))
}

/// What a Comune's page shows, read in one database call.
struct ComuneData {
    name: String,
    services: Vec<ActiveService>,
    platforms: Vec<PlatformRow>,
    measures: Vec<MeasureRow>,
}

async fn show_comune(
    State(state): State<AppState>,
    identity: Identity,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::NotFound);
    }
    let key = code.clone();
    let data = state
        .db
        .call(move |conn| {
            let name = db::comuni::name_of(conn, &key)?.ok_or(AppError::NotFound)?;
            Ok::<_, AppError>(ComuneData {
                name,
                services: crate::sit::db::active_services_of(conn, &key)?,
                platforms: crate::sit::db::platforms(conn, Some(&key))?,
                measures: crate::sit::db::measures(conn, Some(&key))?,
            })
        })
        .await?;
    let title = format!("Comune di {}", data.name);
    let residents = population::residents(&code);
    let body = html! {
        (breadcrumb(&[("Home", "/"), ("Comuni", "/comuni")], &data.name))
        h1 { (title) }
        p id="comune-facts" {
            "Codice ISTAT " (code)
            @if let Some(r) = residents {
                " · " (fmt::integer(i64::try_from(r.count).unwrap_or(i64::MAX))) " abitanti al 1° gennaio " (r.year) " (fonte Istat)"
            }
            "."
        }
        section aria-labelledby="servizi-comune" class="my-4" {
            h2 id="servizi-comune" { "Servizi della Provincia in uso" }
            @if data.services.is_empty() {
                p id="comune-no-services" { "Il Comune non usa ancora servizi del " a href="/sit" { "catalogo dei servizi innovativi" } "." }
            } @else {
                div class="table-responsive" tabindex="0" role="region" aria-label="Servizi in uso, tabella scorrevole" {
                    table class="table table-sm" id="comune-services" {
                        caption { "Servizi con adesione attiva" }
                        thead { tr { th scope="col" { "Servizio" } th scope="col" { "Categoria" } th scope="col" { "In uso dal" } } }
                        tbody {
                            @for s in &data.services {
                                tr {
                                    td {
                                        a href=(format!("/sit/servizi/{}", s.code)) { (s.name) }
                                        @if s.withdrawn { " " span class="badge bg-secondary" { "Ritirato dal catalogo" } }
                                    }
                                    td { (s.category.label()) }
                                    td { (s.start_date.as_deref().map_or_else(|| "—".to_owned(), fmt::iso_date)) }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="quadro" class="my-4" {
            h2 id="quadro" { "Quadro digitale" }
            p { "Le piattaforme nazionali che il Comune usa, come le registra l'ufficio SIT della Provincia con il Comune." }
            div class="table-responsive" tabindex="0" role="region" aria-label="Piattaforme nazionali, tabella scorrevole" {
                table class="table table-sm" id="comune-platforms" {
                    caption { "Piattaforme nazionali" }
                    thead { tr { th scope="col" { "Piattaforma" } th scope="col" { "In uso" } } }
                    tbody {
                        @for platform in Platform::ALL {
                            tr {
                                th scope="row" { (platform.label()) }
                                td {
                                    @match data.platforms.iter().find(|p| p.platform == platform) {
                                        Some(p) => { "Sì, dal " (fmt::iso_date(&p.since)) }
                                        None => { "Non registrata" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h3 class="h5" { "Misure PNRR “PA digitale 2026”" }
            @if data.measures.is_empty() {
                p id="comune-no-measures" { "Nessuna candidatura registrata." }
            } @else {
                ul id="comune-measures" {
                    @for m in &data.measures {
                        li {
                            (m.measure.label()) ": " (m.status.label())
                            @if let Some(cents) = m.amount_cents { " (" (fmt::euro_cents(cents)) ")" }
                        }
                    }
                }
            }
        }
    };
    let description = format!(
        "{title}: i servizi della {} che usa e il suo quadro digitale (SPID, CIE, pagoPA, App IO, ANPR, PDND, cloud, misure PNRR).",
        state.province.name
    );
    let page = public_page(
        &state,
        &identity,
        "/comuni",
        &title,
        &meta(&state, &format!("/comuni/{code}"), description),
        &body,
    );
    Ok(cacheable(&headers, page.into_response()))
}

/// The public pages for the sitemap, read in one database call: path and last change.
fn public_paths(
    conn: &rusqlite::Connection,
    modules: Registry,
) -> Result<Vec<(String, Option<i64>)>, AppError> {
    let mut paths: Vec<(String, Option<i64>)> = vec![("/".to_owned(), None)];
    // The modules' public sections, as the registry lists them.
    for entry in modules.iter().filter_map(|kit| kit.nav) {
        if matches!(entry.audience, Audience::Everyone) {
            paths.push((entry.path.to_owned(), None));
        }
    }
    paths.push(("/sit".to_owned(), None));
    for service in crate::sit::db::list_services(conn, true)? {
        paths.push((
            format!("/sit/servizi/{}", service.code),
            Some(service.updated_at),
        ));
    }
    paths.push(("/buone-pratiche".to_owned(), None));
    for practice in practices::list(conn, false, &[], None, 10_000)? {
        paths.push((
            format!("/buone-pratiche/{}", practice.id),
            Some(practice.updated_at),
        ));
    }
    paths.push(("/comuni".to_owned(), None));
    for (code, _) in crate::sit::db::comuni(conn)? {
        paths.push((format!("/comuni/{code}"), None));
    }
    let mut seen = std::collections::BTreeSet::new();
    paths.retain(|(path, _)| seen.insert(path.clone()));
    Ok(paths)
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// `GET /sitemap.xml`: every public page, absolute URLs from the configured public URL
/// (sitemaps.org protocol 0.9), with the last change where the node knows it.
async fn sitemap(State(state): State<AppState>) -> Result<Response, AppError> {
    let modules = state.modules;
    let paths = state
        .db
        .call(move |conn| public_paths(conn, modules))
        .await?;
    let base = base_url(&state);
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for (path, changed) in paths {
        xml.push_str("  <url><loc>");
        xml.push_str(&xml_escape(&format!("{base}{path}")));
        xml.push_str("</loc>");
        if let Some(day) = changed
            .map(db::rfc3339)
            .and_then(|t| t.get(..10).map(str::to_owned))
        {
            xml.push_str("<lastmod>");
            xml.push_str(&day);
            xml.push_str("</lastmod>");
        }
        xml.push_str("</url>\n");
    }
    xml.push_str("</urlset>\n");
    let response = (
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        xml,
    )
        .into_response();
    Ok(cache_public(response))
}

/// `GET /robots.txt`: crawl the public pages, not the API or the sign-in; where the sitemap is.
async fn robots(State(state): State<AppState>) -> Response {
    let text = format!(
        "User-agent: *\nAllow: /\nDisallow: /v1/\nDisallow: /login\nDisallow: /dashboard\n\nSitemap: {}/sitemap.xml\n",
        base_url(&state)
    );
    cache_public(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

/// The sitemap and robots file are the same for everyone, signed in or not.
fn cache_public(response: Response) -> Response {
    let mut response = pico_service::page_cache::shared(response);
    if let Ok(value) =
        axum::http::HeaderValue::from_str(&format!("public, max-age={}", super::PUBLIC_MAX_AGE))
    {
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    response
}
