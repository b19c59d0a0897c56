//! The public page of the national view of training, `/formazione`: the programme's targets,
//! the headline progress, then by sector, by region and by Province a chart of the share of
//! the target reached followed by the table of the same figures and its CSV, and the list of
//! the Provinces behind. Filters: year and region. Numbers are written the Italian way.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use pico_protocol::targets::FormazioneTargets;
use pico_service::json::Query;
use serde::Deserialize;

use super::courses::{self, CourseParams};
use super::{ATTRIBUTION, Group, GroupProgress, ProgressView, parse_year, progress};
use crate::db::formazione::{self, Filter};
use crate::error::HubError;
use crate::format::{self, count};
use crate::pages::charts::{Bar, bar_chart};
use crate::pages::{download_links, failure_page, link, render, scroll_table};
use crate::state::AppState;

/// The page's path.
pub const PATH: &str = "/formazione";

/// The path of the national catalogue of courses open to other Provinces.
pub const COURSES_PATH: &str = "/formazione/corsi";

/// The page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(PATH, get(show_formazione))
        .route(COURSES_PATH, get(show_courses))
}

/// The query string of the page (other parameters are ignored).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageParams {
    year: Option<String>,
    region: Option<String>,
}

fn given(value: Option<&String>) -> Option<&str> {
    value.map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// The filters as query pairs.
fn query(filter: &Filter) -> [(&'static str, Option<String>); 2] {
    [
        ("year", filter.year.map(|year| year.to_string())),
        ("region", filter.region.clone()),
    ]
}

fn share(value: Option<&String>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format::percent(v))
}

/// A percentage as a chart length (the chart is full at 100).
fn share_length(value: Option<&String>) -> f64 {
    value.and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
}

fn row_label(group: Group, item: &GroupProgress) -> String {
    match group {
        Group::Province => format!("{} {}", item.key, item.label),
        Group::Region | Group::Sector => item.label.clone(),
    }
}

fn figure_cells(item: &GroupProgress) -> Markup {
    let f = &item.figures;
    html! {
        td class="text-end" { (count(f.people_trained)) }
        td class="text-end" { (count(f.target)) }
        td class="text-end" { (share(f.target_share.as_ref())) }
        td class="text-end" { (format::decimal(&f.hours_delivered)) }
        td class="text-end" { (format::decimal(&f.hours_attended)) }
        td class="text-end" { (count(f.enrolled)) }
        td class="text-end" { (count(f.completed)) }
        td class="text-end" { (share(f.completion_rate.as_ref())) }
    }
}

fn figure_headers(group: Group) -> Markup {
    html! {
        th scope="col" { (group.title()) }
        @if group == Group::Province { th scope="col" { "Regione" } }
        @if group != Group::Sector { th scope="col" class="text-end" { "Province che pubblicano" } }
        th scope="col" class="text-end" { "Persone formate" }
        th scope="col" class="text-end" { "Obiettivo" }
        th scope="col" class="text-end" { "Quota dell'obiettivo" }
        th scope="col" class="text-end" { "Ore erogate" }
        th scope="col" class="text-end" { "Ore frequentate" }
        th scope="col" class="text-end" { "Iscritti" }
        th scope="col" class="text-end" { "Completati" }
        th scope="col" class="text-end" { "Tasso di completamento" }
    }
}

fn table(id: &str, caption: &str, group: Group, view: &ProgressView, total: bool) -> Markup {
    html! {
        (scroll_table(&format!("Tabella: {caption}"), &html! {
            table class="table table-sm table-striped" id=(id) {
                caption { (caption) }
                thead { tr { (figure_headers(group)) } }
                tbody {
                    @for item in &view.items {
                        tr {
                            th scope="row" { (row_label(group, item)) }
                            @if group == Group::Province { td { (item.region) } }
                            @if group != Group::Sector {
                                td class="text-end" { (count(item.publishing)) " su " (count(item.provinces)) }
                            }
                            (figure_cells(item))
                        }
                    }
                }
                @if total {
                    tfoot { tr {
                        th scope="row" { "Totale" }
                        @if group == Group::Province { td {} }
                        @if group != Group::Sector {
                            td class="text-end" { (count(view.total.publishing)) " su " (count(view.total.provinces)) }
                        }
                        (figure_cells(&view.total))
                    } }
                }
            }
        }))
    }
}

fn section(id: &str, title: &str, group: Group, view: &ProgressView, filter: &Filter) -> Markup {
    let bars: Vec<Bar> = view
        .items
        .iter()
        .map(|item| Bar {
            label: row_label(group, item),
            length: share_length(item.figures.target_share.as_ref()),
            shown: format!(
                "{} su {} ({})",
                count(item.figures.credited),
                count(item.figures.target),
                share(item.figures.target_share.as_ref())
            ),
        })
        .collect();
    html! {
        section class="mt-5" aria-labelledby=(id) {
            h2 id=(id) { (title) }
            (bar_chart(&format!("grafico-{id}"), &format!("Quota dell'obiettivo raggiunta — {}", title.to_lowercase()), &bars, Some(100.0)))
            (table(&format!("tabella-{id}"), &format!("Persone formate rispetto all'obiettivo, ore e completamenti — {}", title.to_lowercase()), group, view, true))
            p { "Scarica la tabella: " (download_links(&format!("/v1/formazione/progress?group={}", group.as_str()), &query(filter))) }
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

fn targets_table(targets: &FormazioneTargets) -> Markup {
    html! {
        (scroll_table("Tabella degli obiettivi del programma", &html! {
            table class="table table-sm" id="tabella-obiettivi" {
                caption { "Obiettivi del programma: persone da formare per settore" }
                thead { tr {
                    th scope="col" { "Settore" }
                    th scope="col" class="text-end" { "Per Provincia" }
                    th scope="col" class="text-end" { "Nazionale (" (count(targets.provinces)) " Province)" }
                } }
                tbody { @for t in &targets.sectors { tr {
                    th scope="row" { (t.label) }
                    td class="text-end" { (count(t.people_per_province)) }
                    td class="text-end" { (count(targets.national(&t.sector))) }
                } } }
            }
        }))
        p class="small" {
            "Ore di formazione per dipendente all'anno: almeno " (count(targets.hours_per_person_year))
            ". Revisione " (targets.revision) " del " (format::date(&targets.updated_at.to_string()))
            ". Documento firmato dall'hub per i nodi: " a href="/v1/formazione/targets" { "obiettivi firmati (JSON)" } "."
        }
    }
}

/// What the page shows.
struct Loaded {
    targets: FormazioneTargets,
    sectors: ProgressView,
    regions: ProgressView,
    provinces: ProgressView,
    behind: ProgressView,
    years: Vec<i64>,
    regions_list: Vec<String>,
}

/// `GET /formazione`: the national view of training.
pub async fn show_formazione(
    State(state): State<AppState>,
    Query(params): Query<PageParams>,
) -> Response {
    let mut errors: Vec<(&'static str, String)> = Vec::new();
    let mut filter = Filter::default();
    if let Some(text) = given(params.year.as_ref()) {
        match parse_year(text) {
            Some(year) => filter.year = Some(year),
            None => errors.push((
                "year",
                format!(
                    "«{text}» non è un anno: scegliere un anno dall'elenco (filtro non applicato)."
                ),
            )),
        }
    }
    let region = given(params.region.as_ref()).map(str::to_owned);
    let loaded = state
        .db
        .call(move |conn| {
            let regions_list = crate::db::sape::regions(conn)?;
            let mut filter = filter;
            let mut errors = errors;
            if let Some(region) = region {
                if regions_list.contains(&region) {
                    filter.region = Some(region);
                } else {
                    errors.push((
                        "region",
                        format!("«{region}» non è una regione: scegliere dall'elenco (filtro non applicato)."),
                    ));
                }
            }
            let targets = formazione::targets(conn)?;
            let programme = formazione::provinces(
                conn,
                &Filter {
                    year: filter.year,
                    region: None,
                },
            )?;
            let provinces = if filter.region.is_some() {
                formazione::provinces(conn, &filter)?
            } else {
                programme.clone()
            };
            let view = |group, behind| progress(&targets, &programme, &provinces, group, &filter, behind);
            let loaded = Loaded {
                sectors: view(Group::Sector, false),
                regions: view(Group::Region, false),
                provinces: view(Group::Province, false),
                behind: view(Group::Province, true),
                years: formazione::years(conn)?,
                regions_list,
                targets,
            };
            Ok::<_, HubError>((loaded, filter, errors))
        })
        .await;
    let (loaded, filter, errors) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failure_page(&state, PATH, error),
    };
    let error = |field: &str| {
        errors
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, m)| m.clone())
    };
    let total = &loaded.provinces.total;
    let main = html! {
        h1 { "Formazione del personale delle Province e dei Comuni" }
        p class="lead" {
            "I progressi delle Province verso gli obiettivi di formazione del programma: quante persone hanno formato "
            "in ciascun settore rispetto all'obiettivo, quante ore hanno erogato e con quali completamenti, "
            "come ciascuna Provincia li pubblica nel dataset nazionale della formazione (solo conteggi e ore, nessun dato personale)."
        }
        @if !errors.is_empty() {
            div class="alert alert-danger" role="alert" { p class="mb-0" { "Un filtro non è valido e non è stato applicato: vedere il messaggio accanto al campo." } }
        }
        form method="get" action=(PATH) class="row g-3 my-3" aria-label="Filtri" {
            div class="col-12 col-md-4 select-wrapper" {
                label for="year" { "Anno" }
                select id="year" name="year" aria-invalid=[error("year").map(|_| "true")] aria-describedby=[error("year").map(|_| "year-errore")] {
                    option value="" { "Tutti gli anni" }
                    @for year in &loaded.years {
                        option value=(year) selected[filter.year == Some(*year)] { (year) }
                    }
                }
                @if let Some(message) = error("year") { div class="small text-danger mt-1" id="year-errore" { (message) } }
            }
            div class="col-12 col-md-4 select-wrapper" {
                label for="region" { "Regione" }
                select id="region" name="region" aria-invalid=[error("region").map(|_| "true")] aria-describedby=[error("region").map(|_| "region-errore")] {
                    option value="" { "Tutte le regioni" }
                    @for region in &loaded.regions_list {
                        option value=(region) selected[filter.region.as_deref() == Some(region.as_str())] { (region) }
                    }
                }
                @if let Some(message) = error("region") { div class="small text-danger mt-1" id="region-errore" { (message) } }
            }
            div class="col-12 col-md-4 d-flex align-items-end" {
                button type="submit" class="btn btn-primary" { "Aggiorna" }
            }
        }
        p { a href=(COURSES_PATH) { "Catalogo nazionale dei corsi aperti al personale di altre Province" } }
        h2 class="mt-4" id="obiettivi" { "Obiettivi del programma" }
        (targets_table(&loaded.targets))
        @if total.publishing == 0 {
            div class="alert alert-info" role="status" id="nessun-dato" {
                "Nessuna Provincia"
                @if filter.region.is_some() { " della regione scelta" }
                " ha ancora pubblicato il dataset della formazione."
            }
        } @else {
            div class="row g-3 my-2" id="sintesi" {
                (card(&format!("{} su {}", count(total.figures.people_trained), count(total.figures.target)), "Persone formate nei settori del programma, rispetto all'obiettivo"))
                (card(&share(total.figures.target_share.as_ref()), "Quota dell'obiettivo raggiunta"))
                (card(&format!("{} su {}", count(total.behind), count(total.provinces)), "Province in ritardo"))
                (card(&format::decimal(&total.figures.hours_delivered), "Ore di formazione erogate"))
                (card(&format::decimal(&total.figures.hours_attended), "Ore frequentate"))
                (card(&share(total.figures.completion_rate.as_ref()), "Tasso di completamento (completati su iscritti)"))
            }
            nav aria-label="Sezioni" { ul class="list-inline" {
                li class="list-inline-item" { a href="#per-settore" { "Per settore" } }
                li class="list-inline-item" { a href="#per-regione" { "Per regione" } }
                li class="list-inline-item" { a href="#in-ritardo" { "Province in ritardo" } }
                li class="list-inline-item" { a href="#per-provincia" { "Per Provincia" } }
            } }
            (section("per-settore", "Per settore", Group::Sector, &loaded.sectors, &filter))
            (section("per-regione", "Per regione", Group::Region, &loaded.regions, &filter))
            section class="mt-5" aria-labelledby="in-ritardo" {
                h2 id="in-ritardo" { "Province in ritardo" }
                p { "Le Province la cui quota dell'obiettivo raggiunta è inferiore a quella dell'intero programma ("
                    (share(loaded.provinces.total.figures.target_share.as_ref()))
                    @if filter.region.is_some() { ", calcolata su tutte le regioni" }
                    ")." }
                @if loaded.behind.items.is_empty() {
                    p id="nessuna-in-ritardo" { "Nessuna Provincia è in ritardo." }
                } @else {
                    (table("tabella-in-ritardo", "Province in ritardo rispetto al programma", Group::Province, &loaded.behind, false))
                }
                p { "Scarica l'elenco: " (download_links("/v1/formazione/progress?group=province&behind=1", &query(&filter))) }
            }
            (section("per-provincia", "Per Provincia", Group::Province, &loaded.provinces, &filter))
            h2 class="mt-5 h4" { "Come leggere i dati" }
            ul class="small" {
                li { "Le persone formate sono quelle che hanno completato almeno un corso del settore nell'anno, sommate sugli anni scelti. "
                     "Per ogni Provincia e settore sono conteggiate fino all'obiettivo della Provincia: chi supera l'obiettivo in un settore non compensa un altro settore o un'altra Provincia." }
                li { "La quota dell'obiettivo è il numero delle persone conteggiate diviso l'obiettivo. Una Provincia è in ritardo quando la sua quota è inferiore a quella dell'intero programma negli stessi anni; le Province che non pubblicano il dataset contano zero." }
                li { "Le ore erogate sono quelle delle sessioni programmate negli anni scelti (per l'anno in corso anche quelle non ancora svolte); le ore frequentate quelle dei registri di presenza." }
                li { "Il tasso di completamento è il numero dei completati diviso quello degli iscritti. Il settore «Altri settori» conta nelle ore e nei completamenti ma non ha obiettivo." }
                li { "Schema dei dati: " code { "protocol/datasets/formazione_aggregati.md" } ". I corsi che le Province aprono al personale di altre Province sono nel " a href=(COURSES_PATH) { "catalogo nazionale dei corsi" } "." }
            }
        }
        p class="small" { (ATTRIBUTION) ". Dati aperti: "
            a href="/v1/formazione/progress" { "progressi per Provincia (JSON)" } ", "
            a href="/v1/datasets/formazione_aggregati/rows" { "tutte le righe del dataset (JSON)" } "." }
    };
    let response = render(&state, "Formazione", PATH, &main);
    if errors.is_empty() {
        response
    } else {
        (StatusCode::BAD_REQUEST, response).into_response()
    }
}

/// The query string of the catalogue page (other parameters are ignored).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CoursePageParams {
    q: Option<String>,
    sector: Option<String>,
    region: Option<String>,
    province: Option<String>,
    pagina: Option<String>,
}

/// `GET /formazione/corsi`: the national catalogue of courses open to other Provinces.
pub async fn show_courses(
    State(state): State<AppState>,
    Query(params): Query<CoursePageParams>,
) -> Response {
    let mut errors: Vec<(&'static str, String)> = Vec::new();
    let mut query = CourseParams::default();
    // Each filter is checked alone, so that one wrong value is named and the others apply.
    let mut keep =
        |name: &'static str, value: Option<&String>, set: fn(&mut CourseParams, String)| {
            let Some(text) = given(value) else { return };
            let mut probe = CourseParams::default();
            set(&mut probe, text.to_owned());
            match probe.parse() {
                Ok(_) => set(&mut query, text.to_owned()),
                Err(problem) => errors.push((
                    name,
                    format!(
                        "{} (filtro non applicato).",
                        problem.detail().unwrap_or("Valore non valido")
                    ),
                )),
            }
        };
    keep("q", params.q.as_ref(), |p, v| p.q = Some(v));
    keep("sector", params.sector.as_ref(), |p, v| p.sector = Some(v));
    keep("province", params.province.as_ref(), |p, v| {
        p.province = Some(v);
    });
    keep("pagina", params.pagina.as_ref(), |p, v| p.page = Some(v));
    let region = given(params.region.as_ref()).map(str::to_owned);
    let Ok(mut request) = query.parse() else {
        return failure_page(
            &state,
            COURSES_PATH,
            HubError::Problem(pico_service::Problem::internal()),
        );
    };
    let loaded = state
        .db
        .call(move |conn| {
            let regions = crate::db::sape::regions(conn)?;
            let mut errors = errors;
            if let Some(region) = region {
                if regions.contains(&region) {
                    request.filter.region = Some(region);
                } else {
                    errors.push(("region", format!("«{region}» non è una regione: scegliere dall'elenco (filtro non applicato).")));
                }
            }
            let (total, items) = courses::search(conn, &request, false)?;
            let provinces = formazione::course_provinces(conn)?;
            Ok::<_, HubError>((request, errors, regions, provinces, total, items))
        })
        .await;
    let (request, errors, regions, provinces, total, items) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failure_page(&state, COURSES_PATH, error),
    };
    let error = |field: &str| {
        errors
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, m)| m.clone())
    };
    let filter = &request.filter;
    let words = request.words.join(" ");
    let here = link(
        COURSES_PATH,
        &[
            ("q", Some(words.as_str()).filter(|words| !words.is_empty())),
            ("sector", filter.sector.as_deref()),
            ("region", filter.region.as_deref()),
            ("province", filter.province.as_deref()),
        ],
    );
    let joiner = if here.contains('?') { "&" } else { "?" };
    let page_link = |n: u64| format!("{here}{joiner}pagina={n}");
    let csv = format!(
        "/v1/formazione/courses{}{}format=csv",
        &here[COURSES_PATH.len()..],
        if here.contains('?') { "&" } else { "?" }
    );
    let pages = total.div_ceil(request.per_page).max(1);
    let field = |name: &'static str, label: &str, control: Markup| {
        html! {
            @let message = error(name);
            label for=(name) { (label) }
            (control)
            @if let Some(message) = message { div class="small text-danger mt-1" id=(format!("{name}-errore")) { (message) } }
        }
    };
    let invalid = |name: &str| error(name).map(|_| "true");
    let described = |name: &str| error(name).map(|_| format!("{name}-errore"));
    let main = html! {
        h1 { "Catalogo nazionale dei corsi" }
        p class="lead" {
            "Le edizioni dei corsi che le Province aprono al personale delle altre Province, come ciascuna le pubblica "
            "nel dataset nazionale dei corsi (nessun dato personale: né docenti né iscritti). Per iscriversi, rivolgersi alla Provincia che offre il corso."
        }
        p { a href=(PATH) { "Torna ai progressi della formazione" } }
        @if !errors.is_empty() {
            div class="alert alert-danger" role="alert" { p class="mb-0" { "Un filtro non è valido e non è stato applicato: vedere il messaggio accanto al campo." } }
        }
        form method="get" action=(COURSES_PATH) class="row g-3 my-3" aria-label="Cerca nel catalogo" {
            div class="col-12 col-md-6" {
                (field("q", "Parole nel titolo o nelle competenze", html! {
                    input class="form-control" type="search" id="q" name="q" value=(words) maxlength="200" aria-invalid=[invalid("q")] aria-describedby=[described("q")];
                }))
            }
            div class="col-12 col-md-6 select-wrapper" {
                (field("sector", "Settore", html! {
                    select id="sector" name="sector" aria-invalid=[invalid("sector")] aria-describedby=[described("sector")] {
                        option value="" { "Tutti i settori" }
                        @for (code, label) in courses::SECTORS {
                            option value=(code) selected[filter.sector.as_deref() == Some(code)] { (label) }
                        }
                    }
                }))
            }
            div class="col-12 col-md-6 select-wrapper" {
                (field("region", "Regione", html! {
                    select id="region" name="region" aria-invalid=[invalid("region")] aria-describedby=[described("region")] {
                        option value="" { "Tutte le regioni" }
                        @for region in &regions {
                            option value=(region) selected[filter.region.as_deref() == Some(region.as_str())] { (region) }
                        }
                    }
                }))
            }
            div class="col-12 col-md-6 select-wrapper" {
                (field("province", "Provincia", html! {
                    select id="province" name="province" aria-invalid=[invalid("province")] aria-describedby=[described("province")] {
                        option value="" { "Tutte le Province" }
                        @for (code, name) in &provinces {
                            option value=(code) selected[filter.province.as_deref() == Some(code.as_str())] { (name) }
                        }
                    }
                }))
            }
            div class="col-12" { button type="submit" class="btn btn-primary" { "Cerca" } }
        }
        @if let Some(message) = error("pagina") { p class="text-danger" { (message) } }
        p id="conteggio" role="status" {
            @if total == 1 { "1 edizione" } @else { (count(total)) " edizioni" }
            @if pages > 1 { " — pagina " (request.page.min(pages)) " di " (count(pages)) }
        }
        @if !items.is_empty() {
            (scroll_table("Tabella delle edizioni dei corsi aperti", &html! {
                table class="table table-sm table-striped" id="tabella-corsi" {
                    caption { "Edizioni dei corsi aperti al personale di altre Province" }
                    thead { tr {
                        th scope="col" { "Corso" }
                        th scope="col" { "Provincia" }
                        th scope="col" { "Settore" }
                        th scope="col" { "Modalità" }
                        th scope="col" { "Competenze" }
                        th scope="col" { "Date" }
                        th scope="col" class="text-end" { "Ore" }
                        th scope="col" class="text-end" { "Posti" }
                        th scope="col" { "Iscrizioni" }
                    } }
                    tbody { @for c in &items { tr {
                        th scope="row" { (c.title) }
                        td { (c.province_name) " (" (c.region) ")" }
                        td { (c.sector_label) }
                        td { (courses::mode_label(&c.mode)) }
                        td { (courses::competence(c)) }
                        td {
                            @match (&c.first_day, &c.last_day) {
                                (Some(first), Some(last)) if first != last => { "dal " (format::civil_date(first)) " al " (format::civil_date(last)) }
                                (Some(first), _) => { (format::civil_date(first)) }
                                _ => { "—" }
                            }
                        }
                        td class="text-end" { (count(c.hours.max(0).unsigned_abs())) }
                        td class="text-end" { (count(c.seats.max(0).unsigned_abs())) }
                        td {
                            @match (&c.enrol_opens, &c.enrol_closes) {
                                (Some(opens), Some(closes)) => { "dal " (format::civil_date(opens)) " al " (format::civil_date(closes)) }
                                _ => { "—" }
                            }
                        }
                    } } }
                }
            }))
        }
        @if pages > 1 {
            nav aria-label="Pagine del catalogo" { ul class="pagination flex-wrap" {
                @if request.page > 1 {
                    li class="page-item" { a class="page-link" href=(page_link(request.page - 1)) { "Pagina precedente" } }
                }
                @if request.page < pages {
                    li class="page-item" { a class="page-link" href=(page_link(request.page + 1)) { "Pagina successiva" } }
                }
            } }
        }
        p { "Scarica l'elenco: "
            a href=(csv) { "CSV" } " · "
            a href=(format!("{csv}&sep=semicolon&bom=1")) { "CSV con punto e virgola (fogli di calcolo in italiano)" } " · "
            a href=(format!("/v1/formazione/courses{}", &here[COURSES_PATH.len()..])) { "JSON" } }
        p class="small" { (ATTRIBUTION) ". Schema dei dati: " code { "protocol/datasets/formazione_corsi.md" } "." }
    };
    let response = render(&state, "Catalogo nazionale dei corsi", COURSES_PATH, &main);
    if errors.is_empty() {
        response
    } else {
        (StatusCode::BAD_REQUEST, response).into_response()
    }
}
