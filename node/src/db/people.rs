//! Users, sessions, API tokens and login failures.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::auth::{Role, User};

const USER_COLUMNS: &str =
    "u.id, u.username, u.display_name, u.role, u.module, u.comune_code, u.must_change_password";

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<User> {
    let role: String = row.get(3)?;
    let module: Option<String> = row.get(4)?;
    let comune: Option<String> = row.get(5)?;
    let role =
        Role::from_columns(&role, module.as_deref(), comune.as_deref()).ok_or_else(|| {
            rusqlite::Error::InvalidColumnType(3, "role".into(), rusqlite::types::Type::Text)
        })?;
    Ok(User {
        id: row.get(0)?,
        username: row.get(1)?,
        display_name: row.get(2)?,
        role,
        must_change_password: row.get(6)?,
    })
}

/// Inserts a user; returns its id.
pub fn insert_user(
    conn: &Connection,
    username: &str,
    display_name: &str,
    password_hash: &str,
    role: &Role,
    now: i64,
) -> rusqlite::Result<i64> {
    let (role, module, comune) = role.to_columns();
    conn.execute(
        "INSERT INTO users (username, display_name, password_hash, role, module, comune_code, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![username, display_name, password_hash, role, module, comune, now],
    )?;
    Ok(conn.last_insert_rowid())
}

/// The user, its password hash and whether it is disabled.
pub fn login_row(
    conn: &Connection,
    username: &str,
) -> rusqlite::Result<Option<(User, String, bool)>> {
    conn.query_row(
        &format!(
            "SELECT {USER_COLUMNS}, u.password_hash, u.disabled FROM users u WHERE u.username = ?1"
        ),
        [username],
        |row| Ok((user_from_row(row)?, row.get(7)?, row.get(8)?)),
    )
    .optional()
}

/// A user by name.
pub fn user_by_name(conn: &Connection, username: &str) -> rusqlite::Result<Option<User>> {
    conn.query_row(
        &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.username = ?1"),
        [username],
        user_from_row,
    )
    .optional()
}

/// A user by id.
pub fn user_by_id(conn: &Connection, id: i64) -> rusqlite::Result<Option<User>> {
    conn.query_row(
        &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?1"),
        [id],
        user_from_row,
    )
    .optional()
}

/// Users able to work on Help Desk requests (for the assignee list).
pub fn helpdesk_staff(conn: &Connection) -> rusqlite::Result<Vec<User>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.disabled = 0 AND (u.role = 'admin' OR (u.role = 'operator' AND u.module = 'helpdesk')) ORDER BY u.display_name"
    ))?;
    let rows = stmt.query_map([], user_from_row)?;
    rows.collect()
}

/// Enables or disables a user; disabling also ends its sessions and revokes its tokens.
pub fn set_disabled(
    conn: &Connection,
    username: &str,
    disabled: bool,
    now: i64,
) -> rusqlite::Result<Option<User>> {
    let Some(user) = user_by_name(conn, username)? else {
        return Ok(None);
    };
    conn.execute(
        "UPDATE users SET disabled = ?1 WHERE id = ?2",
        params![disabled, user.id],
    )?;
    if disabled {
        conn.execute("DELETE FROM sessions WHERE user_id = ?1", [user.id])?;
        conn.execute(
            "UPDATE api_tokens SET revoked_at = ?1 WHERE user_id = ?2 AND revoked_at IS NULL",
            params![now, user.id],
        )?;
    }
    Ok(Some(user))
}

/// Sets a new password hash chosen for the user by someone else (`user reset-password`),
/// ends the user's sessions and, with `must_change`, makes it a one-time password.
pub fn set_password(
    conn: &Connection,
    username: &str,
    password_hash: &str,
    must_change: bool,
) -> rusqlite::Result<Option<User>> {
    let Some(user) = user_by_name(conn, username)? else {
        return Ok(None);
    };
    conn.execute(
        "UPDATE users SET password_hash = ?1, must_change_password = ?2 WHERE id = ?3",
        params![password_hash, must_change, user.id],
    )?;
    conn.execute("DELETE FROM sessions WHERE user_id = ?1", [user.id])?;
    Ok(Some(user))
}

/// Whether the user must change its password at the next login.
pub fn set_must_change_password(
    conn: &Connection,
    user_id: i64,
    must_change: bool,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET must_change_password = ?1 WHERE id = ?2",
        params![must_change, user_id],
    )?;
    Ok(())
}

