//! The SUA web pages: the Comune's requests and procedures, the SUA operator's desk.

use axum::Router;

use crate::state::AppState;

/// The workflow pages.
pub fn router() -> Router<AppState> {
    Router::new()
}
