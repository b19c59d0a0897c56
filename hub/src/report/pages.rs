//! The report's page, `/dati/rapporto`: the national figures, then by region, by theme and
//! licence and by Province, each chart followed by the table of its figures, the Provinces
//! that have not published yet, and the notes on how every figure is counted. A print
//! stylesheet drops the site's header, footer and navigation and lets the tables run across
//! pages, so the browser's "Stampa" (or "Salva come PDF") gives the report as a document.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, PreEscaped, html};

use super::{Figures, RECOMMENDED, Report, Usage};
use crate::format::{self, count};
use crate::pages::charts::{Bar, bar_chart};
use crate::pages::{failure_page, render, scroll_table};
use crate::state::AppState;

/// The page's path.
pub const PATH: &str = "/dati/rapporto";

/// The page route.
pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(show_report))
}

/// What printing changes: no site chrome, tables in full, charts in colour, sections that do
/// not start at the foot of a page.
const PRINT_STYLE: &str = "@media print {\
  .it-header-wrapper, .it-footer, .skiplinks, .pico-no-print { display: none !important; }\
  body { font-size: 10pt; }\
  .table-responsive { overflow: visible !important; }\
  thead { display: table-header-group; }\
  tr, figure { break-inside: avoid; }\
  h2, h3 { break-after: avoid; }\
  .pico-report-break { break-before: page; }\
  .pico-chart .bg-primary { print-color-adjust: exact; -webkit-print-color-adjust: exact; }\
  a { color: inherit; text-decoration: none; }\
}";

async fn show_report(State(state): State<AppState>) -> Response {
    match crate::http::report::current(&state).await {
        Ok(report) => render(
            &state,
            "Rapporto sul patrimonio informativo delle Province",
            PATH,
            &page(&report),
        ),
        Err(error) => failure_page(&state, PATH, error),
    }
}

/// `part` of `whole` as a share, e.g. `3 su 8 (38%)`.
fn of(part: u64, whole: u64) -> String {
    format!(
        "{} su {} ({})",
        count(part),
        count(whole),
        format::share(part, whole, 0)
    )
}

fn completeness(figures: &Figures) -> String {
    figures
        .completeness_percent
        .map_or_else(|| "—".to_owned(), |c| format!("{c}%"))
}

