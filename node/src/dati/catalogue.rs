//! The open-data catalogue: a dataset's DCAT-AP_IT metadata (`/v1/datasets/{name}/metadata`,
//! read by anyone, written by Dati operators and administrators), the catalogue of the open
//! datasets at stable URLs (`/dati/catalogo.ttl`, `.rdf`, `.jsonld`, and `/dati/catalogo`
//! by content negotiation) and the CSV download its distributions point at.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use pico_service::json::{Path, Query};
use pico_service::{Json, ProblemDocument};
use serde::{Deserialize, Serialize};

use super::dcat::{self, MetadataForm, RdfFormat};
use super::ops::{self, MetadataReport};
use crate::auth::Identity;
use crate::auth::policy::{self, Action};
use crate::db::datasets;
use crate::error::AppError;
use crate::state::AppState;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/datasets/{name}/metadata",
            get(get_metadata).put(update_metadata),
        )
        .route("/v1/datasets/{name}/rows.csv", get(download_rows))
        .route("/dati/catalogo", get(get_catalogue))
        .route("/dati/catalogo.ttl", get(get_catalogue_turtle))
        .route("/dati/catalogo.rdf", get(get_catalogue_rdf_xml))
        .route("/dati/catalogo.jsonld", get(get_catalogue_json_ld))
}

/// A dataset's metadata as the catalogue shows them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MetadataView {
    /// Dataset name.
    pub dataset: String,
    /// Whether these were saved (false: the defaults the dataset starts from).
    pub saved: bool,
    /// The metadata.
    pub metadata: MetadataForm,
    /// Publisher and rights holder: the Province's name.
    pub publisher: String,
    /// Its IPA code.
    pub publisher_ipa_code: String,
    /// Last change of the data (`YYYY-MM-DD`).
    pub modified: String,
    /// What is missing before the dataset can be marked open, by field (Italian).
    pub missing_for_open: std::collections::BTreeMap<String, String>,
}

/// Reads a dataset's metadata (or the defaults it starts from) and what it lacks to be open.
pub async fn read_metadata(state: &AppState, name: String) -> Result<MetadataView, AppError> {
    let config = state.config.clone();
    let province = state.province.clone();
    state
        .db
        .call(move |conn| {
            let dataset = datasets::get(conn, &name)?.ok_or(AppError::NotFound)?;
            let org = dcat::organisation(&config, &province);
            let (form, saved) = dcat::stored_or_default(conn, &dataset, &org, &province, &config)?;
            let as_open = MetadataForm {
                open: true,
                ..form.clone()
            };
            let missing_for_open = dcat::problems(&dataset, &as_open, &org, &province)
                .into_iter()
                .map(|p| (p.field.to_owned(), p.message))
                .collect();
            let payload = dcat::payload(&dataset, &form, &org);
            Ok(MetadataView {
                dataset: dataset.name,
                saved,
                metadata: form,
                publisher: org.name,
                publisher_ipa_code: org.ipa_code,
                modified: payload.modified,
                missing_for_open,
            })
        })
        .await
}

