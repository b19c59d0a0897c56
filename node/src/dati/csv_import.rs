//! CSV parsing and validation for dataset import: UTF-8, `,` or `;` (detected from the
//! header), header row = field names. Every problem is reported with its line number and
//! nothing is imported unless the whole file is valid.
//!
//! Each row comes out as the two canonical JSON texts the store keeps (`pk` and `data`, see
//! `db::datasets`), so the import never re-encodes a row twice.

use std::collections::BTreeMap;

use pico_protocol::payload::{COMUNE_FIELD, FieldValue, Row};

use super::{Dataset, FieldDef, FieldType, valid_name};

/// Largest encoded row: far below the entry limit, so that any row fits in an entry.
pub const MAX_ROW_BYTES: usize = 256 * 1024;

/// Errors reported at most (the rest are counted).
const MAX_REPORTED: usize = 20;

/// A valid CSV file, ready to be stored.
#[derive(Debug, Clone)]
pub struct ParsedCsv {
    /// Fields in row order (the dataset's order when it already existed).
    pub fields: Vec<FieldDef>,
    /// Primary-key field names.
    pub primary_key: Vec<String>,
    /// Rows in file order.
    pub rows: Vec<ParsedRow>,
}

/// One data row.
#[derive(Debug, Clone)]
pub struct ParsedRow {
    /// Line in the file (the header is line 1).
    pub line: u64,
    /// Canonical JSON array of the key values.
    pub pk: String,
    /// Canonical JSON array of all values.
    pub data: String,
}

/// The problems found, each naming its line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.join("; "))]
pub struct CsvErrors(pub Vec<String>);

struct Collector {
    errors: Vec<String>,
    more: usize,
}

impl Collector {
    fn push(&mut self, message: String) {
        if self.errors.len() < MAX_REPORTED {
            self.errors.push(message);
        } else {
            self.more += 1;
        }
    }

    fn finish(mut self) -> Result<(), CsvErrors> {
        if self.errors.is_empty() {
            return Ok(());
        }
        if self.more > 0 {
            self.errors
                .push(format!("… e altri {} problemi", self.more));
        }
        Err(CsvErrors(self.errors))
    }
}

/// `;` when the header has more semicolons than commas (Italian spreadsheets), else `,`.
fn separator(bytes: &[u8]) -> u8 {
    let header = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let count = |sep: u8| header.iter().filter(|&&b| b == sep).count();
    if count(b';') > count(b',') {
        b';'
    } else {
        b','
    }
}

/// Encodes values as canonical JSON (the stored and transmitted form).
pub fn encode(values: &[FieldValue]) -> String {
    // Vectors of nulls, booleans, safe integers and strings always serialise.
    String::from_utf8(pico_protocol::canonical::to_vec(&values).unwrap_or_default())
        .unwrap_or_default()
}

/// Decodes a stored `data` or `pk` text.
pub fn decode(text: &str) -> Result<Row, serde_json::Error> {
    serde_json::from_str(text)
}

/// Infers the type of a column from its non-empty cells.
fn infer(cells: &[&str]) -> FieldType {
    let present: Vec<&str> = cells.iter().copied().filter(|c| !c.is_empty()).collect();
    if present.is_empty() {
        return FieldType::Text;
    }
    let all = |kind: FieldType| present.iter().all(|cell| kind.parse(cell).is_ok());
    if all(FieldType::Boolean) {
        FieldType::Boolean
    } else if all(FieldType::Integer) {
        FieldType::Integer
    } else if all(FieldType::Decimal) {
        FieldType::Decimal
    } else if all(FieldType::Date) {
        FieldType::Date
    } else {
        FieldType::Text
    }
}

