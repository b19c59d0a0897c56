//! The inbox puller: a background task that long-polls the hub's inbox
//! (`GET /v1/federation/inbox`, signed per request) and stores what other Provinces posted in
//! the node's networks. Nodes never accept inbound connections.
//!
//! Every item is verified with `verify_entry` against the node's **pinned** key directory,
//! never against whatever the hub says at that moment: keys are pinned on first sight per
//! Province (a kid is the thumbprint of its key, so a pinned kid cannot change), and a new key
//! for a Province that already has pinned keys is held, not trusted, with an alarm, because
//! rotation entries do not reach nodes through the inbox and the hub must not be able to
//! substitute a key silently (SPEC §11.4). Then the hub's labels must match what the origin
//! signed: `kind` is `network_message`, `sender` is the item's origin, `seq` its seq, the
//! payload's network its network.
//!
//! A page is stored in one transaction together with the new cursor: delivery is at least
//! once, a re-delivered `(origin, seq)` is a no-op, a different entry at a stored
//! `(origin, seq)` is equivocation. Items that fail go to the quarantine with their reason and
//! bytes and never block the rest. Each origin's posts arrive in seq order (the hub's cursor
//! order) and are stored in that order.
//!
//! The documents a stored post declares are fetched by a second loop of the same task (the
//! [`Fetcher`]): `GET /v1/federation/attachments/{sha256}`, signed like the pull, one at a
//! time, kept only if length and SHA-256 are those the origin signed. A document the origin
//! has not uploaded yet is tried again with backoff; one whose bytes differ is refused for
//! good with an alarm (`network_document_refused`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use pico_protocol::envelope::ENTRY_TYP;
use pico_protocol::payload::NetworkMessage;
use pico_protocol::verify::{KeyRecord, verify_entry};
use pico_protocol::{EntryError, Payload, PayloadKind, PublicKey, SignedEntry, Timestamp};
use pico_service::{Db, DbError};
use reqwest::StatusCode;
use rusqlite::Connection;

use super::alarm;
use crate::config::FederationSettings;
use crate::db::federation as fed_store;
use crate::federation::Signer;
use crate::federation::client::{DirectoryKey, HubClient, HubError, InboxItem, InboxPage};
use crate::federation::publisher::Backoff;
use crate::networks::db::{self as store, DueFetch, NewAttachment, NewPost, NewQuarantined};

/// Items asked for per pull.
pub const PAGE_LIMIT: u32 = 200;

/// Clock difference above which a refused signature is reported as clock skew.
const SKEW_ALARM_SECS: i64 = 60;

/// What storing a page did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PageReport {
    /// New posts stored.
    pub stored: u64,
    /// Re-deliveries of stored posts.
    pub duplicates: u64,
    /// Items held in quarantine.
    pub quarantined: u64,
    /// Documents declared by the new posts, to fetch.
    pub documents: u64,
}

/// The outcome of [`process_page`].
#[derive(Debug)]
pub enum Processed {
    /// Stored, cursor advanced.
    Done(PageReport),
    /// Some item is signed by a key the node has never seen: refresh the key directory and
    /// process the page again (nothing was written).
    NeedKeys(InboxPage),
}

/// Why an item is not accepted: `(code, reason)`.
type Refusal = (&'static str, String);

/// An item to verify, from a page or from the quarantine.
#[derive(Debug, Clone, Copy)]
pub struct Item<'a> {
    /// Hub cursor.
    pub cursor: i64,
    /// Origin as labelled.
    pub origin: &'a str,
    /// Seq as labelled.
    pub seq: u64,
    /// Network as labelled.
    pub network: &'a str,
    /// Entry bytes.
    pub wire: &'a [u8],
}

fn kid_of(wire: &[u8]) -> Option<String> {
    let entry = SignedEntry::from_bytes(wire).ok()?;
    let header = entry.jws().protected_header(ENTRY_TYP).ok()?;
    Some(header.kid.as_str().to_owned())
}

