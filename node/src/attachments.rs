//! The attachment store every module's records share (Help Desk requests, SUA procedures,
//! best practices): a module declares its [`Store`] once (its table, accepted types, largest
//! file, audit action) and reads, lists and adds files through it.
//!
//! [`Store::insert`] runs inside the caller's IMMEDIATE transaction (`lifecycle::begin` or
//! the module's own): it reads how many files and bytes the record already holds and refuses
//! the whole batch, before writing anything, when [`MAX_FILES_PER_RECORD`] files (422) or
//! [`MAX_BYTES_PER_RECORD`] bytes (413) would be exceeded; the write lock taken before the
//! read means two uploads at once cannot both squeeze under the limit.

use axum::http::StatusCode;
use pico_service::Problem;
use rusqlite::Connection;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::db::attachments as sql;
use crate::db::audit;
use crate::error::AppError;
use crate::upload::{MAX_BYTES_PER_RECORD, MAX_FILES_PER_RECORD, Upload};

pub use crate::db::attachments::{AttachmentRow, Table};

/// The documents people exchange: PDF, images, text and office documents (a module may
/// accept fewer).
pub const DOCUMENT_TYPES: &[&str] = &[
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "text/plain",
    "text/csv",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
];

/// A module's attachments.
#[derive(Debug, Clone, Copy)]
pub struct Store {
    /// Where they are kept.
    pub table: Table,
    /// The media types accepted (declared by the client, lower case, without parameters).
    pub allowed_types: &'static [&'static str],
    /// The form field files come in, named in field errors.
    pub field: &'static str,
    /// The audit action of each stored file (`helpdesk.attach`) and the resource prefix
    /// (`helpdesk_request`), or none when the module audits the change that carries them.
    pub audit: Option<(&'static str, &'static str)>,
}

/// A file checked and ready to store: its cleaned name and the upload.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The name to store.
    pub filename: String,
    /// The file.
    pub upload: Upload,
}

/// What was stored of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Its id.
    pub id: i64,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
    /// Bytes.
    pub size: usize,
}

/// Refuses `adding` more files (of `adding_bytes` bytes) on a record holding `files` files of
/// `bytes` bytes: at most [`MAX_FILES_PER_RECORD`] files (422) and [`MAX_BYTES_PER_RECORD`]
/// bytes (413) in all.
pub fn check_quota(
    field: &str,
    (files, bytes): (i64, i64),
    adding: usize,
    adding_bytes: usize,
) -> Result<(), AppError> {
    let stored = usize::try_from(files).unwrap_or(usize::MAX);
    let stored_bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
    if stored.saturating_add(adding) > MAX_FILES_PER_RECORD {
        return Err(AppError::from(
            Problem::from_status(StatusCode::UNPROCESSABLE_ENTITY)
                .with_code("too_many_files")
                .with_detail(format!(
                    "Ogni pratica può avere al massimo {MAX_FILES_PER_RECORD} allegati e questa ne ha già {stored}: nessun file è stato salvato."
                ))
                .with_field_error(
                    field,
                    format!("Al massimo {MAX_FILES_PER_RECORD} allegati per pratica (già presenti: {stored})."),
                ),
        ));
    }
    if stored_bytes.saturating_add(adding_bytes) > MAX_BYTES_PER_RECORD {
        return Err(AppError::from(
            Problem::from_status(StatusCode::PAYLOAD_TOO_LARGE)
                .with_code("record_too_large")
                .with_detail(format!(
                    "Gli allegati di una pratica possono occupare al massimo {} MiB in tutto: nessun file è stato salvato.",
                    MAX_BYTES_PER_RECORD / (1024 * 1024)
                )),
        ));
    }
    Ok(())
}

impl Store {
    /// Checks one file: not empty, at most `max_bytes` (413), an accepted type (422).
    pub fn check(&self, upload: Upload, max_bytes: usize) -> Result<Checked, AppError> {
        let filename = upload.check_field(self.field, max_bytes, self.allowed_types)?;
        Ok(Checked { filename, upload })
    }

    /// Checks the files of one request: at most `upload::MAX_FILES_PER_REQUEST` (422), then
    /// each with [`Store::check`].
    pub fn check_all(
        &self,
        uploads: Vec<Upload>,
        max_bytes: usize,
    ) -> Result<Vec<Checked>, AppError> {
        crate::upload::check_request_files(self.field, uploads.len())?;
        uploads
            .into_iter()
            .map(|upload| self.check(upload, max_bytes))
            .collect()
    }

