//! The public page of the national procurement view (`/appalti`): headline figures, then for
//! each grouping a chart of the number and of the value of the procedures, each followed by
//! the table of the same figures and its CSV; then the Comuni served.
//!
//! Charts are drawn in HTML (`crate::pages::charts`), one image each for assistive technology
//! with a text alternative that lists their values. Numbers, money and months are written the
//! Italian way ([`crate::format`]); CPV divisions carry their official Italian label or, where
//! there is none, the code alone.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use pico_service::json::Query;
use serde::Deserialize;

use super::{ATTRIBUTION, ComuneView, Figures, SummaryView, group_title};
use crate::db::appalti::{self, Filter, Group};
use crate::error::HubError;
use crate::format::{self, count, euro};
use crate::pages::charts::{Bar, bar_chart};
use crate::pages::{failure_page, render, scroll_table};
use crate::state::AppState;

/// The page's path.
pub const PATH: &str = "/appalti";

/// The page route.
pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(show_appalti))
}

/// Groups the page shows, in order, with the id of their section.
const SECTIONS: [(Group, &str); 8] = [
    (Group::Province, "per-provincia"),
    (Group::Region, "per-regione"),
    (Group::ProcedureType, "per-tipo-di-procedura"),
    (Group::CpvDivision, "per-divisione-cpv"),
    (Group::Year, "per-anno"),
    (Group::Month, "per-mese"),
    (Group::ContractType, "per-tipo-di-contratto"),
    (Group::State, "per-stato"),
];

fn percent(value: Option<&String>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format::percent(v))
}

fn days(value: Option<&String>) -> String {
    value.map_or_else(
        || "—".to_owned(),
        |v| format!("{} giorni", format::decimal(v)),
    )
}

/// Euro as whole units for chart lengths (cents do not change a bar).
fn euro_units(decimal: &str) -> u64 {
    decimal
        .split('.')
        .next()
        .and_then(|units| units.parse().ok())
        .unwrap_or(0)
}

fn group_key_label(group: Group, key: &str, label: &str) -> String {
    match group {
        Group::Province | Group::ProcedureType if !key.is_empty() => {
            if label.is_empty() {
                key.to_owned()
            } else {
                format!("{key} {label}")
            }
        }
        Group::CpvDivision if !key.is_empty() => format!("{key} {label}").trim_end().to_owned(),
        Group::Year if !key.is_empty() => key.to_owned(),
        Group::Month if !key.is_empty() => format::month(key),
        _ => label.to_owned(),
    }
}

fn csv_link(base: &str, filter: &Filter) -> String {
    let mut link = base.to_owned();
    if let Some(year) = filter.year {
        link.push_str(&format!("&year={year}"));
    }
    if let Some(province) = &filter.province {
        link.push_str(&format!("&province={province}"));
    }
    link
}

fn figures_cells(figures: &Figures) -> Markup {
    html! {
        td class="text-end" { (count(figures.procedures)) }
        td class="text-end" { (count(figures.lots)) }
        td class="text-end" { (euro(&figures.value)) }
        td class="text-end" { (euro(&figures.awarded_value)) }
        td class="text-end" { (count(figures.pnrr_procedures)) }
        td class="text-end" { (percent(figures.pnrr_share_procedures.as_ref())) }
        td class="text-end" { (percent(figures.pnrr_share_value.as_ref())) }
        td class="text-end" { (percent(figures.avg_ribasso.as_ref())) }
        td class="text-end" { (days(figures.avg_duration_days.as_ref())) }
    }
}

