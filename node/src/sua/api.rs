//! The SUA workflow API under `/v1/sua`: requests, procedures, lots, awards, transitions,
//! attachments and convenzioni. Amounts travel as decimal strings (`"150000.00"`), dates as
//! `YYYY-MM-DD`, instants as RFC 3339. Invalid input answers 422 with one message per field
//! in the problem's `errors` member; a move the state machine forbids answers 409.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post, put};
use pico_service::http::body_limit;
use pico_service::json::{Path, Query};
use pico_service::openapi::FileBytes;
use pico_service::{Json, Page};
use serde::Deserialize;

use crate::api::{UploadQuery, UploadedAttachment, newest_first};
use crate::auth::Identity;
use crate::error::AppError;
use crate::state::AppState;
use crate::sua::ops::conventions::{self, ConventionQuery, ConventionView, NewConvention};
use crate::sua::ops::requests::{self, Channel, RequestInput, ShareInput};
use crate::sua::ops::workflow::{
    self, AwardInput, LotPatch, NewLot, ProcedureQuery, TenderInput, TransitionInput,
};
use crate::sua::ops::{
    LotView, ProcedureAttachmentView, ProcedureDetail, ProcedureView, TransitionView,
};
use crate::upload::Upload;

/// The workflow routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/sua/conventions",
            get(list_conventions).post(create_convention),
        )
        .route("/v1/sua/conventions/{id}", get(get_convention))
        .route(
            "/v1/sua/conventions/{id}/revocation",
            post(revoke_convention),
        )
        .route("/v1/sua/requests", post(create_sua_request))
        .route("/v1/sua/initiatives", post(create_initiative))
        .route("/v1/sua/procedures", get(list_procedures))
        .route(
            "/v1/sua/procedures/{id}",
            get(get_procedure).put(update_procedure),
        )
        .route(
            "/v1/sua/procedures/{id}/tender",
            axum::routing::patch(update_tender),
        )
        .route(
            "/v1/sua/procedures/{id}/participants",
            put(update_participants),
        )
        .route(
            "/v1/sua/procedures/{id}/transitions",
            get(list_procedure_transitions).post(create_procedure_transition),
        )
        .route(
            "/v1/sua/procedures/{id}/lots",
            get(list_lots).post(create_lot),
        )
        .route(
            "/v1/sua/procedures/{id}/lots/{lot}",
            axum::routing::patch(update_lot).delete(delete_lot),
        )
        .route(
            "/v1/sua/procedures/{id}/lots/{lot}/award",
            put(update_award).delete(delete_award),
        )
        .route(
            "/v1/sua/procedures/{id}/attachments",
            get(list_procedure_attachments)
                .post(create_procedure_attachment)
                .layer(body_limit(ATTACHMENT_BODY_LIMIT)),
        )
        .route(
            "/v1/sua/procedures/{id}/attachments/{attachment}",
            get(get_procedure_attachment),
        )
}

/// Upper bound of an attachment upload body: the 10 MB attachment limit is checked on the
/// bytes; this only stops a client from streaming more.
const ATTACHMENT_BODY_LIMIT: usize = 11 * 1024 * 1024;

// ---------------------------------------------------------------------------------------
// Convenzioni

/// Convenzioni visible to the caller (all for SUA staff, its own for a Comune), newest first.
#[utoipa::path(get, path = "/v1/sua/conventions", tag = "sua", params(ConventionQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<ConventionView>)))]
pub async fn list_conventions(
    State(state): State<AppState>,
    identity: Identity,
    Query(query): Query<ConventionQuery>,
) -> Result<Json<Page<ConventionView>>, AppError> {
    let fetch =
        |rows, before| conventions::list_conventions(&state, &identity, &query, rows, before);
    let page = newest_first(query.limit, query.cursor.clone(), fetch, |row| row.id).await?;
    Ok(Json(page))
}

/// Records a convenzione (SUA staff).
#[utoipa::path(post, path = "/v1/sua/conventions", tag = "sua", request_body = NewConvention, security(("bearer" = [])),
    responses((status = 201, body = ConventionView),
              (status = 422, description = "Invalid fields, listed in `errors`")))]
