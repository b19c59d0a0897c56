//! The public pages of the national view of EU funds: `/sape` (headline figures, then for
//! each grouping a chart of the proposals and one of the EU contribution obtained, each
//! followed by the table of the same figures and its CSV; then the Comuni taking part) and
//! `/sape/progetti` (the funded projects with their partners, searchable, by pages).
//!
//! Charts are drawn in HTML (`crate::pages::charts`), one image each for assistive technology
//! with a text alternative listing their values. Numbers and money are written the Italian
//! way ([`crate::format`]).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use pico_service::json::Query;
use serde::Deserialize;

use super::{
    ATTRIBUTION, ComuneView, Figures, PROGRAMMES, ProjectView, SummaryView, group_title,
    partner_role_label, province_role_label, state_label,
};
use crate::db::sape::{self, Filter, Group};
use crate::error::HubError;
use crate::format::{self, count, euro};
use crate::pages::charts::{Bar, bar_chart};
use crate::pages::{download_links, failure_page, link, render, scroll_table, url_encode};
use crate::state::AppState;

/// The summary page's path.
pub const PATH: &str = "/sape";

/// The funded projects' page.
pub const PROJECTS_PATH: &str = "/sape/progetti";

/// Projects per page of `/sape/progetti`.
const PAGE_SIZE: usize = 20;

/// The page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(PATH, get(show_sape))
        .route(PROJECTS_PATH, get(show_projects))
}

/// Groups the page shows, in order, with the id of their section.
const SECTIONS: [(Group, &str); 4] = [
    (Group::Province, "per-provincia"),
    (Group::Region, "per-regione"),
    (Group::Programme, "per-programma"),
    (Group::Year, "per-anno"),
];

fn percent(value: Option<&String>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format::percent(v))
}

/// Euro as whole units for chart lengths (cents do not change a bar).
fn euro_units(decimal: &str) -> u64 {
    decimal
        .split('.')
        .next()
        .and_then(|units| units.parse().ok())
        .unwrap_or(0)
}

fn row_label(group: Group, key: &str, label: &str) -> String {
    match group {
        Group::Province if !key.is_empty() => format!("{key} {label}").trim_end().to_owned(),
        _ => label.to_owned(),
    }
}

/// `base` (which has a query string) with the filters appended.
fn with_filter(base: &str, filter: &Filter) -> String {
    link(base, &query(filter))
}

