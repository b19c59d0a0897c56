//! The SUA workflow API under `/v1/sua`: requests, procedures, lots, awards, transitions,
//! attachments and convenzioni.

use axum::Router;

use crate::state::AppState;

/// The workflow routes.
pub fn router() -> Router<AppState> {
    Router::new()
}
