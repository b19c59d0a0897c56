//! The SQL of the audited lifecycle (`crate::lifecycle`): the guarded move of a record's
//! state and its history row, over the tables a module names in its declaration. The names
//! are `'static` strings of the declaration, never input.

use rusqlite::{Connection, OptionalExtension, params};

/// Where a module keeps a record's state and its history.
#[derive(Debug, Clone, Copy)]
pub struct Tables {
    /// The records (`helpdesk_requests`).
    pub records: &'static str,
    /// Their id column (`id`).
    pub id_column: &'static str,
    /// Their state column (`status`).
    pub state_column: &'static str,
    /// The history: one row per move, with the columns `from_state` (NULL for the creation),
    /// `to_state`, `reason`, `actor` (the name people read) and `at` (Unix seconds).
    pub history: &'static str,
    /// The history's column naming the record (`request_id`).
    pub history_record_column: &'static str,
}

/// The stored state of record `id`, if it exists.
pub fn current_state(conn: &Connection, tables: &Tables, id: i64) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached(&format!(
        "SELECT {state} FROM {records} WHERE {id_column} = ?1",
        state = tables.state_column,
        records = tables.records,
        id_column = tables.id_column,
    ))?
    .query_row([id], |row| row.get(0))
    .optional()
}

/// Moves record `id` to `to` if it is still in `from`; returns whether it moved.
pub fn move_state(
    conn: &Connection,
    tables: &Tables,
    id: i64,
    from: &str,
    to: &str,
) -> rusqlite::Result<bool> {
    let changed = conn
        .prepare_cached(&format!(
            "UPDATE {records} SET {state} = ?3 WHERE {id_column} = ?1 AND {state} = ?2",
            records = tables.records,
            state = tables.state_column,
            id_column = tables.id_column,
        ))?
        .execute(params![id, from, to])?;
    Ok(changed == 1)
}

/// Appends a step to a record's history; returns its id.
#[expect(
    clippy::too_many_arguments,
    reason = "one column each, named at the call site"
)]
pub fn insert_history(
    conn: &Connection,
    tables: &Tables,
    id: i64,
    from: Option<&str>,
    to: &str,
    reason: &str,
    actor: &str,
    at: i64,
) -> rusqlite::Result<i64> {
    conn.prepare_cached(&format!(
        "INSERT INTO {history} ({record}, from_state, to_state, reason, actor, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        history = tables.history,
        record = tables.history_record_column,
    ))?
    .execute(params![id, from, to, reason, actor, at])?;
    Ok(conn.last_insert_rowid())
}

/// One stored step of a record's history, codes as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    /// Id.
    pub id: i64,
    /// State before (none for the creation).
    pub from_state: Option<String>,
    /// State after.
    pub to_state: String,
    /// Reason given.
    pub reason: String,
    /// Who (the name people read).
    pub actor: String,
    /// When (Unix seconds).
    pub at: i64,
}

/// The history of record `id`, oldest first.
pub fn history(conn: &Connection, tables: &Tables, id: i64) -> rusqlite::Result<Vec<HistoryRow>> {
    conn.prepare_cached(&format!(
        "SELECT id, from_state, to_state, reason, actor, at FROM {history} WHERE {record} = ?1 ORDER BY id",
        history = tables.history,
        record = tables.history_record_column,
    ))?
    .query_map([id], |row| {
        Ok(HistoryRow {
            id: row.get(0)?,
            from_state: row.get(1)?,
            to_state: row.get(2)?,
            reason: row.get(3)?,
            actor: row.get(4)?,
            at: row.get(5)?,
        })
    })?
    .collect()
}
