//! SAPE JSON API under `/v1/sape/…`: calls (search, hand entry, import, follow, flags), the
//! Comune's calendar address, proposals and their outcome, the Comuni's requests for support.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post, put};
use pico_service::Json;
use pico_service::http::body_limit;
use pico_service::json::{Path, Query};
use pico_service::openapi::FileBytes;
use pico_service::page::{Page, PageParams};
use serde::Deserialize;

use crate::api::{UploadQuery, UploadedAttachment, newest_first};
use crate::auth::Identity;
use crate::error::AppError;
use crate::sape::SupportState;
use crate::sape::documents::{self, DocumentView};
use crate::sape::import::ImportReport;
use crate::sape::ops::{
    self, CalendarLink, CallDetail, CallQuery, CallView, FlagsInput, NewCall, NewTransition,
    ProposalInput, ProposalView,
};
use crate::sape::outcome::{self, OutcomeInput};
use crate::sape::partners::{self, NewPartnerSearch, PartnerSearchView};
use crate::sape::support::{self, NewSupport, SupportMove, SupportView};
use crate::state::AppState;

/// The largest import file: the portal's full topics list is a few megabytes.
pub const IMPORT_BODY_LIMIT: usize = 32 * 1024 * 1024;

/// Upper bound of a document upload body; the 10 MB limit itself is checked on the file,
/// with its Italian message.
pub const DOCUMENT_BODY_LIMIT: usize = documents::MAX_BYTES + 1024 * 1024;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/sape/calls", get(list_calls).post(create_call))
        .route(
            "/v1/sape/calls/import",
            post(import_calls).layer(body_limit(IMPORT_BODY_LIMIT)),
        )
        .route("/v1/sape/calls/{id}", get(get_call))
        .route(
            "/v1/sape/calls/{id}/follow",
            put(follow_call).delete(unfollow_call),
        )
        .route("/v1/sape/calls/{id}/flags", put(update_flags))
        .route(
            "/v1/sape/calendar",
            post(create_calendar_token).delete(delete_calendar_token),
        )
        .route(
            "/v1/sape/proposals",
            get(list_proposals).post(create_proposal),
        )
        .route(
            "/v1/sape/proposals/{id}",
            get(get_proposal).put(update_proposal),
        )
        .route(
            "/v1/sape/proposals/{id}/transitions",
            post(create_proposal_transition),
        )
        .route("/v1/sape/proposals/{id}/outcome", put(update_outcome))
        .route(
            "/v1/sape/proposals/{id}/documents",
            get(list_documents)
                .post(create_document)
                .layer(body_limit(DOCUMENT_BODY_LIMIT)),
        )
        .route(
            "/v1/sape/proposals/{id}/documents/{document}",
            get(get_document),
        )
        .route("/v1/sape/calls/{id}/support", post(create_support))
        .route(
            "/v1/sape/calls/{id}/partner-searches",
            get(list_partner_searches).post(create_partner_search),
        )
        .route("/v1/sape/support", get(list_support))
        .route(
            "/v1/sape/support/{id}/transitions",
            post(create_support_transition),
        )
}

/// Searches the calls: full text over title, keywords, programme and identifiers, the best
/// matches first when at most 1,000 calls match, otherwise (and without text) the latest
/// closing dates first; filters by programme, status today and deadline window. Comune users
/// may ask for the calls they follow or are flagged to.
#[utoipa::path(get, path = "/v1/sape/calls", tag = "sape", params(CallQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<CallView>),
              (status = 422, description = "A date that is not one")))]
pub async fn list_calls(
    State(state): State<AppState>,
    identity: Identity,
    Query(query): Query<CallQuery>,
) -> Result<Json<Page<CallView>>, AppError> {
    let paging = PageParams {
        limit: query.limit,
        cursor: query.cursor.clone(),
    };
    let limit = paging.limit();
    let offset: u32 = paging.cursor()?.unwrap_or(0);
    let rows = ops::search_calls(&state, &identity, &query, limit + 1, offset).await?;
    let next = offset.saturating_add(limit);
    Ok(Json(Page::from_overfetch(rows, limit, |_| next)))
}

/// Enters a call by hand (regional FESR/FSE+ calls, PNRR notices…).
#[utoipa::path(post, path = "/v1/sape/calls", tag = "sape", request_body = NewCall, security(("bearer" = [])),
    responses((status = 201, body = CallView),
              (status = 422, description = "Invalid fields, each named in `errors`")))]
