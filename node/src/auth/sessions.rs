//! Web sessions (server-side, in SQLite) and login throttling.
//!
//! The cookie holds 32 random bytes; the database holds only their SHA-256, so a copy of
//! the database (a backup) does not contain usable sessions.

use rusqlite::Connection;

use crate::auth::{User, secrets};
use crate::db;

/// Failures of one account from one source that cost nothing: a mistyped password or two.
pub const FREE_FAILURES: i64 = 3;
/// The wait after the first failure beyond [`FREE_FAILURES`]; it doubles with each further
/// failure, up to [`MAX_DELAY_SECS`].
pub const FIRST_DELAY_SECS: i64 = 1;
/// The longest wait between two attempts on one account from one source.
pub const MAX_DELAY_SECS: i64 = 5 * 60;
/// How long a failure is remembered (a clean slate after an hour without failures).
pub const FAILURE_MEMORY_SECS: i64 = 60 * 60;
/// Failed logins one source may make in [`SOURCE_WINDOW_SECS`], whatever the accounts:
/// beyond it the source waits for its oldest failure to leave the window.
pub const SOURCE_BUDGET: i64 = 100;
/// The window of [`SOURCE_BUDGET`].
pub const SOURCE_WINDOW_SECS: i64 = 15 * 60;

/// Why a login failed; the page shows the same message for both credential cases so it
/// does not reveal which usernames exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginError {
    /// Wrong username or password, or a disabled account.
    BadCredentials,
    /// Too many failures from this source: the next attempt is heard after a wait.
    Throttled {
        /// Seconds to wait (at least 1).
        retry_after_secs: i64,
    },
}

/// A new session: the cookie value (secret) and the CSRF token.
#[derive(Debug)]
pub struct NewSession {
    /// Goes into the cookie; never stored or logged.
    pub cookie_value: String,
    /// Echoed by forms.
    pub csrf: String,
}

/// The wait before the next attempt after `failures` failures, the latest at `latest`.
fn pair_delay(failures: i64, latest: i64) -> i64 {
    if failures < FREE_FAILURES {
        return latest;
    }
    let doublings = u32::try_from(failures - FREE_FAILURES)
        .unwrap_or(u32::MAX)
        .min(20);
    latest + (FIRST_DELAY_SECS << doublings).min(MAX_DELAY_SECS)
}

/// Checks credentials and records the outcome.
///
/// Throttling slows an attacker down without locking the owner out: failures are counted
/// per (account, source), where each failure beyond [`FREE_FAILURES`] doubles the wait
/// before the next attempt from that source is even checked; a source that has not failed
/// is never held back, so the owner logs in from its own address while someone else guesses
/// its password elsewhere. A source also has a budget of failures over all accounts
/// ([`SOURCE_BUDGET`]), against password spraying. Behind a reverse proxy every source is
/// the proxy unless `http.trust_forwarded_for` is on (see `deploy/README.md`).
///
/// The outer error is a database failure (a 500 for the caller), never bad credentials.
pub fn check_login(
    conn: &Connection,
    username: &str,
    password: &str,
    ip: &str,
    now: i64,
) -> rusqlite::Result<Result<User, LoginError>> {
    let pair_key = format!("pair:{ip} {}", username.to_lowercase());
    let source_key = format!("ip:{ip}");
    let (pair_failures, _, latest) =
        db::people::failures_since(conn, &pair_key, now - FAILURE_MEMORY_SECS)?;
    let (source_failures, oldest, _) =
        db::people::failures_since(conn, &source_key, now - SOURCE_WINDOW_SECS)?;
    let mut not_before = latest.map_or(now, |latest| pair_delay(pair_failures, latest));
    if source_failures >= SOURCE_BUDGET {
        not_before = not_before.max(oldest.unwrap_or(now) + SOURCE_WINDOW_SECS);
    }
    // Times are whole seconds: a wait of n seconds lasts to the end of second `not_before`,
    // so that it is never shorter than n, wherever in its second the failure fell.
    let waiting = not_before > latest.map_or(now, |latest| latest.min(now));
    if waiting && not_before >= now {
        return Ok(Err(LoginError::Throttled {
            retry_after_secs: not_before - now + 1,
        }));
    }
    let found = db::people::login_row(conn, username)?;
    let hash = found.as_ref().map_or_else(
        || secrets::dummy_hash().to_owned(),
        |(_, hash, _)| hash.clone(),
    );
    let password_ok = secrets::verify_password(password, &hash);
    match found {
        Some((user, _, false)) if password_ok => {
            db::people::clear_failures(conn, &pair_key)?;
            Ok(Ok(user))
        }
        _ => {
            // The wait runs from when the failure is known: checking the password takes a
            // while (argon2), longer on a busy machine.
            let failed_at = db::now().max(now);
            db::people::record_failure(
                conn,
                &[&pair_key, &source_key],
                failed_at,
                failed_at - FAILURE_MEMORY_SECS.max(SOURCE_WINDOW_SECS),
            )?;
            Ok(Err(LoginError::BadCredentials))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_from_one_second_to_five_minutes() {
        let waits: Vec<i64> = (0..16).map(|n| pair_delay(n, 1000) - 1000).collect();
        assert_eq!(
            waits,
            [
                0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300, 300
            ]
        );
        assert_eq!(pair_delay(i64::MAX, 0), MAX_DELAY_SECS);
    }

    #[test]
    fn a_source_over_its_budget_waits_whatever_the_account() {
        let conn = Connection::open_in_memory().expect("sqlite");
        conn.execute_batch(
            "CREATE TABLE login_failures (subject TEXT NOT NULL, at INTEGER NOT NULL);",
        )
        .expect("schema");
        let now = 1_000_000;
        for n in 0..SOURCE_BUDGET {
            db::people::record_failure(&conn, &["ip:198.51.100.9"], now - 600 + n, 0)
                .expect("record");
        }
        // A password spray: the next account from that source waits for the oldest failure
        // to leave the window; the check does not even reach the (absent) users table.
        let outcome = check_login(&conn, "altro", "x", "198.51.100.9", now).expect("no db error");
        assert_eq!(
            outcome,
            Err(LoginError::Throttled {
                retry_after_secs: SOURCE_WINDOW_SECS - 600 + 1
            })
        );
        // Another source is not held back (and reaches the users table: here, an error).
        assert!(check_login(&conn, "altro", "x", "203.0.113.1", now).is_err());
    }

    #[test]
    fn a_one_second_wait_is_never_shorter_than_a_second() {
        let conn = Connection::open_in_memory().expect("sqlite");
        conn.execute_batch(
            "CREATE TABLE login_failures (subject TEXT NOT NULL, at INTEGER NOT NULL);",
        )
        .expect("schema");
        let pair = "pair:198.51.100.7 boss";
        for _ in 0..FREE_FAILURES {
            db::people::record_failure(&conn, &[pair], 1000, 0).expect("record");
        }
        // The third failure fell at the end of second 1000: at 1001 the wait is not over.
        let outcome = check_login(&conn, "boss", "x", "198.51.100.7", 1001).expect("no db error");
        assert_eq!(
            outcome,
            Err(LoginError::Throttled {
                retry_after_secs: 1
            })
        );
        // At 1002 it is: the check reaches the (absent) users table, here an error.
        assert!(check_login(&conn, "boss", "x", "198.51.100.7", 1002).is_err());
    }
}
