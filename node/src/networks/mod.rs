//! The thematic networks (`protocol/SPEC.md` §8.3, §11.3–11.4), node side: joining and
//! leaving at the hub, posting (a `network_message` entry in the node's own signed log,
//! written with the local copy of the post in one transaction), the background [`inbox`]
//! puller that verifies what other Provinces posted, and the pages and API ([`api`],
//! [`pages`]).
//!
//! Posts carry documents: the post's signed payload declares each file (name, media type,
//! length, SHA-256), the bytes are stored with the local copy of the post and the publisher
//! uploads them to the hub after the post's receipt (`federation::uploads`); receivers fetch
//! them from the hub with a signed request and keep them only if they match what the origin
//! signed ([`inbox`]).

pub mod api;
pub mod cli;
pub mod db;
pub mod inbox;
pub mod pages;

use std::time::Duration;

use axum::http::StatusCode;
use pico_protocol::Payload;
use pico_protocol::payload::{Attachment, EntryRef, NetworkMessage};
use pico_protocol::{Hash32, ProvinceCode, Seq};
use pico_service::text::{self, Lines, TextError};
use pico_service::{Db, DbError, Problem};
use serde_json::json;

use crate::auth::policy::{self, Action};
use crate::config::FederationSettings;
use crate::db::audit::{self, Actor};
use crate::db::federation::{self as outbox, OutboxError};
use crate::error::AppError;
use crate::federation::Signer;
use crate::federation::client::{HubClient, HubError};
use crate::modules::{Audience, ModuleKit, NavEntry};
use crate::networks::db::{self as store, NewAttachment, NewPost, PostRef};

/// Longest subject, in characters.
pub const MAX_SUBJECT_CHARS: usize = 200;
/// Longest post body, in characters (well under the hub's entry limit).
pub const MAX_BODY_CHARS: usize = 20_000;
/// Most documents attached to one post.
pub const MAX_DOCUMENTS: usize = 5;
/// Largest document (the protocol's attachment limit).
pub const MAX_DOCUMENT_BYTES: usize = pico_protocol::limits::MAX_ATTACHMENT_BYTES as usize;
/// Most bytes of documents in one post.
pub const MAX_DOCUMENTS_TOTAL_BYTES: usize = 40 * 1024 * 1024;

/// Stable alarm kinds of the networks (shown with the publishing alarms).
pub mod alarm {
    /// The hub lists a new key for a Province whose keys are pinned, with no verified
    /// rotation entry: its posts signed by that key are held in quarantine.
    pub const KEY_UNVERIFIED: &str = "network_key_unverified";
    /// The hub refused the node's request signature and its clock differs from the node's.
    pub const CLOCK_SKEW: &str = "clock_skew";
    /// The hub refused the node's request signature for another reason (key not enrolled).
    pub const INBOX_REFUSED: &str = "inbox_refused";
    /// A received post's document did not match the length or SHA-256 its origin signed.
    pub const DOCUMENT_REFUSED: &str = "network_document_refused";
}

