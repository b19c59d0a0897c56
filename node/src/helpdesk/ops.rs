//! Help Desk operations shared by the API and the web pages: each checks the policy, changes
//! the data and appends the audit event in one transaction.

use pico_protocol::ComuneCode;
use pico_service::csv::{CsvWriter, Separator};
use pico_service::text::{self, Lines};
use rusqlite::TransactionBehavior;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::Identity;
use crate::db::{self, audit};
use crate::error::AppError;
use crate::helpdesk::db::{self as store, RequestRow};
use crate::helpdesk::policy::{self, Action, Scope};
use crate::helpdesk::settings::HelpdeskSettings;
use crate::helpdesk::{ATTACHMENTS, Category, MACHINE, SUBJECT_MAX, Status, TEXT_MAX};
use crate::lifecycle::{self, Step};
use crate::state::AppState;

/// A request as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequestView {
    /// Id.
    pub id: i64,
    /// ISTAT code of the Comune that opened it.
    pub comune_code: String,
    /// Its name.
    pub comune_name: String,
    /// Category.
    pub category: Category,
    /// Subject.
    pub subject: String,
    /// Description.
    pub description: String,
    /// Status.
    pub status: Status,
    /// Assigned operator's id.
    pub assignee_id: Option<i64>,
    /// Assigned operator's name.
    pub assignee_name: Option<String>,
    /// Who opened it.
    pub opened_by: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC.
    pub updated_at: String,
    /// First answer from the Province, RFC 3339 UTC.
    pub first_response_at: Option<String>,
    /// When it was resolved, RFC 3339 UTC.
    pub resolved_at: Option<String>,
    /// When it was closed, RFC 3339 UTC.
    pub closed_at: Option<String>,
    /// First answer due by, RFC 3339 UTC.
    pub first_response_due: String,
    /// Resolution due by, RFC 3339 UTC.
    pub resolution_due: String,
    /// Whether an SLA deadline has passed unmet.
    pub overdue: bool,
}

impl RequestView {
    /// Builds the view, computing the SLA clock at `now`.
    pub fn new(row: RequestRow, sla: &HelpdeskSettings, now: i64) -> RequestView {
        let first_due = row.created_at + i64::from(sla.sla_first_response_hours) * 3600;
        let resolve_due = row.created_at + i64::from(sla.sla_resolution_hours) * 3600;
        let overdue = (row.first_response_at.is_none() && now > first_due)
            || (row.resolved_at.is_none() && !row.status.is_done() && now > resolve_due);
        let (assignee_id, assignee_name) = row
            .assignee
            .map_or((None, None), |(id, name)| (Some(id), Some(name)));
        RequestView {
            id: row.id,
            comune_code: row.comune_code,
            comune_name: row.comune_name,
            category: row.category,
            subject: row.subject,
            description: row.description,
            status: row.status,
            assignee_id,
            assignee_name,
            opened_by: row.opened_by,
            created_at: db::rfc3339(row.created_at),
            updated_at: db::rfc3339(row.updated_at),
            first_response_at: row.first_response_at.map(db::rfc3339),
            resolved_at: row.resolved_at.map(db::rfc3339),
            closed_at: row.closed_at.map(db::rfc3339),
            first_response_due: db::rfc3339(first_due),
            resolution_due: db::rfc3339(resolve_due),
            overdue,
        }
    }
}

/// A comment as shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CommentView {
    /// Id.
    pub id: i64,
    /// Author's name.
    pub author: String,
    /// Whether the Province wrote it.
    pub from_province: bool,
    /// Text.
    pub body: String,
    /// RFC 3339 UTC.
    pub created_at: String,
}

/// An attachment as listed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttachmentView {
    /// Id.
    pub id: i64,
    /// File name.
    pub filename: String,
    /// Content type.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
}

impl From<crate::attachments::AttachmentRow> for AttachmentView {
    fn from(row: crate::attachments::AttachmentRow) -> AttachmentView {
        AttachmentView {
            id: row.id,
            filename: row.filename,
            content_type: row.media_type,
            size: row.size,
        }
    }
}

