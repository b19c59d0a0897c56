//! `/v1/networks`: the thematic networks for Province staff — the list with this node's
//! memberships, joining and leaving, threads, one thread with its replies, posting, and the
//! quarantine for administrators. Who may do what is `auth::policy`.

use axum::Router;
use axum::extract::{FromRequest as _, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post, put};
use pico_service::Json;
use pico_service::http::body_limit;
use pico_service::json::Path;
use pico_service::openapi::FileBytes;
use serde::{Deserialize, Serialize};

use super::Draft;
use crate::auth::Identity;
use crate::auth::policy::{self, Action};
use crate::error::AppError;
use crate::networks::db::{
    self as store, DocumentFile, InboxStatus, Post, PostRef, Quarantined, ThreadSummary,
};
use crate::state::AppState;
use crate::upload::MultipartForm;

/// The routes (merged under the API's CSRF guard).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/networks", get(list_networks))
        .route("/v1/networks/quarantine", get(list_quarantine))
        .route(
            "/v1/networks/{network}/membership",
            put(update_membership).delete(delete_membership),
        )
        .route("/v1/networks/{network}/threads", get(list_threads))
        .route(
            "/v1/networks/{network}/threads/{origin}/{seq}",
            get(get_thread),
        )
        .route(
            "/v1/networks/{network}/posts",
            post(create_post).layer(body_limit(POST_BODY_LIMIT)),
        )
        .route(
            "/v1/networks/{network}/posts/{origin}/{seq}/attachments/{position}",
            get(get_post_attachment),
        )
}

/// Upper bound of a post's request body: its documents plus room for the text.
pub const POST_BODY_LIMIT: usize = super::MAX_DOCUMENTS_TOTAL_BYTES + 1024 * 1024;

/// A network as this node sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NetworkView {
    /// `sua`, `sape`, `sit` or `personale`.
    pub network: String,
    /// Italian name.
    pub label: String,
    /// Whether this Province is a member.
    pub member: bool,
    /// When it joined (RFC 3339).
    pub joined_at: Option<String>,
    /// Posts stored (own and received).
    pub posts: u64,
    /// Whether the caller may join, leave and post.
    pub can_manage: bool,
}

/// Every network, and the state of the inbox.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NetworkList {
    /// The four networks.
    pub items: Vec<NetworkView>,
    /// Always null: the list fits one page.
    pub next: Option<String>,
    /// The inbox puller's state.
    pub inbox: InboxStatus,
}

/// Loads the list for `identity` (pages use it too).
pub async fn load_networks(state: &AppState, identity: &Identity) -> Result<NetworkList, AppError> {
    policy::authorize(identity, Action::ViewNetworks)?;
    let own = state.province.code.clone();
    let (members, counts, inbox) = state
        .db
        .call(move |conn| {
            Ok::<_, AppError>((
                store::memberships(conn)?,
                store::post_counts(conn)?,
                store::inbox_status(conn, &own)?,
            ))
        })
        .await?;
    let items = store::NETWORKS
        .iter()
        .map(|name| NetworkView {
            network: (*name).to_owned(),
            label: super::label(name).to_owned(),
            member: members.iter().any(|(n, _)| n == name),
            joined_at: members
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, at)| crate::db::rfc3339(*at)),
            posts: counts
                .iter()
                .find(|(n, _)| n == name)
                .map_or(0, |(_, c)| *c),
            can_manage: policy::authorize(identity, Action::ManageNetwork { network: name })
                .is_ok(),
        })
        .collect();
    Ok(NetworkList {
        items,
        next: None,
        inbox,
    })
}

/// The thematic networks, this Province's memberships and the inbox state (Province staff).
#[utoipa::path(get, path = "/v1/networks", tag = "networks", security(("bearer" = [])),
    responses((status = 200, body = NetworkList),
              (status = 403, description = "Comune users do not see networks")))]
