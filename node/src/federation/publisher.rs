//! The publisher: a background task that delivers the outbox to the hub, in seq order.
//!
//! On contact it reads the hub's parameters and pins its keys (a different key later is
//! refused), then asks the hub for this node's head and reconciles: a hub ahead of the node
//! (a restored old backup, or a fork) blocks signing until an administrator resyncs; a hub
//! behind gets everything from its head + 1. Pushes carry the stored bytes unchanged, in
//! batches within the hub's limits. Unreachable hub, 5xx and 429 are retried with exponential
//! backoff and full jitter (at least `Retry-After`); a `seq_gap` resumes from the expected
//! seq; any other refusal halts delivery with an alarm instead of looping on a poison entry.
//! Every receipt is verified with the pinned hub key before it is stored.
//!
//! Crash safety comes from the database: receipts and the delivered head are written in one
//! transaction, entries are never re-signed, and the hub answers a resend of identical bytes
//! with the stored receipt.

use std::sync::Arc;
use std::time::Duration;

use pico_protocol::jws::Jws;
use pico_protocol::{ProvinceCode, PublicKey, Receipt};
use pico_service::{Db, DbError};
use rand_core::RngCore as _;
use serde_json::value::RawValue;
use tokio::time::Instant;

use super::client::{HubClient, HubError, HubLimits, PushAccepted};
use super::{Signer, Wake, alarm, transparency};
use crate::config::FederationSettings;
use crate::db::federation::{self as store, Pinned};

/// What the publisher learnt at contact and keeps while the hub stays the same.
#[derive(Debug, Clone)]
pub struct Session {
    /// The pinned hub key.
    pub hub_key: PublicKey,
    /// The pinned log origin.
    pub log_origin: String,
    /// Checkpoint key name.
    pub key_name: String,
    /// Checkpoint verifier key.
    pub vkey: String,
    /// Push limits (the hub's, capped by the protocol's).
    pub limits: HubLimits,
    /// Next seq to send.
    pub next_seq: u64,
}

/// Why contact did not produce a session.
#[derive(Debug)]
enum Stop {
    /// Try again later (backoff).
    Retry(String),
    /// Blocked or halted: wait for an operator.
    Wait,
}

/// The publisher's handles.
#[derive(Debug, Clone)]
pub struct Publisher {
    db: Db,
    signer: Arc<Signer>,
    settings: FederationSettings,
    wake: Wake,
    client: HubClient,
}

/// Exponential backoff with full jitter (also used by the inbox puller).
#[derive(Debug)]
pub(crate) struct Backoff {
    base: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    /// Delays from `base`, doubling up to `max`.
    pub(crate) fn new(base: Duration, max: Duration) -> Backoff {
        Backoff {
            base,
            max,
            failures: 0,
        }
    }

    /// The next delay: random in `[0, ceiling]`, at least `retry_after` seconds.
    pub(crate) fn next(&mut self, retry_after: Option<u64>) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32 << self.failures.min(20))
            .min(self.max);
        self.failures = self.failures.saturating_add(1);
        let millis = u64::try_from(ceiling.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let jittered = Duration::from_millis(rand_core::OsRng.next_u64() % (millis + 1));
        jittered.max(Duration::from_secs(retry_after.unwrap_or(0)))
    }

    /// After a success.
    pub(crate) fn reset(&mut self) {
        self.failures = 0;
    }
}

async fn db_call<T: Send + 'static>(
    db: &Db,
    f: impl FnOnce(&mut rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
) -> Result<T, DbError> {
    db.call(move |conn| f(conn).map_err(DbError::from)).await
}

impl Publisher {
    /// A publisher for the hub named in `settings` (`None` when no hub is configured).
    pub fn new(
        db: Db,
        signer: Arc<Signer>,
        settings: FederationSettings,
        wake: Wake,
    ) -> Option<Result<Publisher, HubError>> {
        let hub = settings.hub_url.trim();
        if hub.is_empty() {
            return None;
        }
        let timeout = Duration::from_secs(settings.request_timeout_secs);
        Some(HubClient::new(hub, timeout).map(|client| Publisher {
            db,
            signer,
            settings,
            wake,
            client,
        }))
    }

    fn province(&self) -> ProvinceCode {
        self.signer.province
    }

