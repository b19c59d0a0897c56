//! The public national read API: Provinces, datasets, rows (JSON and CSV), aggregates, and the
//! best-practice library.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::middleware::from_fn;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use pico_service::csv::{CsvWriter, Separator};
use pico_service::json::{Path, Query};
use pico_service::page::{Page, decode_cursor, encode_cursor};
use pico_service::{Json, Problem};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::db::national::{self, AggregateRow, DatasetInfo, GroupBy, RowFilter};
use crate::db::practices::{self, PracticeQuery, PracticeSummary};
use crate::db::registry::{self, ProvinceStatus};
use crate::error::HubError;
use crate::http::bulk::conditional;
use crate::http::parse_sha256;
use crate::state::AppState;

/// The public read routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/provinces", get(list_provinces))
        // Conditional requests (ETag, 304): see `crate::http::bulk::conditional`.
        .route(
            "/v1/datasets",
            get(list_datasets).layer(from_fn(conditional)),
        )
        .route(
            "/v1/datasets/{dataset}/rows",
            get(list_rows).layer(from_fn(conditional)),
        )
        .route(
            "/v1/datasets/{dataset}/aggregates",
            get(get_aggregates).layer(from_fn(conditional)),
        )
        .route("/v1/practices", get(search_practices))
        .route("/v1/attachments/{sha256}", get(get_attachment))
}

/// The ISTAT units and the attribution their data requires.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProvinceList {
    /// The 107 units, by code.
    pub items: Vec<ProvinceStatus>,
    /// "Fonte: Istat", CC BY 4.0.
    pub attribution: &'static str,
}

/// Every ISTAT unit with its enrolment status and data freshness.
#[utoipa::path(get, path = "/v1/provinces", tag = "national",
    responses((status = 200, body = ProvinceList)))]
pub async fn list_provinces(State(state): State<AppState>) -> Result<Response, HubError> {
    let items = state.db.call(|conn| registry::list_status(conn)).await?;
    Ok(Json(ProvinceList {
        items,
        attribution: crate::registry::ATTRIBUTION,
    })
    .into_response())
}

/// Datasets with their schema, contributors and freshness.
#[utoipa::path(get, path = "/v1/datasets", tag = "national",
    responses((status = 200, body = Page<DatasetInfo>, description = "every dataset with at least one contributor, by name; `next` is always null; with a strong `ETag`"),
        (status = 304, description = "`If-None-Match` names the answer's `ETag`: the copy the client has is current")))]
pub async fn list_datasets(State(state): State<AppState>) -> Result<Response, HubError> {
    let items = state.db.call(|conn| national::list_datasets(conn)).await?;
    Ok(Json(Page::<DatasetInfo> { items, next: None }).into_response())
}

/// Query parameters that are not field filters.
const RESERVED: [&str; 6] = ["province", "comune", "limit", "cursor", "format", "sep"];

/// A row as served: values and provenance (SPEC §11.5).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RowView {
    /// Province that sent it.
    pub province: String,
    /// Seq of the entry that last wrote it.
    pub seq: u64,
    /// Hash of that entry: fetch its inclusion proof to check it. An upsert moves it to its
    /// entry even when the values are unchanged.
    pub entry_hash: String,
    /// The row's values keyed by field name: `null`, booleans, integers or strings.
    #[schema(value_type = Object)]
    pub data: Box<RawValue>,
}

/// Rows of a dataset, paginated in (province, key) order; filters `province`, `comune` and
/// any `<field>=<value>`; `format=csv` (with `sep=semicolon` for Italian spreadsheets).
#[utoipa::path(get, path = "/v1/datasets/{dataset}/rows", tag = "national",
    params(("dataset" = String, Path, pattern = "^[a-z][a-z0-9_]{0,63}$", description = "dataset name, e.g. appalti"),
        ("province" = Option<String>, Query, description = "only this Province's rows (code, e.g. 026)"),
        ("comune" = Option<String>, Query, description = "only rows whose `comune` field is this ISTAT code"),
        ("limit" = Option<u64>, Query, maximum = 4_294_967_295_u64, description = "rows per page: default 50; a value above 1000 (10000 for CSV) is reduced to it, 0 counts as 1"),
        ("cursor" = Option<String>, Query, description = "the `next` of the previous page"),
        ("format" = Option<String>, Query, description = "`json` (default) or `csv`; anything else is 400 `invalid_query`"),
        ("sep" = Option<String>, Query, description = "for CSV: `semicolon` (or `;`) for Italian spreadsheets, otherwise a comma"),
        ("filters" = Option<BTreeMap<String, String>>, Query, style = Form, explode, description = "`<field>=<value>`: only rows whose field equals the value, compared as text (`true`/`false` match booleans)")),
    responses(
        (status = 200, description = "`{items, next}`, or with `format=csv` the rows as CSV (header `province,seq,entry_hash,<fields…>`, next page in a `Link` header)",
            content((Page<RowView> = "application/json"), (String = "text/csv"))),
        (status = 304, description = "`If-None-Match` names the answer's `ETag`: the copy the client has is current"),
        (status = 400, description = "`invalid_query` (a parameter or field name) or `invalid_cursor`"),
        (status = 404, description = "`not_found`: no such dataset")))]
