//! The hub's HTTP binding (SPEC §11) as seen from a node: one reused reqwest client (rustls
//! with the system trust store, `HTTPS_PROXY` honoured), typed answers, and problems kept
//! apart from network failures so that the publisher can decide what is retryable.

use std::time::Duration;

use pico_protocol::ProvinceCode;
use pico_protocol::merkle::{ConsistencyProof, InclusionProof};
use reqwest::StatusCode;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

/// What `/.well-known/pico-federation` says.
#[derive(Debug, Clone, Deserialize)]
pub struct FederationInfo {
    /// Log origin.
    pub log_origin: String,
    /// Hub key `ed25519:…`.
    pub hub_key: String,
    /// Its key id.
    pub hub_kid: String,
    /// Checkpoint key name.
    pub checkpoint_key_name: String,
    /// C2SP verifier key.
    pub checkpoint_vkey: String,
    /// Protocol versions.
    #[serde(default)]
    pub protocol_versions: Vec<u64>,
    /// Limits.
    pub limits: HubLimits,
}

/// The hub's published limits.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct HubLimits {
    /// Largest entry.
    pub max_entry_bytes: usize,
    /// Most entries per push.
    pub max_entries_per_push: usize,
    /// Largest push body.
    pub max_push_bytes: usize,
}

/// A head as the hub serves it.
#[derive(Debug, Clone, Deserialize)]
pub struct HeadView {
    /// Seq.
    pub seq: u64,
    /// Hash, hex.
    pub hash: String,
}

/// A push the hub accepted whole.
#[derive(Debug, Deserialize)]
pub struct PushAccepted {
    /// One receipt per entry, in order.
    pub receipts: Vec<Box<RawValue>>,
    /// The node's head at the hub.
    pub head: HeadView,
}

/// A problem+json answer (with the push extensions).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct HubProblem {
    /// Stable code.
    #[serde(default)]
    pub code: Option<String>,
    /// Human text.
    #[serde(default)]
    pub detail: Option<String>,
    /// Receipts of entries committed before the refused one.
    #[serde(default)]
    pub accepted: Vec<Box<RawValue>>,
    /// For `seq_gap`.
    #[serde(default)]
    pub expected_seq: Option<u64>,
    /// Index of the refused entry in the push.
    #[serde(default)]
    pub entry_index: Option<usize>,
    /// The hub's clock, on a refused request signature (tells clock skew from a bad key).
    #[serde(default)]
    pub hub_time: Option<String>,
}

/// One routed post of an inbox answer. Labels are kept as text: they are the hub's, not
/// the signer's, and a wrong one must reach the quarantine rather than fail the page.
#[derive(Debug, Deserialize)]
pub struct InboxItem {
    /// Position in the hub's inbox.
    pub cursor: i64,
    /// Origin Province, as the hub labels it.
    pub origin: String,
    /// Seq in the origin's log, as the hub labels it.
    pub seq: u64,
    /// Network, as the hub labels it.
    pub network: String,
    /// The origin's signed entry, byte for byte.
    pub entry: Box<RawValue>,
}

/// An inbox answer.
#[derive(Debug, Deserialize)]
pub struct InboxPage {
    /// Posts after the cursor sent, in cursor order.
    pub items: Vec<InboxItem>,
    /// The cursor to send next.
    pub next: String,
}

/// One key of the hub's directory.
#[derive(Debug, Clone, Deserialize)]
pub struct DirectoryKey {
    /// Key id.
    pub kid: String,
    /// Province.
    pub province: String,
    /// `ed25519:…`.
    pub public_key: String,
    /// First seq it may sign.
    pub valid_from: u64,
    /// First seq it may no longer sign.
    #[serde(default)]
    pub revoked_from: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct Items<T> {
    items: Vec<T>,
}

/// A network and its members, as the hub lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct NetworkMembers {
    /// Network name.
    pub network: String,
    /// Member Provinces.
    pub members: Vec<String>,
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// No answer (connection refused, reset, timeout): retry.
    #[error("hub non raggiungibile: {0}")]
    Unreachable(String),
    /// An HTTP error answer.
    #[error("l'hub ha risposto {status}: {}", problem.detail.as_deref().or(problem.code.as_deref()).unwrap_or("senza dettagli"))]
    Status {
        /// Status.
        status: StatusCode,
        /// The problem document (empty if the body was not one).
        problem: Box<HubProblem>,
        /// `Retry-After` in seconds, if sent.
        retry_after: Option<u64>,
    },
    /// A 2xx answer that is not what the SPEC says.
    #[error("risposta inattesa dall'hub: {0}")]
    Invalid(String),
}

