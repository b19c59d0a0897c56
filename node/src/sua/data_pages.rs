//! The SUA report and import pages: `/sua/report` (per Comune and year, with filters and
//! CSV downloads; Comune users see their own Comune), `/sua/import` (upload of an OCDS or
//! CSV file by SUA staff, with the report of what was imported, skipped and why) and
//! `/sua/import/{id}` (the report of an earlier import).

use axum::Router;
use axum::extract::{Multipart, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use pico_service::format as fmt;
use pico_service::http::body_limit;
use pico_service::json::Path;
use pico_service::web as layout;
use serde::Deserialize;
use serde_json::Value;

use super::data_api::{self, IMPORT_BODY_LIMIT};
use super::import::RowError;
use super::reports::ReportQuery;
use super::{ContractType, PROCEDURE_TYPES};
use crate::auth::Identity;
use crate::error::AppError;
use crate::state::AppState;
use crate::sua::db::data as sua_data;
use crate::sua::policy::{self, Action, Scope};
use crate::upload::MultipartForm;
use crate::web::form::{self, Errors, FormState, Values, error_summary};
use crate::web::{breadcrumb, check_form_csrf};

/// The report and import pages.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sua/report", get(show_report))
        .route("/sua/report/export.csv", get(export_report))
        .route(
            "/sua/import",
            get(show_import)
                .post(submit_import)
                .layer(body_limit(IMPORT_BODY_LIMIT + 64 * 1024)),
        )
        .route("/sua/import/{id}", get(show_batch))
}

/// The filters as an HTML form sends them: empty strings mean "any".
#[derive(Debug, Default, Deserialize)]
struct ReportForm {
    year: Option<String>,
    comune: Option<String>,
    contract_type: Option<String>,
    procedure_code: Option<String>,
    pnrr: Option<String>,
    sep: Option<String>,
}

impl ReportForm {
    /// The report's filters, and the message of each value that could not be read (that
    /// filter is then left off, and the page says why beside it).
    fn to_query(&self) -> (ReportQuery, Errors) {
        let nonempty = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let mut errors = Errors::new();
        let mut read = |name: &str, value: &Option<String>, ok: bool, message: &str| {
            if nonempty(value).is_some() && !ok {
                errors.insert(name.to_owned(), message.to_owned());
            }
        };
        let year = nonempty(&self.year).and_then(|y| y.parse::<i32>().ok());
        read(
            "year",
            &self.year,
            year.is_some(),
            "Scrivi un anno, ad esempio 2025.",
        );
        let procedure_code = nonempty(&self.procedure_code).and_then(|c| c.parse::<i64>().ok());
        read(
            "procedure_code",
            &self.procedure_code,
            procedure_code.is_some(),
            "Scegli una procedura dall'elenco.",
        );
        let pnrr = match nonempty(&self.pnrr).as_deref() {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => None,
        };
        read(
            "pnrr",
            &self.pnrr,
            pnrr.is_some(),
            "Scegli un valore dall'elenco.",
        );
        let query = ReportQuery {
            year,
            comune: nonempty(&self.comune),
            contract_type: nonempty(&self.contract_type),
            procedure_code,
            pnrr,
            sep: nonempty(&self.sep),
        };
        (query, errors)
    }

    /// The CSV of the report with the same filters, encoded by the node's one encoder.
    fn link(&self, sep: &str) -> String {
        let pairs: Vec<(String, String)> = [
            ("year", &self.year),
            ("comune", &self.comune),
            ("contract_type", &self.contract_type),
            ("procedure_code", &self.procedure_code),
            ("pnrr", &self.pnrr),
        ]
        .into_iter()
        .filter_map(|(name, value)| {
            value
                .as_deref()
                .filter(|v| !v.trim().is_empty())
                .map(|v| (name.to_owned(), v.to_owned()))
        })
        .chain([("sep".to_owned(), sep.to_owned())])
        .collect();
        crate::web::list::ListRequest::link("/sua/report/export.csv", &pairs)
    }
}

fn italian_amount(decimal: &str) -> String {
    let cents = super::Euro::parse(decimal).map_or(0, super::Euro::cents);
    super::Euro(cents).to_italian()
}

/// A ribasso as the API writes it (`12.345`) as `12,35%`, or a dash.
fn italian_percent(decimal: Option<&str>) -> String {
    decimal
        .and_then(|d| d.parse::<f64>().ok())
        .map_or_else(|| "—".to_owned(), fmt::percent)
}

/// Average days as `88,6`, or a dash.
fn italian_days(days: Option<f64>) -> String {
    days.map_or_else(|| "—".to_owned(), |d| fmt::decimal(d, 1))
}