/// The filters as query pairs.
fn query(filter: &Filter) -> [(&'static str, Option<String>); 4] {
    [
        ("year", filter.year.map(|year| year.to_string())),
        ("region", filter.region.clone()),
        ("province", filter.province.clone()),
        ("programme", filter.programme.clone()),
    ]
}

fn figures_cells(figures: &Figures) -> Markup {
    html! {
        td class="text-end" { (count(figures.proposals)) }
        td class="text-end" { (count(figures.submitted)) }
        td class="text-end" { (count(figures.evaluated)) }
        td class="text-end" { (count(figures.funded)) }
        td class="text-end" { (percent(figures.success_rate.as_ref())) }
        td class="text-end" { (euro(&figures.requested)) }
        td class="text-end" { (euro(&figures.obtained)) }
        td class="text-end" { (euro(&figures.comuni_obtained)) }
    }
}

fn section(group: Group, id: &str, view: &SummaryView, filter: &Filter) -> Markup {
    let title = group_title(group).to_lowercase();
    let bars = |pick: &dyn Fn(&Figures) -> (u64, String)| -> Vec<Bar> {
        view.items
            .iter()
            .map(|item| {
                let (length, shown) = pick(&item.figures);
                Bar {
                    label: row_label(group, &item.key, &item.label),
                    length: length as f64,
                    shown,
                }
            })
            .collect()
    };
    let by_count = bars(&|f| {
        (
            f.proposals,
            format!(
                "{} proposte, {} finanziate",
                count(f.proposals),
                count(f.funded)
            ),
        )
    });
    let by_value = bars(&|f| (euro_units(&f.obtained), euro(&f.obtained)));
    let base = format!("/v1/sape/summary?group={}", group.as_str());
    html! {
        section class="mt-5" aria-labelledby=(id) {
            h2 id=(id) { "Per " (title) }
            (bar_chart(&format!("grafico-{id}-proposte"), &format!("Proposte per {title}"), &by_count, None))
            (bar_chart(&format!("grafico-{id}-ottenuto"), &format!("Contributo UE ottenuto per {title}"), &by_value, None))
            (scroll_table(&format!("Tabella delle proposte per {title}"), &html! {
                table class="table table-sm table-striped" id=(format!("tabella-{id}")) {
                    caption { "Proposte dei SAPE per " (title) ": numero, esito, tasso di successo e contributo UE" }
                    thead { tr {
                        th scope="col" { (group_title(group)) }
                        th scope="col" class="text-end" { "Proposte" }
                        th scope="col" class="text-end" { "Presentate" }
                        th scope="col" class="text-end" { "Valutate" }
                        th scope="col" class="text-end" { "Finanziate" }
                        th scope="col" class="text-end" { "Tasso di successo" }
                        th scope="col" class="text-end" { "Contributo UE richiesto" }
                        th scope="col" class="text-end" { "Contributo UE ottenuto" }
                        th scope="col" class="text-end" { "Di cui ai Comuni" }
                    } }
                    tbody {
                        @for item in &view.items {
                            tr {
                                th scope="row" { (row_label(group, &item.key, &item.label)) }
                                (figures_cells(&item.figures))
                            }
                        }
                    }
                    tfoot { tr {
                        th scope="row" { "Totale" }
                        (figures_cells(&view.total))
                    } }
                }
            }))
            p { "Scarica la tabella: " (download_links(&base, &query(filter))) }
        }
    }
}

fn comuni_table(comuni: &[ComuneView], filter: &Filter) -> Markup {
    html! {
        (scroll_table("Tabella dei Comuni partner", &html! {
            table class="table table-sm table-striped" id="tabella-comuni" {
                caption { "Comuni partner delle proposte: proposte, finanziate e la loro parte del contributo UE" }
                thead { tr {
                    th scope="col" { "Provincia" } th scope="col" { "Codice" } th scope="col" { "Comune" }
                    th scope="col" class="text-end" { "Proposte" } th scope="col" class="text-end" { "Finanziate" }
                    th scope="col" class="text-end" { "Contributo richiesto" } th scope="col" class="text-end" { "Contributo ottenuto" }
                } }
                tbody { @for c in comuni { tr {
                    td { (c.province) } td { (c.comune) } th scope="row" { (c.name) }
                    td class="text-end" { (count(c.proposals)) } td class="text-end" { (count(c.funded)) }
                    td class="text-end" { (euro(&c.requested)) } td class="text-end" { (euro(&c.obtained)) }
                } } }
            }
        }))
        p { "Scarica l'elenco: " (download_links("/v1/sape/comuni", &query(filter))) }
    }
}

/// The query string of the pages: the filters of their form, the search and the page number
/// of the projects' list (other parameters are ignored).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageParams {
    year: Option<String>,
    region: Option<String>,
    province: Option<String>,
    programme: Option<String>,
    q: Option<String>,
    pagina: Option<String>,
}

/// The filters a page can apply, and an Italian message for each one it cannot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct PageFilter {
    filter: Filter,
    errors: Vec<(&'static str, String)>,
}

impl PageFilter {
    fn error(&self, field: &str) -> Option<&String> {
        self.errors
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, message)| message)
    }
}

fn given(value: Option<&String>) -> Option<&str> {
    value.map(|v| v.trim()).filter(|v| !v.is_empty())
}

impl PageParams {
    fn parse(&self) -> PageFilter {
        let mut out = PageFilter::default();
        if let Some(text) = given(self.year.as_ref()) {
            match text
                .parse::<i64>()
                .ok()
                .filter(|y| (1900..=2999).contains(y))
            {
                Some(year) => out.filter.year = Some(year),
                None => out.errors.push((
                    "year",
                    format!("«{text}» non è un anno: scegliere un anno dall'elenco (filtro non applicato)."),
                )),
            }
        }
        if let Some(text) = given(self.province.as_ref()) {
            match pico_protocol::ProvinceCode::parse(text) {
                Ok(code) => out.filter.province = Some(code.as_str().to_owned()),
                Err(_) => out.errors.push((
                    "province",
                    format!("«{text}» non è il codice di una Provincia: scegliere dall'elenco (filtro non applicato)."),
                )),
            }
        }
        if let Some(text) = given(self.programme.as_ref()) {
            if PROGRAMMES.iter().any(|(code, _)| *code == text) {
                out.filter.programme = Some(text.to_owned());
            } else {
                out.errors.push((
                    "programme",
                    format!(
                        "«{text}» non è un programma: scegliere dall'elenco (filtro non applicato)."
                    ),
                ));
            }
        }
        out.filter.region = given(self.region.as_ref()).map(str::to_owned);
        out
    }

