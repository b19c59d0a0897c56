//! The operators' API: enrolment, key revocation, keys and equivocation evidence.
//!
//! Guarded by the bearer token of `operator_token`; with no token configured the routes answer
//! 404, so a hub never exposes them by accident. The same operations exist as CLI commands.

use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::routing::{get, post};
use pico_protocol::{KeyId, PublicKey, Seq};
use pico_service::{Json, Problem};
use serde::{Deserialize, Serialize};

use crate::db::keys::{self, KeyAdminError, KeyRow};
use crate::db::log::{self, Equivocation};
use crate::error::HubError;
use crate::http::parse_province;
use crate::state::AppState;

/// The operator routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/operator/keys", get(list_keys))
        .route("/v1/operator/enrolments", post(enrol_key))
        .route("/v1/operator/revocations", post(revoke_key))
        .route("/v1/operator/equivocations", get(list_equivocations))
}

/// Proof that the request carries the operator token.
#[derive(Debug, Clone, Copy)]
pub struct Operator;

/// Compares in time independent of where the first difference is.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let expected = state.config.operator_token.expose();
        if expected.is_empty() {
            return Err(Problem::not_found(
                "l'interfaccia per gli operatori è disattivata su questo hub (nessun token di operatore configurato)",
            ));
        }
        let given = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if same_secret(given.as_bytes(), expected.as_bytes()) {
            Ok(Operator)
        } else {
            Err(Problem::from_status(StatusCode::UNAUTHORIZED)
                .with_code("unauthorized")
                .with_detail("invia il token di operatore come `Authorization: Bearer <token>`"))
        }
    }
}

fn admin_problem(error: KeyAdminError) -> HubError {
    match error {
        KeyAdminError::Db(e) => e.into(),
        KeyAdminError::AlreadyEnrolled(_) => Problem::from_status(StatusCode::CONFLICT)
            .with_code("already_enrolled")
            .with_detail(error.to_string())
            .into(),
        other => Problem::bad_request("invalid_enrolment", other.to_string()).into(),
    }
}

/// Every key of every Province.
#[utoipa::path(get, path = "/v1/operator/keys", tag = "operator", security(("operator" = [])),
    responses(
        (status = 200, body = Vec<KeyRow>, description = "by Province, then validity"),
        (status = 401, description = "`unauthorized`: missing or wrong operator token"),
        (status = 404, description = "`not_found`: the operator API is disabled (no token configured)")))]
pub async fn list_keys(
    _: Operator,
    State(state): State<AppState>,
) -> Result<Json<Vec<KeyRow>>, HubError> {
    Ok(Json(state.db.call(|conn| keys::list(conn)).await?))
}

/// Every recorded equivocation, newest first.
#[utoipa::path(get, path = "/v1/operator/equivocations", tag = "operator", security(("operator" = [])),
    responses(
        (status = 200, body = Vec<Equivocation>, description = "newest first"),
        (status = 401, description = "`unauthorized`: missing or wrong operator token"),
        (status = 404, description = "`not_found`: the operator API is disabled (no token configured)")))]
pub async fn list_equivocations(
    _: Operator,
    State(state): State<AppState>,
) -> Result<Json<Vec<Equivocation>>, HubError> {
    Ok(Json(
        state.db.call(|conn| log::list_equivocations(conn)).await?,
    ))
}

/// An enrolment request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    /// Province code.
    pub province: String,
    /// The node's public key, `ed25519:…`.
    pub key: String,
}

/// The answer to an enrolment.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Enrolled {
    /// Province code.
    pub province: String,
    /// Key id of the enrolled key.
    pub kid: String,
    /// First seq it may sign.
    pub valid_from: u64,
}

/// The answer to a revocation.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Revoked {
    /// First seq the key may no longer sign.
    pub revoked_from: u64,
}

/// Enrols a Province's key (after the out-of-band "protocollo di adesione").
#[utoipa::path(post, path = "/v1/operator/enrolments", tag = "operator", security(("operator" = [])),
    request_body(content = EnrolRequest, content_type = "application/json"),
    responses(
        (status = 201, body = Enrolled),
        (status = 400, description = "`malformed_json`, `invalid_province`, `invalid_key` or `invalid_enrolment`"),
        (status = 401, description = "`unauthorized`: missing or wrong operator token"),
        (status = 404, description = "`not_found`: the operator API is disabled (no token configured)"),
        (status = 409, description = "`already_enrolled`: this key is already enrolled")))]
pub async fn enrol_key(
    _: Operator,
    State(state): State<AppState>,
    Json(request): Json<EnrolRequest>,
) -> Result<(StatusCode, Json<Enrolled>), HubError> {
    let province = parse_province(&request.province)?;
    let key: PublicKey = request
        .key
        .parse()
        .map_err(|e: pico_protocol::keys::KeyError| {
            Problem::bad_request("invalid_key", e.to_string())
        })?;
    let _writer = state.writer.lock().await;
    let record = state
        .db
        .call(move |conn| keys::enrol(conn, province, &key).map_err(admin_problem))
        .await?;
    tracing::info!(node.province = %province, "key enrolled");
    Ok((
        StatusCode::CREATED,
        Json(Enrolled {
            province: record.province.to_string(),
            kid: record.key.key_id().to_string(),
            valid_from: record.valid_from.get(),
        }),
    ))
}

/// A revocation request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// Province code.
    pub province: String,
    /// Key id to revoke.
    pub kid: String,
    /// First seq the key may no longer sign, 1 … 2^53−1 (the next one when absent).
    #[schema(minimum = 1, maximum = 9_007_199_254_740_991_i64)]
    pub from_seq: Option<u64>,
    /// Why.
    pub reason: String,
}

/// Revokes a key.
#[utoipa::path(post, path = "/v1/operator/revocations", tag = "operator", security(("operator" = [])),
    request_body(content = RevokeRequest, content_type = "application/json"),
    responses(
        (status = 200, body = Revoked),
        (status = 400, description = "`malformed_json`, `invalid_province`, `invalid_key` or `invalid_enrolment` (e.g. not a key of that Province)"),
        (status = 401, description = "`unauthorized`: missing or wrong operator token"),
        (status = 404, description = "`not_found`: the operator API is disabled (no token configured)")))]
pub async fn revoke_key(
    _: Operator,
    State(state): State<AppState>,
    Json(request): Json<RevokeRequest>,
) -> Result<Json<Revoked>, HubError> {
    let province = parse_province(&request.province)?;
    let kid = KeyId::parse(&request.kid)
        .map_err(|e| Problem::bad_request("invalid_key", e.to_string()))?;
    if let Some(seq) = request.from_seq {
        Seq::new(seq).map_err(|e| Problem::bad_request("invalid_enrolment", e.to_string()))?;
    }
    let _writer = state.writer.lock().await;
    let from = state
        .db
        .call(move |conn| {
            keys::revoke(conn, province, &kid, request.from_seq, &request.reason)
                .map_err(admin_problem)
        })
        .await?;
    tracing::info!(node.province = %province, revoked_from = from, "key revoked");
    Ok(Json(Revoked { revoked_from: from }))
}
