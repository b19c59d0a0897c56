//! Dates, numbers and money the Italian way, for the hub's pages: dates `dd/mm/yyyy` and
//! times in Europe/Rome (from a real time-zone database, so summer time is right), numbers
//! with `.` between thousands and `,` before decimals, euro as `€ 1.234,56`.
//!
//! The API keeps RFC 3339 UTC and decimal points; only what people read goes through here.
//!
//! Note for the lead: `service/src/format.rs` (shared with the node's pages) is being
//! written at the same time; when it lands, these functions fold into it.

use std::sync::LazyLock;

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// Europe/Rome from the system's zoneinfo, or from the copy compiled into the binary
/// (`tzdb-bundle-always`) on a server without one.
static ROME: LazyLock<TimeZone> =
    LazyLock::new(|| TimeZone::get("Europe/Rome").unwrap_or(TimeZone::UTC));

/// `2025-03-30T00:30:00Z` → `30/03/2025`; text that is not an RFC 3339 instant is returned
/// as it is (the API never stores one, but a page must not fail on it).
pub fn date(rfc3339: &str) -> String {
    match rfc3339.parse::<Timestamp>() {
        Ok(at) => at.to_zoned(ROME.clone()).strftime("%d/%m/%Y").to_string(),
        Err(_) => rfc3339.to_owned(),
    }
}

/// `2025-03-30T00:30:00Z` → `30/03/2025 alle 01:30` (Europe/Rome).
pub fn date_time(rfc3339: &str) -> String {
    match rfc3339.parse::<Timestamp>() {
        Ok(at) => at_rome(at),
        Err(_) => rfc3339.to_owned(),
    }
}

/// Unix seconds → `30/03/2025 alle 01:30` (Europe/Rome).
pub fn unix_date_time(seconds: i64) -> String {
    Timestamp::from_second(seconds).map_or_else(|_| seconds.to_string(), at_rome)
}

fn at_rome(at: Timestamp) -> String {
    at.to_zoned(ROME.clone())
        .strftime("%d/%m/%Y alle %H:%M")
        .to_string()
}

/// A calendar date `2025-03-14` → `14/03/2025`; anything else as it is.
pub fn civil_date(iso: &str) -> String {
    match iso.parse::<jiff::civil::Date>() {
        Ok(day) => day.strftime("%d/%m/%Y").to_string(),
        Err(_) => iso.to_owned(),
    }
}

const MONTHS: [&str; 12] = [
    "gennaio",
    "febbraio",
    "marzo",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "agosto",
    "settembre",
    "ottobre",
    "novembre",
    "dicembre",
];

/// A month `2025-03` → `marzo 2025`; anything else as it is.
pub fn month(year_month: &str) -> String {
    let parsed = year_month.split_once('-').and_then(|(year, month)| {
        let month: usize = month.parse().ok()?;
        (year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()))
            .then_some(())
            .and(MONTHS.get(month.checked_sub(1)?))
            .map(|name| format!("{name} {year}"))
    });
    parsed.unwrap_or_else(|| year_month.to_owned())
}

/// Groups digits by thousands the Italian way (`1234567` → `1.234.567`).
fn thousands(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// A whole number: `1234` → `1.234`.
pub fn count(n: u64) -> String {
    thousands(&n.to_string())
}

/// A decimal text (`1234.5`, `-3.250`) in Italian notation (`1.234,5`, `-3,250`).
pub fn decimal(text: &str) -> String {
    let (sign, body) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text),
    };
    match body.split_once('.') {
        Some((int, frac)) => format!("{sign}{},{frac}", thousands(int)),
        None => format!("{sign}{}", thousands(body)),
    }
}

/// Euro from decimal text: `1234.5` → `€ 1.234,5`.
pub fn euro(text: &str) -> String {
    format!("€ {}", decimal(text))
}

/// A percentage with `digits` decimals: `part / whole` → `9,1 %`; `—` when `whole` is 0.
pub fn share(part: u64, whole: u64, digits: usize) -> String {
    if whole == 0 {
        return "—".to_owned();
    }
    let value = part as f64 * 100.0 / whole as f64;
    format!("{} %", decimal(&format!("{value:.digits$}")))
}

/// A file size: `2048` → `2 kB`, `1572864` → `1,5 MB` (decimal units, one decimal).
pub fn bytes(n: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1_000_000_000, "GB"), (1_000_000, "MB"), (1_000, "kB")];
    for (size, unit) in UNITS {
        if n >= size {
            let tenths = (n * 10 + size / 2) / size;
            let text = if tenths.is_multiple_of(10) {
                format!("{}", tenths / 10)
            } else {
                format!("{}.{}", tenths / 10, tenths % 10)
            };
            return format!("{} {unit}", decimal(&text));
        }
    }
    format!("{n} byte")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_italian_in_rome_time() {
        // Winter (UTC+1) and summer (UTC+2), and the night the clocks change.
        assert_eq!(date_time("2025-01-15T10:00:00Z"), "15/01/2025 alle 11:00");
        assert_eq!(date_time("2025-07-15T10:00:00Z"), "15/07/2025 alle 12:00");
        assert_eq!(date_time("2025-03-30T00:30:00Z"), "30/03/2025 alle 01:30");
        assert_eq!(date_time("2025-03-30T01:30:00Z"), "30/03/2025 alle 03:30");
        assert_eq!(date("2025-12-31T23:30:00Z"), "01/01/2026");
        assert_eq!(unix_date_time(0), "01/01/1970 alle 01:00");
        assert_eq!(civil_date("2025-03-14"), "14/03/2025");
        assert_eq!(month("2025-03"), "marzo 2025");
        assert_eq!(month(""), "");
        assert_eq!(month("2025-13"), "2025-13");
        assert_eq!(date("non una data"), "non una data");
    }

    #[test]
    fn numbers_are_italian() {
        assert_eq!(decimal("1234567.89"), "1.234.567,89");
        assert_eq!(decimal("-3.250"), "-3,250");
        assert_eq!(decimal("12"), "12");
        assert_eq!(euro("0.00"), "€ 0,00");
        assert_eq!(count(1_234), "1.234");
        assert_eq!(count(86), "86");
        assert_eq!(share(1, 11, 0), "9 %");
        assert_eq!(share(2, 3, 1), "66,7 %");
        assert_eq!(share(0, 0, 0), "—");
        assert_eq!(bytes(512), "512 byte");
        assert_eq!(bytes(2_048), "2 kB");
        assert_eq!(bytes(1_572_864), "1,6 MB");
    }
}
