//! The public pages of ISTAT's BES dei territori: `/bes` (the domains and their indicators,
//! and the way to a Province's profile), `/bes/indicatori/{code}` (an indicator across the
//! Provinces for a year and sex: the ranking and a table by region) and
//! `/bes/province/{code}` (a Province's profile: each indicator against its region and Italy,
//! the trend over the years as a chart followed by its table).

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::{Markup, html};
use pico_service::json::{Path, Query};
use serde::Deserialize;

use super::{
    ATTRIBUTION, IndicatorView, IndicatorsView, ProfileIndicator, ProfileView, RankingView, Sex,
    value_shown,
};
use crate::db::bes as store;
use crate::error::HubError;
use crate::pages::charts::{Bar, bar_chart};
use crate::pages::{error_page, failure_page, render, scroll_table};
use crate::state::AppState;

/// The overview's path.
pub const PATH: &str = "/bes";

/// The prefix of a Province's profile.
pub const PROFILE_PATH: &str = "/bes/province";

/// The prefix of an indicator's page.
pub const INDICATOR_PATH: &str = "/bes/indicatori";

/// The page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(PATH, get(show_bes))
        .route(PROFILE_PATH, get(open_profile))
        .route(&format!("{PROFILE_PATH}/{{code}}"), get(show_profile))
        .route(&format!("{INDICATOR_PATH}/{{code}}"), get(show_indicator))
}

/// Whether `path` is one of the BES pages (for the navigation).
pub fn covers(path: &str) -> bool {
    path == PATH || path.starts_with("/bes/")
}

fn profile_link(code: &str) -> String {
    format!("{PROFILE_PATH}/{code}")
}

fn indicator_link(code: &str) -> String {
    format!("{INDICATOR_PATH}/{code}")
}

fn sex_label(code: &str) -> &'static str {
    Sex::parse(code).map_or("", Sex::label)
}

fn no_edition(state: &AppState, current: &str) -> Response {
    error_page(
        state,
        current,
        StatusCode::NOT_FOUND,
        "L'hub non ha ancora importato il BES dei territori dell'Istat.",
    )
}

/// The Provinces of the edition with a registry code, by region, for the choice of a profile.
type ProvincesByRegion = Vec<(String, Vec<(String, String)>)>;

fn provinces_by_region(territories: &[store::Territory]) -> ProvincesByRegion {
    let mut out: ProvincesByRegion = Vec::new();
    for t in territories.iter().filter(|t| t.kind == "provincia") {
        let Some(code) = &t.province else { continue };
        let region = t.region.clone().unwrap_or_default();
        match out.last_mut() {
            Some((r, list)) if *r == region => list.push((code.clone(), t.name.clone())),
            _ => out.push((region, vec![(code.clone(), t.name.clone())])),
        }
    }
    out
}

fn province_form(provinces: &ProvincesByRegion, chosen: Option<&str>) -> Markup {
    html! {
        form method="get" action=(PROFILE_PATH) class="row g-3 my-3" aria-label="Profilo di una Provincia" {
            div class="col-12 col-md-6 select-wrapper" {
                label for="codice" { "Provincia o città metropolitana" }
                select id="codice" name="codice" {
                    @for (region, list) in provinces {
                        optgroup label=(region) {
                            @for (code, name) in list {
                                option value=(code) selected[chosen == Some(code.as_str())] { (name) }
                            }
                        }
                    }
                }
            }
            div class="col-12 col-md-3 d-flex align-items-end" { button type="submit" class="btn btn-primary" { "Apri il profilo" } }
        }
    }
}