/// Parses and validates `bytes`.
///
/// With `schema` (an existing dataset, not redefined) the header must name exactly its
/// fields, in any order, and cells must fit its types. Without it the types are inferred and
/// `key` must name the primary key.
pub fn parse(
    bytes: &[u8],
    key: Option<&[String]>,
    schema: Option<&Dataset>,
) -> Result<ParsedCsv, CsvErrors> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut errors = Collector {
        errors: Vec::new(),
        more: 0,
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator(bytes))
        .has_headers(true)
        .flexible(false)
        .from_reader(bytes);
    let header: Vec<String> = match reader.headers() {
        Ok(header) => header.iter().map(|h| h.trim().to_owned()).collect(),
        Err(err) => return Err(CsvErrors(vec![format!("riga 1: {err}")])),
    };
    if header.is_empty() || header.iter().all(String::is_empty) {
        return Err(CsvErrors(vec![
            "riga 1: il file è vuoto; la prima riga deve dare i nomi dei campi".to_owned(),
        ]));
    }
    for name in &header {
        if !valid_name(name) {
            errors.push(format!(
                "riga 1: il nome del campo {name:?} deve avere da 1 a 64 lettere minuscole, cifre o '_' e cominciare con una lettera"
            ));
        }
    }
    let mut seen = BTreeMap::new();
    for name in &header {
        if seen.insert(name.as_str(), ()).is_some() {
            errors.push(format!("riga 1: il campo {name:?} compare due volte"));
        }
    }
    errors.finish()?;
    let mut errors = Collector {
        errors: Vec::new(),
        more: 0,
    };

    // Read every record first: inference needs whole columns.
    let mut records = Vec::new();
    for record in reader.records() {
        match record {
            Ok(record) => {
                let line = record.position().map_or(0, csv::Position::line);
                records.push((line, record));
            }
            Err(err) => {
                let line = err.position().map_or(0, csv::Position::line);
                let message = match err.kind() {
                    csv::ErrorKind::Utf8 { .. } => {
                        "testo non in UTF-8 (salvate il file come CSV UTF-8)".to_owned()
                    }
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => {
                        format!("{len} celle, mentre l'intestazione ha {expected_len} campi")
                    }
                    _ => err.to_string(),
                };
                errors.push(format!("riga {line}: {message}"));
            }
        }
    }
    errors.finish()?;
    let mut errors = Collector {
        errors: Vec::new(),
        more: 0,
    };

    // Column i of the file goes to field order[i] of the dataset.
    let (fields, primary_key) = match schema {
        Some(dataset) => {
            let mut expected = dataset.field_names();
            let mut found = header.clone();
            expected.sort();
            found.sort();
            if expected != found {
                return Err(CsvErrors(vec![format!(
                    "riga 1: i campi {:?} sono diversi da quelli del dataset {:?} (importate con replace per ridefinirlo)",
                    header,
                    dataset.field_names()
                )]));
            }
            if let Some(key) = key
                && key != dataset.primary_key.as_slice()
            {
                return Err(CsvErrors(vec![format!(
                    "la chiave {key:?} è diversa da quella del dataset {:?} (importate con replace per ridefinirlo)",
                    dataset.primary_key
                )]));
            }
            (dataset.fields.clone(), dataset.primary_key.clone())
        }
        None => {
            let Some(key) = key.filter(|key| !key.is_empty()) else {
                return Err(CsvErrors(vec![
                    "un nuovo dataset richiede la chiave primaria: indicate il campo o i campi della chiave".to_owned(),
                ]));
            };
            if let Some(missing) = key.iter().find(|k| !header.contains(k)) {
                return Err(CsvErrors(vec![format!(
                    "riga 1: il campo chiave {missing:?} non è nell'intestazione"
                )]));
            }
            let fields = header
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let cells: Vec<&str> = records
                        .iter()
                        .map(|(_, record)| record.get(i).unwrap_or_default().trim())
                        .collect();
                    // A Comune's ISTAT code is a code, not a number, even when it has no
                    // leading zero (Prato's 100001): the protocol wants it as text (SPEC §8.1).
                    let kind = if name == COMUNE_FIELD {
                        FieldType::Text
                    } else {
                        infer(&cells)
                    };
                    FieldDef {
                        name: name.clone(),
                        kind,
                    }
                })
                .collect();
            (fields, key.to_vec())
        }
    };
    let column_of: Vec<usize> = fields
        .iter()
        .map(|field| header.iter().position(|h| h == &field.name).unwrap_or(0))
        .collect();
    let key_positions: Vec<usize> = primary_key
        .iter()
        .filter_map(|key| fields.iter().position(|f| &f.name == key))
        .collect();

    let mut rows = Vec::with_capacity(records.len());
    let mut first_line_of: BTreeMap<String, u64> = BTreeMap::new();
    let mut values: Vec<FieldValue> = Vec::with_capacity(fields.len());
    for (line, record) in &records {
        values.clear();
        let mut ok = true;
        for (field, &column) in fields.iter().zip(&column_of) {
            let cell = record.get(column).unwrap_or_default().trim();
            if cell.is_empty() {
                values.push(FieldValue::Null);
                continue;
            }
            match field.kind.parse(cell) {
                Ok(value) => values.push(value),
                Err(message) => {
                    errors.push(format!("riga {line}, campo {}: {message}", field.name));
                    values.push(FieldValue::Null);
                    ok = false;
                }
            }
        }
        for &k in &key_positions {
            if values[k].is_null() && ok {
                errors.push(format!(
                    "riga {line}: il campo chiave {} è vuoto",
                    fields[k].name
                ));
                ok = false;
            }
        }
        if !ok {
            continue;
        }
        let key: Vec<FieldValue> = key_positions.iter().map(|&k| values[k].clone()).collect();
        let pk = encode(&key);
        if let Some(first) = first_line_of.get(&pk) {
            errors.push(format!(
                "riga {line}: la chiave {pk} è già usata alla riga {first}"
            ));
            continue;
        }
        let data = encode(&values);
        if data.len() > MAX_ROW_BYTES {
            errors.push(format!(
                "riga {line}: la riga occupa {} byte, oltre il limite di {MAX_ROW_BYTES}",
                data.len()
            ));
            continue;
        }
        first_line_of.insert(pk.clone(), *line);
        rows.push(ParsedRow {
            line: *line,
            pk,
            data,
        });
    }
    errors.finish()?;
    Ok(ParsedCsv {
        fields,
        primary_key,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Vec<String> {
        vec!["cig".to_owned()]
    }

    #[test]
    fn a_comune_column_is_text_even_without_a_leading_zero() {
        // Prato (100): its Comuni's codes are all digits with no leading zero.
        let csv = "cig,comune,lotti\nB1,100005,3\nB2,100001,4\n";
        let parsed = parse(csv.as_bytes(), Some(&key()), None).expect("valid");
        let kinds: Vec<FieldType> = parsed.fields.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            [FieldType::Text, FieldType::Text, FieldType::Integer]
        );
        assert_eq!(parsed.rows[0].data, r#"["B1","100005",3]"#);
    }

    #[test]
    fn infers_types_and_encodes_rows_canonically() {
        let csv = "cig;comune;importo;data;pnrr;offerte\nB1;026086;1234,50;2025-01-14;true;3\nB2;026001;10;2025-02-01;false;\n";
        let parsed = parse(csv.as_bytes(), Some(&key()), None).expect("valid");
        let kinds: Vec<FieldType> = parsed.fields.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            [
                FieldType::Text,
                FieldType::Text,
                FieldType::Decimal,
                FieldType::Date,
                FieldType::Boolean,
                FieldType::Integer
            ]
        );
        assert_eq!(parsed.rows[0].pk, r#"["B1"]"#);
        assert_eq!(
            parsed.rows[0].data,
            r#"["B1","026086","1234.50","2025-01-14",true,3]"#
        );
        assert_eq!(
            parsed.rows[1].data,
            r#"["B2","026001","10","2025-02-01",false,null]"#
        );
    }

    #[test]
    fn reports_every_problem_with_its_line() {
        let csv = "cig,n\nB1,1\nB1,2\n,3\nB4\n";
        let err = parse(csv.as_bytes(), Some(&key()), None).expect_err("invalid");
        assert_eq!(err.0, ["riga 5: 1 celle, mentre l'intestazione ha 2 campi"]);
        let csv = "cig,n\nB1,1\nB1,2\n,3\n";
        let err = parse(csv.as_bytes(), Some(&key()), None).expect_err("invalid");
        assert_eq!(
            err.0,
            [
                r#"riga 3: la chiave ["B1"] è già usata alla riga 2"#,
                "riga 4: il campo chiave cig è vuoto"
            ]
        );
        let err = parse(b"Cig,n\nB1,1\n", Some(&key()), None).expect_err("invalid");
        assert!(
            err.0[0].starts_with("riga 1: il nome del campo \"Cig\""),
            "{err}"
        );
        let err = parse(b"cig,n\nB1,\xff\n", Some(&key()), None).expect_err("invalid");
        assert!(err.0[0].starts_with("riga 2: testo non in UTF-8"), "{err}");
    }

    #[test]
    fn an_existing_schema_is_enforced() {
        let first = parse(b"cig,n\nB1,1\n", Some(&key()), None).expect("valid");
        let dataset = Dataset {
            name: "t".into(),
            title: "t".into(),
            fields: first.fields,
            primary_key: first.primary_key,
            schema_version: 1,
            federation: super::super::Federation::Off,
            row_count: 1,
            created_at: 0,
            updated_at: 0,
        };
        // Columns may come in another order; values follow the dataset's order.
        let parsed = parse(b"n,cig\n2,B2\n", None, Some(&dataset)).expect("valid");
        assert_eq!(parsed.rows[0].data, r#"["B2",2]"#);
        let err = parse(b"cig,n\nB2,x\n", None, Some(&dataset)).expect_err("invalid");
        assert_eq!(err.0, [r#"riga 2, campo n: "x" non è un numero intero"#]);
        assert!(parse(b"cig,m\nB2,1\n", None, Some(&dataset)).is_err());
    }
}
