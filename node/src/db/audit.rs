//! The append-only audit log: who did what, when, from where. Triggers in the schema refuse
//! UPDATE and DELETE, so not even a bug in the node can rewrite history.

use rusqlite::{Connection, params};
use serde::Serialize;

/// Who acted.
#[derive(Debug, Clone)]
pub struct Actor {
    /// `user:<name>`, `cli`, `anonymous`.
    pub label: String,
    /// User id, if a user.
    pub user_id: Option<i64>,
    /// Client address (`local` for the CLI).
    pub ip: String,
}

impl Actor {
    /// The command-line operator (whoever can run the binary on the server).
    pub fn cli() -> Actor {
        Actor {
            label: "cli".to_owned(),
            user_id: None,
            ip: "local".to_owned(),
        }
    }
}

/// Appends one event. `detail` is a JSON object with no secrets and no free text a user
/// typed (subjects and descriptions stay in their tables).
pub fn record(
    conn: &Connection,
    actor: &Actor,
    action: &str,
    resource: &str,
    detail: &serde_json::Value,
    now: i64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO audit_log (at, actor, actor_user_id, client_ip, action, resource, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![now, actor.label, actor.user_id, actor.ip, action, resource, detail.to_string()])?;
    Ok(())
}

/// One audit event as listed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEvent {
    /// Sequence in the log.
    pub id: i64,
    /// When, RFC 3339 UTC.
    pub at: String,
    /// Who.
    pub actor: String,
    /// From where.
    pub client_ip: String,
    /// What (`helpdesk.transition`, `user.add`, …).
    pub action: String,
    /// On what (`helpdesk_request:12`).
    pub resource: String,
    /// Details.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// Events, newest first, optionally for one resource.
pub fn list(
    conn: &Connection,
    resource: Option<&str>,
    limit: u32,
) -> rusqlite::Result<Vec<AuditEvent>> {
    let mut stmt = conn.prepare(
        "SELECT id, at, actor, client_ip, action, resource, detail FROM audit_log WHERE ?1 IS NULL OR resource = ?1 ORDER BY id DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![resource, limit], |row| {
        let detail: String = row.get(6)?;
        Ok(AuditEvent {
            id: row.get(0)?,
            at: super::rfc3339(row.get(1)?),
            actor: row.get(2)?,
            client_ip: row.get(3)?,
            action: row.get(4)?,
            resource: row.get(5)?,
            detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
        })
    })?;
    rows.collect()
}

/// Which events to list: every filter is optional.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Who: a user's login name (`boss` finds `user:boss`) or a label as stored (`cli`).
    pub actor: Option<String>,
    /// The action, exactly (`user.disable`).
    pub action: Option<String>,
    /// From this instant (Unix seconds, included).
    pub from: Option<i64>,
    /// Before this instant (Unix seconds, excluded).
    pub until: Option<i64>,
}

/// One page of the events matching `filter`, newest first, and how many match in all.
pub fn list_filtered(
    conn: &Connection,
    filter: &AuditFilter,
    limit: u32,
    offset: u32,
) -> rusqlite::Result<(Vec<AuditEvent>, i64)> {
    let conditions = "(?1 IS NULL OR actor = ?1 OR actor = 'user:' || ?1) \
         AND (?2 IS NULL OR action = ?2) AND (?3 IS NULL OR at >= ?3) AND (?4 IS NULL OR at < ?4)";
    let events = conn
        .prepare(&format!(
            "SELECT id, at, actor, client_ip, action, resource, detail FROM audit_log \
             WHERE {conditions} ORDER BY id DESC LIMIT ?5 OFFSET ?6"
        ))?
        .query_map(
            params![
                filter.actor,
                filter.action,
                filter.from,
                filter.until,
                limit,
                offset
            ],
            |row| {
                let detail: String = row.get(6)?;
                Ok(AuditEvent {
                    id: row.get(0)?,
                    at: super::rfc3339(row.get(1)?),
                    actor: row.get(2)?,
                    client_ip: row.get(3)?,
                    action: row.get(4)?,
                    resource: row.get(5)?,
                    detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
                })
            },
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let total = conn.query_row(
        &format!("SELECT count(*) FROM audit_log WHERE {conditions}"),
        params![filter.actor, filter.action, filter.from, filter.until],
        |row| row.get(0),
    )?;
    Ok((events, total))
}

/// Every action the log holds, in order (for the filter's choices).
pub fn actions(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    conn.prepare("SELECT DISTINCT action FROM audit_log ORDER BY action")?
        .query_map([], |row| row.get(0))?
        .collect()
}