/// Verifies `item` and checks the hub's labels against what the origin signed.
fn verify(
    conn: &Connection,
    item: &Item<'_>,
    directory: &[KeyRecord],
) -> Result<(NetworkMessage, pico_protocol::verify::VerifiedEntry), Refusal> {
    let entry = SignedEntry::from_bytes(item.wire).map_err(|e| (e.code(), e.to_string()))?;
    let verified = match verify_entry(entry, directory) {
        Ok(verified) => verified,
        Err(EntryError::UnknownKey(kid)) => {
            let held = store::key_state(conn, kid.as_str()).ok().flatten() == Some(false);
            return Err(if held {
                (
                    "unverified_key",
                    format!(
                        "firmato con la chiave {kid}, che l'hub elenca per la Provincia {} senza una voce \
                         di rotazione che questo nodo possa verificare; confermare la chiave con UPI per un \
                         altro canale, poi eseguire `pico-node network trust-key {kid}`",
                        item.origin
                    ),
                )
            } else {
                (
                    "unknown_key",
                    format!(
                        "firmato con la chiave {kid}, che non è nell'elenco delle chiavi dell'hub"
                    ),
                )
            });
        }
        Err(error) => return Err((error.code(), error.to_string())),
    };
    let header = &verified.header;
    if header.kind != PayloadKind::NetworkMessage {
        return Err((
            "wrong_kind",
            format!("la voce è di tipo {}, non network_message", header.kind),
        ));
    }
    if header.sender.as_str() != item.origin {
        return Err((
            "wrong_origin",
            format!(
                "l'hub lo attribuisce alla Provincia {}, ma lo ha firmato la Provincia {}",
                item.origin, header.sender
            ),
        ));
    }
    if header.seq.get() != item.seq {
        return Err((
            "wrong_seq",
            format!(
                "l'hub lo indica come voce n. {}, ma è la voce n. {}",
                item.seq, header.seq
            ),
        ));
    }
    let Payload::NetworkMessage(message) = verified.payload.clone() else {
        return Err((
            "wrong_kind",
            "il contenuto non è un messaggio di rete".into(),
        ));
    };
    if store::network_name(message.network) != item.network {
        return Err((
            "wrong_network",
            format!(
                "l'hub lo ha consegnato nella rete {}, ma è stato pubblicato nella rete {}",
                item.network,
                store::network_name(message.network)
            ),
        ));
    }
    Ok((message, verified))
}

/// Stores one item (verified) or quarantines it. Stored items go through
/// [`store::insert_post`], so a re-delivery changes nothing.
pub fn accept_item(
    conn: &Connection,
    item: &Item<'_>,
    directory: &[KeyRecord],
    report: &mut PageReport,
) -> rusqlite::Result<bool> {
    let refusal = match verify(conn, item, directory) {
        Ok((message, verified)) => {
            let hash = verified.hash.to_hex();
            match store::post_hash(conn, item.origin, item.seq)? {
                Some(stored) if stored == hash => {
                    report.duplicates += 1;
                    return Ok(true);
                }
                Some(_) => (
                    "equivocation",
                    format!(
                        "la Provincia {} ha firmato due voci diverse con il n. {}: questa è diversa dal messaggio conservato",
                        item.origin, item.seq
                    ),
                ),
                None => {
                    let attachments = serde_json::to_string(&message.attachments)
                        .unwrap_or_else(|_| "[]".to_owned());
                    let thread = message.thread.map_or_else(
                        || (item.origin.to_owned(), item.seq),
                        |t| (t.origin.as_str().to_owned(), t.seq.get()),
                    );
                    let reply_to = message
                        .reply_to
                        .map(|r| (r.origin.as_str().to_owned(), r.seq.get()));
                    store::insert_post(
                        conn,
                        &NewPost {
                            origin: item.origin,
                            seq: item.seq,
                            network: item.network,
                            thread: (&thread.0, thread.1),
                            reply_to: reply_to.as_ref().map(|(o, s)| (o.as_str(), *s)),
                            subject: message.subject.as_deref(),
                            body: &message.body,
                            attachments: &attachments,
                            entry_hash: &hash,
                            signed_at: verified.header.iat.unix(),
                        },
                    )?;
                    // The documents as the origin signed them; the fetcher gets their bytes.
                    for (position, declared) in message.attachments.iter().enumerate() {
                        store::insert_attachment(
                            conn,
                            &NewAttachment {
                                origin: item.origin,
                                seq: item.seq,
                                position: u32::try_from(position).unwrap_or(u32::MAX),
                                filename: &declared.name,
                                media_type: &declared.media_type,
                                size: declared.length,
                                sha256: &declared.sha256.to_hex(),
                                data: None,
                            },
                        )?;
                        report.documents += 1;
                    }
                    report.stored += 1;
                    return Ok(true);
                }
            }
        }
        Err(refusal) => refusal,
    };
    let (code, reason) = refusal;
    tracing::warn!(
        network.origin = item.origin,
        network.seq = item.seq,
        code,
        "network post quarantined"
    );
    if store::quarantine(
        conn,
        &NewQuarantined {
            hub_cursor: item.cursor,
            origin: item.origin,
            seq: item.seq,
            network: item.network,
            code,
            reason: &reason,
            wire: item.wire,
        },
    )? {
        report.quarantined += 1;
    }
    Ok(false)
}

