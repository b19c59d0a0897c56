//! The public API of the national view of EU funds: the SAPE proposals' figures by
//! Province, region, programme or year, the Comuni taking part, and the funded projects with
//! their partners; JSON or CSV.

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use pico_service::json::Query;
use pico_service::{Json, Problem};

use crate::db::sape::{self, Filter};
use crate::error::HubError;
use crate::http::{csv_response, json_or_csv};
use crate::sape::{
    ATTRIBUTION, ComuneView, ComuniView, Format, Params, ProjectParams, ProjectRequest,
    ProjectView, ProjectsPage, Request, SummaryView, projects_csv,
};
use crate::state::AppState;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/sape/summary", get(get_summary))
        .route("/v1/sape/comuni", get(list_comuni))
        .route("/v1/sape/projects", get(list_projects))
}

/// Refuses a Province code that is well formed but not in ISTAT's list, and a region that
/// names none of ISTAT's regions, rather than answering with an empty table.
pub fn check_filter(conn: &rusqlite::Connection, filter: &Filter) -> Result<(), HubError> {
    crate::query::check_province(conn, filter.province.as_deref())?;
    crate::query::check_region(conn, filter.region.as_deref())
}

/// Loads a summary (shared with the page).
pub async fn load_summary(state: &AppState, request: Request) -> Result<SummaryView, HubError> {
    state
        .db
        .call(move |conn| {
            check_filter(conn, &request.filter)?;
            let summary = sape::summary(conn, request.group, &request.filter)?;
            Ok::<_, HubError>(SummaryView::of(&summary, request.group, &request.filter))
        })
        .await
}

/// Loads the Comuni partners (shared with the page).
pub async fn load_comuni(state: &AppState, filter: Filter) -> Result<ComuniView, HubError> {
    state
        .db
        .call(move |conn| {
            check_filter(conn, &filter)?;
            let partners = sape::comuni(conn, &filter)?;
            Ok::<_, HubError>(ComuniView {
                year: filter.year,
                region: filter.region,
                province: filter.province,
                programme: filter.programme,
                items: partners.iter().map(ComuneView::of).collect(),
                attribution: ATTRIBUTION,
            })
        })
        .await
}

/// Loads a page of funded projects (shared with the page): `(total, projects)`.
pub async fn load_projects(
    state: &AppState,
    request: &ProjectRequest,
) -> Result<(usize, Vec<ProjectView>), HubError> {
    let request = request.clone();
    state
        .db
        .call(move |conn| {
            check_filter(conn, &request.filter)?;
            let name = |code: &str| crate::appalti::comune_name(code).unwrap_or("").to_owned();
            let (total, projects) = sape::funded_projects(
                conn,
                &request.filter,
                &request.q,
                &name,
                request.offset,
                request.limit,
            )?;
            Ok::<_, HubError>((total, projects.iter().map(ProjectView::of).collect()))
        })
        .await
}

/// Proposals, submitted, evaluated and funded, success rate (funded over evaluated) and the
/// EU contribution requested and obtained (the Comuni's part apart), grouped as asked, over
/// the `sape_progetti` rows every Province federates (one row per proposal and partner). With
/// `format=csv`, one line per group.
#[utoipa::path(get, path = "/v1/sape/summary", tag = "national", params(Params),
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
    Ok(json_or_csv(
        format,
        view,
        SummaryView::file_name,
        SummaryView::to_csv,
    ))
}

/// The Comuni taking part in each Province's proposals (partners whose `comune` is set), with
/// their proposals, the funded ones and their own part of the EU contribution; the filters of
/// the summary; `format=csv`.
#[utoipa::path(get, path = "/v1/sape/comuni", tag = "national", params(Params),
    responses(
        (status = 200, description = "The Comuni partners, by Province and code; with `format=csv`, one line per Comune",
            content((ComuniView = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A parameter is wrong; `detail` says which and why")))]
pub async fn list_comuni(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> Result<Response, HubError> {
    if params.group.is_some() {
        return Err(Problem::bad_request(
            "invalid_query",
            "group vale solo per /v1/sape/summary: l'elenco dei Comuni è per Provincia e Comune",
        )
        .into());
    }
    let request = params.parse()?;
    let format = request.format;
    let view = load_comuni(&state, request.filter).await?;
    Ok(json_or_csv(
        format,
        view,
        ComuniView::file_name,
        ComuniView::to_csv,
    ))
}

/// The funded projects with their partners (the Province, its Comuni with their names, the
/// other partners with their country), newest year first; filters as the summary, `q` finds
/// words in the acronym, title, call or partners. Pages of `limit` with a `next` cursor; with
/// `format=csv`, every matching project in one file, one line per partner.
#[utoipa::path(get, path = "/v1/sape/projects", tag = "national", params(ProjectParams),
    responses(
        (status = 200, description = "A page of funded projects; with `format=csv`, all of them, one line per partner",
            content((ProjectsPage = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A parameter or the cursor is wrong; `detail` says which and why")))]
pub async fn list_projects(
    State(state): State<AppState>,
    Query(params): Query<ProjectParams>,
) -> Result<Response, HubError> {
    let mut request = params.parse()?;
    if let Format::Csv(sep, bom) = request.format {
        if params.cursor.is_some() || params.limit.is_some() {
            return Err(Problem::bad_request(
                "invalid_query",
                "limit e cursor valgono per le pagine JSON: format=csv dà tutti i progetti trovati",
            )
            .into());
        }
        request.offset = 0;
        request.limit = usize::MAX;
        let (_, projects) = load_projects(&state, &request).await?;
        let name = match &request.filter.province {
            Some(province) => format!("sape-progetti-finanziati-{province}.csv"),
            None => "sape-progetti-finanziati.csv".to_owned(),
        };
        return Ok(csv_response(projects_csv(&projects, sep, bom), &name));
    }
    let (total, items) = load_projects(&state, &request).await?;
    let end = request.offset.saturating_add(items.len());
    let next = (end < total).then(|| pico_service::page::encode_cursor(&(end as u64)));
    Ok(Json(ProjectsPage {
        total: total as u64,
        items,
        next,
        attribution: ATTRIBUTION,
    })
    .into_response())
}