/// A request with its conversation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequestDetail {
    /// The request.
    pub request: RequestView,
    /// Comments, oldest first.
    pub comments: Vec<CommentView>,
    /// Attachments.
    pub attachments: Vec<AttachmentView>,
    /// Statuses the caller may move it to now.
    pub allowed_transitions: Vec<Status>,
    /// Its history: the opening (no `from`) and every move, oldest first.
    pub history: Vec<RequestStepView>,
}

/// One step of a request's history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequestStepView {
    /// Status before (null for the opening).
    pub from: Option<Status>,
    /// Status after.
    pub to: Status,
    /// Reason given (empty when none).
    pub reason: String,
    /// Who (the name people read).
    pub actor: String,
    /// When, RFC 3339 UTC.
    pub at: String,
}

/// Body of `POST /v1/helpdesk/requests`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    /// Comune the request is for; Comune users may omit it (their own is used).
    #[schema(value_type = Option<String>, example = "026086")]
    pub comune_code: Option<ComuneCode>,
    /// Category.
    pub category: Category,
    /// Subject, 1–200 characters.
    pub subject: String,
    /// Description, 1–20000 characters.
    pub description: String,
}

pub use crate::upload::Upload;

/// A required text through the shared validator (`pico_service::text`), as a field error.
fn check_text(
    field: &'static str,
    text: &str,
    lines: Lines,
    max: usize,
) -> Result<String, AppError> {
    text::clean(text, lines, max, true)
        .map_err(|err| AppError::invalid_field(field, err.to_string()))
}

/// Opens a request (with an optional attachment).
pub async fn open_request(
    state: &AppState,
    identity: &Identity,
    input: NewRequest,
    upload: Option<Upload>,
) -> Result<RequestView, AppError> {
    let user = identity.require_user()?.clone();
    let comune = match (&input.comune_code, user.roles.comune()) {
        (Some(code), _) => code.as_str().to_owned(),
        (None, Some(own)) => own.as_str().to_owned(),
        (None, _) => {
            return Err(AppError::invalid_field(
                "comune_code",
                "Indica il Comune per cui apri la richiesta.",
            ));
        }
    };
    if !comune.starts_with(&state.province.code) {
        return Err(AppError::invalid_field(
            "comune_code",
            format!("{comune} non è un Comune di questa Provincia."),
        ));
    }
    policy::authorize(identity, Action::OpenRequest { comune: &comune })?;
    let subject = check_text("subject", &input.subject, Lines::One, SUBJECT_MAX)?;
    let description = check_text("description", &input.description, Lines::Many, TEXT_MAX)?;
    let upload = upload
        .map(|upload| ATTACHMENTS.check(upload, state.config.helpdesk.attachment_max_bytes))
        .transpose()?;
    let actor = identity.actor();
    let sla = state.config.helpdesk.clone();
    state
        .db
        .call(move |conn| {
            let now = db::now();
            let tx = lifecycle::begin(conn)?;
            if db::comuni::name_of(&tx, &comune)?.is_none() {
                return Err(AppError::invalid_field(
                    "comune_code",
                    format!("{comune} non è un Comune di questa Provincia."),
                ));
            }
            let id = store::insert(
                &tx,
                &comune,
                input.category,
                &subject,
                &description,
                user.id,
                now,
            )?;
            MACHINE.record_creation(&tx, id, Status::New, "", &user.display_name, now)?;
            let resource = format!("helpdesk_request:{id}");
            audit::record(
                &tx,
                &actor,
                "helpdesk.open",
                &resource,
                &json!({"comune": comune, "category": input.category.as_str()}),
                now,
            )?;
            if let Some(upload) = upload {
                ATTACHMENTS.insert(&tx, &actor, None, id, &[upload], now)?;
            }
            let row = store::get(&tx, id)?.ok_or(AppError::NotFound)?;
            tx.commit()?;
            Ok(RequestView::new(row, &sla, now))
        })
        .await
}

