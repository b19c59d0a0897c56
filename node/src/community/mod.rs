//! Community: the Province's best practices. Staff (administrators and Community operators)
//! write documents with attachments; documents marked public appear on `/buone-pratiche`,
//! drafts only to Province staff. A document set to `national` is published to the hub as a
//! `best_practice` entry (SPEC §8.2) written with `append_entry` in the transaction of the
//! change; a published document that is set `off` or made a draft again is withdrawn with an
//! entry of `status: withdrawn` (the hub then deletes the attachments' bytes, so publishing it
//! again uploads them anew). The publisher uploads the declared attachments once the hub
//! accepted their entry (`federation::uploads`).
//!
//! `mod.rs` holds the domain and the operations (policy, validation, data, audit, entry);
//! `api.rs` the JSON routes, `pages.rs` the public pages; SQL is in `community::db`.

pub mod api;
pub mod db;
pub mod pages;

use pico_protocol::payload::{Attachment, BestPractice, PublicationStatus};
use pico_protocol::{ComuneCode, Hash32, Payload};
use pico_service::text::{self, Lines, TextError};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::attachments::{Checked as CheckedFile, Store};
use crate::auth::policy::{self, Action};
use crate::auth::{Identity, Module};
use crate::community::db::{self as practices, AttachmentRow, PracticeFields, PracticeRow};
use crate::dati::Federation;
use crate::db::audit;
use crate::db::federation::{self as outbox, OutboxError};
use crate::error::AppError;
use crate::federation::Signer;
use crate::lifecycle::begin;
use crate::modules::{Audience, HomeCard, Link, ModuleKit, NavEntry};
use crate::roles::Role;
use crate::state::AppState;

/// Longest title.
pub const TITLE_MAX: usize = 200;
/// Longest summary.
pub const SUMMARY_MAX: usize = 2_000;
/// Longest body.
pub const BODY_MAX: usize = 200_000;
/// Most tags and Comuni per document.
pub const LIST_MAX: usize = 50;
/// Largest attachment (the protocol's limit).
pub const ATTACHMENT_MAX: usize = pico_protocol::limits::MAX_ATTACHMENT_BYTES as usize;

/// Where the practices' files are kept (their federation state beside them, in
/// `community::db`), and how they are checked. Not audited per file: the change that carries
/// them is, with their hashes.
pub const ATTACHMENTS: Store = Store {
    table: crate::attachments::Table {
        name: "practice_attachments",
        record_column: "practice_id",
        type_column: "media_type",
        uploaded_by_column: None,
    },
    allowed_types: ALLOWED_ATTACHMENT_TYPES,
    field: "attachment",
    audit: None,
};

/// Media types accepted as attachments: PDF, images, text and office documents.
pub const ALLOWED_ATTACHMENT_TYPES: &[&str] = crate::attachments::DOCUMENT_TYPES;

fn default_language() -> String {
    "it".to_owned()
}

/// Body of `POST /v1/practices` and `PUT /v1/practices/{id}` (the whole document).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PracticeInput {
    /// Title, 1–200 characters.
    pub title: String,
    /// Short summary for lists.
    #[serde(default)]
    pub summary: String,
    /// Module the practice belongs to.
    pub module: Module,
    /// ISTAT codes of the Comuni of this Province involved.
    #[serde(default)]
    #[schema(example = json!(["026086"]))]
    pub comuni: Vec<String>,
    /// Free keywords.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Language (BCP 47), `it` by default.
    #[serde(default = "default_language")]
    pub language: String,
    /// Full text (Markdown; shown as plain text).
    #[serde(default)]
    pub body: String,
    /// Shown on the public pages; a draft (false) only to Province staff.
    #[serde(default)]
    pub public: bool,
}

/// What the hub last received about a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HubStatus {
    /// Never published.
    None,
    /// Published (the latest version was sent).
    Published,
    /// Withdrawn from the national library.
    Withdrawn,
}

impl HubStatus {
    fn parse(text: &str) -> HubStatus {
        match text {
            "published" => HubStatus::Published,
            "withdrawn" => HubStatus::Withdrawn,
            _ => HubStatus::None,
        }
    }
}

