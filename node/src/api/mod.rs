//! The JSON API under `/v1`: public Comuni list, the caller's identity, the OpenAPI
//! document, and the CSRF guard for cookie-authenticated calls. Module APIs (Help Desk …)
//! live with their module; the routes and OpenAPI parts the registry lists
//! ([`crate::modules`]) are merged here.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use pico_service::json::Query;
use pico_service::openapi::ProblemResponses;
use pico_service::{Json, Page, PageParams, ProblemDocument};
use serde::Serialize;
use utoipa::OpenApi;

use crate::auth::{Identity, secrets};
use crate::db;
use crate::error::AppError;
use crate::modules::{self, Registry};
use crate::state::AppState;

mod paging;
mod upload;

pub use paging::newest_first;
pub use upload::{UploadQuery, UploadTypes, UploadedAttachment, UploadedDocument};

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
    paths(list_comuni, get_me, crate::auth::password::update_password),
    components(schemas(ProblemDocument)),
    modifiers(&ModulePaths, &UploadTypes, &BearerAuth, &UNIFORM_PROBLEMS),
)]
pub struct ApiDoc;

/// The problems every operation can answer, derived from its shape (see
/// [`ProblemResponses`]); the node's policy refuses callers by role, hence 403.
const UNIFORM_PROBLEMS: ProblemResponses = ProblemResponses::ROLE_BASED;

/// Merges the paths of every module of the registry; listed first, so every later
/// modifier sees the whole document.
struct ModulePaths;

impl utoipa::Modify for ModulePaths {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        modules::merge_openapi(modules::ALL, openapi);
    }
}

/// The OpenAPI document of a node running `registry`: [`ApiDoc`] (the built-in registry),
/// plus the part of any module outside it (a test's), which gets the upload types and the
/// uniform problems too.
pub fn openapi(registry: Registry) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    let mut extra = false;
    for kit in outside_built_in(registry) {
        doc.merge((kit.openapi)());
        extra = true;
    }
    if extra {
        utoipa::Modify::modify(&UploadTypes, &mut doc);
        utoipa::Modify::modify(&UNIFORM_PROBLEMS, &mut doc);
    }
    doc
}

/// The modules of `registry` that the built-in registry does not hold, known by name (a
/// `const` slice may have a new address at each use, so the slices are not compared).
fn outside_built_in(registry: Registry) -> impl Iterator<Item = &'static modules::ModuleKit> {
    registry
        .iter()
        .filter(|kit| !modules::ALL.iter().any(|known| known.name == kit.name))
}

/// The document of the built-in registry, as checked in: the test `openapi_document_is_in_sync`
/// keeps `node/openapi.json` equal to [`ApiDoc`]. Building it at run time walks every module's
/// schemas and leaves about 26 MiB of freed garbage that the allocator keeps resident (a node
/// measured 52.7 MiB after its first `/v1/openapi.json`, 26.6 MiB before); served from the
/// binary, it costs nothing.
static OPENAPI_JSON: &[u8] = include_bytes!("../../openapi.json");

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
        .merge(modules::api_routes(state.modules))
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
              (status = 400, description = "Invalid cursor")))]
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
    /// The first of `roles`, kept for clients written when a person held one role.
    pub role: String,
    /// Every role held: `admin`, `operator:<module>` (one per module), or the one
    /// `comune:<ISTAT code>` of a Comune user.
    pub roles: Vec<String>,
}

/// The authenticated user.
#[utoipa::path(get, path = "/v1/me", tag = "people", security(("bearer" = [])),
    responses((status = 200, body = Me)))]
pub async fn get_me(identity: Identity) -> Result<Json<Me>, AppError> {
    let user = identity.require_user()?;
    Ok(Json(Me {
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        role: user
            .roles
            .to_vec()
            .first()
            .map(ToString::to_string)
            .unwrap_or_default(),
        roles: user
            .roles
            .to_vec()
            .iter()
            .map(ToString::to_string)
            .collect(),
    }))
}

async fn get_openapi(State(state): State<AppState>) -> Result<Response, AppError> {
    let body = if outside_built_in(state.modules).next().is_none() {
        axum::body::Bytes::from_static(OPENAPI_JSON)
    } else {
        serde_json::to_vec(&openapi(state.modules))
            .map(axum::body::Bytes::from)
            .map_err(|error| AppError::Internal(error.to_string()))?
    };
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}