async fn load(state: &AppState, id: i64) -> Result<RequestRow, AppError> {
    state
        .db
        .call(move |conn| store::get(conn, id)?.ok_or(AppError::NotFound))
        .await
}

/// Loads request `id` if the caller may see it (404 if there is none, 401/403 per the policy).
async fn load_visible(
    state: &AppState,
    identity: &Identity,
    id: i64,
) -> Result<RequestRow, AppError> {
    load_for(state, identity, id, |comune| Action::ViewRequest { comune }).await
}

/// Loads request `id` if the caller may comment on it and attach files to it.
async fn load_commentable(
    state: &AppState,
    identity: &Identity,
    id: i64,
) -> Result<RequestRow, AppError> {
    load_for(state, identity, id, |comune| Action::CommentRequest {
        comune,
    })
    .await
}

/// Loads request `id` if the policy allows `action` on its Comune.
async fn load_for(
    state: &AppState,
    identity: &Identity,
    id: i64,
    action: for<'a> fn(&'a str) -> Action<'a>,
) -> Result<RequestRow, AppError> {
    let row = load(state, id).await?;
    policy::authorize(identity, action(&row.comune_code))?;
    Ok(row)
}

/// A request with comments, attachments and the caller's allowed transitions.
pub async fn request_detail(
    state: &AppState,
    identity: &Identity,
    id: i64,
) -> Result<RequestDetail, AppError> {
    let row = load_visible(state, identity, id).await?;
    let allowed_transitions =
        MACHINE.allowed(identity, std::slice::from_ref(&row.comune_code), row.status);
    let (comments, attachments, history) = state
        .db
        .call(move |conn| {
            Ok::<_, AppError>((
                store::comments(conn, id)?,
                ATTACHMENTS.list(conn, id)?,
                MACHINE.history(conn, id)?,
            ))
        })
        .await?;
    Ok(RequestDetail {
        request: RequestView::new(row, &state.config.helpdesk, db::now()),
        comments: comments
            .into_iter()
            .map(|c| CommentView {
                id: c.id,
                author: c.author,
                from_province: c.from_province,
                body: c.body,
                created_at: db::rfc3339(c.created_at),
            })
            .collect(),
        attachments: attachments.into_iter().map(AttachmentView::from).collect(),
        allowed_transitions,
        history: history
            .into_iter()
            .map(|step| RequestStepView {
                from: step.from,
                to: step.to,
                reason: step.reason,
                actor: step.actor,
                at: db::rfc3339(step.at),
            })
            .collect(),
    })
}

/// The 409 of a write on a closed request.
fn closed() -> AppError {
    AppError::Conflict {
        code: "request_closed",
        detail: "La richiesta è chiusa: non si può più rispondere. Aprirne una nuova.".into(),
    }
}

/// Adds a comment. A Province comment stops the first-response clock; a Comune reply to a
/// request waiting for it puts the request back in progress.
///
/// The status is read inside the IMMEDIATE transaction that writes (and the move back to
/// in progress is guarded by the status read), so a reply racing a close either lands
/// before the close or is refused with 409: it never lands on, nor reopens, a closed request.
pub async fn add_comment(
    state: &AppState,
    identity: &Identity,
    id: i64,
    body: &str,
) -> Result<CommentView, AppError> {
    load_commentable(state, identity, id).await?;
    let body = check_text("body", body, Lines::Many, TEXT_MAX)?;
    let user = identity.require_user()?.clone();
    let actor = identity.actor();
    let identity = identity.clone();
    state
        .db
        .call(move |conn| {
            let now = db::now();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let current = store::get(&tx, id)?.ok_or(AppError::NotFound)?;
            if current.status == Status::Closed {
                return Err(closed());
            }
            let from_province = user.roles.is_province();
            let comment = store::insert_comment(&tx, id, user.id, from_province, &body, now)?;
            let resource = format!("helpdesk_request:{id}");
            audit::record(
                &tx,
                &actor,
                "helpdesk.comment",
                &resource,
                &json!({"comment": comment}),
                now,
            )?;
            if from_province {
                store::mark_first_response(&tx, id, now)?;
            } else if current.status == Status::WaitingForComune {
                // The lifecycle's move, made by the module: the Comune answered.
                let owners = [current.comune_code];
                let step = Step::new(
                    &identity,
                    &owners,
                    id,
                    Status::WaitingForComune,
                    Status::InProgress,
                )
                .reason("Risposta del Comune")
                .cause("comune_reply")
                .at(now);
                MACHINE.enter(&tx, &step)?;
                store::after_move(&tx, id, Status::InProgress, now)?;
            }
            tx.commit()?;
            Ok(CommentView {
                id: comment,
                author: user.display_name,
                from_province,
                body,
                created_at: db::rfc3339(now),
            })
        })
        .await
}

