//! RFC 7807 / RFC 9457 problem details, the error body of every JSON endpoint.
//!
//! AgID's interoperability guidelines ask Italian PA APIs to answer errors with
//! `application/problem+json`. A `Problem` carries the standard members plus two extensions we
//! use everywhere: `code`, a stable machine-readable identifier clients can switch on, and
//! `errors`, one message per invalid input field.

use std::borrow::Cow;
use std::collections::BTreeMap;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The media type of a problem body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem details object. Build it with [`Problem::new`] and the `with_*` methods.
///
/// Kept small (rarely used members are boxed) because it is the error type of most handlers.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    title: Cow<'static, str>,
    status: u16,
    detail: Option<String>,
    code: Option<&'static str>,
    extra: Option<Box<Extra>>,
}

#[derive(Debug, Clone, PartialEq, Default)]
struct Extra {
    instance: Option<String>,
    errors: BTreeMap<String, String>,
    extensions: serde_json::Map<String, serde_json::Value>,
}

/// The wire shape of [`Problem`], also its OpenAPI schema.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Problem)]
pub struct ProblemDocument<'a> {
    /// A URI naming the problem type: `urn:pico:problem:<code>`, or `about:blank`.
    #[serde(rename = "type")]
    pub type_uri: Cow<'a, str>,
    /// A short, human-readable summary of the problem type.
    pub title: &'a str,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong this time, for a person to read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<&'a str>,
    /// The request path the problem is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<&'a str>,
    /// A stable code clients can switch on (`malformed_json`, `invalid_transition`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'a str>,
    /// One message per invalid field, keyed by the field name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<&'a BTreeMap<String, String>>,
    /// Further members (RFC 7807 §3.2).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub extensions: Option<&'a serde_json::Map<String, serde_json::Value>>,
}

impl Serialize for Problem {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let extra = self.extra.as_deref();
        ProblemDocument {
            type_uri: self.code.map_or(Cow::Borrowed("about:blank"), |code| {
                Cow::Owned(format!("urn:pico:problem:{code}"))
            }),
            title: &self.title,
            status: self.status,
            detail: self.detail.as_deref(),
            instance: extra.and_then(|e| e.instance.as_deref()),
            code: self.code,
            errors: extra.map(|e| &e.errors).filter(|errors| !errors.is_empty()),
            extensions: extra.map(|e| &e.extensions).filter(|ext| !ext.is_empty()),
        }
        .serialize(serializer)
    }
}

impl Problem {
    /// A problem with `about:blank` type and the given status and title.
    pub fn new(status: StatusCode, title: impl Into<Cow<'static, str>>) -> Problem {
        Problem {
            title: title.into(),
            status: status.as_u16(),
            detail: None,
            code: None,
            extra: None,
        }
    }

    /// A problem whose title names the status in Italian ("Richiesta non valida" for 400):
    /// the title is read by people, the stable `code` by programs.
    pub fn from_status(status: StatusCode) -> Problem {
        Problem::new(status, italian_title(status))
    }

    /// Sets the detail message.
    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<String>) -> Problem {
        self.detail = Some(detail.into());
        self
    }

    /// Sets the stable code; the type URI becomes `urn:pico:problem:<code>`.
    #[must_use]
    pub fn with_code(mut self, code: &'static str) -> Problem {
        self.code = Some(code);
        self
    }

    /// Sets the instance (usually the request path).
    #[must_use]
    pub fn with_instance(mut self, instance: impl Into<String>) -> Problem {
        self.extra_mut().instance = Some(instance.into());
        self
    }

    /// Adds a message for one invalid field.
    #[must_use]
    pub fn with_field_error(
        mut self,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Problem {
        self.extra_mut().errors.insert(field.into(), message.into());
        self
    }

    /// Adds an extension member.
    #[must_use]
    pub fn with_extension(mut self, key: &str, value: impl Into<serde_json::Value>) -> Problem {
        self.extra_mut()
            .extensions
            .insert(key.to_owned(), value.into());
        self
    }

    fn extra_mut(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The title.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The detail message, if any.
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }

    /// The stable code, if any.
    pub fn code(&self) -> Option<&'static str> {
        self.code
    }

    /// 400 with a detail message and code.
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Problem {
        Problem::from_status(StatusCode::BAD_REQUEST)
            .with_code(code)
            .with_detail(detail)
    }

    /// 404 with a detail message.
    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::from_status(StatusCode::NOT_FOUND)
            .with_code("not_found")
            .with_detail(detail)
    }

    /// 500 with the generic message we show users: the cause is logged, never sent.
    pub fn internal() -> Problem {
        Problem::from_status(StatusCode::INTERNAL_SERVER_ERROR)
            .with_code("internal")
            .with_detail("Si è verificato un errore imprevisto; è stato registrato per il personale tecnico.")
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::to_vec(&self).unwrap_or_else(|_| b"{}".to_vec());
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.title)?;
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}

/// The Italian title of a status: the reason phrase a person reads.
pub fn italian_title(status: StatusCode) -> &'static str {
    if status.is_success() {
        return "OK";
    }
    match status.as_u16() {
        400 => "Richiesta non valida",
        401 => "Autenticazione richiesta",
        403 => "Operazione non consentita",
        404 => "Non trovato",
        405 => "Metodo non consentito",
        406 => "Formato non disponibile",
        409 => "Conflitto con lo stato attuale",
        410 => "Non più disponibile",
        411 => "Lunghezza richiesta",
        413 => "Contenuto troppo grande",
        414 => "Indirizzo troppo lungo",
        415 => "Tipo di contenuto non supportato",
        422 => "Dati non validi",
        429 => "Troppe richieste",
        500 => "Errore interno",
        502 => "Risposta non valida da un altro servizio",
        503 => "Servizio non disponibile",
        504 => "Tempo di attesa scaduto",
        _ if status.is_client_error() => "Richiesta non accettata",
        _ => "Errore",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_standard_members_and_extensions() {
        let problem = Problem::from_status(StatusCode::CONFLICT)
            .with_code("invalid_transition")
            .with_detail("closed → new is not allowed")
            .with_field_error("status", "not reachable")
            .with_extension("allowed", serde_json::json!(["resolved"]));
        let value = serde_json::to_value(&problem).expect("serialises");
        assert_eq!(value["type"], "urn:pico:problem:invalid_transition");
        assert_eq!(value["status"], 409);
        assert_eq!(value["title"], "Conflitto con lo stato attuale");
        assert_eq!(value["errors"]["status"], "not reachable");
        assert_eq!(value["allowed"][0], "resolved");
        assert!(value.get("instance").is_none());
    }

    #[test]
    fn renders_problem_json() {
        let response = Problem::internal().into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    }
}