pub async fn list_rows(
    State(state): State<AppState>,
    Path(dataset): Path<String>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Response, HubError> {
    let csv = match params.get("format").map(String::as_str) {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(Problem::bad_request(
                "invalid_query",
                format!("format «{other}» non valido: usare json oppure csv"),
            )
            .into());
        }
    };
    let separator = Separator::parse(params.get("sep").map(String::as_str))
        .map_err(|err| Problem::bad_request("invalid_query", err.to_string()))?;
    let limit = params
        .get("limit")
        .map(|l| l.parse::<u32>())
        .transpose()
        .map_err(|_| Problem::bad_request("invalid_query", "limit deve essere un numero intero"))?
        .unwrap_or(pico_service::page::DEFAULT_PAGE_SIZE)
        .clamp(1, if csv { 10_000 } else { 1_000 });
    let after: Option<(String, String)> =
        params.get("cursor").map(|c| decode_cursor(c)).transpose()?;
    let mut fields = Vec::new();
    for (key, value) in &params {
        if RESERVED.contains(&key.as_str()) {
            continue;
        }
        if !national::valid_name(key) {
            return Err(Problem::bad_request(
                "invalid_query",
                format!("«{key}» non è né un parametro né il nome di un campo del dataset"),
            )
            .into());
        }
        fields.push((key.clone(), value.clone()));
    }
    let filter = RowFilter {
        province: params.get("province").cloned(),
        comune: params.get("comune").cloned(),
        fields,
        after,
        limit: limit + 1,
    };
    let name = dataset.clone();
    let (rows, info) = state
        .db
        .call(move |conn| {
            let rows = national::query_rows(conn, &name, &filter)?;
            let info = if csv {
                national::list_datasets(conn)?
                    .into_iter()
                    .find(|d| d.name == name)
            } else {
                None
            };
            Ok::<_, HubError>((rows, info))
        })
        .await?;
    let rows =
        rows.ok_or_else(|| Problem::not_found(format!("il dataset «{dataset}» non esiste")))?;
    let page = Page::from_overfetch(rows, limit, |row| (row.province.clone(), row.pk.clone()));
    if csv {
        let fields = info.map(|i| i.fields).unwrap_or_default();
        return Ok(rows_csv(
            &page.items,
            &fields,
            separator,
            page.next.as_deref(),
        ));
    }
    let items = page
        .items
        .into_iter()
        .filter_map(|row| {
            Some(RowView {
                province: row.province,
                seq: row.seq,
                entry_hash: row.entry_hash,
                data: RawValue::from_string(row.data).ok()?,
            })
        })
        .collect();
    Ok(Json(Page {
        items,
        next: page.next,
    })
    .into_response())
}

fn rows_csv(
    rows: &[national::NationalRow],
    fields: &[String],
    separator: Separator,
    next: Option<&str>,
) -> Response {
    let mut header = vec!["province", "seq", "entry_hash"];
    header.extend(fields.iter().map(String::as_str));
    let mut writer = CsvWriter::new(separator, false);
    let mut written = writer.write(&header);
    for row in rows {
        let data: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&row.data).unwrap_or_default();
        let mut record = vec![
            row.province.clone(),
            row.seq.to_string(),
            row.entry_hash.clone(),
        ];
        record.extend(fields.iter().map(|f| match data.get(f) {
            None | Some(serde_json::Value::Null) => String::new(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        }));
        written = written.and_then(|()| writer.write(&record));
    }
    let body = match written.and_then(|()| writer.finish()) {
        Ok(body) => body,
        Err(err) => {
            tracing::error!(error = %err, "writing a CSV export failed");
            return Problem::internal().into_response();
        }
    };
    let mut response = pico_service::download::csv("rows.csv", body);
    if let Some(next) = next
        && let Ok(value) =
            axum::http::HeaderValue::from_str(&format!("<?cursor={next}&format=csv>; rel=\"next\""))
    {
        response.headers_mut().insert(header::LINK, value);
    }
    response
}

/// Query of an aggregate.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AggregateQuery {
    /// `province`, `region` or `month`.
    pub group_by: Option<String>,
    /// A decimal field to sum (e.g. `importo_base`).
    pub sum: Option<String>,
    /// The date field months are taken from (e.g. `data_pubblicazione`).
    pub date_field: Option<String>,
}