/// Moves a request to `to`, if the state machine and the policy allow it.
pub async fn transition(
    state: &AppState,
    identity: &Identity,
    id: i64,
    to: Status,
) -> Result<RequestView, AppError> {
    transition_from(state, identity, id, None, to, "").await
}

/// Moves a request from `from` (the status the caller saw; by default the one read now) to
/// `to`, with an optional reason kept in its history, through the audited lifecycle
/// ([`MACHINE`]): 409 `stale_state` if it has left `from` meanwhile.
pub async fn transition_from(
    state: &AppState,
    identity: &Identity,
    id: i64,
    from: Option<Status>,
    to: Status,
    reason: &str,
) -> Result<RequestView, AppError> {
    let row = load_visible(state, identity, id).await?;
    let reason = text::clean(reason, Lines::Many, TEXT_MAX, false)
        .map_err(|err| AppError::invalid_field("reason", err.to_string()))?;
    let from = from.unwrap_or(row.status);
    let province_staff = identity.require_user()?.roles.is_province();
    let identity = identity.clone();
    let sla = state.config.helpdesk.clone();
    state
        .db
        .call(move |conn| {
            let owners = [row.comune_code];
            let step = Step::new(&identity, &owners, id, from, to).reason(&reason);
            MACHINE.transition(conn, &step, |tx| {
                store::after_move(tx, id, to, step.now)?;
                if province_staff {
                    store::mark_first_response(tx, id, step.now)?;
                }
                let row = store::get(tx, id)?.ok_or(AppError::NotFound)?;
                Ok(RequestView::new(row, &sla, step.now))
            })
        })
        .await
}

/// Assigns a request to a Help Desk operator (or clears the assignee).
pub async fn assign(
    state: &AppState,
    identity: &Identity,
    id: i64,
    assignee: Option<i64>,
) -> Result<RequestView, AppError> {
    load_visible(state, identity, id).await?;
    policy::authorize(identity, Action::AssignRequest)?;
    let actor = identity.actor();
    let sla = state.config.helpdesk.clone();
    state
        .db
        .call(move |conn| {
            let now = db::now();
            let tx = conn.transaction()?;
            if let Some(assignee) = assignee {
                let staff = db::people::helpdesk_staff(&tx)?;
                if !staff.iter().any(|user| user.id == assignee) {
                    return Err(AppError::invalid_field(
                        "assignee_id",
                        "Non è un operatore attivo dell'Help Desk.",
                    ));
                }
            }
            store::set_assignee(&tx, id, assignee, now)?;
            audit::record(
                &tx,
                &actor,
                "helpdesk.assign",
                &format!("helpdesk_request:{id}"),
                &json!({"assignee": assignee}),
                now,
            )?;
            let row = store::get(&tx, id)?.ok_or(AppError::NotFound)?;
            tx.commit()?;
            Ok(RequestView::new(row, &sla, now))
        })
        .await
}

/// List filters from the query string.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this status.
    pub status: Option<Status>,
    /// Only this Comune (Province staff only; Comune users always see their own).
    pub comune: Option<String>,
    /// Only this category.
    pub category: Option<Category>,
    /// Only requests assigned to this user id.
    pub assignee: Option<i64>,
    /// Only overdue requests.
    pub overdue: Option<bool>,
    /// Page size: 50 by default; values above 200 are reduced to 200, and 0 is read as 1.
    #[param(inline)]
    pub limit: Option<pico_service::Limit>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
    /// CSV export only: `comma` (default) or `semicolon` (for Italian spreadsheets: the file
    /// then starts with the UTF-8 BOM Excel needs).
    pub sep: Option<String>,
}