/// `GET /bes`: the domains, their indicators and the way to a Province's profile.
pub async fn show_bes(State(state): State<AppState>) -> Response {
    let loaded = state
        .db
        .call(|conn| {
            let view = super::indicators(conn, None)?;
            let territories = match view.edition {
                Some(edition) => store::territories(conn, edition)?,
                None => Vec::new(),
            };
            Ok::<_, HubError>((view, territories))
        })
        .await;
    let (view, territories): (IndicatorsView, _) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failure_page(&state, PATH, error),
    };
    let Some(edition) = view.edition else {
        return no_edition(&state, PATH);
    };
    let mut domains: Vec<(&str, &str, Vec<&IndicatorView>)> = Vec::new();
    for i in &view.items {
        match domains
            .iter_mut()
            .find(|(code, _, _)| *code == i.domain_code)
        {
            Some((_, _, list)) => list.push(i),
            None => domains.push((i.domain_code.as_str(), i.domain.as_str(), vec![i])),
        }
    }
    domains.sort_by(|a, b| a.0.cmp(b.0));
    let provinces = provinces_by_region(&territories);
    let main = html! {
        h1 { "Benessere equo e sostenibile dei territori" }
        p class="lead" {
            "Gli indicatori del BES dei territori dell'Istat per le Province e le città metropolitane: "
            (view.items.len()) " indicatori in " (domains.len()) " domini, dalla salute all'ambiente, "
            "con il valore di ogni Provincia, della sua regione e dell'Italia, anno per anno (edizione " (edition) ")."
        }
        section aria-labelledby="profilo" {
            h2 id="profilo" { "Il profilo di una Provincia" }
            p { "Ogni indicatore della Provincia confrontato con la regione e con l'Italia, con l'andamento negli anni." }
            (province_form(&provinces, None))
        }
        section aria-labelledby="domini" {
            h2 id="domini" { "Domini" }
            nav aria-label="Domini del BES" {
                ul {
                    @for (code, name, list) in &domains {
                        li { a href=(format!("#dominio-{code}")) { (name) } " (" (list.len()) @if list.len() == 1 { " indicatore)" } @else { " indicatori)" } }
                    }
                }
            }
        }
        @for (code, name, list) in &domains {
            section class="mt-4" aria-labelledby=(format!("dominio-{code}")) {
                h2 id=(format!("dominio-{code}")) class="h3" { (name) }
                (scroll_table(&format!("Indicatori del dominio {name}, tabella scorrevole"), &html! {
                    table class="table table-sm" {
                        caption { "Indicatori del dominio " (name) }
                        thead { tr {
                            th scope="col" { "Indicatore" } th scope="col" { "Unità di misura" }
                            th scope="col" { "Tipo" } th scope="col" { "Fonte" }
                        } }
                        tbody {
                            @for i in list {
                                tr {
                                    th scope="row" { a href=(indicator_link(&i.code)) { (i.name) } }
                                    td { (i.unit) }
                                    td { (i.kind.as_deref().unwrap_or("—")) }
                                    td { (i.source) }
                                }
                            }
                        }
                    }
                }))
            }
        }
        h2 class="mt-5 h4" { "Come leggere i dati" }
        ul class="small" {
            li { "Tipo: «Bes» è un indicatore confrontabile con quello del Rapporto Bes nazionale, «Proxy» lo approssima, «Locale» è proprio del BES dei territori." }
            li { "L'Istat non indica se per ciascun indicatore un valore più alto sia migliore: la posizione di una Provincia dice dove si colloca, non quanto va bene." }
            li { "Le Province sono quelle dell'edizione dell'Istat; le quattro Province sarde soppresse (Olbia-Tempio, Ogliastra, Medio Campidano, Carbonia-Iglesias) compaiono con i loro dati fino al 2016 ma senza posizione." }
        }
        p class="small" { (ATTRIBUTION) ", edizione " (edition) ". Dati aperti: "
            a href="/v1/bes/domains" { "domini (JSON)" } ", "
            a href="/v1/bes/indicators" { "indicatori (JSON)" } "." }
    };
    render(
        &state,
        "Benessere equo e sostenibile dei territori",
        PATH,
        &main,
    )
}

/// The query of the profile form.
#[derive(Debug, Default, Deserialize)]
pub struct OpenParams {
    codice: Option<String>,
}

