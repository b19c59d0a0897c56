//! The SUA web pages: the Comune's requests and procedures, the SUA operator's desk.
//!
//! `/sua` lists procedures with filters; `/sua/richieste/nuova` is the request form;
//! `/sua/procedure/{id}` shows a procedure (data, lots and awards, timeline, attachments) with
//! the actions this user may take as forms; `/sua/convenzioni` lists and records
//! convenzioni. A form with mistakes comes back with each message next to its field and the
//! user's input kept; an action refused on the procedure page comes back on that page with
//! the reason.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Multipart, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use pico_service::csv::CsvWriter;
use pico_service::format as fmt;
use pico_service::http::body_limit;
use pico_service::json::Path;
use pico_service::web as layout;
use serde::Deserialize;

use crate::auth::Identity;
use crate::db;
use crate::error::AppError;
use crate::state::AppState;
use crate::sua::day::{self, Day};
use crate::sua::db as sql;
use crate::sua::forms::{
    self, FormState, REQUEST_LABELS, RequestFormKind, Values, error_summary, input, input_with,
    select, textarea,
};
use crate::sua::ops::conventions::{self, ConventionQuery, NewConvention};
use crate::sua::ops::requests::{self, Channel};
use crate::sua::ops::workflow::{
    self, AwardInput, LotPatch, NewLot, ProcedureQuery, TenderInput, TransitionInput,
};
use crate::sua::ops::{self as sua_ops, LotView, ProcedureDetail, ProcedureView, field_messages};
use crate::sua::policy::{self, Action};
use crate::sua::{ContractType, ConventionScope, Euro, LotStatus, Ribasso, State as SuaState};
use crate::web::form;
use crate::web::list::{Direction, ListRequest};
use crate::web::{CsrfForm, PageForm, breadcrumb, check_form_csrf};

/// Largest multipart form: a few attachments of up to 10 MB each.
const FORM_BODY_LIMIT: usize = 51 * 1024 * 1024;

/// The workflow pages.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sua", get(show_procedures))
        .route("/sua/export.csv", get(export_procedures))
        .route(
            "/sua/richieste/nuova",
            get(show_new_request)
                .post(submit_new_request)
                .layer(body_limit(FORM_BODY_LIMIT)),
        )
        .route(
            "/sua/iniziative/nuova",
            get(show_new_initiative)
                .post(submit_new_initiative)
                .layer(body_limit(FORM_BODY_LIMIT)),
        )
        .route("/sua/procedure/{id}", get(show_procedure))
        .route(
            "/sua/procedure/{id}/modifica",
            get(show_edit_request).post(submit_edit_request),
        )
        .route("/sua/procedure/{id}/stato", post(submit_transition))
        .route("/sua/procedure/{id}/gara", post(submit_tender))
        .route("/sua/procedure/{id}/quote", post(submit_participants))
        .route("/sua/procedure/{id}/lotti", post(submit_new_lot))
        .route("/sua/procedure/{id}/lotti/{lot}", post(submit_lot))
        .route(
            "/sua/procedure/{id}/lotti/{lot}/elimina",
            post(submit_delete_lot),
        )
        .route(
            "/sua/procedure/{id}/lotti/{lot}/aggiudicazione",
            post(submit_award),
        )
        .route(
            "/sua/procedure/{id}/lotti/{lot}/aggiudicazione/annulla",
            post(submit_clear_award),
        )
        .route(
            "/sua/procedure/{id}/allegati",
            post(submit_attachments).layer(body_limit(FORM_BODY_LIMIT)),
        )
        .route(
            "/sua/procedure/{id}/allegati/{attachment}",
            get(download_attachment),
        )
        .route(
            "/sua/convenzioni",
            get(show_conventions).post(submit_convention),
        )
        .route(
            "/sua/convenzioni/{id}/revoca",
            post(submit_revoke_convention),
        )
}

// ---------------------------------------------------------------------------------------
// Small renderers

fn state_badge(state: SuaState) -> Markup {
    let class = match state {
        SuaState::Submitted => "bg-primary",
        SuaState::Returned => "bg-warning text-dark",
        SuaState::Received | SuaState::InPreparation => "bg-info text-dark",
        SuaState::Published | SuaState::BidsClosed | SuaState::Evaluation => "bg-primary",
        SuaState::Awarded | SuaState::ContractSigned | SuaState::Completed => "bg-success",
        SuaState::Withdrawn | SuaState::Cancelled | SuaState::Deserted => "bg-secondary",
    };
    html! { span class=(format!("badge {class}")) data-state=(state.as_str()) { (state.label()) } }
}

/// `150000.00` as `150.000,00 €`.
fn money(decimal: &str) -> String {
    Euro::parse(decimal).map_or_else(|_| decimal.to_owned(), Euro::to_italian)
}

/// `12.345` as `12,35%` (at most two decimals on pages; exports keep three).
fn percent(decimal: &str) -> String {
    Ribasso::parse(decimal).map_or_else(
        |_| decimal.to_owned(),
        #[expect(clippy::cast_precision_loss, reason = "thousandths of a percent")]
        |r| fmt::percent(r.0 as f64 / 1000.0),
    )
}

/// An RFC 3339 instant as Italian time: `31/03/2026 10:05`.
fn when(rfc3339: &str) -> String {
    fmt::rfc3339(rfc3339)
}

fn optional_day(value: Option<&String>) -> String {
    value.map_or_else(|| "—".to_owned(), |d| day::italian(d))
}

/// Whether the award is dated before the request (a back-dated or imported history): the
/// duration is then left out of the reports, as the hub does.
fn awarded_before_request(p: &ProcedureView) -> bool {
    let requested = fmt::rfc3339_day(&p.requested_at);
    match (p.awarded_on.as_deref(), requested) {
        (Some(awarded), Some(requested)) => awarded < requested.as_str(),
        _ => false,
    }
}

/// The confirmation shown after an action form of the procedure page succeeded.
fn done_message(form: &str) -> String {
    if let Some(state) = form.strip_prefix("move-").and_then(SuaState::parse) {
        return format!("Procedura passata allo stato «{}».", state.label());
    }
    match form {
        "tender" => "Dati di gara salvati.".to_owned(),
        "participants" => "Quote dei Comuni salvate.".to_owned(),
        "new-lot" => "Lotto aggiunto.".to_owned(),
        "attach" => "Allegati aggiunti.".to_owned(),
        form if form.starts_with("award") => "Aggiudicazione registrata.".to_owned(),
        form if form.starts_with("lot") => "Lotto aggiornato.".to_owned(),
        _ => "Operazione eseguita.".to_owned(),
    }
}

fn is_comune(identity: &Identity) -> bool {
    identity
        .user
        .as_ref()
        .is_some_and(|user| user.roles.comune().is_some())
}

fn is_sua_staff(identity: &Identity) -> bool {
    policy::authorize(identity, Action::ManageProcedures).is_ok()
}