pub async fn create_call(
    State(state): State<AppState>,
    identity: Identity,
    Json(input): Json<NewCall>,
) -> Result<(StatusCode, Json<CallView>), AppError> {
    let view = ops::create_call(&state, &identity, &input).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// One call with its deadlines, status, flags and whether the caller's Comune follows it.
#[utoipa::path(get, path = "/v1/sape/calls/{id}", tag = "sape", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = CallDetail)))]
pub async fn get_call(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Json<CallDetail>, AppError> {
    Ok(Json(ops::call_detail(&state, &identity, id).await?))
}

/// Query of an import.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// The file's name, for the audit log.
    pub filename: Option<String>,
}

/// Imports calls from the portal: the topics CSV or the search API's JSON (told apart by the
/// first character). All or nothing: a refused row refuses the file, and the 422 lists every
/// refused row in Italian. Known identifiers are updated, never duplicated.
#[utoipa::path(post, path = "/v1/sape/calls/import", tag = "sape", params(ImportQuery), security(("bearer" = [])),
    request_body(description = "The file's bytes", content((FileBytes = "text/csv"), (FileBytes = "application/json"))),
    responses((status = 200, body = ImportReport),
              (status = 422, description = "Refused rows, nothing imported")))]
pub async fn import_calls(
    State(state): State<AppState>,
    identity: Identity,
    Query(query): Query<ImportQuery>,
    _headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<ImportReport>, AppError> {
    let filename = crate::upload::clean_filename(query.filename.as_deref().unwrap_or("api"));
    Ok(Json(
        ops::import_calls(&state, &identity, filename, body.to_vec()).await?,
    ))
}

/// The caller's Comune follows the call (its deadlines join the Comune's calendar).
#[utoipa::path(put, path = "/v1/sape/calls/{id}/follow", tag = "sape", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = CallDetail),
              (status = 403, description = "Not a Comune user")))]
pub async fn follow_call(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Json<CallDetail>, AppError> {
    Ok(Json(ops::set_following(&state, &identity, id, true).await?))
}

/// The caller's Comune stops following the call.
#[utoipa::path(delete, path = "/v1/sape/calls/{id}/follow", tag = "sape", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = CallDetail),
              (status = 403, description = "Not a Comune user")))]
pub async fn unfollow_call(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Json<CallDetail>, AppError> {
    Ok(Json(
        ops::set_following(&state, &identity, id, false).await?,
    ))
}

/// Sets the Comuni the call is flagged to as relevant (replaces the list).
#[utoipa::path(put, path = "/v1/sape/calls/{id}/flags", tag = "sape", params(("id" = i64, Path)), request_body = FlagsInput, security(("bearer" = [])),
    responses((status = 200, body = CallDetail),
              (status = 422, description = "A Comune not of this Province")))]
pub async fn update_flags(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<FlagsInput>,
) -> Result<Json<CallDetail>, AppError> {
    Ok(Json(ops::set_flags(&state, &identity, id, input).await?))
}

/// Makes a new secret address of the caller's Comune calendar (iCalendar, no sign-in
/// needed to read it); the previous address stops working. The address is shown only now.
#[utoipa::path(post, path = "/v1/sape/calendar", tag = "sape", security(("bearer" = [])),
    responses((status = 201, body = CalendarLink),
              (status = 403, description = "Not a Comune user")))]
pub async fn create_calendar_token(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<(StatusCode, Json<CalendarLink>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(ops::regenerate_calendar(&state, &identity).await?),
    ))
}

/// Revokes the caller's Comune calendar address.
#[utoipa::path(delete, path = "/v1/sape/calendar", tag = "sape", security(("bearer" = [])),
    responses((status = 204, description = "Revoked"),
              (status = 403, description = "Not a Comune user"),
              (status = 404, description = "No calendar address")))]
pub async fn delete_calendar_token(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<StatusCode, AppError> {
    if ops::revoke_calendar(&state, &identity).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound)
    }
}

/// Query of the proposals list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProposalQuery {
    /// Only proposals for this call.
    pub call_id: Option<i64>,
    /// Items per page: 50 by default; values above 200 are reduced to 200, and 0 is read as 1.
    #[param(inline)]
    pub limit: Option<pico_service::Limit>,
    /// The `next` value of the previous page.
    pub cursor: Option<String>,
}

/// Proposals the caller may see, newest first (a Comune sees those it takes part in).
#[utoipa::path(get, path = "/v1/sape/proposals", tag = "sape", params(ProposalQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<ProposalView>)))]
pub async fn list_proposals(
    State(state): State<AppState>,
    identity: Identity,
    Query(query): Query<ProposalQuery>,
) -> Result<Json<Page<ProposalView>>, AppError> {
    let fetch = |rows, before| ops::list_proposals(&state, &identity, query.call_id, before, rows);
    let page = newest_first(query.limit, query.cursor.clone(), fetch, |row| row.id).await?;
    Ok(Json(page))
}

