//! The public API of the national procurement view: figures of the SUA procedures by
//! Province, region, procedure type, CPV division, year, month, contract type or state, and
//! the Comuni each Province's SUA served; JSON or CSV.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use pico_service::Problem;
use pico_service::json::Query;

use crate::appalti::{ATTRIBUTION, ComuneView, ComuniView, Params, Request, SummaryView};
use crate::db::appalti;
use crate::error::HubError;
use crate::http::json_or_csv;
use crate::state::AppState;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/appalti/summary", get(get_summary))
        .route("/v1/appalti/comuni", get(list_comuni))
}

/// Loads a summary (shared with the page).
pub async fn load_summary(state: &AppState, request: Request) -> Result<SummaryView, HubError> {
    state
        .db
        .call(move |conn| {
            crate::query::check_province(conn, request.filter.province.as_deref())?;
            let summary = appalti::summary(conn, request.group, &request.filter)?;
            Ok::<_, HubError>(SummaryView::of(&summary, request.group, &request.filter))
        })
        .await
}

/// Loads the Comuni served (shared with the page).
pub async fn load_comuni(state: &AppState, request: Request) -> Result<ComuniView, HubError> {
    state
        .db
        .call(move |conn| {
            crate::query::check_province(conn, request.filter.province.as_deref())?;
            let served = appalti::comuni(conn, &request.filter)?;
            Ok::<_, HubError>(ComuniView {
                year: request.filter.year,
                province: request.filter.province,
                items: served.iter().map(ComuneView::of).collect(),
                attribution: ATTRIBUTION,
            })
        })
        .await
}

/// Number and value of the SUA procedures, PNRR share, mean ribasso and mean duration,
/// grouped as asked, over the `appalti` rows every Province federates (one row per lot).
/// With `format=csv`, one line per group.
#[utoipa::path(get, path = "/v1/appalti/summary", tag = "national", params(Params),
    responses(
        (status = 200, description = "The figures by group, and the total; with `format=csv`, one line per group",
            content((SummaryView = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A parameter is wrong; `detail` says which and why")))]
pub async fn get_summary(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> Result<Response, HubError> {
    let request = params.parse()?;
    let format = request.format;
    let view = load_summary(&state, request).await?;
    let filename = |view: &SummaryView| {
        let mut name = format!("appalti-{}", view.group);
        if let Some(province) = &view.province {
            name.push_str(&format!("-{province}"));
        }
        if let Some(year) = view.year {
            name.push_str(&format!("-{year}"));
        }
        format!("{name}.csv")
    };
    Ok(json_or_csv(format, view, filename, SummaryView::to_csv))
}

/// The Comuni each Province's SUA served (from the rows' `comuni`, or the lead `comune`),
/// with their procedures, lots and value; `province` and `year` filter; `format=csv`.
#[utoipa::path(get, path = "/v1/appalti/comuni", tag = "national", params(Params),
    responses(
        (status = 200, description = "The Comuni served, by Province and code; with `format=csv`, one line per Comune",
            content((ComuniView = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A parameter is wrong; `detail` says which and why")))]
pub async fn list_comuni(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> Result<Response, HubError> {
    if params.group.is_some() {
        return Err(Problem::bad_request(
            "invalid_query",
            "group vale solo per /v1/appalti/summary: l'elenco dei Comuni è per Provincia e Comune",
        )
        .into());
    }
    let request = params.parse()?;
    let format = request.format;
    let view = load_comuni(&state, request).await?;
    let filename = |view: &ComuniView| match &view.province {
        Some(province) => format!("appalti-comuni-{province}.csv"),
        None => "appalti-comuni.csv".to_owned(),
    };
    Ok(json_or_csv(format, view, filename, ComuniView::to_csv))
}
