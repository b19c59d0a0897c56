//! Observability: tracing set-up, one span per request named by its route template, and the
//! Prometheus metrics every service exports.
//!
//! Spans carry `http.route` (the template, e.g. `/v1/helpdesk/requests/{id}`, never the raw
//! path, which may hold identifiers), `http.method`, `http.status` and `duration_ms`. Request
//! bodies, query strings, cookies and headers are never recorded: they may hold personal data
//! or credentials.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde::{Deserialize, Serialize};
use tracing::Instrument as _;

use crate::db::Db;

/// Log output format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines, for a terminal.
    #[default]
    Text,
    /// One JSON object per line, for journald/Loki/ELK.
    Json,
}

/// Installs the global tracing subscriber. `filter` uses `RUST_LOG` syntax; the `RUST_LOG`
/// environment variable wins when set. Calling it twice is harmless (tests do).
pub fn init_tracing(format: LogFormat, filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(filter))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _already_set = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
}

/// Latency buckets (seconds): fine below 50 ms where our targets are.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// The process-wide Prometheus recorder.
#[derive(Debug, Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
}

impl Metrics {
    /// Installs the recorder on first use and returns it; later calls share it (a process can
    /// have one global recorder, and tests start several servers in one process).
    pub fn global() -> Metrics {
        static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
        let handle = HANDLE.get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("duration_seconds".to_owned()),
                    LATENCY_BUCKETS,
                )
                .map(PrometheusBuilder::build_recorder)
                .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
            let handle = recorder.handle();
            // Fails only if another recorder was installed first; we then render an empty
            // registry rather than crash the service.
            let _ignored = metrics::set_global_recorder(recorder);
            handle
        });
        Metrics {
            handle: handle.clone(),
        }
    }

    /// The text exposition format, after refreshing the pool gauges of `db`.
    pub fn render(&self, db: Option<&Db>) -> String {
        if let Some(db) = db {
            let state = db.pool_state();
            metrics::gauge!("db_pool_connections").set(f64::from(state.connections));
            metrics::gauge!("db_pool_idle_connections").set(f64::from(state.idle));
            metrics::gauge!("db_pool_max_connections").set(f64::from(state.max));
        }
        // Without the exporter's HTTP listener nobody else runs upkeep (histogram draining).
        self.handle.run_upkeep();
        self.handle.render()
    }
}

/// Middleware: a span per request named by the route template, a log line when it ends,
/// and the `http_requests_total` / `http_request_duration_seconds` metrics.
pub async fn track_request(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().clone();
    let span = tracing::info_span!(
        "request",
        otel.name = %format_args!("{method} {route}"),
        http.method = %method,
        http.route = %route,
        http.status = tracing::field::Empty,
        duration_ms = tracing::field::Empty,
    );
    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    span.record("http.status", status);
    span.record("duration_ms", elapsed.as_secs_f64() * 1000.0);
    span.in_scope(|| tracing::debug!("request finished"));
    let labels = [
        ("route", route),
        ("method", method.to_string()),
        ("status", status.to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels[..2])
        .record(elapsed.as_secs_f64());
    response
}
