//! The node-facing federation binding: parameters, push, head, receipts, attachment upload
//! and (for members of a network) the download of the files network posts declare.

use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use http_body_util::{BodyExt, Limited};
use pico_protocol::limits::{
    MAX_ATTACHMENT_BYTES, MAX_ENTRIES_PER_PUSH, MAX_ENTRY_BYTES, MAX_PUSH_BYTES, SUPPORTED_VERSIONS,
};
use pico_protocol::{EntryError, Hash32, ProvinceCode, SignedEntry};
use pico_service::json::Path;
use pico_service::{Json, Problem};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::db::attachments::{self, MemberFile, UploadError};
use crate::db::{self};
use crate::error::HubError;
use crate::http::node_auth::NodeCaller;
use crate::http::{parse_province, parse_sha256};
use crate::ingest::{self, Accepted, IngestError, Preverified};
use crate::state::AppState;

/// The federation routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/pico-federation", get(get_federation))
        .route("/v1/federation/entries", post(push_entries))
        .route("/v1/federation/nodes/{province}/head", get(get_node_head))
        .route(
            "/v1/federation/nodes/{province}/receipts/{seq}",
            get(get_receipt),
        )
        .route(
            "/v1/federation/attachments/{sha256}",
            put(upload_attachment).get(download_attachment),
        )
}

/// The federation parameters a node pins at enrolment.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FederationInfo {
    /// Origin of the transparency log (checkpoints' first line, receipts' `log`).
    pub log_origin: String,
    /// The hub's public key, `ed25519:…`.
    pub hub_key: String,
    /// Its key id.
    pub hub_kid: String,
    /// Key name of checkpoint signature lines.
    pub checkpoint_key_name: String,
    /// C2SP note verifier key of checkpoints.
    pub checkpoint_vkey: String,
    /// Protocol versions the hub speaks.
    pub protocol_versions: Vec<u64>,
    /// Longest time, in milliseconds, between accepting an entry and signing a checkpoint
    /// that includes it (at most 60,000): how long a node waits before it expects its entry's
    /// inclusion to be provable (SPEC §10).
    pub checkpoint_interval_ms: u64,
    /// Size limits.
    pub limits: Limits,
}

/// The federation's limits.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Limits {
    /// Largest serialised entry.
    pub max_entry_bytes: usize,
    /// Most entries per push.
    pub max_entries_per_push: usize,
    /// Largest push body.
    pub max_push_bytes: usize,
}

/// The hub's key, log identity, protocol versions and limits.
#[utoipa::path(get, path = "/.well-known/pico-federation", tag = "federation",
    responses((status = 200, body = FederationInfo)))]
pub async fn get_federation(State(state): State<AppState>) -> Json<FederationInfo> {
    let public = state.hub.key.public_key();
    Json(FederationInfo {
        log_origin: state.hub.log_origin.clone(),
        hub_key: public.to_string(),
        hub_kid: public.key_id().to_string(),
        checkpoint_key_name: state.hub.log_origin.clone(),
        checkpoint_vkey: crate::transparency::verifier_key(&state.hub),
        protocol_versions: SUPPORTED_VERSIONS.to_vec(),
        checkpoint_interval_ms: state.config.checkpoint_interval_ms.clamp(1, 60_000),
        limits: Limits {
            max_entry_bytes: MAX_ENTRY_BYTES,
            max_entries_per_push: MAX_ENTRIES_PER_PUSH,
            max_push_bytes: MAX_PUSH_BYTES,
        },
    })
}

/// The body of a push, as documented (SPEC §11): 1 to 256 signed entries of one sender.
#[derive(Debug, utoipa::ToSchema)]
pub struct PushDocument {
    /// Signed entries (SPEC §5.1), in seq order.
    /// At most 256: more is refused with 413 `oversize`, as the body's size limit is.
    #[schema(value_type = Vec<Object>, min_items = 1)]
    pub entries: Vec<()>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PushRequest<'a> {
    #[serde(borrow)]
    entries: Vec<&'a RawValue>,
}

/// A Province's head as the hub sees it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct HeadView {
    /// Seq of the last accepted entry (0 when none).
    pub seq: u64,
    /// Its entry hash, hex (64 zeros when none).
    pub hash: String,
}

/// Answer to a successful push.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PushResponse {
    /// One receipt per entry, in order (JWS flattened JSON).
    #[schema(value_type = Vec<Object>)]
    pub receipts: Vec<Box<RawValue>>,
    /// The sender's head after the push.
    pub head: HeadView,
}

