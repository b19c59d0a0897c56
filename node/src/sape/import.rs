//! Imports of calls from the EU Funding & Tenders portal: the topics CSV (one row per topic,
//! as `node/data/eu_ft_horizon_europe_topics_2024-07-11.csv`) and the JSON of the portal's
//! search API (`results[].metadata`, every value a list of strings, `budgetOverview` a JSON
//! document inside a string). Every row is checked first; one refused row refuses the whole
//! file with an Italian report of every refused row, and nothing is written. Accepted files
//! are written in one transaction, updating the calls whose identifier is already stored.

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde::Serialize;
use serde_json::Value;

use crate::db::audit::{self, Actor};
use crate::sape::db::{self as store, CallRecord, Source};
use crate::sape::{Day, DeadlineModel, Management, Programme, Stage, funding_rate_of};

/// The most refused rows listed in a report (the count says how many there were).
pub const MAX_LISTED_ERRORS: usize = 50;

/// The file formats the import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The portal's topics CSV.
    Csv,
    /// The portal's search-API JSON.
    Json,
}

impl Format {
    /// JSON if the file starts (after blanks) with `{` or `[`, CSV otherwise.
    pub fn detect(bytes: &[u8]) -> Format {
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{' | b'[') => Format::Json,
            _ => Format::Csv,
        }
    }
}

/// What an accepted import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = SapeImportReport)]
pub struct ImportReport {
    /// Calls read from the file.
    pub total: u64,
    /// Calls not stored before.
    pub created: u64,
    /// Calls updated (same identifier).
    pub updated: u64,
}

/// Why an import was refused (nothing was written).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file is not what it should be (no header, not JSON…).
    #[error("{0}")]
    File(String),
    /// Rows were refused: up to [`MAX_LISTED_ERRORS`] messages (`riga 12: …`) and the count.
    #[error("{count} righe rifiutate")]
    Rows {
        /// Messages, in file order.
        errors: Vec<String>,
        /// How many rows were refused.
        count: u64,
    },
    /// The database failed.
    #[error("errore del database: {0}")]
    Db(#[from] rusqlite::Error),
}

/// Reads `bytes` as `format` into call records, or every refused row.
pub fn parse(format: Format, bytes: &[u8]) -> Result<Vec<CallRecord>, ImportError> {
    let rows = match format {
        Format::Csv => parse_csv(bytes)?,
        Format::Json => parse_json(bytes)?,
    };
    let mut records = Vec::with_capacity(rows.len());
    let mut errors = Vec::new();
    let mut count = 0u64;
    let mut seen = BTreeMap::new();
    for (line, row) in rows {
        match row {
            Ok(record) => {
                if let Some(first) = seen.insert(record.identifier.clone(), line.clone()) {
                    count += 1;
                    if errors.len() < MAX_LISTED_ERRORS {
                        errors.push(format!(
                            "{line}: l'identificativo {} compare già alla {first}",
                            record.identifier
                        ));
                    }
                }
                records.push(record);
            }
            Err(message) => {
                count += 1;
                if errors.len() < MAX_LISTED_ERRORS {
                    errors.push(format!("{line}: {message}"));
                }
            }
        }
    }
    if count > 0 {
        return Err(ImportError::Rows { errors, count });
    }
    Ok(records)
}

/// Writes `records` in the caller's transaction: new identifiers are inserted, known ones
/// updated; one audit event for the file.
pub fn write(
    conn: &Connection,
    actor: &Actor,
    records: &[CallRecord],
    source: Source,
    filename: &str,
    now: i64,
) -> Result<ImportReport, ImportError> {
    let mut report = ImportReport {
        total: records.len() as u64,
        created: 0,
        updated: 0,
    };
    for record in records {
        let (_, created) = store::upsert_call(conn, record, source, now)?;
        if created {
            report.created += 1;
        } else {
            report.updated += 1;
        }
    }
    audit::record(
        conn,
        actor,
        "sape.import",
        "sape_calls",
        &serde_json::json!({"file": filename, "total": report.total, "created": report.created, "updated": report.updated}),
        now,
    )?;
    Ok(report)
}

/// Parses, then writes in one transaction: all or nothing.
pub fn import(
    conn: &mut Connection,
    signer: &crate::federation::Signer,
    actor: &Actor,
    bytes: &[u8],
    filename: &str,
    now: i64,
) -> Result<ImportReport, ImportError> {
    let format = Format::detect(bytes);
    let records = parse(format, bytes)?;
    let source = match format {
        Format::Csv => Source::Csv,
        Format::Json => Source::Json,
    };
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let report = write(&tx, actor, &records, source, filename, now)?;
    // A call's identifiers and title travel in the national rows of its proposals.
    crate::sape::national::refresh_all(&tx, signer).map_err(|err| {
        ImportError::File(format!(
            "aggiornamento del dataset nazionale non riuscito: {err}"
        ))
    })?;
    tx.commit()?;
    Ok(report)
}

/// A row's place in the file (`riga 12`, `risultato 3`) and the row or why it is refused.
type Parsed = (String, Result<CallRecord, String>);

fn date(field: &str, text: &str) -> Result<String, String> {
    // The portal writes instants (`2024-09-18T00:00:00.000+0000`): the day is what counts.
    let text = text.trim();
    let day = match text.split_once('T') {
        Some((day, _)) if day.len() == 10 => day,
        _ => text,
    };
    Day::parse(day)
        .map(Day::iso)
        .map_err(|_| format!("{field}: {text:?} non è una data (AAAA-MM-GG)"))
}

const CSV_COLUMNS: [&str; 9] = [
    "topicId",
    "callId",
    "topicTitle",
    "openDate",
    "closeDate",
    "s2Date",
    "process",
    "actionType",
    "topicUrl",
];

fn parse_csv(bytes: &[u8]) -> Result<Vec<Parsed>, ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|_| {
            ImportError::File("Il file non ha una riga di intestazione CSV leggibile.".into())
        })?
        .clone();
    let index = |name: &str| headers.iter().position(|h| h.trim() == name);
    let missing: Vec<&str> = CSV_COLUMNS
        .iter()
        .copied()
        .filter(|name| index(name).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(ImportError::File(format!(
            "Mancano le colonne {} (il file atteso è l'elenco dei topic del portale Funding & Tenders).",
            missing.join(", ")
        )));
    }
    let optional = ["clusterName", "destination", "callTitle"].map(index);
    let mut rows = Vec::new();
    for (n, result) in reader.records().enumerate() {
        let line = format!("riga {}", n + 2);
        let row = match result {
            Ok(record) => {
                let get = |name: &str| {
                    index(name)
                        .and_then(|i| record.get(i))
                        .unwrap_or_default()
                        .trim()
                        .to_owned()
                };
                let keywords: Vec<String> = optional
                    .iter()
                    .flatten()
                    .filter_map(|i| record.get(*i))
                    .map(str::trim)
                    .filter(|text| !text.is_empty())
                    .map(str::to_owned)
                    .collect();
                csv_record(&get, keywords.join("; "))
            }
            Err(err) => Err(format!("non leggibile come CSV ({err})")),
        };
        rows.push((line, row));
    }
    Ok(rows)
}

