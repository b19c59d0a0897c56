//! Per-client rate limiting with a token bucket, answering the IETF `RateLimit-*` headers
//! (draft-ietf-httpapi-ratelimit-headers, as AgID's guidelines ask) and 429 problems.
//!
//! Buckets live in memory, keyed by client IP (see [`crate::http::ClientIp`]): a node is one
//! process, so there is no shared store to consult. Idle buckets are pruned as the map grows.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::ClientIp;
use crate::problem::Problem;

/// Prune idle buckets once the map holds this many clients.
const PRUNE_AT: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// A token bucket per client: `burst` requests at once, refilled at `per_second`.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    burst: u32,
    per_second: f64,
    buckets: Arc<Mutex<BTreeMap<IpAddr, Bucket>>>,
}

/// The outcome of one [`RateLimiter::check`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// `RateLimit-Limit`: the burst size.
    pub limit: u32,
    /// `RateLimit-Remaining`: whole requests left now.
    pub remaining: u32,
    /// `RateLimit-Reset`: seconds until the bucket is full again (or, when refused, until the
    /// next request is allowed).
    pub reset_secs: u64,
}

impl RateLimiter {
    /// A limiter allowing `burst` requests at once and `per_minute` sustained.
    pub fn new(burst: u32, per_minute: u32) -> RateLimiter {
        RateLimiter {
            burst: burst.max(1),
            per_second: f64::from(per_minute.max(1)) / 60.0,
            buckets: Arc::new(Mutex::new(BTreeMap::new())),
        }
    }

    /// Takes one token for `client` at `now`.
    pub fn check(&self, client: IpAddr, now: Instant) -> Decision {
        let burst = f64::from(self.burst);
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= PRUNE_AT {
            let full_after = Duration::from_secs_f64(burst / self.per_second);
            buckets.retain(|_, bucket| now.saturating_duration_since(bucket.updated) < full_after);
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: burst,
            updated: now,
        });
        let refill = now.saturating_duration_since(bucket.updated).as_secs_f64() * self.per_second;
        bucket.tokens = (bucket.tokens + refill).min(burst);
        bucket.updated = now;
        let allowed = bucket.tokens >= 1.0;
        if allowed {
            bucket.tokens -= 1.0;
        }
        let reset = if allowed {
            (burst - bucket.tokens) / self.per_second
        } else {
            (1.0 - bucket.tokens) / self.per_second
        };
        Decision {
            allowed,
            limit: self.burst,
            remaining: bucket.tokens.floor() as u32,
            reset_secs: reset.ceil() as u64,
        }
    }
}

/// Middleware applying the limiter and setting the headers on every response.
pub async fn limit_requests(
    State(limiter): State<RateLimiter>,
    client: ClientIp,
    request: Request,
    next: Next,
) -> Response {
    let decision = limiter.check(client.0, Instant::now());
    let mut response = if decision.allowed {
        next.run(request).await
    } else {
        let mut refused = Problem::from_status(StatusCode::TOO_MANY_REQUESTS)
            .with_code("rate_limited")
            .with_detail(format!(
                "Troppe richieste: riprovare tra {} s.",
                decision.reset_secs
            ))
            .into_response();
        refused
            .headers_mut()
            .insert("retry-after", HeaderValue::from(decision.reset_secs));
        refused
    };
    let headers = response.headers_mut();
    headers.insert("ratelimit-limit", HeaderValue::from(decision.limit));
    headers.insert("ratelimit-remaining", HeaderValue::from(decision.remaining));
    headers.insert("ratelimit-reset", HeaderValue::from(decision.reset_secs));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_empties_and_refills() {
        let limiter = RateLimiter::new(2, 60);
        let ip: IpAddr = [127, 0, 0, 1].into();
        let start = Instant::now();
        assert!(limiter.check(ip, start).allowed);
        let second = limiter.check(ip, start);
        assert!(second.allowed);
        assert_eq!(second.remaining, 0);
        let third = limiter.check(ip, start);
        assert!(!third.allowed);
        assert_eq!(third.reset_secs, 1);
        let other: IpAddr = [10, 0, 0, 1].into();
        assert!(
            limiter.check(other, start).allowed,
            "buckets are per client"
        );
        assert!(
            limiter.check(ip, start + Duration::from_secs(1)).allowed,
            "refilled"
        );
    }
}