fn oversize(detail: String) -> Problem {
    Problem::from_status(StatusCode::PAYLOAD_TOO_LARGE)
        .with_code("oversize")
        .with_detail(detail)
}

/// A push that is refused as a whole, before any of its entries is looked at.
fn malformed_push(detail: String) -> Problem {
    Problem::bad_request("malformed_push", detail).with_extension("accepted", Vec::<()>::new())
}

fn raw_receipts(accepted: &[Accepted]) -> Vec<Box<RawValue>> {
    accepted
        .iter()
        .filter_map(|a| RawValue::from_string(a.receipt.clone()).ok())
        .collect()
}

/// The problem for the first refused entry of a push.
fn entry_problem(error: &EntryError, index: usize, accepted: &[Accepted]) -> Problem {
    let status = StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut problem = Problem::new(status, "Voce rifiutata")
        .with_code(error.code())
        .with_detail(error.to_string())
        .with_extension("entry_index", index)
        .with_extension(
            "accepted",
            serde_json::to_value(raw_receipts(accepted)).unwrap_or_default(),
        );
    match error {
        EntryError::Gap { expected, .. } => {
            problem = problem.with_extension("expected_seq", expected.get());
        }
        EntryError::PrevMismatch { expected, .. } => {
            problem = problem.with_extension("expected_prev", expected.to_hex());
        }
        EntryError::UnsupportedVersion { supported, .. } => {
            problem = problem.with_extension("supported_versions", supported.to_vec());
        }
        _ => {}
    }
    problem
}

/// Accepts 1..=256 contiguous signed entries of one sender, in order.
#[utoipa::path(post, path = "/v1/federation/entries", tag = "federation",
    request_body(content = PushDocument, content_type = "application/json", description = "at most 16 MiB; see protocol/SPEC.md §11"),
    responses(
        (status = 200, body = PushResponse, description = "every entry accepted (or already accepted)"),
        (status = 400, description = "`malformed_push` (the push as a whole: nothing applied), or the first refused entry: malformed, unsupported, non-canonical, mismatched body, invalid payload (`entry_index`, `accepted`)"),
        (status = 401, description = "bad signature"),
        (status = 403, description = "unknown, unauthorised or revoked key"),
        (status = 409, description = "seq gap, prev mismatch or equivocation"),
        (status = 413, description = "`oversize`: body over 16 MiB (refused before reading it whole), more than 256 entries, or an entry over 4 MiB"),
        (status = 429, description = "per-node rate or quota exceeded"),
        (status = 503, description = "`busy`: the hub holds its limit of push bytes in flight; retry after `Retry-After` seconds with the same bytes"),
    ))]