fn csv_record(get: &dyn Fn(&str) -> String, keywords: String) -> Result<CallRecord, String> {
    let identifier = get("topicId");
    if identifier.is_empty() {
        return Err("manca l'identificativo del topic (topicId)".into());
    }
    let title = get("topicTitle");
    if title.is_empty() {
        return Err("manca il titolo (topicTitle)".into());
    }
    let model = match get("process").as_str() {
        "single-stage" => DeadlineModel::SingleStage,
        "two-stage" => DeadlineModel::TwoStage,
        other => {
            return Err(format!(
                "process: {other:?} non è «single-stage» né «two-stage»"
            ));
        }
    };
    let opening = match get("openDate").as_str() {
        "" => None,
        text => Some(date("openDate", text)?),
    };
    let close = date("closeDate", &get("closeDate"))?;
    let deadlines = match model {
        DeadlineModel::TwoStage => {
            let second = get("s2Date");
            if second.is_empty() {
                return Err("s2Date: un bando in due fasi ha la data della seconda fase".into());
            }
            let second = date("s2Date", &second)?;
            if second < close {
                return Err("s2Date: la seconda fase non può chiudere prima della prima".into());
            }
            vec![(close, Stage::First), (second, Stage::Second)]
        }
        _ => vec![(close, Stage::Single)],
    };
    let type_of_action = get("actionType");
    Ok(CallRecord {
        programme: Programme::HorizonEurope,
        management: Management::Direct,
        call_identifier: get("callId"),
        funding_rate: funding_rate_of(&type_of_action),
        type_of_action,
        keywords,
        deadline_model: model,
        opening_date: opening,
        deadlines,
        url: get("topicUrl"),
        budget_cents: None,
        expected_grants: None,
        min_contribution_cents: None,
        max_contribution_cents: None,
        identifier,
        title,
    })
}

/// The portal's status codes (`31094501` forthcoming, `…02` open, `…03` closed): read to
/// check the file, never stored (the status is derived from the dates).
const STATUS_CODES: [&str; 3] = ["31094501", "31094502", "31094503"];

