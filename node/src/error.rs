//! The node's one error type. Handlers return it; it renders as problem+json for the API and
//! (through `web::render_problem_pages`) as a readable page for browsers. 5xx causes are
//! logged here, once, and replaced by a generic message.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pico_service::{DbError, Problem};

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// No valid session or token: 401.
    #[error("accesso richiesto")]
    Unauthenticated,
    /// A bearer token was sent but is unknown, revoked or expired: 401.
    #[error("token non valido, revocato o scaduto")]
    InvalidToken,
    /// Signed in, but not allowed: 403.
    #[error("operazione non consentita")]
    Forbidden,
    /// No such record, or one the caller may not know about: 404.
    #[error("risorsa non trovata")]
    NotFound,
    /// A form or cookie-authenticated API call without the right CSRF token: 403.
    #[error("token CSRF mancante o errato")]
    Csrf,
    /// The body or upload is too large: 413.
    #[error("contenuto troppo grande")]
    TooLarge,
    /// The state of the record does not allow this: 409.
    #[error("{detail}")]
    Conflict {
        /// Stable code.
        code: &'static str,
        /// Message.
        detail: String,
    },
    /// A ready-made problem (invalid input, extractor rejections).
    #[error("{0}")]
    Problem(Box<Problem>),
    /// Database failure: 500 (or 503 when the pool is exhausted).
    #[error("errore del database: {0}")]
    Db(#[from] DbError),
    /// Any other internal failure: 500.
    #[error("errore interno: {0}")]
    Internal(String),
}

impl From<rusqlite::Error> for AppError {
    fn from(err: rusqlite::Error) -> AppError {
        AppError::Db(DbError::Sqlite(err))
    }
}

impl From<Problem> for AppError {
    fn from(problem: Problem) -> AppError {
        AppError::Problem(Box::new(problem))
    }
}

impl AppError {
    /// 422 naming one invalid field.
    pub fn invalid_field(field: &'static str, message: impl Into<String>) -> AppError {
        let message = message.into();
        AppError::from(
            Problem::from_status(StatusCode::UNPROCESSABLE_ENTITY)
                .with_code("invalid_field")
                .with_detail(format!("{field}: {message}"))
                .with_field_error(field, message),
        )
    }

    /// The problem document for this error.
    pub fn to_problem(&self) -> Problem {
        match self {
            AppError::Unauthenticated => Problem::from_status(StatusCode::UNAUTHORIZED)
                .with_code("unauthenticated")
                .with_detail("Accedi, oppure invia un token dell'API come `Authorization: Bearer <token>`."),
            AppError::InvalidToken => Problem::from_status(StatusCode::UNAUTHORIZED)
                .with_code("invalid_token")
                .with_detail("Il token dell'API è sconosciuto, revocato o scaduto."),
            AppError::Forbidden => {
                Problem::from_status(StatusCode::FORBIDDEN).with_code("forbidden").with_detail("Il tuo profilo non consente questa operazione.")
            }
            AppError::NotFound => Problem::not_found("La risorsa richiesta non esiste o non è visibile con il tuo profilo."),
            AppError::Csrf => Problem::from_status(StatusCode::FORBIDDEN)
                .with_code("csrf")
                .with_detail("Il modulo è scaduto o non proviene da questo sito: ricarica la pagina e riprova."),
            AppError::TooLarge => pico_service::json::body_too_large(),
            AppError::Conflict { code, detail } => Problem::from_status(StatusCode::CONFLICT).with_code(code).with_detail(detail.clone()),
            AppError::Problem(problem) => (**problem).clone(),
            AppError::Db(DbError::Pool(_)) => Problem::from_status(StatusCode::SERVICE_UNAVAILABLE)
                .with_code("busy")
                .with_detail("Il servizio è momentaneamente occupato: riprova tra poco."),
            AppError::Db(_) | AppError::Internal(_) => Problem::internal(),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let problem = self.to_problem();
        if problem.status().is_server_error() {
            // The one place 5xx causes are logged. SQLite errors name tables and
            // constraints, not values, so they hold no personal data.
            tracing::error!(error = %self, "request failed");
        }
        problem.into_response()
    }
}
