//! SUA reports: per Comune and per year, the procedures the SUA accepted (requests not yet
//! accepted are left out), their estimated and awarded amounts, the average ribasso of the
//! awarded lots and the average days from the request to the award. Aggregated initiatives
//! count for each Comune they serve, with the Comune's share of the estimate and the same
//! share of the awarded amount. Imported procedures whose buyer is not a Comune of this
//! Province form lines without a Comune (SUA staff only).
//!
//! The SQL (aggregates over `sua_procedures_comune_year`) is in `sua::db::data::report`;
//! this file turns its sums into the JSON and CSV shapes.

use pico_service::csv::{CsvWriter, Separator};
use serde::{Deserialize, Serialize};

use crate::auth::Identity;
use crate::error::AppError;
use crate::sua::db::data::{ReportFilter, ReportSums};
use crate::sua::policy::{self, Scope};
use crate::sua::{ContractType, Euro, Ribasso};

/// The filters of a report, as the API and the page take them.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// One year (the year of the request).
    pub year: Option<i32>,
    /// One Comune (ISTAT code); Comune users always see only their own.
    pub comune: Option<String>,
    /// `works`, `services` or `supplies`.
    pub contract_type: Option<String>,
    /// One ANAC procedure code.
    pub procedure_code: Option<i64>,
    /// `true`: only PNRR-funded; `false`: only the others.
    pub pnrr: Option<bool>,
    /// CSV only: `comma` (default) or `semicolon` (decimals then use a comma, as Italian
    /// spreadsheets expect).
    pub sep: Option<String>,
}

impl ReportQuery {
    /// The SQL filter, restricted to what `identity` may see.
    pub fn to_filter(&self, identity: &Identity) -> Result<ReportFilter, AppError> {
        let scope = policy::sua_scope(identity)?;
        let comune = match (scope, self.comune.as_deref().map(str::trim)) {
            (Scope::Comune(own), Some(asked)) if !asked.is_empty() && asked != own => {
                return Err(AppError::Forbidden);
            }
            (Scope::Comune(own), _) => Some(own),
            (Scope::All, Some(asked)) if !asked.is_empty() => Some(
                pico_protocol::ComuneCode::parse(asked)
                    .map_err(|err| AppError::invalid_field("comune", err.to_string()))?
                    .as_str()
                    .to_owned(),
            ),
            (Scope::All, _) => None,
        };
        let contract_type = match self.contract_type.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(kind) => Some(
                ContractType::parse(kind)
                    .ok_or_else(|| {
                        AppError::invalid_field("contract_type", "usate works, services o supplies")
                    })?
                    .as_str(),
            ),
        };
        if let Some(year) = self.year
            && !(1900..=2200).contains(&year)
        {
            return Err(AppError::invalid_field("year", "un anno come 2025"));
        }
        Ok(ReportFilter {
            year: self.year,
            comune,
            contract_type,
            procedure_code: self.procedure_code,
            pnrr: self.pnrr,
        })
    }

    /// The CSV separator asked for.
    pub fn separator(&self) -> Result<Separator, AppError> {
        Separator::parse(self.sep.as_deref())
            .map_err(|err| AppError::invalid_field("sep", err.to_string()))
    }
}

/// One line of a report: a Comune in a year (or the totals).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ReportLine {
    /// ISTAT code; null for buyers that are not Comuni of this Province, and in the totals.
    pub comune_code: Option<String>,
    /// The Comune's name.
    pub comune_name: Option<String>,
    /// The year; null in the totals.
    pub year: Option<i64>,
    /// Procedures.
    pub procedures: i64,
    /// Sum of the estimated amounts, euro with two decimals.
    #[schema(example = "150000.00")]
    pub estimated_amount: String,
    /// Sum of the awarded amounts, euro with two decimals.
    #[schema(example = "120000.00")]
    pub awarded_amount: String,
    /// Lots with an award amount.
    pub awarded_lots: i64,
    /// Average ribasso of the awarded lots, percent with three decimals; null without any.
    #[schema(example = "12.345")]
    pub average_ribasso: Option<String>,
    /// Average days from the request to the award, one decimal; null without any award.
    pub average_days_to_award: Option<f64>,
}

/// A report.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Report {
    /// Lines by year (newest first) and Comune.
    pub lines: Vec<ReportLine>,
    /// All lines together.
    pub totals: ReportLine,
}

fn average_ribasso(sum: i64, count: i64) -> Option<String> {
    // Rounded half away from zero to the thousandth of a percent.
    (count > 0).then(|| {
        let rounded = (2 * sum + sum.signum() * count) / (2 * count);
        Ribasso(rounded).to_decimal()
    })
}

fn line(sums: &ReportSums, year: Option<i64>) -> ReportLine {
    ReportLine {
        comune_code: sums.comune_code.clone(),
        comune_name: sums.comune_name.clone(),
        year,
        procedures: sums.procedures,
        estimated_amount: Euro(sums.estimated_cents).to_decimal(),
        awarded_amount: Euro(sums.awarded_cents).to_decimal(),
        awarded_lots: sums.awarded_lots,
        average_ribasso: average_ribasso(sums.ribasso_sum, sums.ribasso_count),
        average_days_to_award: (sums.days_count > 0)
            .then(|| (sums.days_sum / sums.days_count as f64 * 10.0).round() / 10.0),
    }
}