/// Why a network operation failed.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// Not one of `sua`, `sape`, `sit`, `personale`.
    #[error("la rete {0:?} non esiste")]
    UnknownNetwork(String),
    /// Posting to a network the node does not belong to.
    #[error("la Provincia non fa parte della rete {0}: entrate prima nella rete")]
    NotMember(String),
    /// No hub configured.
    #[error("nessun hub configurato ([federation] hub_url): le reti hanno bisogno dell'hub")]
    NoHub,
    /// The hub refused or could not be reached.
    #[error("{0}")]
    Hub(#[from] HubError),
    /// Invalid input.
    #[error("{field}: {message}")]
    Invalid {
        /// Field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Signing failed or is blocked.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// Database failure.
    #[error("{0}")]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for NetworkError {
    fn from(error: rusqlite::Error) -> NetworkError {
        NetworkError::Db(DbError::Sqlite(error))
    }
}

impl From<NetworkError> for AppError {
    fn from(error: NetworkError) -> AppError {
        match error {
            NetworkError::UnknownNetwork(_) => AppError::NotFound,
            NetworkError::NotMember(_) => AppError::Conflict {
                code: "not_a_member",
                detail: error.to_string(),
            },
            NetworkError::NoHub => AppError::Conflict {
                code: "no_hub",
                detail: error.to_string(),
            },
            NetworkError::Hub(hub) => AppError::from(
                Problem::from_status(StatusCode::BAD_GATEWAY)
                    .with_code("hub_unavailable")
                    .with_detail(format!("l'hub non ha confermato la modifica: {hub}")),
            ),
            NetworkError::Invalid { field, message } => AppError::invalid_field(field, message),
            NetworkError::Outbox(OutboxError::Blocked(reason)) => AppError::Conflict {
                code: "federation_blocked",
                detail: OutboxError::Blocked(reason).to_string(),
            },
            NetworkError::Outbox(OutboxError::Sign(error)) => AppError::from(
                Problem::from_status(StatusCode::UNPROCESSABLE_ENTITY)
                    .with_code("cannot_publish")
                    .with_detail(format!("il messaggio non può essere firmato: {error}")),
            ),
            NetworkError::Outbox(OutboxError::Db(error)) => AppError::from(error),
            NetworkError::Db(error) => AppError::Db(error),
        }
    }
}

/// Checks a network name.
pub fn known(network: &str) -> Result<&'static str, NetworkError> {
    store::NETWORKS
        .into_iter()
        .find(|name| *name == network)
        .ok_or_else(|| NetworkError::UnknownNetwork(network.chars().take(40).collect()))
}

/// Italian label of a network, for pages.
pub fn label(network: &str) -> &'static str {
    match network {
        "sua" => "Stazioni Uniche Appaltanti",
        "sape" => "Politiche europee",
        "sit" => "Servizi innovativi territoriali",
        "personale" => "Politiche del personale",
        _ => "Rete",
    }
}

fn client(settings: &FederationSettings) -> Result<HubClient, NetworkError> {
    let hub = settings.hub_url.trim();
    if hub.is_empty() {
        return Err(NetworkError::NoHub);
    }
    Ok(HubClient::new(
        hub,
        Duration::from_secs(settings.request_timeout_secs),
    )?)
}

/// Joins `network` at the hub (a signed request) and then records it locally. The hub is
/// asked first: a membership the hub does not hold would receive nothing.
pub async fn join(
    db: &Db,
    signer: &Signer,
    settings: &FederationSettings,
    network: &str,
    actor: Actor,
) -> Result<(), NetworkError> {
    let network = known(network)?;
    client(settings)?.join(signer, network).await?;
    db.call(move |conn| {
        let tx = conn.transaction()?;
        let now = crate::db::now();
        store::add_membership(&tx, network, now)?;
        audit::record(
            &tx,
            &actor,
            "network.join",
            &format!("network:{network}"),
            &json!({}),
            now,
        )?;
        tx.commit()?;
        Ok::<_, NetworkError>(())
    })
    .await?;
    tracing::info!(network, "joined the network");
    Ok(())
}

/// Leaves `network` at the hub, then locally.
pub async fn leave(
    db: &Db,
    signer: &Signer,
    settings: &FederationSettings,
    network: &str,
    actor: Actor,
) -> Result<(), NetworkError> {
    let network = known(network)?;
    client(settings)?.leave(signer, network).await?;
    db.call(move |conn| {
        let tx = conn.transaction()?;
        store::remove_membership(&tx, network)?;
        audit::record(
            &tx,
            &actor,
            "network.leave",
            &format!("network:{network}"),
            &json!({}),
            crate::db::now(),
        )?;
        tx.commit()?;
        Ok::<_, NetworkError>(())
    })
    .await?;
    tracing::info!(network, "left the network");
    Ok(())
}

/// A post as submitted: a new thread (`subject`) or a reply (`thread`, optional `reply_to`).
#[derive(Debug, Clone, Default)]
pub struct Draft {
    /// Subject of a new thread.
    pub subject: Option<String>,
    /// Text.
    pub body: String,
    /// Opening post of the thread replied to.
    pub thread: Option<PostRef>,
    /// Post answered within the thread (defaults to the opening post).
    pub reply_to: Option<PostRef>,
    /// Documents attached, already checked ([`check_documents`]).
    pub documents: Vec<Document>,
}