    fn page(&self) -> usize {
        given(self.pagina.as_ref())
            .and_then(|p| p.parse::<usize>().ok())
            .filter(|p| *p >= 1)
            .unwrap_or(1)
    }
}

/// The choices of the filter form.
struct Choices {
    years: Vec<i64>,
    regions: Vec<String>,
    provinces: Vec<(String, String)>,
}

/// Drops the filters that name no region or Province (with a message) and reads the form's
/// choices.
fn settle(conn: &rusqlite::Connection, parsed: &mut PageFilter) -> Result<Choices, HubError> {
    if let Some(code) = parsed.filter.province.clone()
        && let Ok(code) = pico_protocol::ProvinceCode::parse(&code)
        && !crate::db::registry::exists(conn, code)?
    {
        parsed.filter.province = None;
        parsed.errors.push((
            "province",
            format!(
                "Nessuna Provincia ha il codice {} nell'elenco ISTAT (filtro non applicato).",
                code.as_str()
            ),
        ));
    }
    let regions = sape::regions(conn)?;
    if let Some(region) = parsed.filter.region.clone()
        && !regions.contains(&region)
    {
        parsed.filter.region = None;
        parsed.errors.push((
            "region",
            format!("«{region}» non è una regione: scegliere dall'elenco (filtro non applicato)."),
        ));
    }
    Ok(Choices {
        years: sape::years(conn)?,
        regions,
        provinces: sape::provinces(conn)?,
    })
}

fn field_error(id: &str, message: Option<&String>) -> Markup {
    html! { @if let Some(message) = message { div class="small text-danger mt-1" id=(id) { (message) } } }
}

/// The filter form of both pages; `search` adds the words field of the projects' list.
fn filter_form(
    action: &str,
    parsed: &PageFilter,
    choices: &Choices,
    search: Option<&str>,
) -> Markup {
    let filter = &parsed.filter;
    let invalid = |field: &str| parsed.error(field).map(|_| "true");
    let described = |field: &str| parsed.error(field).map(|_| format!("{field}-errore"));
    html! {
        form method="get" action=(action) class="row g-3 my-3" aria-label="Filtri" {
            div class="col-12 col-md-3 select-wrapper" {
                label for="year" { "Anno" }
                select id="year" name="year" aria-invalid=[invalid("year")] aria-describedby=[described("year")] {
                    option value="" { "Tutti gli anni" }
                    @for year in &choices.years {
                        option value=(year) selected[filter.year == Some(*year)] { (year) }
                    }
                }
                (field_error("year-errore", parsed.error("year")))
            }
            div class="col-12 col-md-3 select-wrapper" {
                label for="region" { "Regione" }
                select id="region" name="region" aria-invalid=[invalid("region")] aria-describedby=[described("region")] {
                    option value="" { "Tutte le regioni" }
                    @for region in &choices.regions {
                        option value=(region) selected[filter.region.as_deref() == Some(region.as_str())] { (region) }
                    }
                }
                (field_error("region-errore", parsed.error("region")))
            }
            div class="col-12 col-md-3 select-wrapper" {
                label for="province" { "Provincia" }
                select id="province" name="province" aria-invalid=[invalid("province")] aria-describedby=[described("province")] {
                    option value="" { "Tutte le Province" }
                    @for (code, name) in &choices.provinces {
                        option value=(code) selected[filter.province.as_deref() == Some(code.as_str())] { (code) " — " (name) }
                    }
                }
                (field_error("province-errore", parsed.error("province")))
            }
            div class="col-12 col-md-3 select-wrapper" {
                label for="programme" { "Programma" }
                select id="programme" name="programme" aria-invalid=[invalid("programme")] aria-describedby=[described("programme")] {
                    option value="" { "Tutti i programmi" }
                    @for (code, label) in PROGRAMMES {
                        option value=(code) selected[filter.programme.as_deref() == Some(code)] { (label) }
                    }
                }
                (field_error("programme-errore", parsed.error("programme")))
            }
            @if let Some(words) = search {
                div class="col-12 col-md-9" {
                    label for="q" { "Cerca nel titolo, nel bando o tra i partner" }
                    input type="search" class="form-control" id="q" name="q" value=(words) maxlength="200";
                }
            }
            div class="col-12 col-md-3 d-flex align-items-end" {
                button type="submit" class="btn btn-primary" { "Aggiorna" }
            }
        }
    }
}