/// The SQL filter of `query` for `identity`: a Comune user always sees their own Comune.
fn list_filter(
    identity: &Identity,
    query: &ListQuery,
    sla: &HelpdeskSettings,
    now: i64,
    before_id: Option<i64>,
) -> Result<store::Filter, AppError> {
    let comune = match policy::helpdesk_scope(identity)? {
        Scope::All => query.comune.clone().filter(|c| !c.is_empty()),
        Scope::Comune(own) => Some(own),
    };
    Ok(store::Filter {
        comune,
        status: query.status,
        category: query.category,
        assignee_id: query.assignee,
        overdue: query.overdue.filter(|o| *o).map(|_| {
            (
                now,
                i64::from(sla.sla_first_response_hours) * 3600,
                i64::from(sla.sla_resolution_hours) * 3600,
            )
        }),
        before_id,
    })
}

/// What the dashboard shows of the Help Desk, over every request `identity` may see (no page
/// cut): the requests per status, and of the open ones how many are overdue and assigned to
/// the person, and the five due first.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Requests per status, in [`Status::ALL`] order.
    pub by_status: Vec<(Status, u64)>,
    /// Open requests past their first-response or resolution time.
    pub overdue: u64,
    /// Open requests assigned to the person.
    pub assigned_to_me: u64,
    /// The open requests due first (at most five).
    pub next: Vec<RequestView>,
}

/// The dashboard's [`Summary`] for `identity`.
pub async fn summary(state: &AppState, identity: &Identity) -> Result<Summary, AppError> {
    let sla = state.config.helpdesk.clone();
    let now = db::now();
    let user_id = identity.require_user()?.id;
    let base = list_filter(identity, &ListQuery::default(), &sla, now, None)?;
    let overdue = (
        now,
        i64::from(sla.sla_first_response_hours) * 3600,
        i64::from(sla.sla_resolution_hours) * 3600,
    );
    let (by_status, overdue, assigned_to_me, rows) = state
        .db
        .call(move |conn| {
            let mut by_status = Vec::new();
            let (mut late, mut mine, mut next) = (0, 0, Vec::new());
            for status in Status::ALL {
                let only = store::Filter {
                    status: Some(status),
                    ..base.clone()
                };
                by_status.push((status, store::count(conn, &only)?));
                if matches!(status, Status::Resolved | Status::Closed) {
                    continue;
                }
                late += store::count(
                    conn,
                    &store::Filter {
                        overdue: Some(overdue),
                        ..only.clone()
                    },
                )?;
                mine += store::count(
                    conn,
                    &store::Filter {
                        assignee_id: Some(user_id),
                        ..only.clone()
                    },
                )?;
                // Every request has the same time to resolution: the oldest are due first.
                next.extend(store::list_page(
                    conn,
                    &only,
                    "r.created_at ASC, r.id ASC",
                    5,
                    0,
                )?);
            }
            next.sort_by_key(|row| (row.created_at, row.id));
            next.truncate(5);
            Ok::<_, AppError>((by_status, late, mine, next))
        })
        .await?;
    Ok(Summary {
        by_status,
        overdue,
        assigned_to_me,
        next: rows
            .into_iter()
            .map(|row| RequestView::new(row, &sla, now))
            .collect(),
    })
}

/// Lists requests visible to `identity`; returns the rows and whether there are more.
pub async fn list_requests(
    state: &AppState,
    identity: &Identity,
    query: &ListQuery,
    limit: u32,
    before_id: Option<i64>,
) -> Result<Vec<RequestView>, AppError> {
    let sla = state.config.helpdesk.clone();
    let now = db::now();
    let filter = list_filter(identity, query, &sla, now, before_id)?;
    let rows = state
        .db
        .call(move |conn| store::list(conn, &filter, limit).map_err(AppError::from))
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| RequestView::new(row, &sla, now))
        .collect())
}

