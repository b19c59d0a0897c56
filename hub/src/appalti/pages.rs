//! The public page of the national procurement view (`/appalti`): headline figures, then for
//! each grouping a chart of the number and of the value of the procedures, each followed by
//! the table of the same figures and its CSV; then the Comuni served.
//!
//! Charts are SVG drawn here (no script), marked as images with a text alternative that
//! lists their values, so they read with a screen reader and print as they are.

use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use pico_service::json::Query;
use pico_service::web;

use super::{ATTRIBUTION, ComuneView, Figures, Params, SummaryView, group_title};
use crate::db::appalti::{self, Filter, Group};
use crate::error::HubError;
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

/// Groups digits by thousands the Italian way (`1.234.567`).
fn thousands(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// A decimal text (`1234.5`, `-3.250`) in Italian notation (`1.234,5`, `-3,250`).
fn italian(decimal: &str) -> String {
    let (sign, body) = match decimal.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", decimal),
    };
    match body.split_once('.') {
        Some((int, frac)) => format!("{sign}{},{frac}", thousands(int)),
        None => format!("{sign}{}", thousands(body)),
    }
}

fn euro(decimal: &str) -> String {
    format!("€ {}", italian(decimal))
}

fn count(n: u64) -> String {
    thousands(&n.to_string())
}

fn percent(value: Option<&String>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{} %", italian(v)))
}

fn days(value: Option<&String>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{} giorni", italian(v)))
}

/// Euro as whole units for chart lengths (cents do not change a bar).
fn euro_units(decimal: &str) -> u64 {
    decimal
        .split('.')
        .next()
        .and_then(|units| units.parse().ok())
        .unwrap_or(0)
}

/// Shortens a label for the chart (the table has it whole).
fn short(label: &str) -> String {
    const MAX: usize = 34;
    if label.chars().count() <= MAX {
        label.to_owned()
    } else {
        let mut cut: String = label.chars().take(MAX - 1).collect();
        cut.push('…');
        cut
    }
}