fn served(view: &ProcedureView) -> String {
    if view.participants.len() == 1 {
        view.participants[0].comune_name.clone()
    } else {
        format!(
            "{} Comuni: {}",
            view.participants.len(),
            view.participants
                .iter()
                .map(|p| p.comune_name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

async fn comuni_options(state: &AppState) -> Result<Vec<(String, String)>, AppError> {
    let comuni = state
        .db
        .call(|conn| db::comuni::list(conn, None, 10_000).map_err(AppError::from))
        .await?;
    Ok(comuni
        .into_iter()
        .map(|c| (c.code.clone(), format!("{} ({})", c.name, c.code)))
        .collect())
}

fn page(state: &AppState, identity: &Identity, title: &str, body: &Markup) -> Markup {
    layout::page(&state.chrome(Some(identity), "/sua"), title, body)
}

// ---------------------------------------------------------------------------------------
// List

/// The list filters' names as the person reads them, for the error summary.
const LIST_LABELS: &[(&str, &str)] = &[
    ("state", "Stato"),
    ("comune", "Comune"),
    ("year", "Anno"),
    ("contract_type", "Tipo"),
    ("q", "Testo, CIG o CUP"),
    ("page", "Pagina"),
    ("size", "Righe per pagina"),
    ("sort", "Ordinamento"),
    ("dir", "Ordine"),
];

/// The procedure list as its page and its CSV read the query string: typed filters (a bad
/// value becomes the filter's message), page, size and order.
fn list_request(params: Values) -> (ListRequest, ProcedureQuery) {
    let mut list = ListRequest::parse(
        "/sua",
        params,
        sql::PROCEDURE_SORT_COLUMNS,
        "numero",
        Direction::Desc,
    );
    let state_filter = list.parsed(
        "state",
        |s| match s {
            "requests" => Some((true, None)),
            other => SuaState::parse(other).map(|state| (false, Some(state))),
        },
        "Scegli uno stato dall'elenco.",
    );
    let comune = list.parsed(
        "comune",
        |code| {
            pico_protocol::ComuneCode::parse(code)
                .ok()
                .map(|c| c.as_str().to_owned())
        },
        "Il codice ISTAT del Comune ha 6 cifre, ad esempio 026086.",
    );
    let year = list.parsed(
        "year",
        |y| y.parse::<i32>().ok().filter(|y| (1990..=2200).contains(y)),
        "L'anno è un numero di quattro cifre, ad esempio 2024.",
    );
    let contract_type = list.parsed(
        "contract_type",
        ContractType::parse,
        "Scegli un tipo di contratto dall'elenco.",
    );
    let q = list.text("q");
    let query = ProcedureQuery {
        requests: state_filter.map(|(requests, _)| requests),
        state: state_filter.and_then(|(_, state)| state),
        comune,
        year,
        contract_type,
        aggregated: None,
        q,
        limit: None,
        cursor: None,
    };
    (list, query)
}

async fn show_procedures(
    State(state): State<AppState>,
    identity: Identity,
    Query(params): Query<Values>,
) -> Result<Markup, AppError> {
    let (list, query) = list_request(params);
    let (rows, total) = workflow::list_procedures_page(
        &state,
        &identity,
        &query,
        list.order_by("p.id"),
        list.size,
        list.offset(),
    )
    .await?;
    let staff = is_sua_staff(&identity);
    let comune_user = is_comune(&identity);
    let years: Vec<(String, String)> = workflow::years(&state)
        .await?
        .into_iter()
        .map(|y| (y.to_string(), y.to_string()))
        .collect();
    let comuni = if staff {
        comuni_options(&state).await?
    } else {
        Vec::new()
    };
    let mut states = vec![(
        "requests".to_owned(),
        "Richieste da esaminare o restituite".to_owned(),
    )];
    states.extend(
        SuaState::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), s.label().to_owned())),
    );
    let types: Vec<(String, String)> = ContractType::ALL
        .iter()
        .map(|t| (t.as_str().to_owned(), t.label().to_owned()))
        .collect();
    let q_error = list.error("q");
    let body = html! {
        h1 { "Stazione Unica Appaltante" }
        p class="lead" {
            @if comune_user { "Le richieste del Comune alla SUA della " (state.province.name) " e le procedure che la SUA gestisce per il Comune." }
            @else { "Richieste dei Comuni e procedure gestite dalla SUA della " (state.province.name) "." }
        }
        p class="d-flex flex-wrap gap-2" {
            a class="btn btn-primary" href="/sua/richieste/nuova" id="new-request" { "Nuova richiesta" }
            @if staff { a class="btn btn-outline-primary" href="/sua/iniziative/nuova" { "Nuova iniziativa aggregata" } }
            a class="btn btn-outline-primary" href="/sua/convenzioni" { "Convenzioni" }
        }
        (list.error_summary(LIST_LABELS))
        form method="get" action="/sua" class="row g-3 align-items-end mb-4" aria-label="Filtri" {
            div class="col-md-3" { (list.filter_select("state", "Stato", "Tutti", &states)) }
            @if staff {
                div class="col-md-3" { (list.filter_select("comune", "Comune", "Tutti", &comuni)) }
            }
            div class="col-md-2" { (list.filter_select("year", "Anno", "Tutti", &years)) }
            div class="col-md-2" { (list.filter_select("contract_type", "Tipo", "Tutti", &types)) }
            div class="col-md-2" {
                label for="f-q" class="form-label" { "Testo, CIG o CUP" }
                input type="search" class=(if q_error.is_some() { "form-control is-invalid" } else { "form-control" }) id="f-q" name="q" value=(list.value("q"));
                (list.feedback("q"))
            }
            div class="col-md-2" { (list.size_field()) }
            div class="col-12" { button type="submit" class="btn btn-outline-primary" { "Filtra" } }
        }
        (list.csv_links("/sua/export.csv"))
        @if rows.is_empty() {
            p id="no-procedures" { "Nessuna procedura." }
        } @else {
            div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole" { table class="table" id="procedures" {
                caption { "Procedure (" (total) ")" }
                thead { tr {
                    (list.sort_header("numero", None)) (list.sort_header("oggetto", None)) th scope="col" { "Comune" }
                    th scope="col" { "Tipo" } (list.sort_header("importo", Some("text-end"))) (list.sort_header("stato", None)) (list.sort_header("anno", None))
                } }
                tbody {
                    @for r in &rows {
                        tr {
                            td { (r.id) }
                            td { a href=(format!("/sua/procedure/{}", r.id)) { (r.object) } @if r.aggregated { " " span class="badge bg-light text-dark" { "Aggregata" } } }
                            td { (served(r)) }
                            td { (r.contract_type.label()) }
                            td class="text-end" { (money(&r.estimated_amount)) }
                            td { (state_badge(r.state)) }
                            td { (r.year) }
                        }
                    }
                }
            } }
        }
        (list.pager(total))
    };
    Ok(page(&state, &identity, "Stazione Unica Appaltante", &body))
}

/// The CSV of the procedure list as filtered and ordered on the page (`sep=,|;`, `bom=1`).
async fn export_procedures(
    State(state): State<AppState>,
    identity: Identity,
    Query(params): Query<Values>,
) -> Result<Response, AppError> {
    let (separator, bom) = crate::web::list::csv_options(&params)?;
    let (list, query) = list_request(params);
    if !list.errors.is_empty() {
        return Err(crate::web::list::refuse(&list.errors));
    }
    let (rows, _) = workflow::list_procedures_page(
        &state,
        &identity,
        &query,
        list.order_by("p.id"),
        crate::web::list::CSV_MAX_ROWS,
        0,
    )
    .await?;
    let mut writer = CsvWriter::new(separator, bom);
    let internal = |err: csv::Error| AppError::Internal(err.to_string());
    writer
        .write([
            "Numero",
            "Oggetto",
            "Comuni",
            "Tipo di contratto",
            "CPV principale",
            "Importo stimato (euro)",
            "Stato",
            "Anno",
            "CUP",
            "Numero gara ANAC",
        ])
        .map_err(internal)?;
    for r in &rows {
        writer
            .write([
                r.id.to_string().as_str(),
                &r.object,
                &served(r),
                r.contract_type.label(),
                &r.cpv_main,
                &separator.decimal(&r.estimated_amount),
                r.state.label(),
                &r.year.to_string(),
                r.cup.as_deref().unwrap_or(""),
                r.anac_gara.as_deref().unwrap_or(""),
            ])
            .map_err(internal)?;
    }
    Ok(pico_service::download::csv(
        "procedure-sua.csv",
        writer.finish().map_err(internal)?,
    ))
}

// ---------------------------------------------------------------------------------------
// New request, initiative, edit

