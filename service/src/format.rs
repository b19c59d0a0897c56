//! How pages write dates, times, numbers and money, the Italian way, for node and hub alike:
//! dates `31/03/2026`, times in Europe/Rome from the IANA time-zone database (`jiff`, with the
//! database bundled so a server without `/usr/share/zoneinfo` still shows Italian time),
//! months `marzo 2024`, `1.234.567`, `12,5%`, `1.234,56 €`. The API keeps RFC 3339 UTC and
//! plain decimals; only what a person reads goes through here.

use std::sync::LazyLock;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// The time zone of every time shown on a page.
static ROME: LazyLock<TimeZone> =
    LazyLock::new(|| TimeZone::get("Europe/Rome").unwrap_or(TimeZone::UTC));

/// Italian month names, January first.
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

/// A calendar date: `31/03/2026`.
pub fn date(date: Date) -> String {
    format!("{:02}/{:02}/{:04}", date.day(), date.month(), date.year())
}

/// A stored `YYYY-MM-DD` date (or the date part of an RFC 3339 instant) as `31/03/2026`; any
/// other text is returned as it is, so a page never hides what is stored.
pub fn iso_date(text: &str) -> String {
    text.get(..10)
        .and_then(|day| day.parse::<Date>().ok())
        .map_or_else(|| text.to_owned(), date)
}

/// Today's calendar day in Italy (Europe/Rome), as `(year, month, day)`: the day people mean
/// when a date is "today", which differs from UTC's around midnight.
pub fn today_in_italy() -> (i16, i8, i8) {
    let today = Timestamp::now().to_zoned(ROME.clone()).date();
    (today.year(), today.month(), today.day())
}

/// An instant in Unix seconds as Italian civil time: `31/03/2026 10:05`.
pub fn unix_time(seconds: i64) -> String {
    Timestamp::from_second(seconds).map_or_else(|_| seconds.to_string(), timestamp)
}

/// An instant in Unix seconds as its Italian calendar day: `31/03/2026`.
pub fn unix_date(seconds: i64) -> String {
    Timestamp::from_second(seconds).map_or_else(
        |_| seconds.to_string(),
        |at| date(at.to_zoned(ROME.clone()).date()),
    )
}

/// An RFC 3339 instant (as the API writes them) as Italian civil time: `31/03/2026 10:05`;
/// a bare `YYYY-MM-DD` as a date; anything else as it is.
pub fn rfc3339(text: &str) -> String {
    match text.parse::<Timestamp>() {
        Ok(at) => timestamp(at),
        Err(_) => iso_date(text),
    }
}

/// The UTC calendar day (`YYYY-MM-DD`) of an RFC 3339 instant, to compare with stored days
/// (the services count days in UTC, as `protocol/datasets/appalti.md` says).
pub fn rfc3339_day(text: &str) -> Option<String> {
    let at = text.parse::<Timestamp>().ok()?;
    Some(at.to_zoned(TimeZone::UTC).date().to_string())
}

/// An instant as Italian civil time: `31/03/2026 10:05`.
pub fn timestamp(at: Timestamp) -> String {
    let local = at.to_zoned(ROME.clone());
    format!(
        "{} {:02}:{:02}",
        date(local.date()),
        local.hour(),
        local.minute()
    )
}

/// A month of a year: `marzo 2024` (`month` 1–12; out of range, the numbers as they are).
pub fn month(year: i32, month: u32) -> String {
    match month
        .checked_sub(1)
        .and_then(|index| MONTHS.get(index as usize))
    {
        Some(name) => format!("{name} {year}"),
        None => format!("{month}/{year}"),
    }
}

/// The name of a month, 1–12: `marzo`.
pub fn month_name(month: u32) -> &'static str {
    month
        .checked_sub(1)
        .and_then(|index| MONTHS.get(index as usize))
        .copied()
        .unwrap_or("")
}

/// An integer with thousands grouped by dots: `1.234.567`.
pub fn integer(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if value < 0 {
        out.push('\u{2212}');
    }
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push('.');
        }
        out.push(digit);
    }
    out
}