pub async fn create_convention(
    State(state): State<AppState>,
    identity: Identity,
    Json(input): Json<NewConvention>,
) -> Result<(StatusCode, Json<ConventionView>), AppError> {
    let view = conventions::create_convention(&state, &identity, &input).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// One convenzione (another Comune's answers 404).
#[utoipa::path(get, path = "/v1/sua/conventions/{id}", tag = "sua", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = ConventionView)))]
pub async fn get_convention(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Json<ConventionView>, AppError> {
    Ok(Json(
        conventions::get_convention(&state, &identity, id).await?,
    ))
}

/// Revokes a convenzione (SUA staff); 409 if already revoked.
#[utoipa::path(post, path = "/v1/sua/conventions/{id}/revocation", tag = "sua", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = ConventionView), (status = 409)))]
pub async fn revoke_convention(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Json<ConventionView>, AppError> {
    Ok(Json(
        conventions::revoke_convention(&state, &identity, id).await?,
    ))
}

// ---------------------------------------------------------------------------------------
// Requests and procedures

/// Submits a request to the SUA (a Comune user for its Comune, or SUA staff naming the
/// Comune). The Comune needs a convenzione in force covering the contract type (422
/// `no_convention` otherwise). Attach files with `POST …/{id}/attachments`.
#[utoipa::path(post, path = "/v1/sua/requests", tag = "sua", request_body = RequestInput, security(("bearer" = [])),
    responses((status = 201, body = ProcedureView),
              (status = 422, description = "Invalid fields (listed in `errors`) or no convenzione")))]
pub async fn create_sua_request(
    State(state): State<AppState>,
    identity: Identity,
    Json(input): Json<RequestInput>,
) -> Result<(StatusCode, Json<ProcedureView>), AppError> {
    let view =
        requests::submit_request(&state, &identity, &input, Vec::new(), Channel::Api).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Creates an aggregated initiative serving several Comuni with their shares (SUA staff).
/// The shares must sum to the estimated amount; it starts accepted (`received`).
#[utoipa::path(post, path = "/v1/sua/initiatives", tag = "sua", request_body = RequestInput, security(("bearer" = [])),
    responses((status = 201, body = ProcedureView),
              (status = 422, description = "Invalid fields, listed in `errors`")))]
pub async fn create_initiative(
    State(state): State<AppState>,
    identity: Identity,
    Json(input): Json<RequestInput>,
) -> Result<(StatusCode, Json<ProcedureView>), AppError> {
    let view =
        requests::create_initiative(&state, &identity, &input, Vec::new(), Channel::Api).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Procedures visible to the caller (a Comune sees those serving it), newest first.
#[utoipa::path(get, path = "/v1/sua/procedures", tag = "sua", params(ProcedureQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<ProcedureView>)))]
pub async fn list_procedures(
    State(state): State<AppState>,
    identity: Identity,
    Query(query): Query<ProcedureQuery>,
) -> Result<Json<Page<ProcedureView>>, AppError> {
    let fetch = |rows, before| workflow::list_procedures(&state, &identity, &query, rows, before);
    let page = newest_first(query.limit, query.cursor.clone(), fetch, |row| row.id).await?;
    Ok(Json(page))
}

/// One procedure with its lots, history, attachments and what the caller may do.
#[utoipa::path(get, path = "/v1/sua/procedures/{id}", tag = "sua", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = ProcedureDetail)))]
pub async fn get_procedure(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Json<ProcedureDetail>, AppError> {
    Ok(Json(
        workflow::procedure_detail(&state, &identity, id).await?,
    ))
}

/// Replaces the request content: the Comune while submitted or returned, SUA staff while
/// not final.
#[utoipa::path(put, path = "/v1/sua/procedures/{id}", tag = "sua", params(("id" = i64, Path)), request_body = RequestInput, security(("bearer" = [])),
    responses((status = 200, body = ProcedureView),
              (status = 422, description = "Invalid fields, listed in `errors`")))]
pub async fn update_procedure(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<RequestInput>,
) -> Result<Json<ProcedureView>, AppError> {
    Ok(Json(
        requests::update_request(&state, &identity, id, &input).await?,
    ))
}