async fn show_new_request(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Response, AppError> {
    let form = FormState::default();
    Ok(new_request_page(&state, &identity, &form)
        .await?
        .into_response())
}

async fn new_request_page(
    state: &AppState,
    identity: &Identity,
    form: &FormState,
) -> Result<Markup, AppError> {
    let user = identity.require_user()?;
    let (comuni, notice) = match user.roles.comune() {
        Some(code) => {
            policy::authorize(
                identity,
                Action::SubmitSuaRequest {
                    comune: code.as_str(),
                },
            )?;
            let in_force: Vec<_> = conventions::list_conventions(
                state,
                identity,
                &ConventionQuery::default(),
                200,
                None,
            )
            .await?
            .into_iter()
            .filter(|c| c.in_force)
            .collect();
            let notice = if in_force.is_empty() {
                html! { div class="alert alert-warning" role="alert" id="convention-notice" {
                    "Il Comune non ha una convenzione in vigore con la SUA: la richiesta non potrà essere accolta finché la convenzione non sarà stipulata. "
                    a href="/sua/convenzioni" { "Vedi le convenzioni" }
                } }
            } else {
                html! { p id="convention-notice" {
                    "Convenzioni in vigore: "
                    @for (i, c) in in_force.iter().enumerate() {
                        @if i > 0 { "; " }
                        (c.scope.label()) " " (conventions::validity(c)) " (" (c.document_ref) ")"
                    }
                    "."
                } }
            };
            (None, notice)
        }
        _ => {
            policy::authorize(identity, Action::ManageProcedures)?;
            (Some(comuni_options(state).await?), html! {})
        }
    };
    let csrf = identity.csrf().unwrap_or_default().to_owned();
    let body = html! {
        (breadcrumb(&[("SUA", "/sua")], "Nuova richiesta"))
        h1 { "Nuova richiesta alla SUA" }
        (notice)
        p { "I campi con * sono obbligatori. La SUA esaminerà la richiesta e la prenderà in carico o la restituirà con le sue osservazioni." }
        (error_summary(form, REQUEST_LABELS))
        form method="post" action="/sua/richieste/nuova" enctype="multipart/form-data" novalidate id="request-form" {
            input type="hidden" name="csrf" value=(csrf);
            (forms::request_fields(form, &RequestFormKind::New(comuni)))
            (forms::file(form, "attachments", "Allegati", Some("Facoltativi, massimo 10 MB ciascuno: PDF, immagini, testo, documenti office"), true, None))
            button type="submit" class="btn btn-primary" id="submit-request" { "Invia la richiesta" }
        }
    };
    Ok(page(state, identity, "Nuova richiesta alla SUA", &body))
}

/// Re-shows a form after `error`: its field messages next to the fields, or the error's
/// detail in the summary when it names no field.
fn form_with_error(values: Values, error: &AppError) -> FormState {
    let mut form = FormState::refused(values, error);
    form.errors = forms::request_errors(&form.errors);
    // Upload messages name the file (`attachment`); the input is `attachments`.
    if let Some(message) = form.errors.remove("attachment") {
        form.errors.insert("attachments".to_owned(), message);
    }
    form
}

async fn submit_new_request(
    State(state): State<AppState>,
    identity: Identity,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let (values, uploads) = forms::read_multipart(multipart).await?;
    check_form_csrf(&identity, values.get("csrf").map_or("", String::as_str))?;
    let input = forms::request_input(&values);
    let outcome = requests::submit_request(&state, &identity, &input, uploads, Channel::Web).await;
    form::answer(
        outcome,
        |view| {
            layout::redirect_with_flash(
                &format!("/sua/procedure/{}", view.id),
                "Richiesta inviata alla Stazione Unica Appaltante.",
            )
        },
        async |error| new_request_page(&state, &identity, &form_with_error(values, error)).await,
    )
    .await
}

async fn show_new_initiative(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Markup, AppError> {
    initiative_page(&state, &identity, &FormState::default())
}

fn initiative_page(
    state: &AppState,
    identity: &Identity,
    form: &FormState,
) -> Result<Markup, AppError> {
    policy::authorize(identity, Action::ManageProcedures)?;
    let csrf = identity.csrf().unwrap_or_default().to_owned();
    let body = html! {
        (breadcrumb(&[("SUA", "/sua")], "Nuova iniziativa aggregata"))
        h1 { "Nuova iniziativa aggregata" }
        p { "Una procedura che la SUA gestisce per più Comuni, ciascuno con la sua quota dell'importo. Ogni Comune deve avere una convenzione in vigore per il tipo di contratto; ciascuno vedrà la procedura tra le sue." }
        (error_summary(form, REQUEST_LABELS))
        form method="post" action="/sua/iniziative/nuova" enctype="multipart/form-data" novalidate id="initiative-form" {
            input type="hidden" name="csrf" value=(csrf);
            (forms::request_fields(form, &RequestFormKind::Initiative))
            (forms::file(form, "attachments", "Allegati", Some("Facoltativi"), true, None))
            button type="submit" class="btn btn-primary" { "Crea l'iniziativa" }
        }
    };
    Ok(page(state, identity, "Nuova iniziativa aggregata", &body))
}

async fn submit_new_initiative(
    State(state): State<AppState>,
    identity: Identity,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let (values, uploads) = forms::read_multipart(multipart).await?;
    check_form_csrf(&identity, values.get("csrf").map_or("", String::as_str))?;
    let input = forms::request_input(&values);
    let outcome =
        requests::create_initiative(&state, &identity, &input, uploads, Channel::Web).await;
    form::answer(
        outcome,
        |view| {
            layout::redirect_with_flash(
                &format!("/sua/procedure/{}", view.id),
                "Iniziativa aggregata creata.",
            )
        },
        async |error| initiative_page(&state, &identity, &form_with_error(values, error)),
    )
    .await
}

async fn show_edit_request(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Markup, AppError> {
    let detail = workflow::procedure_detail(&state, &identity, id).await?;
    if !detail.permissions.edit {
        return Err(AppError::Forbidden);
    }
    let form = FormState {
        values: forms::request_values(&detail.procedure),
        ..FormState::default()
    };
    Ok(edit_page(&state, &identity, &detail.procedure, &form))
}

fn edit_page(
    state: &AppState,
    identity: &Identity,
    view: &ProcedureView,
    form: &FormState,
) -> Markup {
    let csrf = identity.csrf().unwrap_or_default().to_owned();
    let title = format!("Modifica della procedura n. {}", view.id);
    let body = html! {
        (breadcrumb(&[("SUA", "/sua"), (&format!("Procedura n. {}", view.id), &format!("/sua/procedure/{}", view.id))], "Modifica"))
        h1 { (title) }
        @if view.state == SuaState::Returned {
            p { "Dopo le correzioni, inviate di nuovo la richiesta dalla sua pagina." }
        }
        (error_summary(form, REQUEST_LABELS))
        form method="post" action=(format!("/sua/procedure/{}/modifica", view.id)) novalidate id="edit-form" {
            input type="hidden" name="csrf" value=(csrf);
            (forms::request_fields(form, &RequestFormKind::Edit(view.aggregated)))
            button type="submit" class="btn btn-primary" { "Salva" }
            " "
            a class="btn btn-outline-secondary" href=(format!("/sua/procedure/{}", view.id)) { "Annulla" }
        }
    };
    page(state, identity, &title, &body)
}

async fn submit_edit_request(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(values): PageForm<Values>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, values.get("csrf").map_or("", String::as_str))?;
    let input = forms::request_input(&values);
    let outcome = requests::update_request(&state, &identity, id, &input).await;
    form::answer(
        outcome,
        |_| {
            layout::redirect_with_flash(
                &format!("/sua/procedure/{id}"),
                "Dati della richiesta salvati.",
            )
        },
        async |error| {
            let detail = workflow::procedure_detail(&state, &identity, id).await?;
            let form = form_with_error(values, error);
            Ok(edit_page(&state, &identity, &detail.procedure, &form))
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------
// Procedure page

/// An action that failed on the procedure page: which form, why, and what was typed.
#[derive(Debug, Clone, Default)]
struct Failed {
    /// The id of the form that failed (`move-published`, `award-3`…).
    form: String,
    /// The message for the whole action.
    message: String,
    /// The form's fields, with their messages.
    state: FormState,
}

impl Failed {
    /// The state of form `form`: what failed in it, or empty; its field ids start with
    /// `form-`.
    fn form_state(&self, form: &str) -> FormState {
        let mut state = if self.form == form {
            self.state.clone()
        } else {
            FormState::default()
        };
        state.prefix = format!("{form}-");
        state
    }
}

async fn show_procedure(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Markup, AppError> {
    procedure_page(&state, &identity, id, None).await
}

fn move_label(to: SuaState) -> &'static str {
    match to {
        SuaState::Submitted => "Invia di nuovo la richiesta",
        SuaState::Returned => "Restituisci al Comune",
        SuaState::Withdrawn => "Ritira la richiesta",
        SuaState::Received => "Prendi in carico",
        SuaState::InPreparation => "Avvia la preparazione",
        SuaState::Published => "Pubblica",
        SuaState::BidsClosed => "Chiudi le offerte",
        SuaState::Evaluation => "Avvia la valutazione",
        SuaState::Awarded => "Aggiudica la procedura",
        SuaState::ContractSigned => "Registra la stipula",
        SuaState::Completed => "Concludi",
        SuaState::Cancelled => "Annulla la procedura",
        SuaState::Deserted => "Dichiara deserta",
    }
}

fn move_form(detail: &ProcedureDetail, to: SuaState, csrf: &str, failed: &Failed) -> Markup {
    let p = &detail.procedure;
    let form_id = format!("move-{}", to.as_str());
    let form = failed.form_state(&form_id);
    let today = Day::today().iso();
    let danger = matches!(
        to,
        SuaState::Cancelled | SuaState::Deserted | SuaState::Withdrawn | SuaState::Returned
    );
    let latest_award = detail
        .lots
        .iter()
        .filter_map(|l| l.award.as_ref().and_then(|a| a.awarded_on.clone()))
        .max()
        .unwrap_or_default();
    html! {
        form method="post" action=(format!("/sua/procedure/{}/stato", p.id)) id=(form_id) class="card card-bg mb-3" novalidate {
            div class="card-body" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="to" value=(to.as_str());
                input type="hidden" name="from" value=(p.state.as_str());
                h3 class="h6 card-title" { (move_label(to)) }
                @match to {
                    SuaState::Published => {
                        (input_with(&form, "anac_gara", "Numero gara ANAC", "text", false, None, p.anac_gara.as_deref().unwrap_or_default()))
                        (input_with(&form, "published_on", "Data di pubblicazione", "date", true, None, p.published_on.as_deref().unwrap_or(&today)))
                        (input_with(&form, "deadline_on", "Scadenza delle offerte", "date", true, None, p.deadline_on.as_deref().unwrap_or_default()))
                    }
                    SuaState::Awarded => {
                        (input_with(&form, "awarded_on", "Data di aggiudicazione", "date", false, Some("Se vuota, la data più recente tra le aggiudicazioni dei lotti"), &latest_award))
                    }
                    SuaState::ContractSigned => {
                        (input_with(&form, "contract_signed_on", "Data di stipula", "date", true, None, p.contract_signed_on.as_deref().unwrap_or(&today)))
                    }
                    SuaState::Completed => {
                        (input_with(&form, "completed_on", "Data di conclusione", "date", true, None, p.completed_on.as_deref().unwrap_or(&today)))
                    }
                    _ => {}
                }
                @if matches!(to, SuaState::Returned | SuaState::Cancelled | SuaState::Deserted) {
                    (textarea(&form, "reason", "Motivo", 3, true, None))
                } @else {
                    (textarea(&form, "reason", "Nota (facoltativa)", 2, false, None))
                }
                button type="submit" class=(if danger { "btn btn-outline-danger" } else { "btn btn-primary" }) { (move_label(to)) }
            }
        }
    }
}

fn award_cells(lot: &LotView) -> Markup {
    html! {
        @if let Some(award) = &lot.award {
            td class="award-supplier" { (award.supplier_name) br; small { "C.F./P.IVA " (award.supplier_cf) } }
            td class="award-amount text-end" { (money(&award.amount)) }
            td class="award-ribasso text-end" { (award.ribasso.as_deref().map_or_else(|| "—".to_owned(), percent)) }
            td class="award-date" { (optional_day(award.awarded_on.as_ref())) }
        } @else {
            td { "—" } td { "—" } td { "—" } td { "—" }
        }
    }
}

#[expect(clippy::too_many_lines, reason = "one page, read top to bottom")]
fn lots_section(detail: &ProcedureDetail, csrf: &str, failed: &Failed) -> Markup {
    let p = &detail.procedure;
    let manage = detail.permissions.manage;
    let structure = manage && matches!(p.state, SuaState::Received | SuaState::InPreparation);
    let bids = manage
        && matches!(
            p.state,
            SuaState::BidsClosed
                | SuaState::Evaluation
                | SuaState::Awarded
                | SuaState::ContractSigned
        );
    let status_change = manage
        && matches!(
            p.state,
            SuaState::Published | SuaState::BidsClosed | SuaState::Evaluation
        );
    let award = manage && matches!(p.state, SuaState::Evaluation | SuaState::Awarded);
    let total: i64 = detail
        .lots
        .iter()
        .filter_map(|l| Euro::parse(&l.amount).ok())
        .map(Euro::cents)
        .sum();
    let today = Day::today().iso();
    let add = failed.form_state("add-lot");
    html! {
        section aria-labelledby="lots-title" class="mb-4" {
            h2 class="h4" id="lots-title" { "Lotti e aggiudicazione" }
            @if detail.lots.is_empty() {
                p id="no-lots" { "Nessun lotto ancora." @if structure { " Aggiungete almeno un lotto con il suo CIG prima di pubblicare." } }
            } @else {
                div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole" {
                    table class="table" id="lots" {
                        caption { "Lotti (" (detail.lots.len()) "), importo a base di gara " (Euro(total).to_italian()) }
                        thead { tr {
                            th scope="col" { "Lotto" } th scope="col" { "CIG" } th scope="col" { "Descrizione" }
                            th scope="col" class="text-end" { "Importo a base" } th scope="col" { "Stato" } th scope="col" { "Offerte" }
                            th scope="col" { "Aggiudicatario" } th scope="col" class="text-end" { "Importo aggiudicato" }
                            th scope="col" class="text-end" { "Ribasso" } th scope="col" { "Aggiudicato il" }
                        } }
                        tbody {
                            @for lot in &detail.lots {
                                tr id=(format!("lot-{}", lot.lot_no)) {
                                    td { (lot.lot_no) }
                                    td { (lot.cig.clone().unwrap_or_else(|| "—".into())) }
                                    td { (lot.description) @if let Some(cpv) = &lot.cpv { br; small { "CPV " (cpv) } } }
                                    td class="text-end" { (money(&lot.amount)) }
                                    td { (lot.status.label()) }
                                    td { (lot.bids_count.map_or_else(|| "—".to_owned(), |b| b.to_string())) }
                                    (award_cells(lot))
                                }
                            }
                        }
                    }
                }
            }
            @if manage {
                @for lot in &detail.lots {
                    @let lot_id = lot.id;
                    @let base = format!("/sua/procedure/{}/lotti/{lot_id}", p.id);
                    @if structure {
                        details class="mb-2" open[failed.form == format!("edit-lot-{lot_id}")] {
                            summary { "Modifica il lotto " (lot.lot_no) }
                            @let f = failed.form_state(&format!("edit-lot-{lot_id}"));
                            form method="post" action=(base.clone()) id=(format!("edit-lot-{lot_id}")) class="mt-2" novalidate {
                                input type="hidden" name="csrf" value=(csrf);
                                (input_with(&f, "cig", "CIG", "text", false, None, lot.cig.as_deref().unwrap_or_default()))
                                (input_with(&f, "description", "Descrizione", "text", true, None, &lot.description))
                                (input_with(&f, "cpv", "CPV", "text", false, None, lot.cpv.as_deref().unwrap_or_default()))
                                (input_with(&f, "amount", "Importo a base (euro)", "text", true, None, money(&lot.amount).trim_start_matches("€ ")))
                                button type="submit" class="btn btn-sm btn-primary" { "Salva il lotto" }
                            }
                            form method="post" action=(format!("{base}/elimina")) class="mt-2" {
                                input type="hidden" name="csrf" value=(csrf);
                                button type="submit" class="btn btn-sm btn-outline-danger" { "Elimina il lotto " (lot.lot_no) }
                            }
                        }
                    }
                    @if bids && lot.status != LotStatus::Awarded {
                        @let f = failed.form_state(&format!("bids-{lot_id}"));
                        form method="post" action=(base.clone()) id=(format!("bids-{lot_id}")) class="row g-2 align-items-end mb-2" novalidate {
                            input type="hidden" name="csrf" value=(csrf);
                            div class="col-auto" { (input_with(&f, "bids_count", &format!("Offerte ricevute, lotto {}", lot.lot_no), "number", true, None, &lot.bids_count.map(|b| b.to_string()).unwrap_or_default())) }
                            div class="col-auto" { button type="submit" class="btn btn-sm btn-outline-primary" { "Registra" } }
                        }
                    }
                    @if status_change && lot.status != LotStatus::Awarded {
                        form method="post" action=(base.clone()) id=(format!("status-{lot_id}")) class="row g-2 align-items-end mb-2" {
                            input type="hidden" name="csrf" value=(csrf);
                            div class="col-auto" {
                                label class="form-label" for=(format!("lot-status-{lot_id}")) { "Stato del lotto " (lot.lot_no) }
                                select class="form-select" id=(format!("lot-status-{lot_id}")) name="status" {
                                    @for s in [LotStatus::Active, LotStatus::Deserted, LotStatus::Cancelled] {
                                        option value=(s.as_str()) selected[s == lot.status] { (s.label()) }
                                    }
                                }
                            }
                            div class="col-auto" { button type="submit" class="btn btn-sm btn-outline-primary" { "Cambia stato" } }
                        }
                    }
                    @if award && matches!(lot.status, LotStatus::Active | LotStatus::Awarded) {
                        @let f = failed.form_state(&format!("award-{lot_id}"));
                        @let current = lot.award.as_ref();
                        form method="post" action=(format!("{base}/aggiudicazione")) id=(format!("award-{lot_id}")) class="card card-bg mb-3" novalidate {
                            div class="card-body" {
                                input type="hidden" name="csrf" value=(csrf);
                                h3 class="h6 card-title" { "Aggiudicazione del lotto " (lot.lot_no) " (base " (money(&lot.amount)) ")" }
                                (input_with(&f, "supplier_name", "Aggiudicatario (ragione sociale)", "text", true, None, current.map_or("", |a| a.supplier_name.as_str())))
                                (input_with(&f, "supplier_cf", "Partita IVA o codice fiscale", "text", true, None, current.map_or("", |a| a.supplier_cf.as_str())))
                                (input_with(&f, "amount", "Importo di aggiudicazione (euro)", "text", true, None, &current.map(|a| money(&a.amount).trim_start_matches("€ ").to_owned()).unwrap_or_default()))
                                (input_with(&f, "ribasso", "Ribasso %", "text", false, Some("Se vuoto, calcolato dall'importo a base e dall'importo aggiudicato"), &current.and_then(|a| a.ribasso.clone()).map(|r| r.replace('.', ",")).unwrap_or_default()))
                                (input_with(&f, "awarded_on", "Data di aggiudicazione", "date", true, None, current.and_then(|a| a.awarded_on.as_deref()).unwrap_or(&today)))
                                (input_with(&f, "bids_count", "Offerte ricevute", "number", false, None, &lot.bids_count.map(|b| b.to_string()).unwrap_or_default()))
                                button type="submit" class="btn btn-primary" { "Registra l'aggiudicazione" }
                            }
                        }
                        @if p.state == SuaState::Evaluation && lot.status == LotStatus::Awarded {
                            form method="post" action=(format!("{base}/aggiudicazione/annulla")) class="mb-3" {
                                input type="hidden" name="csrf" value=(csrf);
                                button type="submit" class="btn btn-sm btn-outline-danger" { "Annulla l'aggiudicazione del lotto " (lot.lot_no) }
                            }
                        }
                    }
                }
                @if structure {
                    form method="post" action=(format!("/sua/procedure/{}/lotti", p.id)) id="add-lot" class="card card-bg mb-3" novalidate {
                        div class="card-body" {
                            input type="hidden" name="csrf" value=(csrf);
                            h3 class="h6 card-title" { "Aggiungi un lotto" }
                            (input(&add, "cig", "CIG", "text", false, Some("10 caratteri, es. 90940496A3; obbligatorio per pubblicare")))
                            (input(&add, "description", "Descrizione", "text", true, None))
                            (input(&add, "cpv", "CPV del lotto", "text", false, None))
                            (input(&add, "amount", "Importo a base (euro)", "text", true, None))
                            button type="submit" class="btn btn-primary" { "Aggiungi il lotto" }
                        }
                    }
                }
            }
        }
    }
}

#[expect(clippy::too_many_lines, reason = "one page, read top to bottom")]
async fn procedure_page(
    state: &AppState,
    identity: &Identity,
    id: i64,
    failed: Option<Failed>,
) -> Result<Markup, AppError> {
    let detail = workflow::procedure_detail(state, identity, id).await?;
    let failed = failed.unwrap_or_default();
    let csrf = identity.csrf().unwrap_or_default().to_owned();
    let p = &detail.procedure;
    let comune_user = is_comune(identity);
    let kind = if p.state.is_request() {
        "Richiesta"
    } else {
        "Procedura"
    };
    let title = format!("{kind} n. {}: {}", p.id, p.object);
    let tender = failed.form_state("tender");
    let show_tender = detail.permissions.manage && !p.state.is_request();
    let body = html! {
        (breadcrumb(&[("SUA", "/sua")], &format!("{} n. {}", kind, p.id)))
        h1 { (title) }
        @if !failed.message.is_empty() {
            div class="alert alert-danger" role="alert" id="action-error" tabindex="-1" {
                p class="mb-1" { (failed.message) }
                @if !failed.state.errors.is_empty() {
                    ul class="mb-0" { @for (field, message) in &failed.state.errors { li { (field) ": " (message) } } }
                }
            }
        }
        p { "Stato: " span id="state" { (state_badge(p.state)) } }
        @if let (SuaState::Returned, Some(reason)) = (p.state, &p.return_reason) {
            div class="alert alert-warning" role="alert" id="return-reason" {
                p class="fw-bold mb-1" { "La SUA ha restituito la richiesta al Comune:" }
                p class="mb-0" style="white-space: pre-wrap" { (reason) }
                @if comune_user { p class="mb-0 mt-2" { "Correggete la richiesta e inviatela di nuovo, oppure ritiratela." } }
            }
        }
        section aria-labelledby="data-title" class="mb-4" {
            h2 class="h4" id="data-title" { "Dati della richiesta" }
            dl class="row" id="procedure-data" {
                dt class="col-sm-4" { @if p.aggregated { "Comuni serviti" } @else { "Comune" } }
                dd class="col-sm-8" { (served(p)) }
                dt class="col-sm-4" { "Tipo di contratto" } dd class="col-sm-8" { (p.contract_type.label()) }
                dt class="col-sm-4" { "CPV" } dd class="col-sm-8" { (p.cpv_main) @if !p.cpv_other.is_empty() { " (altri: " (p.cpv_other.join(", ")) ")" } }
                dt class="col-sm-4" { "Importo stimato" } dd class="col-sm-8" id="estimated-amount" { (money(&p.estimated_amount)) }
                dt class="col-sm-4" { "Procedura" } dd class="col-sm-8" { (p.procedure_code) " — " (p.procedure_label) }
                dt class="col-sm-4" { "Criterio di aggiudicazione" } dd class="col-sm-8" { (p.award_criterion.label()) }
                dt class="col-sm-4" { "CUP" } dd class="col-sm-8" { (p.cup.clone().unwrap_or_else(|| "—".into())) }
                dt class="col-sm-4" { "Finanziamento" } dd class="col-sm-8" { (if p.funding_source.is_empty() { "—" } else { &p.funding_source }) @if p.pnrr { " " span class="badge bg-primary" { "PNRR" } } }
                dt class="col-sm-4" { "RUP" } dd class="col-sm-8" {
                    @if p.rup_name.trim().is_empty() && p.rup_email.trim().is_empty() { "Non indicato" }
                    @else {
                        (p.rup_name)
                        @if !p.rup_email.trim().is_empty() { " (" a href=(format!("mailto:{}", p.rup_email.trim())) { (p.rup_email) } ")" }
                    }
                }
                dt class="col-sm-4" { "Aggiudicazione desiderata entro" } dd class="col-sm-8" { (optional_day(p.desired_by.as_ref())) }
                dt class="col-sm-4" { "Richiesta il" } dd class="col-sm-8" { time datetime=(p.requested_at) { (when(&p.requested_at)) } }
            }
            @if !p.description.is_empty() {
                h3 class="h6" { "Descrizione" }
                p style="white-space: pre-wrap" { (p.description) }
            }
            @if detail.permissions.edit && (p.state.is_request() || detail.permissions.manage) {
                p { a class="btn btn-outline-primary btn-sm" href=(format!("/sua/procedure/{}/modifica", p.id)) id="edit-request" { "Modifica i dati" } }
            }
        }
        @if p.aggregated {
            section aria-labelledby="participants-title" class="mb-4" {
                h2 class="h4" id="participants-title" { "Comuni e quote" }
                div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole" { table class="table table-sm" id="participants" {
                    thead { tr { th scope="col" { "Comune" } th scope="col" { "Codice ISTAT" } th scope="col" class="text-end" { "Quota" } } }
                    tbody { @for s in &p.participants { tr { td { (s.comune_name) } td { (s.comune_code) } td class="text-end" { (money(&s.share)) } } } }
                } }
                @if detail.permissions.manage {
                    @let f = if failed.form == "participants" { failed.form_state("participants") } else {
                        FormState { values: forms::request_values(p), errors: BTreeMap::new(), prefix: "participants-".to_owned() }
                    };
                    form method="post" action=(format!("/sua/procedure/{}/quote", p.id)) id="participants-form" novalidate {
                        input type="hidden" name="csrf" value=(csrf);
                        (textarea(&f, "participants", "Modifica le quote (una riga per Comune: codice ISTAT; quota)", 4, true, None))
                        button type="submit" class="btn btn-sm btn-outline-primary" { "Salva le quote" }
                    }
                }
            }
        }
        section aria-labelledby="tender-title" class="mb-4" {
            h2 class="h4" id="tender-title" { "Gara" }
            dl class="row" id="tender-data" {
                dt class="col-sm-4" { "Numero gara ANAC" } dd class="col-sm-8" { (p.anac_gara.clone().unwrap_or_else(|| "—".into())) }
                dt class="col-sm-4" { "Presa in carico" } dd class="col-sm-8" { (p.accepted_at.as_deref().map_or_else(|| "—".to_owned(), when)) }
                dt class="col-sm-4" { "Pubblicazione" } dd class="col-sm-8" { (optional_day(p.published_on.as_ref())) }
                dt class="col-sm-4" { "Scadenza offerte" } dd class="col-sm-8" { (optional_day(p.deadline_on.as_ref())) }
                dt class="col-sm-4" { "Aggiudicazione" } dd class="col-sm-8" id="awarded-on" {
                    (optional_day(p.awarded_on.as_ref()))
                    @if awarded_before_request(p) {
                        br; span class="text-danger" id="awarded-before-request" { "La data di aggiudicazione precede la richiesta: verificatela. La durata della procedura non è calcolata nei report." }
                    }
                }
                dt class="col-sm-4" { "Stipula del contratto" } dd class="col-sm-8" { (optional_day(p.contract_signed_on.as_ref())) }
                dt class="col-sm-4" { "Conclusione" } dd class="col-sm-8" { (optional_day(p.completed_on.as_ref())) }
            }
            @if show_tender {
                details open[failed.form == "tender"] {
                    summary { "Modifica i dati di gara" }
                    form method="post" action=(format!("/sua/procedure/{}/gara", p.id)) id="tender" class="mt-2" novalidate {
                        input type="hidden" name="csrf" value=(csrf);
                        (input_with(&tender, "anac_gara", "Numero gara ANAC", "text", false, None, p.anac_gara.as_deref().unwrap_or_default()))
                        (input_with(&tender, "published_on", "Pubblicazione", "date", false, None, p.published_on.as_deref().unwrap_or_default()))
                        (input_with(&tender, "deadline_on", "Scadenza offerte", "date", false, None, p.deadline_on.as_deref().unwrap_or_default()))
                        (input_with(&tender, "awarded_on", "Aggiudicazione", "date", false, None, p.awarded_on.as_deref().unwrap_or_default()))
                        (input_with(&tender, "contract_signed_on", "Stipula", "date", false, None, p.contract_signed_on.as_deref().unwrap_or_default()))
                        (input_with(&tender, "completed_on", "Conclusione", "date", false, None, p.completed_on.as_deref().unwrap_or_default()))
                        button type="submit" class="btn btn-sm btn-primary" { "Salva i dati di gara" }
                    }
                }
            }
        }
        @if !p.state.is_request() || !detail.lots.is_empty() {
            (lots_section(&detail, &csrf, &failed))
        }
        @if !detail.allowed_transitions.is_empty() {
            section aria-labelledby="actions-title" class="mb-4" id="actions" {
                h2 class="h4" id="actions-title" { "Azioni" }
                @for to in &detail.allowed_transitions { (move_form(&detail, *to, &csrf, &failed)) }
            }
        }
        section aria-labelledby="attachments-title" class="mb-4" {
            h2 class="h4" id="attachments-title" { "Allegati" }
            @if detail.attachments.is_empty() { p { "Nessun allegato." } }
            @else {
                ul id="attachments-list" {
                    @for a in &detail.attachments {
                        li { a href=(format!("/sua/procedure/{}/allegati/{}", p.id, a.id)) { (a.filename) } " (" (fmt::integer(a.size)) " byte, " (a.uploaded_by) ", " (when(&a.created_at)) ")" }
                    }
                }
            }
            @if detail.permissions.attach {
                form method="post" action=(format!("/sua/procedure/{}/allegati", p.id)) enctype="multipart/form-data" id="attach" class="row g-2 align-items-end" {
                    input type="hidden" name="csrf" value=(csrf);
                    div class="col-auto" {
                        label for="attachments" class="form-label" { "Aggiungi allegati (massimo 10 MB ciascuno)" }
                        input type="file" class="form-control" id="attachments" name="attachments" multiple;
                    }
                    div class="col-auto" { button type="submit" class="btn btn-outline-primary" { "Allega" } }
                }
            }
        }
        section aria-labelledby="timeline-title" class="mb-4" {
            h2 class="h4" id="timeline-title" { "Cronologia" }
            ol class="list-unstyled" id="timeline" {
                @for t in &detail.transitions {
                    li class="mb-2 border-start border-3 ps-3" data-to=(t.to.as_str()) {
                        time datetime=(t.at) { (when(&t.at)) } " — "
                        @if let Some(from) = t.from { (from.label()) " → " }
                        strong { (t.to.label()) }
                        " (" (t.actor) ")"
                        @if !t.reason.is_empty() { br; span class="timeline-reason" style="white-space: pre-wrap" { (t.reason) } }
                    }
                }
            }
        }
    };
    Ok(page(state, identity, &title, &body))
}

/// The outcome of an action form: back to the procedure page, or the page again with the
/// failure shown by the form that caused it.
async fn after_action(
    state: &AppState,
    identity: &Identity,
    id: i64,
    form: &str,
    values: Values,
    result: Result<(), AppError>,
    anchor: &str,
) -> Result<Response, AppError> {
    form::answer(
        result,
        |()| {
            layout::redirect_with_flash(
                &format!("/sua/procedure/{id}{anchor}"),
                &done_message(form),
            )
        },
        async |error| {
            let errors = field_messages(error);
            let message = if errors.is_empty() {
                error.to_problem().detail().unwrap_or_default().to_owned()
            } else {
                "L'operazione non è stata eseguita: correggete i dati indicati.".to_owned()
            };
            let failed = Failed {
                form: form.to_owned(),
                message,
                state: FormState {
                    values,
                    errors,
                    ..FormState::default()
                },
            };
            procedure_page(state, identity, id, Some(failed)).await
        },
    )
    .await
}

fn value(values: &Values, name: &str) -> Option<String> {
    values.get(name).cloned()
}

fn nonempty(values: &Values, name: &str) -> Option<String> {
    values.get(name).filter(|v| !v.trim().is_empty()).cloned()
}

async fn submit_transition(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(values): PageForm<Values>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, values.get("csrf").map_or("", String::as_str))?;
    let to = values
        .get("to")
        .and_then(|to| SuaState::parse(to))
        .ok_or_else(|| AppError::invalid_field("to", "stato sconosciuto"))?;
    let mut input = TransitionInput::to(to);
    // The state the page showed: a move from a page another person has since overtaken is
    // refused (409) instead of applied to a state its author never saw.
    input.from = values.get("from").and_then(|from| SuaState::parse(from));
    input.reason = nonempty(&values, "reason");
    input.anac_gara = nonempty(&values, "anac_gara");
    input.published_on = nonempty(&values, "published_on");
    input.deadline_on = nonempty(&values, "deadline_on");
    input.awarded_on = nonempty(&values, "awarded_on");
    input.contract_signed_on = nonempty(&values, "contract_signed_on");
    input.completed_on = nonempty(&values, "completed_on");
    // A move form names only what its target needs: a required date left empty must be
    // reported, not silently taken from what is stored.
    for (field, target) in [
        ("published_on", SuaState::Published),
        ("deadline_on", SuaState::Published),
        ("contract_signed_on", SuaState::ContractSigned),
        ("completed_on", SuaState::Completed),
    ] {
        if to == target && values.contains_key(field) && nonempty(&values, field).is_none() {
            match field {
                "published_on" => input.published_on = Some(String::new()),
                "deadline_on" => input.deadline_on = Some(String::new()),
                "contract_signed_on" => input.contract_signed_on = Some(String::new()),
                _ => input.completed_on = Some(String::new()),
            }
        }
    }
    let result = workflow::transition(&state, &identity, id, &input)
        .await
        .map(|_| ());
    let form = format!("move-{}", to.as_str());
    after_action(&state, &identity, id, &form, values, result, "").await
}