pub async fn list_networks(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Json<NetworkList>, AppError> {
    Ok(Json(load_networks(&state, &identity).await?))
}

/// A membership confirmed by the hub.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MembershipView {
    /// Network.
    pub network: String,
    /// Whether this Province is now a member.
    pub member: bool,
}

/// Joins the network at the hub (signed request), then records it (admin or the module's
/// operator).
#[utoipa::path(put, path = "/v1/networks/{network}/membership", tag = "networks",
    params(("network" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = MembershipView),
              (status = 409, description = "No hub configured"),
              (status = 502, description = "The hub refused or is unreachable")))]
pub async fn update_membership(
    State(state): State<AppState>,
    identity: Identity,
    Path(network): Path<String>,
) -> Result<Json<MembershipView>, AppError> {
    change_membership(&state, &identity, &network, true).await?;
    Ok(Json(MembershipView {
        network,
        member: true,
    }))
}

/// Leaves the network at the hub, then locally.
#[utoipa::path(delete, path = "/v1/networks/{network}/membership", tag = "networks",
    params(("network" = String, Path)), security(("bearer" = [])),
    responses((status = 204, description = "Not a member any more"),
              (status = 409, description = "No hub configured"),
              (status = 502, description = "The hub refused or is unreachable")))]
pub async fn delete_membership(
    State(state): State<AppState>,
    identity: Identity,
    Path(network): Path<String>,
) -> Result<StatusCode, AppError> {
    change_membership(&state, &identity, &network, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Joins or leaves (pages use it too).
pub async fn change_membership(
    state: &AppState,
    identity: &Identity,
    network: &str,
    join: bool,
) -> Result<(), AppError> {
    policy::authorize(identity, Action::ViewNetworks)?;
    let network = super::known(network)?;
    policy::authorize(identity, Action::ManageNetwork { network })?;
    let settings = &state.config.federation;
    let actor = identity.actor();
    if join {
        super::join(&state.db, &state.signer, settings, network, actor).await?;
    } else {
        super::leave(&state.db, &state.signer, settings, network, actor).await?;
    }
    Ok(())
}

/// Threads of a network.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ThreadList {
    /// Newest activity first (at most 200).
    pub items: Vec<ThreadSummary>,
    /// Always null.
    pub next: Option<String>,
}

/// Loads the threads of `network` (pages use it too).
pub async fn load_threads(
    state: &AppState,
    identity: &Identity,
    network: &str,
) -> Result<Vec<ThreadSummary>, AppError> {
    policy::authorize(identity, Action::ViewNetworks)?;
    let network = super::known(network)?;
    state
        .db
        .call(move |conn| store::threads(conn, network, 200).map_err(AppError::from))
        .await
}

/// The threads of a network, newest activity first, with the Provinces that posted.
#[utoipa::path(get, path = "/v1/networks/{network}/threads", tag = "networks",
    params(("network" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = ThreadList)))]
pub async fn list_threads(
    State(state): State<AppState>,
    identity: Identity,
    Path(network): Path<String>,
) -> Result<Json<ThreadList>, AppError> {
    Ok(Json(ThreadList {
        items: load_threads(&state, &identity, &network).await?,
        next: None,
    }))
}

/// A thread: its opening post first, then the replies.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ThreadView {
    /// Network.
    pub network: String,
    /// Province that opened it.
    pub origin: String,
    /// Seq of the opening post.
    pub seq: u64,
    /// Subject.
    pub subject: String,
    /// Posts.
    pub posts: Vec<Post>,
}

/// Loads one thread (pages use it too); 404 when no post of it is stored.
pub async fn load_thread(
    state: &AppState,
    identity: &Identity,
    network: &str,
    origin: String,
    seq: u64,
) -> Result<ThreadView, AppError> {
    policy::authorize(identity, Action::ViewNetworks)?;
    let network = super::known(network)?;
    let query_origin = origin.clone();
    let posts = state
        .db
        .call(move |conn| {
            store::thread_posts(conn, network, &query_origin, seq).map_err(AppError::from)
        })
        .await?;
    if posts.is_empty() {
        return Err(AppError::NotFound);
    }
    let subject = posts
        .iter()
        .find(|p| p.origin == origin && p.seq == seq)
        .and_then(|p| p.subject.clone())
        .unwrap_or_default();
    Ok(ThreadView {
        network: network.to_owned(),
        origin,
        seq,
        subject,
        posts,
    })
}

