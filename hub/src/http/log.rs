//! The transparency log's public endpoints: latest checkpoint, every checkpoint, and proofs.

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use pico_protocol::merkle::{self, ConsistencyProof, InclusionProof, NodeSource};
use pico_service::json::Query;
use pico_service::{Json, Problem};
use serde::{Deserialize, Serialize};

use crate::db::log::{self, DbTree};
use crate::error::HubError;
use crate::http::parse_province;
use crate::state::AppState;

/// The transparency-log routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/log/checkpoint", get(get_checkpoint))
        .route("/v1/log/checkpoints", get(list_checkpoints))
        .route("/v1/log/proof/inclusion", get(get_inclusion_proof))
        .route("/v1/log/proof/consistency", get(get_consistency_proof))
}

fn http_date(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
            ))
            .ok()
        })
        .unwrap_or_default()
}

/// The latest signed checkpoint (C2SP signed note, text/plain). `Last-Modified` is when the
/// hub last confirmed it is current.
#[utoipa::path(get, path = "/v1/log/checkpoint", tag = "log",
    responses(
        (status = 200, description = "the C2SP signed note (SPEC §10.5)", content((String = "text/plain"))),
        (status = 404, description = "`not_found`: no checkpoint signed yet")))]
pub async fn get_checkpoint(State(state): State<AppState>) -> Result<Response, HubError> {
    let checkpoint = state
        .db
        .call(|conn| log::latest_checkpoint(conn))
        .await?
        .ok_or_else(|| Problem::not_found("l'hub non ha ancora firmato alcun checkpoint"))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()),
            (header::LAST_MODIFIED, http_date(checkpoint.confirmed_at)),
            (header::CACHE_CONTROL, "no-cache".to_owned()),
        ],
        checkpoint.note,
    )
        .into_response())
}

/// A checkpoint in the list of all checkpoints.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CheckpointView {
    /// Tree size.
    pub size: u64,
    /// Root hash, hex.
    pub root: String,
    /// The signed note.
    pub note: String,
    /// When it was signed (RFC 3339).
    pub signed_at: String,
    /// When it was last confirmed current (RFC 3339).
    pub confirmed_at: String,
}

/// Every checkpoint the hub signed, oldest first, so anyone can check their consistency.
#[utoipa::path(get, path = "/v1/log/checkpoints", tag = "log",
    responses((status = 200, body = Vec<CheckpointView>, description = "oldest first")))]
pub async fn list_checkpoints(
    State(state): State<AppState>,
) -> Result<Json<Vec<CheckpointView>>, HubError> {
    let all = state.db.call(|conn| log::list_checkpoints(conn)).await?;
    Ok(Json(
        all.into_iter()
            .map(|c| CheckpointView {
                size: c.size,
                root: c.root.to_hex(),
                note: c.note,
                signed_at: crate::db::rfc3339(c.signed_at),
                confirmed_at: crate::db::rfc3339(c.confirmed_at),
            })
            .collect(),
    ))
}

/// Query of an inclusion proof.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InclusionQuery {
    /// Province code of the entry, e.g. 026.
    pub province: String,
    /// Seq of the entry.
    pub seq: u64,
    /// Tree size the proof is for (a checkpoint's size); the current size when absent.
    pub tree_size: Option<u64>,
}

/// Inclusion proof of a Province's entry in the tree of `tree_size` leaves.
#[utoipa::path(get, path = "/v1/log/proof/inclusion", tag = "log", params(InclusionQuery),
    responses(
        (status = 200, body = InclusionProofView),
        (status = 400, description = "`invalid_query`, `invalid_province`, `size_beyond_tree` (tree_size above the log's size) or `index_out_of_range` (the entry is not in that tree)"),
        (status = 404, description = "`not_found`: no such entry in the log")))]
pub async fn get_inclusion_proof(
    State(state): State<AppState>,
    Query(query): Query<InclusionQuery>,
) -> Result<Json<InclusionProof>, HubError> {
    let province = parse_province(&query.province)?;
    let proof = state
        .db
        .call(move |conn| {
            let (index, _hash) = log::leaf_of(conn, province, query.seq)?.ok_or_else(|| {
                Problem::not_found(format!(
                    "la voce n. {} della Provincia {province} non è nel registro",
                    query.seq
                ))
            })?;
            let tree = DbTree::open(conn)?;
            let size = query.tree_size.unwrap_or_else(|| tree.size());
            Ok::<_, HubError>(merkle::inclusion_proof(&tree, index, size)?)
        })
        .await?;
    Ok(Json(proof))
}

/// An inclusion proof as served (SPEC §10.3), for the OpenAPI document.
#[derive(Debug, utoipa::ToSchema)]
pub struct InclusionProofView {
    /// Index of the entry's leaf.
    pub leaf_index: u64,
    /// Size of the tree the proof is for.
    pub tree_size: u64,
    /// Hashes, hex, from the leaf's sibling up.
    pub hashes: Vec<String>,
}

/// A consistency proof as served (SPEC §10.3), for the OpenAPI document.
#[derive(Debug, utoipa::ToSchema)]
pub struct ConsistencyProofView {
    /// The earlier size.
    pub old_size: u64,
    /// The later size.
    pub new_size: u64,
    /// Hashes, hex, in RFC 9162 order.
    pub hashes: Vec<String>,
}

/// Query of a consistency proof.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The earlier tree size.
    pub old: u64,
    /// The later tree size.
    pub new: u64,
}

/// Consistency proof between the trees of `old` and `new` leaves.
#[utoipa::path(get, path = "/v1/log/proof/consistency", tag = "log", params(ConsistencyQuery),
    responses(
        (status = 200, body = ConsistencyProofView),
        (status = 400, description = "`invalid_query`, `size_beyond_tree` (new above the log's size) or `size_order` (old above new)")))]
pub async fn get_consistency_proof(
    State(state): State<AppState>,
    Query(query): Query<ConsistencyQuery>,
) -> Result<Json<ConsistencyProof>, HubError> {
    let proof = state
        .db
        .call(move |conn| {
            let tree = DbTree::open(conn)?;
            Ok::<_, HubError>(merkle::consistency_proof(&tree, query.old, query.new)?)
        })
        .await?;
    Ok(Json(proof))
}