/// The portal's code of Horizon Europe in `frameworkProgramme`.
const HORIZON_EUROPE_CODE: &str = "43108390";

fn parse_json(bytes: &[u8]) -> Result<Vec<Parsed>, ImportError> {
    let document: Value = serde_json::from_slice(bytes).map_err(|err| {
        ImportError::File(format!(
            "Il file non è JSON valido (riga {}, colonna {}).",
            err.line(),
            err.column()
        ))
    })?;
    let results = match &document {
        Value::Array(items) => items.as_slice(),
        Value::Object(map) => map
            .get("results")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .ok_or_else(|| {
                ImportError::File(
                    "Il JSON non ha l'elenco «results» della ricerca del portale.".into(),
                )
            })?,
        _ => {
            return Err(ImportError::File(
                "Il JSON non è una risposta della ricerca del portale.".into(),
            ));
        }
    };
    Ok(results
        .iter()
        .enumerate()
        .map(|(n, item)| {
            let metadata = item.get("metadata").unwrap_or(item);
            (format!("risultato {}", n + 1), json_record(metadata))
        })
        .collect())
}

/// Every string of metadata field `name` (the portal wraps each value in a list).
fn strings(metadata: &Value, name: &str) -> Vec<String> {
    match metadata.get(name) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.trim().to_owned()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .filter(|s| !s.is_empty())
            .collect(),
        Some(Value::String(s)) if !s.trim().is_empty() => vec![s.trim().to_owned()],
        Some(Value::Number(n)) => vec![n.to_string()],
        _ => Vec::new(),
    }
}

fn programme_of(identifier: &str, framework: &[String]) -> (Programme, Management) {
    let upper = identifier.to_ascii_uppercase();
    let by_prefix = [
        ("HORIZON-", Programme::HorizonEurope),
        ("LIFE-", Programme::Life),
        ("DIGITAL-", Programme::DigitalEurope),
        ("CERV-", Programme::Cerv),
        ("ERASMUS-", Programme::ErasmusPlus),
        ("INTERREG", Programme::Interreg),
    ];
    let programme = by_prefix
        .iter()
        .find(|(prefix, _)| upper.starts_with(prefix))
        .map(|(_, programme)| *programme)
        .or_else(|| {
            framework
                .iter()
                .any(|code| code == HORIZON_EUROPE_CODE)
                .then_some(Programme::HorizonEurope)
        })
        .unwrap_or(Programme::Other);
    (programme, Management::Direct)
}

/// Euro as a JSON number (whole or with decimals) to cents.
fn cents(value: &Value) -> Option<i64> {
    if let Some(n) = value.as_i64() {
        return n.checked_mul(100).filter(|c| *c >= 0);
    }
    let f = value.as_f64()?;
    (0.0..1e13).contains(&f).then(|| {
        #[expect(
            clippy::cast_possible_truncation,
            reason = "bounded above and rounded to whole cents"
        )]
        let cents = (f * 100.0).round() as i64;
        cents
    })
}

/// Budget, expected grants and contribution range from `budgetOverview`.
#[derive(Debug, Default, PartialEq, Eq)]
struct BudgetOverview {
    budget: Option<i64>,
    grants: Option<i64>,
    min: Option<i64>,
    max: Option<i64>,
    action: Option<String>,
}

fn budget_overview(text: &str) -> Result<BudgetOverview, String> {
    let value: Value = serde_json::from_str(text)
        .map_err(|_| "budgetOverview: non è un documento JSON".to_owned())?;
    let mut overview = BudgetOverview::default();
    let Some(map) = value.get("budgetTopicActionMap").and_then(Value::as_object) else {
        return Ok(overview);
    };
    for action in map.values().filter_map(Value::as_array).flatten() {
        if let Some(years) = action.get("budgetYearMap").and_then(Value::as_object) {
            for amount in years.values() {
                let amount = cents(amount).ok_or_else(|| {
                    "budgetOverview: un importo non è un numero valido".to_owned()
                })?;
                overview.budget = Some(overview.budget.unwrap_or(0) + amount);
            }
        }
        if let Some(grants) = action.get("expectedGrants").and_then(Value::as_i64) {
            overview.grants = Some(overview.grants.unwrap_or(0) + grants);
        }
        if overview.min.is_none() {
            overview.min = action.get("minContribution").and_then(cents);
        }
        if overview.max.is_none() {
            overview.max = action.get("maxContribution").and_then(cents);
        }
        if overview.action.is_none() {
            overview.action = action
                .get("action")
                .and_then(Value::as_str)
                .map(str::to_owned);
        }
    }
    Ok(overview)
}

