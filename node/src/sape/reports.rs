//! SAPE reports: per year, programme and Comune, the proposals, how many were submitted,
//! evaluated and funded, the success rate (funded over evaluated) and the EU contribution
//! requested and obtained, and the co-financing the partners bring. A proposal counts for each Comune of this Province taking part
//! (with its whole contribution: the lines of a year can add up to more than the totals);
//! one without Comuni forms a line without a Comune. The totals count each proposal once.
//!
//! The figures come from the same reading of the SAPE tables as the national dataset
//! (`db::national_sources`), so the page, its CSV and `sape_progetti` agree.

use std::collections::BTreeMap;

use pico_service::csv::{CsvWriter, Separator};
use rusqlite::Connection;

use crate::error::AppError;
use crate::sape::db as store;
use crate::sape::national::{ProposalSource, is_funded};
use crate::sape::{Programme, ProposalState, budget};

/// The sums of one line (a year, programme and Comune) or of the totals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sums {
    /// Proposals.
    pub proposals: i64,
    /// Submitted (submitted and every state after it, withdrawals excluded).
    pub submitted: i64,
    /// Evaluated (evaluated and every outcome after it).
    pub evaluated: i64,
    /// Funded.
    pub funded: i64,
    /// EU contribution requested, cents.
    pub requested_cents: i64,
    /// EU contribution obtained (of the funded ones), cents.
    pub obtained_cents: i64,
    /// Co-financing by the partners (eligible costs not covered by the EU), cents.
    pub cofinancing_cents: i64,
}

impl Sums {
    fn add(&mut self, proposal: &ProposalSource) {
        use ProposalState::{
            Closed, Evaluated, Funded, GrantSigned, InExecution, NotFunded, Reserve, SecondStage,
            Submitted,
        };
        let budgets: Vec<_> = proposal
            .partners
            .iter()
            .map(|p| budget(&p.budget))
            .collect();
        let requested: i64 = budgets.iter().map(|b| b.eu_contribution).sum();
        self.cofinancing_cents += budgets.iter().map(|b| b.cofinancing).sum::<i64>();
        let evaluated = matches!(
            proposal.state,
            Evaluated | Funded | Reserve | NotFunded | GrantSigned | InExecution | Closed
        );
        self.proposals += 1;
        self.submitted += i64::from(evaluated || matches!(proposal.state, Submitted | SecondStage));
        self.evaluated += i64::from(evaluated);
        self.funded += i64::from(is_funded(proposal.state));
        self.requested_cents += requested;
        if is_funded(proposal.state) {
            self.obtained_cents += proposal
                .partners
                .iter()
                .map(|p| p.obtained_cents())
                .sum::<i64>();
        }
    }

    /// Funded over evaluated, as a fraction; none before any evaluation.
    pub fn success_rate(&self) -> Option<f64> {
        (self.evaluated > 0).then(|| self.funded as f64 / self.evaluated as f64)
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Year of the call's deadline (else of the proposal's creation).
    pub year: i64,
    /// The programme.
    pub programme: Programme,
    /// ISTAT code and name of the Comune; none for proposals without Comuni.
    pub comune: Option<(String, String)>,
    /// Its sums.
    pub sums: Sums,
}

/// A report: lines by year (newest first), programme and Comune, and the totals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The lines.
    pub lines: Vec<Line>,
    /// Every proposal once.
    pub totals: Sums,
    /// The totals by year, newest first.
    pub by_year: Vec<(i64, Sums)>,
}

impl Report {
    /// Reads the SAPE tables.
    pub fn read(conn: &Connection) -> rusqlite::Result<Report> {
        let proposals = store::national_sources(conn, None)?;
        let mut comuni: BTreeMap<i64, Vec<(String, String)>> = BTreeMap::new();
        for (id, code, name) in store::proposal_comuni(conn)? {
            comuni.entry(id).or_default().push((code, name));
        }
        Ok(Report::from_proposals(&proposals, &comuni))
    }

    /// Adds up `proposals`, each counted for each of its `comuni`.
    pub fn from_proposals(
        proposals: &[ProposalSource],
        comuni: &BTreeMap<i64, Vec<(String, String)>>,
    ) -> Report {
        // Comuni by code, then the line without a Comune.
        type Key = (
            std::cmp::Reverse<i64>,
            &'static str,
            bool,
            Option<(String, String)>,
        );
        let mut lines: BTreeMap<Key, (Programme, Sums)> = BTreeMap::new();
        let mut by_year: BTreeMap<std::cmp::Reverse<i64>, Sums> = BTreeMap::new();
        let mut totals = Sums::default();
        for proposal in proposals {
            let programme = Programme::parse(&proposal.programme).unwrap_or(Programme::Other);
            let year = std::cmp::Reverse(proposal.year);
            let theirs = comuni.get(&proposal.id).cloned().unwrap_or_default();
            let places: Vec<Option<(String, String)>> = if theirs.is_empty() {
                vec![None]
            } else {
                theirs.into_iter().map(Some).collect()
            };
            for place in places {
                lines
                    .entry((year, programme.label(), place.is_none(), place))
                    .or_insert_with(|| (programme, Sums::default()))
                    .1
                    .add(proposal);
            }
            by_year.entry(year).or_default().add(proposal);
            totals.add(proposal);
        }
        Report {
            lines: lines
                .into_iter()
                .map(|((year, _, _, comune), (programme, sums))| Line {
                    year: year.0,
                    programme,
                    comune,
                    sums,
                })
                .collect(),
            totals,
            by_year: by_year.into_iter().map(|(y, s)| (y.0, s)).collect(),
        }
    }

