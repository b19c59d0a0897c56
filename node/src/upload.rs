//! Files people upload (Help Desk attachments, best-practice documents): one type, one way to
//! read it from a request, one set of checks. Each module keeps its own list of accepted types
//! and its size limit, which are policy; how a file is read and checked is not, and neither
//! are the limits every record shares: [`MAX_FILES_PER_REQUEST`] files in one request
//! (enforced while the form is read), [`MAX_FILES_PER_RECORD`] files and
//! [`MAX_BYTES_PER_RECORD`] bytes on one record (checked by the attachment store,
//! `crate::attachments`, in the transaction that stores them, so nothing is stored when they
//! are exceeded).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::Multipart;
use axum::extract::multipart::MultipartError;
use axum::http::{HeaderMap, StatusCode, header};

use crate::error::AppError;
use pico_service::Problem;

/// Most files one request may carry (a form post or an API call).
pub const MAX_FILES_PER_REQUEST: usize = 10;
/// Most files one record (a Help Desk request, a SUA procedure) may hold.
pub const MAX_FILES_PER_RECORD: usize = 30;
/// Most bytes all the files of one record may hold together (50 MiB).
pub const MAX_BYTES_PER_RECORD: usize = 50 * 1024 * 1024;
/// Most parts of one multipart form (fields and files together), so that a body of empty
/// parts cannot keep the reader busy.
const MAX_PARTS: usize = 200;

/// The 422 of a request with more than [`MAX_FILES_PER_REQUEST`] files.
fn too_many_files(field: &str) -> AppError {
    AppError::from(
        Problem::from_status(StatusCode::UNPROCESSABLE_ENTITY)
            .with_code("too_many_files")
            .with_detail(format!(
                "Si possono inviare al massimo {MAX_FILES_PER_REQUEST} file per volta: nessun file è stato salvato."
            ))
            .with_field_error(
                field,
                format!("Al massimo {MAX_FILES_PER_REQUEST} file per volta."),
            ),
    )
}

/// Refuses a request with more than [`MAX_FILES_PER_REQUEST`] files (for uploads not read
/// by [`MultipartForm::read`], which enforces it as it reads).
pub fn check_request_files(field: &str, files: usize) -> Result<(), AppError> {
    if files > MAX_FILES_PER_REQUEST {
        return Err(too_many_files(field));
    }
    Ok(())
}

/// An uploaded file.
#[derive(Debug, Clone)]
pub struct Upload {
    /// Name as sent (path components are dropped by [`Upload::check`]).
    pub filename: String,
    /// Media type, lower case, without parameters.
    pub media_type: String,
    /// Bytes.
    pub data: Vec<u8>,
}

impl Upload {
    /// A file sent as a raw request body: its media type is the `Content-Type` (parameters
    /// dropped), its name the `filename` query parameter.
    pub fn from_raw_body(headers: &HeaderMap, filename: String, body: &Bytes) -> Upload {
        let media_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .unwrap_or("application/octet-stream");
        Upload::new(filename, media_type, body.to_vec())
    }

    /// A file with its declared media type (normalised to lower case without parameters).
    pub fn new(filename: String, media_type: &str, data: Vec<u8>) -> Upload {
        Upload {
            filename,
            media_type: media_type
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase(),
            data,
        }
    }

    /// Checks emptiness, size and type; returns a safe file name to store. Messages are
    /// given for the form field `attachment`; [`Upload::check_field`] names another.
    pub fn check(&self, max_bytes: usize, allowed_types: &[&str]) -> Result<String, AppError> {
        self.check_field("attachment", max_bytes, allowed_types)
    }

    /// [`Upload::check`], with the messages given for form field `field`.
    pub fn check_field(
        &self,
        field: &'static str,
        max_bytes: usize,
        allowed_types: &[&str],
    ) -> Result<String, AppError> {
        if self.data.is_empty() {
            return Err(AppError::invalid_field(field, "Il file è vuoto."));
        }
        if self.data.len() > max_bytes {
            return Err(AppError::TooLarge);
        }
        if !allowed_types.contains(&self.media_type.as_str()) {
            return Err(AppError::invalid_field(
                field,
                format!(
                    "Il tipo di file {:?} non è accettato (PDF, immagini, testo, documenti office).",
                    self.media_type
                ),
            ));
        }
        Ok(clean_filename(&self.filename))
    }
}

