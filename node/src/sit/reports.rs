//! The SIT's reports: coverage of the national platforms across the Province's Comuni (share
//! of Comuni and of residents), and subscriptions per service. Computed from the stored rows
//! and the ISTAT population, each figure with the counts it comes from.

use serde::Serialize;

use crate::sit::Platform;
use crate::sit::db::PlatformRow;

/// How far one platform reaches across the Province.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CoverageRow {
    /// The platform.
    pub platform: Platform,
    /// Comuni using it.
    pub comuni: u64,
    /// Comuni of the Province.
    pub comuni_total: u64,
    /// Residents of the Comuni using it (ISTAT, latest count).
    pub residents: u64,
    /// Residents of the Province.
    pub residents_total: u64,
    /// Share of Comuni, in tenths of a percent (rounded half up).
    pub comuni_permille: u64,
    /// Share of residents, in tenths of a percent (rounded half up).
    pub residents_permille: u64,
}

/// `part / whole` in thousandths, rounded half up (0 when `whole` is 0).
pub fn permille(part: u64, whole: u64) -> u64 {
    if whole == 0 {
        return 0;
    }
    (part * 2000 + whole) / (whole * 2)
}

/// The coverage of every platform over `comuni` (code and residents), given the platforms in
/// use (rows of Comuni outside `comuni` are ignored).
pub fn coverage(comuni: &[(String, u64)], platforms: &[PlatformRow]) -> Vec<CoverageRow> {
    let comuni_total = comuni.len() as u64;
    let residents_total: u64 = comuni.iter().map(|(_, residents)| residents).sum();
    Platform::ALL
        .iter()
        .map(|platform| {
            let using: Vec<&(String, u64)> = comuni
                .iter()
                .filter(|(code, _)| {
                    platforms
                        .iter()
                        .any(|row| row.platform == *platform && row.comune_code == *code)
                })
                .collect();
            let count = using.len() as u64;
            let residents: u64 = using.iter().map(|(_, residents)| residents).sum();
            CoverageRow {
                platform: *platform,
                comuni: count,
                comuni_total,
                residents,
                residents_total,
                comuni_permille: permille(count, comuni_total),
                residents_permille: permille(residents, residents_total),
            }
        })
        .collect()
}

/// Tenths of a percent as Italian text (`62,5 %`).
pub fn permille_text(value: u64) -> String {
    format!("{},{} %", value / 10, value % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uses(comune: &str, platform: Platform) -> PlatformRow {
        PlatformRow {
            comune_code: comune.into(),
            platform,
            since: "2024-01-01".into(),
        }
    }

    #[test]
    fn shares_of_comuni_and_residents() {
        let comuni = vec![
            ("026001".to_owned(), 7_088),
            ("026086".to_owned(), 86_113),
            ("026002".to_owned(), 2_000),
        ];
        let platforms = vec![
            uses("026086", Platform::Spid),
            uses("026001", Platform::Spid),
            uses("026086", Platform::PagoPa),
            uses("099999", Platform::PagoPa),
        ];
        let rows = coverage(&comuni, &platforms);
        let spid = rows.iter().find(|r| r.platform == Platform::Spid).unwrap();
        // 2 of 3 Comuni = 666.7‰ → 667; 93,201 of 95,201 residents = 979.0‰.
        assert_eq!((spid.comuni, spid.comuni_permille), (2, 667));
        assert_eq!((spid.residents, spid.residents_permille), (93_201, 979));
        let pagopa = rows
            .iter()
            .find(|r| r.platform == Platform::PagoPa)
            .unwrap();
        assert_eq!((pagopa.comuni, pagopa.residents), (1, 86_113));
        let cie = rows.iter().find(|r| r.platform == Platform::Cie).unwrap();
        assert_eq!((cie.comuni, cie.comuni_permille), (0, 0));
        assert_eq!(permille_text(667), "66,7 %");
    }
}