    /// Stores `files` on record `record` inside the caller's IMMEDIATE transaction, within
    /// the files and bytes a record may hold (nothing is stored when they would be
    /// exceeded), with an audit line per file if the store has an audit action.
    pub fn insert(
        &self,
        tx: &Connection,
        actor: &audit::Actor,
        uploaded_by: Option<&str>,
        record: i64,
        files: &[Checked],
        now: i64,
    ) -> Result<Vec<Stored>, AppError> {
        let adding_bytes = files
            .iter()
            .fold(0usize, |sum, f| sum.saturating_add(f.upload.data.len()));
        check_quota(
            self.field,
            sql::usage(tx, &self.table, record)?,
            files.len(),
            adding_bytes,
        )?;
        let mut stored = Vec::with_capacity(files.len());
        for file in files {
            let sha256 = hex::encode(Sha256::digest(&file.upload.data));
            let id = sql::insert(
                tx,
                &self.table,
                record,
                &file.filename,
                &file.upload.media_type,
                &sha256,
                &file.upload.data,
                uploaded_by,
                now,
            )?;
            let size = file.upload.data.len();
            if let Some((action, resource)) = self.audit {
                audit::record(
                    tx,
                    actor,
                    action,
                    &format!("{resource}:{record}"),
                    &json!({"attachment": id, "size": size, "sha256": sha256}),
                    now,
                )?;
            }
            stored.push(Stored { id, sha256, size });
        }
        Ok(stored)
    }

    /// The files of record `record`, oldest first.
    pub fn list(&self, conn: &Connection, record: i64) -> Result<Vec<AttachmentRow>, AppError> {
        Ok(sql::list(conn, &self.table, record)?)
    }

    /// File `id` of record `record` with its bytes (404 if the record has no such file).
    pub fn read(
        &self,
        conn: &Connection,
        record: i64,
        id: i64,
    ) -> Result<(AttachmentRow, Vec<u8>), AppError> {
        sql::read(conn, &self.table, record, id)?.ok_or(AppError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use rusqlite::Connection;

    use super::*;

    const STORE: Store = Store {
        table: Table {
            name: "files",
            record_column: "record_id",
            type_column: "media_type",
            uploaded_by_column: Some("uploaded_by"),
        },
        allowed_types: &["application/pdf", "text/plain"],
        field: "attachment",
        audit: Some(("test.attach", "record")),
    };

    fn schema() -> rusqlite::Result<Connection> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(
            "CREATE TABLE files (id INTEGER PRIMARY KEY, record_id INTEGER NOT NULL, filename TEXT NOT NULL,
                 media_type TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL, data BLOB NOT NULL,
                 uploaded_by TEXT NOT NULL, created_at INTEGER NOT NULL);
             CREATE TABLE audit_log (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL,
                 actor_user_id INTEGER, client_ip TEXT NOT NULL, action TEXT NOT NULL, resource TEXT NOT NULL, detail TEXT NOT NULL);",
        )?;
        Ok(conn)
    }

    fn file(name: &str, size: usize) -> Checked {
        Checked {
            filename: name.to_owned(),
            upload: Upload::new(name.to_owned(), "text/plain", vec![b'x'; size]),
        }
    }

    fn status(result: Result<Vec<Stored>, AppError>) -> StatusCode {
        match result {
            Ok(_) => StatusCode::OK,
            Err(err) => err.to_problem().status(),
        }
    }

