//! `/v1/practices`: best practices (public ones for everyone, drafts for Province staff),
//! editing, attachments and the federation setting (administrators and Community operators).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post, put};
use pico_service::http::body_limit;
use pico_service::json::{Path, Query};
use pico_service::openapi::FileBytes;
use pico_service::{Json, Page};
use serde::Deserialize;

use super::{AttachmentView, PracticeInput, PracticeSummary, PracticeView, Upload};
use crate::api::{UploadQuery, UploadedDocument, newest_first};
use crate::auth::Identity;
use crate::dati::Federation;
use crate::error::AppError;
use crate::state::AppState;

/// Upper bound of an attachment upload body; the 20 MiB limit is checked on the bytes.
const ATTACHMENT_BODY_LIMIT: usize = super::ATTACHMENT_MAX + 1024 * 1024;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/practices", get(list_practices).post(create_practice))
        .route("/v1/practices/{id}", get(get_practice).put(update_practice))
        .route(
            "/v1/practices/{id}/attachments",
            post(create_practice_attachment).layer(body_limit(ATTACHMENT_BODY_LIMIT)),
        )
        .route(
            "/v1/practices/{id}/attachments/{attachment}",
            get(get_practice_attachment),
        )
        .route(
            "/v1/practices/{id}/federation",
            put(update_practice_federation),
        )
}

/// Query of the list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PracticeListQuery {
    /// Words that must all appear (title, summary, text or tags).
    pub q: Option<String>,
    /// Page size: 50 by default; values above 200 are reduced to 200, and 0 is read as 1.
    #[param(inline)]
    pub limit: Option<pico_service::Limit>,
    /// The `next` value of the previous page.
    pub cursor: Option<String>,
}

/// Best practices the caller may see, newest first: public ones, and drafts for Province staff.
#[utoipa::path(get, path = "/v1/practices", tag = "community", params(PracticeListQuery),
    security((), ("bearer" = [])),
    responses((status = 200, body = Page<PracticeSummary>),
              (status = 400, description = "Invalid cursor")))]
pub async fn list_practices(
    State(state): State<AppState>,
    identity: Identity,
    Query(query): Query<PracticeListQuery>,
) -> Result<Json<Page<PracticeSummary>>, AppError> {
    let fetch = |rows, before| super::list(&state, &identity, query.q.as_deref(), before, rows);
    let page = newest_first(query.limit, query.cursor.clone(), fetch, |row| row.id).await?;
    Ok(Json(page))
}

/// Creates a best practice (not federated: see `PUT …/federation`).
#[utoipa::path(post, path = "/v1/practices", tag = "community", request_body = PracticeInput,
    security(("bearer" = [])),
    responses((status = 201, body = PracticeView)))]
pub async fn create_practice(
    State(state): State<AppState>,
    identity: Identity,
    Json(input): Json<PracticeInput>,
) -> Result<(StatusCode, Json<PracticeView>), AppError> {
    let view = super::create(&state, &identity, input).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// One best practice with its text and attachments (a draft is 404 to the public).
#[utoipa::path(get, path = "/v1/practices/{id}", tag = "community", params(("id" = i64, Path)),
    security((), ("bearer" = [])),
    responses((status = 200, body = PracticeView)))]
pub async fn get_practice(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Json<PracticeView>, AppError> {
    Ok(Json(super::get(&state, &identity, id).await?))
}

/// Replaces a best practice's fields; a published national one is republished (same id at
/// the hub), or withdrawn if it became a draft.
#[utoipa::path(put, path = "/v1/practices/{id}", tag = "community", params(("id" = i64, Path)),
    request_body = PracticeInput, security(("bearer" = [])),
    responses((status = 200, body = PracticeView),
              (status = 409, description = "Publishing is blocked")))]
pub async fn update_practice(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<PracticeInput>,
) -> Result<Json<PracticeView>, AppError> {
    Ok(Json(super::update(&state, &identity, id, input).await?))
}

/// Attaches a file (at most 20 MiB). The body is the file itself, with its media type as
/// `Content-Type` (PDF, images, text, office documents). A published national document is
/// republished declaring the file; the node then uploads the bytes to the hub.
#[utoipa::path(post, path = "/v1/practices/{id}/attachments", tag = "community",
    params(("id" = i64, Path), UploadQuery), security(("bearer" = [])),
    request_body = UploadedDocument,
    responses((status = 201, body = AttachmentView),
              (status = 413, description = "File over 20 MiB"),
              (status = 422, description = "Type not accepted")))]
pub async fn create_practice_attachment(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<AttachmentView>), AppError> {
    let upload = Upload::from_raw_body(&headers, query.filename, &body);
    let view = super::add_attachment(&state, &identity, id, upload).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Downloads an attachment of a best practice the caller may see.
#[utoipa::path(get, path = "/v1/practices/{id}/attachments/{attachment}", tag = "community",
    params(("id" = i64, Path), ("attachment" = i64, Path)), security((), ("bearer" = [])),
    responses((status = 200, description = "The file, with the media type it was uploaded with", content_type = "*/*", body = FileBytes)))]
pub async fn get_practice_attachment(
    State(state): State<AppState>,
    identity: Identity,
    Path((id, attachment)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let (meta, data) = super::attachment(&state, &identity, id, attachment).await?;
    Ok(crate::web::download(&meta.media_type, &meta.filename, data))
}

/// The federation setting of a best practice.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PracticeFederationUpdate {
    /// `national` publishes the document (when public); `off` withdraws it from the hub.
    pub federation: Federation,
}

/// Sets whether a best practice is published to the national library: `national` publishes
/// it (when public), `off` withdraws it from the hub if it was published.
#[utoipa::path(put, path = "/v1/practices/{id}/federation", tag = "community",
    params(("id" = i64, Path)), request_body = PracticeFederationUpdate, security(("bearer" = [])),
    responses((status = 200, body = PracticeView),
              (status = 409, description = "Publishing is blocked")))]
pub async fn update_practice_federation(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(body): Json<PracticeFederationUpdate>,
) -> Result<Json<PracticeView>, AppError> {
    Ok(Json(
        super::set_federation(&state, &identity, id, body.federation).await?,
    ))
}
