//! The public pages of the SIT national view: `/sit` (what each Province offers with a chart
//! and its table, the coverage of the national platforms for the nation, by region and by
//! Province, each with its CSV) and `/sit/catalogo` (the national catalogue of the Provinces'
//! services, searched by words and filtered by category and region, with its CSV).
//!
//! Charts are drawn in HTML (`crate::pages::charts`), one image each for assistive technology
//! with a text alternative listing their values, each followed by the table of its figures.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use pico_service::json::Query;
use serde::Deserialize;

use super::{
    ATTRIBUTION, CATEGORIES, CatalogueQuery, CatalogueView, CoverageBy, CoverageGroup,
    CoverageView, OffersView, category_label, cost_text, platform_label, search_words,
};
use crate::db::sit::{self, PLATFORMS};
use crate::error::HubError;
use crate::format::{self, count};
use crate::pages::charts::{Bar, bar_chart};
use crate::pages::{download_links, failure_page, render, scroll_table};
use crate::state::AppState;

/// The national view's path.
pub const PATH: &str = "/sit";

/// The national catalogue's path.
pub const CATALOGUE_PATH: &str = "/sit/catalogo";

/// The page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(PATH, get(show_sit))
        .route(CATALOGUE_PATH, get(show_catalogue))
}

/// The query of both pages (empty fields count as absent).
#[derive(Debug, Default, Deserialize)]
pub struct PageParams {
    region: Option<String>,
    q: Option<String>,
    category: Option<String>,
}

