//! The Dati module's core: generic datasets (a schema of typed fields and a primary key),
//! CSV import ([`csv_import`]), the operations that change rows and publish the changes of
//! federated datasets through the outbox ([`ops`]), and the `/v1/datasets` API ([`api`]).

pub mod api;
pub mod bes;
pub mod catalogue;
pub mod cli;
pub mod csv_import;
pub mod dcat;
pub mod ops;
pub mod pages;

use std::fmt;
use std::str::FromStr;

use pico_protocol::payload::FieldValue;
use serde::{Deserialize, Serialize};

use crate::modules::ModuleKit;

/// The type of a field. Decimals and dates travel as text (the protocol has no floats);
/// the type says what text is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// Any text.
    Text,
    /// An integer within ±(2^53−1), without leading zeros (codes such as `026086` are text).
    Integer,
    /// A decimal number, stored as text with a dot (`1234.50`; `1234,50` is accepted).
    Decimal,
    /// A date `YYYY-MM-DD`, stored as text.
    Date,
    /// `true` or `false`.
    Boolean,
}

impl FieldType {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Integer => "integer",
            FieldType::Decimal => "decimal",
            FieldType::Date => "date",
            FieldType::Boolean => "boolean",
        }
    }

    /// Converts a non-empty cell to a value of this type.
    pub fn parse(self, text: &str) -> Result<FieldValue, String> {
        match self {
            FieldType::Text => Ok(FieldValue::from(text)),
            FieldType::Integer => parse_integer(text)
                .map(FieldValue::Int)
                .ok_or_else(|| format!("{text:?} non è un numero intero")),
            FieldType::Decimal => parse_decimal(text)
                .map(FieldValue::from)
                .ok_or_else(|| format!("{text:?} non è un numero decimale come 1234.50")),
            FieldType::Date => {
                if is_date(text) {
                    Ok(FieldValue::from(text))
                } else {
                    Err(format!("{text:?} non è una data nella forma AAAA-MM-GG"))
                }
            }
            FieldType::Boolean => match text {
                "true" => Ok(FieldValue::Bool(true)),
                "false" => Ok(FieldValue::Bool(false)),
                _ => Err(format!("{text:?} non è true o false")),
            },
        }
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn parse_integer(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && text != "-0";
    if !canonical || digits.len() > 16 {
        return None;
    }
    let value: i64 = text.parse().ok()?;
    (value.unsigned_abs() <= pico_protocol::canonical::MAX_SAFE_INTEGER).then_some(value)
}

fn parse_decimal(text: &str) -> Option<String> {
    let body = text.strip_prefix('-').unwrap_or(text);
    let (int, frac) = match body.split_once(['.', ',']) {
        Some((int, frac)) => (int, Some(frac)),
        None => (body, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    // A leading zero marks a code (`026086`), not a number.
    let leading_zero = int.len() > 1 && int.starts_with('0');
    if !digits(int) || leading_zero || frac.is_some_and(|f| !digits(f)) {
        return None;
    }
    Some(text.replace(',', "."))
}

fn is_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return false;
    }
    let number =
        |range: std::ops::Range<usize>| text.get(range).and_then(|s| s.parse::<u32>().ok());
    matches!(
        (number(0..4), number(5..7), number(8..10)),
        (Some(_), Some(1..=12), Some(1..=31))
    ) && text
        .bytes()
        .enumerate()
        .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit())
}

/// A field of a dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldDef {
    /// Name: lower-case letters, digits and `_`, starting with a letter.
    pub name: String,
    /// Type.
    #[serde(rename = "type")]
    pub kind: FieldType,
}

/// Whether a dataset is published to the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Federation {
    /// Local only.
    Off,
    /// Published to the national view: every change becomes a signed entry.
    National,
}

impl Federation {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Federation::Off => "off",
            Federation::National => "national",
        }
    }
}

impl FromStr for Federation {
    type Err = String;
    fn from_str(text: &str) -> Result<Federation, String> {
        match text {
            "off" => Ok(Federation::Off),
            "national" => Ok(Federation::National),
            _ => Err(format!(
                "impostazione di federazione {text:?} sconosciuta: i valori sono off o national"
            )),
        }
    }
}

