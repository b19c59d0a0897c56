//! Help Desk web pages: the list (typed filters, pages, sortable columns and its CSV, through
//! `web::list`), the new request form (with attachment) and the request page with the
//! conversation and the operator's controls (forms through `web::form`: a refused submit
//! comes back with 422, the messages beside the fields and what was typed kept).

use axum::Router;
use axum::extract::{Multipart, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use maud::{Markup, html};
use pico_protocol::ComuneCode;
use pico_service::format as fmt;
use pico_service::http::body_limit;
use pico_service::json::Path;
use pico_service::text::{self, Lines};
use pico_service::web as layout;
use serde::Deserialize;

use crate::auth::Identity;
use crate::db;
use crate::error::AppError;
use crate::helpdesk::db as store;
use crate::helpdesk::ops::{self, ListQuery, NewRequest, RequestView};
use crate::helpdesk::policy::{self, Action};
use crate::helpdesk::{Category, SUBJECT_MAX, Status, TEXT_MAX};
use crate::state::AppState;
use crate::upload::MultipartForm;
use crate::web::form::{self, Errors, FormState, Values, error_summary};
use crate::web::list::{self, Direction, ListRequest};
use crate::web::{PageForm, breadcrumb, check_form_csrf};

/// The routes. The new-request form accepts attachments up to the configured size (plus
/// room for the other fields), above the default body limit.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/helpdesk", get(show_requests))
        .route("/helpdesk/export.csv", get(export_requests))
        .route(
            "/helpdesk/new",
            get(show_new_request)
                .post(submit_new_request)
                .layer(body_limit(51 * 1024 * 1024)),
        )
        .route("/helpdesk/{id}", get(show_request))
        .route("/helpdesk/{id}/comments", post(submit_comment))
        .route("/helpdesk/{id}/status", post(submit_status))
        .route("/helpdesk/{id}/assignee", post(submit_assignee))
        .route(
            "/helpdesk/{id}/attachments/{attachment}",
            get(download_attachment),
        )
}

/// The filters' and fields' names as the person reads them, for the error summaries.
const LABELS: &[(&str, &str)] = &[
    ("status", "Stato"),
    ("category", "Categoria"),
    ("comune", "Codice Comune"),
    ("comune_code", "Codice ISTAT del Comune"),
    ("subject", "Oggetto"),
    ("description", "Descrizione"),
    ("attachment", "Allegato"),
    ("body", "Risposta"),
    ("assignee", "Assegna a"),
    ("page", "Pagina"),
    ("size", "Righe per pagina"),
    ("sort", "Ordinamento"),
    ("dir", "Ordine"),
];

/// The Help Desk list as its page and its CSV read the query string: typed filters (a bad
/// value becomes the filter's message), page, size and order.
fn list_request(params: Values) -> (ListRequest, ListQuery) {
    let mut list = ListRequest::parse(
        "/helpdesk",
        params,
        store::SORT_COLUMNS,
        "numero",
        Direction::Desc,
    );
    let status = list.parsed("status", Status::parse, "Scegli uno stato dall'elenco.");
    let category = list.parsed(
        "category",
        Category::parse,
        "Scegli una categoria dall'elenco.",
    );
    let comune = list.parsed(
        "comune",
        |code| ComuneCode::parse(code).ok().map(|c| c.as_str().to_owned()),
        "Il codice ISTAT del Comune ha 6 cifre, ad esempio 026086.",
    );
    let overdue = list.flag("overdue");
    let query = ListQuery {
        status,
        comune,
        category,
        overdue: Some(overdue),
        ..ListQuery::default()
    };
    (list, query)
}

fn status_badge(status: Status) -> Markup {
    let class = match status {
        Status::New => "bg-primary",
        Status::InProgress => "bg-info",
        Status::WaitingForComune => "bg-warning",
        Status::Resolved => "bg-success",
        Status::Closed => "bg-secondary",
    };
    html! { span class=(format!("badge {class}")) { (status.label()) } }
}

