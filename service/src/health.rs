//! `/healthz`, `/readyz`, `/status` and `/metrics`, the same on every service.
//!
//! - `/healthz`: the process answers (liveness); never touches the database.
//! - `/readyz`: the database answers and is at this binary's schema version.
//! - `/status`: the AgID-style health resource, a problem+json body with status 200 when
//!   healthy and 503 otherwise.
//! - `/metrics`: Prometheus text format.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::db::Db;
use crate::observe::Metrics;
use crate::problem::Problem;

#[derive(Debug, Clone)]
struct Health {
    db: Db,
    metrics: Metrics,
}

/// The health routes, for merging into any router.
pub fn router<S: Clone + Send + Sync + 'static>(db: Db, metrics: Metrics) -> Router<S> {
    Router::new()
        .route("/healthz", get(get_healthz))
        .route("/readyz", get(get_readyz))
        .route("/status", get(get_status))
        .route("/metrics", get(get_metrics))
        .with_state(Health { db, metrics })
}

async fn get_healthz() -> &'static str {
    "ok\n"
}

async fn get_readyz(State(health): State<Health>) -> (StatusCode, &'static str) {
    if health.db.is_ready().await {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database not ready\n")
    }
}

async fn get_status(State(health): State<Health>) -> Problem {
    if health.db.is_ready().await {
        Problem::new(StatusCode::OK, "OK").with_detail("Il servizio e il suo database funzionano.")
    } else {
        Problem::from_status(StatusCode::SERVICE_UNAVAILABLE)
            .with_code("not_ready")
            .with_detail("Il database non è raggiungibile o non è alla versione dello schema di questa release.")
    }
}

async fn get_metrics(State(health): State<Health>) -> Response {
    let body = health.metrics.render(Some(&health.db));
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}
