//! The SUA data API: reports (JSON and CSV), the public OCDS export `GET /v1/sua/ocds`, and
//! imports of OCDS compiled releases and CSV files.

use axum::Router;

use crate::state::AppState;

/// The data routes.
pub fn router() -> Router<AppState> {
    Router::new()
}
