//! Bulk downloads of the national datasets (`/v1/datasets/{dataset}/bulk.csv` and
//! `bulk.parquet`, see [`crate::bulk`]) and the conditional requests of the national dataset
//! API: a strong `ETag` on every answer and `304 Not Modified` when `If-None-Match` names it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use pico_protocol::{Hash32, ProvinceCode};
use pico_service::Problem;
use pico_service::json::{Path, Query};

use crate::bulk::{self, BulkError, Format};
use crate::error::HubError;
use crate::state::AppState;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/datasets/{dataset}/bulk.csv", get(download_csv))
        .route("/v1/datasets/{dataset}/bulk.parquet", get(download_parquet))
}

/// The URL of a download (relative to the hub), whole or one Province's part.
pub fn url(dataset: &str, province: Option<&str>, format: Format) -> String {
    let mut url = format!("/v1/datasets/{dataset}/bulk.{}", format.extension());
    if let Some(code) = province {
        url.push_str("?province=");
        url.push_str(code);
    }
    url
}

impl From<pico_service::DbError> for BulkError {
    fn from(error: pico_service::DbError) -> Self {
        BulkError::Db(error.into())
    }
}

impl From<BulkError> for HubError {
    fn from(error: BulkError) -> Self {
        match error {
            BulkError::Db(error) => HubError::Db(error),
            other => {
                tracing::error!(error = %other, "writing a bulk download failed");
                HubError::Problem(Problem::internal())
            }
        }
    }
}

/// Whether an `If-None-Match` value names `etag` (weak comparison, RFC 9110 §13.1.2).
pub fn none_match(if_none_match: &str, etag: &str) -> bool {
    let tag = etag.trim_start_matches("W/");
    if_none_match
        .split(',')
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == tag)
}

fn if_none_match(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// `304 Not Modified` for `etag`.
fn not_modified(etag: &HeaderValue) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    let headers = response.headers_mut();
    headers.insert(header::ETAG, etag.clone());
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Largest answer the conditional layer hashes (the rows API's biggest CSV page is far
/// below it).
const MAX_HASHED_BODY: usize = 256 << 20;

/// The conditional requests of the national dataset API: a `200` answer gets a strong `ETag`
/// (a hash of its bytes) and `Cache-Control: no-cache` (keep it, but ask again), and a request
/// whose `If-None-Match` names that tag gets `304` without the body.
pub async fn conditional(request: Request, next: Next) -> Response {
    let asked = if_none_match(request.headers());
    let response = next.run(request).await;
    if response.status() != StatusCode::OK || response.headers().contains_key(header::ETAG) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_HASHED_BODY).await {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::error!(%error, "reading an answer to tag it failed");
            return Problem::internal().into_response();
        }
    };
    let hash = Hash32::digest_of(&[&bytes]);
    let etag = format!("\"{}\"", hex::encode(&hash.as_bytes()[..16]));
    let Ok(etag) = HeaderValue::from_str(&etag) else {
        return (parts, Body::from(bytes)).into_response();
    };
    if asked
        .as_deref()
        .is_some_and(|asked| etag.to_str().is_ok_and(|etag| none_match(asked, etag)))
    {
        return not_modified(&etag);
    }
    parts.headers.insert(header::ETAG, etag);
    parts
        .headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-cache"));
    (parts, Body::from(bytes)).into_response()
}

/// The whole dataset (or one Province's rows) as CSV: header `province,seq,entry_hash,
/// <fields…>`, one line per row, in (province, key) order.
#[utoipa::path(get, path = "/v1/datasets/{dataset}/bulk.csv", tag = "national",
    params(("dataset" = String, Path, pattern = "^[a-z][a-z0-9_]{0,63}$", description = "dataset name, e.g. appalti"),
        ("province" = Option<String>, Query, pattern = "^[0-9]{3}$", description = "only this Province's rows (code, e.g. 026)")),
    responses(
        (status = 200, description = "the file (comma-separated, UTF-8, formula-like cells prefixed with `'`); `ETag` is its content version, new whenever the dataset changes",
            content((String = "text/csv"))),
        (status = 304, description = "`If-None-Match` names the current `ETag`: the copy the client has is current"),
        (status = 400, description = "`invalid_query`: an unknown parameter or a malformed Province code"),
        (status = 404, description = "`not_found`: no such dataset")))]
pub async fn download_csv(
    State(state): State<AppState>,
    Path(dataset): Path<String>,
    Query(params): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, HubError> {
    download(state, dataset, params, &headers, Format::Csv).await
}

/// The whole dataset (or one Province's rows) as Apache Parquet (Snappy): the same columns as
/// the CSV, typed from the dataset's specification (integers, booleans, decimals as DOUBLE,
/// dates as DATE; text otherwise).
#[utoipa::path(get, path = "/v1/datasets/{dataset}/bulk.parquet", tag = "national",
    params(("dataset" = String, Path, pattern = "^[a-z][a-z0-9_]{0,63}$", description = "dataset name, e.g. appalti"),
        ("province" = Option<String>, Query, pattern = "^[0-9]{3}$", description = "only this Province's rows (code, e.g. 026)")),
    responses(
        (status = 200, description = "the file; `ETag` is its content version, new whenever the dataset changes",
            content((crate::http::FileBytes = "application/vnd.apache.parquet"))),
        (status = 304, description = "`If-None-Match` names the current `ETag`: the copy the client has is current"),
        (status = 400, description = "`invalid_query`: an unknown parameter or a malformed Province code"),
        (status = 404, description = "`not_found`: no such dataset")))]