    /// The report as CSV for people's spreadsheets: Italian headers, amounts in euro with two
    /// decimals (a comma with `;`, whose file starts with the BOM Excel needs), the success
    /// rate in percent with one decimal. Cells go through `pico_service::csv`.
    pub fn to_csv(&self, separator: Separator) -> Result<Vec<u8>, AppError> {
        let mut writer = CsvWriter::new(separator, separator == Separator::Semicolon);
        let internal = |err: csv::Error| AppError::Internal(err.to_string());
        writer
            .write([
                "Anno",
                "Programma",
                "Codice ISTAT Comune",
                "Comune",
                "Proposte",
                "Presentate",
                "Valutate",
                "Finanziate",
                "Tasso di successo (%)",
                "Contributo UE richiesto (euro)",
                "Contributo UE ottenuto (euro)",
                "Cofinanziamento dei partner (euro)",
            ])
            .map_err(internal)?;
        for line in &self.lines {
            let (code, name) = line
                .comune
                .clone()
                .unwrap_or_else(|| (String::new(), "(nessun Comune)".to_owned()));
            let s = &line.sums;
            writer
                .write([
                    line.year.to_string(),
                    line.programme.label().to_owned(),
                    code,
                    name,
                    s.proposals.to_string(),
                    s.submitted.to_string(),
                    s.evaluated.to_string(),
                    s.funded.to_string(),
                    separator.decimal(
                        &s.success_rate()
                            .map(|r| format!("{:.1}", r * 100.0))
                            .unwrap_or_default(),
                    ),
                    separator.decimal(&crate::sape::ops::decimal(s.requested_cents)),
                    separator.decimal(&crate::sape::ops::decimal(s.obtained_cents)),
                    separator.decimal(&crate::sape::ops::decimal(s.cofinancing_cents)),
                ])
                .map_err(internal)?;
        }
        writer.finish().map_err(internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sape::national::PartnerSource;
    use crate::sape::{BudgetInput, PersonnelUnit};

    fn proposal(id: i64, year: i64, state: ProposalState, other_costs: i64) -> ProposalSource {
        ProposalSource {
            id,
            call_identifier: "C".into(),
            topic_identifier: "T".into(),
            programme: "life".into(),
            call_title: "Call".into(),
            acronym: "A".into(),
            title: "T".into(),
            state,
            province_role: "partner".into(),
            year,
            partners: vec![PartnerSource {
                name: "Comune".into(),
                country: "IT".into(),
                pic: None,
                role: "beneficiary".into(),
                comune: None,
                obtained: None,
                budget: BudgetInput {
                    personnel_unit: PersonnelUnit::Month,
                    personnel_quantity: 0,
                    personnel_rate: 0,
                    subcontracting: 0,
                    travel: 0,
                    equipment: 0,
                    other_goods: 0,
                    other_costs,
                    funding_rate: 100,
                },
            }],
        }
    }

    #[test]
    fn lines_per_comune_totals_once() {
        // D = 800,00 € → E = 200,00 €, EU at 100 % = 1.000,00 €.
        let proposals = vec![
            proposal(1, 2024, ProposalState::Funded, 80_000),
            proposal(2, 2024, ProposalState::NotFunded, 80_000),
            proposal(3, 2025, ProposalState::InPreparation, 80_000),
        ];
        let mut comuni = BTreeMap::new();
        comuni.insert(
            1,
            vec![
                ("026001".to_owned(), "Altivole".to_owned()),
                ("026086".to_owned(), "Treviso".to_owned()),
            ],
        );
        let report = Report::from_proposals(&proposals, &comuni);
        assert_eq!(report.totals.proposals, 3);
        assert_eq!(report.totals.submitted, 2);
        assert_eq!(report.totals.evaluated, 2);
        assert_eq!(report.totals.funded, 1);
        assert_eq!(report.totals.success_rate(), Some(0.5));
        assert_eq!(report.totals.requested_cents, 300_000);
        assert_eq!(report.totals.obtained_cents, 100_000);
        // 2025 first; in 2024 Altivole, Treviso and the line without Comune.
        assert_eq!(report.lines.len(), 4);
        assert_eq!(report.lines[0].year, 2025);
        assert_eq!(report.by_year[0].0, 2025);
        let csv =
            String::from_utf8(report.to_csv(Separator::Semicolon).expect("csv")).expect("utf8");
        assert!(csv.starts_with('\u{feff}'), "BOM");
        assert!(
            csv.contains("2024;LIFE;026086;Treviso;1;1;1;1;100,0;1000,00;1000,00"),
            "{csv}"
        );
        assert!(
            csv.contains("2024;LIFE;;(nessun Comune);1;1;1;0;0,0;1000,00;0,00"),
            "{csv}"
        );
    }
}
