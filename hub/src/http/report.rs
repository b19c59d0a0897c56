//! The report on the Provinces' information assets as data (`crate::report`): JSON, or CSV
//! with `format=csv`.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use pico_service::json::Query;
use pico_service::{Json, Problem};

use crate::error::HubError;
use crate::report::{self, Report};
use crate::state::AppState;

/// Where the API serves the report.
pub const PATH: &str = "/v1/dati/rapporto";

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(get_report))
}

/// Computes the report now.
pub async fn current(state: &AppState) -> Result<Report, HubError> {
    let (units, published) = state
        .db
        .call(|conn| {
            Ok::<_, HubError>((
                crate::db::report::units(conn)?,
                crate::db::report::published(conn)?,
            ))
        })
        .await?;
    Ok(report::build(&units, &published, crate::db::now_unix()))
}

/// The report on the Provinces' information assets: per Province, by region and nationally.
#[utoipa::path(get, path = "/v1/dati/rapporto", tag = "national",
    params(("format" = Option<String>, Query, description = "`json` (default) or `csv` (one line per Province, Italian headers)")),
    responses(
        (status = 200, description = "the report, computed from what the hub holds now",
            content((Report = "application/json"), (String = "text/csv"))),
        (status = 400, description = "`invalid_query`: an unknown parameter or format")))]
pub async fn get_report(
    State(state): State<AppState>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Response, HubError> {
    if let Some(unknown) = params.keys().find(|k| k.as_str() != "format") {
        return Err(Problem::bad_request(
            "invalid_query",
            format!("parametro {unknown:?} sconosciuto: il rapporto accetta solo format"),
        )
        .into());
    }
    let csv = match params.get("format").map(String::as_str) {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(Problem::bad_request(
                "invalid_query",
                format!("formato {other:?} sconosciuto: usate json oppure csv"),
            )
            .into());
        }
    };
    let report = current(&state).await?;
    if !csv {
        return Ok(Json(report).into_response());
    }
    let body = report::csv(&report).map_err(|error| {
        tracing::error!(%error, "writing the report's CSV failed");
        HubError::Problem(Problem::internal())
    })?;
    Ok(pico_service::download::csv(
        "rapporto-patrimonio-informativo.csv",
        body,
    ))
}