fn json_record(metadata: &Value) -> Result<CallRecord, String> {
    let first = |name: &str| strings(metadata, name).into_iter().next();
    let identifier = first("identifier").ok_or("manca identifier")?;
    let title = first("title").ok_or("manca title")?;
    if let Some(status) = first("status")
        && !STATUS_CODES.contains(&status.as_str())
    {
        return Err(format!(
            "status: {status:?} non è un codice del portale (31094501 in arrivo, 31094502 aperto, 31094503 chiuso)"
        ));
    }
    let mut deadline_days = strings(metadata, "deadlineDate")
        .iter()
        .map(|text| date("deadlineDate", text))
        .collect::<Result<Vec<_>, _>>()?;
    deadline_days.sort();
    deadline_days.dedup();
    let model_text = first("deadlineModel").unwrap_or_default().to_lowercase();
    let model = match model_text.replace(['-', '_'], " ").as_str() {
        "single stage" => DeadlineModel::SingleStage,
        "two stage" => DeadlineModel::TwoStage,
        "multiple cut off" | "multiple cutoff" => DeadlineModel::MultipleCutoff,
        "permanent" | "continuous" => DeadlineModel::Permanent,
        "" if deadline_days.len() > 1 => DeadlineModel::MultipleCutoff,
        "" => DeadlineModel::SingleStage,
        _ => {
            return Err(format!(
                "deadlineModel: {model_text:?} non è single-stage, two-stage, multiple cut-off né permanent"
            ));
        }
    };
    let deadlines: Vec<(String, Stage)> = match model {
        DeadlineModel::SingleStage => match deadline_days.as_slice() {
            [day] => vec![(day.clone(), Stage::Single)],
            _ => {
                return Err(format!(
                    "deadlineDate: un bando a fase unica ha una scadenza, qui {}",
                    deadline_days.len()
                ));
            }
        },
        DeadlineModel::TwoStage => match deadline_days.as_slice() {
            [first, second] => vec![
                (first.clone(), Stage::First),
                (second.clone(), Stage::Second),
            ],
            _ => {
                return Err(format!(
                    "deadlineDate: un bando in due fasi ha due scadenze, qui {}",
                    deadline_days.len()
                ));
            }
        },
        DeadlineModel::MultipleCutoff => {
            if deadline_days.is_empty() {
                return Err(
                    "deadlineDate: un bando a scadenze multiple ha almeno una scadenza".into(),
                );
            }
            deadline_days
                .into_iter()
                .map(|d| (d, Stage::Cutoff))
                .collect()
        }
        DeadlineModel::Permanent => Vec::new(),
    };
    let opening = first("startDate")
        .map(|text| date("startDate", &text))
        .transpose()?;
    let overview = match first("budgetOverview") {
        Some(text) => budget_overview(&text)?,
        None => BudgetOverview::default(),
    };
    let type_of_action = first("typesOfAction")
        .or_else(|| overview.action.clone())
        .unwrap_or_default();
    let (programme, management) =
        programme_of(&identifier, &strings(metadata, "frameworkProgramme"));
    let url = first("url").unwrap_or_else(|| {
        format!(
            "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/topic-details/{}",
            identifier.to_lowercase()
        )
    });
    Ok(CallRecord {
        call_identifier: first("callIdentifier").unwrap_or_default(),
        programme,
        management,
        funding_rate: funding_rate_of(&type_of_action),
        type_of_action,
        keywords: strings(metadata, "keywords").join("; "),
        deadline_model: model,
        opening_date: opening,
        deadlines,
        url,
        budget_cents: overview.budget,
        expected_grants: overview.grants,
        min_contribution_cents: overview.min,
        max_contribution_cents: overview.max,
        identifier,
        title,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_overview_sums_years_and_reads_the_range() {
        let text = r#"{"budgetTopicActionMap":{"1":[{"action":"HORIZON-IA HORIZON Innovation Actions","budgetYearMap":{"2024":10000000,"2025":5000000.5},"expectedGrants":3,"minContribution":4000000,"maxContribution":5000000}]}}"#;
        assert_eq!(
            budget_overview(text),
            Ok(BudgetOverview {
                budget: Some(1_500_000_050),
                grants: Some(3),
                min: Some(400_000_000),
                max: Some(500_000_000),
                action: Some("HORIZON-IA HORIZON Innovation Actions".into()),
            })
        );
        assert!(budget_overview("not json").is_err());
    }

    #[test]
    fn detects_the_format() {
        assert_eq!(Format::detect(b"  {\"results\": []}"), Format::Json);
        assert_eq!(Format::detect(b"ccm2Id,callYear"), Format::Csv);
    }
}
