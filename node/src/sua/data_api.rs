//! The SUA data API: imports of OCDS compiled releases and CSV files, reports (JSON and
//! CSV), the public OCDS export `GET /v1/sua/ocds` and the per-procedure export.
//!
//! Limits: an import body is at most [`IMPORT_BODY_LIMIT`] (larger files, such as ANAC's
//! yearly bulk files, go through `pico-node sua import`, which streams them); an OCDS page
//! holds at most [`OCDS_MAX_PAGE`] releases ([`OCDS_DEFAULT_PAGE`] by default).

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use pico_service::http::body_limit;
use pico_service::json::{Path, Query};
use pico_service::openapi::FileBytes;
use pico_service::page::decode_cursor;
use pico_service::{Json, Page, PageParams, Problem, ProblemDocument};
use serde::{Deserialize, Serialize};

use super::import::{self, ImportError, ImportFormat, ImportReport};
use super::reports::{Report, ReportQuery};
use crate::auth::Identity;
use crate::db;
use crate::error::AppError;
use crate::state::AppState;
use crate::sua::db::data as sua_data;
use crate::sua::policy::{self, Action};

/// Largest import body: 32 MiB, about 100,000 CSV lots or 4,000 ANAC releases.
pub const IMPORT_BODY_LIMIT: usize = 32 * 1024 * 1024;
/// Releases per OCDS page by default.
pub const OCDS_DEFAULT_PAGE: u32 = 100;
/// Largest OCDS page.
pub const OCDS_MAX_PAGE: u32 = 500;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/sua/imports",
            post(create_import)
                .get(list_imports)
                .layer(body_limit(IMPORT_BODY_LIMIT)),
        )
        .route("/v1/sua/imports/{id}", get(get_import))
        .route("/v1/sua/reports", get(get_report))
        .route("/v1/sua/reports/export.csv", get(export_report))
        .route("/v1/sua/ocds", get(list_ocds_releases))
        .route("/v1/sua/ocds/{id}", get(get_ocds_release))
}

impl From<ImportError> for AppError {
    fn from(error: ImportError) -> AppError {
        match error {
            ImportError::Malformed(detail) => AppError::from(
                Problem::from_status(StatusCode::UNPROCESSABLE_ENTITY)
                    .with_code("invalid_file")
                    .with_detail(format!("non è stato importato nulla: {detail}")),
            ),
            ImportError::Rows { errors, count } => {
                let detail = format!(
                    "non è stato importato nulla: {count} problemi nel file; il primo: {}",
                    errors.first().map(ToString::to_string).unwrap_or_default()
                );
                AppError::from(
                    Problem::from_status(StatusCode::UNPROCESSABLE_ENTITY)
                        .with_code("invalid_rows")
                        .with_detail(detail)
                        .with_extension("problems", count)
                        .with_extension("rows", serde_json::to_value(&errors).unwrap_or_default()),
                )
            }
            ImportError::Io(err) => AppError::Internal(err.to_string()),
            ImportError::Db(err) => AppError::from(err),
            ImportError::National(err) => err,
        }
    }
}

/// Query of an import.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `ocds` or `csv`; by default from the file name, then from the content (`{`/`[` is
    /// OCDS JSON).
    pub format: Option<String>,
    /// The file's name, kept with the batch.
    pub filename: Option<String>,
}

/// Runs an import for `identity` (API and page).
pub async fn run_import(
    state: &AppState,
    identity: &Identity,
    format: Option<&str>,
    filename: String,
    body: Bytes,
) -> Result<ImportReport, AppError> {
    policy::authorize(identity, Action::ManageProcedures)?;
    let format = match format.map(str::trim).filter(|f| !f.is_empty()) {
        Some(text) => ImportFormat::parse(text)
            .ok_or_else(|| AppError::invalid_field("format", "usate ocds o csv"))?,
        None => ImportFormat::detect(&filename, &body[..body.len().min(64)]),
    };
    if body.is_empty() {
        return Err(AppError::invalid_field("file", "il file è vuoto"));
    }
    let signer = state.signer.clone();
    let actor = identity.actor();
    let report = state
        .db
        .call(move |conn| {
            import::import(conn, &signer, &actor, format, &filename, &body[..])
                .map_err(AppError::from)
        })
        .await?;
    if report.counts.imported > 0 {
        // The national dataset may have queued entries.
        state.wake.notify();
    }
    Ok(report)
}

