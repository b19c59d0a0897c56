//! Bulk downloads of the national archive: each national dataset whole (or one Province's
//! part of it) as one CSV file and one Parquet file, for people who load data into pandas,
//! R or DuckDB rather than page through the API.
//!
//! A download is generated on the first request after its dataset changed and kept on disk
//! under the data directory (`bulk/<dataset>/<scope>-<version>.<csv|parquet>`). Its version is
//! a hash of what decides its bytes (the contributions' last seq, fields, format and the
//! code's version, [`crate::db::bulk::Source::version`]): a push to the dataset gives a new
//! version, the next request writes the new file and removes the old one. The version is the
//! download's strong `ETag`.
//!
//! Both files are written as the rows are read, one row in memory at a time (Parquet: one
//! row group of at most [`parquet::ROW_GROUP_ROWS`] rows), so memory does not grow with the
//! dataset. One export runs at a time ([`GENERATION`]): on two cores two 10-million-row
//! exports at once would only both be slower.
//!
//! Columns: `province`, `seq`, `entry_hash` (the provenance of each row, as in the rows
//! API), then the dataset's fields. Parquet types come from the dataset's specification in
//! `protocol/datasets/` ([`declared_type`]): integers, booleans, decimals (DOUBLE), dates
//! (DATE); every other field, and every field of a dataset without a specification, is a
//! string. A value that does not fit its declared type is written as null (and counted in
//! the log): the CSV, which is text, keeps it as sent.

pub mod parquet;

use std::borrow::Cow;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::de::{DeserializeSeed, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::db::DbError;
use crate::db::bulk::{BulkRow, Source};

/// The formats of a download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// RFC 4180 CSV, UTF-8, comma-separated, with a header.
    Csv,
    /// Apache Parquet, Snappy-compressed.
    Parquet,
}

impl Format {
    /// The file extension (and the last part of the URL).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }

    /// The media type it is served with.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Parquet => PARQUET_MEDIA_TYPE,
        }
    }
}

/// The IANA media type of Parquet (registered in 2024).
pub const PARQUET_MEDIA_TYPE: &str = "application/vnd.apache.parquet";

/// The type of a column, as the dataset's specification declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// Text (and anything undeclared).
    Text,
    /// A whole number (INT64).
    Integer,
    /// `true` / `false`.
    Boolean,
    /// Decimal text with a dot, written as DOUBLE.
    Decimal,
    /// `YYYY-MM-DD`, written as DATE.
    Date,
}

/// The typed fields of the national datasets specified in `protocol/datasets/*.md` (every
/// field not listed is text).
const DECLARED: &[(&str, &[(&str, ColumnType)])] = {
    use ColumnType::{Boolean as B, Date as D, Decimal as N, Integer as I};
    &[
        (
            "appalti",
            &[
                ("procedure_id", I),
                ("lot_no", I),
                ("aggregated", B),
                ("procedure_code", I),
                ("pnrr", B),
                ("year", I),
                ("month", I),
                ("published_on", D),
                ("awarded_on", D),
                ("estimated_amount", N),
                ("lot_amount", N),
                ("award_amount", N),
                ("ribasso", N),
                ("bids_count", I),
                ("duration_days", I),
            ],
        ),
        (
            "formazione_aggregati",
            &[
                ("year", I),
                ("editions", I),
                ("sessions", I),
                ("minutes_scheduled", I),
                ("enrolled", I),
                ("completed", I),
                ("people_trained", I),
                ("minutes_attended", I),
            ],
        ),
        (
            "sape_progetti",
            &[
                ("proposal_id", I),
                ("partner_no", I),
                ("eu_requested_cents", I),
                ("eu_obtained_cents", I),
                ("funded", B),
                ("year", I),
            ],
        ),
        (
            "sit_quadro_digitale",
            &[
                ("residents", I),
                ("spid_since", D),
                ("cie_since", D),
                ("pagopa_since", D),
                ("app_io_since", D),
                ("anpr_since", D),
                ("pdnd_since", D),
                ("cloud_since", D),
            ],
        ),
        (
            "sit_servizi",
            &[
                ("version", I),
                ("theme", I),
                ("population_threshold", I),
                ("fee_cents", I),
                ("first_answer_hours", I),
                ("resolution_hours", I),
                ("withdrawn", B),
                ("active_comuni", I),
                ("active_residents", I),
            ],
        ),
    ]
};

/// The declared type of `field` in `dataset` (text when not declared).
pub fn declared_type(dataset: &str, field: &str) -> ColumnType {
    DECLARED
        .iter()
        .find(|(name, _)| *name == dataset)
        .and_then(|(_, fields)| fields.iter().find(|(name, _)| *name == field))
        .map_or(ColumnType::Text, |(_, kind)| *kind)
}