/// Verifies and stores a page and advances the cursor, in one transaction. Unless
/// `keys_refreshed`, a page with an entry signed by a never-seen key asks for a key refresh
/// first (a Province that joined after the last refresh).
pub fn process_page(
    conn: &mut Connection,
    page: InboxPage,
    keys_refreshed: bool,
) -> rusqlite::Result<Processed> {
    let tx = conn.transaction()?;
    if !keys_refreshed {
        for item in &page.items {
            if let Some(kid) = kid_of(item.entry.get().as_bytes())
                && store::key_state(&tx, &kid)?.is_none()
            {
                return Ok(Processed::NeedKeys(page));
            }
        }
    }
    let directory = store::pinned_directory(&tx)?;
    let mut report = PageReport::default();
    for item in &page.items {
        accept_item(&tx, &as_item(item), &directory, &mut report)?;
    }
    // `next` is the last item's cursor (or `after` when empty); never trust a smaller one.
    let next = page
        .next
        .parse::<i64>()
        .unwrap_or(0)
        .max(page.items.iter().map(|i| i.cursor).max().unwrap_or(0));
    store::set_cursor(&tx, next)?;
    tx.commit()?;
    Ok(Processed::Done(report))
}

fn as_item(item: &InboxItem) -> Item<'_> {
    Item {
        cursor: item.cursor,
        origin: &item.origin,
        seq: item.seq,
        network: &item.network,
        wire: item.entry.get().as_bytes(),
    }
}

/// Pins keys from the hub's directory: every key of a Province seen for the first time
/// (the out-of-band enrolment is what the hub vouches for), and nothing new for a Province
/// that already has pinned keys — such a key is held, with an alarm. Keys already held only
/// take the hub's `revoked_from`. Returns the held `(province, kid)` pairs new in this call.
pub fn apply_keys(
    conn: &mut Connection,
    keys: &[DirectoryKey],
) -> rusqlite::Result<Vec<(String, String)>> {
    let tx = conn.transaction()?;
    let mut first_sight = std::collections::BTreeSet::new();
    let mut held = Vec::new();
    for key in keys {
        let Ok(public) = key.public_key.parse::<PublicKey>() else {
            tracing::warn!(key.kid = %key.kid, "hub key directory: unreadable key skipped");
            continue;
        };
        if public.key_id().as_str() != key.kid
            || pico_protocol::ProvinceCode::parse(&key.province).is_err()
        {
            tracing::warn!(key.kid = %key.kid, "hub key directory: kid or Province invalid, skipped");
            continue;
        }
        let known = store::key_state(&tx, &key.kid)?;
        let trusted = match known {
            Some(trusted) => trusted,
            None => {
                if !store::has_pinned_key(&tx, &key.province)? {
                    first_sight.insert(key.province.clone());
                }
                first_sight.contains(&key.province)
            }
        };
        if known.is_none() && !trusted {
            held.push((key.province.clone(), key.kid.clone()));
        }
        store::record_key(
            &tx,
            &key.kid,
            &key.province,
            &key.public_key,
            key.valid_from,
            key.revoked_from,
            trusted,
        )?;
    }
    if !held.is_empty() {
        let list = held
            .iter()
            .map(|(province, kid)| format!("{province} ({kid})"))
            .collect::<Vec<_>>()
            .join(", ");
        fed_store::raise_alarm(
            &tx,
            alarm::KEY_UNVERIFIED,
            &format!(
                "l'hub elenca nuove chiavi senza una voce di rotazione per: {list}. I messaggi firmati con \
                 queste chiavi sono trattenuti in quarantena; confermare ogni chiave con UPI, poi eseguire \
                 `pico-node network trust-key <kid>`"
            ),
        )?;
    }
    tx.commit()?;
    Ok(held)
}