    #[test]
    fn stores_lists_reads_and_audits() -> Result<(), AppError> {
        let conn = schema()?;
        let stored = STORE.insert(
            &conn,
            &audit::Actor::cli(),
            Some("Anna"),
            4,
            &[file("a.txt", 3)],
            100,
        )?;
        assert_eq!(stored[0].size, 3);
        assert_eq!(stored[0].sha256, hex::encode(Sha256::digest(b"xxx")));
        let listed = STORE.list(&conn, 4)?;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].filename, "a.txt");
        assert_eq!(listed[0].media_type, "text/plain");
        assert_eq!(listed[0].uploaded_by.as_deref(), Some("Anna"));
        let (meta, data) = STORE.read(&conn, 4, stored[0].id)?;
        assert_eq!((meta, data), (listed[0].clone(), b"xxx".to_vec()));
        // Another record's file is not this record's.
        assert!(matches!(
            STORE.read(&conn, 5, stored[0].id),
            Err(AppError::NotFound)
        ));
        let audit: (String, String) =
            conn.query_row("SELECT action, resource FROM audit_log", [], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })?;
        assert_eq!(audit, ("test.attach".to_owned(), "record:4".to_owned()));
        Ok(())
    }

    #[test]
    fn the_file_count_of_a_record_stops_at_its_limit() -> Result<(), AppError> {
        let conn = schema()?;
        let actor = audit::Actor::cli();
        let batch: Vec<Checked> = (0..MAX_FILES_PER_RECORD - 1)
            .map(|n| file(&format!("{n}.txt"), 1))
            .collect();
        STORE.insert(&conn, &actor, None, 1, &batch, 1)?;
        // Two more would be one too many: refused whole.
        let refused = STORE.insert(
            &conn,
            &actor,
            None,
            1,
            &[file("x.txt", 1), file("y.txt", 1)],
            2,
        );
        let problem = serde_json::to_value(refused.as_ref().map_err(AppError::to_problem).err())
            .expect("problem");
        assert_eq!(status(refused), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["code"], "too_many_files");
        assert_eq!(
            problem["errors"]["attachment"],
            format!(
                "Al massimo {MAX_FILES_PER_RECORD} allegati per pratica (già presenti: {}).",
                MAX_FILES_PER_RECORD - 1
            )
        );
        assert_eq!(STORE.list(&conn, 1)?.len(), MAX_FILES_PER_RECORD - 1);
        // Exactly the limit is fine; one more is not.
        assert_eq!(
            status(STORE.insert(&conn, &actor, None, 1, &[file("z.txt", 1)], 3)),
            StatusCode::OK
        );
        assert_eq!(
            status(STORE.insert(&conn, &actor, None, 1, &[file("w.txt", 1)], 4)),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        // Another record has its own count.
        assert_eq!(
            status(STORE.insert(&conn, &actor, None, 2, &[file("a.txt", 1)], 5)),
            StatusCode::OK
        );
        Ok(())
    }

    #[test]
    fn the_bytes_of_a_record_stop_at_their_limit() -> Result<(), AppError> {
        let conn = schema()?;
        let actor = audit::Actor::cli();
        let half = MAX_BYTES_PER_RECORD / 2;
        STORE.insert(&conn, &actor, None, 1, &[file("a.txt", half)], 1)?;
        // One byte over, in a batch whose first file alone would fit: nothing is stored.
        let over = MAX_BYTES_PER_RECORD - half + 1;
        let refused = STORE.insert(
            &conn,
            &actor,
            None,
            1,
            &[file("b.txt", 1), file("c.txt", over - 1)],
            2,
        );
        let problem = serde_json::to_value(refused.as_ref().map_err(AppError::to_problem).err())
            .expect("problem");
        assert_eq!(status(refused), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(problem["code"], "record_too_large");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("50 MiB")
        );
        assert_eq!(STORE.list(&conn, 1)?.len(), 1);
        // Exactly the limit is fine; then a single byte more is not.
        assert_eq!(
            status(STORE.insert(&conn, &actor, None, 1, &[file("d.txt", over - 1)], 3)),
            StatusCode::OK
        );
        assert_eq!(
            sql::usage(&conn, &STORE.table, 1)?,
            (2, MAX_BYTES_PER_RECORD as i64)
        );
        assert_eq!(
            status(STORE.insert(&conn, &actor, None, 1, &[file("e.txt", 1)], 4)),
            StatusCode::PAYLOAD_TOO_LARGE
        );
        Ok(())
    }

    #[test]
    fn files_are_checked_before_the_store() {
        let pdf = Upload::new(
            "../x/relazione.pdf".into(),
            "application/pdf",
            b"%PDF".to_vec(),
        );
        let checked = STORE.check(pdf, 10).expect("accepted");
        assert_eq!(checked.filename, "relazione.pdf");
        let exe = Upload::new("a.exe".into(), "application/x-msdownload", b"MZ".to_vec());
        assert_eq!(
            STORE.check(exe, 10).unwrap_err().to_problem().status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        let big = Upload::new("a.txt".into(), "text/plain", vec![b'x'; 11]);
        assert_eq!(
            STORE.check(big, 10).unwrap_err().to_problem().status(),
            StatusCode::PAYLOAD_TOO_LARGE
        );
        let exact = Upload::new("a.txt".into(), "text/plain", vec![b'x'; 10]);
        assert!(STORE.check(exact, 10).is_ok());
        let many = vec![
            Upload::new("a.txt".into(), "text/plain", b"x".to_vec());
            crate::upload::MAX_FILES_PER_REQUEST + 1
        ];
        assert_eq!(
            STORE.check_all(many, 10).unwrap_err().to_problem().status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
}
