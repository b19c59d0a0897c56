//! `/v1/datasets`: the catalogue and rows (public), CSV import, row deletion and the
//! federation setting (Dati operators and administrators).

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use pico_service::http::body_limit;
use pico_service::json::{Path, Query};
use pico_service::{Json, PageParams, Problem};
use serde::{Deserialize, Serialize};

use super::ops::{self, ChangeReport, DatiError, ImportReport, ImportRequest};
use super::{Dataset, Federation, FieldDef};
use crate::auth::Identity;
use crate::auth::policy::{self, Action};
use crate::db::federation::OutboxError;
use crate::db::{self, datasets};
use crate::error::AppError;
use crate::state::AppState;

/// Largest CSV upload (100,000 typical rows are about 15 MB).
pub const IMPORT_BODY_LIMIT: usize = 128 * 1024 * 1024;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/datasets", get(list_datasets))
        .route(
            "/v1/datasets/{name}/import",
            post(import_dataset).layer(body_limit(IMPORT_BODY_LIMIT)),
        )
        .route("/v1/datasets/{name}/rows", get(list_rows))
        .route("/v1/datasets/{name}/deletions", post(create_deletions))
        .route("/v1/datasets/{name}/federation", put(update_federation))
}

impl From<DatiError> for AppError {
    fn from(error: DatiError) -> AppError {
        match error {
            DatiError::NotFound(_) => AppError::NotFound,
            DatiError::Invalid(detail) => AppError::from(
                Problem::from_status(StatusCode::UNPROCESSABLE_ENTITY)
                    .with_code("invalid_data")
                    .with_detail(detail),
            ),
            DatiError::Fields(problems) => {
                let mut problem = Problem::from_status(StatusCode::UNPROCESSABLE_ENTITY)
                    .with_code("invalid_field")
                    .with_detail(format!(
                        "I metadati non bastano al catalogo dei dati aperti: {}",
                        problems
                            .iter()
                            .map(|p| p.message.as_str())
                            .collect::<Vec<_>>()
                            .join(" ")
                    ));
                for p in problems {
                    problem = problem.with_field_error(p.field, p.message);
                }
                AppError::from(problem)
            }
            DatiError::Outbox(OutboxError::Blocked(reason)) => AppError::Conflict {
                code: "federation_blocked",
                detail: OutboxError::Blocked(reason).to_string(),
            },
            DatiError::Outbox(OutboxError::Sign(error)) => AppError::from(
                Problem::from_status(StatusCode::UNPROCESSABLE_ENTITY)
                    .with_code("cannot_publish")
                    .with_detail(format!("la modifica non può essere pubblicata: {error}")),
            ),
            DatiError::Outbox(OutboxError::Db(error)) | DatiError::Db(error) => {
                AppError::from(error)
            }
        }
    }
}

/// A dataset in the catalogue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DatasetView {
    /// Name.
    pub name: String,
    /// Title.
    pub title: String,
    /// Fields in row order.
    pub fields: Vec<FieldDef>,
    /// Primary-key fields.
    pub primary_key: Vec<String>,
    /// Schema version.
    pub schema_version: u32,
    /// `off` or `national`.
    pub federation: Federation,
    /// Rows.
    pub rows: i64,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

impl From<Dataset> for DatasetView {
    fn from(d: Dataset) -> DatasetView {
        DatasetView {
            name: d.name,
            title: d.title,
            fields: d.fields,
            primary_key: d.primary_key,
            schema_version: d.schema_version,
            federation: d.federation,
            rows: d.row_count,
            updated_at: db::rfc3339(d.updated_at),
        }
    }
}

/// The catalogue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DatasetList {
    /// Datasets by name.
    pub items: Vec<DatasetView>,
    /// Always null: the catalogue fits one page.
    pub next: Option<String>,
}

/// The datasets of this node.
#[utoipa::path(get, path = "/v1/datasets", tag = "dati",
    responses((status = 200, body = DatasetList)))]
pub async fn list_datasets(State(state): State<AppState>) -> Result<Json<DatasetList>, AppError> {
    let list = state
        .db
        .call(|conn| datasets::list(conn).map_err(AppError::from))
        .await?;
    Ok(Json(DatasetList {
        items: list.into_iter().map(DatasetView::from).collect(),
        next: None,
    }))
}

/// Query of an import.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Primary-key field(s), comma-separated (required for a new dataset or with replace).
    pub key: Option<String>,
    /// Replace the whole content: rows not in the file are deleted, the schema may change.
    #[serde(default)]
    pub replace: bool,
    /// Title of a new dataset.
    pub title: Option<String>,
}

/// Imports a CSV file (UTF-8, `,` or `;`, header row = field names), all or nothing.
#[utoipa::path(post, path = "/v1/datasets/{name}/import", tag = "dati",
    params(("name" = String, Path), ImportQuery), security(("bearer" = [])),
    request_body(content = String, content_type = "text/csv", description = "The CSV file"),
    responses((status = 200, body = ImportReport),
              (status = 409, description = "Publishing is blocked"),
              (status = 422, description = "Invalid file, with line numbers")))]