/// What an import's stored state code means, for the table of imported procedures.
fn state_label(code: &str) -> String {
    super::State::parse(code).map_or_else(|| code.to_owned(), |s| s.label().to_owned())
}

/// The imported file's format, as a person names it.
fn format_label(code: &str) -> &str {
    match code {
        "ocds" => "OCDS (ANAC)",
        "csv" => "CSV",
        other => other,
    }
}

async fn show_report(
    State(state): State<AppState>,
    identity: Identity,
    Query(form): Query<ReportForm>,
) -> Result<Markup, AppError> {
    let (query, errors) = form.to_query();
    let filters = FormState {
        errors,
        prefix: "f-".to_owned(),
        ..FormState::default()
    };
    let invalid = |name: &str| filters.error(name).is_some();
    let feedback = |name: &str| {
        html! {
            @if let Some(message) = filters.error(name) {
                div class="invalid-feedback d-block" id=(format!("f-{name}-error")) { (message) }
            }
        }
    };
    let report = data_api::report_for(&state, &identity, &query).await?;
    let staff = matches!(policy::sua_scope(&identity)?, Scope::All);
    let selected = |value: &Option<String>, option: &str| value.as_deref() == Some(option);
    let body = html! {
        h1 { "Report della Stazione Unica Appaltante" }
        p { "Procedure per Comune e per anno (anno della richiesta): importi a base d'asta e aggiudicati, ribasso medio dei lotti aggiudicati, giorni medi dalla richiesta all'aggiudicazione. Le richieste non ancora prese in carico non sono contate." }
        (error_summary(&filters, REPORT_LABELS))
        form method="get" action="/sua/report" class="row g-3 align-items-end mb-4" aria-label="Filtri" {
            div class="col-md-2" {
                label for="f-year" class="form-label" { "Anno" }
                input class=(if invalid("year") { "form-control is-invalid" } else { "form-control" }) id="f-year" name="year" inputmode="numeric" pattern="[0-9]{4}" value=(form.year.clone().unwrap_or_default())
                    aria-invalid=[invalid("year").then_some("true")] aria-describedby=[invalid("year").then_some("f-year-error")];
                (feedback("year"))
            }
            @if staff {
                div class="col-md-2" {
                    label for="f-comune" class="form-label" { "Codice Comune" }
                    input class="form-control" id="f-comune" name="comune" inputmode="numeric" pattern="[0-9]{6}" value=(form.comune.clone().unwrap_or_default());
                }
            }
            div class="col-md-2" {
                label for="f-type" class="form-label" { "Tipo di contratto" }
                select class="form-select" id="f-type" name="contract_type" {
                    option value="" { "Tutti" }
                    @for kind in ContractType::ALL {
                        option value=(kind.as_str()) selected[selected(&form.contract_type, kind.as_str())] { (kind.label()) }
                    }
                }
            }
            div class="col-md-3" {
                label for="f-procedure_code" class="form-label" { "Procedura" }
                select class=(if invalid("procedure_code") { "form-select is-invalid" } else { "form-select" }) id="f-procedure_code" name="procedure_code"
                    aria-invalid=[invalid("procedure_code").then_some("true")] aria-describedby=[invalid("procedure_code").then_some("f-procedure_code-error")] {
                    option value="" { "Tutte" }
                    @for (code, label) in PROCEDURE_TYPES {
                        option value=(code) selected[selected(&form.procedure_code, &code.to_string())] { (code) " — " (label) }
                    }
                }
                (feedback("procedure_code"))
            }
            div class="col-md-2" {
                label for="f-pnrr" class="form-label" { "PNRR" }
                select class=(if invalid("pnrr") { "form-select is-invalid" } else { "form-select" }) id="f-pnrr" name="pnrr"
                    aria-invalid=[invalid("pnrr").then_some("true")] aria-describedby=[invalid("pnrr").then_some("f-pnrr-error")] {
                    option value="" { "Tutte" }
                    option value="true" selected[selected(&form.pnrr, "true")] { "Solo PNRR" }
                    option value="false" selected[selected(&form.pnrr, "false")] { "Escluso PNRR" }
                }
                (feedback("pnrr"))
            }
            div class="col-md-1" { button type="submit" class="btn btn-outline-primary" { "Filtra" } }
        }
        p {
            "Scarica: "
            a href=(form.link("semicolon")) { "CSV (separatore ;)" } " · "
            a href=(form.link("comma")) { "CSV (separatore ,)" }
        }
        @if report.lines.is_empty() {
            p id="no-report" { "Nessuna procedura per questi filtri." }
        } @else {
            div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole" {
                table class="table" id="report" {
                    caption { "Procedure per Comune e anno" }
                    thead { tr {
                        th scope="col" { "Anno" } th scope="col" { "Comune" } th scope="col" class="text-end" { "Procedure" }
                        th scope="col" class="text-end" { "Importo stimato" } th scope="col" class="text-end" { "Importo aggiudicato" }
                        th scope="col" class="text-end" { "Lotti aggiudicati" } th scope="col" class="text-end" { "Ribasso medio" }
                        th scope="col" class="text-end" { "Giorni medi all'aggiudicazione" }
                    } }
                    tbody {
                        @for l in &report.lines {
                            tr {
                                td { (l.year.map(|y| y.to_string()).unwrap_or_default()) }
                                td { @match (&l.comune_code, &l.comune_name) {
                                    (Some(code), Some(name)) => { (name) " (" (code) ")" },
                                    _ => { em { "Enti diversi dai Comuni della Provincia (importati)" } },
                                } }
                                td class="text-end" { (l.procedures) }
                                td class="text-end" { (italian_amount(&l.estimated_amount)) }
                                td class="text-end" { (italian_amount(&l.awarded_amount)) }
                                td class="text-end" { (l.awarded_lots) }
                                td class="text-end" { (italian_percent(l.average_ribasso.as_deref())) }
                                td class="text-end" { (italian_days(l.average_days_to_award)) }
                            }
                        }
                    }
                    tfoot { tr {
                        th scope="row" colspan="2" { "Totale" }
                        td class="text-end" { (report.totals.procedures) }
                        td class="text-end" { (italian_amount(&report.totals.estimated_amount)) }
                        td class="text-end" { (italian_amount(&report.totals.awarded_amount)) }
                        td class="text-end" { (report.totals.awarded_lots) }
                        td class="text-end" { (italian_percent(report.totals.average_ribasso.as_deref())) }
                        td class="text-end" { (italian_days(report.totals.average_days_to_award)) }
                    } }
                }
            }
        }
        @if staff {
            p { a href="/sua/import" { "Importa procedure (OCDS ANAC o CSV)" } " · " a href="/v1/sua/ocds" { "Dati aperti OCDS delle procedure pubblicate" } }
        }
    };
    Ok(layout::page(
        &state.chrome(Some(&identity), "/sua/report"),
        "Report SUA",
        &body,
    ))
}