/// After an operator trusted `kid`: pins it and re-verifies the posts of its Province held
/// for an unverified key. Returns `(province, released)`, or `None` for an unknown kid.
pub fn trust_key(conn: &mut Connection, kid: &str) -> rusqlite::Result<Option<(String, u64)>> {
    let tx = conn.transaction()?;
    let Some(province) = store::trust_key(&tx, kid)? else {
        return Ok(None);
    };
    let directory = store::pinned_directory(&tx)?;
    let mut released = 0;
    for (id, cursor, network, wire) in store::held_items(&tx, &province, "unverified_key")? {
        let Some(seq) = SignedEntry::from_bytes(&wire)
            .ok()
            .and_then(|e| e.header_unverified().ok())
            .map(|h| h.seq.get())
        else {
            continue;
        };
        let item = Item {
            cursor,
            origin: &province,
            seq,
            network: &network,
            wire: &wire,
        };
        let mut report = PageReport::default();
        if accept_item(&tx, &item, &directory, &mut report)? {
            store::release(&tx, id)?;
            released += 1;
        }
    }
    let still_held = store::keys(&tx)?.iter().any(|key| !key.trusted);
    if !still_held {
        fed_store::resolve_alarms(&tx, alarm::KEY_UNVERIFIED)?;
    }
    tx.commit()?;
    Ok(Some((province, released)))
}

/// The puller's handles.
#[derive(Debug, Clone)]
struct Puller {
    db: Db,
    signer: Arc<Signer>,
    client: HubClient,
    wait_secs: u64,
    poll: Duration,
    /// Wakes the document fetcher when new posts declared documents.
    documents: Arc<Notify>,
}

async fn db_call<T: Send + 'static>(
    db: &Db,
    f: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
) -> Result<T, DbError> {
    db.call(move |conn| f(conn).map_err(DbError::from)).await
}

/// Starts the puller when a hub is configured.
pub fn spawn(
    db: Db,
    signer: Arc<Signer>,
    settings: &FederationSettings,
) -> Option<tokio::task::JoinHandle<()>> {
    let hub = settings.hub_url.trim();
    if hub.is_empty() {
        return None;
    }
    let wait_secs = settings.inbox_wait_secs.min(60);
    // A long-poll answer may take the whole wait: the timeout is on top of it.
    let timeout = Duration::from_secs(settings.request_timeout_secs + wait_secs);
    let client = match HubClient::new(hub, timeout) {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "inbox puller not started");
            return None;
        }
    };
    let backoff = Backoff::new(
        Duration::from_millis(settings.retry_base_ms),
        Duration::from_secs(settings.retry_max_secs),
    );
    let documents = Arc::new(Notify::new());
    let fetcher = Fetcher {
        db: db.clone(),
        signer: signer.clone(),
        client: match HubClient::new(hub, Duration::from_secs(settings.request_timeout_secs)) {
            Ok(client) => client,
            Err(error) => {
                tracing::error!(%error, "inbox puller not started");
                return None;
            }
        },
        wake: documents.clone(),
        retry_base: Duration::from_millis(settings.retry_base_ms),
        retry_max: Duration::from_secs(settings.retry_max_secs),
    };
    let puller = Puller {
        db,
        signer,
        client,
        wait_secs,
        poll: Duration::from_millis(settings.poll_interval_ms),
        documents,
    };
    // One task: aborting it on shutdown stops both loops.
    Some(tokio::spawn(async move {
        tokio::join!(puller.run(backoff), fetcher.run());
    }))
}

impl Puller {
    async fn alarm(&self, kind: &'static str, detail: String) {
        let text = detail.clone();
        match db_call(&self.db, move |conn| {
            fed_store::raise_alarm(conn, kind, &text)
        })
        .await
        {
            Ok(true) => tracing::error!(alarm.kind = kind, alarm.detail = %detail, "network alarm"),
            Ok(false) => {}
            Err(error) => tracing::error!(%error, alarm.kind = kind, "cannot record alarm"),
        }
    }

    /// Copies the hub's memberships of this Province (an operator may change them at the
    /// hub) and refreshes the pinned keys.
    async fn sync(&self) -> Result<(), HubError> {
        let province = self.signer.province.as_str().to_owned();
        let networks: Vec<String> = self
            .client
            .networks()
            .await?
            .into_iter()
            .filter(|n| n.members.contains(&province))
            .map(|n| n.network)
            .collect();
        let _ignored = db_call(&self.db, move |conn| {
            store::replace_memberships(conn, &networks)
        })
        .await
        .map_err(|error| tracing::error!(%error, "cannot store memberships"));
        self.refresh_keys().await
    }