/// One thread with every reply, each with its originating Province.
#[utoipa::path(get, path = "/v1/networks/{network}/threads/{origin}/{seq}", tag = "networks",
    params(("network" = String, Path), ("origin" = String, Path, description = "Province that opened the thread"),
           ("seq" = u64, Path, description = "Seq of the opening post in its log")),
    security(("bearer" = [])),
    responses((status = 200, body = ThreadView)))]
pub async fn get_thread(
    State(state): State<AppState>,
    identity: Identity,
    Path((network, origin, seq)): Path<(String, String, u64)>,
) -> Result<Json<ThreadView>, AppError> {
    Ok(Json(
        load_thread(&state, &identity, &network, origin, seq).await?,
    ))
}

/// A new post: a thread (`subject`, `body`) or a reply (`thread`, `body`, optional `reply_to`).
/// Sent as JSON, or as the `post` part of a multipart form that carries documents.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPostRequest {
    /// Subject of a new thread (required without `thread`).
    pub subject: Option<String>,
    /// Text (Markdown, at most 20,000 characters).
    pub body: String,
    /// The opening post of the thread replied to.
    pub thread: Option<PostRef>,
    /// The post answered within the thread (defaults to the opening post).
    pub reply_to: Option<PostRef>,
}

/// A post with documents, as `multipart/form-data`.
#[derive(Debug, utoipa::ToSchema)]
#[expect(
    dead_code,
    reason = "documents the multipart request body; read by MultipartForm"
)]
pub struct NewPostForm {
    /// The post, as the JSON of [`NewPostRequest`].
    #[schema(value_type = NewPostRequest)]
    post: String,
    /// Documents to attach (repeat the part for several, at most 5, each at most 20 MiB,
    /// 40 MiB in all): PDF, images, text, office documents. Each part's file name and
    /// `Content-Type` are declared in the signed post.
    #[schema(value_type = Vec<String>, format = Binary)]
    attachment: Vec<Vec<u8>>,
}

/// The signed post.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PostCreated {
    /// Network.
    pub network: String,
    /// This Province.
    pub origin: String,
    /// Seq of the entry carrying the post.
    pub seq: u64,
    /// The thread it belongs to (itself when it opens one).
    pub thread: PostRef,
}

/// Signs and stores a post (one transaction), delivered to the hub by the publisher.
pub async fn submit_post(
    state: &AppState,
    identity: &Identity,
    network: &str,
    draft: Draft,
) -> Result<PostCreated, AppError> {
    policy::authorize(identity, Action::ViewNetworks)?;
    let network = super::known(network)?;
    policy::authorize(identity, Action::ManageNetwork { network })?;
    let signer = state.signer.clone();
    let actor = identity.actor();
    let thread = draft.thread.clone();
    let posted = state
        .db
        .call(move |conn| {
            super::post(conn, &signer, &actor, network, &draft).map_err(AppError::from)
        })
        .await?;
    state.wake.notify();
    Ok(PostCreated {
        network: network.to_owned(),
        thread: thread.unwrap_or_else(|| posted.clone()),
        origin: posted.origin,
        seq: posted.seq,
    })
}

/// Posts in a network this Province belongs to (admin or the module's operator). Send JSON,
/// or `multipart/form-data` with the post as JSON in the `post` part and each document in an
/// `attachment` part: the documents are declared (name, type, length, SHA-256) in the signed
/// post, uploaded to the hub after its receipt, and fetched by the other members.
#[utoipa::path(post, path = "/v1/networks/{network}/posts", tag = "networks",
    params(("network" = String, Path)), security(("bearer" = [])),
    request_body(content(
        (NewPostRequest = "application/json"),
        (NewPostForm = "multipart/form-data"),
    )),
    responses((status = 201, body = PostCreated),
              (status = 409, description = "Not a member, or publishing blocked"),
              (status = 413, description = "Documents over 40 MiB in all, or one over 20 MiB")))]
