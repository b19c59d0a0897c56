//! The aggregated open-data catalogue: every Province's open datasets in one DCAT-AP_IT
//! catalogue, each attributed to its Province (publisher and rights holder as the Province
//! sent them), with the hub's own downloads of its national rows as distributions (the
//! whole in CSV and Parquet, `crate::bulk`, and the rows API in JSON). Served as
//! Turtle, RDF/XML and JSON-LD at stable URLs; whole by default, or in pages described with
//! Hydra (`hydra:PagedCollection`, as CKAN's DCAT harvesters — dati.gov.it's — follow them).

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use pico_protocol::dcat::{self, Agent, Catalogue, CatalogueDataset, Distribution, Paging};
use pico_protocol::rdf::RdfFormat;
use pico_service::Problem;
use pico_service::json::Query;

use crate::bulk::Format;
use crate::db::catalogue;
use crate::error::HubError;
use crate::http::bulk::url as bulk_url;
use crate::state::AppState;

/// Most datasets on one page.
pub const MAX_PER_PAGE: u64 = 1000;
/// Datasets on a page when `per_page` is not given.
pub const DEFAULT_PER_PAGE: u64 = 100;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dati/catalogo", get(get_catalogue))
        .route("/dati/catalogo.ttl", get(get_catalogue_turtle))
        .route("/dati/catalogo.rdf", get(get_catalogue_rdf_xml))
        .route("/dati/catalogo.jsonld", get(get_catalogue_json_ld))
}

/// The catalogue's publisher: the Unione delle Province d'Italia.
fn upi() -> Agent {
    Agent {
        name: "Unione delle Province d'Italia".to_owned(),
        ipa_code: "upi".to_owned(),
    }
}

/// The base of the hub's URLs: its configured public URL, else the `Host` it was reached at.
fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    let configured = state.config.public_url.trim_end_matches('/');
    if !configured.is_empty() {
        return configured.to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'-' | b'[' | b']')
                })
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

fn day(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| {
            let date = t.date();
            format!(
                "{:04}-{:02}-{:02}",
                date.year(),
                u8::from(date.month()),
                date.day()
            )
        })
        .unwrap_or_else(|_| "1970-01-01".to_owned())
}

fn parse_number(params: &BTreeMap<String, String>, name: &str) -> Result<Option<u64>, HubError> {
    match params.get(name) {
        None => Ok(None),
        // At most `i64::MAX`, as the document says (`format: int64`).
        Some(text) => match text.parse::<i64>() {
            Ok(n) if n >= 1 && (name != "per_page" || n.unsigned_abs() <= MAX_PER_PAGE) => {
                Ok(Some(n.unsigned_abs()))
            }
            _ if name == "per_page" => Err(Problem::bad_request(
                "invalid_query",
                format!("per_page {text:?}: scrivete un numero intero da 1 a {MAX_PER_PAGE}"),
            )
            .into()),
            _ => Err(Problem::bad_request(
                "invalid_query",
                format!("{name} {text:?}: scrivete un numero intero da 1"),
            )
            .into()),
        },
    }
}

