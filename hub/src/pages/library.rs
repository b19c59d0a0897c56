//! The national best-practice library: the search page, and a page for each document with its
//! text and the files the Province attached (served from `/v1/attachments/{sha256}`).
//!
//! A document's text is Markdown written by a Province: it is rendered with its raw HTML shown
//! as text, links only to web, mail and local addresses, no images from elsewhere, and its
//! headings moved one level down, under the page's own title.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, PreEscaped, html};
use pico_service::json::Query;
use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde::Deserialize;

use super::{error_page, failure_page, render};
use crate::db::practices::{self, PracticeDocument, PracticeQuery};
use crate::error::HubError;
use crate::format;
use crate::state::AppState;

/// The library's path; a document is at `PATH/{province}/{id}`.
pub const PATH: &str = "/buone-pratiche";

/// The modules a best practice belongs to, with their Italian names.
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

fn module_label(module: &str) -> &str {
    MODULES
        .iter()
        .find(|(key, _)| *key == module)
        .map_or(module, |(_, label)| label)
}

/// Names of the Provinces by code, as the institution is called ("Provincia di Treviso",
/// "Libero consorzio comunale di Ragusa"), from the ISTAT list compiled into the binary.
static PROVINCE_NAMES: LazyLock<BTreeMap<String, String>> = LazyLock::new(|| {
    crate::registry::bundled()
        .unwrap_or_default()
        .into_iter()
        .map(|p| {
            let institution = match p.kind {
                3 => "Città metropolitana di",
                4 => "Libero consorzio comunale di",
                _ => "Provincia di",
            };
            (
                p.code.as_str().to_owned(),
                format!("{institution} {}", p.name),
            )
        })
        .collect()
});

pub(crate) fn province_name(code: &str) -> String {
    PROVINCE_NAMES
        .get(code)
        .cloned()
        .unwrap_or_else(|| format!("Provincia {code}"))
}

fn practice_href(province: &str, id: &str) -> String {
    format!("{PATH}/{province}/{id}")
}

/// Query of the library page.
#[derive(Debug, Deserialize)]
pub struct LibraryQuery {
    /// Words to search for.
    q: Option<String>,
    /// Module filter.
    module: Option<String>,
}

