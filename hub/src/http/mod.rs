//! The hub's HTTP API: every route group, merged in one place, and its OpenAPI document.

pub mod appalti;
pub mod bes;
pub mod bulk;
pub mod catalogue;
pub mod federation;
pub mod formazione;
pub mod log;
pub mod national;
pub mod networks;
pub mod node_auth;
pub mod operator;
pub mod report;
pub mod sape;
pub mod sit;

use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use pico_protocol::ProvinceCode;
use pico_service::csv::Separator;
use pico_service::openapi::ProblemResponses;
use pico_service::{Json, Problem};
use utoipa::OpenApi;

use crate::query::Format;
use crate::state::AppState;

/// The OpenAPI 3 description of the public and federation API.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Pi.Co. UPI hub", description = "Federation ingest, transparency log and national read API of the Pi.Co. federation."),
    paths(
        federation::get_federation, federation::push_entries, federation::get_node_head,
        federation::get_receipt, federation::upload_attachment, federation::download_attachment,
        networks::list_networks, networks::join_network, networks::leave_network,
        networks::get_inbox, networks::list_federation_keys,
        log::get_checkpoint, log::list_checkpoints, log::get_inclusion_proof, log::get_consistency_proof,
        national::list_provinces, national::list_datasets, national::list_rows,
        national::get_aggregates, national::search_practices, national::get_attachment,
        bulk::download_csv, bulk::download_parquet, report::get_report,
        catalogue::get_catalogue, catalogue::get_catalogue_turtle, catalogue::get_catalogue_rdf_xml, catalogue::get_catalogue_json_ld,
        appalti::get_summary, appalti::list_comuni,
        sape::get_summary, sape::list_comuni, sape::list_projects,
        bes::list_domains, bes::list_indicators, bes::get_indicator, bes::get_profile,
        formazione::get_targets, formazione::set_targets, formazione::get_progress, formazione::list_courses,
        sit::list_offers, sit::get_coverage, sit::list_services,
        operator::list_keys, operator::enrol_key, operator::revoke_key, operator::list_equivocations,
    ),
    components(schemas(pico_service::ProblemDocument)),
    modifiers(&SecuritySchemes, &UNIFORM_PROBLEMS),
    tags(
        (name = "federation", description = "What nodes call: push entries, read their head and receipts."),
        (name = "networks", description = "Thematic networks: membership, the inbox nodes pull, the key directory to verify posts."),
        (name = "log", description = "The transparency log: checkpoints and proofs."),
        (name = "national", description = "The public national view."),
        (name = "operator", description = "The hub's operators (bearer token): keys, enrolments, revocations, equivocations. 404 when no operator token is configured."),
    )
)]
pub struct ApiDoc;

/// The problems every hub operation can answer; one operator token opens everything it guards.
const UNIFORM_PROBLEMS: ProblemResponses = ProblemResponses::ONE_CREDENTIAL;

/// The bytes of a file, in the OpenAPI document.
#[derive(Debug, utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileBytes(pub Vec<u8>);

/// Declares how node and operator requests authenticate.
struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "pico_signature",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`Pico-Signature <jws-compact>`: a compact JWS (typ pico-request) by the node's key over \
                 {iat, method, nonce, path, province, v}; see protocol/SPEC.md §11.1",
            ))),
        );
        components.add_security_scheme(
            "operator",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document as checked in: the test `openapi_document_is_in_sync` keeps `hub/openapi.json`
/// equal to [`ApiDoc`]. Building it at run time walks every schema, too much work (and
/// garbage the allocator keeps resident) for what never changes; served from the binary, it
/// costs nothing.
static OPENAPI_JSON: &[u8] = include_bytes!("../../openapi.json");

/// Serves the OpenAPI document.
pub async fn get_openapi() -> axum::response::Response {
    axum::response::IntoResponse::into_response((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        axum::body::Bytes::from_static(OPENAPI_JSON),
    ))
}

/// A national view as JSON or, with `format=csv`, as the download `filename(&view)` of the
/// file `to_csv` writes.
pub(crate) fn json_or_csv<V: serde::Serialize>(
    format: Format,
    view: V,
    filename: impl FnOnce(&V) -> String,
    to_csv: impl FnOnce(&V, Separator, bool) -> Result<Vec<u8>, csv::Error>,
) -> Response {
    match format {
        Format::Json => Json(view).into_response(),
        Format::Csv(sep, bom) => csv_response(to_csv(&view, sep, bom), &filename(&view)),
    }
}

/// The CSV download, or a 500 (logged here) if the file could not be written.
pub(crate) fn csv_response(body: Result<Vec<u8>, csv::Error>, filename: &str) -> Response {
    match body {
        Ok(body) => pico_service::download::csv(filename, body),
        Err(err) => {
            tracing::error!(error = %err, "writing a CSV export failed");
            Problem::internal().into_response()
        }
    }
}

/// A Province code given by the caller; anything else is a 400 `invalid_province`.
pub(crate) fn parse_province(text: &str) -> Result<ProvinceCode, Problem> {
    ProvinceCode::parse(text).map_err(|e| Problem::bad_request("invalid_province", e.to_string()))
}

/// The SHA-256 that ends a file's address (`/v1/…/attachments/{sha256}`); anything else is a
/// 400 `invalid_hash`.
pub(crate) fn parse_sha256(text: &str) -> Result<pico_protocol::Hash32, Problem> {
    text.parse().map_err(|_| {
        Problem::bad_request(
            "invalid_hash",
            "l'indirizzo deve terminare con uno SHA-256 in esadecimale",
        )
    })
}

/// Every API route of the hub.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(appalti::router())
        .merge(bes::router())
        .merge(bulk::router())
        .merge(catalogue::router())
        .merge(federation::router())
        .merge(formazione::router())
        .merge(log::router())
        .merge(national::router())
        .merge(networks::router())
        .merge(operator::router())
        .merge(report::router())
        .merge(sape::router())
        .merge(sit::router())
        .route("/v1/openapi.json", get(get_openapi))
}