/// Imports procedures from an OCDS file (release package, record package, JSON array of
/// releases, JSON Lines) or a CSV file (one row per lot; columns in `node/README.md`), in
/// one transaction. Records already imported are skipped, so importing a file twice
/// imports nothing the second time.
#[utoipa::path(post, path = "/v1/sua/imports", tag = "sua", params(ImportQuery), security(("bearer" = [])),
    request_body(description = "The file, whatever its `Content-Type`: OCDS JSON or JSON Lines, or CSV (the format is \
        `format`, else guessed from `filename`, then from the content)",
        content((serde_json::Value = "application/json"), (FileBytes = "application/x-ndjson"), (FileBytes = "text/csv"))),
    responses((status = 200, body = ImportReport),
              (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 413, description = "Body over 32 MiB: use `pico-node sua import`", body = ProblemDocument, content_type = "application/problem+json"),
              (status = 422, description = "Invalid JSON (with its position) or bad CSV rows (with their lines): nothing imported", body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn create_import(
    State(state): State<AppState>,
    identity: Identity,
    Query(query): Query<ImportQuery>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<ImportReport>, AppError> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge
        } else {
            AppError::invalid_field("body", rejection.body_text())
        }
    })?;
    let filename = crate::upload::clean_filename(query.filename.as_deref().unwrap_or_default());
    let report = run_import(&state, &identity, query.format.as_deref(), filename, body).await?;
    Ok(Json(report))
}

/// An import batch as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportBatch {
    /// Id.
    pub id: i64,
    /// `ocds` or `csv`.
    pub format: String,
    /// File name.
    pub filename: String,
    /// SHA-256 of the file.
    pub sha256: String,
    /// Procedures imported.
    pub imported: i64,
    /// Records skipped.
    pub skipped: i64,
    /// Who imported it.
    pub actor: String,
    /// When (RFC 3339).
    pub at: String,
}

impl From<&sua_data::BatchRow> for ImportBatch {
    fn from(row: &sua_data::BatchRow) -> ImportBatch {
        ImportBatch {
            id: row.id,
            format: row.format.clone(),
            filename: row.filename.clone(),
            sha256: row.sha256.clone(),
            imported: row.imported,
            skipped: row.skipped,
            actor: row.actor.clone(),
            at: db::rfc3339(row.at),
        }
    }
}