impl Report {
    /// From the SQL sums.
    pub fn from_sums(rows: &[ReportSums]) -> Report {
        let mut total = ReportSums::default();
        for row in rows {
            total.procedures += row.procedures;
            total.estimated_cents += row.estimated_cents;
            total.awarded_cents += row.awarded_cents;
            total.awarded_lots += row.awarded_lots;
            total.ribasso_sum += row.ribasso_sum;
            total.ribasso_count += row.ribasso_count;
            total.days_sum += row.days_sum;
            total.days_count += row.days_count;
        }
        Report {
            lines: rows.iter().map(|row| line(row, Some(row.year))).collect(),
            totals: line(&total, None),
        }
    }

    /// The report as CSV (UTF-8) for people's spreadsheets, one line per Comune and year:
    /// Italian headers; with `;` decimals use a comma and the file starts with the BOM Excel
    /// needs. Cells go through `pico_service::csv` (formula neutralisation; a negative
    /// ribasso such as `-0,001` stays a number).
    pub fn to_csv(&self, separator: Separator) -> Result<Vec<u8>, AppError> {
        let mut writer = CsvWriter::new(separator, separator == Separator::Semicolon);
        let internal = |err: csv::Error| AppError::Internal(err.to_string());
        writer
            .write([
                "Codice ISTAT Comune",
                "Comune",
                "Anno",
                "Procedure",
                "Importo stimato (euro)",
                "Importo aggiudicato (euro)",
                "Lotti aggiudicati",
                "Ribasso medio (%)",
                "Giorni medi dalla richiesta all'aggiudicazione",
            ])
            .map_err(internal)?;
        for l in &self.lines {
            writer
                .write([
                    l.comune_code.clone().unwrap_or_default(),
                    l.comune_name
                        .clone()
                        .unwrap_or_else(|| "(enti diversi dai Comuni della Provincia)".to_owned()),
                    l.year.map(|y| y.to_string()).unwrap_or_default(),
                    l.procedures.to_string(),
                    separator.decimal(&l.estimated_amount),
                    separator.decimal(&l.awarded_amount),
                    l.awarded_lots.to_string(),
                    separator.decimal(l.average_ribasso.as_deref().unwrap_or_default()),
                    separator.decimal(
                        &l.average_days_to_award
                            .map(|d| format!("{d:.1}"))
                            .unwrap_or_default(),
                    ),
                ])
                .map_err(internal)?;
        }
        writer.finish().map_err(internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_add_sums_not_averages() {
        let rows = vec![
            ReportSums {
                comune_code: Some("016024".into()),
                comune_name: Some("Bergamo".into()),
                year: 2022,
                procedures: 1,
                estimated_cents: 10_000,
                awarded_cents: 9_000,
                awarded_lots: 1,
                ribasso_sum: 10_000,
                ribasso_count: 1,
                days_sum: 10.0,
                days_count: 1,
            },
            ReportSums {
                comune_code: Some("016025".into()),
                comune_name: Some("Berzo San Fermo".into()),
                year: 2022,
                procedures: 3,
                estimated_cents: 30_000,
                awarded_cents: 24_000,
                awarded_lots: 3,
                ribasso_sum: 60_000,
                ribasso_count: 3,
                days_sum: 90.0,
                days_count: 3,
            },
        ];
        let report = Report::from_sums(&rows);
        assert_eq!(report.lines[1].average_ribasso.as_deref(), Some("20.000"));
        assert_eq!(report.totals.procedures, 4);
        assert_eq!(report.totals.average_ribasso.as_deref(), Some("17.500"));
        assert_eq!(report.totals.average_days_to_award, Some(25.0));
        assert_eq!(report.totals.estimated_amount, "400.00");
        let csv =
            String::from_utf8(report.to_csv(Separator::Semicolon).expect("csv")).expect("utf8");
        assert!(
            csv.contains("016024;Bergamo;2022;1;100,00;90,00;1;10,000;10,0"),
            "{csv}"
        );
    }

    #[test]
    fn csv_cells_are_neutralised() {
        let mut report = Report::from_sums(&[ReportSums {
            comune_code: Some("016024".into()),
            comune_name: Some("=1+1".into()),
            year: 2022,
            procedures: 1,
            ribasso_sum: -2,
            ribasso_count: 3,
            ..ReportSums::default()
        }]);
        report.lines[0].comune_code = Some("@cmd".into());
        let csv =
            String::from_utf8(report.to_csv(Separator::Semicolon).expect("csv")).expect("utf8");
        // The formula gets its quote; a negative ribasso stays a number.
        assert!(
            csv.contains("\n'@cmd;'=1+1;2022;1;0,00;0,00;0;-0,001;\n"),
            "{csv}"
        );
    }

    #[test]
    fn average_ribasso_rounds() {
        assert_eq!(average_ribasso(2, 3).as_deref(), Some("0.001"));
        assert_eq!(average_ribasso(-2, 3).as_deref(), Some("-0.001"));
        assert_eq!(average_ribasso(0, 0), None);
    }
}
