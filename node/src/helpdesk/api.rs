//! Help Desk JSON API under `/v1/helpdesk/requests`.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post, put};
use pico_service::csv::Separator;
use pico_service::http::body_limit;
use pico_service::json::Path;
use pico_service::json::Query;
use pico_service::openapi::FileBytes;
use pico_service::{Json, Page};
use serde::Deserialize;

use crate::api::{UploadQuery, UploadedAttachment, newest_first};
use crate::auth::Identity;
use crate::error::AppError;
use crate::helpdesk::Status;
use crate::helpdesk::ops::{self, CommentView, ListQuery, NewRequest, RequestDetail, RequestView};
use crate::helpdesk::policy::{self, Action};
use crate::state::AppState;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/helpdesk/requests",
            get(list_requests).post(create_request),
        )
        .route("/v1/helpdesk/requests/export.csv", get(export_requests))
        .route("/v1/helpdesk/requests/{id}", get(get_request))
        .route("/v1/helpdesk/requests/{id}/comments", post(create_comment))
        .route(
            "/v1/helpdesk/requests/{id}/transitions",
            post(create_transition),
        )
        .route("/v1/helpdesk/requests/{id}/assignee", put(update_assignee))
        .route(
            "/v1/helpdesk/requests/{id}/attachments",
            post(create_attachment).layer(body_limit(ATTACHMENT_BODY_LIMIT)),
        )
        .route(
            "/v1/helpdesk/requests/{id}/attachments/{attachment}",
            get(get_attachment),
        )
}

/// Upper bound of an attachment upload body; the configured attachment limit (5 MB by
/// default) is checked on the bytes, this only stops a client from streaming more.
const ATTACHMENT_BODY_LIMIT: usize = 51 * 1024 * 1024;

/// Attaches a file to a request. The body is the file itself, with its media type as
/// `Content-Type` (PDF, images, text, office documents).
#[utoipa::path(post, path = "/v1/helpdesk/requests/{id}/attachments", tag = "helpdesk",
    params(("id" = i64, Path), UploadQuery), security(("bearer" = [])),
    request_body = UploadedAttachment,
    responses((status = 201, body = ops::AttachmentView),
              (status = 413, description = "File over the attachment limit"),
              (status = 422, description = "Type not accepted")))]
pub async fn create_attachment(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Query(query): Query<UploadQuery>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<ops::AttachmentView>), AppError> {
    let upload = ops::Upload::from_raw_body(&headers, query.filename, &body);
    let view = ops::add_attachment(&state, &identity, id, upload).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Downloads an attachment of a request the caller may read.
#[utoipa::path(get, path = "/v1/helpdesk/requests/{id}/attachments/{attachment}", tag = "helpdesk",
    params(("id" = i64, Path), ("attachment" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "The file, with the media type it was uploaded with", content_type = "*/*", body = FileBytes)))]
pub async fn get_attachment(
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

/// Requests visible to the caller, newest first.
#[utoipa::path(get, path = "/v1/helpdesk/requests", tag = "helpdesk", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<RequestView>)))]
pub async fn list_requests(
    State(state): State<AppState>,
    identity: Identity,
    Query(query): Query<ListQuery>,
) -> Result<Json<Page<RequestView>>, AppError> {
    let fetch = |rows, before| ops::list_requests(&state, &identity, &query, rows, before);
    let page = newest_first(query.limit, query.cursor.clone(), fetch, |row| row.id).await?;
    Ok(Json(page))
}

/// Opens a request (JSON; attach files with `POST …/{id}/attachments`).
#[utoipa::path(post, path = "/v1/helpdesk/requests", tag = "helpdesk", request_body = NewRequest, security(("bearer" = [])),
    responses((status = 201, body = RequestView),
              (status = 400, description = "Malformed JSON"),
              (status = 413, description = "Body too large"),
              (status = 422, description = "Wrong types, unknown fields, bad Comune code")))]
