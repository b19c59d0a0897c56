//! SIT JSON API under `/v1/sit/…`: the catalogue (public to read), subscriptions with their
//! moves and requests, the Comuni's digital pictures and the coverage report.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use pico_service::Json;
use pico_service::json::{Path, Query};
use pico_service::page::Page;
use serde::Deserialize;

use crate::auth::Identity;
use crate::error::AppError;
use crate::sit::ops::{
    self, FeeView, NewSubscription, NewSubscriptionRequest, NewSubscriptionTransition,
    PictureInput, PictureView, RequestMeasure, ServiceDetail, ServiceInput, ServiceView,
    SubscriptionDetail, SubscriptionView, VersionView, WithdrawInput,
};
use crate::sit::policy::{self, Action};
use crate::sit::reports::CoverageRow;
use crate::state::AppState;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/sit/services", get(list_services).post(create_service))
        .route(
            "/v1/sit/services/{code}",
            get(get_service).put(update_service),
        )
        .route(
            "/v1/sit/services/{code}/versions/{version}",
            get(get_service_version),
        )
        .route("/v1/sit/services/{code}/withdrawal", post(withdraw_service))
        .route("/v1/sit/services/{code}/fee", get(get_service_fee))
        .route(
            "/v1/sit/subscriptions",
            get(list_subscriptions).post(create_subscription),
        )
        .route("/v1/sit/subscriptions/{id}", get(get_subscription))
        .route(
            "/v1/sit/subscriptions/{id}/transitions",
            post(create_subscription_transition),
        )
        .route(
            "/v1/sit/subscriptions/{id}/requests",
            get(list_subscription_requests).post(create_subscription_request),
        )
        .route(
            "/v1/sit/comuni/{code}/picture",
            get(get_digital_picture).put(update_digital_picture),
        )
        .route("/v1/sit/coverage", get(get_coverage))
}

/// Query of the catalogue.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CatalogueQuery {
    /// Also the withdrawn services.
    pub withdrawn: Option<bool>,
}

/// The catalogue, by name, on one page (a Province offers tens of services). Public.
#[utoipa::path(get, path = "/v1/sit/services", tag = "sit", params(CatalogueQuery),
    responses((status = 200, body = Page<ServiceView>)))]
pub async fn list_services(
    State(state): State<AppState>,
    Query(query): Query<CatalogueQuery>,
) -> Result<Json<Page<ServiceView>>, AppError> {
    let items = ops::list_services(&state, query.withdrawn.unwrap_or(false)).await?;
    Ok(Json(Page { items, next: None }))
}

/// Adds a service to the catalogue (version 1).
#[utoipa::path(post, path = "/v1/sit/services", tag = "sit", request_body = ServiceInput, security(("bearer" = [])),
    responses((status = 201, body = ServiceView),
              (status = 422, description = "Invalid fields, each named in `errors`")))]
pub async fn create_service(
    State(state): State<AppState>,
    identity: Identity,
    Json(input): Json<ServiceInput>,
) -> Result<(StatusCode, Json<ServiceView>), AppError> {
    let view = ops::create_service(&state, &identity, &input).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// A service with every version, newest first. Public.
#[utoipa::path(get, path = "/v1/sit/services/{code}", tag = "sit", params(("code" = String, Path)),
    responses((status = 200, body = ServiceDetail)))]
pub async fn get_service(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<ServiceDetail>, AppError> {
    Ok(Json(ops::service_detail(&state, code).await?))
}

/// Changes a service: a new version, the previous ones kept.
#[utoipa::path(put, path = "/v1/sit/services/{code}", tag = "sit", params(("code" = String, Path)), request_body = ServiceInput, security(("bearer" = [])),
    responses((status = 200, body = ServiceView),
              (status = 409, description = "The service was withdrawn"),
              (status = 422, description = "Invalid fields, each named in `errors`")))]
pub async fn update_service(
    State(state): State<AppState>,
    identity: Identity,
    Path(code): Path<String>,
    Json(input): Json<ServiceInput>,
) -> Result<Json<ServiceView>, AppError> {
    Ok(Json(
        ops::update_service(&state, &identity, code, &input).await?,
    ))
}

/// One version of a service as it was. Public.
#[utoipa::path(get, path = "/v1/sit/services/{code}/versions/{version}", tag = "sit",
    params(("code" = String, Path), ("version" = i64, Path)),
    responses((status = 200, body = VersionView)))]
pub async fn get_service_version(
    State(state): State<AppState>,
    Path((code, version)): Path<(String, i64)>,
) -> Result<Json<VersionView>, AppError> {
    Ok(Json(ops::service_version(&state, code, version).await?))
}

/// Withdraws a service: it stays readable, its subscribers are told on their dashboard, new
/// subscriptions are refused.
#[utoipa::path(post, path = "/v1/sit/services/{code}/withdrawal", tag = "sit", params(("code" = String, Path)), request_body = WithdrawInput, security(("bearer" = [])),
    responses((status = 200, body = ServiceView),
              (status = 409, description = "Already withdrawn")))]
pub async fn withdraw_service(
    State(state): State<AppState>,
    identity: Identity,
    Path(code): Path<String>,
    Json(input): Json<WithdrawInput>,
) -> Result<Json<ServiceView>, AppError> {
    Ok(Json(
        ops::withdraw_service(&state, &identity, code, &input).await?,
    ))
}

/// Query of a fee.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FeeQuery {
    /// The Comune's ISTAT code.
    pub comune: String,
}

