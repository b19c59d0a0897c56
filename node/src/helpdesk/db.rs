//! Help Desk SQL.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use crate::helpdesk::{Category, Status};

/// A request row with the names the views need.
#[derive(Debug, Clone)]
pub struct RequestRow {
    /// Id.
    pub id: i64,
    /// Owner Comune.
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
    /// Assignee id and name.
    pub assignee: Option<(i64, String)>,
    /// Who opened it.
    pub opened_by: String,
    /// Times (Unix seconds).
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
    /// First Province answer (comment or status change).
    pub first_response_at: Option<i64>,
    /// When it became resolved.
    pub resolved_at: Option<i64>,
    /// When it was closed.
    pub closed_at: Option<i64>,
}

const REQUEST_SELECT: &str = "SELECT r.id, r.comune_code, c.name, r.category, r.subject, r.description, r.status, \
    r.assignee_id, a.display_name, o.display_name, r.created_at, r.updated_at, r.first_response_at, r.resolved_at, r.closed_at \
    FROM helpdesk_requests r JOIN comuni c ON c.code = r.comune_code JOIN users o ON o.id = r.opened_by \
    LEFT JOIN users a ON a.id = r.assignee_id";

fn request_from_row(row: &Row<'_>) -> rusqlite::Result<RequestRow> {
    let bad = |index: usize| {
        rusqlite::Error::InvalidColumnType(index, "enum".into(), rusqlite::types::Type::Text)
    };
    let category: String = row.get(3)?;
    let status: String = row.get(6)?;
    let assignee_id: Option<i64> = row.get(7)?;
    let assignee_name: Option<String> = row.get(8)?;
    Ok(RequestRow {
        id: row.get(0)?,
        comune_code: row.get(1)?,
        comune_name: row.get(2)?,
        category: Category::parse(&category).ok_or_else(|| bad(3))?,
        subject: row.get(4)?,
        description: row.get(5)?,
        status: Status::parse(&status).ok_or_else(|| bad(6))?,
        assignee: assignee_id.zip(assignee_name),
        opened_by: row.get(9)?,
        created_at: row.get(10)?,
        updated_at: row.get(11)?,
        first_response_at: row.get(12)?,
        resolved_at: row.get(13)?,
        closed_at: row.get(14)?,
    })
}

/// List filters, already authorised (`comune` is forced for Comune users).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this Comune.
    pub comune: Option<String>,
    /// Only this status.
    pub status: Option<Status>,
    /// Only this category.
    pub category: Option<Category>,
    /// Only requests assigned to this user.
    pub assignee_id: Option<i64>,
    /// Only overdue requests, given the SLA (seconds) and now.
    pub overdue: Option<(i64, i64, i64)>,
    /// Ids below this (cursor).
    pub before_id: Option<i64>,
}

/// The conditions of [`Filter`], over parameters ?1 to ?9.
const FILTER_WHERE: &str = "WHERE (?1 IS NULL OR r.comune_code = ?1) AND (?2 IS NULL OR r.status = ?2) \
     AND (?3 IS NULL OR r.category = ?3) AND (?4 IS NULL OR r.assignee_id = ?4) AND (?5 IS NULL OR r.id < ?5) \
     AND (?6 = 0 OR (r.first_response_at IS NULL AND r.created_at < ?7 - ?8) \
          OR (r.resolved_at IS NULL AND r.status NOT IN ('resolved', 'closed') AND r.created_at < ?7 - ?9))";

/// The columns a list page may order by: the `ORDER BY` expressions of
/// [`list_page`], chosen by key (`web::list`), never written by the request.
pub const SORT_COLUMNS: &[crate::web::list::SortColumn] = &[
    crate::web::list::SortColumn {
        key: "numero",
        label: "N.",
        sql: "r.id",
    },
    crate::web::list::SortColumn {
        key: "oggetto",
        label: "Oggetto",
        sql: "r.subject COLLATE NOCASE",
    },
    crate::web::list::SortColumn {
        key: "comune",
        label: "Comune",
        sql: "c.name",
    },
    crate::web::list::SortColumn {
        key: "stato",
        label: "Stato",
        sql: "r.status",
    },
    crate::web::list::SortColumn {
        key: "aperta",
        label: "Aperta il",
        sql: "r.created_at",
    },
];

/// The values of ?1 to ?9 for [`FILTER_WHERE`], then `extra` (limit, offset).
fn filter_values(filter: &Filter, extra: &[u32]) -> Vec<Value> {
    let (now, first_secs, resolve_secs) = filter.overdue.unwrap_or((0, 0, 0));
    let mut values = vec![
        Value::from(filter.comune.clone()),
        Value::from(filter.status.map(|s| s.as_str().to_owned())),
        Value::from(filter.category.map(|c| c.as_str().to_owned())),
        Value::from(filter.assignee_id),
        Value::from(filter.before_id),
        Value::from(filter.overdue.is_some()),
        Value::from(now),
        Value::from(first_secs),
        Value::from(resolve_secs),
    ];
    values.extend(extra.iter().map(|n| Value::from(*n)));
    values
}

