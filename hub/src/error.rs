//! The hub's one error type, rendered as problem+json for the API (and as a page for HTML).
//!
//! 4xx carry a message for the client; 5xx carry a generic one, and the cause is logged here,
//! once, at the boundary.

use axum::response::{IntoResponse, Response};
use pico_service::Problem;

use crate::db::DbError;
use crate::db::log::TreeError;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// A client error, already phrased for the client.
    #[error("{0}")]
    Problem(Problem),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<Problem> for HubError {
    fn from(problem: Problem) -> Self {
        HubError::Problem(problem)
    }
}

impl From<pico_service::DbError> for HubError {
    fn from(e: pico_service::DbError) -> Self {
        HubError::Db(e.into())
    }
}

impl From<rusqlite::Error> for HubError {
    fn from(e: rusqlite::Error) -> Self {
        HubError::Db(e.into())
    }
}

impl From<TreeError> for HubError {
    fn from(e: TreeError) -> Self {
        match e {
            TreeError::Db(e) => HubError::Db(e),
            TreeError::Merkle(pico_protocol::merkle::MerkleError::NodeMissing { level, index }) => {
                HubError::Db(crate::db::corrupt(
                    "merkle_nodes",
                    format!("node missing at level {level}, index {index}"),
                ))
            }
            TreeError::Merkle(e) => {
                HubError::Problem(Problem::bad_request(e.code(), e.to_string()))
            }
        }
    }
}

impl HubError {
    /// The problem a client sees; logs the cause of a 5xx.
    pub fn into_problem(self) -> Problem {
        match self {
            HubError::Problem(problem) => problem,
            HubError::Db(error) => {
                tracing::error!(%error, "request failed");
                Problem::internal()
            }
        }
    }
}

impl IntoResponse for HubError {
    fn into_response(self) -> Response {
        self.into_problem().into_response()
    }
}