/// An attachment as listed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
// Named apart from the Help Desk's `AttachmentView` in the OpenAPI components, where the last
// one registered would describe both.
#[schema(as = PracticeAttachmentView)]
pub struct AttachmentView {
    /// Id.
    pub id: i64,
    /// File name.
    pub filename: String,
    /// Media type.
    pub media_type: String,
    /// Bytes.
    pub size: i64,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    /// When the hub received the bytes (RFC 3339), if it did.
    pub uploaded_at: Option<String>,
}

impl From<AttachmentRow> for AttachmentView {
    fn from(row: AttachmentRow) -> AttachmentView {
        AttachmentView {
            id: row.id,
            filename: row.filename,
            media_type: row.media_type,
            size: row.size,
            sha256: row.sha256,
            uploaded_at: row.uploaded_at.map(crate::db::rfc3339),
        }
    }
}

/// A best practice in a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PracticeSummary {
    /// Local id.
    pub id: i64,
    /// Identifier at the hub (stable across updates).
    pub doc_id: String,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// Module.
    pub module: String,
    /// Keywords.
    pub tags: Vec<String>,
    /// Shown on the public pages.
    pub public: bool,
    /// `off` or `national`.
    pub federation: Federation,
    /// What the hub last received.
    pub hub_status: HubStatus,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

/// A best practice with its text and attachments.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PracticeView {
    /// Local id.
    pub id: i64,
    /// Identifier at the hub (stable across updates).
    pub doc_id: String,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// Module.
    pub module: String,
    /// Comuni involved.
    pub comuni: Vec<String>,
    /// Keywords.
    pub tags: Vec<String>,
    /// Language.
    pub language: String,
    /// Full text (Markdown).
    pub body: String,
    /// Shown on the public pages.
    pub public: bool,
    /// `off` or `national`.
    pub federation: Federation,
    /// What the hub last received.
    pub hub_status: HubStatus,
    /// Seq of the last entry about this document.
    pub hub_seq: Option<i64>,
    /// Attachments, oldest first.
    pub attachments: Vec<AttachmentView>,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

/// The hub identifier of a local practice.
pub fn doc_id(id: i64) -> String {
    format!("bp-{id}")
}

fn federation_of(row: &PracticeRow) -> Federation {
    if row.federation == "national" {
        Federation::National
    } else {
        Federation::Off
    }
}

impl PracticeSummary {
    fn new(row: PracticeRow) -> PracticeSummary {
        PracticeSummary {
            id: row.id,
            doc_id: doc_id(row.id),
            federation: federation_of(&row),
            hub_status: HubStatus::parse(&row.hub_status),
            title: row.title,
            summary: row.summary,
            module: row.module,
            tags: row.tags,
            public: row.public,
            updated_at: crate::db::rfc3339(row.updated_at),
        }
    }
}

impl PracticeView {
    fn new(row: PracticeRow, attachments: Vec<AttachmentRow>) -> PracticeView {
        PracticeView {
            id: row.id,
            doc_id: doc_id(row.id),
            federation: federation_of(&row),
            hub_status: HubStatus::parse(&row.hub_status),
            hub_seq: row.hub_seq,
            title: row.title,
            summary: row.summary,
            module: row.module,
            comuni: row.comuni,
            tags: row.tags,
            language: row.language,
            body: row.body,
            public: row.public,
            attachments: attachments.into_iter().map(AttachmentView::from).collect(),
            created_at: crate::db::rfc3339(row.created_at),
            updated_at: crate::db::rfc3339(row.updated_at),
        }
    }
}

impl From<OutboxError> for AppError {
    fn from(error: OutboxError) -> AppError {
        match error {
            OutboxError::Blocked(_) => AppError::Conflict {
                code: "federation_blocked",
                detail: error.to_string(),
            },
            OutboxError::Sign(error) => AppError::from(
                pico_service::Problem::from_status(axum::http::StatusCode::UNPROCESSABLE_ENTITY)
                    .with_code("cannot_publish")
                    .with_detail(format!("la modifica non può essere pubblicata: {error}")),
            ),
            OutboxError::Db(error) => AppError::from(error),
        }
    }
}

/// A validated input, ready for the database.
struct Checked {
    title: String,
    summary: String,
    module: Module,
    comuni: Vec<String>,
    tags: Vec<String>,
    language: String,
    body: String,
    public: bool,
}

