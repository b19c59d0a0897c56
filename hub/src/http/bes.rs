//! The public API of ISTAT's BES dei territori: the domains, the indicators, an indicator
//! across every Province (with its ranking), a Province's profile; JSON or CSV.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use pico_service::Json;
use pico_service::json::{Path, Query};

use crate::bes::{
    self, DomainsView, IndicatorsParams, IndicatorsView, ProfileParams, ProfileView, RankingView,
    ValuesParams,
};
use crate::error::HubError;
use crate::http::json_or_csv;
use crate::state::AppState;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/bes/domains", get(list_domains))
        .route("/v1/bes/indicators", get(list_indicators))
        .route("/v1/bes/indicators/{code}", get(get_indicator))
        .route("/v1/bes/provinces/{code}", get(get_profile))
}

/// The domains of the BES (Salute, Istruzione e formazione…) with how many indicators each
/// has, in the latest edition held.
#[utoipa::path(get, path = "/v1/bes/domains", tag = "national",
    responses(
        (status = 200, description = "The domains, by number (none when no edition was imported)", body = DomainsView)))]
pub async fn list_domains(State(state): State<AppState>) -> Result<Json<DomainsView>, HubError> {
    let view = state.db.call(|conn| bes::domains(conn)).await?;
    Ok(Json(view))
}

/// The indicators of the latest edition in ISTAT's order, with unit, source, type, definition
/// and notes; `domain` keeps one domain's.
#[utoipa::path(get, path = "/v1/bes/indicators", tag = "national", params(IndicatorsParams),
    responses(
        (status = 200, description = "The indicators (none when no edition was imported)", body = IndicatorsView),
        (status = 400, description = "A parameter is wrong; `detail` says which and why")))]
pub async fn list_indicators(
    State(state): State<AppState>,
    Query(params): Query<IndicatorsParams>,
) -> Result<Json<IndicatorsView>, HubError> {
    let domain = params
        .domain
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty());
    let view = state
        .db
        .call(move |conn| bes::indicators(conn, domain.as_deref()))
        .await?;
    Ok(Json(view))
}

/// An indicator across every Province for a year and sex (defaults: the total, the latest year
/// with a provincial value): each Province's value and place (highest first, equal values
/// sharing it; ISTAT gives no polarity), the regions' and Italy's values, the years and sexes
/// available. With `format=csv`, one line per Province.
#[utoipa::path(get, path = "/v1/bes/indicators/{code}", tag = "national",
    params(("code" = String, Path, description = "ISTAT's code of the indicator, e.g. `10AMB017`"), ValuesParams),
    responses(
        (status = 200, description = "The indicator's values by Province; with `format=csv`, one line per Province",
            content((RankingView = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A parameter is wrong, or the indicator has no provincial value for that year or sex; `detail` says which there are"),
        (status = 404, description = "No indicator has this code (or no edition was imported)")))]
pub async fn get_indicator(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(params): Query<ValuesParams>,
) -> Result<Response, HubError> {
    let (year, sex, format) = params.parse()?;
    let view: RankingView = state
        .db
        .call(move |conn| bes::ranking(conn, &code, year, sex))
        .await?;
    Ok(json_or_csv(
        format,
        view,
        RankingView::file_name,
        RankingView::to_csv,
    ))
}

/// A Province's profile: every indicator with a value for it, its region or Italy, by sex,
/// every year, each year with the three values side by side. With `format=csv`, one line per
/// indicator, sex and year.
#[utoipa::path(get, path = "/v1/bes/provinces/{code}", tag = "national",
    params(("code" = String, Path, description = "Historical ISTAT code of the Province, e.g. `026`"), ProfileParams),
    responses(
        (status = 200, description = "The Province's profile; with `format=csv`, one line per indicator, sex and year",
            content((ProfileView = "application/json"), (String = "text/csv"))),
        (status = 400, description = "The code is not three digits, or a parameter is wrong"),
        (status = 404, description = "No Province of the BES has this code (or no edition was imported)")))]
pub async fn get_profile(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(params): Query<ProfileParams>,
) -> Result<Response, HubError> {
    let format = crate::query::format(
        params.format.as_ref(),
        params.sep.as_ref(),
        params.bom.as_ref(),
    )?;
    let view: ProfileView = state.db.call(move |conn| bes::profile(conn, &code)).await?;
    Ok(json_or_csv(
        format,
        view,
        ProfileView::file_name,
        ProfileView::to_csv,
    ))
}
