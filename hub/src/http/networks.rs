//! Thematic networks as nodes see them: membership, the inbox they pull (long-poll), and the
//! key directory they verify the origin's signature with.
//!
//! Delivery is by pull only (nodes accept no inbound connections), at least once: a node keeps
//! the `next` cursor it has processed and deduplicates by (origin, seq). Members read every post
//! of their networks from the network's beginning, whenever they joined.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use pico_protocol::ProvinceCode;
use pico_protocol::payload::Network;
use pico_service::json::{Path, Query};
use pico_service::{Json, Problem};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::db::networks::{self, InboxItem, NetworkView};
use crate::db::{self, corrupt};
use crate::error::HubError;
use crate::http::node_auth::{MemberCaller, NodeCaller};
use crate::http::parse_province;
use crate::state::AppState;

/// Inbox page size when the node does not ask for one.
pub const DEFAULT_INBOX_LIMIT: u32 = 100;
/// Largest inbox page; a larger `limit` is reduced to it.
pub const MAX_INBOX_LIMIT: u32 = 500;
/// Longest long-poll; a larger `wait` is reduced to it.
pub const MAX_INBOX_WAIT_SECS: u64 = 60;

/// The network routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/federation/networks", get(list_networks))
        .route(
            "/v1/federation/networks/{network}/members/{province}",
            put(join_network).delete(leave_network),
        )
        .route("/v1/federation/inbox", get(get_inbox))
        .route("/v1/federation/keys", get(list_federation_keys))
}

/// `{items: [...]}` of a short list that has no further pages.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NetworkList {
    /// Every network the hub hosts, with its members.
    pub items: Vec<NetworkView>,
}

/// The thematic networks and their member Provinces.
#[utoipa::path(get, path = "/v1/federation/networks", tag = "networks",
    responses((status = 200, body = NetworkList)))]
pub async fn list_networks(State(state): State<AppState>) -> Result<Json<NetworkList>, HubError> {
    let items = state.db.call(|conn| networks::list(conn)).await?;
    Ok(Json(NetworkList { items }))
}

fn parse_network(text: &str) -> Result<Network, Problem> {
    networks::parse(text).ok_or_else(|| {
        Problem::not_found(format!(
            "la rete «{text}» non esiste: l'hub ospita le reti sua, sape, sit e personale"
        ))
    })
}

/// Checks that the caller may change `province`'s membership: a node only its own.
fn authorise(caller: MemberCaller, province: ProvinceCode) -> Result<(), Problem> {
    match caller {
        MemberCaller::Operator => Ok(()),
        MemberCaller::Node(own) if own == province => Ok(()),
        MemberCaller::Node(own) => Err(Problem::from_status(StatusCode::FORBIDDEN)
            .with_code("forbidden")
            .with_detail(format!(
                "la Provincia {own} può cambiare soltanto le proprie adesioni alle reti, non quelle della Provincia {province}"
            ))),
    }
}

/// A membership after a join.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Membership {
    /// Network wire name.
    pub network: String,
    /// Member Province.
    pub province: String,
    /// When it joined (RFC 3339); unchanged by a repeated join.
    pub joined_at: String,
}

/// Joins a Province to a network (idempotent). The node signs the request itself
/// (`Pico-Signature`), or an operator sends the bearer token.
#[utoipa::path(put, path = "/v1/federation/networks/{network}/members/{province}", tag = "networks",
    params(("network" = String, Path, pattern = "^(sua|sape|sit|personale)$", description = "sua, sape, sit or personale"),
           ("province" = String, Path, pattern = "^[0-9]{3}$", description = "ISTAT historical province code, e.g. 026")),
    security(("pico_signature" = []), ("operator" = [])),
    responses(
        (status = 200, body = Membership),
        (status = 400, description = "`invalid_province`"),
        (status = 401, description = "missing, bad, stale or revoked request signature"),
        (status = 403, description = "a node changing another Province's membership"),
        (status = 404, description = "unknown network or Province"),
    ))]
pub async fn join_network(
    caller: MemberCaller,
    State(state): State<AppState>,
    Path((network, province)): Path<(String, String)>,
) -> Result<Json<Membership>, HubError> {
    let network = parse_network(&network)?;
    let province = parse_province(&province)?;
    authorise(caller, province)?;
    let _writer = state.writer.lock().await;
    let joined_at = state
        .db
        .call(move |conn| {
            if !db::registry::exists(conn, province)? {
                return Err(HubError::from(Problem::not_found(format!(
                    "la Provincia {province} non è nell'elenco ISTAT delle Province"
                ))));
            }
            Ok(networks::join(conn, network, province)?)
        })
        .await?;
    tracing::info!(node.province = %province, network = networks::name(network), "network joined");
    Ok(Json(Membership {
        network: networks::name(network).to_owned(),
        province: province.to_string(),
        joined_at: db::rfc3339(joined_at),
    }))
}

/// Removes a Province from a network (idempotent: 204 whether or not it was a member).
#[utoipa::path(delete, path = "/v1/federation/networks/{network}/members/{province}", tag = "networks",
    params(("network" = String, Path, pattern = "^(sua|sape|sit|personale)$", description = "sua, sape, sit or personale"),
           ("province" = String, Path, pattern = "^[0-9]{3}$", description = "ISTAT historical province code, e.g. 026")),
    security(("pico_signature" = []), ("operator" = [])),
    responses(
        (status = 204, description = "not a member (any more)"),
        (status = 400, description = "`invalid_province`"),
        (status = 401, description = "missing, bad, stale or revoked request signature, or a wrong operator token"),
        (status = 403, description = "a node changing another Province's membership"),
        (status = 404, description = "unknown network"),
    ))]