async fn export_report(
    State(state): State<AppState>,
    identity: Identity,
    Query(form): Query<ReportForm>,
) -> Result<Response, AppError> {
    let (query, errors) = form.to_query();
    if !errors.is_empty() {
        return Err(crate::web::list::refuse(&errors));
    }
    data_api::report_csv(&state, &identity, &query).await
}

/// The report filters' names as the person reads them, for the error summary.
const REPORT_LABELS: &[(&str, &str)] = &[
    ("year", "Anno"),
    ("procedure_code", "Procedura"),
    ("pnrr", "PNRR"),
];

/// The import form's fields as the person reads them, for the error summary.
const IMPORT_LABELS: &[(&str, &str)] = &[("file", "File"), ("format", "Formato")];

fn import_form(csrf: &str, form: &FormState) -> Markup {
    let formats = [
        (
            "ocds".to_owned(),
            "OCDS (rilasci compilati ANAC: pacchetto, array o JSON Lines)".to_owned(),
        ),
        ("csv".to_owned(), "CSV (una riga per lotto)".to_owned()),
    ];
    let hint = format!(
        "Massimo {} MB; per file più grandi usate il comando pico-node sua import",
        IMPORT_BODY_LIMIT / (1024 * 1024)
    );
    html! {
        (error_summary(form, IMPORT_LABELS))
        form method="post" action="/sua/import" enctype="multipart/form-data" class="mb-4" novalidate {
            input type="hidden" name="csrf" value=(csrf);
            (form::file(form, "file", "File *", Some(&hint), false, Some(".json,.jsonl,.csv,application/json,text/csv")))
            (form::select_with(form, "format", "Formato", &formats, Some("Riconosci dal file"), false))
            button type="submit" class="btn btn-primary" id="import" { "Importa" }
        }
    }
}