/// Changes the tender data (numero gara, dates); an absent field stays, an empty one is
/// cleared (SUA staff, accepted procedure not final).
#[utoipa::path(patch, path = "/v1/sua/procedures/{id}/tender", tag = "sua", params(("id" = i64, Path)), request_body = TenderInput, security(("bearer" = [])),
    responses((status = 200, body = ProcedureView),
              (status = 409),
              (status = 422, description = "Invalid fields, listed in `errors`")))]
pub async fn update_tender(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<TenderInput>,
) -> Result<Json<ProcedureView>, AppError> {
    Ok(Json(
        workflow::update_tender(&state, &identity, id, input).await?,
    ))
}

/// Body of `PUT /v1/sua/procedures/{id}/participants`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticipantsInput {
    /// The Comuni served and their shares, summing to the estimated amount.
    pub participants: Vec<ShareInput>,
}

/// Replaces the shares of an aggregated initiative (SUA staff).
#[utoipa::path(put, path = "/v1/sua/procedures/{id}/participants", tag = "sua", params(("id" = i64, Path)), request_body = ParticipantsInput, security(("bearer" = [])),
    responses((status = 200, body = ProcedureView),
              (status = 409, description = "Not an aggregated initiative"),
              (status = 422, description = "Invalid shares, listed in `errors`")))]
pub async fn update_participants(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<ParticipantsInput>,
) -> Result<Json<ProcedureView>, AppError> {
    Ok(Json(
        requests::update_participants(&state, &identity, id, &input.participants).await?,
    ))
}

/// The history of a procedure, oldest first.
#[utoipa::path(get, path = "/v1/sua/procedures/{id}/transitions", tag = "sua", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<TransitionView>)))]
pub async fn list_procedure_transitions(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Json<Vec<TransitionView>>, AppError> {
    Ok(Json(workflow::transitions(&state, &identity, id).await?))
}

/// Moves a procedure to another state, with the data that state needs: a reason to return,
/// cancel or declare deserted; publication date and deadline (and at least one lot, each
/// with its CIG) to publish; every lot awarded or closed to award; the contract date to
/// sign; the completion date to complete. 409 `invalid_transition` for a move the state
/// machine forbids, 409 `lots_incomplete` when the lots are not ready.
#[utoipa::path(post, path = "/v1/sua/procedures/{id}/transitions", tag = "sua", params(("id" = i64, Path)), request_body = TransitionInput,
    security(("bearer" = [])),
    responses((status = 200, body = ProcedureView),
              (status = 409, description = "Invalid transition, lots not ready, or changed meanwhile"),
              (status = 422, description = "Missing reason or dates, listed in `errors`")))]
pub async fn create_procedure_transition(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<TransitionInput>,
) -> Result<Json<ProcedureView>, AppError> {
    Ok(Json(
        workflow::transition(&state, &identity, id, &input).await?,
    ))
}

/// The lots of a procedure.
#[utoipa::path(get, path = "/v1/sua/procedures/{id}/lots", tag = "sua", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<LotView>)))]
pub async fn list_lots(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Json<Vec<LotView>>, AppError> {
    Ok(Json(workflow::lots(&state, &identity, id).await?))
}

/// Adds a lot (SUA staff, between acceptance and publication).
#[utoipa::path(post, path = "/v1/sua/procedures/{id}/lots", tag = "sua", params(("id" = i64, Path)), request_body = NewLot, security(("bearer" = [])),
    responses((status = 201, body = LotView),
              (status = 409, description = "Lots are locked in this state"),
              (status = 422, description = "Invalid fields (a CIG already used included)")))]
pub async fn create_lot(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<NewLot>,
) -> Result<(StatusCode, Json<LotView>), AppError> {
    let view = workflow::add_lot(&state, &identity, id, input).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Changes a lot: structure before publication, bids once closed, status until the award.
#[utoipa::path(patch, path = "/v1/sua/procedures/{id}/lots/{lot}", tag = "sua", params(("id" = i64, Path), ("lot" = i64, Path)), request_body = LotPatch,
    security(("bearer" = [])),
    responses((status = 200, body = LotView), (status = 409)))]