    async fn refresh_keys(&self) -> Result<(), HubError> {
        let keys = self.client.keys().await?;
        match db_call(&self.db, move |conn| apply_keys(conn, &keys)).await {
            Ok(held) => {
                for (province, kid) in held {
                    tracing::error!(network.province = %province, key.kid = %kid,
                        "the hub lists a new key without a rotation entry: posts signed by it are held");
                }
            }
            Err(error) => tracing::error!(%error, "cannot store the key directory"),
        }
        Ok(())
    }

    async fn record_error(&self, error: String) {
        tracing::warn!(%error, "inbox pull failed");
        let _ignored = db_call(&self.db, move |conn| store::set_inbox_error(conn, &error)).await;
    }

    /// A refused request signature: tell clock skew from a bad key.
    async fn refused(&self, error: &HubError) {
        let HubError::Status {
            status, problem, ..
        } = error
        else {
            return;
        };
        if *status != StatusCode::UNAUTHORIZED {
            return;
        }
        let code = problem.code.as_deref().unwrap_or("unauthorized").to_owned();
        let hub_time = problem
            .hub_time
            .as_deref()
            .and_then(|t| t.parse::<Timestamp>().ok());
        match hub_time {
            Some(hub) if (hub.unix() - Timestamp::now().unix()).abs() >= SKEW_ALARM_SECS => {
                let now = Timestamp::now();
                self.alarm(
                    alarm::CLOCK_SKEW,
                    format!(
                        "l'hub ha rifiutato la richiesta della posta in arrivo ({code}): orologio dell'hub {hub}, \
                         orologio del nodo {now}, {} s di differenza. Le richieste firmate sono accettate entro \
                         300 s: controllare l'orologio del nodo (NTP)",
                        hub.unix() - now.unix()
                    ),
                )
                .await;
            }
            _ => {
                self.alarm(
                    alarm::INBOX_REFUSED,
                    format!(
                        "l'hub ha rifiutato la richiesta della posta in arrivo ({code}): la chiave di questo nodo è registrata all'hub?"
                    ),
                )
                .await;
            }
        }
    }

    async fn run(self, mut backoff: Backoff) {
        let mut synced = false;
        loop {
            if !synced {
                match self.sync().await {
                    Ok(()) => synced = true,
                    Err(error) => {
                        self.record_error(error.to_string()).await;
                        tokio::time::sleep(backoff.next(None)).await;
                        continue;
                    }
                }
            }
            let after = match db_call(&self.db, |conn| store::cursor(conn)).await {
                Ok(after) => after,
                Err(error) => {
                    tracing::error!(%error, "cannot read the inbox cursor");
                    tokio::time::sleep(backoff.next(None)).await;
                    continue;
                }
            };
            let page = match self
                .client
                .inbox(&self.signer, after, PAGE_LIMIT, self.wait_secs)
                .await
            {
                Ok(page) => page,
                Err(error) => {
                    metrics::counter!("pico_inbox_failures_total").increment(1);
                    self.refused(&error).await;
                    let retry_after = match &error {
                        HubError::Status { retry_after, .. } => *retry_after,
                        _ => None,
                    };
                    self.record_error(error.to_string()).await;
                    // Memberships and keys may have changed while the hub was away.
                    synced = false;
                    tokio::time::sleep(backoff.next(retry_after)).await;
                    continue;
                }
            };
            let empty = page.items.is_empty();
            match self.store(page).await {
                Ok(report) => {
                    backoff.reset();
                    if report != PageReport::default() {
                        tracing::info!(
                            stored = report.stored,
                            duplicates = report.duplicates,
                            quarantined = report.quarantined,
                            "inbox page stored"
                        );
                    }
                    if report.documents > 0 {
                        self.documents.notify_one();
                    }
                    metrics::counter!("pico_network_posts_received_total").increment(report.stored);
                    metrics::counter!("pico_network_quarantined_total")
                        .increment(report.quarantined);
                    let _ignored = db_call(&self.db, |conn| {
                        fed_store::resolve_alarms(conn, alarm::CLOCK_SKEW)?;
                        fed_store::resolve_alarms(conn, alarm::INBOX_REFUSED)
                    })
                    .await;
                }
                Err(error) => {
                    // Nothing of the page was stored: the same page comes again.
                    self.record_error(error).await;
                    tokio::time::sleep(backoff.next(None)).await;
                    continue;
                }
            }
            if empty && self.wait_secs == 0 {
                tokio::time::sleep(self.poll).await;
            }
        }
    }

