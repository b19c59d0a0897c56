//! The Parquet file of a download, written with the `parquet` crate's low-level column
//! writers (no Arrow): rows are buffered column by column up to [`ROW_GROUP_ROWS`] rows (or
//! [`ROW_GROUP_BYTES`] of text), then written as one row group and dropped, so memory stays
//! bounded by one row group whatever the size of the dataset.

use std::io::Write;
use std::sync::Arc;

use axum::body::Bytes;
use parquet::basic::{Compression, LogicalType, Repetition, Type as PhysicalType};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::{SerializedColumnWriter, SerializedFileWriter};
use parquet::schema::types::Type;

use super::{BulkError, Cell, ColumnType, PROVENANCE, declared_type};
use crate::db::bulk::{BulkRow, Source};

/// Rows of one row group at most.
pub const ROW_GROUP_ROWS: usize = 100_000;
/// Text bytes buffered for one row group at most (long texts make fewer rows a group).
pub const ROW_GROUP_BYTES: usize = 64 << 20;

/// Days from 0000-03-01-based Julian day numbers to the Unix epoch (1970-01-01).
const UNIX_EPOCH_JULIAN_DAY: i32 = 2_440_588;

/// The values of one column of the row group being filled, with its definition levels
/// (1: a value, 0: null).
#[derive(Debug)]
enum Values {
    Text { bytes: Vec<u8>, ends: Vec<usize> },
    Integer(Vec<i64>),
    Boolean(Vec<bool>),
    Double(Vec<f64>),
    Date(Vec<i32>),
}

#[derive(Debug)]
struct Column {
    values: Values,
    levels: Vec<i16>,
    required: bool,
}

impl Column {
    fn new(kind: ColumnType, required: bool) -> Column {
        let values = match kind {
            ColumnType::Text => Values::Text {
                bytes: Vec::new(),
                ends: Vec::new(),
            },
            ColumnType::Integer => Values::Integer(Vec::new()),
            ColumnType::Boolean => Values::Boolean(Vec::new()),
            ColumnType::Decimal => Values::Double(Vec::new()),
            ColumnType::Date => Values::Date(Vec::new()),
        };
        Column {
            values,
            levels: Vec::new(),
            required,
        }
    }

    /// Adds a value; returns false when it does not fit the column's type (stored as null).
    fn push(&mut self, cell: &Cell<'_>) -> bool {
        if matches!(cell, Cell::Null) {
            self.levels.push(0);
            return true;
        }
        let text = cell.as_text();
        let fits = match &mut self.values {
            Values::Text { bytes, ends } => {
                bytes.extend_from_slice(text.as_bytes());
                ends.push(bytes.len());
                true
            }
            Values::Integer(values) => text.parse().map(|v| values.push(v)).is_ok(),
            Values::Boolean(values) => match text {
                "true" => {
                    values.push(true);
                    true
                }
                "false" => {
                    values.push(false);
                    true
                }
                _ => false,
            },
            Values::Double(values) => text
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .map(|v| values.push(v))
                .is_some(),
            Values::Date(values) => days_since_epoch(text).map(|d| values.push(d)).is_some(),
        };
        self.levels.push(i16::from(fits));
        fits
    }

    fn text_bytes(&self) -> usize {
        match &self.values {
            Values::Text { bytes, .. } => bytes.len(),
            _ => 0,
        }
    }

    /// Writes the buffered values as this column's chunk of the row group and empties it.
    fn write(&mut self, writer: &mut SerializedColumnWriter<'_>) -> Result<(), BulkError> {
        let levels = (!self.required).then_some(self.levels.as_slice());
        match &mut self.values {
            Values::Text { bytes, ends } => {
                let all = Bytes::from(std::mem::take(bytes));
                let mut start = 0;
                let values: Vec<ByteArray> = ends
                    .iter()
                    .map(|&end| {
                        let value = ByteArray::from(all.slice(start..end));
                        start = end;
                        value
                    })
                    .collect();
                ends.clear();
                writer
                    .typed::<ByteArrayType>()
                    .write_batch(&values, levels, None)?;
            }
            Values::Integer(values) => {
                writer
                    .typed::<Int64Type>()
                    .write_batch(values, levels, None)?;
                values.clear();
            }
            Values::Boolean(values) => {
                writer
                    .typed::<BoolType>()
                    .write_batch(values, levels, None)?;
                values.clear();
            }
            Values::Double(values) => {
                writer
                    .typed::<DoubleType>()
                    .write_batch(values, levels, None)?;
                values.clear();
            }
            Values::Date(values) => {
                writer
                    .typed::<Int32Type>()
                    .write_batch(values, levels, None)?;
                values.clear();
            }
        }
        self.levels.clear();
        Ok(())
    }
}