/// `GET /bes/province?codice=026`: the form's answer, a redirect to the profile.
pub async fn open_profile(
    State(state): State<AppState>,
    Query(params): Query<OpenParams>,
) -> Response {
    match params.codice.as_deref().map(str::trim) {
        Some(code) if pico_protocol::ProvinceCode::parse(code).is_ok() => {
            Redirect::to(&profile_link(code)).into_response()
        }
        _ => error_page(
            &state,
            PATH,
            StatusCode::BAD_REQUEST,
            "Scegliere una Provincia dall'elenco della pagina del BES.",
        ),
    }
}

fn describe(i: &IndicatorView) -> Markup {
    html! {
        dl class="row small" {
            dt class="col-12 col-md-3" { "Dominio" } dd class="col-12 col-md-9" { (i.domain) }
            dt class="col-12 col-md-3" { "Unità di misura" } dd class="col-12 col-md-9" { (i.unit) }
            dt class="col-12 col-md-3" { "Fonte" } dd class="col-12 col-md-9" { (i.source) }
            @if let Some(kind) = &i.kind { dt class="col-12 col-md-3" { "Tipo" } dd class="col-12 col-md-9" { (kind) } }
            @if let Some(definition) = &i.definition { dt class="col-12 col-md-3" { "Definizione" } dd class="col-12 col-md-9" { (definition) } }
            @if let Some(note) = &i.note { dt class="col-12 col-md-3" { "Note" } dd class="col-12 col-md-9" { (note) } }
        }
    }
}

/// The query of an indicator's page.
#[derive(Debug, Default, Deserialize)]
pub struct IndicatorParams {
    anno: Option<String>,
    sesso: Option<String>,
}