/// The yearly fee of a service for a Comune (the fee per inhabitant uses the ISTAT resident
/// population) and whether the Comune may use it. Public.
#[utoipa::path(get, path = "/v1/sit/services/{code}/fee", tag = "sit", params(("code" = String, Path), FeeQuery),
    responses((status = 200, body = FeeView),
              (status = 422, description = "Not a Comune of this Province")))]
pub async fn get_service_fee(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(query): Query<FeeQuery>,
) -> Result<Json<FeeView>, AppError> {
    Ok(Json(ops::service_fee(&state, code, query.comune).await?))
}

/// Query of the subscriptions.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionQuery {
    /// Only those of this service (its code).
    pub service: Option<String>,
}

/// The subscriptions the caller may see (a Comune its own, SIT staff all), newest first, on
/// one page.
#[utoipa::path(get, path = "/v1/sit/subscriptions", tag = "sit", params(SubscriptionQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<SubscriptionView>),
              (status = 404, description = "Unknown service")))]
pub async fn list_subscriptions(
    State(state): State<AppState>,
    identity: Identity,
    Query(query): Query<SubscriptionQuery>,
) -> Result<Json<Page<SubscriptionView>>, AppError> {
    let items = ops::list_subscriptions(&state, &identity, query.service).await?;
    Ok(Json(Page { items, next: None }))
}

/// A Comune user asks to subscribe its Comune to a service.
#[utoipa::path(post, path = "/v1/sit/subscriptions", tag = "sit", request_body = NewSubscription, security(("bearer" = [])),
    responses((status = 201, body = SubscriptionView),
              (status = 403, description = "Not a Comune user"),
              (status = 409, description = "Already subscribed, or the service was withdrawn"),
              (status = 422, description = "Unknown service, or the Comune is above its population threshold")))]
pub async fn create_subscription(
    State(state): State<AppState>,
    identity: Identity,
    Json(input): Json<NewSubscription>,
) -> Result<(StatusCode, Json<SubscriptionView>), AppError> {
    let view = ops::create_subscription(&state, &identity, &input).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// A subscription with its history and the caller's possible moves.
#[utoipa::path(get, path = "/v1/sit/subscriptions/{id}", tag = "sit", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = SubscriptionDetail)))]
pub async fn get_subscription(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Json<SubscriptionDetail>, AppError> {
    Ok(Json(ops::subscription_detail(&state, &identity, id).await?))
}

/// Moves a subscription: accept (agreement reference and start date), decline, suspend,
/// resume or end (with a reason).
#[utoipa::path(post, path = "/v1/sit/subscriptions/{id}/transitions", tag = "sit", params(("id" = i64, Path)), request_body = NewSubscriptionTransition, security(("bearer" = [])),
    responses((status = 200, body = SubscriptionDetail),
              (status = 409, description = "A move the lifecycle does not have, or a stale state")))]
pub async fn create_subscription_transition(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<NewSubscriptionTransition>,
) -> Result<Json<SubscriptionDetail>, AppError> {
    Ok(Json(
        ops::transition_subscription(&state, &identity, id, &input).await?,
    ))
}

/// The requests of a subscription, each measured against the service's promised levels
/// (time to first answer and to resolution, breaches flagged).
#[utoipa::path(get, path = "/v1/sit/subscriptions/{id}/requests", tag = "sit", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Page<RequestMeasure>)))]
pub async fn list_subscription_requests(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Json<Page<RequestMeasure>>, AppError> {
    let items = ops::subscription_requests(&state, &identity, id).await?;
    Ok(Json(Page { items, next: None }))
}

/// Opens a request inside an active subscription (a Help Desk request of the Comune).
#[utoipa::path(post, path = "/v1/sit/subscriptions/{id}/requests", tag = "sit", params(("id" = i64, Path)), request_body = NewSubscriptionRequest, security(("bearer" = [])),
    responses((status = 201, body = RequestMeasure),
              (status = 409, description = "The subscription is not active")))]
pub async fn create_subscription_request(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
    Json(input): Json<NewSubscriptionRequest>,
) -> Result<(StatusCode, Json<RequestMeasure>), AppError> {
    let view = ops::open_subscription_request(&state, &identity, id, &input).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// A Comune's digital picture: national platforms in use and PNRR measures.
#[utoipa::path(get, path = "/v1/sit/comuni/{code}/picture", tag = "sit", params(("code" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = PictureView)))]
pub async fn get_digital_picture(
    State(state): State<AppState>,
    identity: Identity,
    Path(code): Path<String>,
) -> Result<Json<PictureView>, AppError> {
    Ok(Json(ops::picture(&state, &identity, code).await?))
}

/// Replaces a Comune's digital picture (SIT staff).
#[utoipa::path(put, path = "/v1/sit/comuni/{code}/picture", tag = "sit", params(("code" = String, Path)), request_body = PictureInput, security(("bearer" = [])),
    responses((status = 200, body = PictureView)))]
pub async fn update_digital_picture(
    State(state): State<AppState>,
    identity: Identity,
    Path(code): Path<String>,
    Json(input): Json<PictureInput>,
) -> Result<Json<PictureView>, AppError> {
    Ok(Json(
        ops::update_picture(&state, &identity, code, &input).await?,
    ))
}

/// Coverage of the national platforms across the Province's Comuni: share of Comuni and of
/// residents (ISTAT) per platform.
#[utoipa::path(get, path = "/v1/sit/coverage", tag = "sit", security(("bearer" = [])),
    responses((status = 200, body = Vec<CoverageRow>)))]
pub async fn get_coverage(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Json<Vec<CoverageRow>>, AppError> {
    policy::authorize(&identity, Action::ViewReports)?;
    Ok(Json(ops::coverage(&state).await?))
}