    /// Raises an alarm (logged once per open alarm of its kind).
    pub async fn alarm(&self, kind: &'static str, detail: String) {
        let text = detail.clone();
        match db_call(&self.db, move |conn| store::raise_alarm(conn, kind, &text)).await {
            Ok(true) => {
                tracing::error!(alarm.kind = kind, alarm.detail = %detail, "federation alarm");
            }
            Ok(false) => tracing::debug!(alarm.kind = kind, "federation alarm still open"),
            Err(error) => tracing::error!(%error, alarm.kind = kind, "cannot record alarm"),
        }
    }

    async fn record_error(&self, error: String, reachable: bool) {
        tracing::warn!(hub = %self.client.base(), %error, "publishing: hub exchange failed");
        let _ignored = db_call(&self.db, move |conn| {
            store::record_error(conn, &error, reachable)
        })
        .await;
    }

    async fn halt(&self, reason: String) {
        let _ignored = db_call(&self.db, move |conn| store::set_halted(conn, Some(&reason))).await;
    }

    /// Runs forever (the caller aborts the task on shutdown).
    pub async fn run(self) {
        // A restart is the operator's way to retry after a halt.
        let _ignored = db_call(&self.db, |conn| store::set_halted(conn, None)).await;
        if let Err(error) = super::uploads::reset(&self).await {
            tracing::warn!(%error, "publishing: cannot clear refused attachment uploads");
        }
        let mut backoff = Backoff {
            base: Duration::from_millis(self.settings.retry_base_ms),
            max: Duration::from_secs(self.settings.retry_max_secs),
            failures: 0,
        };
        let poll = Duration::from_millis(self.settings.poll_interval_ms);
        let check_every = Duration::from_secs(self.settings.check_interval_secs);
        let mut session: Option<Session> = None;
        let mut next_check = Instant::now();
        loop {
            self.update_gauges().await;
            let Some(current) = session.as_mut() else {
                match self.connect().await {
                    Ok(new) => {
                        backoff.reset();
                        session = Some(new);
                    }
                    Err(Stop::Retry(error)) => {
                        self.record_error(error, false).await;
                        tokio::time::sleep(backoff.next(None)).await;
                    }
                    Err(Stop::Wait) => self.idle(poll).await,
                }
                continue;
            };
            if Instant::now() >= next_check {
                transparency::check(self.clone(), current.clone()).await;
                next_check = Instant::now() + check_every;
            }
            match self.deliver_one(current).await {
                Ok(true) => {
                    backoff.reset();
                    // Check the new entries' inclusion soon, once the hub has a checkpoint.
                    next_check = next_check.min(Instant::now() + poll.min(check_every));
                }
                Ok(false) => {
                    // The outbox is drained: send the files its accepted entries declare
                    // (best practices' attachments, network posts' documents).
                    match super::uploads::upload_pending(&self).await {
                        Ok(0) => {}
                        Ok(_) => {
                            backoff.reset();
                            continue;
                        }
                        Err(retry) => {
                            metrics::counter!("pico_publish_failures_total").increment(1);
                            self.record_error(retry.error, retry.reachable).await;
                            tokio::time::sleep(backoff.next(retry.retry_after)).await;
                            continue;
                        }
                    }
                    tokio::select! {
                        () = self.wake.notified() => {}
                        () = tokio::time::sleep(poll) => {}
                        () = tokio::time::sleep_until(next_check) => {}
                    }
                }
                Err(Delivery::Transient {
                    error,
                    retry_after,
                    reachable,
                }) => {
                    metrics::counter!("pico_publish_failures_total").increment(1);
                    self.record_error(error, reachable).await;
                    tokio::time::sleep(backoff.next(retry_after)).await;
                }
                Err(Delivery::Reconnect) => session = None,
                Err(Delivery::Halted) => {
                    metrics::counter!("pico_publish_failures_total").increment(1);
                    session = None;
                    self.idle(poll).await;
                }
            }
        }
    }

    /// Waits while blocked or halted, until an operator clears the state (resync or restart).
    async fn idle(&self, poll: Duration) {
        tokio::time::sleep(poll).await;
    }

    async fn update_gauges(&self) {
        if let Ok(status) = db_call(&self.db, |conn| store::status(conn)).await {
            metrics::gauge!("pico_outbox_pending").set(status.pending as f64);
            metrics::gauge!("pico_transparency_alarms").set(status.open_alarms as f64);
        }
    }