/// `GET /bes/indicatori/{code}`: an indicator across the Provinces.
pub async fn show_indicator(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(params): Query<IndicatorParams>,
) -> Response {
    let current = indicator_link(&code);
    let mut errors = Vec::new();
    let year = match params
        .anno
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        None => None,
        Some(text) => match text.parse::<i32>() {
            Ok(year) => Some(year),
            Err(_) => {
                errors.push(format!("«{text}» non è un anno: scegliere dall'elenco."));
                None
            }
        },
    };
    let sex = match params
        .sesso
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(text) => match Sex::parse(text) {
            Some(sex) => Some(sex),
            None => {
                errors.push(format!(
                    "«{text}» non è un valore del sesso: scegliere dall'elenco."
                ));
                None
            }
        },
    };
    let asked = code.clone();
    let loaded = state
        .db
        .call(move |conn| {
            // A year or sex the indicator does not have falls back to its defaults, with a message.
            match super::ranking(conn, &asked, year, sex) {
                Err(HubError::Problem(problem)) if problem.status() == StatusCode::BAD_REQUEST => {
                    super::ranking(conn, &asked, None, None).map(|view| (view, true))
                }
                other => other.map(|view| (view, false)),
            }
        })
        .await;
    let (view, fallback): (RankingView, _) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failure_page(&state, &current, error),
    };
    if fallback {
        errors.push(
            "L'indicatore non ha valori provinciali per l'anno o il sesso scelti: sono mostrati l'ultimo anno e il totale."
                .to_owned(),
        );
    }
    let i = &view.indicator;
    let unit = &i.unit;
    let csv = format!(
        "/v1/bes/indicators/{}?year={}&sex={}&format=csv",
        i.code, view.year, view.sex
    );
    let ranked = view.items.iter().filter(|p| p.rank.is_some()).count();
    let mut by_region: BTreeMap<&str, Vec<&super::RankedProvince>> = BTreeMap::new();
    for p in &view.items {
        by_region.entry(p.region.as_str()).or_default().push(p);
    }
    let regions_drawable = view
        .regions
        .iter()
        .all(|r| r.value.is_none_or(|v| v >= 0.0));
    let main = html! {
        nav aria-label="Percorso" { ol class="breadcrumb" {
            li class="breadcrumb-item" { a href=(PATH) { "BES dei territori" } }
            li class="breadcrumb-item active" aria-current="page" { (i.name) }
        } }
        h1 { (i.name) }
        (describe(i))
        @if !errors.is_empty() {
            div class="alert alert-danger" role="alert" id="filtri-errore" {
                @for e in &errors { p class="mb-0" { (e) } }
            }
        }
        form method="get" action=(indicator_link(&i.code)) class="row g-3 my-3" aria-label="Anno e sesso" {
            div class="col-6 col-md-3 select-wrapper" {
                label for="anno" { "Anno" }
                select id="anno" name="anno" {
                    @for y in view.years.iter().rev() { option value=(y) selected[*y == view.year] { (y) } }
                }
            }
            div class="col-6 col-md-3 select-wrapper" {
                label for="sesso" { "Sesso" }
                select id="sesso" name="sesso" {
                    @for s in &view.sexes { option value=(s) selected[*s == view.sex] { (sex_label(s)) } }
                }
            }
            div class="col-12 col-md-3 d-flex align-items-end" { button type="submit" class="btn btn-primary" { "Aggiorna" } }
        }
        p id="italia" { "Italia, " (view.year) ", " (sex_label(&view.sex).to_lowercase()) ": " strong { (value_shown(view.italy)) } " (" (unit) ")." }
        section class="mt-4" aria-labelledby="classifica" {
            h2 id="classifica" { "Le Province in ordine di valore" }
            p { (ranked) " Province con un valore nel " (view.year) ", dal più alto al più basso; a valori uguali la stessa posizione. L'Istat non indica se un valore più alto sia migliore." }
            (scroll_table("Province in ordine di valore, tabella scorrevole", &html! {
                table class="table table-sm" id="tabella-classifica" {
                    caption { (i.name) ", " (view.year) ", " (sex_label(&view.sex).to_lowercase()) " (" (unit) ")" }
                    thead { tr {
                        th scope="col" class="text-end" { "Posizione" } th scope="col" { "Provincia" }
                        th scope="col" { "Regione" } th scope="col" class="text-end" { "Valore" }
                    } }
                    tbody {
                        @for p in &view.items {
                            tr {
                                td class="text-end" { (p.rank.map_or_else(|| "—".to_owned(), |r| r.to_string())) }
                                th scope="row" {
                                    @if let Some(code) = &p.province { a href=(profile_link(code)) { (p.name) } }
                                    @else { (p.name) " (soppressa)" }
                                }
                                td { (p.region) }
                                td class="text-end" { (value_shown(p.value)) }
                            }
                        }
                    }
                }
            }))
        }
        section class="mt-4" aria-labelledby="per-regione" {
            h2 id="per-regione" { "Per regione" }
            @if regions_drawable {
                (bar_chart("grafico-regioni", &format!("{}, {} per regione ({unit})", i.name, view.year),
                    &view.regions.iter().map(|r| Bar {
                        label: r.name.clone(),
                        length: r.value.unwrap_or(0.0),
                        shown: value_shown(r.value),
                    }).collect::<Vec<_>>(), None))
            }
            (scroll_table("Valori per regione e Provincia, tabella scorrevole", &html! {
                table class="table table-sm" id="tabella-regioni" {
                    caption { "Ogni regione con le sue Province, " (view.year) " (" (unit) ")" }
                    thead { tr {
                        th scope="col" { "Territorio" } th scope="col" class="text-end" { "Valore" }
                        th scope="col" class="text-end" { "Posizione" }
                    } }
                    @for r in &view.regions {
                        tbody {
                            tr class="table-light" {
                                th scope="row" { strong { (r.name) } }
                                td class="text-end" { strong { (value_shown(r.value)) } }
                                td class="text-end" { "—" }
                            }
                            @for p in by_region.get(r.name.as_str()).map(Vec::as_slice).unwrap_or_default() {
                                tr {
                                    th scope="row" class="ps-4" {
                                        @if let Some(code) = &p.province { a href=(profile_link(code)) { (p.name) } }
                                        @else { (p.name) " (soppressa)" }
                                    }
                                    td class="text-end" { (value_shown(p.value)) }
                                    td class="text-end" { (p.rank.map_or_else(|| "—".to_owned(), |r| r.to_string())) }
                                }
                            }
                        }
                    }
                }
            }))
        }
        p class="small" {
            "Scarica: " a href=(csv) { "CSV" } " · "
            a href=(format!("{csv}&sep=semicolon&bom=1")) { "CSV con punto e virgola (fogli di calcolo in italiano)" } " · "
            a href=(format!("/v1/bes/indicators/{}?year={}&sex={}", i.code, view.year, view.sex)) { "JSON" }
        }
        p class="small" { (ATTRIBUTION) ", edizione " (view.edition) ". «n.d.»: valore non disponibile." }
    };
    let response = render(&state, &i.name, &current, &main);
    if errors.is_empty() {
        response
    } else {
        (StatusCode::BAD_REQUEST, response).into_response()
    }
}