/// A number with at most `decimals` decimals (trailing zeros dropped), Italian separators:
/// `1.234,5`. Not finite: a dash.
pub fn decimal(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return "\u{2013}".to_owned();
    }
    let fixed = format!("{:.*}", decimals, value.abs());
    let (int_part, frac_part) = fixed.split_once('.').unwrap_or((&fixed, ""));
    let frac_part = frac_part.trim_end_matches('0');
    let int_value: i64 = int_part.parse().unwrap_or(0);
    let negative = value < 0.0 && (int_value != 0 || !frac_part.is_empty());
    let mut out = integer(int_value);
    if negative {
        out.insert(0, '\u{2212}');
    }
    if !frac_part.is_empty() {
        out.push(',');
        out.push_str(frac_part);
    }
    out
}

/// A percentage with at most two decimals: `12,5%`.
pub fn percent(value: f64) -> String {
    if value.is_finite() {
        format!("{}%", decimal(value, 2))
    } else {
        "\u{2013}".to_owned()
    }
}

/// An amount in euro cents: `1.234,56 €`.
pub fn euro_cents(cents: i64) -> String {
    let sign = if cents < 0 { "\u{2212}" } else { "" };
    let abs = cents.unsigned_abs();
    let units = i64::try_from(abs / 100).unwrap_or(i64::MAX);
    format!("{sign}{},{:02}\u{a0}€", integer(units), abs % 100)
}

/// An amount written as a decimal string (`1234.5`, as the API sends money) as
/// `1.234,50 €`; anything else as it is.
pub fn euro_decimal(text: &str) -> String {
    let trimmed = text.trim();
    let (negative, digits) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
    let valid = !int_part.is_empty()
        && int_part.len() <= 15
        && frac_part.len() <= 2
        && int_part.bytes().all(|b| b.is_ascii_digit())
        && frac_part.bytes().all(|b| b.is_ascii_digit());
    if !valid {
        return text.to_owned();
    }
    let units: i64 = int_part.parse().unwrap_or(0);
    let cents: i64 = format!("{frac_part:0<2}").parse().unwrap_or(0);
    let total = units * 100 + cents;
    euro_cents(if negative { -total } else { total })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_day_month_year() {
        assert_eq!(iso_date("2026-03-31"), "31/03/2026");
        assert_eq!(iso_date("2026-03-31T23:30:00Z"), "31/03/2026");
        assert_eq!(iso_date("non una data"), "non una data");
        assert_eq!(month(2024, 3), "marzo 2024");
        assert_eq!(month(2024, 13), "13/2024");
    }

    #[test]
    fn times_are_rome_time_with_daylight_saving() {
        // Winter: UTC+1. Summer: UTC+2 (a fixed offset would get one of them wrong).
        assert_eq!(rfc3339("2026-01-15T09:05:00Z"), "15/01/2026 10:05");
        assert_eq!(rfc3339("2026-07-15T09:05:00Z"), "15/07/2026 11:05");
        // Late in the evening UTC is already the next day in Rome.
        assert_eq!(rfc3339("2026-12-31T23:30:00Z"), "01/01/2027 00:30");
        assert_eq!(unix_time(1_767_225_600), "01/01/2026 01:00");
        assert_eq!(unix_date(1_767_222_000), "01/01/2026");
    }

    #[test]
    fn numbers_and_money_the_italian_way() {
        assert_eq!(integer(0), "0");
        assert_eq!(integer(999), "999");
        assert_eq!(integer(1_234_567), "1.234.567");
        assert_eq!(integer(-1_000), "\u{2212}1.000");
        assert_eq!(decimal(88.612_345, 1), "88,6");
        assert_eq!(decimal(2.0, 2), "2");
        assert_eq!(percent(12.345_678), "12,35%");
        assert_eq!(percent(12.5), "12,5%");
        assert_eq!(percent(f64::NAN), "\u{2013}");
        assert_eq!(euro_cents(123_456), "1.234,56\u{a0}€");
        assert_eq!(euro_cents(5), "0,05\u{a0}€");
        assert_eq!(euro_decimal("150000.5"), "150.000,50\u{a0}€");
        assert_eq!(euro_decimal("1234"), "1.234,00\u{a0}€");
        assert_eq!(euro_decimal("abc"), "abc");
    }
}