pub async fn leave_network(
    caller: MemberCaller,
    State(state): State<AppState>,
    Path((network, province)): Path<(String, String)>,
) -> Result<StatusCode, HubError> {
    let network = parse_network(&network)?;
    let province = parse_province(&province)?;
    authorise(caller, province)?;
    let _writer = state.writer.lock().await;
    let was_member = state
        .db
        .call(move |conn| networks::leave(conn, network, province))
        .await?;
    if was_member {
        tracing::info!(node.province = %province, network = networks::name(network), "network left");
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Query of an inbox pull.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InboxQuery {
    /// The `next` of the previous answer; 0 (the default) reads from the beginning.
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// Items per answer: default 100; a value above 500 is reduced to 500, 0 counts as 1.
    #[param(value_type = Option<u64>, maximum = 4_294_967_295_u64)]
    pub limit: Option<u32>,
    /// Seconds to wait when nothing is newer than `after`: default 0; a value above 60 is
    /// reduced to 60.
    pub wait: Option<u64>,
}

/// One routed post.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InboxEntry {
    /// Its position in the hub's inbox.
    pub cursor: i64,
    /// The Province that signed it.
    pub origin: String,
    /// Its seq in the origin's log (deduplicate by origin and seq).
    pub seq: u64,
    /// The network it was posted to.
    pub network: String,
    /// The signed entry exactly as the origin sent it; verify it with the origin's key.
    #[schema(value_type = Object)]
    pub entry: Box<RawValue>,
}

/// An inbox answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InboxPage {
    /// Posts after `after`, in cursor order (so each origin's posts in seq order).
    pub items: Vec<InboxEntry>,
    /// The cursor to send as `after` next time (the last item's, or `after` when empty).
    pub next: String,
}

fn inbox_entry(item: InboxItem) -> Result<InboxEntry, HubError> {
    let text = String::from_utf8(item.wire).map_err(|e| corrupt("entries", e))?;
    Ok(InboxEntry {
        cursor: item.cursor,
        origin: item.origin,
        seq: item.seq,
        network: item.network,
        entry: RawValue::from_string(text).map_err(|e| corrupt("entries", e))?,
    })
}

/// The posts of the caller's networks after `after`, other than its own. With `wait`, when
/// there are none yet, the answer waits until one is accepted or `wait` seconds pass.
#[utoipa::path(get, path = "/v1/federation/inbox", tag = "networks", params(InboxQuery),
    security(("pico_signature" = [])),
    responses(
        (status = 200, body = InboxPage),
        (status = 400, description = "`invalid_query`: a parameter that does not parse, an unknown one, or a negative `after`"),
        (status = 401, description = "missing, bad, stale or revoked request signature"),
    ))]
pub async fn get_inbox(
    NodeCaller(province): NodeCaller,
    State(state): State<AppState>,
    Query(query): Query<InboxQuery>,
) -> Result<Response, HubError> {
    let after = query.after.unwrap_or(0);
    if after < 0 {
        return Err(Problem::bad_request("invalid_query", "after deve essere 0 o più").into());
    }
    let limit = query
        .limit
        .unwrap_or(DEFAULT_INBOX_LIMIT)
        .clamp(1, MAX_INBOX_LIMIT);
    let wait = Duration::from_secs(query.wait.unwrap_or(0).min(MAX_INBOX_WAIT_SECS));
    let deadline = tokio::time::Instant::now() + wait;
    // Subscribe before reading, so a post committed between the read and the wait still
    // wakes this poll.
    let mut posted = state.inbox.subscribe();
    let items = loop {
        posted.borrow_and_update();
        let items = state
            .db
            .call(move |conn| networks::inbox(conn, province, after, limit))
            .await?;
        if !items.is_empty() || wait.is_zero() {
            break items;
        }
        // A wake-up may be a post for other networks: read again, until the deadline.
        let woken = tokio::select! {
            changed = posted.changed() => changed.is_ok(),
            () = tokio::time::sleep_until(deadline) => false,
            () = state.inbox.closed() => false,
        };
        if !woken {
            break items;
        }
    };
    let next = items.last().map_or(after, |item| item.cursor).to_string();
    let items = items
        .into_iter()
        .map(inbox_entry)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(InboxPage { items, next }).into_response())
}

/// One key of the federation, as a receiver needs it to verify entries.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FederationKey {
    /// Key id (RFC 7638 thumbprint).
    pub kid: String,
    /// The Province it signs for.
    pub province: String,
    /// `ed25519:…`.
    pub public_key: String,
    /// First seq it may sign.
    pub valid_from: u64,
    /// First seq it may no longer sign, if revoked or rotated out.
    pub revoked_from: Option<u64>,
}

/// `{items: [...]}` of every key.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FederationKeyList {
    /// Every enrolled or rotated-in key, by Province then validity.
    pub items: Vec<FederationKey>,
}

/// Every key of every Province, so receivers verify the origin's signature themselves. A node
/// pins the keys it has seen: a key it already holds never changes, and new keys after the
/// first come through key-rotation entries signed by the previous key.
#[utoipa::path(get, path = "/v1/federation/keys", tag = "networks",
    responses((status = 200, body = FederationKeyList)))]
pub async fn list_federation_keys(
    State(state): State<AppState>,
) -> Result<Json<FederationKeyList>, HubError> {
    let rows = state.db.call(|conn| db::keys::list(conn)).await?;
    let items = rows
        .into_iter()
        .map(|row| FederationKey {
            kid: row.kid,
            province: row.province,
            public_key: row.public_key,
            valid_from: row.valid_from,
            revoked_from: row.revoked_from,
        })
        .collect();
    Ok(Json(FederationKeyList { items }))
}