/// One page of the requests visible to `identity` in the order `order_by` (built by
/// `web::list` from `store::SORT_COLUMNS`), with how many match in all.
pub async fn list_requests_page(
    state: &AppState,
    identity: &Identity,
    query: &ListQuery,
    order_by: String,
    limit: u32,
    offset: u32,
) -> Result<(Vec<RequestView>, u64), AppError> {
    let sla = state.config.helpdesk.clone();
    let now = db::now();
    let filter = list_filter(identity, query, &sla, now, None)?;
    let (rows, total) = state
        .db
        .call(move |conn| {
            let total = store::count(conn, &filter)?;
            let rows = store::list_page(conn, &filter, &order_by, limit, offset)?;
            Ok::<_, AppError>((rows, total))
        })
        .await?;
    Ok((
        rows.into_iter()
            .map(|row| RequestView::new(row, &sla, now))
            .collect(),
        total,
    ))
}

/// CSV of the given requests for the operators' spreadsheets: Italian headers and labels,
/// every cell neutralised against formulas by `pico_service::csv` (a Comune writes the
/// subject), and with `;` the BOM Excel needs to read UTF-8.
pub fn to_csv(
    requests: &[RequestView],
    separator: Separator,
    bom: bool,
) -> Result<Vec<u8>, AppError> {
    let mut writer = CsvWriter::new(separator, bom);
    let internal = |err: csv::Error| AppError::Internal(err.to_string());
    writer
        .write([
            "Numero",
            "Codice ISTAT Comune",
            "Comune",
            "Categoria",
            "Oggetto",
            "Stato",
            "Assegnata a",
            "Aperta da",
            "Aperta il (UTC)",
            "Prima risposta (UTC)",
            "Risolta il (UTC)",
            "Chiusa il (UTC)",
            "In ritardo",
        ])
        .map_err(internal)?;
    for r in requests {
        writer
            .write([
                r.id.to_string().as_str(),
                &r.comune_code,
                &r.comune_name,
                r.category.label(),
                &r.subject,
                r.status.label(),
                r.assignee_name.as_deref().unwrap_or(""),
                &r.opened_by,
                &r.created_at,
                r.first_response_at.as_deref().unwrap_or(""),
                r.resolved_at.as_deref().unwrap_or(""),
                r.closed_at.as_deref().unwrap_or(""),
                if r.overdue { "sì" } else { "no" },
            ])
            .map_err(internal)?;
    }
    writer.finish().map_err(internal)
}

/// Adds an attachment to an existing request: whoever may comment on it may attach files.
pub async fn add_attachment(
    state: &AppState,
    identity: &Identity,
    id: i64,
    upload: Upload,
) -> Result<AttachmentView, AppError> {
    load_commentable(state, identity, id).await?;
    let file = ATTACHMENTS.check(upload, state.config.helpdesk.attachment_max_bytes)?;
    let actor = identity.actor();
    state
        .db
        .call(move |conn| {
            let now = db::now();
            // Immediate: the record's quota is read and written under one write lock.
            let tx = lifecycle::begin(conn)?;
            let stored =
                ATTACHMENTS.insert(&tx, &actor, None, id, std::slice::from_ref(&file), now)?;
            tx.commit()?;
            Ok(AttachmentView {
                id: stored[0].id,
                filename: file.filename,
                content_type: file.upload.media_type,
                size: file.upload.data.len() as i64,
            })
        })
        .await
}

/// The bytes of an attachment the caller may read.
pub async fn attachment(
    state: &AppState,
    identity: &Identity,
    id: i64,
    attachment_id: i64,
) -> Result<(AttachmentView, Vec<u8>), AppError> {
    load_visible(state, identity, id).await?;
    let (meta, data) = state
        .db
        .call(move |conn| ATTACHMENTS.read(conn, id, attachment_id))
        .await?;
    Ok((AttachmentView::from(meta), data))
}
