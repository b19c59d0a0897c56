//! Per-node push limits: a token bucket per Province and a daily byte quota, answered with the
//! IETF `RateLimit-*` headers and `Retry-After`.
//!
//! `pico_service::ratelimit` keys its buckets by client address, which is the wrong key for
//! nodes behind one proxy or NAT; this keys them by the Province named in the push. It belongs
//! in `pico-service` as a limiter generic over its key.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::http::{HeaderMap, HeaderValue};
use pico_protocol::ProvinceCode;

use crate::config::QuotaSettings;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
    day: i64,
    bytes_today: u64,
}

/// The limiter shared by all push requests.
#[derive(Debug, Clone)]
pub struct NodeQuota {
    settings: QuotaSettings,
    buckets: Arc<Mutex<BTreeMap<ProvinceCode, Bucket>>>,
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuotaDecision {
    /// Whether the push may proceed.
    pub allowed: bool,
    /// Why not, when refused: `rate` or `daily_bytes`.
    pub reason: Option<&'static str>,
    /// Burst size.
    pub limit: u32,
    /// Whole pushes left now.
    pub remaining: u32,
    /// Seconds until the next push is allowed (refused) or the bucket is full (allowed).
    pub reset_secs: u64,
}

impl NodeQuota {
    /// A limiter with these settings.
    pub fn new(settings: QuotaSettings) -> NodeQuota {
        NodeQuota {
            settings,
            buckets: Arc::new(Mutex::new(BTreeMap::new())),
        }
    }

    /// Takes one push of `bytes` for `province`, if allowed.
    pub fn check(
        &self,
        province: ProvinceCode,
        bytes: u64,
        now: Instant,
        unix_day: i64,
    ) -> QuotaDecision {
        let burst = f64::from(self.settings.push_burst.max(1));
        let per_second = f64::from(self.settings.pushes_per_minute.max(1)) / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let bucket = buckets.entry(province).or_insert(Bucket {
            tokens: burst,
            updated: now,
            day: unix_day,
            bytes_today: 0,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(burst);
        bucket.updated = now;
        if bucket.day != unix_day {
            bucket.day = unix_day;
            bucket.bytes_today = 0;
        }
        let limit = self.settings.push_burst.max(1);
        let over_bytes = self.settings.bytes_per_day > 0
            && bucket.bytes_today.saturating_add(bytes) > self.settings.bytes_per_day;
        if bucket.tokens < 1.0 || over_bytes {
            let reset_secs = if over_bytes {
                // Until the next UTC day.
                let seconds_today = pico_protocol::Timestamp::now().unix().rem_euclid(86_400);
                (86_400 - seconds_today) as u64
            } else {
                ((1.0 - bucket.tokens) / per_second).ceil() as u64
            };
            return QuotaDecision {
                allowed: false,
                reason: Some(if over_bytes { "daily_bytes" } else { "rate" }),
                limit,
                remaining: 0,
                reset_secs: reset_secs.max(1),
            };
        }
        bucket.tokens -= 1.0;
        bucket.bytes_today += bytes;
        QuotaDecision {
            allowed: true,
            reason: None,
            limit,
            remaining: bucket.tokens.floor() as u32,
            reset_secs: ((burst - bucket.tokens) / per_second).ceil() as u64,
        }
    }
}

/// Internal names the push handler writes; [`promote_node_headers`] turns them into the
/// public `RateLimit-*` names once the shared per-address limiter has written its own.
const INTERNAL: [(&str, &str); 3] = [
    ("x-pico-node-ratelimit-limit", "ratelimit-limit"),
    ("x-pico-node-ratelimit-remaining", "ratelimit-remaining"),
    ("x-pico-node-ratelimit-reset", "ratelimit-reset"),
];

impl QuotaDecision {
    /// Records the node's `RateLimit-Limit`, `-Remaining`, `-Reset` (and `Retry-After` when
    /// refused) on a push response.
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        let values = [
            u64::from(self.limit),
            u64::from(self.remaining),
            self.reset_secs,
        ];
        for ((internal, _), value) in INTERNAL.iter().zip(values) {
            headers.insert(*internal, HeaderValue::from(value));
        }
        if !self.allowed {
            headers.insert("retry-after", HeaderValue::from(self.reset_secs));
        }
    }
}

/// Middleware, outside `pico_service::http::layers`: on a push, the node's bucket is the one
/// that binds, so its values replace those of the per-address limiter (which overwrites any
/// `RateLimit-*` set inside it). Once that limiter leaves existing headers alone, the handler
/// can write the public names directly and this goes away.
pub async fn promote_node_headers(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (internal, public) in INTERNAL {
        if let Some(value) = headers.remove(internal) {
            headers.insert(public, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_gets_its_burst_then_waits_and_others_are_unaffected()
    -> Result<(), pico_protocol::ids::IdError> {
        let quota = NodeQuota::new(QuotaSettings {
            push_burst: 2,
            pushes_per_minute: 60,
            bytes_per_day: 0,
        });
        let (tv, bs) = (ProvinceCode::parse("026")?, ProvinceCode::parse("017")?);
        let now = Instant::now();
        assert!(quota.check(tv, 10, now, 1).allowed);
        assert!(quota.check(tv, 10, now, 1).allowed);
        let refused = quota.check(tv, 10, now, 1);
        assert!(!refused.allowed);
        assert_eq!(refused.reset_secs, 1);
        assert!(quota.check(bs, 10, now, 1).allowed);
        assert!(
            quota
                .check(tv, 10, now + std::time::Duration::from_secs(1), 1)
                .allowed
        );
        Ok(())
    }
}