async fn catalogue(
    state: &AppState,
    headers: &HeaderMap,
    params: &BTreeMap<String, String>,
    format: RdfFormat,
) -> Result<Response, HubError> {
    if let Some(unknown) = params
        .keys()
        .find(|k| !matches!(k.as_str(), "page" | "per_page"))
    {
        return Err(Problem::bad_request(
            "invalid_query",
            format!(
                "parametro «{unknown}» sconosciuto: il catalogo accetta soltanto page e per_page"
            ),
        )
        .into());
    }
    let page = parse_number(params, "page")?;
    let per_page = parse_number(params, "per_page")?.unwrap_or(DEFAULT_PER_PAGE);
    let base = base_url(state, headers);
    let (total, items) = state
        .db
        .call(move |conn| {
            let total = catalogue::count_open(conn)?;
            let items = match page {
                None => catalogue::open_page(conn, 0, u64::MAX >> 1)?,
                Some(page) => {
                    catalogue::open_page(conn, (page - 1).saturating_mul(per_page), per_page)?
                }
            };
            Ok::<_, HubError>((total, items))
        })
        .await?;
    let path = format!("{base}/dati/catalogo.{}", format.extension());
    let paging = page.map(|page| {
        let last = total.div_ceil(per_page).max(1);
        let at = |n: u64| format!("{path}?page={n}&per_page={per_page}");
        Paging {
            this: at(page),
            first: at(1),
            last: at(last),
            next: (page < last).then(|| at(page + 1)),
            previous: (page > 1).then(|| at((page - 1).min(last))),
            total,
            per_page,
        }
    });
    let mut modified = 0;
    let datasets: Vec<CatalogueDataset> = items
        .into_iter()
        .map(|item| {
            let mut metadata = item.metadata;
            // The rows' last change at the hub, when later than what the metadata say.
            let rows_day = day(item.rows_updated_at);
            if rows_day > metadata.modified {
                metadata.modified = rows_day;
            }
            modified = modified.max(item.rows_updated_at);
            let name = metadata.dataset.clone();
            let iri = format!("{base}/dati/dataset/{}/{name}", item.province);
            let rows = format!("{base}/v1/datasets/{name}/rows?province={}", item.province);
            CatalogueDataset {
                distributions: vec![
                    // The whole of the Province's rows in one file (`crate::bulk`).
                    Distribution {
                        iri: format!("{iri}/csv"),
                        url: format!(
                            "{base}{}",
                            bulk_url(&name, Some(&item.province), Format::Csv)
                        ),
                        format: "CSV",
                    },
                    Distribution {
                        iri: format!("{iri}/parquet"),
                        url: format!(
                            "{base}{}",
                            bulk_url(&name, Some(&item.province), Format::Parquet)
                        ),
                        format: "PARQUET",
                    },
                    // The rows API, page by page, with each row's provenance.
                    Distribution {
                        iri: format!("{iri}/json"),
                        url: rows,
                        format: "JSON",
                    },
                ],
                iri,
                metadata,
                place_names: Vec::new(),
            }
        })
        .collect();
    let homepage = format!("{base}/");
    let info = Catalogue {
        iri: format!("{base}/dati/catalogo"),
        base,
        title: "Catalogo nazionale dei dati aperti delle Province (Pi.Co.)".to_owned(),
        description: "I dati aperti che le Province pubblicano con i loro nodi Pi.Co., raccolti \
                      dall'UPI in un solo catalogo DCAT-AP_IT: ogni dataset indica la Provincia \
                      che lo pubblica."
            .to_owned(),
        publisher: upi(),
        homepage,
        modified: day(if modified == 0 {
            time::OffsetDateTime::now_utc().unix_timestamp()
        } else {
            modified
        }),
    };
    // Building and writing a large catalogue is CPU work: off the runtime's threads.
    let body = tokio::task::spawn_blocking(move || {
        format.write(&dcat::catalogue_graph(&info, &datasets, paging.as_ref()))
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "writing the catalogue failed");
        HubError::Problem(Problem::internal())
    })?;
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    Ok(response)
}

/// The catalogue in the format the `Accept` header prefers (Turtle, JSON-LD; RDF/XML
/// otherwise).
#[utoipa::path(get, path = "/dati/catalogo", tag = "national",
    params(
        ("page" = Option<u64>, Query, description = "a page (from 1), described with hydra:PagedCollection; absent: the whole catalogue"),
        ("per_page" = Option<u64>, Query, description = "datasets per page, 1 … 1000 (default 100)"),
    ),
    responses(
        (status = 200, description = "The aggregated DCAT-AP_IT catalogue of the Provinces' open datasets",
            content((String = "application/rdf+xml"), (String = "text/turtle"), (serde_json::Value = "application/ld+json"))),
        (status = 400, description = "`invalid_query`"),
    ))]
pub async fn get_catalogue(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Response, HubError> {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    catalogue(&state, &headers, &params, RdfFormat::negotiate(&accept)).await
}

/// The catalogue in Turtle.
#[utoipa::path(get, path = "/dati/catalogo.ttl", tag = "national",
    params(
        ("page" = Option<u64>, Query, description = "a page (from 1); absent: the whole catalogue"),
        ("per_page" = Option<u64>, Query, description = "datasets per page, 1 … 1000 (default 100)"),
    ),
    responses(
        (status = 200, description = "The aggregated DCAT-AP_IT catalogue", content_type = "text/turtle", body = String),
        (status = 400, description = "`invalid_query`"),
    ))]
pub async fn get_catalogue_turtle(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Response, HubError> {
    catalogue(&state, &headers, &params, RdfFormat::Turtle).await
}

/// The catalogue in RDF/XML (what dati.gov.it harvests).
#[utoipa::path(get, path = "/dati/catalogo.rdf", tag = "national",
    params(
        ("page" = Option<u64>, Query, description = "a page (from 1); absent: the whole catalogue"),
        ("per_page" = Option<u64>, Query, description = "datasets per page, 1 … 1000 (default 100)"),
    ),
    responses(
        (status = 200, description = "The aggregated DCAT-AP_IT catalogue", content_type = "application/rdf+xml", body = String),
        (status = 400, description = "`invalid_query`"),
    ))]
pub async fn get_catalogue_rdf_xml(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Response, HubError> {
    catalogue(&state, &headers, &params, RdfFormat::RdfXml).await
}

/// The catalogue in JSON-LD (expanded form).
#[utoipa::path(get, path = "/dati/catalogo.jsonld", tag = "national",
    params(
        ("page" = Option<u64>, Query, description = "a page (from 1); absent: the whole catalogue"),
        ("per_page" = Option<u64>, Query, description = "datasets per page, 1 … 1000 (default 100)"),
    ),
    responses(
        (status = 200, description = "The aggregated DCAT-AP_IT catalogue", content_type = "application/ld+json", body = serde_json::Value),
        (status = 400, description = "`invalid_query`"),
    ))]
pub async fn get_catalogue_json_ld(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Response, HubError> {
    catalogue(&state, &headers, &params, RdfFormat::JsonLd).await
}
