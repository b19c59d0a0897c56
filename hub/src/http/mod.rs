//! The hub's HTTP API: every route group, merged in one place, and its OpenAPI document.

pub mod federation;
pub mod log;
pub mod national;
pub mod operator;

use axum::Router;
use axum::routing::get;
use pico_service::Json;
use utoipa::OpenApi;

use crate::state::AppState;

/// The OpenAPI 3 description of the public and federation API.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Pi.Co. UPI hub", description = "Federation ingest, transparency log and national read API of the Pi.Co. federation."),
    paths(
        federation::get_federation, federation::push_entries, federation::get_node_head,
        federation::get_receipt, federation::upload_attachment,
        log::get_checkpoint, log::list_checkpoints, log::get_inclusion_proof, log::get_consistency_proof,
        national::list_provinces, national::list_datasets, national::list_rows,
        national::get_aggregates, national::search_practices, national::get_attachment,
    ),
    components(schemas(pico_service::ProblemDocument)),
    tags(
        (name = "federation", description = "What nodes call: push entries, read their head and receipts."),
        (name = "log", description = "The transparency log: checkpoints and proofs."),
        (name = "national", description = "The public national view."),
    )
)]
pub struct ApiDoc;

/// Serves the OpenAPI document.
pub async fn get_openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// Every API route of the hub.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(federation::router())
        .merge(log::router())
        .merge(national::router())
        .merge(operator::router())
        .route("/v1/openapi.json", get(get_openapi))
}