/// Creates a proposal for a call, in state `idea`; every budget total is computed here.
#[utoipa::path(post, path = "/v1/sape/proposals", tag = "sape", request_body = ProposalInput, security(("bearer" = [])),
    responses((status = 201, body = ProposalView),
              (status = 422, description = "Invalid fields, each named in `errors` (`partners[0].pic`)")))]
pub async fn create_proposal(
    State(state): State<AppState>,
    identity: Identity,
    Json(input): Json<ProposalInput>,
) -> Result<(StatusCode, Json<ProposalView>), AppError> {
    let view = ops::create_proposal(&state, &identity, input).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// One proposal with partners, budgets and work packages (404 for a Comune not in it).
#[utoipa::path(get, path = "/v1/sape/proposals/{id}", tag = "sape", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = ProposalView)))]
pub async fn get_proposal(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Json<ProposalView>, AppError> {
    Ok(Json(ops::proposal_detail(&state, &identity, id).await?))
}

/// Replaces a proposal's content (partners, budgets, work packages); its state is kept. Only
/// while it is an idea, in preparation or in the second stage: what was submitted stays as
/// it was (409 `proposal_submitted`).
#[utoipa::path(put, path = "/v1/sape/proposals/{id}", tag = "sape", params(("id" = i64, Path)), request_body = ProposalInput, security(("bearer" = [])),
    responses((status = 200, body = ProposalView),
              (status = 409, description = "The proposal was submitted: its content no longer changes"),
              (status = 422, description = "Invalid fields")))]
pub async fn update_proposal(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<ProposalInput>,
) -> Result<Json<ProposalView>, AppError> {
    Ok(Json(
        ops::update_proposal(&state, &identity, id, input).await?,
    ))
}

/// Moves a proposal along its lifecycle: idea → in preparation → submitted → second stage
/// (two-stage calls) → evaluated → funded / reserve / not funded → grant signed → in
/// execution → closed; withdrawn before the evaluation. The Comuni taking part prepare,
/// submit and withdraw; the SAPE office makes every move.
#[utoipa::path(post, path = "/v1/sape/proposals/{id}/transitions", tag = "sape", params(("id" = i64, Path)), request_body = NewTransition, security(("bearer" = [])),
    responses((status = 200, body = ProposalView),
              (status = 409, description = "A move the lifecycle does not have, or the proposal left the state the caller saw")))]
pub async fn create_proposal_transition(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<NewTransition>,
) -> Result<Json<ProposalView>, AppError> {
    Ok(Json(
        ops::transition_proposal(&state, &identity, id, input).await?,
    ))
}

/// Records what the funder decided and paid (SAPE staff): the score and threshold once
/// evaluated, the CUP and the EU contribution obtained per partner once funded, the amounts
/// received once the grant is signed. Replaces what was recorded; the national rows follow.
#[utoipa::path(put, path = "/v1/sape/proposals/{id}/outcome", tag = "sape", params(("id" = i64, Path)), request_body = OutcomeInput, security(("bearer" = [])),
    responses((status = 200, body = ProposalView),
              (status = 422, description = "A figure not yet due in the proposal's state, or out of range, each named in `errors`")))]
pub async fn update_outcome(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<OutcomeInput>,
) -> Result<Json<ProposalView>, AppError> {
    Ok(Json(outcome::record(&state, &identity, id, input).await?))
}

/// Query of `GET /v1/sape/support`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SupportQuery {
    /// Only requests on this call.
    pub call_id: Option<i64>,
    /// Only requests in this state.
    pub state: Option<SupportState>,
}

/// The Comuni's requests for support, newest first (at most 500): all for the SAPE office,
/// its own for a Comune.
#[utoipa::path(get, path = "/v1/sape/support", tag = "sape", params(SupportQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<SupportView>)))]
pub async fn list_support(
    State(state): State<AppState>,
    identity: Identity,
    Query(query): Query<SupportQuery>,
) -> Result<Json<Vec<SupportView>>, AppError> {
    Ok(Json(
        support::list(&state, &identity, query.call_id, query.state, 500).await?,
    ))
}

/// A Comune user asks the SAPE office for support on a call (one waiting request per Comune
/// and call).
#[utoipa::path(post, path = "/v1/sape/calls/{id}/support", tag = "sape", params(("id" = i64, Path)), request_body = NewSupport, security(("bearer" = [])),
    responses((status = 201, body = SupportView),
              (status = 403, description = "Not a Comune user"),
              (status = 409, description = "A request of the Comune on this call is still waiting")))]
