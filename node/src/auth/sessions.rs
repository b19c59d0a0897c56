//! Web sessions (server-side, in SQLite) and login throttling.
//!
//! The cookie holds 32 random bytes; the database holds only their SHA-256, so a copy of
//! the database (a backup) does not contain usable sessions.

use rusqlite::Connection;

use crate::auth::{User, secrets};
use crate::db;

/// Failed logins tolerated per account in [`THROTTLE_WINDOW_SECS`].
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
/// Failed logins tolerated per client address in [`THROTTLE_WINDOW_SECS`].
pub const MAX_FAILURES_PER_IP: i64 = 20;
/// Length of the throttling window.
pub const THROTTLE_WINDOW_SECS: i64 = 15 * 60;

/// Why a login failed; the page shows the same message for both credential cases so it
/// does not reveal which usernames exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginError {
    /// Wrong username or password, or a disabled account.
    BadCredentials,
    /// Too many failures recently: wait.
    Throttled,
}

/// A new session: the cookie value (secret) and the CSRF token.
#[derive(Debug)]
pub struct NewSession {
    /// Goes into the cookie; never stored or logged.
    pub cookie_value: String,
    /// Echoed by forms.
    pub csrf: String,
}

/// Checks credentials with throttling by account and by address, and records the outcome.
pub fn check_login(
    conn: &Connection,
    username: &str,
    password: &str,
    ip: &str,
    now: i64,
) -> Result<User, LoginError> {
    let since = now - THROTTLE_WINDOW_SECS;
    let account_key = format!("user:{}", username.to_lowercase());
    let ip_key = format!("ip:{ip}");
    let failures = |key: &str| db::people::count_failures(conn, key, since).unwrap_or(i64::MAX);
    if failures(&account_key) >= MAX_FAILURES_PER_ACCOUNT
        || failures(&ip_key) >= MAX_FAILURES_PER_IP
    {
        return Err(LoginError::Throttled);
    }
    let found = db::people::login_row(conn, username).ok().flatten();
    let hash = found.as_ref().map_or_else(
        || secrets::dummy_hash().to_owned(),
        |(_, hash, _)| hash.clone(),
    );
    let password_ok = secrets::verify_password(password, &hash);
    match found {
        Some((user, _, false)) if password_ok => {
            let _ignored = db::people::clear_failures(conn, &account_key);
            Ok(user)
        }
        _ => {
            let _ignored = db::people::record_failure(conn, &account_key, now);
            let _ignored = db::people::record_failure(conn, &ip_key, now);
            Err(LoginError::BadCredentials)
        }
    }
}

/// Creates a session for `user_id` valid for `hours`.
pub fn create(
    conn: &Connection,
    user_id: i64,
    hours: u32,
    now: i64,
) -> rusqlite::Result<NewSession> {
    let cookie_value = secrets::random_token(32);
    let csrf = secrets::random_token(32);
    db::people::insert_session(
        conn,
        &secrets::sha256_hex(&cookie_value),
        user_id,
        &csrf,
        now,
        now + i64::from(hours) * 3600,
    )?;
    Ok(NewSession { cookie_value, csrf })
}

/// The `Set-Cookie` value for a session (or, with `max_age = 0`, its removal).
pub fn cookie_header(value: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}",
        crate::auth::SESSION_COOKIE
    )
}