pub async fn push_entries(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HubError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(length) = declared
        && length > MAX_PUSH_BYTES as u64
    {
        metrics::counter!("hub_pushes_refused_total", "code" => "oversize").increment(1);
        return Err(oversize(format!(
            "l'invio è di {length} byte, oltre il limite di {MAX_PUSH_BYTES} byte: dividere le voci in più invii"
        ))
        .into());
    }
    // Room for the body and what it becomes, held until the answer is ready; the body is not
    // read before (it waits in the connection).
    let _admitted = match state.admission.admit(declared, MAX_PUSH_BYTES).await {
        Ok(admitted) => admitted,
        Err(busy) => return Ok(busy.into_response()),
    };
    let bytes = match Limited::new(body, MAX_PUSH_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => {
            metrics::counter!("hub_pushes_refused_total", "code" => "oversize").increment(1);
            return Err(oversize(format!(
                "l'invio supera il limite di {MAX_PUSH_BYTES} byte: dividere le voci in più invii"
            ))
            .into());
        }
        Err(_) => {
            return Err(malformed_push(
                "impossibile leggere il corpo della richiesta: ripetere l'invio".into(),
            )
            .into());
        }
    };
    let request: PushRequest<'_> = serde_json::from_slice(&bytes).map_err(|e| {
        malformed_push(format!(
            "il corpo deve essere {{\"entries\": [<voce firmata>, …]}} ({e})"
        ))
    })?;
    if request.entries.is_empty() {
        return Err(malformed_push(format!(
            "l'invio non contiene voci: inviarne da 1 a {MAX_ENTRIES_PER_PUSH}"
        ))
        .into());
    }
    if request.entries.len() > MAX_ENTRIES_PER_PUSH {
        return Err(oversize(format!(
            "l'invio contiene {} voci, oltre il limite di {MAX_ENTRIES_PER_PUSH}: dividerle in più invii",
            request.entries.len()
        ))
        .into());
    }

    // The push as a whole first (SPEC §11): one sender, or nothing is applied. Each entry keeps
    // the bytes it was received as, which are stored and delivered (SPEC §11.3).
    let parsed: Vec<(Vec<u8>, Result<SignedEntry, EntryError>)> = request
        .entries
        .iter()
        .map(|raw| {
            let wire = raw.get().as_bytes();
            (wire.to_vec(), SignedEntry::from_bytes(wire))
        })
        .collect();
    drop(request);
    let mut senders: Vec<String> = parsed
        .iter()
        .filter_map(|(_, entry)| entry.as_ref().ok()?.sender_unverified())
        .collect();
    senders.sort_unstable();
    senders.dedup();
    if senders.len() > 1 {
        return Err(malformed_push(format!(
            "l'invio contiene voci di più Province ({}): inviare le voci di una Provincia per volta",
            senders.join(", ")
        ))
        .into());
    }
    let sender = senders
        .first()
        .and_then(|code| ProvinceCode::parse(code).ok());
    // Entries up to the first one that is not even an envelope, which is then reported at its
    // index once those before it are applied (the node resends the rest after fixing it).
    let mut entries = Vec::with_capacity(parsed.len());
    let mut parse_failure = None;
    for (index, (wire, entry)) in parsed.into_iter().enumerate() {
        match entry {
            Ok(entry) => entries.push((wire, entry)),
            Err(error) => {
                parse_failure = Some((index, error));
                break;
            }
        }
    }

    let quota = sender.map(|province| {
        let day = crate::db::now_unix().div_euclid(86_400);
        state
            .quota
            .check(province, bytes.len() as u64, Instant::now(), day)
    });
    if let Some(decision) = quota
        && !decision.allowed
    {
        let mut response = Problem::new(StatusCode::TOO_MANY_REQUESTS, "Troppi invii")
            .with_code("rate_limited")
            .with_detail(match decision.reason {
                Some("daily_bytes") => {
                    "la Provincia ha esaurito il volume di invii della giornata: riprovare domani"
                        .to_owned()
                }
                _ => format!(
                    "troppi invii da questa Provincia: riprovare tra {} s",
                    decision.reset_secs
                ),
            })
            .into_response();
        decision.write_headers(response.headers_mut());
        return Ok(response);
    }
    drop(bytes);

    let received = entries.len();
    let (accepted, failure) = process(&state, entries).await?;
    if let Some(province) = sender {
        tracing::info!(
            node.province = %province,
            push.entries = received,
            push.accepted = accepted.len(),
            push.head = accepted.last().map_or(0, |a| a.seq),
            push.refused = failure.as_ref().map(|(_, e)| match e {
                IngestError::Entry(e) => e.code(),
                IngestError::Db(_) => "internal",
            }),
            "push"
        );
    }
    let failure =
        failure.or(parse_failure.map(|(index, error)| (index, IngestError::Entry(error))));
    let mut response = match failure {
        None => {
            let head = match accepted.last() {
                Some(last) => {
                    let province = sender.ok_or_else(Problem::internal)?;
                    let db_head = state
                        .db
                        .call(move |conn| db::log::head(conn, province))
                        .await?;
                    debug_assert!(db_head.seq >= last.seq);
                    HeadView {
                        seq: db_head.seq,
                        hash: db_head.hash.to_hex(),
                    }
                }
                None => HeadView {
                    seq: 0,
                    hash: Hash32::ZERO.to_hex(),
                },
            };
            Json(PushResponse {
                receipts: raw_receipts(&accepted),
                head,
            })
            .into_response()
        }
        Some((index, IngestError::Entry(error))) => {
            metrics::counter!("hub_entries_refused_total", "code" => error.code()).increment(1);
            entry_problem(&error, index, &accepted).into_response()
        }
        Some((_, IngestError::Db(error))) => {
            tracing::error!(%error, "ingest failed");
            Problem::internal()
                .with_extension(
                    "accepted",
                    serde_json::to_value(raw_receipts(&accepted)).unwrap_or_default(),
                )
                .into_response()
        }
    };
    if let Some(decision) = quota {
        decision.write_headers(response.headers_mut());
    }
    Ok(response)
}