pub async fn create_post(
    State(state): State<AppState>,
    identity: Identity,
    Path(network): Path<String>,
    request: Request,
) -> Result<(StatusCode, Json<PostCreated>), AppError> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("multipart/form-data"));
    let (body, uploads) = if multipart {
        let multipart = Multipart::from_request(request, &state)
            .await
            .map_err(|rejection| AppError::invalid_field("form", rejection.body_text()))?;
        let form = MultipartForm::read(multipart, "attachment").await?;
        let post = form.fields.get("post").ok_or_else(|| {
            AppError::invalid_field(
                "post",
                "il modulo deve avere una parte `post` con il messaggio in JSON",
            )
        })?;
        let body: NewPostRequest = serde_json::from_str(post)
            .map_err(|e| AppError::invalid_field("post", e.to_string()))?;
        (body, form.files)
    } else {
        let Json(body) = Json::<NewPostRequest>::from_request(request, &state)
            .await
            .map_err(AppError::from)?;
        (body, Vec::new())
    };
    let draft = Draft {
        subject: body.subject,
        body: body.body,
        thread: body.thread,
        reply_to: body.reply_to,
        documents: super::check_documents(uploads)?,
    };
    let created = submit_post(&state, &identity, &network, draft).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Downloads a document of a post (Province staff): this node's own, or one received and
/// verified against the SHA-256 its origin signed. 404 while a received one is not fetched,
/// or when it was refused.
#[utoipa::path(get, path = "/v1/networks/{network}/posts/{origin}/{seq}/attachments/{position}", tag = "networks",
    params(("network" = String, Path), ("origin" = String, Path, description = "Province that signed the post"),
           ("seq" = u64, Path, description = "Seq of the post in its origin's log"),
           ("position" = u32, Path, description = "Position of the document in the post, from 0")),
    security(("bearer" = [])),
    responses((status = 200, description = "The file, with its declared media type", content_type = "*/*", body = FileBytes)))]
pub async fn get_post_attachment(
    State(state): State<AppState>,
    identity: Identity,
    Path((network, origin, seq, position)): Path<(String, String, u64, u32)>,
) -> Result<Response, AppError> {
    let (filename, media_type, data) =
        load_post_attachment(&state, &identity, &network, origin, seq, position).await?;
    Ok(crate::web::download(&media_type, &filename, data))
}

/// Loads an available document of a post (pages use it too).
pub async fn load_post_attachment(
    state: &AppState,
    identity: &Identity,
    network: &str,
    origin: String,
    seq: u64,
    position: u32,
) -> Result<DocumentFile, AppError> {
    policy::authorize(identity, Action::ViewNetworks)?;
    let network = super::known(network)?;
    state
        .db
        .call(move |conn| {
            store::document_data(conn, network, &origin, seq, position)?.ok_or(AppError::NotFound)
        })
        .await
}

/// Received posts that failed verification.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QuarantineList {
    /// Newest first (at most 200).
    pub items: Vec<Quarantined>,
    /// Always null.
    pub next: Option<String>,
}

/// Loads the quarantine (administrators).
pub async fn load_quarantine(
    state: &AppState,
    identity: &Identity,
) -> Result<Vec<Quarantined>, AppError> {
    policy::authorize(identity, Action::ViewNetworkQuarantine)?;
    state
        .db
        .call(|conn| store::quarantined(conn, 200).map_err(AppError::from))
        .await
}

/// Received posts held in quarantine, with the reason (administrators).
#[utoipa::path(get, path = "/v1/networks/quarantine", tag = "networks", security(("bearer" = [])),
    responses((status = 200, body = QuarantineList)))]
pub async fn list_quarantine(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<Json<QuarantineList>, AppError> {
    Ok(Json(QuarantineList {
        items: load_quarantine(&state, &identity).await?,
        next: None,
    }))
}