pub async fn update_lot(
    State(state): State<AppState>,
    identity: Identity,
    Path((id, lot)): Path<(i64, i64)>,
    Json(input): Json<LotPatch>,
) -> Result<Json<LotView>, AppError> {
    Ok(Json(
        workflow::update_lot(&state, &identity, id, lot, input).await?,
    ))
}

/// Deletes a lot before publication; the following lots are renumbered.
#[utoipa::path(delete, path = "/v1/sua/procedures/{id}/lots/{lot}", tag = "sua", params(("id" = i64, Path), ("lot" = i64, Path)),
    security(("bearer" = [])),
    responses((status = 204, description = "Deleted"), (status = 409)))]
pub async fn delete_lot(
    State(state): State<AppState>,
    identity: Identity,
    Path((id, lot)): Path<(i64, i64)>,
) -> Result<StatusCode, AppError> {
    workflow::delete_lot(&state, &identity, id, lot).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Records or corrects the award of a lot (evaluation or awarded). The ribasso is computed
/// from the lot's base amount when not given.
#[utoipa::path(put, path = "/v1/sua/procedures/{id}/lots/{lot}/award", tag = "sua", params(("id" = i64, Path), ("lot" = i64, Path)), request_body = AwardInput,
    security(("bearer" = [])),
    responses((status = 200, body = LotView),
              (status = 409),
              (status = 422, description = "Invalid fields, listed in `errors`")))]
pub async fn update_award(
    State(state): State<AppState>,
    identity: Identity,
    Path((id, lot)): Path<(i64, i64)>,
    Json(input): Json<AwardInput>,
) -> Result<Json<LotView>, AppError> {
    Ok(Json(
        workflow::set_award(&state, &identity, id, lot, input).await?,
    ))
}

/// Removes the award of a lot during the evaluation.
#[utoipa::path(delete, path = "/v1/sua/procedures/{id}/lots/{lot}/award", tag = "sua", params(("id" = i64, Path), ("lot" = i64, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = LotView), (status = 409)))]
pub async fn delete_award(
    State(state): State<AppState>,
    identity: Identity,
    Path((id, lot)): Path<(i64, i64)>,
) -> Result<Json<LotView>, AppError> {
    Ok(Json(
        workflow::clear_award(&state, &identity, id, lot).await?,
    ))
}

// ---------------------------------------------------------------------------------------
// Attachments

/// The attachments of a procedure.
#[utoipa::path(get, path = "/v1/sua/procedures/{id}/attachments", tag = "sua", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<ProcedureAttachmentView>)))]
pub async fn list_procedure_attachments(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Json<Vec<ProcedureAttachmentView>>, AppError> {
    Ok(Json(workflow::attachments(&state, &identity, id).await?))
}

/// Attaches a file (at most 10 MB: PDF, images, text, office documents). The body is the file
/// itself with its media type as `Content-Type`. The Comune attaches while its request is
/// open; SUA staff while the procedure is not final.
#[utoipa::path(post, path = "/v1/sua/procedures/{id}/attachments", tag = "sua",
    params(("id" = i64, Path), UploadQuery), security(("bearer" = [])),
    request_body = UploadedAttachment,
    responses((status = 201, body = ProcedureAttachmentView),
              (status = 413, description = "File over 10 MB"),
              (status = 422, description = "Type not accepted")))]
pub async fn create_procedure_attachment(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Query(query): Query<UploadQuery>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<ProcedureAttachmentView>), AppError> {
    let upload = Upload::from_raw_body(&headers, query.filename, &body);
    let mut views = workflow::add_attachments(&state, &identity, id, vec![upload]).await?;
    let view = views
        .pop()
        .ok_or_else(|| AppError::Internal("attachment not stored".into()))?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Downloads an attachment of a procedure the caller may read.
#[utoipa::path(get, path = "/v1/sua/procedures/{id}/attachments/{attachment}", tag = "sua",
    params(("id" = i64, Path), ("attachment" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "The file, with the media type it was uploaded with", content_type = "*/*", body = FileBytes)))]
pub async fn get_procedure_attachment(
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
