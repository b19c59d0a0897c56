//! The public API of the SIT national view: what each Province offers, the coverage of the
//! national platforms by Province or region, and the national catalogue searched across every
//! Province; JSON or CSV.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use pico_service::json::Query;

use crate::db::sit::{self, Contributor};
use crate::error::HubError;
use crate::http::json_or_csv;
use crate::sit::{CatalogueView, CoverageBy, CoverageView, OffersView, Params};
use crate::state::AppState;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/sit/provinces", get(list_offers))
        .route("/v1/sit/coverage", get(get_coverage))
        .route("/v1/sit/services", get(list_services))
}

/// Every Province that publishes SIT data, with its holdings, after checking that `region`
/// names one of ISTAT's regions (an unknown region is a 400, not an empty table).
pub async fn load(state: &AppState, region: Option<String>) -> Result<Vec<Contributor>, HubError> {
    state
        .db
        .call(move |conn| {
            crate::query::check_region(conn, region.as_deref())?;
            Ok::<_, HubError>(sit::contributors(conn)?)
        })
        .await
}

/// Which services each Province offers its Comuni (withdrawn ones left out), with how many
/// Comuni subscribe to each and their residents, from the `sit_servizi` rows. With
/// `format=csv`, one line per Province and service.
#[utoipa::path(get, path = "/v1/sit/provinces", tag = "national", params(Params),
    responses(
        (status = 200, description = "The Provinces' offer, by Province code; with `format=csv`, one line per Province and service",
            content((OffersView = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A parameter is wrong or does not apply; `detail` says which and why")))]
pub async fn list_offers(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> Result<Response, HubError> {
    params.refuse(
        &["by", "province", "q", "category", "withdrawn"],
        "/v1/sit/provinces",
    )?;
    let format = params.format()?;
    let region = params.region();
    let contributors = load(&state, region.clone()).await?;
    let view = OffersView::of(&contributors, region.as_deref());
    let filename = |_: &OffersView| "sit-servizi-per-provincia.csv".to_owned();
    Ok(json_or_csv(format, view, filename, OffersView::to_csv))
}

/// The coverage of the national platforms (SPID, CIE, pagoPA, App IO, ANPR, PDND, qualified
/// cloud): for each Province (or region, `by=region`) and for the nation, the Comuni and
/// residents that use each, and their shares of the Comuni and residents of the Provinces
/// that publish `sit_quadro_digitale`. With `format=csv`, one line per group and platform.
#[utoipa::path(get, path = "/v1/sit/coverage", tag = "national", params(Params),
    responses(
        (status = 200, description = "The coverage by group, and the national total; with `format=csv`, one line per group and platform",
            content((CoverageView = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A parameter is wrong or does not apply; `detail` says which and why")))]
pub async fn get_coverage(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> Result<Response, HubError> {
    params.refuse(
        &["province", "q", "category", "withdrawn"],
        "/v1/sit/coverage",
    )?;
    let by = params.coverage_by()?;
    let format = params.format()?;
    let region = params.region();
    let contributors = load(&state, region.clone()).await?;
    let view = CoverageView::of(&contributors, by, region.as_deref());
    let filename = |_: &CoverageView| match by {
        CoverageBy::Province => "sit-copertura-per-provincia.csv".to_owned(),
        CoverageBy::Region => "sit-copertura-per-regione.csv".to_owned(),
    };
    Ok(json_or_csv(format, view, filename, CoverageView::to_csv))
}

/// The national catalogue of the Provinces' services, searchable across every Province: `q`
/// finds words in the name, category or Province, `category`, `region` and `province` filter;
/// withdrawn services only with `withdrawn=1`. With `format=csv`, one line per service.
#[utoipa::path(get, path = "/v1/sit/services", tag = "national", params(Params),
    responses(
        (status = 200, description = "The services found, by Province and name; with `format=csv`, one line per service",
            content((CatalogueView = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A parameter is wrong or does not apply; `detail` says which and why")))]
pub async fn list_services(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> Result<Response, HubError> {
    params.refuse(&["by"], "/v1/sit/services")?;
    let query = params.catalogue()?;
    let format = params.format()?;
    let contributors = load(&state, query.region.clone()).await?;
    let view = CatalogueView::of(&contributors, &query);
    let filename = |_: &CatalogueView| "sit-catalogo-nazionale.csv".to_owned();
    Ok(json_or_csv(format, view, filename, CatalogueView::to_csv))
}