pub async fn create_support(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<NewSupport>,
) -> Result<(StatusCode, Json<SupportView>), AppError> {
    let view = support::ask(&state, &identity, id, input).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Answers a request: the SAPE office accepts it or declines it (with its reasons); the
/// Comune withdraws it while it waits.
#[utoipa::path(post, path = "/v1/sape/support/{id}/transitions", tag = "sape", params(("id" = i64, Path)), request_body = SupportMove, security(("bearer" = [])),
    responses((status = 200, body = SupportView),
              (status = 409, description = "A move the lifecycle does not have, or the request left the state the caller saw"),
              (status = 422, description = "A decline without its reasons")))]
pub async fn create_support_transition(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<SupportMove>,
) -> Result<Json<SupportView>, AppError> {
    Ok(Json(
        support::transition(&state, &identity, id, input).await?,
    ))
}

/// Searches for partners on this call published in the SAPE thematic network, by this
/// Province and the others (as far as they reached this node), the open ones first.
#[utoipa::path(get, path = "/v1/sape/calls/{id}/partner-searches", tag = "sape", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<PartnerSearchView>)))]
pub async fn list_partner_searches(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Json<Vec<PartnerSearchView>>, AppError> {
    let detail = ops::call_detail(&state, &identity, id).await?;
    Ok(Json(
        partners::for_call(&state, &identity, &detail.call.identifier).await?,
    ))
}

/// The thread opened by a new search.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PartnerSearchCreated {
    /// This Province.
    pub origin: String,
    /// Seq of the signed post.
    pub seq: u64,
    /// The thread's page on this node.
    pub thread: String,
}

/// Publishes a search for partners on this call in the SAPE thematic network (SAPE staff):
/// a signed post with the structured document `ricerca-partner.json`, which the other
/// Provinces see on the call's page in their node and answer in the thread.
#[utoipa::path(post, path = "/v1/sape/calls/{id}/partner-searches", tag = "sape", params(("id" = i64, Path)), request_body = NewPartnerSearch, security(("bearer" = [])),
    responses((status = 201, body = PartnerSearchCreated),
              (status = 409, description = "The Province is not a member of the SAPE network, or publishing is blocked")))]
pub async fn create_partner_search(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<NewPartnerSearch>,
) -> Result<(StatusCode, Json<PartnerSearchCreated>), AppError> {
    let posted = partners::publish(&state, &identity, id, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(PartnerSearchCreated {
            thread: format!("/networks/sape/threads/{}/{}", posted.origin, posted.seq),
            origin: posted.origin,
            seq: posted.seq,
        }),
    ))
}

/// The documents of a proposal (404 for a Comune not in it).
#[utoipa::path(get, path = "/v1/sape/proposals/{id}/documents", tag = "sape", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<DocumentView>)))]
pub async fn list_documents(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Json<Vec<DocumentView>>, AppError> {
    Ok(Json(documents::list(&state, &identity, id).await?))
}

/// Adds a document to a proposal (SAPE staff; at most 10 MB: PDF, images, text, office
/// documents; at most 30 files and 50 MiB per proposal). The body is the file itself with its
/// media type as `Content-Type`.
#[utoipa::path(post, path = "/v1/sape/proposals/{id}/documents", tag = "sape",
    params(("id" = i64, Path), UploadQuery), security(("bearer" = [])),
    request_body = UploadedAttachment,
    responses((status = 201, body = DocumentView),
              (status = 413, description = "File over 10 MB, or the proposal's 50 MiB reached"),
              (status = 422, description = "Type not accepted, an empty file, or the proposal's 30 files reached")))]
pub async fn create_document(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<DocumentView>), AppError> {
    let upload = crate::upload::Upload::from_raw_body(&headers, query.filename, &body);
    let mut views = documents::add(&state, &identity, id, vec![upload]).await?;
    let view = views
        .pop()
        .ok_or_else(|| AppError::Internal("document not stored".into()))?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Downloads a document of a proposal the caller may read.
#[utoipa::path(get, path = "/v1/sape/proposals/{id}/documents/{document}", tag = "sape",
    params(("id" = i64, Path), ("document" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "The file, with the media type it was added with", content_type = "*/*", body = FileBytes)))]
pub async fn get_document(
    State(state): State<AppState>,
    identity: Identity,
    Path((id, document)): Path<(i64, i64)>,
) -> Result<axum::response::Response, AppError> {
    let (meta, data) = documents::read(&state, &identity, id, document).await?;
    Ok(crate::web::download(&meta.media_type, &meta.filename, data))
}
