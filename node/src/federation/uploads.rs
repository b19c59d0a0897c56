//! Uploads of declared files: after the hub accepted an entry declaring files — a best
//! practice's attachments, a network post's documents — (its receipt is stored), the
//! publisher sends each file's bytes with `PUT /v1/federation/attachments/{sha256}` and
//! records `uploaded_at`. Network failures, 5xx and 429 are retried by the publisher with its
//! backoff; a 404 (no live declaration) or 422 (length or hash differ) raises an alarm and
//! the file is skipped until the next start.
//!
//! The files live in the table of the module that declared them; [`Source`] is the one place
//! that knows which, so the upload loop itself is written once.

use pico_service::DbError;
use rusqlite::Connection;

use crate::community::db as practices;
use crate::db;
use crate::db::federation::PendingUpload;
use crate::federation::alarm;
use crate::federation::client::HubError;
use crate::federation::publisher::Publisher;
use crate::networks::db as networks;

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

/// Where a declared file's bytes are kept on the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// `practice_attachments`: a best practice's attachment.
    Practice,
    /// `network_attachments`: a document of one of this node's network posts.
    NetworkPost,
}

impl Source {
    /// Every source, in the order their files are sent.
    const ALL: [Source; 2] = [Source::Practice, Source::NetworkPost];

    fn next(self, conn: &Connection, own: &str) -> rusqlite::Result<Option<PendingUpload>> {
        match self {
            Source::Practice => practices::next_pending_upload(conn),
            Source::NetworkPost => networks::next_pending_upload(conn, own),
        }
    }

    fn mark_uploaded(self, conn: &Connection, own: &str, sha256: &str) -> rusqlite::Result<()> {
        match self {
            Source::Practice => practices::mark_uploaded(conn, sha256, db::now()),
            Source::NetworkPost => networks::mark_uploaded(conn, own, sha256, db::now()),
        }
    }

    fn mark_refused(self, conn: &Connection, id: i64, reason: &str) -> rusqlite::Result<()> {
        match self {
            Source::Practice => practices::mark_refused(conn, id, reason),
            Source::NetworkPost => networks::mark_upload_refused(conn, id, reason),
        }
    }
}

/// Forgets earlier refusals (called when the publisher starts: a restart retries them).
pub async fn reset(publisher: &Publisher) -> Result<(), DbError> {
    let own = publisher.signer().province.as_str().to_owned();
    publisher
        .db()
        .call(move |conn| {
            practices::clear_refusals(conn)?;
            networks::clear_upload_refusals(conn, &own).map_err(DbError::from)
        })
        .await
}

/// The next file to send, from any source.
fn next_pending(conn: &Connection, own: &str) -> rusqlite::Result<Option<(Source, PendingUpload)>> {
    for source in Source::ALL {
        if let Some(pending) = source.next(conn, own)? {
            return Ok(Some((source, pending)));
        }
    }
    Ok(None)
}

/// Uploads every pending file, one at a time. `Ok(n)` is how many the hub took.
pub async fn upload_pending(publisher: &Publisher) -> Result<usize, Retry> {
    let own = publisher.signer().province.as_str().to_owned();
    let mut uploaded = 0;
    loop {
        let me = own.clone();
        let next = publisher
            .db()
            .call(move |conn| next_pending(conn, &me).map_err(DbError::from))
            .await
            .map_err(db_failure)?;
        let Some((source, pending)) = next else {
            return Ok(uploaded);
        };
        let sha = pending.sha256.clone();
        match publisher
            .client()
            .put_attachment(&pending.sha256, pending.data)
            .await
        {
            Ok(()) => {
                let me = own.clone();
                publisher
                    .db()
                    .call(move |conn| source.mark_uploaded(conn, &me, &sha).map_err(DbError::from))
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
                    error: format!("caricamento dell'allegato {}: {error}", pending.sha256),
                    retry_after,
                });
            }
            Err(error) => {
                let detail = format!(
                    "l'hub ha rifiutato i byte dell'allegato {} ({error}); l'allegato è saltato fino al riavvio del nodo",
                    pending.sha256
                );
                let reason = detail.clone();
                let id = pending.id;
                publisher
                    .db()
                    .call(move |conn| {
                        source
                            .mark_refused(conn, id, &reason)
                            .map_err(DbError::from)
                    })
                    .await
                    .map_err(db_failure)?;
                publisher.alarm(alarm::ATTACHMENT_REFUSED, detail).await;
            }
        }
    }
}