/// A document attached to a post, checked: a safe file name, an accepted media type, within
/// the limits.
#[derive(Debug, Clone)]
pub struct Document {
    /// File name (path components and unsafe characters removed).
    pub filename: String,
    /// Media type.
    pub media_type: String,
    /// The bytes.
    pub data: Vec<u8>,
}

/// Checks the files attached to a post: at most [`MAX_DOCUMENTS`], each an accepted type of
/// at most [`MAX_DOCUMENT_BYTES`], together at most [`MAX_DOCUMENTS_TOTAL_BYTES`].
pub fn check_documents(uploads: Vec<crate::upload::Upload>) -> Result<Vec<Document>, AppError> {
    let limits = crate::upload::FileLimits {
        field: "attachments",
        max_files: MAX_DOCUMENTS,
        max_total: MAX_DOCUMENTS_TOTAL_BYTES,
        max_each: MAX_DOCUMENT_BYTES,
    };
    Ok(
        crate::upload::check_all(uploads, limits, crate::community::ALLOWED_ATTACHMENT_TYPES)?
            .into_iter()
            .map(|(filename, upload)| Document {
                filename,
                media_type: upload.media_type,
                data: upload.data,
            })
            .collect(),
    )
}

fn entry_ref(post: &PostRef, field: &'static str) -> Result<EntryRef, NetworkError> {
    let invalid = |message: String| NetworkError::Invalid { field, message };
    Ok(EntryRef {
        origin: ProvinceCode::parse(&post.origin).map_err(|e| invalid(e.to_string()))?,
        seq: Seq::new(post.seq).map_err(|e| invalid(e.to_string()))?,
    })
}