async fn show_requests(
    State(state): State<AppState>,
    identity: Identity,
    Query(params): Query<Values>,
) -> Result<Markup, AppError> {
    let (list, query) = list_request(params);
    let (rows, total) = ops::list_requests_page(
        &state,
        &identity,
        &query,
        list.order_by("r.id"),
        list.size,
        list.offset(),
    )
    .await?;
    let user = identity.require_user()?;
    let is_comune = user.roles.comune().is_some();
    let statuses: Vec<(&str, &str)> = Status::ALL
        .iter()
        .map(|s| (s.as_str(), s.label()))
        .collect();
    let categories: Vec<(&str, &str)> = Category::ALL
        .iter()
        .map(|c| (c.as_str(), c.label()))
        .collect();
    let comune_error = list.error("comune");
    let body = html! {
        h1 { "Help Desk" }
        @if is_comune || user.roles.is_admin() {
            p { a class="btn btn-primary" href="/helpdesk/new" { "Apri una richiesta" } }
        }
        (list.error_summary(LABELS))
        form method="get" action="/helpdesk" class="row g-3 align-items-end mb-4" aria-label="Filtri" {
            div class="col-md-3" { (list.filter_select("status", "Stato", "Tutti", &statuses)) }
            div class="col-md-3" { (list.filter_select("category", "Categoria", "Tutte", &categories)) }
            @if !is_comune {
                div class="col-md-2" {
                    label for="f-comune" class="form-label" { "Codice Comune" }
                    input class=(if comune_error.is_some() { "form-control is-invalid" } else { "form-control" }) id="f-comune" name="comune"
                        value=(list.value("comune")) inputmode="numeric"
                        aria-invalid=[comune_error.map(|_| "true")] aria-describedby=[comune_error.map(|_| "f-comune-error")];
                    (list.feedback("comune"))
                }
            }
            div class="col-md-2" { (list.size_field()) }
            div class="col-md-2 form-check" {
                input class="form-check-input" type="checkbox" id="f-overdue" name="overdue" value="true" checked[list.value("overdue") == "true"];
                label class="form-check-label" for="f-overdue" { "Solo in ritardo" }
            }
            div class="col-12" { button type="submit" class="btn btn-outline-primary" { "Filtra" } }
        }
        (list.csv_links("/helpdesk/export.csv"))
        @if rows.is_empty() {
            p id="no-requests" { "Nessuna richiesta." }
        } @else {
            div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole" { table class="table" id="requests" {
                caption { "Richieste (" (total) ")" }
                thead { tr {
                    (list.sort_header("numero", None)) (list.sort_header("oggetto", None)) (list.sort_header("comune", None))
                    (list.sort_header("stato", None)) th scope="col" { "Assegnata a" } (list.sort_header("aperta", None)) th scope="col" { "SLA" }
                } }
                tbody {
                    @for r in &rows {
                        tr class=[r.overdue.then_some("table-danger")] {
                            td { (r.id) }
                            td { a href=(format!("/helpdesk/{}", r.id)) { (r.subject) } }
                            td { (r.comune_name) }
                            td { (status_badge(r.status)) }
                            td { (r.assignee_name.clone().unwrap_or_else(|| "—".into())) }
                            td { time datetime=(r.created_at) { (fmt::rfc3339(&r.created_at)) } }
                            td { @if r.overdue { strong class="text-danger" { "In ritardo" } } @else { "Nei tempi" } }
                        }
                    }
                }
            } }
        }
        (list.pager(total))
    };
    Ok(layout::page(
        &state.chrome(Some(&identity), "/helpdesk"),
        "Help Desk",
        &body,
    ))
}

/// The CSV of the list as filtered and ordered on the page (`sep=,|;`, `bom=1`).
async fn export_requests(
    State(state): State<AppState>,
    identity: Identity,
    Query(params): Query<Values>,
) -> Result<Response, AppError> {
    policy::authorize(&identity, Action::ExportRequests)?;
    let (separator, bom) = list::csv_options(&params)?;
    let (list, query) = list_request(params);
    if !list.errors.is_empty() {
        return Err(list::refuse(&list.errors));
    }
    let (rows, _) = ops::list_requests_page(
        &state,
        &identity,
        &query,
        list.order_by("r.id"),
        list::CSV_MAX_ROWS,
        0,
    )
    .await?;
    Ok(pico_service::download::csv(
        "helpdesk.csv",
        ops::to_csv(&rows, separator, bom)?,
    ))
}