/// Verifies the entries in parallel with other pushes, then applies them in order on the
/// single writer, stopping at the first failure.
async fn process(
    state: &AppState,
    entries: Vec<(Vec<u8>, SignedEntry)>,
) -> Result<(Vec<Accepted>, Option<(usize, IngestError)>), HubError> {
    if entries.is_empty() {
        return Ok((Vec::new(), None));
    }
    let pre: Vec<Preverified> = state
        .db
        .call(move |conn| {
            let started = Instant::now();
            let pre = entries
                .into_iter()
                .map(|(wire, entry)| ingest::preverify(conn, wire, entry))
                .collect();
            metrics::histogram!("hub_ingest_verify_duration_seconds")
                .record(started.elapsed().as_secs_f64());
            Ok::<_, HubError>(pre)
        })
        .await?;
    let waiting = Instant::now();
    let _writer = state.writer.lock().await;
    metrics::histogram!("hub_ingest_writer_wait_duration_seconds")
        .record(waiting.elapsed().as_secs_f64());
    let hub = state.hub.clone();
    let inbox = state.inbox.clone();
    // The writer's own connection: its page cache holds the hot end of every Province's key
    // range (the pool's default, 2 MB, is too small for 86 of them), once.
    state
        .ingest
        .call(move |conn| {
            let started = Instant::now();
            let _record = Defer(move || {
                metrics::histogram!("hub_ingest_write_duration_seconds")
                    .record(started.elapsed().as_secs_f64());
            });
            let mut accepted = Vec::with_capacity(pre.len());
            for (index, entry) in pre.into_iter().enumerate() {
                match ingest::ingest(conn, &hub, entry) {
                    Ok(done) => {
                        if !done.duplicate {
                            metrics::counter!("hub_entries_accepted_total").increment(1);
                        }
                        if let Some(cursor) = done.inbox_cursor {
                            metrics::counter!("hub_network_posts_routed_total").increment(1);
                            inbox.posted(cursor);
                        }
                        accepted.push(done);
                    }
                    Err(error) => return Ok((accepted, Some((index, error)))),
                }
            }
            Ok::<_, HubError>((accepted, None))
        })
        .await
}

/// Runs a closure when dropped (records a duration on every path out of a block).
struct Defer<F: FnMut()>(F);

impl<F: FnMut()> Drop for Defer<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

/// The head of a Province's log as the hub holds it, so a node can resume.
#[utoipa::path(get, path = "/v1/federation/nodes/{province}/head", tag = "federation",
    params(("province" = String, Path, pattern = "^[0-9]{3}$", description = "ISTAT historical province code, e.g. 026")),
    responses(
        (status = 200, body = HeadView, description = "seq 0 and 64 zeros when the hub holds no entry of it"),
        (status = 400, description = "`invalid_province`")))]
pub async fn get_node_head(
    State(state): State<AppState>,
    Path(province): Path<String>,
) -> Result<Json<HeadView>, HubError> {
    let province = parse_province(&province)?;
    let head = state
        .db
        .call(move |conn| db::log::head(conn, province))
        .await?;
    Ok(Json(HeadView {
        seq: head.seq,
        hash: head.hash.to_hex(),
    }))
}

/// The receipt of an accepted entry.
#[utoipa::path(get, path = "/v1/federation/nodes/{province}/receipts/{seq}", tag = "federation",
    params(("province" = String, Path, pattern = "^[0-9]{3}$", description = "ISTAT historical province code, e.g. 026"), ("seq" = u64, Path)),
    responses(
        (status = 200, description = "the receipt, JWS flattened JSON (SPEC §9)", content((Object = "application/json"))),
        (status = 400, description = "`invalid_province` or `invalid_path`"),
        (status = 404, description = "`not_found`: no such entry was accepted")))]
pub async fn get_receipt(
    State(state): State<AppState>,
    Path((province, seq)): Path<(String, u64)>,
) -> Result<Response, HubError> {
    let province = parse_province(&province)?;
    let receipt = state
        .db
        .call(move |conn| db::log::receipt_at(conn, province, seq))
        .await?
        .ok_or_else(|| {
            Problem::not_found(format!(
                "la voce n. {seq} della Provincia {province} non è stata accettata"
            ))
        })?;
    Ok(([(header::CONTENT_TYPE, "application/json")], receipt).into_response())
}

