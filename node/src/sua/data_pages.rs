//! The SUA report and import pages.

use axum::Router;

use crate::state::AppState;

/// The report and import pages.
pub fn router() -> Router<AppState> {
    Router::new()
}