impl Checked {
    fn fields(&self) -> PracticeFields<'_> {
        PracticeFields {
            title: &self.title,
            summary: &self.summary,
            module: self.module.as_str(),
            comuni: &self.comuni,
            tags: &self.tags,
            language: &self.language,
            body: &self.body,
            public: self.public,
        }
    }
}

/// Checks the fields (that the Comuni are this Province's is checked in the transaction).
fn check_input(input: &PracticeInput) -> Result<Checked, AppError> {
    let field =
        |name: &'static str| move |err: TextError| AppError::invalid_field(name, err.to_string());
    let title = text::clean(&input.title, Lines::One, TITLE_MAX, true).map_err(field("title"))?;
    let summary =
        text::clean(&input.summary, Lines::Many, SUMMARY_MAX, false).map_err(field("summary"))?;
    let body = text::clean(&input.body, Lines::Many, BODY_MAX, false).map_err(field("body"))?;
    if input.comuni.len() > LIST_MAX || input.tags.len() > LIST_MAX {
        return Err(AppError::invalid_field(
            "tags",
            format!("al massimo {LIST_MAX} parole chiave e {LIST_MAX} Comuni"),
        ));
    }
    let mut comuni = Vec::with_capacity(input.comuni.len());
    for code in &input.comuni {
        let parsed = ComuneCode::parse(code.trim()).map_err(|_| {
            AppError::invalid_field(
                "comuni",
                format!("{code:?} non è un codice ISTAT di Comune"),
            )
        })?;
        if !comuni.contains(&parsed.as_str().to_owned()) {
            comuni.push(parsed.as_str().to_owned());
        }
    }
    let mut tags: Vec<String> = Vec::with_capacity(input.tags.len());
    for tag in &input.tags {
        let tag = text::clean(tag, Lines::One, 50, true).map_err(field("tags"))?;
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    let language = input.language.trim().to_owned();
    let valid_language = (2..=35).contains(&language.len())
        && language
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && language
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic());
    if !valid_language {
        return Err(AppError::invalid_field(
            "language",
            "indicare la lingua con un codice BCP 47, come it o de",
        ));
    }
    Ok(Checked {
        title,
        summary,
        module: input.module,
        comuni,
        tags,
        language,
        body,
        public: input.public,
    })
}

/// Checks that every Comune exists in this node's list.
fn check_comuni_exist(conn: &rusqlite::Connection, comuni: &[String]) -> Result<(), AppError> {
    for code in comuni {
        if crate::db::comuni::name_of(conn, code)?.is_none() {
            return Err(AppError::invalid_field(
                "comuni",
                format!("{code} non è un Comune di questa Provincia"),
            ));
        }
    }
    Ok(())
}

