//! The documents of a proposal (application forms, letters of support, the grant agreement,
//! reports), kept through the node's attachment store: the SAPE office adds them, the Comuni
//! taking part read them, nobody else learns they exist.

use serde::Serialize;

use crate::attachments::{AttachmentRow, Store, Table};
use crate::auth::Identity;
use crate::db;
use crate::error::AppError;
use crate::lifecycle::{begin, display_name};
use crate::sape::db as store;
use crate::sape::policy::{self, Action};
use crate::state::AppState;
use crate::upload::Upload;

/// The largest document.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

/// Where they are kept.
pub const DOCUMENTS: Store = Store {
    table: Table {
        name: "sape_documents",
        record_column: "proposal_id",
        type_column: "media_type",
        uploaded_by_column: Some("uploaded_by"),
    },
    allowed_types: crate::attachments::DOCUMENT_TYPES,
    field: "document",
    audit: Some(("sape.document", "sape_proposal")),
};

/// A document as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DocumentView {
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
    /// Who added it.
    pub uploaded_by: String,
    /// RFC 3339 UTC.
    pub created_at: String,
}

impl From<AttachmentRow> for DocumentView {
    fn from(row: AttachmentRow) -> DocumentView {
        DocumentView {
            id: row.id,
            filename: row.filename,
            media_type: row.media_type,
            size: row.size,
            sha256: row.sha256,
            uploaded_by: row.uploaded_by.unwrap_or_default(),
            created_at: db::rfc3339(row.created_at),
        }
    }
}

/// Checks that `identity` may read proposal `id` (404 for a Comune not in it).
fn visible(conn: &rusqlite::Connection, identity: &Identity, id: i64) -> Result<(), AppError> {
    let row = store::get_proposal(conn, id)?.ok_or(AppError::NotFound)?;
    policy::authorize(
        identity,
        Action::ViewProposal {
            comuni: &row.record.comuni,
        },
    )
}

/// The documents of proposal `id`, oldest first.
pub async fn list(
    state: &AppState,
    identity: &Identity,
    id: i64,
) -> Result<Vec<DocumentView>, AppError> {
    let identity = identity.clone();
    state
        .db
        .call(move |conn| {
            visible(conn, &identity, id)?;
            Ok(DOCUMENTS
                .list(conn, id)?
                .into_iter()
                .map(DocumentView::from)
                .collect())
        })
        .await
}

/// Adds `uploads` to proposal `id` (SAPE staff): all of them or none.
pub async fn add(
    state: &AppState,
    identity: &Identity,
    id: i64,
    uploads: Vec<Upload>,
) -> Result<Vec<DocumentView>, AppError> {
    policy::authorize(identity, Action::ManageProposals)?;
    if uploads.is_empty() {
        return Err(AppError::invalid_field(
            DOCUMENTS.field,
            "Scegliete un file da allegare.",
        ));
    }
    let files = DOCUMENTS.check_all(uploads, MAX_BYTES)?;
    let actor = identity.actor();
    let who = display_name(identity);
    state
        .db
        .call(move |conn| {
            let now = db::now();
            let tx = begin(conn)?;
            store::get_proposal(&tx, id)?.ok_or(AppError::NotFound)?;
            let ids: Vec<i64> = DOCUMENTS
                .insert(&tx, &actor, Some(&who), id, &files, now)?
                .into_iter()
                .map(|stored| stored.id)
                .collect();
            store::touch_proposal(&tx, id, now)?;
            let views = DOCUMENTS
                .list(&tx, id)?
                .into_iter()
                .filter(|row| ids.contains(&row.id))
                .map(DocumentView::from)
                .collect();
            tx.commit()?;
            Ok(views)
        })
        .await
}

/// Document `document` of proposal `id` with its bytes.
pub async fn read(
    state: &AppState,
    identity: &Identity,
    id: i64,
    document: i64,
) -> Result<(AttachmentRow, Vec<u8>), AppError> {
    let identity = identity.clone();
    state
        .db
        .call(move |conn| {
            visible(conn, &identity, id)?;
            DOCUMENTS.read(conn, id, document)
        })
        .await
}