async fn submit_tender(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(values): PageForm<Values>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, values.get("csrf").map_or("", String::as_str))?;
    let input = TenderInput {
        anac_gara: value(&values, "anac_gara"),
        published_on: value(&values, "published_on"),
        deadline_on: value(&values, "deadline_on"),
        awarded_on: value(&values, "awarded_on"),
        contract_signed_on: value(&values, "contract_signed_on"),
        completed_on: value(&values, "completed_on"),
    };
    let result = workflow::update_tender(&state, &identity, id, input)
        .await
        .map(|_| ());
    after_action(
        &state,
        &identity,
        id,
        "tender",
        values,
        result,
        "#tender-title",
    )
    .await
}

async fn submit_participants(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(values): PageForm<Values>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, values.get("csrf").map_or("", String::as_str))?;
    let shares = forms::parse_shares(values.get("participants").map_or("", String::as_str));
    let result = requests::update_participants(&state, &identity, id, &shares)
        .await
        .map(|_| ());
    let result = result.map_err(|error| {
        // Shares' messages gather under the textarea, with their line numbers.
        let messages = forms::request_errors(&field_messages(&error));
        if messages.is_empty() {
            error
        } else {
            let mut errors = sua_ops::FieldErrors::new();
            for (field, message) in messages {
                errors.add(field, message);
            }
            errors.into()
        }
    });
    after_action(
        &state,
        &identity,
        id,
        "participants",
        values,
        result,
        "#participants-title",
    )
    .await
}