/// The Comune the new-request form asks for: `None` for a Comune user (their own), `Some`
/// for an administrator; other roles may not open requests.
fn own_comune(identity: &Identity) -> Result<Option<String>, AppError> {
    let user = identity.require_user()?;
    match user.roles.comune() {
        Some(code) => {
            let own = code.as_str().to_owned();
            policy::authorize(identity, Action::OpenRequest { comune: &own })?;
            Ok(Some(own))
        }
        None if user.roles.is_admin() => Ok(None),
        None => Err(AppError::Forbidden),
    }
}

async fn show_new_request(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Markup, AppError> {
    new_request_page(&state, &identity, &FormState::default())
}

fn new_request_page(
    state: &AppState,
    identity: &Identity,
    form: &FormState,
) -> Result<Markup, AppError> {
    let own = own_comune(identity)?;
    let csrf = identity.csrf().unwrap_or_default().to_owned();
    let max_mb = state.config.helpdesk.attachment_max_bytes / (1024 * 1024);
    let categories: Vec<(String, String)> = Category::ALL
        .iter()
        .map(|c| (c.as_str().to_owned(), c.label().to_owned()))
        .collect();
    let body = html! {
        h1 { "Apri una richiesta" }
        p { "I campi con * sono obbligatori." }
        (error_summary(form, LABELS))
        form method="post" action="/helpdesk/new" enctype="multipart/form-data" novalidate id="new-request-form" {
            input type="hidden" name="csrf" value=(csrf);
            @if own.is_none() {
                (form::input(form, "comune_code", "Codice ISTAT del Comune", "text", true, Some("6 cifre, ad esempio 026086")))
            }
            (form::select(form, "category", "Categoria", &categories, None))
            (form::input(form, "subject", "Oggetto", "text", true, Some("Al massimo 200 caratteri")))
            (form::textarea(form, "description", "Descrizione", 6, true, None))
            (form::file(form, "attachment", "Allegato", Some(&format!("Facoltativo, massimo {max_mb} MB: PDF, immagini, testo, documenti office")), false, None))
            button type="submit" class="btn btn-primary" { "Invia la richiesta" }
        }
    };
    Ok(layout::page(
        &state.chrome(Some(identity), "/helpdesk"),
        "Apri una richiesta",
        &body,
    ))
}

/// Checks the new-request form field by field: every mistake at once, in Italian.
fn read_new_request(values: &Values, own: Option<&String>) -> Result<NewRequest, Errors> {
    let field = |name: &str| values.get(name).cloned().unwrap_or_default();
    let mut errors = Errors::new();
    let comune_code = match (own, field("comune_code").trim()) {
        (Some(_), _) => None,
        (None, "") => {
            errors.insert(
                "comune_code".into(),
                "Indica il Comune per cui apri la richiesta.".into(),
            );
            None
        }
        (None, code) => ComuneCode::parse(code)
            .map_err(|_| {
                errors.insert(
                    "comune_code".into(),
                    "Il codice ISTAT del Comune ha 6 cifre, ad esempio 026086.".into(),
                );
            })
            .ok(),
    };
    let category = Category::parse(&field("category"));
    if category.is_none() {
        errors.insert("category".into(), "Scegli una categoria.".into());
    }
    for (name, lines, max) in [
        ("subject", Lines::One, SUBJECT_MAX),
        ("description", Lines::Many, TEXT_MAX),
    ] {
        if let Err(err) = text::clean(&field(name), lines, max, true) {
            errors.insert(name.into(), err.to_string());
        }
    }
    match category {
        Some(category) if errors.is_empty() => Ok(NewRequest {
            comune_code,
            category,
            subject: field("subject"),
            description: field("description"),
        }),
        _ => Err(errors),
    }
}

async fn submit_new_request(
    State(state): State<AppState>,
    identity: Identity,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let form = MultipartForm::read(multipart, "attachment").await?;
    // The form has one file input: a request opens with at most one attachment.
    let upload = form.files.into_iter().next();
    let mut values = form.fields;
    check_form_csrf(&identity, values.get("csrf").map_or("", String::as_str))?;
    values.remove("csrf");
    let own = own_comune(&identity)?;
    let input = match read_new_request(&values, own.as_ref()) {
        Ok(input) => input,
        Err(errors) => {
            let form = FormState {
                values,
                errors,
                ..FormState::default()
            };
            return Ok(form::unprocessable(new_request_page(
                &state, &identity, &form,
            )?));
        }
    };
    let outcome = ops::open_request(&state, &identity, input, upload).await;
    form::answer(
        outcome,
        |view| {
            layout::redirect_with_flash(
                &format!("/helpdesk/{}", view.id),
                &format!("Richiesta {} inviata alla Provincia.", view.id),
            )
        },
        async |error| new_request_page(&state, &identity, &FormState::refused(values, error)),
    )
    .await
}

async fn show_request(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Markup, AppError> {
    request_page(&state, &identity, id, &FormState::default()).await
}

/// The request page; `form` holds what a refused reply, move or assignment typed and why.
async fn request_page(
    state: &AppState,
    identity: &Identity,
    id: i64,
    form: &FormState,
) -> Result<Markup, AppError> {
    let detail = ops::request_detail(state, identity, id).await?;
    let user = identity.require_user()?;
    let staff = policy::authorize(identity, Action::AssignRequest).is_ok();
    let assignees = if staff {
        state
            .db
            .call(|conn| db::people::helpdesk_staff(conn).map_err(AppError::from))
            .await?
    } else {
        Vec::new()
    };
    let csrf = identity.csrf().unwrap_or_default().to_owned();
    let r: &RequestView = &detail.request;
    let moves: Vec<(String, String)> = detail
        .allowed_transitions
        .iter()
        .map(|to| (to.as_str().to_owned(), to.label().to_owned()))
        .collect();
    let people: Vec<(String, String)> = assignees
        .iter()
        .map(|a| (a.id.to_string(), a.display_name.clone()))
        .collect();
    // The assignment select starts from the current assignee unless a refused one is shown.
    let mut assign_form = form.clone();
    if let (false, Some(current)) = (assign_form.values.contains_key("assignee"), r.assignee_id) {
        assign_form
            .values
            .insert("assignee".to_owned(), current.to_string());
    }

    let body = html! {
        (breadcrumb(&[("Help Desk", "/helpdesk")], &format!("Richiesta {}", r.id)))
        h1 { "Richiesta " (r.id) ": " (r.subject) }
        (error_summary(form, LABELS))
        dl class="row" {
            dt class="col-sm-3" { "Stato" } dd class="col-sm-9" id="status" { (status_badge(r.status)) }
            dt class="col-sm-3" { "Comune" } dd class="col-sm-9" { (r.comune_name) " (" (r.comune_code) ")" }
            dt class="col-sm-3" { "Categoria" } dd class="col-sm-9" { (r.category.label()) }
            dt class="col-sm-3" { "Aperta da" } dd class="col-sm-9" { (r.opened_by) ", " time datetime=(r.created_at) { (fmt::rfc3339(&r.created_at)) } }
            dt class="col-sm-3" { "Assegnata a" } dd class="col-sm-9" { (r.assignee_name.clone().unwrap_or_else(|| "—".into())) }
            dt class="col-sm-3" { "Prima risposta entro" } dd class="col-sm-9" { (fmt::rfc3339(&r.first_response_due)) @if let Some(at) = &r.first_response_at { " — data il " (fmt::rfc3339(at)) } }
            dt class="col-sm-3" { "Risoluzione entro" } dd class="col-sm-9" { (fmt::rfc3339(&r.resolution_due)) @if r.overdue { " " strong class="text-danger" { "In ritardo" } } }
        }
        h2 class="h4" { "Descrizione" }
        p style="white-space: pre-wrap" { (r.description) }
        @if !detail.attachments.is_empty() {
            h2 class="h4" { "Allegati" }
            ul { @for a in &detail.attachments { li { a href=(format!("/helpdesk/{}/attachments/{}", r.id, a.id)) { (a.filename) } " (" (fmt::integer(a.size)) " byte)" } } }
        }
        h2 class="h4" { "Cronologia" }
        ol id="history" {
            @for step in &detail.history {
                li {
                    time datetime=(step.at) { (fmt::rfc3339(&step.at)) } " — "
                    @if let Some(from) = step.from { "da «" (from.label()) "» a «" (step.to.label()) "»" } @else { "aperta come «" (step.to.label()) "»" }
                    ", " (step.actor)
                    @if !step.reason.is_empty() { ": " (step.reason) }
                }
            }
        }
        h2 class="h4" { "Conversazione" }
        @if detail.comments.is_empty() { p { "Nessun messaggio." } }
        ol class="list-unstyled" id="comments" {
            @for c in &detail.comments {
                li class="card card-bg mb-3" { div class="card-body" {
                    p class="card-title h6" { (c.author) @if c.from_province { " (Provincia)" } ", " time datetime=(c.created_at) { (fmt::rfc3339(&c.created_at)) } }
                    p class="card-text comment-body" style="white-space: pre-wrap" { (c.body) }
                } }
            }
        }
        @if r.status != Status::Closed {
            form method="post" action=(format!("/helpdesk/{}/comments", r.id)) class="mb-4" {
                input type="hidden" name="csrf" value=(csrf);
                (form::textarea(form, "body", "Rispondi", 4, true, None))
                button type="submit" class="btn btn-primary" id="send-comment" { "Invia" }
            }
        }
        @if !detail.allowed_transitions.is_empty() {
            form method="post" action=(format!("/helpdesk/{}/status", r.id)) class="row g-2 align-items-end mb-4" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="from" value=(r.status.as_str());
                div class="col-auto" {
                    (form::select_with(form, "status", "Cambia stato", &moves, None, false))
                }
                div class="col-auto" { button type="submit" class="btn btn-outline-primary" { "Aggiorna" } }
            }
        }
        @if staff {
            form method="post" action=(format!("/helpdesk/{}/assignee", r.id)) class="row g-2 align-items-end" {
                input type="hidden" name="csrf" value=(csrf);
                div class="col-auto" {
                    (form::select_with(&assign_form, "assignee", "Assegna a", &people, Some("Nessuno"), false))
                }
                div class="col-auto" { button type="submit" class="btn btn-outline-primary" { "Assegna" } }
            }
        }
        @if user.roles.comune().is_some() && r.status == Status::Resolved {
            p class="mt-3" { "La Provincia ha indicato la richiesta come risolta: chiudila, oppure riaprila se il problema persiste." }
        }
    };
    Ok(layout::page(
        &state.chrome(Some(identity), "/helpdesk"),
        &format!("Richiesta {}", r.id),
        &body,
    ))
}

#[derive(Debug, Deserialize)]
struct CommentForm {
    csrf: String,
    body: String,
}

async fn submit_comment(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(form): PageForm<CommentForm>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, &form.csrf)?;
    let outcome = ops::add_comment(&state, &identity, id, &form.body).await;
    form::answer(
        outcome,
        |_| layout::redirect_with_flash(&format!("/helpdesk/{id}#comments"), "Messaggio inviato."),
        async |error| {
            let refused = FormState::refused(form::values([("body", form.body)]), error);
            request_page(&state, &identity, id, &refused).await
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
struct StatusForm {
    csrf: String,
    status: String,
    /// The status the page showed: if the request left it meanwhile, the move is refused.
    #[serde(default)]
    from: Option<String>,
}

async fn submit_status(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(form): PageForm<StatusForm>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, &form.csrf)?;
    let result = match Status::parse(&form.status) {
        Some(to) => {
            let from = form.from.as_deref().and_then(Status::parse);
            ops::transition_from(&state, &identity, id, from, to, "")
                .await
                .map(|_| to)
        }
        None => Err(AppError::invalid_field(
            "status",
            "Scegli uno stato dall'elenco.",
        )),
    };
    form::answer(
        result,
        |to| {
            layout::redirect_with_flash(
                &format!("/helpdesk/{id}"),
                &format!("Stato della richiesta aggiornato: {}.", to.label()),
            )
        },
        async |error| {
            // A refused move names no field: its reason goes beside the status select.
            let refused = FormState::refused(form::values([("status", form.status)]), error)
                .whole_form_message_beside("status");
            request_page(&state, &identity, id, &refused).await
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
struct AssigneeForm {
    csrf: String,
    assignee: String,
}

async fn submit_assignee(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(form): PageForm<AssigneeForm>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, &form.csrf)?;
    let result = match form.assignee.trim() {
        "" => Ok(None),
        text => text
            .parse::<i64>()
            .map(Some)
            .map_err(|_| AppError::invalid_field("assignee", "Scegli una persona dall'elenco.")),
    };
    let result = match result {
        Ok(assignee) => ops::assign(&state, &identity, id, assignee)
            .await
            .map(|_| assignee),
        Err(error) => Err(error),
    };
    form::answer(
        result,
        |assignee| {
            let message = if assignee.is_some() {
                "Richiesta assegnata."
            } else {
                "Assegnazione tolta."
            };
            layout::redirect_with_flash(&format!("/helpdesk/{id}"), message)
        },
        async |error| {
            let refused = FormState::refused(form::values([("assignee", form.assignee)]), error)
                .whole_form_message_beside("assignee");
            request_page(&state, &identity, id, &refused).await
        },
    )
    .await
}

async fn download_attachment(
    State(state): State<AppState>,
    identity: Identity,
    Path((id, attachment)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let (meta, data) = ops::attachment(&state, &identity, id, attachment).await?;
    Ok(crate::web::download(
        &meta.content_type,
        &meta.filename,
        data,
    ))
}

/// The Help Desk on the dashboard: what waits for the person signed in (new, overdue,
/// assigned to them or waiting for their Comune), the next deadlines and the requests by
/// status. `None` for roles that do not use the Help Desk.
/// [`dashboard_cards`] as the module registry calls it.
pub fn cards<'a>(state: &'a AppState, identity: &'a Identity) -> crate::modules::CardsFuture<'a> {
    Box::pin(dashboard_cards(state, identity))
}

pub async fn dashboard_cards(
    state: &AppState,
    identity: &Identity,
) -> Result<Option<Markup>, AppError> {
    if policy::helpdesk_scope(identity).is_err() {
        return Ok(None);
    }
    let user = identity.require_user()?;
    let summary = ops::summary(state, identity).await?;
    let count_of = |status: Status| {
        summary
            .by_status
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, n)| *n)
    };
    let open: u64 = summary
        .by_status
        .iter()
        .filter(|(s, _)| !matches!(s, Status::Resolved | Status::Closed))
        .map(|(_, n)| n)
        .sum();
    let whole = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let is_comune = user.roles.comune().is_some();
    let mine = if is_comune {
        (
            "In attesa di una vostra risposta",
            whole(count_of(Status::WaitingForComune)),
            "/helpdesk?status=waiting_for_comune",
        )
    } else {
        ("Assegnate a me", whole(summary.assigned_to_me), "/helpdesk")
    };
    let next = &summary.next;
    let by_status: Vec<(String, i64)> = summary
        .by_status
        .iter()
        .map(|(status, n)| (status.label().to_owned(), whole(*n)))
        .collect();
    Ok(Some(html! {
        section aria-labelledby="dashboard-helpdesk" class="mb-5" {
            h2 id="dashboard-helpdesk" { "Help Desk" }
            div class="row" {
                (layout::figure("Nuove", whole(count_of(Status::New)), "/helpdesk?status=new"))
                (layout::figure("In ritardo", whole(summary.overdue), "/helpdesk?overdue=true"))
                (layout::figure(mine.0, mine.1, mine.2))
                (layout::figure("Aperte in totale", whole(open), "/helpdesk"))
            }
            div class="row" {
                div class="col-12 col-lg-6" {
                    h3 class="h5" { "Prossime scadenze" }
                    @if next.is_empty() {
                        p { "Nessuna richiesta aperta." }
                    } @else {
                        ul class="list-unstyled" id="helpdesk-deadlines" {
                            @for r in next.iter().take(5) {
                                li class="mb-2" {
                                    a href=(format!("/helpdesk/{}", r.id)) { "Richiesta " (r.id) ": " (r.subject) }
                                    br;
                                    small { "Risoluzione entro " (fmt::rfc3339(&r.resolution_due)) @if r.overdue { " — " strong class="text-danger" { "in ritardo" } } }
                                }
                            }
                        }
                    }
                }
                div class="col-12 col-lg-6" {
                    (layout::bar_chart("helpdesk-chart", "Richieste per stato", &by_status))
                }
            }
            p { a href="/helpdesk" { "Tutte le richieste" } @if is_comune || user.roles.is_admin() { " · " a href="/helpdesk/new" { "Apri una richiesta" } } }
        }
    }))
}