fn invalid_alert(parsed: &PageFilter) -> Markup {
    html! {
        @if !parsed.errors.is_empty() {
            div class="alert alert-danger" role="alert" { p class="mb-0" { "Un filtro non è valido e non è stato applicato: vedere il messaggio accanto al campo." } }
        }
    }
}

fn card(value: &str, label: &str) -> Markup {
    html! {
        div class="col-12 col-md-4" { div class="card card-bg" { div class="card-body" {
            p class="h3 mb-0" { (value) }
            p class="mb-0" { (label) }
        } } }
    }
}

/// What the summary page shows.
struct Loaded {
    sections: Vec<(Group, &'static str, SummaryView)>,
    comuni: Vec<ComuneView>,
    choices: Choices,
}

/// `GET /sape`: the national view of EU funds.
pub async fn show_sape(
    State(state): State<AppState>,
    Query(params): Query<PageParams>,
) -> Response {
    let parsed = params.parse();
    let loaded = state
        .db
        .call(move |conn| {
            let mut parsed = parsed;
            let choices = settle(conn, &mut parsed)?;
            let filter = parsed.filter.clone();
            let mut sections = Vec::new();
            for (group, id) in SECTIONS {
                let summary = sape::summary(conn, group, &filter)?;
                sections.push((group, id, SummaryView::of(&summary, group, &filter)));
            }
            let comuni = sape::comuni(conn, &filter)?
                .iter()
                .map(ComuneView::of)
                .collect();
            Ok::<_, HubError>((
                Loaded {
                    sections,
                    comuni,
                    choices,
                },
                parsed,
            ))
        })
        .await;
    let (loaded, parsed) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failure_page(&state, PATH, error),
    };
    let filter = &parsed.filter;
    let total = loaded
        .sections
        .first()
        .map(|(_, _, view)| view.total.clone());
    let main = html! {
        h1 { "Fondi europei delle Province e dei Comuni" }
        p class="lead" {
            "Le proposte di finanziamento europeo che il Servizio Associato Politiche Europee (SAPE) di ciascuna Provincia "
            "prepara con i Comuni: quante sono, in quali programmi, con quale esito e quale contributo dell'Unione europea "
            "chiedono e ottengono, come ciascuna Provincia le pubblica nel dataset nazionale dei progetti europei."
        }
        (invalid_alert(&parsed))
        (filter_form(PATH, &parsed, &loaded.choices, None))
        @match total.filter(|t| t.proposals > 0) {
            None => {
                div class="alert alert-info" role="status" id="nessun-dato" {
                    @if loaded.choices.provinces.is_empty() {
                        "Nessuna Provincia ha ancora pubblicato il dataset dei progetti europei."
                    } @else {
                        "Nessuna proposta corrisponde ai filtri scelti."
                    }
                }
            }
            Some(total) => {
                div class="row g-3 my-2" id="sintesi" {
                    (card(&count(total.proposals), "Proposte"))
                    (card(&count(total.funded), "Proposte finanziate"))
                    (card(&percent(total.success_rate.as_ref()), "Tasso di successo (finanziate su valutate)"))
                    (card(&euro(&total.requested), "Contributo UE richiesto"))
                    (card(&euro(&total.obtained), "Contributo UE ottenuto"))
                    (card(&euro(&total.comuni_obtained), "Contributo UE ottenuto dai Comuni"))
                }
                nav aria-label="Sezioni" { ul class="list-inline" {
                    @for (group, id, _) in &loaded.sections {
                        li class="list-inline-item" { a href=(format!("#{id}")) { "Per " (group_title(*group).to_lowercase()) } }
                    }
                    li class="list-inline-item" { a href="#comuni" { "Comuni partner" } }
                    li class="list-inline-item" { a href=(with_filter(PROJECTS_PATH, filter)) { "Progetti finanziati" } }
                } }
                @for (group, id, view) in &loaded.sections {
                    (section(*group, id, view, filter))
                }
                section class="mt-5" aria-labelledby="comuni" {
                    h2 id="comuni" { "Comuni partner" }
                    (comuni_table(&loaded.comuni, filter))
                }
                p class="mt-4" { a href=(with_filter(PROJECTS_PATH, filter)) { "Vedi l'elenco dei progetti finanziati con i loro partner" } }
                h2 class="mt-5 h4" { "Come leggere i dati" }
                ul class="small" {
                    li { "Sono contate tutte le proposte, dall'idea in poi; le presentate sono quelle dalla presentazione in poi, escluse le ritirate; le valutate quelle con un esito della valutazione (finanziate, in riserva, non finanziate e le successive)." }
                    li { "Il tasso di successo è il numero delle finanziate diviso quello delle valutate." }
                    li { "Il contributo richiesto è la somma, sulle proposte presentate, del contributo UE chiesto per tutti i partner; il contributo ottenuto quella delle proposte finanziate. La parte dei Comuni è quella dei partner che sono Comuni della Provincia." }
                    li { "L'anno è quello della scadenza del bando. Schema dei dati: " code { "protocol/datasets/sape_progetti.md" } "." }
                }
            }
        }
        p class="small" { (ATTRIBUTION) ". Dati aperti: "
            a href="/v1/sape/summary" { "riepiloghi (JSON)" } ", "
            a href="/v1/sape/comuni" { "Comuni partner (JSON)" } ", "
            a href="/v1/sape/projects" { "progetti finanziati (JSON)" } ", "
            a href="/v1/datasets/sape_progetti/rows" { "tutte le righe del dataset (JSON)" } "." }
    };
    let response = render(&state, "Fondi europei", PATH, &main);
    if parsed.errors.is_empty() {
        response
    } else {
        (StatusCode::BAD_REQUEST, response).into_response()
    }
}