async fn submit_new_lot(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(values): PageForm<Values>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, values.get("csrf").map_or("", String::as_str))?;
    let input = NewLot {
        cig: nonempty(&values, "cig"),
        description: value(&values, "description").unwrap_or_default(),
        cpv: nonempty(&values, "cpv"),
        amount: value(&values, "amount").unwrap_or_default(),
    };
    let result = workflow::add_lot(&state, &identity, id, input)
        .await
        .map(|_| ());
    after_action(
        &state,
        &identity,
        id,
        "add-lot",
        values,
        result,
        "#lots-title",
    )
    .await
}

async fn submit_lot(
    State(state): State<AppState>,
    identity: Identity,
    Path((id, lot)): Path<(i64, i64)>,
    PageForm(values): PageForm<Values>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, values.get("csrf").map_or("", String::as_str))?;
    let mut form = format!("edit-lot-{lot}");
    if values.contains_key("bids_count") {
        form = format!("bids-{lot}");
    }
    // The bids form exists to set the number: there, empty is a mistake too.
    let bids_count = match bids_field(&values) {
        Ok(None) if values.contains_key("bids_count") => Err(bids_error()),
        other => other,
    };
    let bids_count = match bids_count {
        Ok(bids) => bids,
        Err(error) => {
            return after_action(&state, &identity, id, &form, values, Err(error), "").await;
        }
    };
    let status = values.get("status").and_then(|s| LotStatus::parse(s));
    if status.is_some() {
        form = format!("status-{lot}");
    }
    let patch = LotPatch {
        cig: value(&values, "cig"),
        description: value(&values, "description"),
        cpv: value(&values, "cpv"),
        amount: value(&values, "amount"),
        bids_count,
        status,
    };
    let result = workflow::update_lot(&state, &identity, id, lot, patch)
        .await
        .map(|_| ());
    after_action(&state, &identity, id, &form, values, result, "#lots-title").await
}