fn present(value: Option<&String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn downloads(api: &str, pairs: &[(&str, Option<&str>)]) -> Markup {
    html! { p class="small" { "Scarica: " (download_links(api, pairs)) } }
}

fn share_text(share: Option<&String>) -> String {
    share.map_or_else(|| "—".to_owned(), |s| format::percent(s))
}

fn card(value: &str, label: &str) -> Markup {
    html! {
        div class="col-12 col-md-3" { div class="card card-bg" { div class="card-body" {
            p class="h3 mb-0" { (value) }
            p class="mb-0" { (label) }
        } } }
    }
}

/// The region of the query, dropped with a message when it names no ISTAT region.
fn settle_region(
    region: Option<String>,
    regions: &[String],
    errors: &mut Vec<String>,
) -> Option<String> {
    match region {
        Some(r) if !regions.contains(&r) => {
            errors.push(format!(
                "«{r}» non è una regione: scegliere dall'elenco (filtro non applicato)."
            ));
            None
        }
        other => other,
    }
}

fn region_select(regions: &[String], chosen: Option<&str>, invalid: bool) -> Markup {
    html! {
        label for="region" { "Regione" }
        select id="region" name="region" aria-invalid=[invalid.then_some("true")] aria-describedby=[invalid.then_some("filtri-errore")] {
            option value="" { "Tutte le regioni" }
            @for region in regions {
                option value=(region) selected[chosen == Some(region.as_str())] { (region) }
            }
        }
    }
}

fn errors_alert(errors: &[String]) -> Markup {
    html! {
        @if !errors.is_empty() {
            div class="alert alert-danger" role="alert" id="filtri-errore" {
                @for e in errors { p class="mb-0" { (e) } }
            }
        }
    }
}

/// The coverage table of `groups`: one line per group, the share of Comuni using each
/// platform (and of residents in the national table).
fn coverage_table(caption: &str, first: &str, groups: &[CoverageGroup]) -> Markup {
    let table = html! {
        table class="table table-sm" {
            caption { (caption) }
            thead { tr {
                th scope="col" { (first) }
                th scope="col" class="text-end" { "Comuni" }
                @for p in PLATFORMS { th scope="col" class="text-end" { (platform_label(p)) } }
            } }
            tbody {
                @for g in groups {
                    tr {
                        th scope="row" { (g.label) }
                        td class="text-end" { (count(g.comuni)) }
                        @for p in &g.platforms {
                            td class="text-end" { (share_text(p.comuni_share.as_ref())) }
                        }
                    }
                }
            }
        }
    };
    scroll_table(&format!("{caption}, tabella scorrevole"), &table)
}

/// What `/sit` shows.
struct Loaded {
    regions: Vec<String>,
    offers: OffersView,
    by_region: CoverageView,
    by_province: CoverageView,
}

/// `GET /sit`: the SIT national view.
pub async fn show_sit(State(state): State<AppState>, Query(params): Query<PageParams>) -> Response {
    let asked = present(params.region.as_ref());
    let loaded = state
        .db
        .call(move |conn| {
            let regions = crate::db::sape::regions(conn)?;
            let mut errors = Vec::new();
            let region = settle_region(asked, &regions, &mut errors);
            let contributors = sit::contributors(conn)?;
            let r = region.as_deref();
            Ok::<_, HubError>((
                Loaded {
                    offers: OffersView::of(&contributors, r),
                    by_region: CoverageView::of(&contributors, CoverageBy::Region, r),
                    by_province: CoverageView::of(&contributors, CoverageBy::Province, r),
                    regions,
                },
                region,
                errors,
            ))
        })
        .await;
    let (loaded, region, errors) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failure_page(&state, PATH, error),
    };
    let r = region.as_deref();
    let offers = &loaded.offers;
    let total = &loaded.by_region.total;
    let main = html! {
        h1 { "Servizi innovativi delle Province" }
        p class="lead" {
            "I servizi digitali condivisi che ogni Provincia offre ai suoi Comuni con i Servizi Innovativi Territoriali (SIT): "
            "quali sono, quanti Comuni e abitanti raggiungono, e quanto sono diffuse nei Comuni le piattaforme nazionali "
            "(SPID, CIE, pagoPA, App IO, ANPR, PDND, cloud qualificato), come le Province le pubblicano."
        }
        p { a href=(CATALOGUE_PATH) { "Cerca nel catalogo nazionale dei servizi delle Province" } }
        (errors_alert(&errors))
        form method="get" action=(PATH) class="row g-3 my-3" aria-label="Filtri" {
            div class="col-12 col-md-6 select-wrapper" { (region_select(&loaded.regions, r, !errors.is_empty())) }
            div class="col-12 col-md-3 d-flex align-items-end" { button type="submit" class="btn btn-primary" { "Aggiorna" } }
        }
        @if offers.items.is_empty() && total.provinces == 0 {
            div class="alert alert-info" role="status" id="nessun-dato" {
                "Nessuna Provincia ha ancora pubblicato i dati dei servizi innovativi" @if r.is_some() { " in questa regione" } "."
            }
        } @else {
            div class="row g-3 my-2" id="sintesi" {
                (card(&count(offers.items.len() as u64), "Province con un catalogo pubblicato"))
                (card(&count(offers.service_count), "Servizi offerti"))
                (card(&count(offers.items.iter().map(|p| p.active_subscriptions).sum()), "Adesioni attive dei Comuni"))
                (card(&count(total.comuni), "Comuni nel quadro digitale"))
            }
            section class="mt-5" aria-labelledby="offerta" {
                h2 id="offerta" { "Servizi offerti da ciascuna Provincia" }
                (bar_chart("grafico-offerta", "Servizi offerti per Provincia",
                    &offers.items.iter().map(|p| Bar::count(p.name.clone(), p.service_count)).collect::<Vec<_>>(), None))
                (scroll_table("Servizi per Provincia, tabella scorrevole", &html! {
                    table class="table table-sm" id="tabella-offerta" {
                        caption { "Servizi offerti, con i Comuni aderenti e i loro abitanti" }
                        thead { tr {
                            th scope="col" { "Provincia" } th scope="col" { "Servizio" } th scope="col" { "Categoria" }
                            th scope="col" class="text-end" { "Comuni aderenti" } th scope="col" class="text-end" { "Abitanti raggiunti" }
                        } }
                        tbody {
                            @for p in &offers.items {
                                @for s in &p.services {
                                    tr {
                                        th scope="row" { (p.name) " (" (p.region) ")" }
                                        td { (s.name) }
                                        td { (category_label(&s.category)) }
                                        td class="text-end" { (count(s.active_comuni)) }
                                        td class="text-end" { (count(s.active_residents)) }
                                    }
                                }
                            }
                        }
                    }
                }))
                (downloads("/v1/sit/provinces", &[("region", r)]))
            }
            section class="mt-5" aria-labelledby="copertura" {
                h2 id="copertura" { "Copertura delle piattaforme nazionali" }
                p { "Quota dei " (count(total.comuni)) " Comuni (e dei loro " (count(total.residents)) " abitanti) delle " (count(total.provinces)) " Province che pubblicano il quadro digitale, che usano ciascuna piattaforma." }
                (bar_chart("grafico-copertura", "Quota dei Comuni che usano ciascuna piattaforma",
                    &total.platforms.iter().map(|p| Bar {
                        label: platform_label(&p.platform).to_owned(),
                        length: p.comuni_share.as_deref().and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0),
                        shown: share_text(p.comuni_share.as_ref()),
                    }).collect::<Vec<_>>(), Some(100.0)))
                (scroll_table("Copertura nazionale, tabella scorrevole", &html! {
                    table class="table table-sm" id="tabella-copertura" {
                        caption { "Piattaforme nazionali nei Comuni" }
                        thead { tr {
                            th scope="col" { "Piattaforma" }
                            th scope="col" class="text-end" { "Comuni che la usano" } th scope="col" class="text-end" { "Quota dei Comuni" }
                            th scope="col" class="text-end" { "Abitanti di quei Comuni" } th scope="col" class="text-end" { "Quota degli abitanti" }
                        } }
                        tbody {
                            @for p in &total.platforms {
                                tr {
                                    th scope="row" { (platform_label(&p.platform)) }
                                    td class="text-end" { (count(p.comuni)) }
                                    td class="text-end" { (share_text(p.comuni_share.as_ref())) }
                                    td class="text-end" { (count(p.residents)) }
                                    td class="text-end" { (share_text(p.residents_share.as_ref())) }
                                }
                            }
                        }
                    }
                }))
                h3 class="h4 mt-4" id="per-regione" { "Per regione (quota dei Comuni)" }
                (coverage_table("Quota dei Comuni che usano ciascuna piattaforma, per regione", "Regione", &loaded.by_region.items))
                (downloads("/v1/sit/coverage", &[("by", Some("region")), ("region", r)]))
                h3 class="h4 mt-4" id="per-provincia" { "Per Provincia (quota dei Comuni)" }
                (coverage_table("Quota dei Comuni che usano ciascuna piattaforma, per Provincia", "Provincia", &loaded.by_province.items))
                (downloads("/v1/sit/coverage", &[("region", r)]))
            }
            h2 class="mt-5 h4" { "Come leggere i dati" }
            ul class="small" {
                li { "I servizi sono quelli del catalogo di ciascuna Provincia, esclusi i ritirati; i Comuni aderenti sono quelli con un'adesione attiva, con i loro abitanti (Istat)." }
                li { "Una piattaforma è in uso in un Comune quando la Provincia ne ha registrato la data di adozione. Le quote sono dei Comuni e degli abitanti delle sole Province che pubblicano il quadro digitale." }
                li { "Schemi dei dati: " code { "protocol/datasets/sit_servizi.md" } " e " code { "protocol/datasets/sit_quadro_digitale.md" } "." }
            }
        }
        p class="small" { (ATTRIBUTION) ". Dati aperti: "
            a href="/v1/datasets/sit_servizi/rows" { "righe del catalogo (JSON)" } ", "
            a href="/v1/datasets/sit_quadro_digitale/rows" { "righe del quadro digitale (JSON)" } "." }
    };
    let response = render(&state, "Servizi innovativi delle Province", PATH, &main);
    if errors.is_empty() {
        response
    } else {
        (StatusCode::BAD_REQUEST, response).into_response()
    }
}

