//! The hub's page formatting: the Italian formats of [`pico_service::format`] (shared with the
//! node's pages, so both write dates, money and percentages alike), applied to the shapes the
//! hub's data comes in — RFC 3339 text, `YYYY-MM` months, decimal strings, byte counts.
//!
//! The API keeps RFC 3339 UTC and decimal points; only what people read goes through here.

use jiff::Timestamp;
use pico_service::format as shared;

/// `2025-12-31T23:30:00Z` → `01/01/2026` (the day in Europe/Rome); text that is not an RFC
/// 3339 instant is returned as it is (a page must not fail on it).
pub fn date(rfc3339: &str) -> String {
    rfc3339.parse::<Timestamp>().map_or_else(
        |_| rfc3339.to_owned(),
        |at| shared::unix_date(at.as_second()),
    )
}

/// `2025-01-15T10:00:00Z` → `15/01/2025 11:00` (Europe/Rome).
pub fn date_time(rfc3339: &str) -> String {
    shared::rfc3339(rfc3339)
}

/// Unix seconds → `01/01/1970 01:00` (Europe/Rome).
pub fn unix_date_time(seconds: i64) -> String {
    shared::unix_time(seconds)
}

/// A calendar date `2025-03-14` → `14/03/2025`; anything else as it is.
pub fn civil_date(iso: &str) -> String {
    shared::iso_date(iso)
}

/// A month `2025-03` → `marzo 2025`; anything else as it is.
pub fn month(year_month: &str) -> String {
    let parsed = year_month.split_once('-').and_then(|(year, month)| {
        let year: i32 = (year.len() == 4).then(|| year.parse().ok()).flatten()?;
        let month: u32 = month.parse().ok().filter(|m| (1..=12).contains(m))?;
        Some(shared::month(year, month))
    });
    parsed.unwrap_or_else(|| year_month.to_owned())
}

/// A whole number: `1234` → `1.234`.
pub fn count(n: u64) -> String {
    shared::integer(i64::try_from(n).unwrap_or(i64::MAX))
}

/// A decimal text (`88.6`, as the API writes figures) in Italian notation with at most one
/// decimal (`88,6`); anything else as it is.
pub fn decimal(text: &str) -> String {
    text.parse::<f64>()
        .map_or_else(|_| text.to_owned(), |value| shared::decimal(value, 1))
}

/// A percentage from decimal text (`5.583`) with at most two decimals (`5,58%`); anything
/// else as it is.
pub fn percent(text: &str) -> String {
    text.parse::<f64>()
        .map_or_else(|_| text.to_owned(), shared::percent)
}

/// Euro from decimal text: `1234.5` → `1.234,50 €`.
pub fn euro(text: &str) -> String {
    shared::euro_decimal(text)
}

/// `part / whole` as a percentage with at most `digits` decimals (`9%`, `66,7%`); `—` when
/// `whole` is 0.
pub fn share(part: u64, whole: u64, digits: usize) -> String {
    if whole == 0 {
        return "—".to_owned();
    }
    let value = part as f64 * 100.0 / whole as f64;
    format!("{}%", shared::decimal(value, digits))
}

/// A file size: `2048` → `2 kB`, `1572864` → `1,6 MB` (decimal units, one decimal).
pub fn bytes(n: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1_000_000_000, "GB"), (1_000_000, "MB"), (1_000, "kB")];
    UNITS.iter().find(|(size, _)| n >= *size).map_or_else(
        || format!("{n} byte"),
        |(size, unit)| format!("{} {unit}", shared::decimal(n as f64 / *size as f64, 1)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_italian_in_rome_time() {
        // Winter (UTC+1) and summer (UTC+2), and the night the clocks change.
        assert_eq!(date_time("2025-01-15T10:00:00Z"), "15/01/2025 11:00");
        assert_eq!(date_time("2025-07-15T10:00:00Z"), "15/07/2025 12:00");
        assert_eq!(date_time("2025-03-30T00:30:00Z"), "30/03/2025 01:30");
        assert_eq!(date_time("2025-03-30T01:30:00Z"), "30/03/2025 03:30");
        assert_eq!(date("2025-12-31T23:30:00Z"), "01/01/2026");
        assert_eq!(unix_date_time(0), "01/01/1970 01:00");
        assert_eq!(civil_date("2025-03-14"), "14/03/2025");
        assert_eq!(month("2025-03"), "marzo 2025");
        assert_eq!(month(""), "");
        assert_eq!(month("2025-13"), "2025-13");
        assert_eq!(date("non una data"), "non una data");
    }

    #[test]
    fn numbers_are_italian() {
        assert_eq!(decimal("88.61"), "88,6");
        assert_eq!(decimal("1234567"), "1.234.567");
        assert_eq!(decimal("n/d"), "n/d");
        assert_eq!(percent("5.583"), "5,58%");
        assert_eq!(percent("50.00"), "50%");
        assert_eq!(euro("0.00"), "0,00\u{a0}€");
        assert_eq!(euro("435000.5"), "435.000,50\u{a0}€");
        assert_eq!(count(1_234), "1.234");
        assert_eq!(count(86), "86");
        assert_eq!(share(1, 11, 0), "9%");
        assert_eq!(share(2, 3, 1), "66,7%");
        assert_eq!(share(0, 0, 0), "—");
        assert_eq!(bytes(512), "512 byte");
        assert_eq!(bytes(2_048), "2 kB");
        assert_eq!(bytes(1_572_864), "1,6 MB");
    }
}