impl HubError {
    /// Whether retrying the same request later may succeed (network, 5xx, 429).
    pub fn is_transient(&self) -> bool {
        match self {
            HubError::Unreachable(_) => true,
            HubError::Status { status, .. } => {
                status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS
            }
            HubError::Invalid(_) => false,
        }
    }
}

/// A client for one hub.
#[derive(Debug, Clone)]
pub struct HubClient {
    http: reqwest::Client,
    base: String,
}

impl HubClient {
    /// A client for the hub at `base` (no trailing slash needed).
    pub fn new(base: &str, timeout: Duration) -> Result<HubClient, HubError> {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10).min(timeout))
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("pico-node/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HubError::Invalid(format!("HTTP client: {e}")))?;
        Ok(HubClient {
            http,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    async fn check(response: reqwest::Response) -> Result<reqwest::Response, HubError> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let bytes = response.bytes().await.unwrap_or_default();
        let problem = serde_json::from_slice::<HubProblem>(&bytes).unwrap_or_default();
        Err(HubError::Status {
            status,
            problem: Box::new(problem),
            retry_after,
        })
    }

    /// `GET` a JSON document of the hub's API at `path` (from `/`), typed as `T`.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, HubError> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .map_err(|e| HubError::Unreachable(without_url(&e)))?;
        let bytes = Self::check(response)
            .await?
            .bytes()
            .await
            .map_err(|e| HubError::Unreachable(without_url(&e)))?;
        serde_json::from_slice(&bytes).map_err(|e| HubError::Invalid(format!("{path}: {e}")))
    }

    /// `GET /.well-known/pico-federation`.
    pub async fn federation_info(&self) -> Result<FederationInfo, HubError> {
        self.get_json("/.well-known/pico-federation").await
    }

    /// `GET /v1/federation/nodes/{province}/head`.
    pub async fn head(&self, province: ProvinceCode) -> Result<HeadView, HubError> {
        self.get_json(&format!("/v1/federation/nodes/{province}/head"))
            .await
    }

    /// `GET /v1/federation/nodes/{province}/receipts/{seq}`: the stored receipt, as its JSON.
    pub async fn receipt(
        &self,
        province: ProvinceCode,
        seq: u64,
    ) -> Result<Box<serde_json::value::RawValue>, HubError> {
        self.get_json(&format!("/v1/federation/nodes/{province}/receipts/{seq}"))
            .await
    }

    /// `POST /v1/federation/entries` with a body already holding the entries' exact bytes.
    pub async fn push(&self, body: Vec<u8>) -> Result<PushAccepted, HubError> {
        let response = self
            .http
            .post(format!("{}/v1/federation/entries", self.base))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| HubError::Unreachable(without_url(&e)))?;
        let bytes = Self::check(response)
            .await?
            .bytes()
            .await
            .map_err(|e| HubError::Unreachable(without_url(&e)))?;
        // A cut answer to an accepted push is retried: the hub answers the resend from its
        // stored receipts.
        serde_json::from_slice(&bytes)
            .map_err(|e| HubError::Unreachable(format!("incomplete push answer: {e}")))
    }

    /// `PUT /v1/federation/attachments/{sha256}`: the bytes of an attachment declared by an
    /// accepted entry.
    pub async fn put_attachment(&self, sha256: &str, bytes: Vec<u8>) -> Result<(), HubError> {
        let response = self
            .http
            .put(format!("{}/v1/federation/attachments/{sha256}", self.base))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .map_err(|e| HubError::Unreachable(without_url(&e)))?;
        Self::check(response).await.map(drop)
    }

    /// `GET /v1/log/checkpoint`: the signed note as text.
    pub async fn checkpoint(&self) -> Result<String, HubError> {
        let response = self
            .http
            .get(format!("{}/v1/log/checkpoint", self.base))
            .send()
            .await
            .map_err(|e| HubError::Unreachable(without_url(&e)))?;
        Self::check(response)
            .await?
            .text()
            .await
            .map_err(|e| HubError::Unreachable(without_url(&e)))
    }

    /// `GET /v1/log/proof/inclusion`.
    pub async fn inclusion(
        &self,
        province: ProvinceCode,
        seq: u64,
        tree_size: u64,
    ) -> Result<InclusionProof, HubError> {
        self.get_json(&format!(
            "/v1/log/proof/inclusion?province={province}&seq={seq}&tree_size={tree_size}"
        ))
        .await
    }

    /// `GET /v1/log/proof/consistency`.
    pub async fn consistency(&self, old: u64, new: u64) -> Result<ConsistencyProof, HubError> {
        self.get_json(&format!("/v1/log/proof/consistency?old={old}&new={new}"))
            .await
    }
}