async fn submit_delete_lot(
    State(state): State<AppState>,
    identity: Identity,
    Path((id, lot)): Path<(i64, i64)>,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, &form.csrf)?;
    let result = workflow::delete_lot(&state, &identity, id, lot).await;
    after_action(
        &state,
        &identity,
        id,
        "",
        Values::new(),
        result,
        "#lots-title",
    )
    .await
}

/// The number of bids typed in a lot or award form: empty is "not given", anything but a
/// whole number is refused with a message by the field.
fn bids_field(values: &Values) -> Result<Option<i64>, AppError> {
    let Some(text) = nonempty(values, "bids_count") else {
        return Ok(None);
    };
    text.trim()
        .parse::<i64>()
        .map(Some)
        .map_err(|_| bids_error())
}

fn bids_error() -> AppError {
    let mut errors = sua_ops::FieldErrors::new();
    errors.add(
        "bids_count",
        "Indicate il numero di offerte ricevute come numero intero, ad esempio 7",
    );
    errors.into()
}

async fn submit_award(
    State(state): State<AppState>,
    identity: Identity,
    Path((id, lot)): Path<(i64, i64)>,
    PageForm(values): PageForm<Values>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, values.get("csrf").map_or("", String::as_str))?;
    let bids_count = match bids_field(&values) {
        Ok(bids) => bids,
        Err(error) => {
            let form = format!("award-{lot}");
            return after_action(
                &state,
                &identity,
                id,
                &form,
                values,
                Err(error),
                "#lots-title",
            )
            .await;
        }
    };
    let input = AwardInput {
        supplier_name: value(&values, "supplier_name").unwrap_or_default(),
        supplier_cf: value(&values, "supplier_cf").unwrap_or_default(),
        amount: value(&values, "amount").unwrap_or_default(),
        ribasso: nonempty(&values, "ribasso"),
        awarded_on: value(&values, "awarded_on").unwrap_or_default(),
        bids_count,
    };
    let result = workflow::set_award(&state, &identity, id, lot, input)
        .await
        .map(|_| ());
    after_action(
        &state,
        &identity,
        id,
        &format!("award-{lot}"),
        values,
        result,
        "#lots-title",
    )
    .await
}