/// `GET /buone-pratiche`: the library with full-text search.
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
        Err(error) => return failure_page(&state, PATH, HubError::Db(error)),
    };
    let main = html! {
        h1 { "Buone pratiche delle Province" }
        p class="lead" { "Esperienze, procedure e documenti che le Province hanno scelto di condividere con tutta la federazione." }
        form method="get" action=(PATH) class="row g-3 my-3" role="search" aria-label="Cerca nelle buone pratiche" {
            div class="col-12 col-md-6 form-group mb-0" {
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
        p role="status" { (found.len()) @if found.len() == 1 { " risultato" } @else { " risultati" } }
        ul class="list-unstyled" id="risultati" {
            @for p in &found {
                li class="mb-4" {
                    h2 class="h4" { a href=(practice_href(&p.province, &p.id)) { (p.title) } }
                    p class="mb-1" { (p.summary) }
                    p class="small mb-0" {
                        (province_name(&p.province)) " · " (module_label(&p.module)) " · aggiornata il "
                        (format::date(&p.updated_at))
                        @if !p.tags.is_empty() { " · parole chiave: " (p.tags.join(", ")) }
                    }
                }
            }
        }
    };
    render(&state, "Buone pratiche", PATH, &main)
}

/// `GET /buone-pratiche/{province}/{id}`: one document, whole.
pub async fn show_practice(
    State(state): State<AppState>,
    Path((province, id)): Path<(String, String)>,
) -> Response {
    let (code, doc) = (province.clone(), id.clone());
    let found = state
        .db
        .call(move |conn| practices::get(conn, &code, &doc))
        .await;
    let document = match found {
        Ok(Some(document)) => document,
        Ok(None) => {
            return error_page(
                &state,
                PATH,
                StatusCode::NOT_FOUND,
                "Questa buona pratica non è nella biblioteca: l'indirizzo è sbagliato, oppure la \
                 Provincia l'ha ritirata.",
            );
        }
        Err(error) => return failure_page(&state, PATH, HubError::Db(error)),
    };
    let main = practice_page(&document);
    render(&state, &document.summary.title, PATH, &main)
}

fn practice_page(document: &PracticeDocument) -> Markup {
    let p = &document.summary;
    html! {
        nav aria-label="Percorso" class="breadcrumb-container" {
            ol class="breadcrumb" {
                li class="breadcrumb-item" { a href=(PATH) { "Buone pratiche" } }
                li class="breadcrumb-item active" aria-current="page" { (p.title) }
            }
        }
        h1 { (p.title) }
        p class="lead" { (p.summary) }
        dl class="row" {
            dt class="col-sm-3" { "Provincia" } dd class="col-sm-9" { (province_name(&p.province)) }
            dt class="col-sm-3" { "Ambito" } dd class="col-sm-9" { (module_label(&p.module)) }
            dt class="col-sm-3" { "Aggiornata il" } dd class="col-sm-9" { (format::date(&p.updated_at)) }
            @if !document.comuni.is_empty() {
                dt class="col-sm-3" { "Comuni coinvolti" }
                dd class="col-sm-9" {
                    (document.comuni.iter()
                        .map(|c| crate::appalti::comune_name(c).map_or_else(|| c.clone(), str::to_owned))
                        .collect::<Vec<_>>().join(", "))
                }
            }
            @if !p.tags.is_empty() {
                dt class="col-sm-3" { "Parole chiave" } dd class="col-sm-9" { (p.tags.join(", ")) }
            }
        }
        div class="mt-4" lang=[(document.language != "it").then_some(document.language.as_str())] {
            (markdown(&document.body))
        }
        section class="mt-5" aria-labelledby="allegati" {
            h2 id="allegati" { "Allegati" }
            @if document.files.is_empty() {
                p { "Nessun allegato." }
            } @else {
                ul id="elenco-allegati" {
                    @for file in &document.files {
                        li {
                            @if file.uploaded {
                                a href=(format!("/v1/attachments/{}", file.sha256)) download=(file.name) { (file.name) }
                            } @else {
                                (file.name) " (il file non è ancora arrivato all'hub)"
                            }
                            " — " (media_type_label(&file.media_type)) ", " (format::bytes(file.length))
                        }
                    }
                }
                p class="small" {
                    "Ogni file è identificato dalla sua impronta SHA-256, scritta nella voce firmata dalla "
                    "Provincia: l'hub accetta solo i file identici a quelli dichiarati."
                }
            }
        }
        p class="small mt-4" {
            "Pubblicata da: " (province_name(&p.province)) ", con la voce n. " (p.seq)
            " del suo registro, che l'hub ha annotato nel "
            a href=(super::transparency::PATH) { "registro di trasparenza" } "."
        }
    }
}

/// A media type as people call it.
fn media_type_label(media_type: &str) -> String {
    match media_type {
        "application/pdf" => "documento PDF".into(),
        "text/plain" | "text/plain; charset=utf-8" => "testo".into(),
        "text/csv" => "tabella CSV".into(),
        "application/vnd.oasis.opendocument.text" => "documento ODT".into(),
        "application/vnd.oasis.opendocument.spreadsheet" => "foglio di calcolo ODS".into(),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => {
            "documento Word".into()
        }
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => {
            "foglio di calcolo Excel".into()
        }
        "image/png" | "image/jpeg" => "immagine".into(),
        "application/zip" => "archivio ZIP".into(),
        other => format!("file {other}"),
    }
}

/// Whether a Markdown link may stay a link: web, mail and addresses on this hub.
fn safe_destination(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    ["https://", "http://", "mailto:", "/", "#"]
        .iter()
        .any(|prefix| lower.starts_with(prefix))
        && !lower.starts_with("//")
}

fn lower(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H2,
        HeadingLevel::H2 => HeadingLevel::H3,
        HeadingLevel::H3 => HeadingLevel::H4,
        HeadingLevel::H4 => HeadingLevel::H5,
        HeadingLevel::H5 | HeadingLevel::H6 => HeadingLevel::H6,
    }
}

/// Renders a Province's Markdown (see the module's note on what is kept).
pub(crate) fn markdown(text: &str) -> Markup {
    let mut kept_links = Vec::new();
    let events = Parser::new_ext(text, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH)
        .filter_map(|event| match event {
            Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
            Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs,
            }) => Some(Event::Start(Tag::Heading {
                level: lower(level),
                id,
                classes,
                attrs,
            })),
            Event::End(TagEnd::Heading(level)) => Some(Event::End(TagEnd::Heading(lower(level)))),
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let keep = safe_destination(&dest_url);
                kept_links.push(keep);
                keep.then_some(Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                }))
            }
            Event::End(TagEnd::Link) => kept_links
                .pop()
                .unwrap_or(false)
                .then_some(Event::End(TagEnd::Link)),
            // An image's text alternative stays, as text; pictures come only as attachments.
            Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
            other => Some(other),
        });
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, events);
    PreEscaped(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_keeps_the_text_and_drops_what_is_unsafe() {
        let html = markdown(
            "# Convenzione\n\nTesto con **grassetto**.\n\n<script>alert(1)</script>\n\n\
             [sito](https://www.upinet.it) [trucco](javascript:alert(1)) ![foto](https://x.test/a.png)\n",
        )
        .into_string();
        assert!(html.contains("<h2>Convenzione</h2>"), "{html}");
        assert!(html.contains("<strong>grassetto</strong>"));
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(html.contains("<a href=\"https://www.upinet.it\">sito</a>"));
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains("trucco"));
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("foto"));
    }

    #[test]
    fn provinces_are_named_from_the_istat_list() {
        assert_eq!(province_name("026"), "Provincia di Treviso");
        assert_eq!(province_name("999"), "Provincia 999");
        assert_eq!(module_label("sua"), "SUA — Stazione Unica Appaltante");
        assert_eq!(media_type_label("application/pdf"), "documento PDF");
    }
}