/// Uploads the bytes of an attachment declared by an accepted entry — a published best
/// practice or a network post — (content-addressed: the path is its SHA-256, and length and
/// hash are checked).
#[utoipa::path(put, path = "/v1/federation/attachments/{sha256}", tag = "federation",
    params(("sha256" = String, Path, pattern = "^[0-9a-f]{64}$", description = "SHA-256 of the file, 64 hex digits")),
    request_body(content = crate::http::FileBytes, content_type = "application/octet-stream", description = "the file's bytes, at most 20 MiB"),
    responses(
        (status = 204, description = "stored (or already held)"),
        (status = 400, description = "`invalid_hash`"),
        (status = 404, description = "`not_found`: no live declaration names this hash"),
        (status = 413, description = "`oversize`: over 20 MiB"),
        (status = 422, description = "`attachment_mismatch`: length or SHA-256 differ from the declaration"),
        (status = 503, description = "`busy`: retry after `Retry-After` seconds")))]
pub async fn upload_attachment(
    State(state): State<AppState>,
    Path(sha256): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HubError> {
    let hash = parse_sha256(&sha256)?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let _admitted = match state
        .admission
        .admit(declared, MAX_ATTACHMENT_BYTES as usize)
        .await
    {
        Ok(admitted) => admitted,
        Err(busy) => return Ok(busy.into_response()),
    };
    let bytes: Bytes = Limited::new(body, MAX_ATTACHMENT_BYTES as usize)
        .collect()
        .await
        .map_err(|_| {
            oversize(format!(
                "un allegato può avere al massimo {MAX_ATTACHMENT_BYTES} byte"
            ))
        })?
        .to_bytes();
    let _writer = state.writer.lock().await;
    state
        .db
        .call(
            move |conn| match attachments::store(conn, &hash, &bytes) {
                Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
                Err(UploadError::NotDeclared) => Err(HubError::from(Problem::not_found(
                    "nessuna buona pratica pubblicata e nessun messaggio di rete dichiara un allegato con questo SHA-256: inviare prima la voce che lo dichiara",
                ))),
                Err(UploadError::Mismatch(what)) => Err(Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Allegato non corrispondente",
                )
                .with_code("attachment_mismatch")
                .with_detail(format!("i byte ricevuti non corrispondono a quanto dichiarato ({what})"))
                .into()),
                Err(UploadError::Db(e)) => Err(e.into()),
            },
        )
        .await
}

/// Downloads a file declared by a network post, for a member of the post's network (or its
/// origin), authenticated by the node's request signature like the inbox pull. 404
/// `attachment_pending` while the origin has not uploaded it yet; plain 404 when no post the
/// caller may read declares it. The receiver checks the bytes against the SHA-256 its origin
/// signed: the hub is not trusted with them.
#[utoipa::path(get, path = "/v1/federation/attachments/{sha256}", tag = "networks",
    params(("sha256" = String, Path, pattern = "^[0-9a-f]{64}$", description = "SHA-256 of the file, 64 hex digits")), security(("pico_signature" = [])),
    responses(
        (status = 200, description = "the file, with its declared media type", content((crate::http::FileBytes = "*/*"))),
        (status = 400, description = "`invalid_hash`"),
        (status = 401, description = "missing, bad, stale or revoked request signature"),
        (status = 404, description = "not declared by a post the caller may read (`not_found`), or not uploaded yet (`attachment_pending`)"),
    ))]
pub async fn download_attachment(
    NodeCaller(province): NodeCaller,
    State(state): State<AppState>,
    Path(sha256): Path<String>,
) -> Result<Response, HubError> {
    let hash = parse_sha256(&sha256)?;
    let file = state
        .db
        .call(move |conn| attachments::for_member(conn, &hash, province))
        .await?;
    match file {
        MemberFile::Ready(media_type, bytes) => Ok((
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_str(&media_type)
                    .unwrap_or(HeaderValue::from_static("application/octet-stream")),
            )],
            bytes,
        )
            .into_response()),
        MemberFile::Pending => Err(Problem::not_found(
            "la Provincia che ha pubblicato il messaggio non ha ancora caricato questo file: riprovare più tardi",
        )
        .with_code("attachment_pending")
        .into()),
        MemberFile::Unknown => Err(Problem::not_found(format!(
            "nessun messaggio delle reti di cui fa parte la Provincia {province} dichiara un file con questo SHA-256: controllare l'indirizzo, oppure entrare nella rete"
        ))
        .into()),
    }
}