fn profile_indicator(p: &ProfileView, pi: &ProfileIndicator) -> Markup {
    let i = &pi.indicator;
    html! {
        section class="mt-4" aria-labelledby=(format!("indicatore-{}", i.code)) {
            h3 id=(format!("indicatore-{}", i.code)) class="h5" {
                a href=(indicator_link(&i.code)) { (i.name) } " (" (i.unit) ")"
            }
            @for s in &pi.series {
                @let sex = sex_label(&s.sex);
                @let istat: Vec<_> = s.points.iter().filter(|pt| pt.province.is_some()).collect();
                @let drawable = istat.iter().all(|pt| pt.province.is_none_or(|v| v >= 0.0));
                @let own = s.points.iter().any(|pt| pt.own.is_some());
                @if !istat.is_empty() && drawable {
                    (bar_chart(&format!("grafico-{}-{}", i.code, s.sex),
                        &format!("{}, {}: {} negli anni (Istat)", i.name, sex.to_lowercase(), p.name),
                        &istat.iter().map(|pt| Bar {
                            label: pt.year.to_string(),
                            length: pt.province.unwrap_or(0.0),
                            shown: value_shown(pt.province),
                        }).collect::<Vec<_>>(), None))
                }
                (scroll_table(&format!("{}, {}, tabella scorrevole", i.name, sex.to_lowercase()), &html! {
                    table class="table table-sm" {
                        caption { (i.name) ", " (sex.to_lowercase()) ": " (p.name) ", " (p.region) " e Italia" }
                        thead { tr {
                            th scope="col" { "Anno" } th scope="col" class="text-end" { (p.name) " (Istat)" }
                            th scope="col" class="text-end" { (p.region) } th scope="col" class="text-end" { "Italia" }
                            @if own { th scope="col" class="text-end" { "Calcolato dalla Provincia" } }
                        } }
                        tbody {
                            @for pt in &s.points {
                                tr {
                                    th scope="row" { (pt.year) }
                                    td class="text-end" { (value_shown(pt.province)) }
                                    td class="text-end" { (value_shown(pt.region)) }
                                    td class="text-end" { (value_shown(pt.italy)) }
                                    @if own { td class="text-end" { (value_shown(pt.own)) } }
                                }
                            }
                        }
                    }
                }))
            }
        }
    }
}

/// The indicators a Province computes that ISTAT's edition does not have: a table per series.
fn own_indicators(p: &ProfileView) -> Markup {
    html! {
        section class="mt-5" aria-labelledby="bes-provincia" {
            h2 id="bes-provincia" { "Indicatori calcolati dalla Provincia" }
            p {
                "Indicatori che " (p.name) " calcola e pubblica nel dataset «bes_provincia» (BES delle Province), "
                "non presenti nell'edizione Istat."
            }
            @for i in &p.own_indicators {
                @for s in &i.series {
                    @let sex = sex_label(&s.sex);
                    (scroll_table(&format!("{}, {}, tabella scorrevole", i.name, sex.to_lowercase()), &html! {
                        table class="table table-sm" {
                            caption { (i.name) " (" (i.unit) "), " (sex.to_lowercase()) ": " (p.name) " — " (i.domain) }
                            thead { tr {
                                th scope="col" { "Anno" }
                                th scope="col" class="text-end" { "Calcolato dalla Provincia" }
                            } }
                            tbody {
                                @for pt in &s.points {
                                    tr {
                                        th scope="row" { (pt.year) }
                                        td class="text-end" { (value_shown(pt.own)) }
                                    }
                                }
                            }
                        }
                    }))
                }
            }
        }
    }
}