/// Signed requests (SPEC §11.1): the thematic networks.
impl HubClient {
    /// Sends `method path` (plus `query`) signed afresh by `signer`.
    async fn signed(
        &self,
        signer: &super::Signer,
        method: reqwest::Method,
        path: &str,
        query: &str,
    ) -> Result<reqwest::Response, HubError> {
        let authorization = pico_protocol::request_auth::RequestAuth::sign(
            &signer.key,
            signer.province,
            method.as_str(),
            path,
            pico_protocol::Timestamp::now(),
        );
        let response = self
            .http
            .request(method, format!("{}{path}{query}", self.base))
            .header(reqwest::header::AUTHORIZATION, authorization)
            .send()
            .await
            .map_err(|e| HubError::Unreachable(without_url(&e)))?;
        Self::check(response).await
    }

    /// `PUT /v1/federation/networks/{network}/members/{province}` for the node's Province.
    pub async fn join(&self, signer: &super::Signer, network: &str) -> Result<(), HubError> {
        let path = format!(
            "/v1/federation/networks/{network}/members/{}",
            signer.province
        );
        self.signed(signer, reqwest::Method::PUT, &path, "")
            .await
            .map(drop)
    }

    /// `DELETE /v1/federation/networks/{network}/members/{province}` for the node's Province.
    pub async fn leave(&self, signer: &super::Signer, network: &str) -> Result<(), HubError> {
        let path = format!(
            "/v1/federation/networks/{network}/members/{}",
            signer.province
        );
        self.signed(signer, reqwest::Method::DELETE, &path, "")
            .await
            .map(drop)
    }

    /// `GET /v1/federation/inbox?after=&limit=&wait=`, signed.
    pub async fn inbox(
        &self,
        signer: &super::Signer,
        after: i64,
        limit: u32,
        wait_secs: u64,
    ) -> Result<InboxPage, HubError> {
        let query = format!("?after={after}&limit={limit}&wait={wait_secs}");
        let response = self
            .signed(signer, reqwest::Method::GET, "/v1/federation/inbox", &query)
            .await?;
        let bytes = response
            .bytes()
            .await
            .map_err(|e| HubError::Unreachable(without_url(&e)))?;
        // A cut answer is retried like a lost one: nothing was stored from it.
        serde_json::from_slice(&bytes)
            .map_err(|e| HubError::Unreachable(format!("incomplete inbox answer: {e}")))
    }

    /// `GET /v1/federation/attachments/{sha256}`, signed: the bytes of a file a network post
    /// declares, read up to `max_bytes` (more is refused as `Invalid`, without reading it all).
    /// The caller checks them against the signed declaration.
    pub async fn get_attachment(
        &self,
        signer: &super::Signer,
        sha256: &str,
        max_bytes: u64,
    ) -> Result<Vec<u8>, HubError> {
        let path = format!("/v1/federation/attachments/{sha256}");
        let mut response = self.signed(signer, reqwest::Method::GET, &path, "").await?;
        if response
            .content_length()
            .is_some_and(|length| length > max_bytes)
        {
            return Err(HubError::Invalid(format!(
                "l'hub ha inviato {} byte per un file dichiarato di {max_bytes}",
                response.content_length().unwrap_or_default()
            )));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| HubError::Unreachable(without_url(&e)))?
        {
            if (bytes.len() + chunk.len()) as u64 > max_bytes {
                return Err(HubError::Invalid(format!(
                    "l'hub ha inviato più dei {max_bytes} byte dichiarati"
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    /// `GET /v1/formazione/targets`: the training targets signed by the hub (SPEC §9.1),
    /// returned unverified: the caller verifies them with the pinned hub key.
    pub async fn formazione_targets(&self) -> Result<pico_protocol::jws::Jws, HubError> {
        self.get_json("/v1/formazione/targets").await
    }

    /// `GET /v1/federation/keys`.
    pub async fn keys(&self) -> Result<Vec<DirectoryKey>, HubError> {
        Ok(self
            .get_json::<Items<DirectoryKey>>("/v1/federation/keys")
            .await?
            .items)
    }

    /// `GET /v1/federation/networks`.
    pub async fn networks(&self) -> Result<Vec<NetworkMembers>, HubError> {
        Ok(self
            .get_json::<Items<NetworkMembers>>("/v1/federation/networks")
            .await?
            .items)
    }
}

/// A reqwest error's text without the URL (which may carry credentials of a proxy).
fn without_url(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "tempo di attesa scaduto"
    } else if error.is_connect() {
        "connessione impossibile"
    } else if error.is_body() || error.is_decode() {
        "risposta interrotta"
    } else {
        "richiesta non riuscita"
    };
    let mut text = kind.to_owned();
    let mut source = std::error::Error::source(error);
    // The innermost cause names what went wrong (refused, reset, certificate).
    while let Some(cause) = source {
        if cause.source().is_none() {
            text = format!("{kind}: {cause}");
        }
        source = cause.source();
    }
    text
}