/// `YYYY-MM-DD` as days since 1970-01-01.
fn days_since_epoch(text: &str) -> Option<i32> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let year = text.get(0..4)?.parse().ok()?;
    let month = text.get(5..7)?.parse::<u8>().ok()?;
    let day = text.get(8..10)?.parse().ok()?;
    let date =
        time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()?;
    Some(date.to_julian_day() - UNIX_EPOCH_JULIAN_DAY)
}

/// The Parquet schema of a download: the provenance columns (required), then each field
/// (optional) with its declared type.
fn schema(dataset: &str, fields: &[String]) -> Result<(Type, Vec<Column>), BulkError> {
    let mut types = Vec::new();
    let mut columns = Vec::new();
    let mut add = |name: &str, kind: ColumnType, required: bool| -> Result<(), BulkError> {
        let (physical, logical) = match kind {
            ColumnType::Text => (PhysicalType::BYTE_ARRAY, Some(LogicalType::String)),
            ColumnType::Integer => (PhysicalType::INT64, None),
            ColumnType::Boolean => (PhysicalType::BOOLEAN, None),
            ColumnType::Decimal => (PhysicalType::DOUBLE, None),
            ColumnType::Date => (PhysicalType::INT32, Some(LogicalType::Date)),
        };
        let repetition = if required {
            Repetition::REQUIRED
        } else {
            Repetition::OPTIONAL
        };
        types.push(Arc::new(
            Type::primitive_type_builder(name, physical)
                .with_repetition(repetition)
                .with_logical_type(logical)
                .build()?,
        ));
        columns.push(Column::new(kind, required));
        Ok(())
    };
    add(PROVENANCE[0], ColumnType::Text, true)?;
    add(PROVENANCE[1], ColumnType::Integer, true)?;
    add(PROVENANCE[2], ColumnType::Text, true)?;
    for field in fields {
        add(field, declared_type(dataset, field), false)?;
    }
    let schema = Type::group_type_builder("schema")
        .with_fields(types)
        .build()?;
    Ok((schema, columns))
}

/// Writes one row group of the buffered columns.
fn flush<W: Write + Send>(
    writer: &mut SerializedFileWriter<W>,
    columns: &mut [Column],
) -> Result<(), BulkError> {
    let mut group = writer.next_row_group()?;
    let mut at = 0;
    while let Some(mut column) = group.next_column()? {
        if let Some(buffer) = columns.get_mut(at) {
            buffer.write(&mut column)?;
        }
        column.close()?;
        at += 1;
    }
    group.close()?;
    Ok(())
}

/// Writes the Parquet file of `source`'s rows to `out`; returns the rows written.
pub fn write(
    conn: &rusqlite::Connection,
    dataset: &str,
    source: &Source,
    province: Option<&str>,
    out: impl Write + Send,
) -> Result<u64, BulkError> {
    let fields = source.fields();
    let (schema, mut columns) = schema(dataset, &fields)?;
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by(format!("pico-hub {}", env!("CARGO_PKG_VERSION")))
        .build();
    let mut writer = SerializedFileWriter::new(
        std::io::BufWriter::with_capacity(1 << 20, out),
        Arc::new(schema),
        Arc::new(properties),
    )?;
    let mut written = 0u64;
    let mut buffered = 0usize;
    let mut mismatched = 0u64;
    crate::db::bulk::for_each_row(conn, source.dataset_id, province, |row: BulkRow<'_>| {
        let cells = super::decode(row.data, &fields)?;
        let hash = hex::encode(row.entry_hash);
        columns[0].push(&Cell::Text(row.province.into()));
        columns[1].push(&Cell::Number(&row.seq.to_string()));
        columns[2].push(&Cell::Text(hash.as_str().into()));
        for (column, cell) in columns[PROVENANCE.len()..].iter_mut().zip(&cells) {
            if !column.push(cell) {
                mismatched += 1;
            }
        }
        written += 1;
        buffered += 1;
        if buffered >= ROW_GROUP_ROWS
            || columns.iter().map(Column::text_bytes).sum::<usize>() >= ROW_GROUP_BYTES
        {
            flush(&mut writer, &mut columns)?;
            buffered = 0;
        }
        Ok::<_, BulkError>(())
    })?;
    if buffered > 0 || written == 0 {
        flush(&mut writer, &mut columns)?;
    }
    if mismatched > 0 {
        tracing::warn!(
            dataset,
            values = mismatched,
            "values that do not fit their declared type written as null in the Parquet file"
        );
    }
    writer.into_inner()?.flush()?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::days_since_epoch;

    #[test]
    fn dates_count_days_from_the_unix_epoch() {
        assert_eq!(days_since_epoch("1970-01-01"), Some(0));
        assert_eq!(days_since_epoch("2025-03-14"), Some(20_161));
        assert_eq!(days_since_epoch("1969-12-31"), Some(-1));
        assert_eq!(days_since_epoch("2025-02-30"), None);
        assert_eq!(days_since_epoch("14/03/2025"), None);
    }
}