/// `GET /sit/catalogo`: the national catalogue, searched.
pub async fn show_catalogue(
    State(state): State<AppState>,
    Query(params): Query<PageParams>,
) -> Response {
    let q = present(params.q.as_ref()).unwrap_or_default();
    let mut errors = Vec::new();
    let category = present(params.category.as_ref()).and_then(|c| {
        if CATEGORIES.iter().any(|(code, _)| *code == c) {
            Some(c)
        } else {
            errors.push(format!(
                "«{c}» non è una categoria: scegliere dall'elenco (filtro non applicato)."
            ));
            None
        }
    });
    let asked = present(params.region.as_ref());
    let words = search_words(&q);
    let chosen_category = category.clone();
    let loaded = state
        .db
        .call(move |conn| {
            let regions = crate::db::sape::regions(conn)?;
            let region = settle_region(asked, &regions, &mut errors);
            let contributors = sit::contributors(conn)?;
            let query = CatalogueQuery {
                words,
                category: chosen_category,
                region: region.clone(),
                province: None,
                withdrawn: false,
            };
            Ok::<_, HubError>((
                CatalogueView::of(&contributors, &query),
                regions,
                region,
                errors,
                contributors.iter().any(|c| !c.holdings.services.is_empty()),
            ))
        })
        .await;
    let (view, regions, region, errors, any) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failure_page(&state, CATALOGUE_PATH, error),
    };
    let r = region.as_deref();
    let k = category.as_deref();
    let words = (!q.is_empty()).then_some(q.as_str());
    let main = html! {
        nav aria-label="Percorso" { ol class="breadcrumb" {
            li class="breadcrumb-item" { a href=(PATH) { "Servizi innovativi" } }
            li class="breadcrumb-item active" aria-current="page" { "Catalogo nazionale" }
        } }
        h1 { "Catalogo nazionale dei servizi delle Province" }
        p class="lead" { "I servizi digitali che le Province offrono ai loro Comuni, cercati in tutte le Province: una Provincia può vedere chi offre già un servizio e a quali condizioni, e chiedergli come lo gestisce." }
        (errors_alert(&errors))
        form method="get" action=(CATALOGUE_PATH) class="row g-3 my-3" role="search" aria-label="Cerca nel catalogo" {
            div class="col-12 col-md-4" {
                label for="q" { "Parole nel nome, nella categoria o nella Provincia" }
                input type="search" class="form-control" id="q" name="q" value=(q) maxlength="200";
            }
            div class="col-12 col-md-3 select-wrapper" {
                label for="category" { "Categoria" }
                select id="category" name="category" {
                    option value="" { "Tutte le categorie" }
                    @for (code, label) in CATEGORIES {
                        option value=(code) selected[k == Some(code)] { (label) }
                    }
                }
            }
            div class="col-12 col-md-3 select-wrapper" { (region_select(&regions, r, !errors.is_empty())) }
            div class="col-12 col-md-2 d-flex align-items-end" { button type="submit" class="btn btn-primary" { "Cerca" } }
        }
        @if !any {
            div class="alert alert-info" role="status" id="nessun-dato" { "Nessuna Provincia ha ancora pubblicato il catalogo dei servizi." }
        } @else if view.items.is_empty() {
            p id="nessun-servizio" { "Nessun servizio corrisponde alla ricerca." }
        } @else {
            p id="trovati" { (count(view.items.len() as u64)) @if view.items.len() == 1 { " servizio trovato." } @else { " servizi trovati." } }
            (scroll_table("Servizi trovati, tabella scorrevole", &html! {
                table class="table table-sm" id="catalogo" {
                    caption { "Servizi delle Province" }
                    thead { tr {
                        th scope="col" { "Servizio" } th scope="col" { "Provincia" } th scope="col" { "Categoria" }
                        th scope="col" { "Per chi" } th scope="col" { "Costo" } th scope="col" { "Livelli di servizio" }
                        th scope="col" class="text-end" { "Comuni aderenti" } th scope="col" class="text-end" { "Abitanti raggiunti" }
                    } }
                    tbody {
                        @for s in &view.items {
                            tr {
                                th scope="row" { (s.name) }
                                td { (s.province_name) " (" (s.region) ")" }
                                td { (category_label(&s.category)) }
                                td {
                                    @match (s.audience.as_str(), s.population_threshold) {
                                        ("under_threshold", Some(t)) => { "Comuni sotto " (count(u64::try_from(t).unwrap_or(0))) " abitanti" }
                                        _ => { "Tutti i Comuni" }
                                    }
                                }
                                td { (cost_text(s)) }
                                td {
                                    @if let (Some(first), Some(done)) = (s.first_answer_hours, s.resolution_hours) {
                                        "Risposta entro " (first) " ore, risoluzione entro " (done) " ore"
                                    } @else { "—" }
                                }
                                td class="text-end" { (count(s.active_comuni)) }
                                td class="text-end" { (count(s.active_residents)) }
                            }
                        }
                    }
                }
            }))
        }
        (downloads("/v1/sit/services", &[("q", words), ("category", k), ("region", r)]))
        p class="small" { (ATTRIBUTION) "." }
    };
    let response = render(
        &state,
        "Catalogo nazionale dei servizi delle Province",
        CATALOGUE_PATH,
        &main,
    );
    if errors.is_empty() {
        response
    } else {
        (StatusCode::BAD_REQUEST, response).into_response()
    }
}
