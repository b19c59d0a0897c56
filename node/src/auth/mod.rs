//! Who is asking: roles, the [`Identity`] resolved for each request, passwords, sessions and
//! API tokens. What they may do is decided in one place, [`policy`].
//!
//! Login is shaped around [`Identity`], not around passwords: a password login, an API token
//! or (later) an OpenID Connect login through SPID/CIE all end with a user id, and the web
//! flow then creates the same server-side session. Adding OIDC means adding one more way to
//! reach `sessions::create`, nothing else.

pub mod password;
pub mod policy;
pub mod secrets;
pub mod sessions;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use pico_service::http::ClientIp;

pub use crate::roles::{Module, Role, Roles, RolesError, User};

use crate::db;
use crate::error::AppError;
use crate::state::AppState;

/// How the request authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// No credentials.
    Anonymous,
    /// Web session cookie; unsafe methods must echo this CSRF token.
    Session {
        /// The session's CSRF token.
        csrf: String,
    },
    /// `Authorization: Bearer` API token (not sent automatically by browsers: no CSRF risk).
    Token,
}

/// Who is asking, resolved once per request from a session cookie or a bearer token.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The user, if any.
    pub user: Option<User>,
    /// How it was established.
    pub via: Via,
    /// Client address, for the audit log and throttling.
    pub ip: String,
}

impl Identity {
    /// The label recorded in the audit log.
    pub fn actor(&self) -> db::audit::Actor {
        db::audit::Actor {
            label: self.user.as_ref().map_or_else(
                || "anonymous".to_owned(),
                |user| format!("user:{}", user.username),
            ),
            user_id: self.user.as_ref().map(|user| user.id),
            ip: self.ip.clone(),
        }
    }

    /// The user, or 401.
    pub fn require_user(&self) -> Result<&User, AppError> {
        self.user.as_ref().ok_or(AppError::Unauthenticated)
    }

    /// The session's CSRF token, if this is a session.
    pub fn csrf(&self) -> Option<&str> {
        match &self.via {
            Via::Session { csrf } => Some(csrf),
            _ => None,
        }
    }
}

/// Name of the session cookie. The `__Host-` prefix would be stronger but needs `Secure`,
/// which a node served over plain http on a LAN cannot set.
pub const SESSION_COOKIE: &str = "pico_session";

impl FromRequestParts<AppState> for Identity {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Identity, AppError> {
        if let Some(identity) = parts.extensions.get::<Identity>() {
            return Ok(identity.clone());
        }
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state)
            .await
            .unwrap_or(ClientIp([0, 0, 0, 0].into()));
        let ip = ip.to_string();
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .map(str::to_owned);
        let identity = if let Some(token) = bearer {
            let hash = secrets::sha256_hex(&token);
            let user = state
                .db
                .call(move |conn| {
                    db::people::token_user(conn, &hash, db::now()).map_err(AppError::from)
                })
                .await?;
            // A wrong or expired token is an error, not an anonymous request: the client
            // meant to authenticate and should learn that it failed.
            let user = user.ok_or(AppError::InvalidToken)?;
            Identity {
                user: Some(user),
                via: Via::Token,
                ip,
            }
        } else if let Some(session) = cookie(parts, SESSION_COOKIE) {
            let hash = secrets::sha256_hex(&session);
            let found = state
                .db
                .call(move |conn| {
                    db::people::session_user(conn, &hash, db::now()).map_err(AppError::from)
                })
                .await?;
            match found {
                Some((user, csrf)) => Identity {
                    user: Some(user),
                    via: Via::Session { csrf },
                    ip,
                },
                None => Identity {
                    user: None,
                    via: Via::Anonymous,
                    ip,
                },
            }
        } else {
            Identity {
                user: None,
                via: Via::Anonymous,
                ip,
            }
        };
        parts.extensions.insert(identity.clone());
        Ok(identity)
    }
}

/// The value of cookie `name`, if sent.
pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    cookie_in(&parts.headers, name)
}

/// The value of cookie `name` in `headers`, if sent.
pub fn cookie_in(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}