/// A `multipart/form-data` request read whole: its text fields by name, and the files sent
/// under `file_field` (a file input may be repeated or `multiple`; empty inputs are skipped).
#[derive(Debug, Default)]
pub struct MultipartForm {
    /// Text fields (the last value of a repeated name wins).
    pub fields: BTreeMap<String, String>,
    /// Files, in the order sent.
    pub files: Vec<Upload>,
}

impl MultipartForm {
    /// Reads the whole form. The route's body limit bounds what this holds in memory; going
    /// over it is 413.
    pub async fn read(
        mut multipart: Multipart,
        file_field: &str,
    ) -> Result<MultipartForm, AppError> {
        #[expect(clippy::needless_pass_by_value, reason = "used as map_err(failed)")]
        fn failed(err: MultipartError) -> AppError {
            if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::TooLarge
            } else {
                AppError::invalid_field(
                    "form",
                    "Il modulo non è leggibile: ricarica la pagina e riprova.",
                )
            }
        }
        let mut form = MultipartForm::default();
        let mut parts = 0;
        while let Some(field) = multipart.next_field().await.map_err(failed)? {
            parts += 1;
            if parts > MAX_PARTS {
                return Err(AppError::invalid_field("form", "il modulo ha troppe parti"));
            }
            let name = field.name().unwrap_or_default().to_owned();
            if name == file_field {
                if form.files.len() == MAX_FILES_PER_REQUEST {
                    // Refused before the extra file is read: nothing is kept.
                    return Err(too_many_files(file_field));
                }
                let filename = field.file_name().unwrap_or_default().to_owned();
                let media_type = field
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .to_owned();
                let data = field.bytes().await.map_err(failed)?;
                if !filename.is_empty() || !data.is_empty() {
                    form.files
                        .push(Upload::new(filename, &media_type, data.to_vec()));
                }
            } else {
                let text = field.text().await.map_err(failed)?;
                form.fields.insert(name, text);
            }
        }
        Ok(form)
    }

    /// A text field, empty when absent.
    pub fn field(&self, name: &str) -> String {
        self.fields.get(name).cloned().unwrap_or_default()
    }
}

/// Limits on a set of files sent together.
#[derive(Debug, Clone, Copy)]
pub struct FileLimits {
    /// The form field the files came in, named in the error.
    pub field: &'static str,
    /// Most files at a time.
    pub max_files: usize,
    /// Most bytes of all files together (beyond: 413).
    pub max_total: usize,
    /// Most bytes of one file.
    pub max_each: usize,
}

/// Checks files sent together: their number, their total size, then each with
/// [`Upload::check`]. Returns each file with its cleaned name.
pub fn check_all(
    files: Vec<Upload>,
    limits: FileLimits,
    allowed_types: &[&str],
) -> Result<Vec<(String, Upload)>, AppError> {
    if files.len() > limits.max_files {
        return Err(AppError::invalid_field(
            limits.field,
            format!("Al massimo {} file per volta.", limits.max_files),
        ));
    }
    if files.iter().map(|f| f.data.len()).sum::<usize>() > limits.max_total {
        return Err(AppError::TooLarge);
    }
    files
        .into_iter()
        .map(|file| {
            let name = file.check_field(limits.field, limits.max_each, allowed_types)?;
            Ok((name, file))
        })
        .collect()
}

/// The last path segment of a client-sent file name, keeping letters, digits, `.`, `-`,
/// `_` and spaces (at most 100), or `allegato` when nothing is left.
pub fn clean_filename(name: &str) -> String {
    let name: String = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' '))
        .take(100)
        .collect();
    let name = name.trim();
    if name.is_empty() || name.chars().all(|c| c == '.') {
        "allegato".to_owned()
    } else {
        name.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_types_and_limits() {
        let upload = Upload::new(
            "../../etc/passwd<script>.pdf".into(),
            "Application/PDF; q=1",
            b"x".to_vec(),
        );
        assert_eq!(upload.media_type, "application/pdf");
        assert_eq!(
            upload.check(10, &["application/pdf"]).unwrap(),
            "passwdscript.pdf"
        );
        assert!(matches!(
            upload.check(0, &["application/pdf"]),
            Err(AppError::TooLarge)
        ));
        assert!(upload.check(10, &["image/png"]).is_err());
        assert!(
            Upload::new("a.pdf".into(), "application/pdf", vec![])
                .check(10, &["application/pdf"])
                .is_err()
        );
        assert_eq!(
            Upload::new("..".into(), "text/plain", b"x".to_vec())
                .check(10, &["text/plain"])
                .unwrap(),
            "allegato"
        );
    }
}