/// Brings the hub in line with the stored document, in the caller's transaction: a public
/// `national` document is (re)published; a published one that is no longer both is
/// withdrawn. Returns the seq of the entry written, if any.
pub fn sync_hub(
    tx: &rusqlite::Connection,
    signer: &Signer,
    id: i64,
) -> Result<Option<u64>, AppError> {
    let row = practices::get(tx, id)?.ok_or(AppError::NotFound)?;
    let wanted = row.public && row.federation == "national";
    let status = match (wanted, row.hub_status.as_str()) {
        (true, _) => PublicationStatus::Published,
        (false, "published") => PublicationStatus::Withdrawn,
        (false, _) => return Ok(None),
    };
    let attachments = practices::attachments(tx, id)?
        .into_iter()
        .map(|a| {
            let sha256: Hash32 = a
                .sha256
                .parse()
                .map_err(|_| AppError::Internal(format!("attachment {} has a bad hash", a.id)))?;
            Ok(Attachment {
                name: a.filename,
                media_type: a.media_type,
                sha256,
                length: u64::try_from(a.size).unwrap_or(0),
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let comuni = row
        .comuni
        .iter()
        .filter_map(|code| ComuneCode::parse(code).ok())
        .collect();
    let practice = BestPractice {
        id: doc_id(id),
        title: row.title.clone(),
        summary: row.summary.clone(),
        // Forms and the API store only known modules: any other text is a damaged row, never
        // a Community practice.
        module: row
            .module
            .parse::<Module>()
            .map_err(|err| AppError::Internal(format!("best practice {id}: {err}")))?
            .into(),
        comuni,
        tags: row.tags.clone(),
        language: row.language.clone(),
        body: row.body.clone(),
        attachments,
        status,
    };
    let payload = Payload::BestPractice(practice);
    payload.validate().map_err(|detail| {
        AppError::invalid_field("practice", format!("non può essere pubblicata: {detail}"))
    })?;
    let (label, hub_status) = match status {
        PublicationStatus::Published => ("published", "published"),
        PublicationStatus::Withdrawn => ("withdrawn", "withdrawn"),
    };
    let appended = outbox::append_entry(
        tx,
        signer,
        &payload,
        &format!("best_practice {} {label}", doc_id(id)),
    )?;
    match status {
        PublicationStatus::Published => practices::declare_attachments(tx, id, appended.seq)?,
        PublicationStatus::Withdrawn => practices::undeclare_attachments(tx, id)?,
    }
    practices::set_hub_status(tx, id, hub_status, appended.seq)?;
    Ok(Some(appended.seq))
}

/// Runs a change to the practices in one immediate transaction. `change` answers with what
/// the caller gets back and the outbox entry it signed for the hub, if any; the push is
/// woken only when there is one.
async fn publish_change<T: Send + 'static>(
    state: &AppState,
    change: impl FnOnce(&rusqlite::Connection, &Signer) -> Result<(T, Option<u64>), AppError>
    + Send
    + 'static,
) -> Result<T, AppError> {
    let signer = state.signer.clone();
    let (out, entry) = state
        .db
        .call(move |conn| {
            let tx = begin(conn)?;
            let (out, entry) = change(&tx, &signer)?;
            tx.commit()?;
            Ok::<_, AppError>((out, entry))
        })
        .await?;
    if entry.is_some() {
        state.wake.notify();
    }
    Ok(out)
}

fn load_view(conn: &rusqlite::Connection, id: i64) -> Result<PracticeView, AppError> {
    let row = practices::get(conn, id)?.ok_or(AppError::NotFound)?;
    let attachments = practices::attachments(conn, id)?;
    Ok(PracticeView::new(row, attachments))
}

fn may_see_drafts(identity: &Identity) -> bool {
    policy::authorize(identity, Action::ViewPracticeDrafts).is_ok()
}

/// Splits a search into words (at most 10).
pub fn search_words(q: Option<&str>) -> Vec<String> {
    q.unwrap_or_default()
        .split_whitespace()
        .filter(|w| !w.is_empty())
        .take(10)
        .map(str::to_owned)
        .collect()
}

/// Practices the caller may see, newest first.
pub async fn list(
    state: &AppState,
    identity: &Identity,
    q: Option<&str>,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<PracticeSummary>, AppError> {
    let drafts = may_see_drafts(identity);
    let words = search_words(q);
    let rows = state
        .db
        .call(move |conn| {
            practices::list(conn, drafts, &words, before, limit).map_err(AppError::from)
        })
        .await?;
    Ok(rows.into_iter().map(PracticeSummary::new).collect())
}

/// One practice, if the caller may see it (a draft is 404 to others).
pub async fn get(state: &AppState, identity: &Identity, id: i64) -> Result<PracticeView, AppError> {
    let drafts = may_see_drafts(identity);
    let view = state.db.call(move |conn| load_view(conn, id)).await?;
    if !view.public && !drafts {
        return Err(AppError::NotFound);
    }
    Ok(view)
}

/// Creates a practice (never federated at creation: set it `national` afterwards).
pub async fn create(
    state: &AppState,
    identity: &Identity,
    input: PracticeInput,
) -> Result<PracticeView, AppError> {
    policy::authorize(identity, Action::ManagePractices)?;
    let checked = check_input(&input)?;
    let actor = identity.actor();
    state
        .db
        .call(move |conn| {
            let tx = begin(conn)?;
            check_comuni_exist(&tx, &checked.comuni)?;
            let now = crate::db::now();
            let id = practices::insert(&tx, &checked.fields(), &actor.label, now)?;
            audit::record(
                &tx,
                &actor,
                "practice.create",
                &format!("practice:{id}"),
                &json!({"module": checked.module.as_str(), "public": checked.public}),
                now,
            )?;
            let view = load_view(&tx, id)?;
            tx.commit()?;
            Ok(view)
        })
        .await
}

/// Replaces a practice's fields; a federated one is republished (or withdrawn if it became
/// a draft) in the same transaction.
pub async fn update(
    state: &AppState,
    identity: &Identity,
    id: i64,
    input: PracticeInput,
) -> Result<PracticeView, AppError> {
    policy::authorize(identity, Action::ManagePractices)?;
    let checked = check_input(&input)?;
    let actor = identity.actor();
    publish_change(state, move |tx, signer| {
        check_comuni_exist(tx, &checked.comuni)?;
        let now = crate::db::now();
        if !practices::update(tx, id, &checked.fields(), now)? {
            return Err(AppError::NotFound);
        }
        let entry = sync_hub(tx, signer, id)?;
        audit::record(
            tx,
            &actor,
            "practice.update",
            &format!("practice:{id}"),
            &json!({"module": checked.module.as_str(), "public": checked.public, "entry": entry}),
            now,
        )?;
        let view = load_view(tx, id)?;
        Ok((view, entry))
    })
    .await
}

/// Sets a practice `national` (publishes it, if public) or `off` (withdraws it, if it was
/// published).
pub async fn set_federation(
    state: &AppState,
    identity: &Identity,
    id: i64,
    federation: Federation,
) -> Result<PracticeView, AppError> {
    policy::authorize(identity, Action::ManagePractices)?;
    let actor = identity.actor();
    publish_change(state, move |tx, signer| {
        let row = practices::get(tx, id)?.ok_or(AppError::NotFound)?;
        if row.federation == federation.as_str() {
            let view = load_view(tx, id)?;
            return Ok::<_, AppError>((view, None));
        }
        let now = crate::db::now();
        practices::set_federation(tx, id, federation.as_str(), now)?;
        let entry = sync_hub(tx, signer, id)?;
        audit::record(
            tx,
            &actor,
            "practice.federation",
            &format!("practice:{id}"),
            &json!({"federation": federation.as_str(), "entry": entry}),
            now,
        )?;
        let view = load_view(tx, id)?;
        Ok((view, entry))
    })
    .await
}

pub use crate::upload::Upload;

/// Most files one form submission attaches.
pub const FORM_FILES_MAX: usize = 5;
/// Most bytes of files in one form submission.
pub const FORM_BYTES_MAX: usize = 40 * 1024 * 1024;

/// What the web form sends: the document, files to attach, and the federation setting.
#[derive(Debug, Clone)]
pub struct FormSubmission {
    /// The fields.
    pub input: PracticeInput,
    /// Files to attach (checked here).
    pub files: Vec<Upload>,
    /// `off` or `national`.
    pub federation: Federation,
}

/// Creates (`id` `None`) or updates a practice from the web form, with its new attachments
/// and federation setting, in one transaction: at most one entry is signed, describing the
/// document as saved.
pub async fn save_form(
    state: &AppState,
    identity: &Identity,
    id: Option<i64>,
    form: FormSubmission,
) -> Result<PracticeView, AppError> {
    policy::authorize(identity, Action::ManagePractices)?;
    let checked = check_input(&form.input)?;
    let limits = crate::upload::FileLimits {
        field: "attachment",
        max_files: FORM_FILES_MAX,
        max_total: FORM_BYTES_MAX,
        max_each: ATTACHMENT_MAX,
    };
    let files: Vec<CheckedFile> =
        crate::upload::check_all(form.files, limits, ALLOWED_ATTACHMENT_TYPES)?
            .into_iter()
            .map(|(filename, upload)| CheckedFile { filename, upload })
            .collect();
    let federation = form.federation;
    let actor = identity.actor();
    publish_change(state, move |tx, signer| {
        check_comuni_exist(tx, &checked.comuni)?;
        let now = crate::db::now();
        let (id, action) = match id {
            None => (
                practices::insert(tx, &checked.fields(), &actor.label, now)?,
                "practice.create",
            ),
            Some(id) => {
                if !practices::update(tx, id, &checked.fields(), now)? {
                    return Err(AppError::NotFound);
                }
                (id, "practice.update")
            }
        };
        let attached: Vec<serde_json::Value> = ATTACHMENTS
            .insert(tx, &actor, None, id, &files, now)?
            .into_iter()
            .map(|stored| json!({"sha256": stored.sha256, "size": stored.size}))
            .collect();
        practices::set_federation(tx, id, federation.as_str(), now)?;
        let entry = sync_hub(tx, signer, id)?;
        audit::record(
            tx,
            &actor,
            action,
            &format!("practice:{id}"),
            &json!({"module": checked.module.as_str(), "public": checked.public,
                    "federation": federation.as_str(), "attachments": attached, "entry": entry}),
            now,
        )?;
        let view = load_view(tx, id)?;
        Ok((view, entry))
    })
    .await
}

/// Attaches a file; a published document is republished with the file declared.
pub async fn add_attachment(
    state: &AppState,
    identity: &Identity,
    id: i64,
    upload: Upload,
) -> Result<AttachmentView, AppError> {
    policy::authorize(identity, Action::ManagePractices)?;
    let file = ATTACHMENTS.check(upload, ATTACHMENT_MAX)?;
    let actor = identity.actor();
    publish_change(state, move |tx, signer| {
        practices::get(tx, id)?.ok_or(AppError::NotFound)?;
        let now = crate::db::now();
        let stored = ATTACHMENTS.insert(tx, &actor, None, id, std::slice::from_ref(&file), now)?;
        let (attachment, sha) = (stored[0].id, stored[0].sha256.clone());
        let entry = sync_hub(tx, signer, id)?;
        audit::record(
            tx,
            &actor,
            "practice.attach",
            &format!("practice:{id}"),
            &json!({"attachment": attachment, "size": file.upload.data.len(), "sha256": sha, "entry": entry}),
            now,
        )?;
        let view = practices::attachments(tx, id)?
            .into_iter()
            .find(|a| a.id == attachment)
            .map(AttachmentView::from)
            .ok_or(AppError::NotFound)?;
        Ok((view, entry))
    })
    .await
}

/// The bytes of an attachment of a practice the caller may see.
pub async fn attachment(
    state: &AppState,
    identity: &Identity,
    id: i64,
    attachment_id: i64,
) -> Result<(AttachmentRow, Vec<u8>), AppError> {
    get(state, identity, id).await?;
    state
        .db
        .call(move |conn| {
            practices::attachment_data(conn, id, attachment_id)?.ok_or(AppError::NotFound)
        })
        .await
}

/// Community's part of the OpenAPI document.
#[derive(Debug, utoipa::OpenApi)]
#[openapi(paths(
    api::list_practices,
    api::create_practice,
    api::get_practice,
    api::update_practice,
    api::create_practice_attachment,
    api::get_practice_attachment,
    api::update_practice_federation,
))]
pub struct CommunityApi;

/// Community in the module registry.
pub const KIT: ModuleKit = ModuleKit {
    operator: Some((Module::Community, "Operatore Community")),
    api: api::router,
    pages: pages::router,
    openapi: <CommunityApi as utoipa::OpenApi>::openapi,
    // Public documents are for everyone; drafts appear in the same list for Province staff.
    nav: Some(NavEntry {
        label: "Buone pratiche",
        path: "/buone-pratiche",
        covers_subpaths: false,
        audience: Audience::Everyone,
    }),
    dashboard: |role| match role {
        Role::Operator(Module::Community) => vec![
            Link::new("Buone pratiche", "/buone-pratiche"),
            Link::new("Nuova buona pratica", "/buone-pratiche/nuova"),
        ],
        _ => vec![],
    },
    cards: Some(pages::cards),
    home: Some(HomeCard {
        title: "Buone pratiche",
        text: "Documenti ed esperienze della Provincia, condivisi con le altre Province.",
        href: "/buone-pratiche",
    }),
    ..ModuleKit::new("community")
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_checked() {
        let input = |comuni: Vec<&str>, language: &str| PracticeInput {
            title: " Titolo ".into(),
            summary: String::new(),
            module: Module::Sua,
            comuni: comuni.into_iter().map(str::to_owned).collect(),
            tags: vec!["gare".into(), "gare".into()],
            language: language.into(),
            body: String::new(),
            public: true,
        };
        let ok = check_input(&input(vec!["026086"], "it")).expect("valid");
        assert_eq!(ok.title, "Titolo");
        assert_eq!(ok.tags, vec!["gare".to_owned()]);
        assert!(check_input(&input(vec!["26086"], "it")).is_err());
        assert!(check_input(&input(vec![], "i t")).is_err());
    }
}