    async fn store(&self, page: InboxPage) -> Result<PageReport, String> {
        let first = db_call(&self.db, move |conn| process_page(conn, page, false))
            .await
            .map_err(|e| e.to_string())?;
        let page = match first {
            Processed::Done(report) => return Ok(report),
            Processed::NeedKeys(page) => page,
        };
        self.refresh_keys().await.map_err(|e| e.to_string())?;
        match db_call(&self.db, move |conn| process_page(conn, page, true))
            .await
            .map_err(|e| e.to_string())?
        {
            Processed::Done(report) => Ok(report),
            Processed::NeedKeys(_) => Err("key directory still incomplete".into()),
        }
    }
}

/// Fetches the documents of received posts from the hub (signed requests), one at a time,
/// and keeps each only if its length and SHA-256 are those its origin signed. A document not
/// uploaded yet (or any failure to get it) is retried with exponential backoff; bytes that do
/// not match are refused for good, with an alarm: the hub or the network altered them.
#[derive(Debug)]
struct Fetcher {
    db: Db,
    signer: Arc<Signer>,
    client: HubClient,
    wake: Arc<Notify>,
    retry_base: Duration,
    retry_max: Duration,
}

/// Longest idle wait: documents stored by another process (`network trust-key`) are
/// noticed within it.
const FETCH_IDLE: Duration = Duration::from_secs(60);

/// Checks fetched bytes against the declaration: `Err(reason)` when they do not match.
pub fn check_document(due: &DueFetch, bytes: &[u8]) -> Result<(), String> {
    if bytes.len() as u64 != due.size {
        return Err(format!(
            "l'hub ha fornito {} byte, la Provincia di origine ne ha dichiarati {}",
            bytes.len(),
            due.size
        ));
    }
    let digest = pico_protocol::Hash32::digest_of(&[bytes]).to_hex();
    if digest != due.sha256 {
        return Err(format!(
            "i byte forniti hanno SHA-256 {digest}, la Provincia di origine ha firmato {}",
            due.sha256
        ));
    }
    Ok(())
}

/// [`check_document`] on a blocking thread (hashing up to 20 MiB would hold up the
/// runtime's worker); gives the bytes back when they match.
async fn checked_off_runtime(due: &DueFetch, bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    let due = due.clone();
    tokio::task::spawn_blocking(move || check_document(&due, &bytes).map(|()| bytes))
        .await
        .map_err(|error| format!("la verifica del documento si è interrotta: {error}"))?
}

impl Fetcher {
    fn own(&self) -> String {
        self.signer.province.as_str().to_owned()
    }

    /// When to try again after `attempts` failures: from `retry_base`, doubling, at most
    /// `retry_max` (whole seconds, at least one).
    fn next_attempt(&self, attempts: u32) -> i64 {
        let delay = self
            .retry_base
            .saturating_mul(1u32 << attempts.min(20))
            .min(self.retry_max)
            .as_secs()
            .max(1);
        crate::db::now() + i64::try_from(delay).unwrap_or(i64::MAX / 2)
    }

