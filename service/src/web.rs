//! Server-rendered pages: the vendored Bootstrap Italia assets (served from the binary under
//! `/static/`) and the shared page layout (header with the site name, skip link, landmarks,
//! footer), so node and hub pages look like one product and meet the same accessibility
//! baseline (WCAG 2.1 AA as far as markup goes: `lang`, landmarks, skip link, labelled nav).
//!
//! Templates are `maud`: compiled with the binary, escaping by default.

use std::borrow::Cow;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{DOCTYPE, Markup, PreEscaped, html};

/// The embedded `service/assets` tree.
#[derive(rust_embed::RustEmbed)]
#[folder = "assets/"]
struct Assets;

/// Appended to asset URLs so a new release busts the year-long browser cache.
pub const ASSET_VERSION: &str = env!("CARGO_PKG_VERSION");

/// URL of an embedded asset, e.g. `asset_url("bootstrap-italia/svg/sprites.svg")`.
pub fn asset_url(path: &str) -> String {
    format!("/static/{path}?v={ASSET_VERSION}")
}

/// `GET /static/{*path}`: the embedded assets, cacheable for a year.
pub fn static_router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/static/{*path}", get(get_asset))
}

async fn get_asset(Path(path): Path<String>) -> Response {
    let Some(file) = Assets::get(&path) else {
        return (StatusCode::NOT_FOUND, "non trovato\n").into_response();
    };
    let body: Cow<'static, [u8]> = file.data;
    let mut response = body.into_owned().into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(mime_for(&path)),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}

fn mime_for(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "woff2" => "font/woff2",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// A link of the main navigation.
#[derive(Debug, Clone)]
pub struct NavLink {
    /// Visible text.
    pub label: String,
    /// Target URL.
    pub href: String,
    /// Whether this is the current section (`aria-current="page"`).
    pub current: bool,
}

impl NavLink {
    /// A navigation link.
    pub fn new(label: impl Into<String>, href: impl Into<String>, current: bool) -> NavLink {
        NavLink {
            label: label.into(),
            href: href.into(),
            current,
        }
    }
}

/// What surrounds every page of a service.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    /// The owner shown in the header, e.g. "Provincia di Treviso".
    pub site_name: String,
    /// Shown under the site name, e.g. "Servizi della Provincia per i Comuni".
    pub tagline: String,
    /// Main navigation.
    pub nav: Vec<NavLink>,
    /// Right side of the slim header: login link or user name and logout form.
    pub header_actions: Option<Markup>,
    /// The footer's service links (status page, API documentation…); empty, the defaults
    /// [`FOOTER_LINKS`].
    pub footer_links: Vec<NavLink>,
    /// The footer's line about the service, e.g. "Nodo Pi.Co. della federazione…".
    pub about: Option<String>,
}

/// The footer's service links when a service names none: the human pages of the status and
/// of the API, which every service serves (see [`status_page`] and [`api_page`]).
pub const FOOTER_LINKS: [(&str, &str); 2] = [
    ("Stato del servizio", "/stato"),
    ("API e documentazione OpenAPI", "/api"),
];

tokio::task_local! {
    /// The confirmation message of the action that led to the page being rendered, read
    /// from the flash cookie by [`flash_layer`] and shown by [`page`].
    static FLASH: Option<String>;
}

/// Cookie carrying a confirmation message across the redirect after a form (POST →
/// redirect → GET), shown once.
pub const FLASH_COOKIE: &str = "pico_flash";

/// A redirect to `to` that shows `message` on the page it leads to (the "flash" message
/// that tells what an action did).
pub fn redirect_with_flash(to: &str, message: &str) -> Response {
    let mut response = axum::response::Redirect::to(to).into_response();
    let value = format!(
        "{FLASH_COOKIE}={}; Path=/; Max-Age=120; HttpOnly; SameSite=Lax",
        percent_encode(message)
    );
    if let Ok(value) = HeaderValue::from_str(&value) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// Middleware of page routers: takes the flash message of the request's cookie, makes it
/// available to [`page`] and clears the cookie once an HTML page has shown it.
pub async fn flash_layer(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let flash = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(FLASH_COOKIE)?.strip_prefix('='))
        .filter(|value| !value.is_empty())
        .map(percent_decode);
    let Some(message) = flash else {
        return next.run(request).await;
    };
    let mut response = FLASH.scope(Some(message), next.run(request)).await;
    let is_page = response.status() == StatusCode::OK
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|value| value.as_bytes().starts_with(b"text/html"));
    if is_page {
        response.headers_mut().append(
            header::SET_COOKIE,
            HeaderValue::from_static("pico_flash=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"),
        );
    }
    response
}