async fn show_import(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Markup, AppError> {
    policy::authorize(&identity, Action::ManageProcedures)?;
    let batches = state
        .db
        .call(|conn| sua_data::batches(conn, None, 20).map_err(AppError::from))
        .await?;
    let csrf = identity.csrf().unwrap_or_default().to_owned();
    let body = html! {
        h1 { "Importa procedure" }
        p { "Importa procedure esistenti dai rilasci OCDS compilati pubblicati da ANAC o da un file CSV con una riga per lotto (colonne descritte nella documentazione del nodo). L'importazione avviene tutta insieme o per niente; le procedure già importate sono saltate, quindi importare due volte lo stesso file non crea doppioni." }
        (import_form(&csrf, &FormState::default()))
        @if !batches.is_empty() {
            h2 class="h4" { "Importazioni recenti" }
            div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole" { table class="table" id="batches" {
                thead { tr { th scope="col" { "N." } th scope="col" { "File" } th scope="col" { "Formato" } th scope="col" class="text-end" { "Importate" } th scope="col" class="text-end" { "Saltate" } th scope="col" { "Da" } th scope="col" { "Quando" } } }
                tbody {
                    @for b in &batches {
                        tr {
                            td { a href=(format!("/sua/import/{}", b.id)) { (b.id) } }
                            td { (b.filename) }
                            td { (format_label(&b.format)) }
                            td class="text-end" { (b.imported) }
                            td class="text-end" { (b.skipped) }
                            td { (b.actor) }
                            td { (fmt::unix_time(b.at)) }
                        }
                    }
                }
            } }
        }
    };
    Ok(layout::page(
        &state.chrome(Some(&identity), "/sua/import"),
        "Importa procedure",
        &body,
    ))
}

/// The report of an import (fresh or stored), from its JSON form.
fn report_view(report: &Value) -> Markup {
    let count = |name: &str| report["counts"][name].as_u64().unwrap_or(0);
    let list = |name: &str| report[name].as_array().cloned().unwrap_or_default();
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    html! {
        dl class="row" id="import-counts" {
            dt class="col-sm-4" { "File" } dd class="col-sm-8" { (text(&report["filename"])) " (" (format_label(&text(&report["format"]))) ")" }
            dt class="col-sm-4" { "Record letti" } dd class="col-sm-8" { (count("records")) }
            dt class="col-sm-4" { "Procedure importate" } dd class="col-sm-8" id="imported-count" { (count("imported")) }
            dt class="col-sm-4" { "Lotti (aggiudicati, con contratto)" } dd class="col-sm-8" { (count("lots")) " (" (count("awards")) ", " (count("contracts")) ")" }
            dt class="col-sm-4" { "Collegate a un Comune della Provincia" } dd class="col-sm-8" { (count("linked_to_comune")) }
            dt class="col-sm-4" { "Altri enti (senza Comune)" } dd class="col-sm-8" { (count("other_buyers")) }
            dt class="col-sm-4" { "Saltati" } dd class="col-sm-8" id="skipped-count" { (count("skipped")) }
            dt class="col-sm-4" { "Avvisi" } dd class="col-sm-8" { (count("warnings")) }
        }
        @let imported = list("imported");
        @if !imported.is_empty() {
            h2 class="h4" { "Importate" }
            div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole" { table class="table table-sm" id="imported" {
                thead { tr { th scope="col" { "Chiave" } th scope="col" { "Procedura" } th scope="col" { "Stato" } th scope="col" class="text-end" { "Lotti" } th scope="col" { "Ente" } th scope="col" { "Comune" } } }
                tbody { @for r in &imported { tr {
                    td { (text(&r["key"])) }
                    td { (r["procedure_id"]) }
                    td { (state_label(&text(&r["state"]))) }
                    td class="text-end" { (r["lots"]) }
                    td { (text(&r["buyer_name"])) }
                    td { @if r["comune_code"].is_null() { em { "non è un Comune della Provincia" } } @else { (text(&r["comune_code"])) } }
                } } }
            } }
        }
        @let skipped = list("skipped");
        @if !skipped.is_empty() {
            h2 class="h4" { "Saltati" }
            div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole" { table class="table table-sm" id="skipped" {
                thead { tr { th scope="col" { "Chiave" } th scope="col" { "Riga" } th scope="col" { "Motivo" } } }
                tbody { @for s in &skipped { tr {
                    td { (s["key"].as_str().unwrap_or("—")) }
                    td { (s["line"].as_u64().map(|l| l.to_string()).unwrap_or_default()) }
                    td { (text(&s["reason"])) }
                } } }
            } }
        }
        @let warnings = list("warnings");
        @if !warnings.is_empty() {
            h2 class="h4" { "Avvisi" }
            ul id="warnings" { @for w in &warnings { li { strong { (text(&w["key"])) } ": " (text(&w["message"])) } } }
        }
        @if report["omitted"].as_u64().unwrap_or(0) > 0 {
            p { "Altre " (report["omitted"]) " voci non sono elencate; i conteggi le includono." }
        }
    }
}

