//! The HTTP conventions every service applies in the same order: panic catching, request
//! tracing and metrics, client address resolution, rate limiting, body size limit and
//! security headers (caching and transport included). [`layers`] wraps a finished `Router`
//! with all of them.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tower_http::catch_panic::CatchPanicLayer;

use crate::observe;
use crate::problem::Problem;
use crate::ratelimit::{self, RateLimiter};

/// HTTP settings shared by node and hub configs (a `[http]` table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// Largest request body accepted by default, in bytes (endpoints may lower it).
    pub body_limit_bytes: usize,
    /// Requests a client may make at once before being slowed down.
    pub rate_limit_burst: u32,
    /// Sustained requests per minute per client.
    pub rate_limit_per_minute: u32,
    /// Take the client address from the last `X-Forwarded-For` entry. Enable only behind a
    /// reverse proxy that sets it, or clients could choose their own rate-limit bucket.
    pub trust_forwarded_for: bool,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            body_limit_bytes: 64 * 1024,
            rate_limit_burst: 200,
            rate_limit_per_minute: 1200,
            trust_forwarded_for: false,
        }
    }
}

impl HttpSettings {
    /// Problems with the values, for `check-config`.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.body_limit_bytes < 1024 {
            problems.push("http.body_limit_bytes deve essere almeno 1024".to_owned());
        }
        if self.rate_limit_burst == 0 {
            problems.push("http.rate_limit_burst deve essere almeno 1".to_owned());
        }
        if self.rate_limit_per_minute == 0 {
            problems.push("http.rate_limit_per_minute deve essere almeno 1".to_owned());
        }
        problems
    }
}

/// How users reach the service, which decides `Strict-Transport-Security`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// The public URL is `https://`: browsers are told to use nothing else for a year.
    Https,
    /// Plain http (a LAN, tests): HSTS would be ignored or wrong.
    Http,
}

impl Transport {
    /// From the public base URL the service is configured with (empty: unknown, plain).
    pub fn of_public_url(url: &str) -> Transport {
        if url.starts_with("https://") {
            Transport::Https
        } else {
            Transport::Http
        }
    }
}

/// Wraps `router` with our middleware stack. Apply it last, to the fully merged router, so
/// every route (API, pages, health, static files) gets the same treatment.
pub fn layers(router: Router, settings: &HttpSettings, transport: Transport) -> Router {
    let limiter = RateLimiter::new(settings.rate_limit_burst, settings.rate_limit_per_minute);
    // `Router::layer` wraps what is already there, so the last layer added runs first.
    router
        .layer(DefaultBodyLimit::max(settings.body_limit_bytes))
        .layer(middleware::from_fn_with_state(transport, security_headers))
        .layer(middleware::from_fn_with_state(
            limiter,
            ratelimit::limit_requests,
        ))
        .layer(middleware::from_fn_with_state(
            settings.trust_forwarded_for,
            resolve_client_ip,
        ))
        .layer(middleware::from_fn(observe::track_request))
        .layer(CatchPanicLayer::custom(panic_response))
}

/// A body limit for one route, e.g. `.layer(body_limit(5 * 1024 * 1024))` on an upload.
pub fn body_limit(bytes: usize) -> DefaultBodyLimit {
    DefaultBodyLimit::max(bytes)
}

fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    // The panic message may contain request data; log that it happened, not what it said.
    tracing::error!("request handler panicked");
    Problem::internal().into_response()
}

/// The address of the client, as resolved by [`layers`] (the peer address, or the last
/// `X-Forwarded-For` entry when trusted). `0.0.0.0` when unknown (e.g. in `oneshot` tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if let Some(ip) = parts.extensions.get::<ClientIp>() {
            return Ok(*ip);
        }
        Ok(ClientIp(peer_ip(parts)))
    }
}

fn peer_ip(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip())
}

async fn resolve_client_ip(
    State(trust_forwarded_for): State<bool>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let forwarded = trust_forwarded_for
        .then(|| {
            parts
                .headers
                .get("x-forwarded-for")?
                .to_str()
                .ok()?
                .rsplit(',')
                .next()?
                .trim()
                .parse()
                .ok()
        })
        .flatten();
    let ip = forwarded.unwrap_or_else(|| peer_ip(&parts));
    parts.extensions.insert(ClientIp(ip));
    next.run(Request::from_parts(parts, body)).await
}

/// Headers every response carries. The CSP allows only our own origin: all assets are
/// vendored, and pages use no inline script or style.
///
/// A response that does not say how it may be cached gets `Cache-Control: no-store`: pages,
/// API answers, downloads and exports may hold someone's data, and a shared or back-button
/// cache must not keep them. What is public and meant to be cached (the static assets, a
/// checkpoint) sets its own `Cache-Control` and keeps it.
async fn security_headers(
    State(transport): State<Transport>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    if transport == Transport::Https {
        // Sent by the service itself so a proxy that forgets it does not weaken it.
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; font-src 'self' data:; \
         object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    ));
    response
}