/// A dataset's definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    /// Name (as on the wire).
    pub name: String,
    /// Title shown to people.
    pub title: String,
    /// Fields, in the order of every row.
    pub fields: Vec<FieldDef>,
    /// Names of the primary-key fields.
    pub primary_key: Vec<String>,
    /// Incremented whenever the fields or key change.
    pub schema_version: u32,
    /// Publication setting.
    pub federation: Federation,
    /// Rows held.
    pub row_count: i64,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

impl Dataset {
    /// Field names in row order.
    pub fn field_names(&self) -> Vec<String> {
        self.fields.iter().map(|f| f.name.clone()).collect()
    }

    /// Positions of the primary-key fields.
    pub fn key_positions(&self) -> Vec<usize> {
        self.primary_key
            .iter()
            .filter_map(|key| self.fields.iter().position(|f| &f.name == key))
            .collect()
    }
}

/// The module that derives dataset `name` from its own tables, if another module does. Such
/// a dataset is written only by that module (never by a CSV import or a deletion by key),
/// and its rows are kept only while it is federated: turning it `national` builds them.
pub fn derived_by(name: &str) -> Option<&'static str> {
    crate::modules::derived_dataset(crate::modules::ALL, name).map(|dataset| dataset.module)
}

/// Whether `name` is a valid dataset or field name (the protocol's rule).
pub fn valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z'))
        && name.len() <= 64
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_'))
}

/// Dati's part of the OpenAPI document.
#[derive(Debug, utoipa::OpenApi)]
#[openapi(paths(
    api::list_datasets,
    api::import_dataset,
    api::list_rows,
    api::create_deletions,
    api::update_federation,
    catalogue::get_metadata,
    catalogue::update_metadata,
    catalogue::download_rows,
    catalogue::get_catalogue,
    catalogue::get_catalogue_turtle,
    catalogue::get_catalogue_rdf_xml,
    catalogue::get_catalogue_json_ld,
))]
pub struct DatiApi;

/// The `/v1/datasets` API and the open-data catalogue.
fn api_routes() -> axum::Router<crate::state::AppState> {
    api::router().merge(catalogue::router())
}

/// The Dati module in the module registry: the `/v1/datasets` API, the DCAT-AP_IT catalogue.
pub const KIT: ModuleKit = ModuleKit {
    api: api_routes,
    pages: pages::router,
    nav: Some(crate::modules::NavEntry {
        label: "Dati",
        path: pages::DATASETS,
        covers_subpaths: true,
        audience: crate::modules::Audience::SignedIn(manages_datasets),
    }),
    dashboard: dashboard_links,
    openapi: <DatiApi as utoipa::OpenApi>::openapi,
    cli: Some(cli::CLI),
    ..ModuleKit::new("dati")
};

fn manages_datasets(role: &crate::roles::Role) -> bool {
    crate::auth::policy::permits(role, crate::auth::policy::Action::ManageDatasets)
}

fn dashboard_links(role: &crate::roles::Role) -> Vec<crate::modules::Link> {
    if manages_datasets(role) {
        vec![crate::modules::Link::new(
            "Dati e catalogo dei dati aperti",
            pages::DATASETS,
        )]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_parse_what_they_promise() {
        assert_eq!(FieldType::Integer.parse("42"), Ok(FieldValue::Int(42)));
        assert!(FieldType::Integer.parse("042").is_err());
        assert!(FieldType::Integer.parse("-0").is_err());
        assert!(FieldType::Integer.parse("99999999999999999").is_err());
        assert_eq!(
            FieldType::Decimal.parse("1234,50"),
            Ok(FieldValue::from("1234.50"))
        );
        assert!(FieldType::Decimal.parse("1.234,50").is_err());
        assert!(FieldType::Date.parse("2025-02-14").is_ok());
        assert!(FieldType::Date.parse("2025-13-14").is_err());
        assert!(FieldType::Date.parse("14/02/2025").is_err());
        assert_eq!(FieldType::Boolean.parse("true"), Ok(FieldValue::Bool(true)));
    }
}