/// A cookie value may not hold `;`, `,`, spaces or non-ASCII: everything but letters, digits
/// and `- _ .` is percent-encoded.
const COOKIE_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.');

fn percent_encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, COOKIE_VALUE).to_string()
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// What a public page tells search engines beyond its title: the one-paragraph summary they
/// show under it, and the page's one canonical address (absolute, from the service's public
/// URL), so that the same page reached by other paths or queries is indexed once.
#[derive(Debug, Clone, Default)]
pub struct PageMeta {
    /// `<meta name="description">`: a sentence or two on what the page holds.
    pub description: String,
    /// `<link rel="canonical">`: the page's absolute URL.
    pub canonical: Option<String>,
}

/// Renders a full page: `title` is the page's own title (also the `<h1>` the caller writes).
pub fn page(chrome: &Chrome, title: &str, main: &Markup) -> Markup {
    page_with_meta(chrome, title, None, main)
}

/// [`page`] with a description and canonical link for search engines (public pages).
pub fn page_with_meta(
    chrome: &Chrome,
    title: &str,
    meta: Option<&PageMeta>,
    main: &Markup,
) -> Markup {
    let flash = FLASH.try_with(Clone::clone).ok().flatten();
    let sprites = asset_url("bootstrap-italia/svg/sprites.svg");
    let default_links: Vec<NavLink> = FOOTER_LINKS
        .iter()
        .map(|(label, href)| NavLink::new(*label, *href, false))
        .collect();
    let footer_links = if chrome.footer_links.is_empty() {
        &default_links
    } else {
        &chrome.footer_links
    };
    html! {
        (DOCTYPE)
        html lang="it" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (chrome.site_name) }
                @if let Some(meta) = meta {
                    @if !meta.description.is_empty() { meta name="description" content=(meta.description); }
                    @if let Some(canonical) = &meta.canonical { link rel="canonical" href=(canonical); }
                }
                link rel="stylesheet" href=(asset_url("bootstrap-italia/css/bootstrap-italia.min.css"));
                link rel="stylesheet" href=(asset_url("bootstrap-italia/fonts.css"));
                link rel="stylesheet" href=(asset_url("pico.css"));
            }
            body {
                div class="skiplinks" {
                    a class="visually-hidden-focusable" href="#main" { "Vai al contenuto principale" }
                }
                header class="it-header-wrapper" {
                    div class="it-header-slim-wrapper" {
                        div class="container" { div class="row" { div class="col-12" {
                            div class="it-header-slim-wrapper-content" {
                                a class="navbar-brand" href="/" { "Pi.Co. " span class="d-none d-md-inline" { "— Province & Comuni" } }
                                div class="it-header-slim-right-zone" {
                                    @if let Some(actions) = &chrome.header_actions { (actions) }
                                }
                            }
                        } } }
                    }
                    div class="it-nav-wrapper" {
                        div class="it-header-center-wrapper" {
                            div class="container" { div class="row" { div class="col-12" {
                                div class="it-header-center-content-wrapper" {
                                    div class="it-brand-wrapper" {
                                        a href="/" {
                                            div class="it-brand-text" {
                                                div class="it-brand-title" { (chrome.site_name) }
                                                div class="it-brand-tagline d-none d-md-block" { (chrome.tagline) }
                                            }
                                        }
                                    }
                                }
                            } } }
                        }
                        @if !chrome.nav.is_empty() {
                            div class="it-header-navbar-wrapper" {
                                div class="container" { div class="row" { div class="col-12" {
                                    nav class="navbar navbar-expand-lg" aria-label="Menu principale" {
                                        button class="custom-navbar-toggler" type="button" aria-controls="menu-principale" aria-expanded="false" aria-label="Mostra o nascondi il menu" data-bs-toggle="navbarcollapsible" data-bs-target="#menu-principale" {
                                            svg class="icon" aria-hidden="true" focusable="false" { use href=(format!("{sprites}#it-burger")) {} }
                                        }
                                        div class="navbar-collapsable" id="menu-principale" style="display: none;" {
                                            div class="overlay" style="display: none;" {}
                                            div class="close-div" {
                                                button class="btn close-menu" type="button" {
                                                    span class="visually-hidden" { "Chiudi il menu" }
                                                    svg class="icon" aria-hidden="true" focusable="false" { use href=(format!("{sprites}#it-close-big")) {} }
                                                }
                                            }
                                            div class="menu-wrapper" {
                                                ul class="navbar-nav" {
                                                    @for link in &chrome.nav {
                                                        li class="nav-item" {
                                                            @if link.current {
                                                                a class="nav-link active" href=(link.href) aria-current="page" { span { (link.label) } }
                                                            } @else {
                                                                a class="nav-link" href=(link.href) { span { (link.label) } }
                                                            }
                                                        }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                } } }
                            }
                        }
                    }
                }
                main id="main" class="container my-4" tabindex="-1" {
                    @if let Some(message) = &flash {
                        div class="alert alert-success" role="status" id="flash" { (message) }
                    }
                    (main)
                }
                footer class="it-footer" {
                    div class="it-footer-main" {
                        div class="container" {
                            section class="py-4 text-white" {
                                h2 class="h5 text-white" { (chrome.site_name) }
                                p { (chrome.about.as_deref().unwrap_or("Nodo Pi.Co. della federazione UPI \u{201c}Province & Comuni\u{201d}.")) }
                            }
                        }
                    }
                    div class="it-footer-small-prints clearfix" {
                        div class="container" {
                            ul class="it-footer-small-prints-list list-inline mb-0 d-flex flex-column flex-md-row" aria-label="Collegamenti di servizio" {
                                @for link in footer_links {
                                    li class="list-inline-item" { a href=(link.href) { (link.label) } }
                                }
                                li class="list-inline-item text-white" { "Dati dei Comuni: fonte Istat (CC BY 4.0)" }
                            }
                        }
                    }
                }
                script src=(asset_url("bootstrap-italia/js/bootstrap-italia.bundle.min.js")) defer {}
            }
        }
    }
}

/// The Italian title of an error status, for error pages.
pub fn status_title(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "Richiesta non valida",
        401 => "Accesso richiesto",
        403 => "Accesso non consentito",
        404 => "Pagina non trovata",
        405 => "Operazione non consentita",
        409 => "Conflitto con lo stato attuale",
        413 => "File troppo grande",
        415 => "Tipo di file non accettato",
        422 => "Dati non validi",
        429 => "Troppe richieste",
        502 | 504 => "Servizio esterno non raggiungibile",
        503 => "Servizio non disponibile",
        _ if status.is_server_error() => "Errore del servizio",
        _ => "Errore",
    }
}

/// A readable error page (HTML clients get this instead of problem+json), inside the same
/// chrome as every page (navigation and the signed-in user stay).
pub fn error_page(chrome: &Chrome, status: StatusCode, detail: &str) -> Response {
    let title = status_title(status);
    let body = html! {
        h1 { (title) }
        div class="alert alert-danger" role="alert" { p class="mb-0" { (detail) } }
        p class="text-secondary" { "Codice dell'errore: " (status.as_u16()) "." }
        p { a href="/" { "Torna alla pagina iniziale" } }
    };
    (status, page(chrome, title, &body)).into_response()
}

/// The human status page (`/stato`): whether the service and its database work. Machines
/// keep `/status` (problem+json), `/readyz` and `/metrics`.
pub fn status_page(chrome: &Chrome, ready: bool, version: &str) -> Response {
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = html! {
        h1 { "Stato del servizio" }
        @if ready {
            div class="alert alert-success" role="status" id="service-state" {
                "Il servizio e il suo archivio funzionano regolarmente."
            }
        } @else {
            div class="alert alert-danger" role="alert" id="service-state" {
                "L'archivio del servizio non risponde: le operazioni non sono disponibili. Il personale tecnico è stato avvisato dai sistemi di monitoraggio."
            }
        }
        dl class="row" {
            dt class="col-sm-3" { "Versione" }
            dd class="col-sm-9" { (version) }
        }
        p { "Per i sistemi di monitoraggio: " code { "/status" } " (formato RFC 7807), " code { "/readyz" } " e " code { "/metrics" } " (Prometheus)." }
    };
    (status, page(chrome, "Stato del servizio", &body)).into_response()
}

/// The human page about the API (`/api`): what it offers and where its OpenAPI document is.
pub fn api_page(chrome: &Chrome, openapi_url: &str, intro: &str) -> Markup {
    let body = html! {
        h1 { "API e documentazione" }
        p class="lead" { (intro) }
        ul {
            li { "Le richieste e le risposte sono in JSON; le date seguono RFC 3339 nel tempo coordinato universale e gli importi sono stringhe decimali." }
            li { "Gli errori seguono RFC 7807 (" code { "application/problem+json" } ") con un messaggio in italiano." }
            li { "Gli elenchi sono paginati: " code { "{\"items\": [...], \"next\": ...}" } "." }
            li { "Le operazioni riservate richiedono un token personale nell'intestazione " code { "Authorization: Bearer" } "." }
        }
        p {
            a class="btn btn-primary" href=(openapi_url) { "Scarica il documento OpenAPI 3" }
        }
        p class="text-secondary" { "Il documento si apre con qualunque strumento OpenAPI (ad esempio Swagger Editor) e segue le Linee guida AgID sull'interoperabilità." }
    };
    page(chrome, "API e documentazione", &body)
}

/// One figure of a dashboard: a count with its label, leading to the list it counts.
pub fn figure(label: &str, value: i64, href: &str) -> Markup {
    html! {
        div class="col-6 col-lg-3 mb-3" {
            a class="card card-bg h-100 text-decoration-none" href=(href) {
                div class="card-body" {
                    p class="pico-figure mb-1" { (crate::format::integer(value)) }
                    p class="card-text mb-0" { (label) }
                }
            }
        }
    }
}

/// A small horizontal bar chart with its data table: the bars are drawn for the eye and
/// hidden from assistive technology, the table (under a disclosure) carries the same
/// figures for everyone.
pub fn bar_chart(id: &str, caption: &str, rows: &[(String, i64)]) -> Markup {
    let max = rows
        .iter()
        .map(|(_, value)| *value)
        .max()
        .unwrap_or(0)
        .max(1);
    html! {
        figure class="mb-4" id=(id) {
            figcaption class="h6" { (caption) }
            ul class="pico-chart" aria-hidden="true" {
                @for (label, value) in rows {
                    li {
                        span { (label) }
                        span class="pico-bar-wrap" {
                            span class="pico-bar" style=(format!("width: {}%", value * 100 / max)) {}
                            span class="pico-value" { (crate::format::integer(*value)) }
                        }
                    }
                }
            }
            details {
                summary { "Dati del grafico" }
                div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole" {
                    table class="table table-sm" {
                        caption class="visually-hidden" { (caption) }
                        thead { tr { th scope="col" { "Voce" } th scope="col" class="text-end" { "Numero" } } }
                        tbody {
                            @for (label, value) in rows {
                                tr { th scope="row" { (label) } td class="text-end" { (crate::format::integer(*value)) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// An SVG icon from the Bootstrap Italia sprite, hidden from assistive technology (the text
/// next to it carries the meaning).
pub fn icon(name: &str, class: &str) -> Markup {
    let href = format!("{}#{name}", asset_url("bootstrap-italia/svg/sprites.svg"));
    html! {
        svg class=(format!("icon {class}")) aria-hidden="true" focusable="false" {
            use href=(href) {}
        }
    }
}

/// Escaped text of an already-escaped fragment, for the rare case markup comes from a trusted
/// constant.
pub fn trusted(markup: &'static str) -> PreEscaped<&'static str> {
    PreEscaped(markup)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_are_embedded() {
        for path in [
            "bootstrap-italia/css/bootstrap-italia.min.css",
            "bootstrap-italia/js/bootstrap-italia.bundle.min.js",
            "bootstrap-italia/svg/sprites.svg",
            "bootstrap-italia/fonts.css",
            "bootstrap-italia/LICENSE",
            "pico.css",
        ] {
            assert!(Assets::get(path).is_some(), "{path} missing");
        }
    }

    #[test]
    fn layout_escapes_and_has_landmarks() {
        let chrome = Chrome {
            site_name: "Provincia di <Treviso>".into(),
            ..Chrome::default()
        };
        let html = page(&chrome, "Home", &html! { h1 { "Ciao" } }).into_string();
        assert!(html.contains("Provincia di &lt;Treviso&gt;"));
        assert!(html.contains("<main id=\"main\""));
        assert!(html.contains("href=\"#main\""));
        assert!(html.contains("<html lang=\"it\">"));
        assert!(!html.contains("canonical"));
        let meta = PageMeta {
            description: "I servizi \"della\" Provincia".into(),
            canonical: Some("https://nodo.example/comuni/026086".into()),
        };
        let html =
            page_with_meta(&chrome, "Home", Some(&meta), &html! { h1 { "Ciao" } }).into_string();
        assert!(html.contains(
            r#"<meta name="description" content="I servizi &quot;della&quot; Provincia">"#
        ));
        assert!(
            html.contains(r#"<link rel="canonical" href="https://nodo.example/comuni/026086">"#)
        );
    }
}
