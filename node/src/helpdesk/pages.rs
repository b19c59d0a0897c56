//! Help Desk web pages: list with filters, new request form (with attachment), request
//! page with the conversation and the operator's controls.

use axum::Router;
use axum::extract::{Multipart, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use maud::{Markup, html};
use pico_service::format as fmt;
use pico_service::http::body_limit;
use pico_service::json::Path;
use pico_service::web as layout;
use serde::Deserialize;

use crate::auth::Identity;
use crate::db;
use crate::error::AppError;
use crate::helpdesk::ops::{self, ListQuery, NewRequest, RequestView};
use crate::helpdesk::policy::{self, Action};
use crate::helpdesk::{Category, Status};
use crate::state::AppState;
use crate::upload::MultipartForm;
use crate::web::{PageForm, check_form_csrf};

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

/// Filters as an HTML form sends them: empty strings mean "any".
#[derive(Debug, Default, Deserialize)]
struct FilterForm {
    status: Option<String>,
    comune: Option<String>,
    category: Option<String>,
    overdue: Option<String>,
    sep: Option<String>,
}

impl FilterForm {
    fn to_query(&self) -> ListQuery {
        let nonempty = |value: &Option<String>| value.clone().filter(|v| !v.is_empty());
        ListQuery {
            status: nonempty(&self.status).and_then(|s| Status::parse(&s)),
            comune: nonempty(&self.comune),
            category: nonempty(&self.category).and_then(|c| Category::parse(&c)),
            overdue: Some(self.overdue.as_deref() == Some("true")),
            sep: nonempty(&self.sep),
            ..ListQuery::default()
        }
    }
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
    Query(form): Query<FilterForm>,
) -> Result<Markup, AppError> {
    let query = form.to_query();
    let rows = ops::list_requests(&state, &identity, &query, 200, None).await?;
    let user = identity.require_user()?;
    let is_comune = user.roles.comune().is_some();
    let selected = |value: &Option<String>, option: &str| value.as_deref() == Some(option);
    let export_href = format!(
        "/helpdesk/export.csv?status={}&comune={}&category={}&overdue={}&sep=semicolon",
        form.status.clone().unwrap_or_default(),
        form.comune.clone().unwrap_or_default(),
        form.category.clone().unwrap_or_default(),
        form.overdue.clone().unwrap_or_default()
    );
    let body = html! {
        h1 { "Help Desk" }
        @if is_comune || user.roles.is_admin() {
            p { a class="btn btn-primary" href="/helpdesk/new" { "Apri una richiesta" } }
        }
        form method="get" action="/helpdesk" class="row g-3 align-items-end mb-4" aria-label="Filtri" {
            div class="col-md-3" {
                label for="f-status" class="form-label" { "Stato" }
                select class="form-select" id="f-status" name="status" {
                    option value="" { "Tutti" }
                    @for status in Status::ALL {
                        option value=(status.as_str()) selected[selected(&form.status, status.as_str())] { (status.label()) }
                    }
                }
            }
            div class="col-md-3" {
                label for="f-category" class="form-label" { "Categoria" }
                select class="form-select" id="f-category" name="category" {
                    option value="" { "Tutte" }
                    @for category in Category::ALL {
                        option value=(category.as_str()) selected[selected(&form.category, category.as_str())] { (category.label()) }
                    }
                }
            }
            @if !is_comune {
                div class="col-md-2" {
                    label for="f-comune" class="form-label" { "Codice Comune" }
                    input class="form-control" id="f-comune" name="comune" value=(form.comune.clone().unwrap_or_default()) inputmode="numeric" pattern="[0-9]{6}";
                }
            }
            div class="col-md-2 form-check" {
                input class="form-check-input" type="checkbox" id="f-overdue" name="overdue" value="true" checked[form.overdue.as_deref() == Some("true")];
                label class="form-check-label" for="f-overdue" { "Solo in ritardo" }
            }
            div class="col-md-2" { button type="submit" class="btn btn-outline-primary" { "Filtra" } }
        }
        p { a href=(export_href) { "Esporta CSV (separatore ;)" } }
        @if rows.is_empty() {
            p id="no-requests" { "Nessuna richiesta." }
        } @else {
            div class="table-responsive" tabindex="0" role="region" aria-label="Tabella scorrevole" { table class="table" id="requests" {
                caption { "Richieste (" (rows.len()) ")" }
                thead { tr {
                    th scope="col" { "N." } th scope="col" { "Oggetto" } th scope="col" { "Comune" }
                    th scope="col" { "Stato" } th scope="col" { "Assegnata a" } th scope="col" { "Aperta il" } th scope="col" { "SLA" }
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
    };
    Ok(layout::page(
        &state.chrome(Some(&identity), "/helpdesk"),
        "Help Desk",
        &body,
    ))
}

async fn export_requests(
    State(state): State<AppState>,
    identity: Identity,
    Query(form): Query<FilterForm>,
) -> Result<Response, AppError> {
    crate::helpdesk::api::csv_response(&state, &identity, &form.to_query()).await
}

async fn show_new_request(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Markup, AppError> {
    let user = identity.require_user()?;
    let own = match user.roles.comune() {
        Some(code) => code.as_str().to_owned(),
        None if user.roles.is_admin() => String::new(),
        None => return Err(AppError::Forbidden),
    };
    if !own.is_empty() {
        policy::authorize(&identity, Action::OpenRequest { comune: &own })?;
    }
    let csrf = identity.csrf().unwrap_or_default().to_owned();
    let max_mb = state.config.helpdesk.attachment_max_bytes / (1024 * 1024);
    let body = html! {
        h1 { "Apri una richiesta" }
        form method="post" action="/helpdesk/new" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(csrf);
            @if own.is_empty() {
                div class="form-group" {
                    label for="comune_code" class="active" { "Codice ISTAT del Comune" }
                    input type="text" class="form-control" id="comune_code" name="comune_code" required inputmode="numeric" pattern="[0-9]{6}";
                }
            }
            div class="mb-3" {
                label for="category" class="form-label" { "Categoria" }
                select class="form-select" id="category" name="category" required {
                    @for category in Category::ALL { option value=(category.as_str()) { (category.label()) } }
                }
            }
            div class="form-group" {
                label for="subject" class="active" { "Oggetto" }
                input type="text" class="form-control" id="subject" name="subject" required maxlength="200";
            }
            div class="form-group" {
                label for="description" class="active" { "Descrizione" }
                textarea class="form-control" id="description" name="description" rows="6" required {}
            }
            div class="mb-3" {
                label for="attachment" class="form-label" { "Allegato (facoltativo, massimo " (max_mb) " MB: PDF, immagini, testo, documenti office)" }
                input type="file" class="form-control" id="attachment" name="attachment";
            }
            button type="submit" class="btn btn-primary" { "Invia la richiesta" }
        }
    };
    Ok(layout::page(
        &state.chrome(Some(&identity), "/helpdesk"),
        "Apri una richiesta",
        &body,
    ))
}

async fn submit_new_request(
    State(state): State<AppState>,
    identity: Identity,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let form = MultipartForm::read(multipart, "attachment").await?;
    // The form has one file input: a request opens with at most one attachment.
    let upload = form.files.into_iter().next();
    let fields = form.fields;
    let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
    check_form_csrf(&identity, &field("csrf"))?;
    let comune_code = match field("comune_code").trim() {
        "" => None,
        code => Some(pico_protocol::ComuneCode::parse(code).map_err(|_| {
            AppError::invalid_field(
                "comune_code",
                "Il codice ISTAT del Comune ha 6 cifre, ad esempio 026086.",
            )
        })?),
    };
    let category = Category::parse(&field("category"))
        .ok_or_else(|| AppError::invalid_field("category", "Scegli una categoria."))?;
    let input = NewRequest {
        comune_code,
        category,
        subject: field("subject"),
        description: field("description"),
    };
    let view = ops::open_request(&state, &identity, input, upload).await?;
    Ok(layout::redirect_with_flash(
        &format!("/helpdesk/{}", view.id),
        &format!("Richiesta {} inviata alla Provincia.", view.id),
    ))
}

async fn show_request(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Markup, AppError> {
    let detail = ops::request_detail(&state, &identity, id).await?;
    let user = identity.require_user()?;
    let staff = policy::authorize(&identity, Action::AssignRequest).is_ok();
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
    let body = html! {
        nav aria-label="Percorso" { ol class="breadcrumb" { li class="breadcrumb-item" { a href="/helpdesk" { "Help Desk" } } li class="breadcrumb-item active" aria-current="page" { "Richiesta " (r.id) } } }
        h1 { "Richiesta " (r.id) ": " (r.subject) }
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
                div class="form-group" {
                    label for="body" class="active" { "Rispondi" }
                    textarea class="form-control" id="body" name="body" rows="4" required {}
                }
                button type="submit" class="btn btn-primary" id="send-comment" { "Invia" }
            }
        }
        @if !detail.allowed_transitions.is_empty() {
            form method="post" action=(format!("/helpdesk/{}/status", r.id)) class="row g-2 align-items-end mb-4" {
                input type="hidden" name="csrf" value=(csrf);
                div class="col-auto" {
                    label for="to" class="form-label" { "Cambia stato" }
                    select class="form-select" id="to" name="status" {
                        @for to in &detail.allowed_transitions { option value=(to.as_str()) { (to.label()) } }
                    }
                }
                div class="col-auto" { button type="submit" class="btn btn-outline-primary" { "Aggiorna" } }
            }
        }
        @if staff {
            form method="post" action=(format!("/helpdesk/{}/assignee", r.id)) class="row g-2 align-items-end" {
                input type="hidden" name="csrf" value=(csrf);
                div class="col-auto" {
                    label for="assignee" class="form-label" { "Assegna a" }
                    select class="form-select" id="assignee" name="assignee" {
                        option value="" { "Nessuno" }
                        @for a in &assignees { option value=(a.id) selected[r.assignee_id == Some(a.id)] { (a.display_name) } }
                    }
                }
                div class="col-auto" { button type="submit" class="btn btn-outline-primary" { "Assegna" } }
            }
        }
        @if user.roles.comune().is_some() && r.status == Status::Resolved {
            p class="mt-3" { "La Provincia ha indicato la richiesta come risolta: chiudila, oppure riaprila se il problema persiste." }
        }
    };
    Ok(layout::page(
        &state.chrome(Some(&identity), "/helpdesk"),
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
    ops::add_comment(&state, &identity, id, &form.body).await?;
    Ok(layout::redirect_with_flash(
        &format!("/helpdesk/{id}#comments"),
        "Messaggio inviato.",
    ))
}

#[derive(Debug, Deserialize)]
struct StatusForm {
    csrf: String,
    status: String,
}

async fn submit_status(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    PageForm(form): PageForm<StatusForm>,
) -> Result<Response, AppError> {
    check_form_csrf(&identity, &form.csrf)?;
    let to = Status::parse(&form.status)
        .ok_or_else(|| AppError::invalid_field("status", "Scegli uno stato dall'elenco."))?;
    ops::transition(&state, &identity, id, to).await?;
    Ok(layout::redirect_with_flash(
        &format!("/helpdesk/{id}"),
        &format!("Stato della richiesta aggiornato: {}.", to.label()),
    ))
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
    let assignee =
        match form.assignee.trim() {
            "" => None,
            text => Some(text.parse::<i64>().map_err(|_| {
                AppError::invalid_field("assignee", "Scegli una persona dall'elenco.")
            })?),
        };
    ops::assign(&state, &identity, id, assignee).await?;
    let message = if assignee.is_some() {
        "Richiesta assegnata."
    } else {
        "Assegnazione tolta."
    };
    Ok(layout::redirect_with_flash(
        &format!("/helpdesk/{id}"),
        message,
    ))
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
    let rows = ops::list_requests(state, identity, &ListQuery::default(), 200, None).await?;
    let open: Vec<&RequestView> = rows
        .iter()
        .filter(|r| !matches!(r.status, Status::Resolved | Status::Closed))
        .collect();
    let count = |keep: &dyn Fn(&RequestView) -> bool| {
        i64::try_from(open.iter().filter(|r| keep(r)).count()).unwrap_or(i64::MAX)
    };
    let is_comune = user.roles.comune().is_some();
    let mine = if is_comune {
        (
            "In attesa di una vostra risposta",
            count(&|r| r.status == Status::WaitingForComune),
            "/helpdesk?status=waiting_for_comune",
        )
    } else {
        (
            "Assegnate a me",
            count(&|r| r.assignee_id == Some(user.id)),
            "/helpdesk",
        )
    };
    let mut next: Vec<&RequestView> = open.clone();
    next.sort_by(|a, b| a.resolution_due.cmp(&b.resolution_due));
    let by_status: Vec<(String, i64)> = Status::ALL
        .iter()
        .map(|status| {
            let n = rows.iter().filter(|r| r.status == *status).count();
            (
                status.label().to_owned(),
                i64::try_from(n).unwrap_or(i64::MAX),
            )
        })
        .collect();
    Ok(Some(html! {
        section aria-labelledby="dashboard-helpdesk" class="mb-5" {
            h2 id="dashboard-helpdesk" { "Help Desk" }
            div class="row" {
                (layout::figure("Nuove", count(&|r| r.status == Status::New), "/helpdesk?status=new"))
                (layout::figure("In ritardo", count(&|r| r.overdue), "/helpdesk?overdue=true"))
                (layout::figure(mine.0, mine.1, mine.2))
                (layout::figure("Aperte in totale", count(&|_| true), "/helpdesk"))
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
