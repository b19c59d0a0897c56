//! Users, sessions, API tokens and login failures.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::roles::{Role, Roles, User};

/// A user's columns; the roles come as one text, `admin:,operator:sua` (see [`roles_of`]),
/// so that every query reading a user stays one statement.
const USER_COLUMNS: &str = "u.id, u.username, u.display_name, u.comune_code, \
     (SELECT group_concat(r.role || ':' || r.module, ',') FROM user_roles r WHERE r.user_id = u.id), \
     u.must_change_password";

/// The roles of a user row: its Comune, or the `role:module` pairs of `user_roles`.
fn roles_of(comune: Option<&str>, pairs: Option<&str>) -> Option<Roles> {
    if let Some(code) = comune {
        return pico_protocol::ComuneCode::parse(code)
            .ok()
            .map(Roles::Comune);
    }
    let mut roles = Vec::new();
    for pair in pairs
        .unwrap_or_default()
        .split(',')
        .filter(|p| !p.is_empty())
    {
        roles.push(match pair.split_once(':')? {
            ("admin", "") => Role::Admin,
            ("operator", module) => Role::Operator(module.parse().ok()?),
            _ => return None,
        });
    }
    // A Province account whose last role was taken away by hand in the database holds
    // nothing: it may sign in and is refused everything.
    Some(Roles::from_roles(roles).unwrap_or(Roles::Province {
        admin: false,
        modules: Default::default(),
    }))
}

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<User> {
    let comune: Option<String> = row.get(3)?;
    let pairs: Option<String> = row.get(4)?;
    let roles = roles_of(comune.as_deref(), pairs.as_deref()).ok_or_else(|| {
        rusqlite::Error::InvalidColumnType(4, "roles".into(), rusqlite::types::Type::Text)
    })?;
    Ok(User {
        id: row.get(0)?,
        username: row.get(1)?,
        display_name: row.get(2)?,
        roles,
        must_change_password: row.get(5)?,
    })
}

/// Inserts a user holding `roles`; returns its id.
pub fn insert_user(
    conn: &Connection,
    username: &str,
    display_name: &str,
    password_hash: &str,
    roles: impl Into<Roles>,
    now: i64,
) -> rusqlite::Result<i64> {
    let roles = roles.into();
    conn.execute(
        "INSERT INTO users (username, display_name, password_hash, comune_code, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![username, display_name, password_hash, roles.comune().map(|c| c.as_str()), now],
    )?;
    let id = conn.last_insert_rowid();
    write_roles(conn, id, &roles)?;
    Ok(id)
}

/// Replaces the Province roles of user `id` with those of `roles` (a Comune user's Comune is
/// set at its creation and never changes).
pub fn set_roles(conn: &Connection, id: i64, roles: &Roles) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM user_roles WHERE user_id = ?1", [id])?;
    write_roles(conn, id, roles)
}

fn write_roles(conn: &Connection, id: i64, roles: &Roles) -> rusqlite::Result<()> {
    let mut insert =
        conn.prepare_cached("INSERT INTO user_roles (user_id, role, module) VALUES (?1, ?2, ?3)")?;
    for role in roles.to_vec() {
        match role {
            Role::Admin => insert.execute(params![id, "admin", ""])?,
            Role::Operator(module) => insert.execute(params![id, "operator", module.as_str()])?,
            Role::Comune(_) => continue,
        };
    }
    Ok(())
}

/// How many enabled users hold the administrator's role.
pub fn active_admins(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT count(*) FROM user_roles r JOIN users u ON u.id = r.user_id \
         WHERE r.role = 'admin' AND u.disabled = 0",
        [],
        |row| row.get(0),
    )
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
        |row| Ok((user_from_row(row)?, row.get(6)?, row.get(7)?)),
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
        "SELECT {USER_COLUMNS} FROM users u WHERE u.disabled = 0 AND EXISTS \
         (SELECT 1 FROM user_roles r WHERE r.user_id = u.id \
          AND (r.role = 'admin' OR (r.role = 'operator' AND r.module = 'helpdesk'))) \
         ORDER BY u.display_name"
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
    set_disabled_by_id(conn, user.id, disabled, now)?;
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
    set_password_by_id(conn, user.id, password_hash, must_change)?;
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
        Ok((user_from_row(row)?, row.get(6)?))
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

/// A person as the administrator's pages list them.
#[derive(Debug, Clone)]
pub struct Person {
    /// The user and their roles.
    pub user: User,
    /// The name of a Comune user's Comune.
    pub comune_name: Option<String>,
    /// Whether the account is disabled.
    pub disabled: bool,
    /// When it was created (Unix seconds).
    pub created_at: i64,
    /// API tokens still usable (not revoked, not expired).
    pub live_tokens: i64,
}

