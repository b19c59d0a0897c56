//! Admission of large request bodies (pushes, attachment uploads): a bound on the bytes the
//! hub holds at once.
//!
//! A push is read whole (up to 16 MiB), parsed, verified and prepared in parallel with other
//! pushes, then waits for the single writer; while it waits, its entries, their parsed rows
//! and the rows prepared for the table take several times the body's size. Without a bound,
//! the memory of a burst grows with the number of nodes pushing at once (86 nodes pushing
//! their first snapshot took the hub to 701 MiB). Every such request therefore first takes
//! as many permits as its declared length from one semaphore (`[ingest]
//! max_inflight_bytes`), and holds them until its answer is ready. A request that cannot get
//! them within `admission_wait_ms` is answered 503 `busy` with `Retry-After`, which nodes
//! retry with their backoff, resending the same bytes. A single request larger than the
//! whole budget is admitted alone, when nothing else is in flight.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pico_service::Problem;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The shared budget of in-flight request bytes.
#[derive(Debug, Clone)]
pub struct Admission {
    budget: Arc<Semaphore>,
    limit: u32,
    wait: Duration,
}

/// Bytes a request holds while it is processed; released when dropped.
#[derive(Debug)]
pub struct Admitted {
    permit: OwnedSemaphorePermit,
    limit: u32,
}

impl Drop for Admitted {
    // The gauge follows releases too, or it would show a burst's peak until the next request.
    fn drop(&mut self) {
        let budget = self.permit.semaphore();
        let after_release = (budget.available_permits() + self.permit.num_permits()) as f64;
        metrics::gauge!("hub_inflight_request_bytes").set(f64::from(self.limit) - after_release);
    }
}

/// The answer to a request that was not admitted.
#[derive(Debug)]
pub struct Busy {
    retry_after_secs: u64,
    limit: u32,
}

impl IntoResponse for Busy {
    fn into_response(self) -> Response {
        metrics::counter!("hub_requests_shed_total").increment(1);
        let mut response = Problem::new(StatusCode::SERVICE_UNAVAILABLE, "Hub occupato")
            .with_code("busy")
            .with_detail(format!(
                "l'hub sta già ricevendo invii e allegati fino al suo limite di {} byte: riprovare tra {} s \
                 con gli stessi byte",
                self.limit, self.retry_after_secs
            ))
            .into_response();
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(self.retry_after_secs),
        );
        response
    }
}

impl Admission {
    /// A budget of `max_inflight_bytes` (at most 4 GiB), waiting at most `wait` for room.
    pub fn new(max_inflight_bytes: u64, wait: Duration) -> Admission {
        let limit = u32::try_from(max_inflight_bytes.max(1)).unwrap_or(u32::MAX);
        Admission {
            budget: Arc::new(Semaphore::new(limit as usize)),
            limit,
            wait,
        }
    }

    /// Takes room for a body of `declared` bytes (`None`: unknown, so `max_body`, the most the
    /// endpoint reads), waiting up to the configured time.
    pub async fn admit(&self, declared: Option<u64>, max_body: usize) -> Result<Admitted, Busy> {
        let wanted = declared
            .unwrap_or(max_body as u64)
            .min(max_body as u64)
            .clamp(1, u64::from(self.limit));
        let wanted = u32::try_from(wanted).unwrap_or(self.limit);
        let permit = match Arc::clone(&self.budget).try_acquire_many_owned(wanted) {
            Ok(permit) => Ok(permit),
            Err(_) => {
                metrics::counter!("hub_requests_queued_total").increment(1);
                tokio::time::timeout(
                    self.wait,
                    Arc::clone(&self.budget).acquire_many_owned(wanted),
                )
                .await
                .map_err(drop)
                .and_then(|acquired| acquired.map_err(drop))
            }
        };
        metrics::gauge!("hub_inflight_request_bytes")
            .set(f64::from(self.limit) - self.budget.available_permits() as f64);
        match permit {
            Ok(permit) => Ok(Admitted {
                permit,
                limit: self.limit,
            }),
            Err(()) => Err(Busy {
                retry_after_secs: self.wait.as_secs().max(1),
                limit: self.limit,
            }),
        }
    }

    /// Bytes admitted right now (for tests and metrics).
    pub fn in_flight(&self) -> u64 {
        u64::from(self.limit) - self.budget.available_permits() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn requests_wait_for_room_then_are_turned_away() {
        let admission = Admission::new(100, Duration::from_millis(50));
        let first = admission.admit(Some(60), 1000).await.expect("room");
        assert_eq!(admission.in_flight(), 60);
        let busy = admission.admit(Some(60), 1000).await.expect_err("no room");
        assert_eq!(busy.retry_after_secs, 1);
        let response = busy.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        // Room that frees up while waiting is taken.
        let waiting = tokio::spawn({
            let admission = admission.clone();
            async move { admission.admit(Some(60), 1000).await.is_ok() }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        drop(first);
        assert!(waiting.await.expect("task"));
        // A body larger than the whole budget is admitted alone; an unknown one counts as
        // the most the endpoint reads.
        assert_eq!(admission.in_flight(), 0);
        let large = admission.admit(Some(5_000), 10_000).await.expect("alone");
        assert_eq!(admission.in_flight(), 100);
        drop(large);
        let unknown = admission.admit(None, 80).await.expect("room");
        assert_eq!(admission.in_flight(), 80);
        drop(unknown);
    }
}