/// Signs `draft` as the node's next entry and stores the local copy, in one transaction.
/// Returns the post's `(origin, seq)`, which is also the thread's id when it opens one.
pub fn post(
    conn: &mut rusqlite::Connection,
    signer: &Signer,
    actor: &Actor,
    network: &str,
    draft: &Draft,
) -> Result<PostRef, NetworkError> {
    let network = known(network)?;
    let protocol_network = store::parse_network(network)
        .ok_or_else(|| NetworkError::UnknownNetwork(network.into()))?;
    let invalid = |field: &'static str| {
        move |err: TextError| NetworkError::Invalid {
            field,
            message: err.to_string(),
        }
    };
    let body =
        text::clean(&draft.body, Lines::Many, MAX_BODY_CHARS, true).map_err(invalid("body"))?;
    let body = body.as_str();
    let subject = text::clean(
        draft.subject.as_deref().unwrap_or_default(),
        Lines::One,
        MAX_SUBJECT_CHARS,
        false,
    )
    .map_err(invalid("subject"))?;
    let subject = Some(subject.as_str()).filter(|s| !s.is_empty());
    let tx = conn.transaction()?;
    if !store::is_member(&tx, network)? {
        return Err(NetworkError::NotMember(network.into()));
    }
    let (thread, reply_to, subject) = match (&draft.thread, subject) {
        (None, None) => {
            return Err(NetworkError::Invalid {
                field: "subject",
                message: "una nuova discussione deve avere un oggetto".into(),
            });
        }
        (None, Some(subject)) => {
            if draft.reply_to.is_some() {
                return Err(NetworkError::Invalid {
                    field: "reply_to",
                    message: "una risposta deve indicare la discussione a cui appartiene".into(),
                });
            }
            (None, None, Some(subject.to_owned()))
        }
        (Some(thread), _) => {
            let opening = store::post_place(&tx, &thread.origin, thread.seq)?;
            let is_opening = opening.as_ref().is_some_and(|(net, origin, seq)| {
                net == network && *origin == thread.origin && *seq == thread.seq
            });
            if !is_opening {
                return Err(NetworkError::Invalid {
                    field: "thread",
                    message: format!(
                        "nessuna discussione {}/{} nella rete {network}",
                        thread.origin, thread.seq
                    ),
                });
            }
            let reply_to = draft.reply_to.clone().unwrap_or_else(|| thread.clone());
            let place = store::post_place(&tx, &reply_to.origin, reply_to.seq)?;
            if place != Some((network.to_owned(), thread.origin.clone(), thread.seq)) {
                return Err(NetworkError::Invalid {
                    field: "reply_to",
                    message: format!(
                        "nessun messaggio {}/{} in questa discussione",
                        reply_to.origin, reply_to.seq
                    ),
                });
            }
            // Replies carry no subject: the thread has one.
            (Some(thread.clone()), Some(reply_to), None)
        }
    };
    let message = NetworkMessage {
        network: protocol_network,
        thread: thread
            .as_ref()
            .map(|t| entry_ref(t, "thread"))
            .transpose()?,
        reply_to: reply_to
            .as_ref()
            .map(|r| entry_ref(r, "reply_to"))
            .transpose()?,
        subject: subject.clone(),
        body: body.to_owned(),
        attachments: draft
            .documents
            .iter()
            .map(|doc| Attachment {
                name: doc.filename.clone(),
                media_type: doc.media_type.clone(),
                sha256: Hash32::digest_of(&[&doc.data]),
                length: doc.data.len() as u64,
            })
            .collect(),
    };
    let declared =
        serde_json::to_string(&message.attachments).map_err(|e| NetworkError::Invalid {
            field: "attachments",
            message: e.to_string(),
        })?;
    let attachments = message.attachments.clone();
    let payload = Payload::NetworkMessage(message);
    payload
        .validate()
        .map_err(|message| NetworkError::Invalid {
            field: "body",
            message,
        })?;
    let appended =
        outbox::append_entry(&tx, signer, &payload, &format!("network {network}: post"))?;
    let origin = signer.province.as_str().to_owned();
    let thread_key = thread.map_or_else(|| (origin.clone(), appended.seq), |t| (t.origin, t.seq));
    let hash = appended.hash.to_hex();
    store::insert_post(
        &tx,
        &NewPost {
            origin: &origin,
            seq: appended.seq,
            network,
            thread: (&thread_key.0, thread_key.1),
            reply_to: reply_to.as_ref().map(|r| (r.origin.as_str(), r.seq)),
            subject: subject.as_deref(),
            body,
            attachments: &declared,
            entry_hash: &hash,
            signed_at: crate::db::now(),
        },
    )?;
    // The bytes stay with the post: the publisher uploads them once the hub has the entry.
    for (position, (declared, doc)) in attachments.iter().zip(&draft.documents).enumerate() {
        store::insert_attachment(
            &tx,
            &NewAttachment {
                origin: &origin,
                seq: appended.seq,
                position: u32::try_from(position).unwrap_or(u32::MAX),
                filename: &declared.name,
                media_type: &declared.media_type,
                size: declared.length,
                sha256: &declared.sha256.to_hex(),
                data: Some(&doc.data),
            },
        )?;
    }
    audit::record(
        &tx,
        actor,
        "network.post",
        &format!("network:{network}/{origin}/{}", appended.seq),
        &json!({"thread": {"origin": thread_key.0, "seq": thread_key.1},
                "attachments": attachments.iter().map(|a| json!({"sha256": a.sha256.to_hex(), "size": a.length})).collect::<Vec<_>>()}),
        crate::db::now(),
    )?;
    tx.commit()?;
    Ok(PostRef {
        origin,
        seq: appended.seq,
    })
}

/// The networks' part of the OpenAPI document.
#[derive(Debug, utoipa::OpenApi)]
#[openapi(paths(
    api::list_networks,
    api::update_membership,
    api::delete_membership,
    api::list_threads,
    api::get_thread,
    api::create_post,
    api::get_post_attachment,
    api::list_quarantine,
))]
pub struct NetworksApi;

/// The thematic networks in the module registry.
pub const KIT: ModuleKit = ModuleKit {
    api: api::router,
    pages: pages::router,
    openapi: <NetworksApi as utoipa::OpenApi>::openapi,
    // Networks are between Provinces: only Province staff see the link.
    nav: Some(NavEntry {
        label: "Reti tematiche",
        path: "/networks",
        covers_subpaths: false,
        audience: Audience::SignedIn(|role| policy::permits(role, Action::ViewNetworks)),
    }),
    // A page is stored with its cursor in one transaction: an aborted pull is redone.
    background: |state| {
        inbox::spawn(
            state.db.clone(),
            state.signer.clone(),
            &state.config.federation,
        )
    },
    cli: Some(cli::CLI),
    ..ModuleKit::new("networks")
};