fn project_card(project: &ProjectView) -> Markup {
    let name = if project.acronym.is_empty() {
        &project.title
    } else {
        &project.acronym
    };
    html! {
        article class="card card-bg my-3" {
            div class="card-body" {
                h2 class="h5" {
                    @if !project.acronym.is_empty() { (project.acronym) " — " }
                    (project.title)
                }
                dl class="row small mb-2" {
                    dt class="col-12 col-md-3" { "Provincia" }
                    dd class="col-12 col-md-9" { (project.province) " " (project.province_name) " (" (project.region) "), " (province_role_label(&project.province_role).to_lowercase()) }
                    dt class="col-12 col-md-3" { "Programma e bando" }
                    dd class="col-12 col-md-9" {
                        (project.programme_label) ", " (project.topic_identifier)
                        @if !project.call_title.is_empty() { " — " (project.call_title) }
                        @if let Some(year) = project.year { " (" (year) ")" }
                    }
                    dt class="col-12 col-md-3" { "Stato" }
                    dd class="col-12 col-md-9" { (state_label(&project.state)) }
                    dt class="col-12 col-md-3" { "Contributo UE ottenuto" }
                    dd class="col-12 col-md-9" { (euro(&project.obtained)) ", di cui ai Comuni " (euro(&project.comuni_obtained)) }
                }
                (scroll_table(&format!("Partner di {name}"), &html! {
                    table class="table table-sm mb-0" {
                        caption { "Partner del progetto" }
                        thead { tr {
                            th scope="col" { "N." } th scope="col" { "Partner" } th scope="col" { "Paese" }
                            th scope="col" { "Ruolo" } th scope="col" { "PIC" } th scope="col" class="text-end" { "Contributo UE" }
                        } }
                        tbody { @for p in &project.partners { tr {
                            td { (p.no) }
                            th scope="row" {
                                (p.name)
                                @if let Some(code) = &p.comune {
                                    " (Comune di " (p.comune_name.as_deref().unwrap_or(code)) ", " (code) ")"
                                }
                            }
                            td { (p.country_name) }
                            td { (partner_role_label(&p.role)) }
                            td { (p.pic.as_deref().unwrap_or("—")) }
                            td class="text-end" { (euro(&p.obtained)) }
                        } } }
                    }
                }))
            }
        }
    }
}