    async fn run(self) {
        loop {
            let own = self.own();
            let due = db_call(&self.db, move |conn| {
                store::next_due_fetch(conn, &own, crate::db::now())
            })
            .await;
            match due {
                Ok(Some(due)) => {
                    self.fetch(due).await;
                    continue;
                }
                Ok(None) => {}
                Err(error) => tracing::error!(%error, "cannot read the documents to fetch"),
            }
            let own = self.own();
            let next = db_call(&self.db, move |conn| store::next_fetch_at(conn, &own))
                .await
                .ok()
                .flatten();
            let wait = next.map_or(FETCH_IDLE, |at| {
                let secs = u64::try_from(at - crate::db::now()).unwrap_or(0).max(1);
                Duration::from_secs(secs).min(FETCH_IDLE)
            });
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    async fn fetch(&self, due: DueFetch) {
        let outcome = self
            .client
            .get_attachment(&self.signer, &due.sha256, due.size)
            .await;
        let id = due.id;
        let result = match outcome {
            Ok(bytes) => match checked_off_runtime(&due, bytes).await {
                Ok(bytes) => {
                    let sha = due.sha256.clone();
                    let stored = db_call(&self.db, move |conn| {
                        store::store_fetched(conn, &sha, &bytes)
                    })
                    .await;
                    if stored.is_ok() {
                        metrics::counter!("pico_network_documents_fetched_total").increment(1);
                        tracing::info!(network.origin = %due.origin, network.seq = due.seq,
                            attachment.sha256 = %due.sha256, "network document fetched and verified");
                    }
                    stored.map(drop)
                }
                Err(reason) => self.refuse(&due, reason).await,
            },
            // More bytes than declared: refused without reading them all.
            Err(HubError::Invalid(reason)) => self.refuse(&due, reason).await,
            Err(error) => {
                let pending = matches!(&error, HubError::Status { problem, .. }
                    if problem.code.as_deref() == Some("attachment_pending"));
                let text = if pending {
                    "non ancora caricato dalla Provincia di origine".to_owned()
                } else {
                    error.to_string()
                };
                tracing::debug!(attachment.sha256 = %due.sha256, error = %text, "network document not fetched");
                let next = self.next_attempt(due.attempts);
                db_call(&self.db, move |conn| {
                    store::fetch_failed(conn, id, &text, next)
                })
                .await
            }
        };
        if let Err(error) = result {
            tracing::error!(%error, "cannot record a network document");
        }
    }

    async fn refuse(&self, due: &DueFetch, reason: String) -> Result<(), DbError> {
        let detail = format!(
            "the document {} of post {}/{} was refused: {reason}. The hub, or something between it \
             and this node, altered it",
            due.sha256, due.origin, due.seq
        );
        tracing::error!(alarm.kind = alarm::DOCUMENT_REFUSED, network.origin = %due.origin,
            network.seq = due.seq, attachment.sha256 = %due.sha256, "network document refused");
        metrics::counter!("pico_network_documents_refused_total").increment(1);
        let id = due.id;
        db_call(&self.db, move |conn| {
            store::refuse_fetched(conn, id, &reason)?;
            fed_store::raise_alarm(conn, alarm::DOCUMENT_REFUSED, &detail).map(drop)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pico_protocol::SecretKey;

    fn directory_key(key: &SecretKey, province: &str) -> DirectoryKey {
        DirectoryKey {
            kid: key.key_id().as_str().to_owned(),
            province: province.to_owned(),
            public_key: key.public_key().to_string(),
            valid_from: 1,
            revoked_from: None,
        }
    }

    #[test]
    fn keys_are_pinned_on_first_sight_and_a_substitute_is_held_with_an_alarm() {
        let mut conn = Connection::open_in_memory().expect("db");
        pico_service::db::migrate(
            &mut conn,
            crate::db::MIGRATIONS,
            std::path::Path::new(":memory:"),
        )
        .expect("migrate");
        let first = SecretKey::generate();
        let other = SecretKey::generate();
        let mut forged = directory_key(&other, "017");
        forged.kid = first.key_id().as_str().to_owned();
        let held = apply_keys(&mut conn, &[directory_key(&first, "026"), forged]).expect("apply");
        assert!(held.is_empty());
        assert_eq!(
            store::pinned_directory(&conn).expect("dir").len(),
            1,
            "a kid must be its key's thumbprint"
        );

        let substitute = SecretKey::generate();
        let held = apply_keys(
            &mut conn,
            &[
                directory_key(&first, "026"),
                directory_key(&substitute, "026"),
            ],
        )
        .expect("apply");
        assert_eq!(
            held,
            vec![("026".to_owned(), substitute.key_id().as_str().to_owned())]
        );
        assert_eq!(store::pinned_directory(&conn).expect("dir").len(), 1);
        let alarms = fed_store::alarms(&conn, true, 10).expect("alarms");
        assert_eq!(alarms[0].kind, alarm::KEY_UNVERIFIED);

        let trusted = trust_key(&mut conn, substitute.key_id().as_str()).expect("trust");
        assert_eq!(trusted, Some(("026".to_owned(), 0)));
        assert_eq!(store::pinned_directory(&conn).expect("dir").len(), 2);
        assert!(
            fed_store::alarms(&conn, true, 10)
                .expect("alarms")
                .is_empty()
        );
    }
}