/// Which people to list: every filter is optional.
#[derive(Debug, Clone, Default)]
pub struct PeopleFilter {
    /// `admin`, `operator` or `comune`: who holds that kind of role.
    pub role: Option<&'static str>,
    /// Operators of this module (its code).
    pub module: Option<&'static str>,
    /// Users of this Comune (its ISTAT code).
    pub comune: Option<String>,
    /// Enabled (`true`) or disabled (`false`) accounts.
    pub active: Option<bool>,
    /// Text in the login name or the display name.
    pub search: Option<String>,
}

fn person_from_row(row: &Row<'_>, now_col: usize) -> rusqlite::Result<Person> {
    Ok(Person {
        user: user_from_row(row)?,
        comune_name: row.get(now_col)?,
        disabled: row.get(now_col + 1)?,
        created_at: row.get(now_col + 2)?,
        live_tokens: row.get(now_col + 3)?,
    })
}

const PERSON_COLUMNS: &str = "c.name, u.disabled, u.created_at, \
     (SELECT count(*) FROM api_tokens t WHERE t.user_id = u.id AND t.revoked_at IS NULL AND t.expires_at > ?1)";

/// One page of the people matching `filter`, by name, and how many match in all.
pub fn list_people(
    conn: &Connection,
    filter: &PeopleFilter,
    now: i64,
    limit: u32,
    offset: u32,
) -> rusqlite::Result<(Vec<Person>, i64)> {
    let search = filter.search.as_ref().map(|text| {
        let escaped = text
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    });
    let conditions = "(?2 IS NULL \
           OR (?2 = 'comune' AND u.comune_code IS NOT NULL) \
           OR EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = ?2)) \
         AND (?3 IS NULL OR EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id \
              AND r.role = 'operator' AND r.module = ?3)) \
         AND (?4 IS NULL OR u.comune_code = ?4) \
         AND (?5 IS NULL OR u.disabled = (?5 = 0)) \
         AND (?6 IS NULL OR u.username LIKE ?6 ESCAPE '\\' OR u.display_name LIKE ?6 ESCAPE '\\')";
    let active = filter.active.map(i64::from);
    let people = conn
        .prepare(&format!(
            "SELECT {USER_COLUMNS}, {PERSON_COLUMNS} FROM users u \
             LEFT JOIN comuni c ON c.code = u.comune_code WHERE {conditions} \
             ORDER BY u.display_name COLLATE NOCASE, u.id LIMIT ?7 OFFSET ?8"
        ))?
        .query_map(
            params![
                now,
                filter.role,
                filter.module,
                filter.comune,
                active,
                search,
                limit,
                offset
            ],
            |row| person_from_row(row, 6),
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let total = conn.query_row(
        &format!("SELECT count(*) FROM users u WHERE ?1 IS NOT NULL AND {conditions}"),
        params![
            now,
            filter.role,
            filter.module,
            filter.comune,
            active,
            search
        ],
        |row| row.get(0),
    )?;
    Ok((people, total))
}

/// One person by id.
pub fn person(conn: &Connection, id: i64, now: i64) -> rusqlite::Result<Option<Person>> {
    conn.query_row(
        &format!(
            "SELECT {USER_COLUMNS}, {PERSON_COLUMNS} FROM users u \
             LEFT JOIN comuni c ON c.code = u.comune_code WHERE u.id = ?2"
        ),
        params![now, id],
        |row| person_from_row(row, 6),
    )
    .optional()
}

/// Enables or disables user `id`; disabling also ends its sessions and revokes its tokens,
/// so they stop working at once.
pub fn set_disabled_by_id(
    conn: &Connection,
    id: i64,
    disabled: bool,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET disabled = ?1 WHERE id = ?2",
        params![disabled, id],
    )?;
    if disabled {
        conn.execute("DELETE FROM sessions WHERE user_id = ?1", [id])?;
        revoke_tokens_of(conn, id, now)?;
    }
    Ok(())
}

/// Revokes every live API token of user `id`; returns how many.
pub fn revoke_tokens_of(conn: &Connection, id: i64, now: i64) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE api_tokens SET revoked_at = ?1 WHERE user_id = ?2 AND revoked_at IS NULL",
        params![now, id],
    )
}

/// Sets a password chosen for user `id` by someone else, ends its sessions and, with
/// `must_change`, makes it a one-time password.
pub fn set_password_by_id(
    conn: &Connection,
    id: i64,
    password_hash: &str,
    must_change: bool,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET password_hash = ?1, must_change_password = ?2 WHERE id = ?3",
        params![password_hash, must_change, id],
    )?;
    conn.execute("DELETE FROM sessions WHERE user_id = ?1", [id])?;
    Ok(())
}