pub async fn import_dataset(
    State(state): State<AppState>,
    identity: Identity,
    Path(name): Path<String>,
    Query(query): Query<ImportQuery>,
    body: Bytes,
) -> Result<Json<ImportReport>, AppError> {
    policy::authorize(&identity, Action::ManageDatasets)?;
    let request = ImportRequest {
        name,
        title: query.title,
        key: query.key.map(|key| {
            key.split(',')
                .map(|k| k.trim().to_owned())
                .filter(|k| !k.is_empty())
                .collect()
        }),
        csv: body.to_vec(),
        replace: query.replace,
    };
    let signer = state.signer.clone();
    let actor = identity.actor();
    let report = state
        .db
        .call(move |conn| ops::import(conn, &signer, &actor, &request).map_err(AppError::from))
        .await?;
    if !report.entries.is_empty() {
        state.wake.notify();
    }
    Ok(Json(report))
}

/// A page of rows.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RowPage {
    /// Rows as objects keyed by field name, in primary-key order.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<serde_json::Map<String, serde_json::Value>>,
    /// Cursor of the next page.
    pub next: Option<String>,
}

/// Rows of a dataset (public, like the catalogue).
#[utoipa::path(get, path = "/v1/datasets/{name}/rows", tag = "dati",
    params(("name" = String, Path), PageParams),
    responses((status = 200, body = RowPage)))]
pub async fn list_rows(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(page): Query<PageParams>,
) -> Result<Json<RowPage>, AppError> {
    let after: Option<String> = page.cursor()?;
    let limit = page.limit();
    let (dataset, rows) = state
        .db
        .call(move |conn| {
            let dataset = datasets::get(conn, &name)?.ok_or(AppError::NotFound)?;
            let rows = datasets::rows_page(conn, &name, after.as_deref(), limit + 1)?;
            Ok::<_, AppError>((dataset, rows))
        })
        .await?;
    let names = dataset.field_names();
    let mut items = Vec::with_capacity(rows.len());
    let mut keys = Vec::with_capacity(rows.len());
    for (pk, data) in rows {
        let values: Vec<serde_json::Value> = serde_json::from_str(&data)
            .map_err(|e| AppError::Internal(format!("stored row unreadable: {e}")))?;
        items.push(names.iter().cloned().zip(values).collect());
        keys.push(pk);
    }
    let page = pico_service::Page::from_overfetch(
        items.into_iter().zip(keys).collect::<Vec<_>>(),
        limit,
        |(_, pk)| pk.clone(),
    );
    Ok(Json(RowPage {
        items: page.items.into_iter().map(|(item, _)| item).collect(),
        next: page.next,
    }))
}

/// Keys of the rows to delete.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Deletions {
    /// Each key: the primary-key values (as text or numbers) in primary-key order.
    #[schema(value_type = Vec<Vec<Object>>)]
    pub keys: Vec<Vec<serde_json::Value>>,
}

/// Deletes rows by primary key; published as deletes when the dataset is federated.
#[utoipa::path(post, path = "/v1/datasets/{name}/deletions", tag = "dati",
    params(("name" = String, Path)), security(("bearer" = [])), request_body = Deletions,
    responses((status = 200, body = ChangeReport),
              (status = 409, description = "Publishing is blocked")))]
pub async fn create_deletions(
    State(state): State<AppState>,
    identity: Identity,
    Path(name): Path<String>,
    Json(body): Json<Deletions>,
) -> Result<Json<ChangeReport>, AppError> {
    policy::authorize(&identity, Action::ManageDatasets)?;
    let keys: Vec<Vec<String>> = body
        .keys
        .into_iter()
        .map(|key| {
            key.into_iter()
                .map(|value| match value {
                    serde_json::Value::String(text) => text,
                    other => other.to_string(),
                })
                .collect()
        })
        .collect();
    let signer = state.signer.clone();
    let actor = identity.actor();
    let report = state
        .db
        .call(move |conn| {
            ops::delete_rows(conn, &signer, &actor, &name, &keys).map_err(AppError::from)
        })
        .await?;
    if !report.entries.is_empty() {
        state.wake.notify();
    }
    Ok(Json(report))
}

/// The federation setting.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FederationUpdate {
    /// `national` publishes the dataset (a full snapshot now, deltas after); `off` stops.
    pub federation: Federation,
}

/// Sets whether a dataset is published to the national view.
#[utoipa::path(put, path = "/v1/datasets/{name}/federation", tag = "dati",
    params(("name" = String, Path)), security(("bearer" = [])), request_body = FederationUpdate,
    responses((status = 200, body = ChangeReport),
              (status = 409, description = "Publishing is blocked")))]
pub async fn update_federation(
    State(state): State<AppState>,
    identity: Identity,
    Path(name): Path<String>,
    Json(body): Json<FederationUpdate>,
) -> Result<Json<ChangeReport>, AppError> {
    policy::authorize(&identity, Action::ManageDatasets)?;
    let signer = state.signer.clone();
    let actor = identity.actor();
    let org = super::dcat::organisation(&state.config, &state.province);
    let report = state
        .db
        .call(move |conn| {
            ops::set_federation(conn, &signer, &actor, &name, body.federation, &org)
                .map_err(AppError::from)
        })
        .await?;
    if !report.entries.is_empty() {
        state.wake.notify();
    }
    Ok(Json(report))
}