    /// Contact: parameters, pinning, head reconciliation.
    async fn connect(&self) -> Result<Session, Stop> {
        let (blocked, halted) = db_call(&self.db, |conn| {
            Ok((store::blocked_reason(conn)?, store::status(conn)?.halted))
        })
        .await
        .map_err(|e| Stop::Retry(e.to_string()))?;
        if blocked.is_some() || halted.is_some() {
            return Err(Stop::Wait);
        }
        let info = self
            .client
            .federation_info()
            .await
            .map_err(|e| Stop::Retry(e.to_string()))?;
        let offered = Pinned {
            hub_url: self.client.base().to_owned(),
            hub_key: info.hub_key.clone(),
            hub_kid: info.hub_kid.clone(),
            log_origin: info.log_origin.clone(),
            checkpoint_key_name: info.checkpoint_key_name.clone(),
            checkpoint_vkey: info.checkpoint_vkey.clone(),
        };
        let hub_key: PublicKey = info
            .hub_key
            .parse()
            .map_err(|e| Stop::Retry(format!("l'hub ha pubblicato una chiave illeggibile: {e}")))?;
        let to_pin = offered.clone();
        let pinned = db_call(&self.db, move |conn| {
            Ok(match store::pinned(conn)? {
                Some(pinned) => pinned,
                None => {
                    store::pin(conn, &to_pin)?;
                    to_pin
                }
            })
        })
        .await
        .map_err(|e| Stop::Retry(e.to_string()))?;
        if pinned.hub_key != offered.hub_key
            || pinned.checkpoint_vkey != offered.checkpoint_vkey
            || pinned.log_origin != offered.log_origin
        {
            let detail = format!(
                "l'hub {} presenta la chiave {} (registro {}), ma al primo contatto questo nodo ha registrato la chiave {} (registro {}); \
                 la pubblicazione è ferma. Se UPI ha davvero cambiato chiave, confermarlo con UPI per un altro canale e registrare di nuovo \
                 la chiave con `pico-node federation unpin`",
                self.client.base(),
                offered.hub_kid,
                offered.log_origin,
                pinned.hub_kid,
                pinned.log_origin
            );
            self.alarm(alarm::HUB_KEY_CHANGED, detail.clone()).await;
            self.record_error(detail.clone(), true).await;
            self.halt(detail).await;
            return Err(Stop::Wait);
        }
        let head = self
            .client
            .head(self.province())
            .await
            .map_err(|e| Stop::Retry(e.to_string()))?;
        let hub_seq = head.seq;
        let hub_hash = head.hash.clone();
        let verdict = db_call(&self.db, move |conn| {
            let (node_seq, node_hash) = store::head(conn)?;
            if hub_seq > node_seq {
                let reason = format!(
                    "l'hub conserva {hub_seq} modifiche firmate da questo nodo, il nodo solo \
                     {node_seq} (è stato ripristinato un backup vecchio?)"
                );
                store::set_blocked(conn, &reason, hub_seq, &hub_hash)?;
                return Ok(Err(reason));
            }
            let ours = if hub_seq == 0 {
                None
            } else if hub_seq == node_seq {
                Some(node_hash.to_hex())
            } else {
                store::entry_hash_at(conn, hub_seq)?
            };
            if let Some(ours) = ours
                && ours != hub_hash
            {
                let reason = format!(
                    "l'hub conserva come modifica n. {hub_seq} una modifica diversa da quella di \
                     questo nodo (i due registri si sono separati)"
                );
                store::set_blocked(conn, &reason, hub_seq, &hub_hash)?;
                return Ok(Err(reason));
            }
            store::set_delivered_seq(conn, hub_seq)?;
            store::record_success(conn)?;
            Ok(Ok(()))
        })
        .await
        .map_err(|e| Stop::Retry(e.to_string()))?;
        if let Err(reason) = verdict {
            self.alarm(alarm::LOG_BEHIND_HUB, reason.clone()).await;
            self.record_error(reason, true).await;
            return Err(Stop::Wait);
        }
        tracing::info!(hub = %self.client.base(), hub.head = hub_seq, "publishing: connected to the hub");
        let session = Session {
            hub_key,
            log_origin: pinned.log_origin,
            key_name: pinned.checkpoint_key_name,
            vkey: pinned.checkpoint_vkey,
            limits: HubLimits {
                max_entry_bytes: info.limits.max_entry_bytes,
                max_entries_per_push: info
                    .limits
                    .max_entries_per_push
                    .clamp(1, pico_protocol::limits::MAX_ENTRIES_PER_PUSH),
                max_push_bytes: info
                    .limits
                    .max_push_bytes
                    .clamp(1, pico_protocol::limits::MAX_PUSH_BYTES),
            },
            next_seq: hub_seq + 1,
        };
        self.fetch_missing_receipts(&session, hub_seq).await?;
        Ok(session)
    }