/// A horizontal bar chart: `(label, length, shown value)` per bar.
fn bar_chart(id: &str, title: &str, bars: &[(String, u64, String)]) -> Markup {
    let max = bars.iter().map(|(_, v, _)| *v).max().unwrap_or(0).max(1);
    let bar_height = 22u64;
    let height = bar_height * bars.len() as u64 + 10;
    let summary = bars
        .iter()
        .map(|(label, _, shown)| format!("{label}: {shown}"))
        .collect::<Vec<_>>()
        .join("; ");
    html! {
        figure class="my-3" {
            svg id=(id) role="img" aria-label=(format!("{title}. {summary}")) width="100%"
                height=(height) viewBox=(format!("0 0 760 {height}")) preserveAspectRatio="xMinYMin meet" {
                @for (i, (label, value, shown)) in bars.iter().enumerate() {
                    @let y = i as u64 * bar_height + 5;
                    @let width = 330 * value / max;
                    text x="0" y=(y + 15) font-size="12" fill="#1a1a1a" { (short(label)) }
                    rect x="250" y=(y + 2) width=(width.max(1)) height=(bar_height - 6) fill="#0066cc" {}
                    text x=(256 + width) y=(y + 15) font-size="12" fill="#1a1a1a" { (shown) }
                }
            }
            figcaption class="small" { (title) " (i valori sono nella tabella che segue)" }
        }
    }
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
        Group::Year | Group::Month if !key.is_empty() => key.to_owned(),
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
    let bars = |pick: &dyn Fn(&Figures) -> (u64, String)| -> Vec<(String, u64, String)> {
        view.items
            .iter()
            .map(|item| {
                let (length, shown) = pick(&item.figures);
                (
                    group_key_label(group, &item.key, &item.label),
                    length,
                    shown,
                )
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
            (bar_chart(&format!("grafico-{id}-numero"), &format!("Numero di procedure per {}", title.to_lowercase()), &by_count))
            (bar_chart(&format!("grafico-{id}-valore"), &format!("Valore dei lotti a base di gara per {}", title.to_lowercase()), &by_value))
            div class="table-responsive" {
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
            }
            @if group == Group::CpvDivision {
                p class="small" { "Una procedura con lotti in più divisioni CPV è contata in ciascuna: la somma delle righe può superare il totale." }
            }
            p { "Scarica la tabella: "
                a href=(csv) { "CSV" } " · "
                a href=(format!("{csv}&sep=semicolon")) { "CSV con punto e virgola (fogli di calcolo in italiano)" } " · "
                a href=(csv_link(&format!("/v1/appalti/summary?group={}", group.as_str()), filter)) { "JSON" } }
        }
    }
}

fn comuni_table(comuni: &[ComuneView], filter: &Filter) -> Markup {
    let csv = csv_link("/v1/appalti/comuni?format=csv", filter);
    html! {
        div class="table-responsive" {
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
        }
        p class="small" { "Il valore di un'iniziativa aggregata è contato per intero per ciascun Comune servito: i valori dei Comuni non si sommano." }
        p { "Scarica l'elenco: " a href=(csv) { "CSV" } " · " a href=(format!("{csv}&sep=semicolon")) { "CSV con punto e virgola" } }
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

/// The national procurement page.
pub async fn show_appalti(State(state): State<AppState>, Query(params): Query<Params>) -> Response {
    let chrome = crate::pages::chrome(PATH);
    // The page shows every grouping as HTML: only the filters apply.
    let params = Params {
        format: None,
        sep: None,
        group: None,
        ..params
    };
    let request = match params.parse() {
        Ok(request) => request,
        Err(problem) => {
            return web::error_page(
                &chrome,
                problem.status(),
                problem.detail().unwrap_or("Parametri non validi."),
            );
        }
    };
    let filter = request.filter.clone();
    let loaded = state
        .db
        .call(move |conn| {
            if let Some(code) = &filter.province
                && let Ok(parsed) = pico_protocol::ProvinceCode::parse(code)
                && !crate::db::registry::exists(conn, parsed)?
            {
                return Err(HubError::Problem(pico_service::Problem::bad_request(
                    "invalid_query",
                    format!("Nessuna Provincia ha il codice {code} nell'elenco ISTAT."),
                )));
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
            Ok::<_, HubError>(Loaded {
                sections,
                provinces,
                years,
                comuni,
            })
        })
        .await;
    let loaded = match loaded {
        Ok(loaded) => loaded,
        Err(error) => {
            let problem = error.into_problem();
            return web::error_page(
                &chrome,
                problem.status(),
                problem.detail().unwrap_or("Errore imprevisto."),
            );
        }
    };
    let filter = &request.filter;
    let total = loaded
        .sections
        .first()
        .map(|(_, _, view)| view.total.clone());
    let main = html! {
        h1 { "Appalti delle Stazioni Uniche Appaltanti" }
        p class="lead" {
            "Le procedure che le SUA delle Province svolgono per i Comuni, dalla pubblicazione in poi, "
            "come ciascuna Provincia le pubblica nel dataset nazionale " code { "appalti" } " (una riga per lotto)."
        }
        form method="get" action=(PATH) class="row g-3 my-3" aria-label="Filtri" {
            div class="col-12 col-md-4 select-wrapper" {
                label for="year" { "Anno di pubblicazione" }
                select id="year" name="year" {
                    option value="" { "Tutti gli anni" }
                    @for year in &loaded.years {
                        option value=(year) selected[filter.year == Some(*year)] { (year) }
                    }
                }
            }
            div class="col-12 col-md-6 select-wrapper" {
                label for="province" { "Provincia" }
                select id="province" name="province" {
                    option value="" { "Tutte le Province" }
                    @for (code, name) in &loaded.provinces {
                        option value=(code) selected[filter.province.as_deref() == Some(code.as_str())] { (code) " — " (name) }
                    }
                }
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
            a href="/v1/appalti/summary" { "/v1/appalti/summary" } ", "
            a href="/v1/appalti/comuni" { "/v1/appalti/comuni" } ", "
            a href="/v1/datasets/appalti/rows" { "/v1/datasets/appalti/rows" } "." }
    };
    Html(web::page(&chrome, "Appalti delle SUA", &main).into_string()).into_response()
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
    fn italian_notation() {
        assert_eq!(italian("1234567.89"), "1.234.567,89");
        assert_eq!(italian("-3.250"), "-3,250");
        assert_eq!(italian("12"), "12");
        assert_eq!(euro("0.00"), "€ 0,00");
        assert_eq!(count(1_234), "1.234");
        assert_eq!(euro_units("1234.99"), 1234);
        assert_eq!(scaled(1, 2), "0.01");
    }
}