/// `GET /sape/progetti`: the funded projects with their partners.
pub async fn show_projects(
    State(state): State<AppState>,
    Query(params): Query<PageParams>,
) -> Response {
    let parsed = params.parse();
    let words = given(params.q.as_ref())
        .map(|q| q.chars().take(200).collect::<String>())
        .unwrap_or_default();
    let page = params.page();
    let query = words.clone();
    let loaded = state
        .db
        .call(move |conn| {
            let mut parsed = parsed;
            let choices = settle(conn, &mut parsed)?;
            let name = |code: &str| crate::appalti::comune_name(code).unwrap_or("").to_owned();
            let (total, projects) = sape::funded_projects(
                conn,
                &parsed.filter,
                &query,
                &name,
                (page - 1).saturating_mul(PAGE_SIZE),
                PAGE_SIZE,
            )?;
            let projects: Vec<ProjectView> = projects.iter().map(ProjectView::of).collect();
            Ok::<_, HubError>((parsed, choices, total, projects))
        })
        .await;
    let (parsed, choices, total, projects) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failure_page(&state, PROJECTS_PATH, error),
    };
    let filter = &parsed.filter;
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let mut here = with_filter(PROJECTS_PATH, filter);
    if !words.is_empty() {
        here.push_str(if here.contains('?') { "&" } else { "?" });
        here.push_str("q=");
        here.push_str(&url_encode(&words));
    }
    let page_link = |n: usize| {
        format!(
            "{here}{}pagina={n}",
            if here.contains('?') { "&" } else { "?" }
        )
    };
    let mut csv = with_filter("/v1/sape/projects?format=csv", filter);
    if !words.is_empty() {
        csv.push_str("&q=");
        csv.push_str(&url_encode(&words));
    }
    let main = html! {
        h1 { "Progetti europei finanziati" }
        p class="lead" {
            "I progetti finanziati che i SAPE delle Province hanno preparato con i Comuni, con tutti i loro partner: "
            "la Provincia, i Comuni e gli altri enti, con il loro paese."
        }
        p { a href=(with_filter(PATH, filter)) { "Torna al quadro dei fondi europei" } }
        (invalid_alert(&parsed))
        (filter_form(PROJECTS_PATH, &parsed, &choices, Some(&words)))
        p id="conteggio" role="status" {
            @if total == 1 { "1 progetto finanziato" } @else { (count(total as u64)) " progetti finanziati" }
            @if pages > 1 { " — pagina " (page.min(pages)) " di " (pages) }
        }
        @for project in &projects {
            (project_card(project))
        }
        @if pages > 1 {
            nav aria-label="Pagine dei progetti" { ul class="pagination flex-wrap" {
                @if page > 1 {
                    li class="page-item" { a class="page-link" href=(page_link(page - 1)) { "Pagina precedente" } }
                }
                @if page < pages {
                    li class="page-item" { a class="page-link" href=(page_link(page + 1)) { "Pagina successiva" } }
                }
            } }
        }
        p { "Scarica l'elenco (una riga per partner): "
            a href=(csv) { "CSV" } " · "
            a href=(format!("{csv}&sep=semicolon&bom=1")) { "CSV con punto e virgola (fogli di calcolo in italiano)" } }
        p class="small" { (ATTRIBUTION) "." }
    };
    let response = render(&state, "Progetti europei finanziati", PROJECTS_PATH, &main);
    if parsed.errors.is_empty() {
        response
    } else {
        (StatusCode::BAD_REQUEST, response).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_carry_the_filters_encoded() {
        let filter = Filter {
            year: Some(2025),
            region: Some("Valle d'Aosta/Vallée d'Aoste".into()),
            province: None,
            programme: Some("life".into()),
        };
        assert_eq!(
            with_filter("/sape", &filter),
            "/sape?year=2025&region=Valle%20d%27Aosta%2FVall%C3%A9e%20d%27Aoste&programme=life"
        );
        assert_eq!(
            with_filter("/v1/sape/summary?group=year", &Filter::default()),
            "/v1/sape/summary?group=year"
        );
        assert_eq!(euro_units("1234.99"), 1234);
    }

    #[test]
    fn page_filters_get_italian_messages() {
        let parsed = PageParams {
            year: Some("xx".into()),
            province: Some("26".into()),
            programme: Some("horizon".into()),
            ..PageParams::default()
        }
        .parse();
        assert_eq!(parsed.filter, Filter::default());
        assert!(parsed.error("year").unwrap().contains("non è un anno"));
        assert!(
            parsed
                .error("province")
                .unwrap()
                .contains("non è il codice")
        );
        assert!(
            parsed
                .error("programme")
                .unwrap()
                .contains("non è un programma")
        );
        assert_eq!(PageParams::default().page(), 1);
    }
}