fn row_errors(errors: &[RowError], count: u64) -> Markup {
    html! {
        div class="alert alert-danger" role="alert" {
            p class="mb-0" { "Il file ha " (count) " problemi: non è stato importato nulla. Correggete le righe indicate e riprovate." }
        }
        div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole" { table class="table table-sm" id="row-errors" {
            thead { tr { th scope="col" { "Riga" } th scope="col" { "Colonna" } th scope="col" { "Problema" } } }
            tbody { @for e in errors { tr { td { (e.line) } td { (e.field.clone().unwrap_or_default()) } td { (e.message) } } } }
        } }
    }
}

async fn submit_import(
    State(state): State<AppState>,
    identity: Identity,
    multipart: Multipart,
) -> Result<Response, AppError> {
    policy::authorize(&identity, Action::ManageProcedures)?;
    let form = MultipartForm::read(multipart, "file").await?;
    check_form_csrf(&identity, &form.field("csrf"))?;
    let format = form.field("format");
    let values = Values::from([("format".to_owned(), format.clone())]);
    let csrf = identity.csrf().unwrap_or_default().to_owned();
    let import_page = |result: Markup, form: &FormState| {
        let body = html! {
            h1 { "Importa procedure" }
            (result)
            h2 class="h4 mt-4" { "Importa un altro file" }
            (import_form(&csrf, form))
            p { a href="/sua/report" { "Vai al report" } }
        };
        layout::page(
            &state.chrome(Some(&identity), "/sua/import"),
            "Importa procedure",
            &body,
        )
    };
    let Some(file) = form.files.into_iter().find(|file| !file.data.is_empty()) else {
        let refused = FormState {
            values,
            errors: Errors::from([("file".to_owned(), "Scegli il file da importare.".to_owned())]),
            ..FormState::default()
        };
        return Ok(form::unprocessable(import_page(html! {}, &refused)));
    };
    let filename = crate::upload::clean_filename(&file.filename);
    let data = axum::body::Bytes::from(file.data);
    let outcome = data_api::run_import(&state, &identity, Some(&format), filename, data).await;
    form::answer(
        outcome,
        |report| {
            let value = serde_json::to_value(&report).unwrap_or_default();
            let result = html! {
                div class="alert alert-success" role="status" { p class="mb-0" { "Importazione " (report.batch) " completata." } }
                (report_view(&value))
            };
            import_page(result, &FormState::default()).into_response()
        },
        async |error| {
            // The file's problems are listed above the form; the form says which field
            // failed (or that the file did) and that the file must be chosen again.
            let refused = FormState::refused(values, error).whole_form_message_beside("file");
            let result = match error {
                AppError::Problem(problem) => problem_view(problem),
                _ => html! {},
            };
            Ok(import_page(result, &refused))
        },
    )
    .await
}

/// A refused import, as the page shows it: the row problems as a table.
fn problem_view(problem: &pico_service::Problem) -> Markup {
    let document = serde_json::to_value(problem).unwrap_or_default();
    let rows: Vec<RowError> = document["rows"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| RowError {
                    line: r["line"].as_u64().unwrap_or(0),
                    field: r["field"].as_str().map(str::to_owned),
                    message: r["message"].as_str().unwrap_or_default().to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    if rows.is_empty() {
        html! {
            div class="alert alert-danger" role="alert" { p class="mb-0" { (problem.detail().unwrap_or("Il file non può essere importato.")) } }
        }
    } else {
        row_errors(
            &rows,
            document["problems"].as_u64().unwrap_or(rows.len() as u64),
        )
    }
}

async fn show_batch(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Markup, AppError> {
    policy::authorize(&identity, Action::ManageProcedures)?;
    let batch = state
        .db
        .call(move |conn| sua_data::batch(conn, id).map_err(AppError::from))
        .await?
        .ok_or(AppError::NotFound)?;
    let report: Value = serde_json::from_str(&batch.report).unwrap_or_default();
    let body = html! {
        (breadcrumb(&[("Importa procedure", "/sua/import")], &format!("Importazione {}", batch.id)))
        h1 { "Importazione " (batch.id) }
        p { "Eseguita da " (batch.actor) " il " (fmt::unix_time(batch.at)) "." }
        (report_view(&report))
    };
    Ok(layout::page(
        &state.chrome(Some(&identity), "/sua/import"),
        &format!("Importazione {}", batch.id),
        &body,
    ))
}