fn section(group: Group, id: &str, view: &SummaryView, filter: &Filter) -> Markup {
    let title = group_title(group);
    let bars = |pick: &dyn Fn(&Figures) -> (u64, String)| -> Vec<Bar> {
        view.items
            .iter()
            .map(|item| {
                let (length, shown) = pick(&item.figures);
                Bar {
                    label: group_key_label(group, &item.key, &item.label),
                    length: length as f64,
                    shown,
                }
            })
            .collect()
    };
    let by_count = bars(&|f| (f.procedures, count(f.procedures)));
    let by_value = bars(&|f| (euro_units(&f.value), euro(&f.value)));
    let csv = csv_link(
        &format!("/v1/appalti/summary?group={}&format=csv", group.as_str()),
        filter,
    );
    html! {
        section class="mt-5" aria-labelledby=(id) {
            h2 id=(id) { "Per " (title.to_lowercase()) }
            (bar_chart(&format!("grafico-{id}-numero"), &format!("Numero di procedure per {}", title.to_lowercase()), &by_count, None))
            (bar_chart(&format!("grafico-{id}-valore"), &format!("Valore dei lotti a base di gara per {}", title.to_lowercase()), &by_value, None))
            (scroll_table(&format!("Tabella delle procedure per {}", title.to_lowercase()), &html! {
                table class="table table-sm table-striped" id=(format!("tabella-{id}")) {
                    caption { "Procedure SUA per " (title.to_lowercase()) ": numero, valore, quota PNRR, ribasso medio e durata media" }
                    thead { tr {
                        th scope="col" { (title) }
                        th scope="col" class="text-end" { "Procedure" }
                        th scope="col" class="text-end" { "Lotti" }
                        th scope="col" class="text-end" { "Valore a base di gara" }
                        th scope="col" class="text-end" { "Valore aggiudicato" }
                        th scope="col" class="text-end" { "Procedure PNRR" }
                        th scope="col" class="text-end" { "Quota PNRR (numero)" }
                        th scope="col" class="text-end" { "Quota PNRR (valore)" }
                        th scope="col" class="text-end" { "Ribasso medio" }
                        th scope="col" class="text-end" { "Durata media richiesta–aggiudicazione" }
                    } }
                    tbody {
                        @for item in &view.items {
                            tr {
                                th scope="row" { (group_key_label(group, &item.key, &item.label)) }
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
            @if group == Group::CpvDivision {
                p class="small" { "Una procedura con lotti in più divisioni CPV è contata in ciascuna: la somma delle righe può superare il totale." }
            }
            p { "Scarica la tabella: "
                a href=(csv) { "CSV" } " · "
                a href=(format!("{csv}&sep=semicolon&bom=1")) { "CSV con punto e virgola (fogli di calcolo in italiano)" } " · "
                a href=(csv_link(&format!("/v1/appalti/summary?group={}", group.as_str()), filter)) { "JSON" } }
        }
    }
}

fn comuni_table(comuni: &[ComuneView], filter: &Filter) -> Markup {
    let csv = csv_link("/v1/appalti/comuni?format=csv", filter);
    html! {
        (scroll_table("Tabella dei Comuni serviti", &html! {
            table class="table table-sm table-striped" id="tabella-comuni" {
                caption { "Comuni serviti dalla SUA: procedure, iniziative aggregate, lotti e valore" }
                thead { tr {
                    th scope="col" { "Provincia" } th scope="col" { "Codice" } th scope="col" { "Comune" }
                    th scope="col" class="text-end" { "Procedure" } th scope="col" class="text-end" { "Di cui aggregate" }
                    th scope="col" class="text-end" { "Lotti" } th scope="col" class="text-end" { "Valore dei lotti" }
                } }
                tbody { @for c in comuni { tr {
                    td { (c.province) } td { (c.comune) } th scope="row" { (c.name) }
                    td class="text-end" { (count(c.procedures)) } td class="text-end" { (count(c.aggregated_procedures)) }
                    td class="text-end" { (count(c.lots)) } td class="text-end" { (euro(&c.value)) }
                } } }
            }
        }))
        p class="small" { "Il valore di un'iniziativa aggregata è contato per intero per ciascun Comune servito: i valori dei Comuni non si sommano." }
        p { "Scarica l'elenco: " a href=(csv) { "CSV" } " · " a href=(format!("{csv}&sep=semicolon&bom=1")) { "CSV con punto e virgola (fogli di calcolo in italiano)" } }
    }
}

/// Everything the page shows.
struct Loaded {
    sections: Vec<(Group, &'static str, SummaryView)>,
    /// Provinces with rows (code, name), for the filter.
    provinces: Vec<(String, String)>,
    years: Vec<i64>,
    comuni: Vec<ComuneView>,
}

/// The page's query string: the two filters of its form (other parameters are ignored; the
/// API's `group`, `format` and `sep` mean nothing here).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageParams {
    /// Year of publication.
    year: Option<String>,
    /// ISTAT historical code of a Province.
    province: Option<String>,
}

/// The filters the page can apply, and an Italian message for each one it cannot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct PageFilter {
    filter: Filter,
    year_error: Option<String>,
    province_error: Option<String>,
}

impl PageParams {
    fn parse(&self) -> PageFilter {
        let mut out = PageFilter::default();
        if let Some(text) = self
            .year
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            match text
                .parse::<i64>()
                .ok()
                .filter(|y| (1900..=2999).contains(y))
            {
                Some(year) => out.filter.year = Some(year),
                None => {
                    out.year_error = Some(format!(
                        "«{text}» non è un anno: scegliere un anno dall'elenco (filtro non applicato)."
                    ));
                }
            }
        }
        if let Some(text) = self
            .province
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            match pico_protocol::ProvinceCode::parse(text) {
                Ok(code) => out.filter.province = Some(code.as_str().to_owned()),
                Err(_) => {
                    out.province_error = Some(format!(
                        "«{text}» non è il codice di una Provincia: scegliere dall'elenco (filtro non applicato)."
                    ));
                }
            }
        }
        out
    }
}

fn field_error(id: &str, message: Option<&String>) -> Markup {
    html! { @if let Some(message) = message { div class="small text-danger mt-1" id=(id) { (message) } } }
}

/// `GET /appalti`: the national procurement page.
pub async fn show_appalti(
    State(state): State<AppState>,
    Query(params): Query<PageParams>,
) -> Response {
    let mut parsed = params.parse();
    let filter = parsed.filter.clone();
    let loaded = state
        .db
        .call(move |conn| {
            // A well-formed code that names no Province is left out, like a malformed one.
            let mut filter = filter;
            let mut unknown = None;
            if let Some(code) = filter.province.clone()
                && let Ok(parsed) = pico_protocol::ProvinceCode::parse(&code)
                && !crate::db::registry::exists(conn, parsed)?
            {
                filter.province = None;
                unknown = Some(code);
            }
            let mut sections = Vec::new();
            for (group, id) in SECTIONS {
                let summary = appalti::summary(conn, group, &filter)?;
                sections.push((group, id, SummaryView::of(&summary, group, &filter)));
            }
            let provinces = appalti::summary(conn, Group::Province, &Filter::default())?
                .groups
                .into_iter()
                .map(|g| (g.key, g.label))
                .collect();
            let years = appalti::years(conn)?;
            let comuni = appalti::comuni(conn, &filter)?
                .iter()
                .map(ComuneView::of)
                .collect();
            Ok::<_, HubError>((
                Loaded {
                    sections,
                    provinces,
                    years,
                    comuni,
                },
                filter,
                unknown,
            ))
        })
        .await;
    let (loaded, filter, unknown) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failure_page(&state, PATH, error),
    };
    if let Some(code) = unknown {
        parsed.province_error = Some(format!(
            "Nessuna Provincia ha il codice {code} nell'elenco ISTAT (filtro non applicato)."
        ));
    }
    let invalid = parsed.year_error.is_some() || parsed.province_error.is_some();
    let filter = &filter;
    let total = loaded
        .sections
        .first()
        .map(|(_, _, view)| view.total.clone());
    let main = html! {
        h1 { "Appalti delle Stazioni Uniche Appaltanti" }
        p class="lead" {
            "Le procedure che le SUA delle Province svolgono per i Comuni, dalla pubblicazione in poi, "
            "come ciascuna Provincia le pubblica nel dataset nazionale degli appalti (una riga per lotto)."
        }
        @if invalid {
            div class="alert alert-danger" role="alert" { p class="mb-0" { "Un filtro non è valido e non è stato applicato: vedere il messaggio accanto al campo." } }
        }
        form method="get" action=(PATH) class="row g-3 my-3" aria-label="Filtri" {
            div class="col-12 col-md-4 select-wrapper" {
                label for="year" { "Anno di pubblicazione" }
                select id="year" name="year" aria-invalid=[parsed.year_error.as_ref().map(|_| "true")]
                    aria-describedby=[parsed.year_error.as_ref().map(|_| "year-errore")] {
                    option value="" { "Tutti gli anni" }
                    @for year in &loaded.years {
                        option value=(year) selected[filter.year == Some(*year)] { (year) }
                    }
                }
                (field_error("year-errore", parsed.year_error.as_ref()))
            }
            div class="col-12 col-md-6 select-wrapper" {
                label for="province" { "Provincia" }
                select id="province" name="province" aria-invalid=[parsed.province_error.as_ref().map(|_| "true")]
                    aria-describedby=[parsed.province_error.as_ref().map(|_| "province-errore")] {
                    option value="" { "Tutte le Province" }
                    @for (code, name) in &loaded.provinces {
                        option value=(code) selected[filter.province.as_deref() == Some(code.as_str())] { (code) " — " (name) }
                    }
                }
                (field_error("province-errore", parsed.province_error.as_ref()))
            }
            div class="col-12 col-md-2 d-flex align-items-end" {
                button type="submit" class="btn btn-primary" { "Aggiorna" }
            }
        }
        @match total.filter(|t| t.lots > 0) {
            None => {
                div class="alert alert-info" role="status" id="nessun-dato" {
                    @if loaded.provinces.is_empty() {
                        "Nessuna Provincia ha ancora pubblicato il dataset appalti."
                    } @else {
                        "Nessuna procedura corrisponde ai filtri scelti."
                    }
                }
            }
            Some(total) => {
                div class="row g-3 my-2" id="sintesi" {
                    (card(&count(total.procedures), "Procedure"))
                    (card(&euro(&total.value), "Valore dei lotti a base di gara"))
                    (card(&percent(total.pnrr_share_procedures.as_ref()), "Procedure finanziate dal PNRR"))
                    (card(&percent(total.pnrr_share_value.as_ref()), "Valore finanziato dal PNRR"))
                    (card(&percent(total.avg_ribasso.as_ref()), "Ribasso medio"))
                    (card(&days(total.avg_duration_days.as_ref()), "Durata media dalla richiesta all'aggiudicazione"))
                }
                nav aria-label="Sezioni" { ul class="list-inline" {
                    @for (group, id, _) in &loaded.sections {
                        li class="list-inline-item" { a href=(format!("#{id}")) { "Per " (group_title(*group).to_lowercase()) } }
                    }
                    li class="list-inline-item" { a href="#comuni" { "Comuni serviti" } }
                } }
                @for (group, id, view) in &loaded.sections {
                    (section(*group, id, view, filter))
                }
                section class="mt-5" aria-labelledby="comuni" {
                    h2 id="comuni" { "Comuni serviti" }
                    (comuni_table(&loaded.comuni, filter))
                }
                h2 class="mt-5 h4" { "Come leggere i dati" }
                ul class="small" {
                    li { "Sono contate le procedure pubblicate, comprese quelle deserte e quelle annullate dopo la pubblicazione (vedi la tabella per stato)." }
                    li { "Il valore è la somma degli importi a base di gara dei lotti; il valore aggiudicato la somma degli importi di aggiudicazione." }
                    li { "Il ribasso medio è la media semplice dei ribassi dei lotti aggiudicati; la durata media è la media, sui lotti aggiudicati, dei giorni dalla richiesta del Comune all'aggiudicazione." }
                    li { "Anno e mese sono quelli di pubblicazione. Schema dei dati: " code { "protocol/datasets/appalti.md" } "." }
                }
            }
        }
        p class="small" { (ATTRIBUTION) ". Dati aperti: "
            a href="/v1/appalti/summary" { "riepiloghi (JSON)" } ", "
            a href="/v1/appalti/comuni" { "Comuni serviti (JSON)" } ", "
            a href="/v1/datasets/appalti/rows" { "tutte le righe del dataset (JSON)" } "." }
    };
    let response = render(&state, "Appalti delle SUA", PATH, &main);
    if invalid {
        (StatusCode::BAD_REQUEST, response).into_response()
    } else {
        response
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appalti::scaled;

    #[test]
    fn chart_lengths_and_labels() {
        assert_eq!(euro_units("1234.99"), 1234);
        assert_eq!(scaled(1, 2), "0.01");
        assert_eq!(group_key_label(Group::Month, "2025-03", ""), "marzo 2025");
        assert_eq!(
            group_key_label(Group::CpvDivision, "45", "Lavori di costruzione"),
            "45 Lavori di costruzione"
        );
        // A division without an official Italian label shows its code alone.
        assert_eq!(group_key_label(Group::CpvDivision, "99", ""), "99");
    }

    #[test]
    fn page_filters_get_italian_messages() {
        let parsed = PageParams {
            year: Some("xx".into()),
            province: Some("26".into()),
        }
        .parse();
        assert_eq!(parsed.filter, Filter::default());
        assert!(parsed.year_error.unwrap().contains("non è un anno"));
        assert!(parsed.province_error.unwrap().contains("non è il codice"));
        let parsed = PageParams {
            year: Some(" 2025 ".into()),
            province: Some("026".into()),
        }
        .parse();
        assert_eq!(
            parsed.filter,
            Filter {
                year: Some(2025),
                province: Some("026".into())
            }
        );
    }
}