async fn submit_clear_award(
    State(state): State<AppState>,
    identity: Identity,
    Path((id, lot)): Path<(i64, i64)>,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, &form.csrf)?;
    let result = workflow::clear_award(&state, &identity, id, lot)
        .await
        .map(|_| ());
    after_action(
        &state,
        &identity,
        id,
        "",
        Values::new(),
        result,
        "#lots-title",
    )
    .await
}

async fn submit_attachments(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let (values, uploads) = forms::read_multipart(multipart).await?;
    check_form_csrf(&identity, values.get("csrf").map_or("", String::as_str))?;
    let result = workflow::add_attachments(&state, &identity, id, uploads)
        .await
        .map(|_| ());
    after_action(
        &state,
        &identity,
        id,
        "attach",
        Values::new(),
        result,
        "#attachments-title",
    )
    .await
}

async fn download_attachment(
    State(state): State<AppState>,
    identity: Identity,
    Path((id, attachment)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let (meta, data) = workflow::attachment(&state, &identity, id, attachment).await?;
    Ok(crate::web::download(
        &meta.content_type,
        &meta.filename,
        data,
    ))
}

// ---------------------------------------------------------------------------------------
// Convenzioni

#[derive(Debug, Default, Deserialize)]
struct ConventionFilter {
    comune: Option<String>,
    revoked: Option<String>,
}

const CONVENTION_LABELS: &[(&str, &str)] = &[
    ("comune_code", "Comune"),
    ("scope", "Ambito"),
    ("valid_from", "In vigore dal"),
    ("valid_until", "Fino al"),
    ("document_ref", "Documento"),
    ("notes", "Note"),
];

async fn show_conventions(
    State(state): State<AppState>,
    identity: Identity,
    Query(filter): Query<ConventionFilter>,
) -> Result<Markup, AppError> {
    conventions_page(&state, &identity, &filter, &FormState::default()).await
}

async fn conventions_page(
    state: &AppState,
    identity: &Identity,
    filter: &ConventionFilter,
    form: &FormState,
) -> Result<Markup, AppError> {
    let query = ConventionQuery {
        comune: filter.comune.clone().filter(|c| !c.is_empty()),
        include_revoked: Some(filter.revoked.as_deref() == Some("true")),
        limit: None,
        cursor: None,
    };
    let rows = conventions::list_conventions(state, identity, &query, 200, None).await?;
    let staff = policy::authorize(identity, Action::ManageConventions).is_ok();
    let comuni = if staff {
        comuni_options(state).await?
    } else {
        Vec::new()
    };
    let scopes: Vec<(String, String)> = ConventionScope::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), s.label().to_owned()))
        .collect();
    let csrf = identity.csrf().unwrap_or_default().to_owned();
    let body = html! {
        (breadcrumb(&[("SUA", "/sua")], "Convenzioni"))
        h1 { "Convenzioni con la SUA" }
        p { "Le convenzioni con cui i Comuni delegano alla SUA della " (state.province.name) " le loro procedure di affidamento. Un Comune può inviare richieste solo con una convenzione in vigore per il tipo di contratto." }
        form method="get" action="/sua/convenzioni" class="row g-3 align-items-end mb-3" aria-label="Filtri" {
            @if staff {
                div class="col-md-4" {
                    label for="f-comune" class="form-label" { "Comune" }
                    select class="form-select" id="f-comune" name="comune" {
                        option value="" { "Tutti" }
                        @for (code, name) in &comuni { option value=(code) selected[filter.comune.as_deref() == Some(code.as_str())] { (name) } }
                    }
                }
            }
            div class="col-md-3 form-check" {
                input class="form-check-input" type="checkbox" id="f-revoked" name="revoked" value="true" checked[filter.revoked.as_deref() == Some("true")];
                label class="form-check-label" for="f-revoked" { "Mostra anche le revocate" }
            }
            div class="col-md-2" { button type="submit" class="btn btn-outline-primary" { "Filtra" } }
        }
        @if rows.is_empty() {
            p id="no-conventions" { "Nessuna convenzione." }
        } @else {
            div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole" { table class="table" id="conventions" {
                thead { tr {
                    th scope="col" { "Comune" } th scope="col" { "Ambito" } th scope="col" { "Validità" }
                    th scope="col" { "Documento" } th scope="col" { "Stato" } @if staff { th scope="col" { span class="visually-hidden" { "Azioni" } } }
                } }
                tbody {
                    @for c in &rows {
                        tr {
                            td { (c.comune_name) " (" (c.comune_code) ")" }
                            td { (c.scope.label()) }
                            td { (conventions::validity(c)) }
                            td { (c.document_ref) @if !c.notes.is_empty() { br; small { (c.notes) } } }
                            td {
                                @if c.revoked_at.is_some() { span class="badge bg-secondary" { "Revocata" } }
                                @else if c.in_force { span class="badge bg-success" { "In vigore" } }
                                @else { span class="badge bg-light text-dark" { "Non in vigore" } }
                            }
                            @if staff {
                                td {
                                    @if c.revoked_at.is_none() {
                                        form method="post" action=(format!("/sua/convenzioni/{}/revoca", c.id)) {
                                            input type="hidden" name="csrf" value=(csrf);
                                            button type="submit" class="btn btn-sm btn-outline-danger" { "Revoca" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            } }
        }
        @if staff {
            h2 class="h4" { "Registra una convenzione" }
            (error_summary(form, CONVENTION_LABELS))
            form method="post" action="/sua/convenzioni" id="convention-form" novalidate {
                input type="hidden" name="csrf" value=(csrf);
                (select(form, "comune_code", "Comune", &comuni, Some("Scegliete il Comune")))
                (select(form, "scope", "Ambito", &scopes, None))
                (input(form, "valid_from", "In vigore dal", "date", true, None))
                (input(form, "valid_until", "Fino al", "date", false, Some("Vuoto se senza scadenza")))
                (input(form, "document_ref", "Documento (delibera, protocollo)", "text", true, Some("Es. Delibera C.C. n. 12 del 15/01/2026")))
                (textarea(form, "notes", "Note", 2, false, None))
                button type="submit" class="btn btn-primary" { "Registra la convenzione" }
            }
        }
    };
    Ok(page(state, identity, "Convenzioni con la SUA", &body))
}

async fn submit_convention(
    State(state): State<AppState>,
    identity: Identity,
    PageForm(values): PageForm<Values>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, values.get("csrf").map_or("", String::as_str))?;
    let get = |name: &str| values.get(name).cloned().unwrap_or_default();
    let input = NewConvention {
        comune_code: get("comune_code"),
        scope: get("scope"),
        valid_from: get("valid_from"),
        valid_until: Some(get("valid_until")),
        document_ref: get("document_ref"),
        notes: Some(get("notes")),
    };
    let outcome = conventions::create_convention(&state, &identity, &input).await;
    form::answer(
        outcome,
        |_| layout::redirect_with_flash("/sua/convenzioni", "Convenzione registrata."),
        async |error| {
            let form = FormState {
                errors: field_messages(error),
                values,
                ..FormState::default()
            };
            conventions_page(&state, &identity, &ConventionFilter::default(), &form).await
        },
    )
    .await
}

async fn submit_revoke_convention(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, &form.csrf)?;
    conventions::revoke_convention(&state, &identity, id).await?;
    Ok(layout::redirect_with_flash(
        "/sua/convenzioni",
        "Convenzione revocata.",
    ))
}

// ---------------------------------------------------------------------------------------
// Dashboard

/// The SUA on the dashboard: what waits (requests to examine for the SUA, requests sent back
/// for a Comune), the procedures under way and awarded, the next bid deadlines and the
/// procedures by state. `None` for roles that do not see SUA procedures.
/// [`dashboard_cards`] as the module registry calls it.
pub fn cards<'a>(state: &'a AppState, identity: &'a Identity) -> crate::modules::CardsFuture<'a> {
    Box::pin(dashboard_cards(state, identity))
}

pub async fn dashboard_cards(
    state: &AppState,
    identity: &Identity,
) -> Result<Option<Markup>, AppError> {
    if policy::sua_scope(identity).is_err() {
        return Ok(None);
    }
    let rows =
        workflow::list_procedures(state, identity, &ProcedureQuery::default(), 200, None).await?;
    let count = |keep: &dyn Fn(SuaState) -> bool| {
        i64::try_from(rows.iter().filter(|p| keep(p.state)).count()).unwrap_or(i64::MAX)
    };
    let comune = is_comune(identity);
    let waiting = if comune {
        (
            "Restituite al Comune",
            count(&|s| s == SuaState::Returned),
            "/sua?state=returned",
        )
    } else {
        (
            "Richieste da esaminare",
            count(&|s| s == SuaState::Submitted),
            "/sua?state=submitted",
        )
    };
    let today = Day::today().iso();
    let mut deadlines: Vec<&ProcedureView> = rows
        .iter()
        .filter(|p| p.state == SuaState::Published)
        .filter(|p| {
            p.deadline_on
                .as_deref()
                .is_some_and(|d| d >= today.as_str())
        })
        .collect();
    deadlines.sort_by(|a, b| a.deadline_on.cmp(&b.deadline_on));
    let by_state: Vec<(String, i64)> = SuaState::ALL
        .iter()
        .map(|s| (s.label().to_owned(), count(&|state| state == *s)))
        .filter(|(_, n)| *n > 0)
        .collect();
    let under_way = count(&|s| {
        matches!(
            s,
            SuaState::Received
                | SuaState::InPreparation
                | SuaState::Published
                | SuaState::BidsClosed
                | SuaState::Evaluation
        )
    });
    let awarded = count(&|s| {
        matches!(
            s,
            SuaState::Awarded | SuaState::ContractSigned | SuaState::Completed
        )
    });
    Ok(Some(html! {
        section aria-labelledby="dashboard-sua" class="mb-5" {
            h2 id="dashboard-sua" { "Stazione Unica Appaltante" }
            div class="row" {
                (layout::figure(waiting.0, waiting.1, waiting.2))
                (layout::figure("In valutazione", count(&|s| s == SuaState::Evaluation), "/sua?state=evaluation"))
                (layout::figure("Procedure in corso", under_way, "/sua"))
                (layout::figure("Aggiudicate", awarded, "/sua?state=awarded"))
            }
            div class="row" {
                div class="col-12 col-lg-6" {
                    h3 class="h5" { "Prossime scadenze delle offerte" }
                    @if deadlines.is_empty() {
                        p { "Nessuna gara con offerte aperte." }
                    } @else {
                        ul class="list-unstyled" id="sua-deadlines" {
                            @for p in deadlines.iter().take(5) {
                                li class="mb-2" {
                                    a href=(format!("/sua/procedure/{}", p.id)) { (p.object) }
                                    br;
                                    small { "Offerte entro il " (optional_day(p.deadline_on.as_ref())) }
                                }
                            }
                        }
                    }
                }
                div class="col-12 col-lg-6" {
                    @if by_state.is_empty() {
                        p { "Nessuna procedura." }
                    } @else {
                        (layout::bar_chart("sua-chart", "Procedure per stato", &by_state))
                    }
                }
            }
            p {
                a href="/sua" { "Tutte le procedure" } " · " a href="/sua/report" { "Report" }
                @if comune { " · " a href="/sua/richieste/nuova" { "Nuova richiesta alla SUA" } }
                @if is_sua_staff(identity) { " · " a href="/sua/iniziative/nuova" { "Nuova iniziativa aggregata" } " · " a href="/sua/convenzioni" { "Convenzioni" } " · " a href="/sua/import" { "Importa procedure" } }
            }
        }
    }))
}
