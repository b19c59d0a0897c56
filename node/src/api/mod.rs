//! The JSON API under `/v1`: public Comuni list, the caller's identity, the OpenAPI
//! document, and the CSRF guard for cookie-authenticated calls. Module APIs (Help Desk …)
//! live with their module and are merged in `crate::app`.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use pico_service::json::Query;
use pico_service::openapi::ProblemResponses;
use pico_service::{Json, Page, PageParams, ProblemDocument};
use serde::Serialize;
use utoipa::OpenApi;

use crate::auth::{Identity, secrets};
use crate::db;
use crate::error::AppError;
use crate::helpdesk;
use crate::state::AppState;

/// The OpenAPI 3 description of `/v1`, generated from the handlers.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Pi.Co. Province node API", description = "API of a Province node of the UPI Pi.Co. federation. \
        Errors are application/problem+json (RFC 7807): malformed JSON 400, well-formed JSON of the wrong shape \
        (wrong type, unknown or missing field) 422, body too large 413, invalid state transition 409. Lists are \
        {\"items\": [...], \"next\": cursor} with 50 items by default; a `limit` above 200 is reduced to 200. Dates are RFC 3339 UTC. \
        Responses carry RateLimit-Limit/Remaining/Reset headers and Cache-Control: no-store. Uploads: at most 10 files \
        per request, 30 files and 50 MiB of files per record (Help Desk request, SUA procedure): beyond, 422 \
        too_many_files or 413 record_too_large, and nothing is stored. A user signed in with a one-time password gets \
        403 password_change_required from every call but POST /v1/me/password and GET /v1/me."),
    paths(
        list_comuni,
        get_me,
        crate::auth::password::update_password,
        helpdesk::api::list_requests,
        helpdesk::api::create_request,
        helpdesk::api::get_request,
        helpdesk::api::create_comment,
        helpdesk::api::create_transition,
        helpdesk::api::update_assignee,
        helpdesk::api::export_requests,
        helpdesk::api::create_attachment,
        helpdesk::api::get_attachment,
        crate::dati::api::list_datasets,
        crate::dati::api::import_dataset,
        crate::dati::api::list_rows,
        crate::dati::api::create_deletions,
        crate::dati::api::update_federation,
        crate::federation::api::get_federation_status,
        crate::networks::api::list_networks,
        crate::networks::api::update_membership,
        crate::networks::api::delete_membership,
        crate::networks::api::list_threads,
        crate::networks::api::get_thread,
        crate::networks::api::create_post,
        crate::networks::api::get_post_attachment,
        crate::networks::api::list_quarantine,
        crate::community::api::list_practices,
        crate::community::api::create_practice,
        crate::community::api::get_practice,
        crate::community::api::update_practice,
        crate::community::api::create_practice_attachment,
        crate::community::api::get_practice_attachment,
        crate::community::api::update_practice_federation,
        // SUA workflow (crate::sua::api)
        crate::sua::api::list_conventions,
        crate::sua::api::create_convention,
        crate::sua::api::get_convention,
        crate::sua::api::revoke_convention,
        crate::sua::api::create_sua_request,
        crate::sua::api::create_initiative,
        crate::sua::api::list_procedures,
        crate::sua::api::get_procedure,
        crate::sua::api::update_procedure,
        crate::sua::api::update_tender,
        crate::sua::api::update_participants,
        crate::sua::api::list_procedure_transitions,
        crate::sua::api::create_procedure_transition,
        crate::sua::api::list_lots,
        crate::sua::api::create_lot,
        crate::sua::api::update_lot,
        crate::sua::api::delete_lot,
        crate::sua::api::update_award,
        crate::sua::api::delete_award,
        crate::sua::api::list_procedure_attachments,
        crate::sua::api::create_procedure_attachment,
        crate::sua::api::get_procedure_attachment,
        // SUA data (crate::sua::data_api)
        crate::sua::data_api::create_import,
        crate::sua::data_api::list_imports,
        crate::sua::data_api::get_import,
        crate::sua::data_api::get_report,
        crate::sua::data_api::export_report,
        crate::sua::data_api::list_ocds_releases,
        crate::sua::data_api::get_ocds_release,
    ),
    components(schemas(ProblemDocument)),
    modifiers(&BearerAuth, &UNIFORM_PROBLEMS),
)]
pub struct ApiDoc;

/// The problems every operation can answer, derived from its shape (see
/// [`ProblemResponses`]); the node's policy refuses callers by role, hence 403.
const UNIFORM_PROBLEMS: ProblemResponses = ProblemResponses::ROLE_BASED;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The `/v1` routes of this module.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/comuni", get(list_comuni))
        .route("/v1/me", get(get_me))
        .route("/v1/openapi.json", get(get_openapi))
        .merge(crate::auth::password::api_router())
        .merge(helpdesk::api::router())
        .merge(crate::dati::api::router())
        .merge(crate::federation::api::api_router())
        .merge(crate::networks::api::router())
        .merge(crate::community::api::router())
        .merge(crate::sua::api::router())
        .merge(crate::sua::data_api::router())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::auth::password::gate_api,
        ))
        .layer(middleware::from_fn_with_state(state, csrf_guard))
}

/// Unsafe methods authenticated by the session cookie must carry the session's CSRF token
/// in `X-CSRF-Token`; bearer tokens are never sent by browsers on their own, so they need none.
async fn csrf_guard(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, AppError> {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return Ok(next.run(request).await);
    }
    let (mut parts, body) = request.into_parts();
    let identity = <Identity as axum::extract::FromRequestParts<AppState>>::from_request_parts(
        &mut parts, &state,
    )
    .await?;
    if let Some(expected) = identity.csrf() {
        let sent = header_text(&parts.headers, "x-csrf-token");
        if !secrets::constant_time_eq(expected, sent) {
            return Err(AppError::Csrf);
        }
    }
    Ok(next.run(Request::from_parts(parts, body)).await)
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

/// The Comuni of this Province.
#[utoipa::path(get, path = "/v1/comuni", tag = "comuni", params(PageParams),
    responses((status = 200, description = "Comuni ordered by ISTAT code", body = Page<db::comuni::Comune>),
              (status = 400, description = "Invalid cursor", body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn list_comuni(
    State(state): State<AppState>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<db::comuni::Comune>>, AppError> {
    let after: Option<String> = page.cursor()?;
    let limit = page.limit();
    let rows = state
        .db
        .call(move |conn| {
            db::comuni::list(conn, after.as_deref(), limit + 1).map_err(AppError::from)
        })
        .await?;
    Ok(Json(Page::from_overfetch(rows, limit, |comune| {
        comune.code.clone()
    })))
}

/// Who the caller is.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// `admin`, `operator:<module>` or `comune:<ISTAT code>`.
    pub role: String,
}

/// The authenticated user.
#[utoipa::path(get, path = "/v1/me", tag = "people", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn get_me(identity: Identity) -> Result<Json<Me>, AppError> {
    let user = identity.require_user()?;
    Ok(Json(Me {
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        role: user.role.to_string(),
    }))
}

async fn get_openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
