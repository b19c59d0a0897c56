//! The ISTAT resident population of every Comune (1 January 2025 and 2026, `node/data`,
//! provenance in its `PROVENANCE.md`), embedded in the binary, and the fees and thresholds it
//! sets: the yearly fee per inhabitant of a service, who is under a population threshold.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use crate::sit::CostModel;

/// The file as ISTAT's figures were copied: `codice_comune,COD_PROV,anno,popolazione`.
const FILE: &str = include_str!("../../data/istat_popolazione_residente_comuni_2025_2026.csv");

/// A Comune's resident population on 1 January of `year`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Residents {
    /// The year of the count.
    pub year: u16,
    /// Residents.
    pub count: u64,
}

/// The latest count of every Comune, by code (read once).
static LATEST: LazyLock<BTreeMap<&'static str, Residents>> = LazyLock::new(|| {
    let mut latest: BTreeMap<&'static str, Residents> = BTreeMap::new();
    for line in FILE.lines().skip(1) {
        let mut cells = line.trim_end_matches('\r').split(',');
        let (Some(code), Some(_), Some(year), Some(count)) =
            (cells.next(), cells.next(), cells.next(), cells.next())
        else {
            continue;
        };
        let (Ok(year), Ok(count)) = (year.parse::<u16>(), count.parse::<u64>()) else {
            continue;
        };
        let entry = latest.entry(code).or_insert(Residents { year, count });
        if year > entry.year {
            *entry = Residents { year, count };
        }
    }
    latest
});

/// The latest resident population of Comune `code`, if ISTAT counts it.
pub fn residents(code: &str) -> Option<Residents> {
    LATEST.get(code).copied()
}

/// A Comune's yearly fee for a service, in cents: none when free, the fee when fixed, the fee
/// times the residents when per inhabitant (`None` if the Comune has no ISTAT count).
pub fn yearly_fee(model: CostModel, fee_cents: i64, comune: &str) -> Option<i64> {
    match model {
        CostModel::Free => Some(0),
        CostModel::Fixed => Some(fee_cents),
        CostModel::PerInhabitant => residents(comune).map(|residents| {
            i64::try_from(residents.count)
                .unwrap_or(i64::MAX)
                .saturating_mul(fee_cents)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_year_is_read() {
        // Read by hand from the file: Treviso 85,652 (2025) and 86,113 (2026).
        assert_eq!(
            residents("026086"),
            Some(Residents {
                year: 2026,
                count: 86_113
            })
        );
        assert_eq!(residents("999999"), None);
        assert_eq!(LATEST.len(), 7_896);
    }

    #[test]
    fn fees_follow_the_model() {
        assert_eq!(yearly_fee(CostModel::Free, 500, "026086"), Some(0));
        assert_eq!(
            yearly_fee(CostModel::Fixed, 150_000, "026086"),
            Some(150_000)
        );
        // Altivole: 7,088 residents × 0,15 € = 1.063,20 €.
        assert_eq!(
            yearly_fee(CostModel::PerInhabitant, 15, "026001"),
            Some(106_320)
        );
        assert_eq!(yearly_fee(CostModel::PerInhabitant, 15, "999999"), None);
    }
}