pub async fn create_request(
    State(state): State<AppState>,
    identity: Identity,
    Json(input): Json<NewRequest>,
) -> Result<(StatusCode, Json<RequestView>), AppError> {
    let view = ops::open_request(&state, &identity, input, None).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// One request with comments, attachments and the transitions the caller may make.
#[utoipa::path(get, path = "/v1/helpdesk/requests/{id}", tag = "helpdesk", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = RequestDetail)))]
pub async fn get_request(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Json<RequestDetail>, AppError> {
    Ok(Json(ops::request_detail(&state, &identity, id).await?))
}

/// Body of a comment.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    /// Text, 1–20000 characters.
    pub body: String,
}

/// Adds a comment.
#[utoipa::path(post, path = "/v1/helpdesk/requests/{id}/comments", tag = "helpdesk", params(("id" = i64, Path)), request_body = NewComment,
    security(("bearer" = [])), responses((status = 201, body = CommentView), (status = 409)))]
pub async fn create_comment(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<NewComment>,
) -> Result<(StatusCode, Json<CommentView>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(ops::add_comment(&state, &identity, id, &input.body).await?),
    ))
}

/// Body of a status change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTransition {
    /// Target status.
    pub status: Status,
    /// The status the caller saw: if the request has left it meanwhile, 409 `stale_state`
    /// and nothing changes. By default, the status it has when the call arrives.
    #[serde(default)]
    pub from: Option<Status>,
    /// Why, kept in the request's history (at most 20000 characters).
    #[serde(default)]
    pub reason: Option<String>,
}

/// Changes the status; 409 `invalid_transition` if the state machine does not allow it,
/// 409 `stale_state` if the request is no longer in `from`.
#[utoipa::path(post, path = "/v1/helpdesk/requests/{id}/transitions", tag = "helpdesk", params(("id" = i64, Path)), request_body = NewTransition,
    security(("bearer" = [])), responses((status = 200, body = RequestView), (status = 409, description = "Invalid transition, or changed meanwhile")))]
pub async fn create_transition(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<NewTransition>,
) -> Result<Json<RequestView>, AppError> {
    Ok(Json(
        ops::transition_from(
            &state,
            &identity,
            id,
            input.from,
            input.status,
            input.reason.as_deref().unwrap_or_default(),
        )
        .await?,
    ))
}

/// Body of an assignment.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    /// Operator user id, or null to unassign.
    pub assignee_id: Option<i64>,
}

/// Assigns the request to a Help Desk operator.
#[utoipa::path(put, path = "/v1/helpdesk/requests/{id}/assignee", tag = "helpdesk", params(("id" = i64, Path)), request_body = Assignment,
    security(("bearer" = [])), responses((status = 200, body = RequestView)))]
pub async fn update_assignee(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<Assignment>,
) -> Result<Json<RequestView>, AppError> {
    Ok(Json(
        ops::assign(&state, &identity, id, input.assignee_id).await?,
    ))
}

/// The filtered list as CSV (UTF-8, Italian headers, cells starting with `=`, `+`, `-`, `@`,
/// tab or CR prefixed with `'` so no spreadsheet runs them), at most 10,000 rows.
#[utoipa::path(get, path = "/v1/helpdesk/requests/export.csv", tag = "helpdesk", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, description = "UTF-8 CSV with a header row", content_type = "text/csv", body = FileBytes),
              (status = 422, description = "`sep` is neither comma nor semicolon")))]
pub async fn export_requests(
    State(state): State<AppState>,
    identity: Identity,
    Query(query): Query<ListQuery>,
) -> Result<Response, AppError> {
    csv_response(&state, &identity, &query).await
}

/// Shared by the API and the page link.
pub async fn csv_response(
    state: &AppState,
    identity: &Identity,
    query: &ListQuery,
) -> Result<Response, AppError> {
    policy::authorize(identity, Action::ExportRequests)?;
    let separator = Separator::parse(query.sep.as_deref())
        .map_err(|err| AppError::invalid_field("sep", err.to_string()))?;
    let rows = ops::list_requests(state, identity, query, 10_000, None).await?;
    let body = ops::to_csv(&rows, separator, separator == Separator::Semicolon)?;
    Ok(pico_service::download::csv("helpdesk.csv", body))
}
