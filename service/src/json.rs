//! `Json` and `Query` extractors whose rejections are problem+json, not axum's plain text.
//!
//! Status codes, documented once here and in each service's OpenAPI document:
//! - malformed JSON (a syntax error) → **400** `malformed_json`;
//! - well-formed JSON of the wrong shape (wrong type, missing or **unknown field** — request
//!   types use `#[serde(deny_unknown_fields)]`) → **422** `invalid_body`, because the syntax
//!   was fine and the content was not;
//! - a missing or wrong `Content-Type` → **415** `unsupported_media_type`;
//! - a body over the limit ([`crate::http::body_limit`]) → **413** `body_too_large`;
//! - an invalid query string → **400** `invalid_query`;
//! - an invalid path parameter (e.g. a non-numeric id) → **400** `invalid_path`.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::problem::Problem;

/// A JSON body (request or response). Rejections become [`Problem`]s.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => Err(json_problem(&rejection)),
        }
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Maps axum's JSON rejection onto our documented statuses and codes.
pub fn json_problem(rejection: &JsonRejection) -> Problem {
    match rejection {
        JsonRejection::JsonSyntaxError(err) => Problem::bad_request(
            "malformed_json",
            format!(
                "Il corpo della richiesta non è JSON valido ({}).",
                source_text(err)
            ),
        ),
        JsonRejection::JsonDataError(err) => Problem::from_status(StatusCode::UNPROCESSABLE_ENTITY)
            .with_code("invalid_body")
            .with_detail(format!(
                "Il JSON non ha la forma attesa ({}).",
                source_text(err)
            )),
        JsonRejection::MissingJsonContentType(_) => {
            Problem::from_status(StatusCode::UNSUPPORTED_MEDIA_TYPE)
                .with_code("unsupported_media_type")
                .with_detail("Invia il corpo come JSON, con `Content-Type: application/json`.")
        }
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => body_too_large(),
        other => Problem::from_status(other.status())
            .with_code("invalid_body")
            .with_detail(format!("Indirizzo non valido ({}).", other.body_text())),
    }
}

/// The 413 problem, shared with the multipart and body-limit paths.
pub fn body_too_large() -> Problem {
    Problem::from_status(StatusCode::PAYLOAD_TOO_LARGE)
        .with_code("body_too_large")
        .with_detail("Il corpo della richiesta supera la dimensione che questo indirizzo accetta.")
}

/// serde's message without axum's "Failed to deserialize…" prefix: it names the field and
/// position, which is what a client developer needs.
fn source_text(err: &dyn std::error::Error) -> String {
    let mut current: &dyn std::error::Error = err;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

/// A query string. Rejections become 400 problems.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(query_problem(&rejection)),
        }
    }
}

fn query_problem(rejection: &QueryRejection) -> Problem {
    match rejection {
        QueryRejection::FailedToDeserializeQueryString(err) => Problem::bad_request(
            "invalid_query",
            format!(
                "Parametri della richiesta non validi ({}).",
                source_text(err)
            ),
        ),
        other => Problem::bad_request(
            "invalid_query",
            format!(
                "Parametri della richiesta non validi ({}).",
                other.body_text()
            ),
        ),
    }
}

/// A path parameter. Rejections become 400 problems.
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(rejection) => Err(path_problem(&rejection)),
        }
    }
}

fn path_problem(rejection: &PathRejection) -> Problem {
    match rejection {
        PathRejection::FailedToDeserializePathParams(err) => Problem::bad_request(
            "invalid_path",
            format!("Indirizzo non valido ({}).", err.body_text()),
        ),
        other => Problem::from_status(other.status())
            .with_code("invalid_path")
            .with_detail(format!("Indirizzo non valido ({}).", other.body_text())),
    }
}