/// One value of a row, borrowed from the stored JSON where it can be.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    /// `null`, or a field the row does not have.
    Null,
    /// A boolean.
    Bool(bool),
    /// A JSON number, as written.
    Number(&'a str),
    /// A string, unescaped.
    Text(Cow<'a, str>),
}

impl Cell<'_> {
    /// The value as text, as the CSV and the rows API write it (`""` for null).
    pub fn as_text(&self) -> &str {
        match self {
            Cell::Null => "",
            Cell::Bool(true) => "true",
            Cell::Bool(false) => "false",
            Cell::Number(text) => text,
            Cell::Text(text) => text,
        }
    }
}

/// Reads a raw JSON value into a cell.
fn cell(raw: &RawValue) -> Result<Cell<'_>, serde_json::Error> {
    let text = raw.get();
    Ok(match text.as_bytes().first() {
        Some(b'n') => Cell::Null,
        Some(b't') => Cell::Bool(true),
        Some(b'f') => Cell::Bool(false),
        Some(b'"') => match serde_json::from_str::<&str>(text) {
            Ok(plain) => Cell::Text(Cow::Borrowed(plain)),
            // Escapes (quotes, control characters) need an owned copy.
            Err(_) => Cell::Text(Cow::Owned(serde_json::from_str::<String>(text)?)),
        },
        _ => Cell::Number(text),
    })
}

/// Fills `cells` (one per column of `fields`) from a row's JSON object.
struct RowSeed<'f, 'c, 'a> {
    fields: &'f [String],
    cells: &'c mut [Cell<'a>],
}

impl<'de: 'a, 'a> DeserializeSeed<'de> for RowSeed<'_, '_, 'a> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for RowSeed<'_, '_, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a row object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        // Rows list their fields in the order of the columns, almost always: look at the
        // next column first, then search.
        let mut next = 0;
        while let Some(key) = map.next_key::<&'de str>()? {
            let raw: &'de RawValue = map.next_value()?;
            let at = if self.fields.get(next).is_some_and(|f| f == key) {
                Some(next)
            } else {
                self.fields.iter().position(|f| f == key)
            };
            if let Some(at) = at {
                self.cells[at] = cell(raw).map_err(serde::de::Error::custom)?;
                next = at + 1;
            }
        }
        Ok(())
    }
}

/// Decodes a stored row (`data`, a JSON object) into one cell per field of `fields`.
pub fn decode<'a>(data: &'a str, fields: &[String]) -> Result<Vec<Cell<'a>>, serde_json::Error> {
    let mut cells = vec![Cell::Null; fields.len()];
    let mut deserializer = serde_json::Deserializer::from_str(data);
    RowSeed {
        fields,
        cells: &mut cells,
    }
    .deserialize(&mut deserializer)?;
    Ok(cells)
}

