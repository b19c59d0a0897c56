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
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
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
    /// The footer's line about the service, e.g. "Nodo Pi.Co. della federazione…".
    pub about: Option<String>,
}

/// Renders a full page: `title` is the page's own title (also the `<h1>` the caller writes).
pub fn page(chrome: &Chrome, title: &str, main: &Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="it" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (chrome.site_name) }
                link rel="stylesheet" href=(asset_url("bootstrap-italia/css/bootstrap-italia.min.css"));
                link rel="stylesheet" href=(asset_url("bootstrap-italia/fonts.css"));
            }
            body {
                div class="skiplinks" {
                    a class="visually-hidden-focusable" href="#main" { "Vai al contenuto principale" }
                }
                header class="it-header-wrapper" {
                    div class="it-header-slim-wrapper" {
                        div class="container" { div class="row" { div class="col-12" {
                            div class="it-header-slim-wrapper-content" {
                                a class="d-lg-block navbar-brand" href="/" { "Pi.Co. — Province & Comuni" }
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
                                        ul class="navbar-nav d-flex flex-row flex-wrap" {
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
                                } } }
                            }
                        }
                    }
                }
                main id="main" class="container my-4" tabindex="-1" { (main) }
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
                                li class="list-inline-item" { a href="/v1/openapi.json" { "API (OpenAPI)" } }
                                li class="list-inline-item" { a href="/status" { "Stato del servizio" } }
                                li class="list-inline-item" { "Dati dei Comuni: Fonte Istat (CC BY 4.0)" }
                            }
                        }
                    }
                }
                script src=(asset_url("bootstrap-italia/js/bootstrap-italia.bundle.min.js")) defer {}
            }
        }
    }
}

/// A readable error page (HTML clients get this instead of problem+json).
pub fn error_page(chrome: &Chrome, status: StatusCode, detail: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Errore");
    let body = html! {
        h1 { (status.as_u16()) " — " (title) }
        div class="alert alert-danger" role="alert" { p class="mb-0" { (detail) } }
        p { a href="/" { "Torna alla pagina iniziale" } }
    };
    (status, page(chrome, title, &body)).into_response()
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
    }
}
