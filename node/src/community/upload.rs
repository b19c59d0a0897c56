//! Attachment uploads: after the hub accepted an entry declaring files (its receipt is
//! stored), the publisher sends each file's bytes with `PUT /v1/federation/attachments/{sha256}`
//! and records `uploaded_at`. Network failures, 5xx and 429 are retried by the publisher with
//! its backoff; a 404 (not declared) or 422 (length or hash differ) raises an alarm and the
//! file is skipped until the next start.

use pico_service::DbError;

use crate::db::{self, practices};
use crate::federation::alarm;
use crate::federation::client::HubError;
use crate::federation::publisher::Publisher;

/// A failure worth retrying later.
#[derive(Debug)]
pub struct Retry {
    /// What happened (no secrets).
    pub error: String,
    /// `Retry-After`, if the hub sent one.
    pub retry_after: Option<u64>,
    /// Whether the hub answered at all.
    pub reachable: bool,
}

#[expect(clippy::needless_pass_by_value, reason = "used as map_err(db_failure)")]
fn db_failure(error: DbError) -> Retry {
    Retry {
        error: error.to_string(),
        retry_after: None,
        reachable: false,
    }
}

/// Forgets earlier refusals (called when the publisher starts: a restart retries them).
pub async fn reset(publisher: &Publisher) -> Result<(), DbError> {
    publisher
        .db()
        .call(|conn| practices::clear_refusals(conn).map_err(DbError::from))
        .await
}

/// Uploads every pending attachment, one at a time. `Ok(n)` is how many the hub took.
pub async fn upload_pending(publisher: &Publisher) -> Result<usize, Retry> {
    let mut uploaded = 0;
    loop {
        let next = publisher
            .db()
            .call(|conn| practices::next_pending_upload(conn).map_err(DbError::from))
            .await
            .map_err(db_failure)?;
        let Some(pending) = next else {
            return Ok(uploaded);
        };
        let sha = pending.sha256.clone();
        match publisher
            .client()
            .put_attachment(&pending.sha256, pending.data)
            .await
        {
            Ok(()) => {
                publisher
                    .db()
                    .call(move |conn| {
                        practices::mark_uploaded(conn, &sha, db::now()).map_err(DbError::from)
                    })
                    .await
                    .map_err(db_failure)?;
                tracing::info!(attachment.sha256 = %pending.sha256, "publishing: attachment uploaded");
                uploaded += 1;
            }
            Err(error) if error.is_transient() => {
                let retry_after = match &error {
                    HubError::Status { retry_after, .. } => *retry_after,
                    _ => None,
                };
                return Err(Retry {
                    reachable: !matches!(error, HubError::Unreachable(_)),
                    error: format!("uploading attachment {}: {error}", pending.sha256),
                    retry_after,
                });
            }
            Err(error) => {
                let detail = format!(
                    "the hub refused the bytes of attachment {} ({error}); it is skipped until the node restarts",
                    pending.sha256
                );
                let reason = detail.clone();
                let id = pending.id;
                publisher
                    .db()
                    .call(move |conn| {
                        practices::mark_refused(conn, id, &reason).map_err(DbError::from)
                    })
                    .await
                    .map_err(db_failure)?;
                publisher.alarm(alarm::ATTACHMENT_REFUSED, detail).await;
            }
        }
    }
}