/// The password hash of a user, for checking its current password.
pub fn password_hash(conn: &Connection, user_id: i64) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT password_hash FROM users WHERE id = ?1",
        [user_id],
        |row| row.get(0),
    )
    .optional()
}

/// The user's own change of password: the new hash, the one-time flag cleared, and every
/// session of the user ended except `keep_session` (the hash of the one that asked, if any).
pub fn change_own_password(
    conn: &Connection,
    user_id: i64,
    password_hash: &str,
    keep_session: Option<&str>,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET password_hash = ?1, must_change_password = 0 WHERE id = ?2",
        params![password_hash, user_id],
    )?;
    conn.execute(
        "DELETE FROM sessions WHERE user_id = ?1 AND id_hash IS NOT ?2",
        params![user_id, keep_session],
    )?;
    Ok(())
}

/// Stores a session (by the hash of its cookie value).
pub fn insert_session(
    conn: &Connection,
    id_hash: &str,
    user_id: i64,
    csrf: &str,
    now: i64,
    expires_at: i64,
) -> rusqlite::Result<()> {
    // Expired sessions are swept here rather than by a timer: logins are frequent enough.
    conn.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now])?;
    conn.execute(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id_hash, user_id, csrf, now, expires_at],
    )?;
    Ok(())
}

/// The live session's user and CSRF token.
pub fn session_user(
    conn: &Connection,
    id_hash: &str,
    now: i64,
) -> rusqlite::Result<Option<(User, String)>> {
    conn.prepare_cached(&format!(
        "SELECT {USER_COLUMNS}, s.csrf_token FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.id_hash = ?1 AND s.expires_at > ?2 AND u.disabled = 0"
    ))?
    .query_row(params![id_hash, now], |row| {
        Ok((user_from_row(row)?, row.get(7)?))
    })
    .optional()
}

/// Ends a session.
pub fn delete_session(conn: &Connection, id_hash: &str) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM sessions WHERE id_hash = ?1", [id_hash])?;
    Ok(())
}

/// Stores an API token (by its hash); returns its id.
pub fn insert_token(
    conn: &Connection,
    token_hash: &str,
    user_id: i64,
    name: &str,
    now: i64,
    expires_at: i64,
) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO api_tokens (token_hash, user_id, name, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![token_hash, user_id, name, now, expires_at],
    )?;
    Ok(conn.last_insert_rowid())
}

/// The user of a live, unrevoked token.
pub fn token_user(conn: &Connection, token_hash: &str, now: i64) -> rusqlite::Result<Option<User>> {
    conn.prepare_cached(&format!(
        "SELECT {USER_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = ?1 AND t.revoked_at IS NULL AND t.expires_at > ?2 AND u.disabled = 0"
    ))?
    .query_row(params![token_hash, now], user_from_row)
    .optional()
}

/// Revokes a token; returns whether a live token was revoked.
pub fn revoke_token(conn: &Connection, id: i64, now: i64) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "UPDATE api_tokens SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL",
        params![now, id],
    )? == 1)
}

/// Records a failed login for each of `subjects` (see `auth::sessions` for their form), and
/// forgets failures older than `forget_before`.
pub fn record_failure(
    conn: &Connection,
    subjects: &[&str],
    now: i64,
    forget_before: i64,
) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM login_failures WHERE at < ?1", [forget_before])?;
    let mut insert =
        conn.prepare_cached("INSERT INTO login_failures (subject, at) VALUES (?1, ?2)")?;
    for subject in subjects {
        insert.execute(params![subject, now])?;
    }
    Ok(())
}

/// Failed logins of `subject` since `since`: how many, the oldest and the latest instant.
pub fn failures_since(
    conn: &Connection,
    subject: &str,
    since: i64,
) -> rusqlite::Result<(i64, Option<i64>, Option<i64>)> {
    conn.prepare_cached(
        "SELECT count(*), min(at), max(at) FROM login_failures WHERE subject = ?1 AND at > ?2",
    )?
    .query_row(params![subject, since], |row| {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?))
    })
}

/// Forgets the failures of `subject` (after a successful login).
pub fn clear_failures(conn: &Connection, subject: &str) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM login_failures WHERE subject = ?1", [subject])?;
    Ok(())
}