/// Counts (and sums) of a dataset by Province, region or month, for dashboards.
#[utoipa::path(get, path = "/v1/datasets/{dataset}/aggregates", tag = "national",
    params(("dataset" = String, Path, pattern = "^[a-z][a-z0-9_]{0,63}$", description = "dataset name, e.g. appalti"), AggregateQuery),
    responses(
        (status = 200, body = Page<AggregateRow>, description = "`next` is always null"),
        (status = 304, description = "`If-None-Match` names the answer's `ETag`: the copy the client has is current"),
        (status = 400, description = "`invalid_query`: unknown grouping or a bad field name"),
        (status = 404, description = "`not_found`: no such dataset")))]
pub async fn get_aggregates(
    State(state): State<AppState>,
    Path(dataset): Path<String>,
    Query(query): Query<AggregateQuery>,
) -> Result<Response, HubError> {
    let group = match query.group_by.as_deref() {
        None | Some("province") => GroupBy::Province,
        Some("region") => GroupBy::Region,
        Some("month") => GroupBy::Month,
        Some(other) => {
            return Err(Problem::bad_request(
                "invalid_query",
                format!("group_by «{other}» non valido: usare province, region oppure month"),
            )
            .into());
        }
    };
    for field in [&query.sum, &query.date_field].into_iter().flatten() {
        if !national::valid_name(field) {
            return Err(Problem::bad_request(
                "invalid_query",
                format!("«{field}» non è il nome di un campo"),
            )
            .into());
        }
    }
    let name = dataset.clone();
    let cache = state.aggregates.clone();
    let items = state
        .db
        .call(move |conn| {
            national::aggregate(
                conn,
                &cache,
                &name,
                group,
                query.sum.as_deref(),
                query.date_field.as_deref(),
            )
        })
        .await?
        .ok_or_else(|| Problem::not_found(format!("il dataset «{dataset}» non esiste")))?;
    Ok(Json(Page::<AggregateRow> { items, next: None }).into_response())
}

/// Query of the best-practice library.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PracticeParams {
    /// Words to search for (title, summary, text, tags).
    pub q: Option<String>,
    /// Module: sua, sape, sit, personale, helpdesk, formazione, dati, community.
    pub module: Option<String>,
    /// Province code.
    pub province: Option<String>,
    /// Page size: default 50; a value above 200 is reduced to 200, 0 counts as 1.
    #[param(value_type = Option<u64>, maximum = 4_294_967_295_u64)]
    pub limit: Option<u32>,
    /// The `next` value of the previous page.
    pub cursor: Option<String>,
}

/// Searches the national best-practice library.
#[utoipa::path(get, path = "/v1/practices", tag = "national", params(PracticeParams),
    responses(
        (status = 200, body = Page<PracticeSummary>),
        (status = 400, description = "`invalid_query` or `invalid_cursor`")))]
pub async fn search_practices(
    State(state): State<AppState>,
    Query(params): Query<PracticeParams>,
) -> Result<Json<Page<PracticeSummary>>, HubError> {
    let limit = params.limit.unwrap_or(50).clamp(1, 200);
    let offset: u32 = params
        .cursor
        .as_deref()
        .map(decode_cursor)
        .transpose()?
        .unwrap_or(0);
    let query = PracticeQuery {
        text: params.q,
        module: params.module,
        province: params.province,
        limit: limit + 1,
        offset,
    };
    let rows = state
        .db
        .call(move |conn| practices::search(conn, &query))
        .await?;
    let more = rows.len() > limit as usize;
    let mut items = rows;
    items.truncate(limit as usize);
    Ok(Json(Page {
        next: more.then(|| encode_cursor(&(offset + limit))),
        items,
    }))
}

/// Downloads an uploaded attachment by its SHA-256.
#[utoipa::path(get, path = "/v1/attachments/{sha256}", tag = "national",
    params(("sha256" = String, Path, pattern = "^[0-9a-f]{64}$", description = "SHA-256 of the file, 64 hex digits")),
    responses(
        (status = 200, description = "the file, with the media type its declaration gives", content((crate::http::FileBytes = "*/*"))),
        (status = 400, description = "`invalid_hash`"),
        (status = 404, description = "`not_found`: no published best practice declares an uploaded file with this hash")))]
pub async fn get_attachment(
    State(state): State<AppState>,
    Path(sha256): Path<String>,
) -> Result<Response, HubError> {
    let hash = parse_sha256(&sha256)?;
    let (media_type, bytes) = state
        .db
        .call(move |conn| crate::db::attachments::public(conn, &hash))
        .await?
        .ok_or_else(|| Problem::not_found("nessun allegato caricato ha questo SHA-256"))?;
    Ok((
        [
            (header::CONTENT_TYPE, media_type),
            (
                header::CACHE_CONTROL,
                "public, max-age=31536000, immutable".to_owned(),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            // Files come from nodes: never let a browser render one as a page of this site.
            (header::CONTENT_DISPOSITION, "attachment".to_owned()),
        ],
        bytes,
    )
        .into_response())
}