fn page(report: &Report) -> Markup {
    let n = &report.national;
    let f = &n.figures;
    html! {
        style { (PreEscaped(PRINT_STYLE)) }
        h1 { "Rapporto sul patrimonio informativo delle Province" }
        p class="lead" {
            "Lo stato dei dati che le Province pubblicano nella federazione Pi.Co.: quanti dataset, "
            "quanti aperti, quanto aggiornati, con quali licenze e temi e con metadati quanto completi. "
            "Calcolato dall'hub nazionale con i dati che custodisce il " (format::date_time(&report.generated_at)) "."
        }
        p class="pico-no-print" {
            "Scarica il rapporto: "
            a href=(format!("{}?format=csv", crate::http::report::PATH)) { "CSV, una riga per Provincia" } " · "
            a href=(crate::http::report::PATH) { "JSON" } " · "
            a href="/dati/catalogo.ttl" { "catalogo dei dati aperti (DCAT-AP_IT)" }
            ". Per averlo su carta o in PDF usate il comando Stampa del browser: la pagina è impaginata come un documento."
        }

        section aria-labelledby="nazionale" {
            h2 id="nazionale" { "Il quadro nazionale" }
            ul {
                li { "Province UPI che pubblicano dati: " (of(n.upi_publishing, n.upi_provinces)) "." }
                li { "Dataset pubblicati: " (count(f.datasets)) ", di cui " (count(f.open)) " aperti, "
                    (count(f.internal)) " interni a Pi.Co. e " (count(f.without_metadata)) " senza metadati." }
                li { "Aggiornamento rispetto alla periodicità dichiarata: " (count(f.on_time)) " aggiornati, "
                    (count(f.late)) " in ritardo, " (count(f.not_assessable)) " non valutabili." }
                li { "Righe di dati nell'archivio nazionale: " (count(f.rows)) "." }
                li { "Completezza dei metadati (proprietà raccomandate DCAT-AP presenti): " (completeness(f)) "." }
            }
        }

        section class="mt-5" aria-labelledby="regioni" {
            h2 id="regioni" { "Per regione" }
            (bar_chart("grafico-regioni", "Dataset pubblicati per regione",
                &report.regions.iter().map(|r| Bar::count(r.region.clone(), r.figures.datasets)).collect::<Vec<_>>(),
                None))
            (bar_chart("grafico-completezza", "Completezza dei metadati per regione",
                &report.regions.iter().map(|r| Bar {
                    label: r.region.clone(),
                    length: r.figures.completeness_percent.unwrap_or(0) as f64,
                    shown: completeness(&r.figures),
                }).collect::<Vec<_>>(),
                Some(100.0)))
            (scroll_table("Tabella: il patrimonio informativo per regione", &html! {
                table class="table table-sm" id="tabella-regioni" {
                    caption { "Il patrimonio informativo per regione" }
                    thead { tr {
                        th scope="col" { "Regione" }
                        th scope="col" class="text-end" { "Province che pubblicano" }
                        th scope="col" class="text-end" { "Dataset" }
                        th scope="col" class="text-end" { "Aperti" }
                        th scope="col" class="text-end" { "Interni" }
                        th scope="col" class="text-end" { "In ritardo" }
                        th scope="col" class="text-end" { "Righe" }
                        th scope="col" class="text-end" { "Completezza dei metadati" }
                    } }
                    tbody { @for r in &report.regions { tr {
                        th scope="row" { (r.region) }
                        td class="text-end" { (count(r.publishing)) " su " (count(r.upi_provinces)) }
                        td class="text-end" { (count(r.figures.datasets)) }
                        td class="text-end" { (count(r.figures.open)) }
                        td class="text-end" { (count(r.figures.internal + r.figures.without_metadata)) }
                        td class="text-end" { (count(r.figures.late)) }
                        td class="text-end" { (count(r.figures.rows)) }
                        td class="text-end" { (completeness(&r.figures)) }
                    } } }
                    tfoot { tr {
                        th scope="row" { "Italia" }
                        td class="text-end" { (count(n.publishing)) " su " (count(n.upi_provinces)) }
                        td class="text-end" { (count(f.datasets)) }
                        td class="text-end" { (count(f.open)) }
                        td class="text-end" { (count(f.internal + f.without_metadata)) }
                        td class="text-end" { (count(f.late)) }
                        td class="text-end" { (count(f.rows)) }
                        td class="text-end" { (completeness(f)) }
                    } }
                }
            }))
            p class="small" { "Interni: i dataset che la Provincia condivide solo nella federazione, compresi quelli ancora senza metadati." }
        }

        section class="mt-5" aria-labelledby="temi" {
            h2 id="temi" { "Temi e licenze" }
            @if n.themes.is_empty() && n.licences.is_empty() {
                p { "Nessun dataset ha ancora metadati con temi o licenze." }
            } @else {
                (bar_chart("grafico-temi", "Dataset per tema",
                    &n.themes.iter().map(|t| Bar::count(t.label.clone(), t.datasets)).collect::<Vec<_>>(), None))
                (usage_table("tabella-temi", "Dataset per tema", "Tema", &n.themes))
                (usage_table("tabella-licenze", "Dataset per licenza", "Licenza", &n.licences))
            }
        }

        section class="mt-5 pico-report-break" aria-labelledby="province" {
            h2 id="province" { "Per Provincia" }
            @let publishing: Vec<_> = report.provinces.iter().filter(|p| p.figures.datasets > 0).collect();
            @if publishing.is_empty() {
                p { "Nessuna Provincia ha ancora pubblicato un dataset." }
            } @else {
                (scroll_table("Tabella: il patrimonio informativo per Provincia", &html! {
                    table class="table table-sm" id="tabella-province" {
                        caption { "Il patrimonio informativo delle Province che pubblicano" }
                        thead { tr {
                            th scope="col" { "Provincia" }
                            th scope="col" { "Regione" }
                            th scope="col" class="text-end" { "Dataset" }
                            th scope="col" class="text-end" { "Aperti" }
                            th scope="col" class="text-end" { "Interni" }
                            th scope="col" class="text-end" { "Senza metadati" }
                            th scope="col" class="text-end" { "Aggiornati" }
                            th scope="col" class="text-end" { "In ritardo" }
                            th scope="col" class="text-end" { "Righe" }
                            th scope="col" class="text-end" { "Completezza dei metadati" }
                            th scope="col" { "Licenze" }
                            th scope="col" { "Temi" }
                            th scope="col" { "Ultimo aggiornamento" }
                        } }
                        tbody { @for p in &publishing { tr {
                            th scope="row" { (p.name) }
                            td { (p.region) }
                            td class="text-end" { (count(p.figures.datasets)) }
                            td class="text-end" { (count(p.figures.open)) }
                            td class="text-end" { (count(p.figures.internal)) }
                            td class="text-end" { (count(p.figures.without_metadata)) }
                            td class="text-end" { (count(p.figures.on_time)) }
                            td class="text-end" { (count(p.figures.late)) }
                            td class="text-end" { (count(p.figures.rows)) }
                            td class="text-end" { (completeness(&p.figures)) }
                            td { (labels(&p.licences, pico_protocol::dcat::licence_label)) }
                            td { (labels(&p.themes, pico_protocol::dcat::theme_label)) }
                            td { @if let Some(at) = &p.last_change { (format::date(at)) } @else { "—" } }
                        } } }
                    }
                }))
            }
        }

        section class="mt-5" aria-labelledby="mancanti" {
            h2 id="mancanti" { "Le Province che non hanno ancora pubblicato" }
            @if report.not_published.is_empty() {
                p { "Tutte le " (count(n.upi_provinces)) " Province UPI pubblicano almeno un dataset." }
            } @else {
                p { (count(report.not_published.len() as u64)) " Province UPI su " (count(n.upi_provinces)) " non hanno ancora pubblicato un dataset:" }
                ul {
                    @for m in &report.not_published { li { (m.name) " (" (m.region) ")" } }
                }
            }
        }

        section class="mt-5" aria-labelledby="note" {
            h2 id="note" { "Note di metodo" }
            ul {
                li { "Un dataset è pubblicato quando la Provincia ne ha righe nell'archivio nazionale dell'hub; è aperto quando i suoi metadati DCAT-AP_IT lo dichiarano dato aperto (ed è nel catalogo nazionale), interno quando lo dichiarano riservato alla federazione." }
                li { "La completezza dei metadati è la quota, su tutti i dataset, di queste " (RECOMMENDED.len()) " proprietà raccomandate dal profilo DCAT-AP 2.1.1 che i metadati contengono (titolo e descrizione, obbligatori, ci sono sempre; le distribuzioni le aggiunge l'hub e non sono contate); un dataset senza metadati le ha tutte mancanti:"
                    ul { @for (property, name) in RECOMMENDED { li { code { (property) } " (" (name) ")" } } }
                }
                li { "Un dataset è aggiornato se dall'ultima modifica (l'ultimo invio di righe all'hub, o la data di modifica dei metadati se più recente) non è passato più del periodo dichiarato: 1 giorno se quotidiano o continuo, 7 settimanale, 31 mensile, 92 trimestrale, 183 semestrale, 366 annuale, 731 biennale, 1.096 triennale. Le periodicità irregolare, mai e sconosciuta, e i dataset senza metadati, non sono valutabili." }
                li { "Le Province UPI sono le " (count(n.upi_provinces)) " del programma; le altre unità ISTAT che pubblicano sono contate nelle regioni e nel totale." }
            }
        }
    }
}

fn labels(uris: &[String], label: fn(&str) -> Option<&'static str>) -> String {
    if uris.is_empty() {
        return "—".to_owned();
    }
    uris.iter()
        .map(|u| label(u).unwrap_or(u.as_str()))
        .collect::<Vec<_>>()
        .join("; ")
}

fn usage_table(id: &str, caption: &str, header: &str, rows: &[Usage]) -> Markup {
    scroll_table(
        &format!("Tabella: {}", caption.to_lowercase()),
        &html! {
            table class="table table-sm" id=(id) {
                caption { (caption) }
                thead { tr {
                    th scope="col" { (header) }
                    th scope="col" class="text-end" { "Dataset" }
                } }
                tbody { @for row in rows { tr {
                    th scope="row" { (row.label) }
                    td class="text-end" { (count(row.datasets)) }
                } } }
            }
        },
    )
}