/// A dataset's DCAT-AP_IT metadata (public, like the catalogue).
#[utoipa::path(get, path = "/v1/datasets/{name}/metadata", tag = "dati",
    params(("name" = String, Path)),
    responses((status = 200, body = MetadataView),
              (status = 404, body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn get_metadata(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<MetadataView>, AppError> {
    Ok(Json(read_metadata(&state, name).await?))
}

/// Saves a dataset's metadata for `identity`, publishing them when the dataset is federated.
pub async fn save_metadata(
    state: &AppState,
    identity: &Identity,
    name: String,
    form: MetadataForm,
) -> Result<MetadataReport, AppError> {
    policy::authorize(identity, Action::ManageDatasets)?;
    let signer = state.signer.clone();
    let actor = identity.actor();
    let org = dcat::organisation(&state.config, &state.province);
    let province = state.province.clone();
    let report = state
        .db
        .call(move |conn| {
            ops::set_metadata(conn, &signer, &actor, &name, &form, &org, &province)
                .map_err(AppError::from)
        })
        .await?;
    if !report.entries.is_empty() {
        state.wake.notify();
    }
    Ok(report)
}

/// Sets a dataset's DCAT-AP_IT metadata. A dataset is marked open only with every element the
/// catalogue needs: otherwise 422 names each field to fill, in Italian.
#[utoipa::path(put, path = "/v1/datasets/{name}/metadata", tag = "dati",
    params(("name" = String, Path)), security(("bearer" = [])), request_body = MetadataForm,
    responses((status = 200, body = MetadataReport),
              (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 409, description = "Publishing is blocked", body = ProblemDocument, content_type = "application/problem+json"),
              (status = 422, description = "Metadata the catalogue cannot take, with `errors` by field", body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn update_metadata(
    State(state): State<AppState>,
    identity: Identity,
    Path(name): Path<String>,
    Json(form): Json<MetadataForm>,
) -> Result<Json<MetadataReport>, AppError> {
    Ok(Json(save_metadata(&state, &identity, name, form).await?))
}

/// The `sep` of a CSV download.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CsvQuery {
    /// `comma` (default) or `semicolon` (Italian spreadsheets).
    pub sep: Option<String>,
}

/// Every row of a dataset as CSV (UTF-8, header = field names), in primary-key order: the
/// CSV distribution of the catalogue.
#[utoipa::path(get, path = "/v1/datasets/{name}/rows.csv", tag = "dati",
    params(("name" = String, Path), CsvQuery),
    responses((status = 200, content_type = "text/csv", body = String),
              (status = 400, body = ProblemDocument, content_type = "application/problem+json"),
              (status = 404, body = ProblemDocument, content_type = "application/problem+json")))]
pub async fn download_rows(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<CsvQuery>,
) -> Result<Response, AppError> {
    let separator = pico_service::csv::Separator::parse(query.sep.as_deref()).map_err(|e| {
        AppError::from(
            pico_service::Problem::from_status(axum::http::StatusCode::BAD_REQUEST)
                .with_code("invalid_query")
                .with_detail(e.to_string()),
        )
    })?;
    let (file, bytes) = state
        .db
        .call(move |conn| {
            let dataset = datasets::get(conn, &name)?.ok_or(AppError::NotFound)?;
            let mut csv = pico_service::csv::CsvWriter::new(separator, false);
            let fail = |e: csv::Error| AppError::Internal(format!("csv: {e}"));
            csv.write(dataset.field_names()).map_err(fail)?;
            let mut after: Option<String> = None;
            loop {
                let page = datasets::rows_page(conn, &name, after.as_deref(), 5_000)?;
                let Some((last, _)) = page.last() else { break };
                after = Some(last.clone());
                for (_, data) in &page {
                    let values: Vec<serde_json::Value> = serde_json::from_str(data)
                        .map_err(|e| AppError::Internal(format!("stored row unreadable: {e}")))?;
                    csv.write(values.iter().map(|value| match value {
                        serde_json::Value::Null => String::new(),
                        serde_json::Value::String(text) => text.clone(),
                        other => other.to_string(),
                    }))
                    .map_err(fail)?;
                }
            }
            Ok::<_, AppError>((format!("{}.csv", dataset.name), csv.finish().map_err(fail)?))
        })
        .await?;
    let mut response = pico_service::download::csv(&file, bytes);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

async fn catalogue(state: &AppState, format: RdfFormat) -> Result<Response, AppError> {
    let config = state.config.clone();
    let province = state.province.clone();
    let graph = state
        .db
        .call(move |conn| Ok::<_, AppError>(dcat::catalogue(conn, &config, &province)?))
        .await?;
    let body = format.write(&graph);
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    Ok(response)
}

/// The catalogue of this node's open datasets in DCAT-AP_IT, in the format the `Accept`
/// header prefers (Turtle, JSON-LD; RDF/XML otherwise).
#[utoipa::path(get, path = "/dati/catalogo", tag = "dati",
    responses((status = 200, description = "The DCAT-AP_IT catalogue",
        content((String = "application/rdf+xml"), (String = "text/turtle"), (serde_json::Value = "application/ld+json")))))]
pub async fn get_catalogue(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    catalogue(&state, RdfFormat::negotiate(accept)).await
}

/// The catalogue in Turtle.
#[utoipa::path(get, path = "/dati/catalogo.ttl", tag = "dati",
    responses((status = 200, description = "The DCAT-AP_IT catalogue", content_type = "text/turtle", body = String)))]
pub async fn get_catalogue_turtle(State(state): State<AppState>) -> Result<Response, AppError> {
    catalogue(&state, RdfFormat::Turtle).await
}

/// The catalogue in RDF/XML (what dati.gov.it harvests).
#[utoipa::path(get, path = "/dati/catalogo.rdf", tag = "dati",
    responses((status = 200, description = "The DCAT-AP_IT catalogue", content_type = "application/rdf+xml", body = String)))]
pub async fn get_catalogue_rdf_xml(State(state): State<AppState>) -> Result<Response, AppError> {
    catalogue(&state, RdfFormat::RdfXml).await
}

/// The catalogue in JSON-LD (expanded form).
#[utoipa::path(get, path = "/dati/catalogo.jsonld", tag = "dati",
    responses((status = 200, description = "The DCAT-AP_IT catalogue", content_type = "application/ld+json", body = serde_json::Value)))]
pub async fn get_catalogue_json_ld(State(state): State<AppState>) -> Result<Response, AppError> {
    catalogue(&state, RdfFormat::JsonLd).await
}