    /// Fetches, verifies and stores the receipts of entries the hub accepted but whose answer
    /// the node never read (killed mid-push, connection cut): every accepted entry gets its
    /// receipt, and with it its inclusion check.
    async fn fetch_missing_receipts(&self, session: &Session, hub_seq: u64) -> Result<(), Stop> {
        let missing = db_call(&self.db, move |conn| {
            store::seqs_without_receipt(conn, hub_seq)
        })
        .await
        .map_err(|e| Stop::Retry(e.to_string()))?;
        for seq in missing {
            let receipt = self
                .client
                .receipt(self.province(), seq)
                .await
                .map_err(|e| {
                    Stop::Retry(format!("lettura della ricevuta della voce n. {seq}: {e}"))
                })?;
            if let Err(problem) = self.store_receipts(session, vec![receipt]).await {
                let problem = match problem {
                    Delivery::Transient { error, .. } => error,
                    Delivery::Reconnect => "serve un nuovo contatto con l'hub".to_owned(),
                    Delivery::Halted => "invio fermato: vedere gli allarmi".to_owned(),
                };
                return Err(Stop::Retry(format!(
                    "la ricevuta della voce n. {seq}: {problem}"
                )));
            }
        }
        Ok(())
    }

    /// Pushes one batch from `session.next_seq`. `Ok(false)` when there was nothing to send.
    async fn deliver_one(&self, session: &mut Session) -> Result<bool, Delivery> {
        let from = session.next_seq;
        let limits = session.limits;
        let room = limits.max_push_bytes;
        let batch = db_call(&self.db, move |conn| {
            if store::blocked_reason(conn)?.is_some() {
                return Ok(None);
            }
            store::batch_from(conn, from, limits.max_entries_per_push, room).map(Some)
        })
        .await
        .map_err(|e| Delivery::transient(e.to_string(), false))?;
        let Some(batch) = batch else {
            return Err(Delivery::Reconnect);
        };
        if batch.count == 0 {
            return Ok(false);
        }
        let (body, count, last) = (batch.body, batch.count, batch.last_seq);
        match self.client.push(body).await {
            Ok(PushAccepted { receipts, .. }) => {
                if receipts.len() != count {
                    self.record_error(
                        format!(
                            "l'hub ha restituito {} ricevute per {count} voci",
                            receipts.len()
                        ),
                        true,
                    )
                    .await;
                }
                let stored = self.store_receipts(session, receipts).await?;
                session.next_seq = stored.max(from.saturating_sub(1)) + 1;
                let _ignored = db_call(&self.db, |conn| store::record_success(conn)).await;
                tracing::info!(
                    publish.from = from,
                    publish.to = last,
                    publish.entries = count,
                    "publishing: entries delivered"
                );
                Ok(true)
            }
            Err(HubError::Status {
                status,
                mut problem,
                retry_after,
            }) => {
                let accepted = std::mem::take(&mut problem.accepted);
                let stored = self.store_receipts(session, accepted).await?;
                if stored >= from {
                    session.next_seq = stored + 1;
                }
                let code = problem.code.clone().unwrap_or_default();
                let detail = problem.detail.clone().unwrap_or_default();
                if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                    return Err(Delivery::Transient {
                        error: format!("l'hub ha risposto {status} {code}: {detail}"),
                        retry_after,
                        reachable: true,
                    });
                }
                if code == "seq_gap"
                    && let Some(expected) = problem.expected_seq
                {
                    tracing::warn!(
                        expected,
                        sent = from,
                        "publishing: the hub expects another seq"
                    );
                    if expected > from {
                        // The hub holds more than it told us at contact: reconcile again.
                        return Err(Delivery::Reconnect);
                    }
                    session.next_seq = expected.max(1);
                    return Ok(true);
                }
                let seq = from + problem.entry_index.unwrap_or(0) as u64;
                let detail = format!(
                    "l'hub ha rifiutato la voce n. {seq} ({status} {code}): {detail}. L'invio è fermo; \
                     la voce resta in coda e sarà inviata di nuovo dopo un riavvio"
                );
                self.alarm(alarm::ENTRY_REFUSED, detail.clone()).await;
                self.record_error(detail.clone(), true).await;
                self.halt(detail).await;
                Err(Delivery::Halted)
            }
            Err(error) => Err(Delivery::transient(
                error.to_string(),
                !matches!(error, HubError::Unreachable(_)),
            )),
        }
    }

    /// Verifies and stores receipts; returns the highest seq stored (0 if none).
    async fn store_receipts(
        &self,
        session: &Session,
        receipts: Vec<Box<RawValue>>,
    ) -> Result<u64, Delivery> {
        if receipts.is_empty() {
            return Ok(0);
        }
        let hub_key = session.hub_key;
        let origin = session.log_origin.clone();
        let province = self.province();
        let outcome = db_call(&self.db, move |conn| {
            let tx = conn.transaction()?;
            let mut highest = 0;
            for raw in &receipts {
                let checked = serde_json::from_str::<Jws>(raw.get())
                    .map_err(|e| format!("una ricevuta non è un JWS: {e}"))
                    .and_then(|jws| {
                        Receipt::verify(&jws, &hub_key)
                            .map_err(|e| format!("una ricevuta non è verificata dalla chiave dell'hub registrata: {e}"))
                    });
                let receipt = match checked {
                    Ok(receipt) => receipt,
                    Err(problem) => return Ok(Err(problem)),
                };
                let seq = receipt.seq.get();
                let ours = store::entry_hash_at(&tx, seq)?;
                if receipt.sender != province
                    || receipt.log != origin
                    || ours.as_deref() != Some(receipt.entry_hash.to_hex().as_str())
                {
                    return Ok(Err(format!(
                        "la ricevuta della voce n. {seq} indica una voce, un mittente o un registro diversi da quelli di questo nodo"
                    )));
                }
                store::store_receipt(
                    &tx,
                    seq,
                    receipt.log_index,
                    &receipt.received_at.to_string(),
                    raw.get(),
                )?;
                highest = highest.max(seq);
            }
            store::set_delivered_seq(&tx, highest)?;
            tx.commit()?;
            Ok(Ok(highest))
        })
        .await
        .map_err(|e| Delivery::transient(e.to_string(), true))?;
        match outcome {
            Ok(highest) => Ok(highest),
            Err(detail) => {
                self.alarm(alarm::BAD_RECEIPT, detail.clone()).await;
                self.record_error(detail.clone(), true).await;
                self.halt(detail).await;
                Err(Delivery::Halted)
            }
        }
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The HTTP client.
    pub fn client(&self) -> &HubClient {
        &self.client
    }

    /// The node's signer (its Province).
    pub fn signer(&self) -> &Signer {
        &self.signer
    }
}

/// How a delivery attempt failed.
#[derive(Debug)]
enum Delivery {
    /// Retry the same bytes later.
    Transient {
        error: String,
        retry_after: Option<u64>,
        reachable: bool,
    },
    /// Contact the hub again (head changed, blocked).
    Reconnect,
    /// Stopped with an alarm.
    Halted,
}

impl Delivery {
    fn transient(error: String, reachable: bool) -> Delivery {
        Delivery::Transient {
            error,
            retry_after: None,
            reachable,
        }
    }
}

/// Starts the publisher as a background task when a hub is configured.
pub fn spawn(
    db: Db,
    signer: Arc<Signer>,
    settings: FederationSettings,
    wake: Wake,
) -> Option<tokio::task::JoinHandle<()>> {
    match Publisher::new(db, signer, settings, wake)? {
        Ok(publisher) => Some(tokio::spawn(publisher.run())),
        Err(error) => {
            tracing::error!(%error, "publishing is off: cannot build the HTTP client");
            None
        }
    }
}
