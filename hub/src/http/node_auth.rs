//! Authentication of node requests that carry no entry: `Authorization: Pico-Signature …`
//! (`pico_protocol::request_auth`), checked against the same key directory as entries.
//!
//! Every failure to authenticate is a 401 whose `code` is the protocol's (`bad_signature`,
//! `unknown_key`, `unauthorised_key`, `revoked_key`, `malformed_envelope` for a stale, misdirected
//! or malformed signature) with `hub_time`, so a node whose clock drifted can tell. Being
//! authenticated but not allowed (another Province's membership) is a 403, decided by the
//! handler.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pico_protocol::request_auth::{MAX_SKEW_SECS, RequestAuth, SCHEME};
use pico_protocol::{EntryError, ProvinceCode, Timestamp};
use pico_service::Problem;

use crate::db::keys::DbKeys;
use crate::error::HubError;
use crate::http::operator::Operator;
use crate::state::AppState;

/// A request signed by a node's current key: the Province it speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeCaller(pub ProvinceCode);

/// Who may change a network membership: the node itself or an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberCaller {
    /// The operator bearer token.
    Operator,
    /// A node, by its signature.
    Node(ProvinceCode),
}

fn unauthenticated(code: &'static str, detail: String) -> Response {
    let mut response = Problem::from_status(StatusCode::UNAUTHORIZED)
        .with_code(code)
        .with_detail(detail)
        .with_extension("hub_time", Timestamp::now().to_string())
        .into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(SCHEME));
    response
}

fn refused(error: &EntryError) -> Response {
    unauthenticated(
        error.code(),
        format!("autenticazione della richiesta non riuscita: {error}"),
    )
}

impl FromRequestParts<AppState> for NodeCaller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(unauthenticated(
                "unauthorized",
                format!(
                    "firmare la richiesta con la chiave del nodo: `Authorization: {SCHEME} <jws-compact>` (protocol/SPEC.md §11.1)"
                ),
            ));
        };
        let value = value
            .to_str()
            .map_err(|_| {
                refused(&EntryError::Malformed(
                    "il valore di Authorization contiene caratteri non ASCII".into(),
                ))
            })?
            .to_owned();
        let method = parts.method.as_str().to_owned();
        let path = parts.uri.path().to_owned();
        // The key lookup reads SQLite, so the check runs on the blocking pool.
        let checked = state
            .db
            .call(move |conn| {
                Ok::<_, HubError>(RequestAuth::verify(
                    &value,
                    &DbKeys(conn),
                    &method,
                    &path,
                    Timestamp::now(),
                    MAX_SKEW_SECS,
                ))
            })
            .await
            .map_err(IntoResponse::into_response)?;
        match checked {
            Ok(province) => Ok(NodeCaller(province)),
            Err(error) => {
                metrics::counter!("hub_request_auth_refused_total", "code" => error.code())
                    .increment(1);
                Err(refused(&error))
            }
        }
    }
}

impl FromRequestParts<AppState> for MemberCaller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("Bearer "));
        if bearer {
            Operator::from_request_parts(parts, state)
                .await
                .map(|Operator| MemberCaller::Operator)
                .map_err(IntoResponse::into_response)
        } else {
            NodeCaller::from_request_parts(parts, state)
                .await
                .map(|NodeCaller(province)| MemberCaller::Node(province))
        }
    }
}