/// `GET /bes/province/{code}`: a Province's profile.
pub async fn show_profile(State(state): State<AppState>, Path(code): Path<String>) -> Response {
    let current = profile_link(&code);
    let asked = code.clone();
    let loaded = state
        .db
        .call(move |conn| {
            let view = super::profile(conn, &asked)?;
            let territories = store::territories(conn, view.edition)?;
            Ok::<_, HubError>((view, territories))
        })
        .await;
    let (view, territories) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failure_page(&state, &current, error),
    };
    let mut domains: Vec<(&str, &str, Vec<&ProfileIndicator>)> = Vec::new();
    for pi in &view.indicators {
        let i = &pi.indicator;
        match domains.iter_mut().find(|(c, _, _)| *c == i.domain_code) {
            Some((_, _, list)) => list.push(pi),
            None => domains.push((i.domain_code.as_str(), i.domain.as_str(), vec![pi])),
        }
    }
    domains.sort_by(|a, b| a.0.cmp(b.0));
    let provinces = provinces_by_region(&territories);
    let title = format!("{}: indicatori BES", view.name);
    let csv = format!("/v1/bes/provinces/{}?format=csv", view.province);
    let main = html! {
        nav aria-label="Percorso" { ol class="breadcrumb" {
            li class="breadcrumb-item" { a href=(PATH) { "BES dei territori" } }
            li class="breadcrumb-item active" aria-current="page" { (view.name) }
        } }
        h1 { (title) }
        p class="lead" {
            "Gli indicatori del benessere equo e sostenibile di " (view.name) " (" (view.region) ") "
            "secondo l'Istat, ciascuno confrontato con la regione e con l'Italia, anno per anno (edizione " (view.edition) ")."
            @if view.publishes_own { " Accanto ai valori dell'Istat, quelli che la Provincia calcola e pubblica (BES delle Province)." }
        }
        (province_form(&provinces, Some(&view.province)))
        nav aria-label="Domini del profilo" {
            ul class="list-inline" {
                @for (code, name, _) in &domains {
                    li class="list-inline-item" { a href=(format!("#dominio-{code}")) { (name) } }
                }
                @if !view.own_indicators.is_empty() {
                    li class="list-inline-item" { a href="#bes-provincia" { "Calcolati dalla Provincia" } }
                }
            }
        }
        p class="small" {
            "Scarica: " a href=(csv) { "CSV" } " · "
            a href=(format!("{csv}&sep=semicolon&bom=1")) { "CSV con punto e virgola (fogli di calcolo in italiano)" } " · "
            a href=(format!("/v1/bes/provinces/{}", view.province)) { "JSON" }
        }
        @for (code, name, list) in &domains {
            section class="mt-5" aria-labelledby=(format!("dominio-{code}")) {
                h2 id=(format!("dominio-{code}")) { (name) }
                @for pi in list { (profile_indicator(&view, pi)) }
            }
        }
        @if !view.own_indicators.is_empty() { (own_indicators(&view)) }
        p class="small mt-4" { "I grafici mostrano i valori della Provincia secondo l'Istat (totale e, dove l'Istat li distingue, maschi e femmine); ogni tabella che segue un grafico ne riporta i valori con quelli della regione e dell'Italia. «n.d.»: valore non disponibile." }
        @if view.publishes_own {
            p class="small" {
                "La colonna «Calcolato dalla Provincia» riporta i valori che " (view.name) " calcola e pubblica nel dataset «bes_provincia»"
                @if !view.own_sources.is_empty() { " (fonte indicata dalla Provincia: " (view.own_sources.join("; ")) ")" }
                ": non sono dati Istat."
            }
        }
        p class="small" { (ATTRIBUTION) ", edizione " (view.edition) "." }
    };
    render(&state, &title, &current, &main)
}