pub async fn download_parquet(
    State(state): State<AppState>,
    Path(dataset): Path<String>,
    Query(params): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, HubError> {
    download(state, dataset, params, &headers, Format::Parquet).await
}

async fn download(
    state: AppState,
    dataset: String,
    params: BTreeMap<String, String>,
    headers: &HeaderMap,
    format: Format,
) -> Result<Response, HubError> {
    if let Some(unknown) = params.keys().find(|k| k.as_str() != "province") {
        return Err(Problem::bad_request(
            "invalid_query",
            format!("parametro {unknown:?} sconosciuto: lo scaricamento accetta solo province"),
        )
        .into());
    }
    let province = params
        .get("province")
        .map(|code| {
            ProvinceCode::parse(code).map(|p| p.as_str().to_owned()).map_err(|_| {
                Problem::bad_request(
                    "invalid_query",
                    format!("province {code:?}: scrivete il codice ISTAT di tre cifre, per esempio 026"),
                )
            })
        })
        .transpose()?;
    if !crate::db::national::valid_name(&dataset) {
        return Err(Problem::not_found(format!("nessun dataset {dataset:?}")).into());
    }
    let scope = province.clone().unwrap_or_else(|| "all".to_owned());
    // The current version first: a client that has it gets 304 without any file work.
    let (name, code) = (dataset.clone(), province.clone());
    let source = state
        .db
        .call(move |conn| crate::db::bulk::source(conn, &name, code.as_deref()))
        .await?
        .ok_or_else(|| Problem::not_found(format!("nessun dataset {dataset:?}")))?;
    let version = source.version(&dataset, &scope, format.extension());
    let etag = |version: &str| HeaderValue::from_str(&format!("\"{version}\"")).ok();
    if let (Some(asked), Some(tag)) = (if_none_match(headers), etag(&version))
        && tag.to_str().is_ok_and(|tag| none_match(&asked, tag))
    {
        return Ok(not_modified(&tag));
    }
    let data_dir = state.config.data_dir.clone();
    let mut current = (
        version.clone(),
        bulk::file_path(&data_dir, &dataset, &scope, &version, format),
    );
    if !current.1.exists() {
        let _one_at_a_time = bulk::GENERATION.lock().await;
        let (name, code) = (dataset.clone(), province.clone());
        current = state
            .db
            .call(move |conn| bulk::generate(conn, &data_dir, &name, code.as_deref(), format))
            .await?
            .ok_or_else(|| Problem::not_found(format!("nessun dataset {dataset:?}")))?;
    }
    let (version, path) = current;
    let filename = match &province {
        Some(code) => format!("{dataset}-{code}.{}", format.extension()),
        None => format!("{dataset}.{}", format.extension()),
    };
    serve_file(path, format, &filename, etag(&version)).await
}

/// Streams a download from its file (which stays readable while it is streamed, even if a
/// newer version replaces it meanwhile).
async fn serve_file(
    path: PathBuf,
    format: Format,
    filename: &str,
    etag: Option<HeaderValue>,
) -> Result<Response, HubError> {
    use tokio::io::AsyncReadExt as _;
    let file = tokio::fs::File::open(&path).await.map_err(|error| {
        tracing::error!(path = %path.display(), %error, "cannot open a bulk download");
        HubError::Problem(Problem::internal())
    })?;
    let length = file.metadata().await.map(|m| m.len()).ok();
    let stream = futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buffer = vec![0; 256 * 1024];
        match file.read(&mut buffer).await {
            Ok(0) => None,
            Ok(n) => {
                buffer.truncate(n);
                Some((
                    Ok::<_, std::io::Error>(axum::body::Bytes::from(buffer)),
                    Some(file),
                ))
            }
            Err(error) => Some((Err(error), None)),
        }
    });
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.media_type()),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        pico_service::download::content_disposition(filename),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, no-cache"),
    );
    if let Some(length) = length {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    if let Some(etag) = etag {
        headers.insert(header::ETAG, etag);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::none_match;

    #[test]
    fn if_none_match_compares_weakly_and_takes_lists_and_star() {
        assert!(none_match("\"abc\"", "\"abc\""));
        assert!(none_match("\"x\", W/\"abc\"", "\"abc\""));
        assert!(none_match("*", "\"abc\""));
        assert!(!none_match("\"abd\"", "\"abc\""));
        assert!(!none_match("", "\"abc\""));
    }
}