/// Import batches, newest first (SUA staff).
#[utoipa::path(get, path = "/v1/sua/imports", tag = "sua", params(PageParams), security(("bearer" = [])),
    responses((status = 200, body = Page<ImportBatch>),
              (status = 403, body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn list_imports(
    State(state): State<AppState>,
    identity: Identity,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<ImportBatch>>, AppError> {
    policy::authorize(&identity, Action::ManageProcedures)?;
    let before: Option<i64> = page.cursor()?;
    let limit = page.limit();
    let rows = state
        .db
        .call(move |conn| sua_data::batches(conn, before, limit + 1).map_err(AppError::from))
        .await?;
    let items = rows.iter().map(ImportBatch::from).collect();
    Ok(Json(Page::from_overfetch(
        items,
        limit,
        |b: &ImportBatch| b.id,
    )))
}

/// The report of one import batch (SUA staff).
#[utoipa::path(get, path = "/v1/sua/imports/{id}", tag = "sua", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = ImportReport),
              (status = 404, body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn get_import(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    policy::authorize(&identity, Action::ManageProcedures)?;
    let batch = state
        .db
        .call(move |conn| sua_data::batch(conn, id).map_err(AppError::from))
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], batch.report).into_response())
}

/// Computes a report for `identity` (API and page).
pub async fn report_for(
    state: &AppState,
    identity: &Identity,
    query: &ReportQuery,
) -> Result<Report, AppError> {
    let filter = query.to_filter(identity)?;
    let rows = state
        .db
        .call(move |conn| sua_data::report(conn, &filter).map_err(AppError::from))
        .await?;
    Ok(Report::from_sums(&rows))
}

/// Per Comune and year: procedures, estimated and awarded amounts, average ribasso, average
/// days from request to award. Comune users see their own Comune only; SUA staff all.
#[utoipa::path(get, path = "/v1/sua/reports", tag = "sua", params(ReportQuery), security(("bearer" = [])),
    responses((status = 200, body = Report),
              (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 422, body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn get_report(
    State(state): State<AppState>,
    identity: Identity,
    Query(query): Query<ReportQuery>,
) -> Result<Json<Report>, AppError> {
    Ok(Json(report_for(&state, &identity, &query).await?))
}

/// The report as CSV (UTF-8, `sep=comma` or `sep=semicolon`).
#[utoipa::path(get, path = "/v1/sua/reports/export.csv", tag = "sua", params(ReportQuery), security(("bearer" = [])),
    responses((status = 200, description = "UTF-8 CSV with a header row", content_type = "text/csv", body = FileBytes),
              (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 422, description = "Invalid filter or `sep`, listed in `errors`", body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn export_report(
    State(state): State<AppState>,
    identity: Identity,
    Query(query): Query<ReportQuery>,
) -> Result<Response, AppError> {
    report_csv(&state, &identity, &query).await
}

/// The CSV download (API and page).
pub async fn report_csv(
    state: &AppState,
    identity: &Identity,
    query: &ReportQuery,
) -> Result<Response, AppError> {
    let separator = query.separator()?;
    let report = report_for(state, identity, query).await?;
    let body = report.to_csv(separator)?;
    Ok(pico_service::download::csv("sua-report.csv", body))
}

/// Paging of the OCDS export.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OcdsQuery {
    /// Releases per page: 100 by default; values above 500 are reduced to 500, and 0 is read
    /// as 1.
    #[param(inline)]
    pub limit: Option<pico_service::Limit>,
    /// The cursor of the next page (`links.next` of the previous package).
    pub cursor: Option<String>,
}

fn json_response(value: &serde_json::Value, headers: HeaderMap) -> Response {
    let mut response = (
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response();
    response.headers_mut().extend(headers);
    response
}

/// The public OCDS 1.1 release package of the Province's public procedures (published or
/// later), one compiled release per procedure, by procedure id. Paged: the package's
/// `links.next` (and the `Link: <…>; rel="next"` header) give the next page.
#[utoipa::path(get, path = "/v1/sua/ocds", tag = "sua", params(OcdsQuery),
    responses((status = 200, description = "An OCDS 1.1 release package", content_type = "application/json", body = Object),
              (status = 400, description = "Invalid cursor", body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn list_ocds_releases(
    State(state): State<AppState>,
    Query(query): Query<OcdsQuery>,
) -> Result<Response, AppError> {
    let limit = query
        .limit
        .map_or(OCDS_DEFAULT_PAGE, pico_service::Limit::get)
        .clamp(1, OCDS_MAX_PAGE);
    let after: i64 = match query.cursor.as_deref() {
        Some(cursor) => decode_cursor(cursor)?,
        None => 0,
    };
    let procedures = state
        .db
        .call(move |conn| Ok::<_, AppError>(sua_data::public_procedures(conn, after, limit + 1)?))
        .await?;
    let page = Page::from_overfetch(procedures, limit, |p| p.id);
    // The package's date is the latest change among its own releases: a maximum over every
    // public procedure would scan them all on each page a crawler reads.
    let updated = page.items.iter().map(|p| p.updated_at).max();
    let base = state.config.public_url.trim_end_matches('/').to_owned();
    let self_uri = match &query.cursor {
        Some(cursor) => format!("{base}/v1/sua/ocds?limit={limit}&cursor={cursor}"),
        None => format!("{base}/v1/sua/ocds?limit={limit}"),
    };
    let releases = page
        .items
        .iter()
        .map(|p| super::ocds::release(&state.province, p))
        .collect();
    let mut package = super::ocds::package(
        &state.province,
        &base,
        self_uri,
        updated.unwrap_or_else(db::now),
        releases,
    );
    let mut headers = HeaderMap::new();
    if let Some(next) = &page.next {
        let next_uri = format!("{base}/v1/sua/ocds?limit={limit}&cursor={next}");
        package["links"] = serde_json::json!({"next": next_uri});
        if let Ok(value) = HeaderValue::from_str(&format!("<{next_uri}>; rel=\"next\"")) {
            headers.insert(header::LINK, value);
        }
    }
    Ok(json_response(&package, headers))
}

/// One procedure, in any state, as an OCDS release package (SUA staff, and the Comuni it
/// serves).
#[utoipa::path(get, path = "/v1/sua/ocds/{id}", tag = "sua", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "An OCDS 1.1 release package with one release", content_type = "application/json", body = Object),
              (status = 404, body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn get_ocds_release(
    State(state): State<AppState>,
    identity: Identity,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    identity.require_user()?;
    let comuni = state
        .db
        .call(move |conn| sua_data::procedure_comuni(conn, id).map_err(AppError::from))
        .await?
        .ok_or(AppError::NotFound)?;
    policy::authorize(&identity, Action::ViewProcedure { comuni: &comuni })?;
    let procedure = state
        .db
        .call(move |conn| sua_data::export_procedure(conn, id).map_err(AppError::from))
        .await?
        .ok_or(AppError::NotFound)?;
    let base = state.config.public_url.trim_end_matches('/').to_owned();
    let package = super::ocds::package(
        &state.province,
        &base,
        format!("{base}/v1/sua/ocds/{id}"),
        procedure.updated_at,
        vec![super::ocds::release(&state.province, &procedure)],
    );
    Ok(json_response(&package, HeaderMap::new()))
}