/// Why a download could not be written.
#[derive(Debug, thiserror::Error)]
pub enum BulkError {
    /// The database could not be read.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The file could not be written.
    #[error("writing the file: {0}")]
    Io(#[from] std::io::Error),
    /// The CSV writer failed.
    #[error("writing the CSV: {0}")]
    Csv(#[from] csv::Error),
    /// The Parquet writer failed.
    #[error("writing the Parquet file: {0}")]
    Parquet(#[from] ::parquet::errors::ParquetError),
    /// A stored row is not a JSON object.
    #[error("a stored row does not parse: {0}")]
    Row(#[from] serde_json::Error),
}

/// The provenance columns every download starts with.
pub const PROVENANCE: [&str; 3] = ["province", "seq", "entry_hash"];

/// Writes the CSV of `source`'s rows to `out`; returns the rows written.
pub fn write_csv(
    conn: &rusqlite::Connection,
    source: &Source,
    province: Option<&str>,
    out: impl Write,
) -> Result<u64, BulkError> {
    let fields = source.fields();
    let mut writer =
        csv::WriterBuilder::new().from_writer(std::io::BufWriter::with_capacity(1 << 20, out));
    writer.write_record(
        PROVENANCE
            .iter()
            .copied()
            .chain(fields.iter().map(String::as_str)),
    )?;
    let mut written = 0u64;
    crate::db::bulk::for_each_row(conn, source.dataset_id, province, |row: BulkRow<'_>| {
        let cells = decode(row.data, &fields)?;
        writer.write_field(row.province)?;
        writer.write_field(row.seq.to_string())?;
        writer.write_field(hex::encode(row.entry_hash))?;
        for cell in &cells {
            // Every cell made safe for spreadsheets, as in every CSV of the hub.
            writer.write_field(pico_service::csv::neutralise(cell.as_text()).as_bytes())?;
        }
        writer.write_record(std::iter::empty::<&[u8]>())?;
        written += 1;
        Ok::<_, BulkError>(())
    })?;
    writer
        .into_inner()
        .map_err(|e| std::io::Error::other(e.to_string()))?
        .flush()?;
    Ok(written)
}

/// Where the downloads of `dataset` are kept.
pub fn dataset_dir(data_dir: &Path, dataset: &str) -> PathBuf {
    data_dir.join("bulk").join(dataset)
}

/// The file of one version of a download.
pub fn file_path(
    data_dir: &Path,
    dataset: &str,
    scope: &str,
    version: &str,
    format: Format,
) -> PathBuf {
    dataset_dir(data_dir, dataset).join(format!("{scope}-{version}.{}", format.extension()))
}

/// Writes the download of `dataset` (whole, or `province`'s part) in `format` from a
/// consistent snapshot, unless the file of its current version is already there; returns
/// its version and path. Other versions of the same download are removed.
pub fn generate(
    conn: &rusqlite::Connection,
    data_dir: &Path,
    dataset: &str,
    province: Option<&str>,
    format: Format,
) -> Result<Option<(String, PathBuf)>, BulkError> {
    crate::db::bulk::in_snapshot(conn, |conn| {
        let Some(source) = crate::db::bulk::source(conn, dataset, province)? else {
            return Ok(None);
        };
        let scope = province.unwrap_or("all");
        let version = source.version(dataset, scope, format.extension());
        let path = file_path(data_dir, dataset, scope, &version, format);
        if path.exists() {
            return Ok(Some((version, path)));
        }
        let dir = dataset_dir(data_dir, dataset);
        std::fs::create_dir_all(&dir)?;
        let temporary = dir.join(format!(
            ".{scope}-{version}.{}.{}.tmp",
            format.extension(),
            std::process::id()
        ));
        let started = std::time::Instant::now();
        let file = std::fs::File::create(&temporary)?;
        let result = match format {
            Format::Csv => write_csv(conn, &source, province, &file),
            Format::Parquet => parquet::write(conn, dataset, &source, province, &file),
        };
        let rows = match result.and_then(|rows| {
            file.sync_all()?;
            Ok(rows)
        }) {
            Ok(rows) => rows,
            Err(error) => {
                let _ = std::fs::remove_file(&temporary);
                return Err(error);
            }
        };
        std::fs::rename(&temporary, &path)?;
        tracing::info!(
            dataset,
            scope,
            format = format.extension(),
            rows,
            duration_ms = started.elapsed().as_millis() as u64,
            "bulk download written"
        );
        remove_other_versions(&dir, scope, format, &path);
        Ok(Some((version, path)))
    })
}

/// Removes the older versions of a download (and any temporary file a crash left).
fn remove_other_versions(dir: &Path, scope: &str, format: Format, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let suffix = format!(".{}", format.extension());
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let ours = name.starts_with(&format!("{scope}-")) && name.ends_with(&suffix);
        let stale_temporary = name.starts_with(&format!(".{scope}-"))
            && name.ends_with(".tmp")
            && !name.ends_with(&format!(".{}.tmp", std::process::id()));
        if (ours || stale_temporary)
            && path != keep
            && let Err(error) = std::fs::remove_file(&path)
        {
            tracing::warn!(path = %path.display(), %error, "cannot remove an old bulk download");
        }
    }
}

/// One export at a time (see the module documentation).
pub static GENERATION: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_decode_into_their_columns() {
        let fields: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
        let cells = decode(r#"{"b":"x\"y","a":12,"d":true,"e":"plain","z":1}"#, &fields).unwrap();
        assert_eq!(
            cells,
            [
                Cell::Number("12"),
                Cell::Text(Cow::Borrowed("x\"y")),
                Cell::Null,
                Cell::Bool(true),
                Cell::Text(Cow::Borrowed("plain")),
            ]
        );
        assert!(matches!(cells[4], Cell::Text(Cow::Borrowed(_))));
        assert!(decode("[1]", &fields).is_err());
    }

    #[test]
    fn declared_types_come_from_the_specifications() {
        assert_eq!(declared_type("appalti", "lot_amount"), ColumnType::Decimal);
        assert_eq!(declared_type("appalti", "published_on"), ColumnType::Date);
        assert_eq!(declared_type("appalti", "cig"), ColumnType::Text);
        assert_eq!(
            declared_type("sit_servizi", "withdrawn"),
            ColumnType::Boolean
        );
        assert_eq!(declared_type("altro", "year"), ColumnType::Text);
    }
}