/// Requests matching `filter`, newest first, at most `limit`.
pub fn list(conn: &Connection, filter: &Filter, limit: u32) -> rusqlite::Result<Vec<RequestRow>> {
    let sql = format!("{REQUEST_SELECT} {FILTER_WHERE} ORDER BY r.id DESC LIMIT ?10");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params_from_iter(filter_values(filter, &[limit])),
        request_from_row,
    )?;
    rows.collect()
}

/// One page of the requests matching `filter`, ordered by `order_by` (an expression of
/// [`SORT_COLUMNS`] with its direction, built by `web::list` from constants).
pub fn list_page(
    conn: &Connection,
    filter: &Filter,
    order_by: &str,
    limit: u32,
    offset: u32,
) -> rusqlite::Result<Vec<RequestRow>> {
    let sql = format!("{REQUEST_SELECT} {FILTER_WHERE} ORDER BY {order_by} LIMIT ?10 OFFSET ?11");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params_from_iter(filter_values(filter, &[limit, offset])),
        request_from_row,
    )?;
    rows.collect()
}

/// How many requests match `filter`.
pub fn count(conn: &Connection, filter: &Filter) -> rusqlite::Result<u64> {
    let sql = format!(
        "SELECT COUNT(*) FROM helpdesk_requests r JOIN comuni c ON c.code = r.comune_code {FILTER_WHERE}"
    );
    let n: i64 = conn.query_row(&sql, params_from_iter(filter_values(filter, &[])), |row| {
        row.get(0)
    })?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// One request.
pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<RequestRow>> {
    conn.query_row(
        &format!("{REQUEST_SELECT} WHERE r.id = ?1"),
        [id],
        request_from_row,
    )
    .optional()
}

/// Inserts a request; returns its id.
pub fn insert(
    conn: &Connection,
    comune: &str,
    category: Category,
    subject: &str,
    description: &str,
    opened_by: i64,
    now: i64,
) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO helpdesk_requests (comune_code, category, subject, description, opened_by, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        params![comune, category.as_str(), subject, description, opened_by, now],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Sets the clock fields a move to `to` implies, once the lifecycle has moved the status
/// (`crate::helpdesk::MACHINE`, in the same transaction).
pub fn after_move(conn: &Connection, id: i64, to: Status, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE helpdesk_requests SET updated_at = ?3, \
         resolved_at = CASE WHEN ?2 = 'resolved' THEN ?3 WHEN ?2 = 'in_progress' THEN NULL ELSE resolved_at END, \
         closed_at = CASE WHEN ?2 = 'closed' THEN ?3 ELSE closed_at END \
         WHERE id = ?1",
        params![id, to.as_str(), now],
    )?;
    Ok(())
}

/// Starts the first-response clock's stop, once.
pub fn mark_first_response(conn: &Connection, id: i64, now: i64) -> rusqlite::Result<()> {
    conn.execute("UPDATE helpdesk_requests SET first_response_at = ?2 WHERE id = ?1 AND first_response_at IS NULL", params![id, now])?;
    Ok(())
}

/// Sets (or clears) the assignee.
pub fn set_assignee(
    conn: &Connection,
    id: i64,
    assignee: Option<i64>,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE helpdesk_requests SET assignee_id = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, assignee, now],
    )?;
    Ok(())
}

/// A comment.
#[derive(Debug, Clone)]
pub struct CommentRow {
    /// Id.
    pub id: i64,
    /// Author's display name.
    pub author: String,
    /// Whether the author is Province staff.
    pub from_province: bool,
    /// Text.
    pub body: String,
    /// When.
    pub created_at: i64,
}

/// Adds a comment; bumps `updated_at`.
pub fn insert_comment(
    conn: &Connection,
    request_id: i64,
    author_id: i64,
    from_province: bool,
    body: &str,
    now: i64,
) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO helpdesk_comments (request_id, author_id, from_province, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![request_id, author_id, from_province, body, now],
    )?;
    let id = conn.last_insert_rowid();
    conn.execute(
        "UPDATE helpdesk_requests SET updated_at = ?2 WHERE id = ?1",
        params![request_id, now],
    )?;
    Ok(id)
}

/// Comments of a request, oldest first.
pub fn comments(conn: &Connection, request_id: i64) -> rusqlite::Result<Vec<CommentRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.id, u.display_name, m.from_province, m.body, m.created_at FROM helpdesk_comments m \
         JOIN users u ON u.id = m.author_id WHERE m.request_id = ?1 ORDER BY m.id",
    )?;
    let rows = stmt.query_map([request_id], |row| {
        Ok(CommentRow {
            id: row.get(0)?,
            author: row.get(1)?,
            from_province: row.get(2)?,
            body: row.get(3)?,
            created_at: row.get(4)?,
        })
    })?;
    rows.collect()
}
