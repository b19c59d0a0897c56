//! The iCalendar feed (RFC 5545) of the deadlines a Comune follows: one all-day `VEVENT` per
//! deadline, with a UID that stays the same across re-imports and edits (the call's id and
//! the deadline's place), text escaped (§3.3.11) and lines folded at 75 octets without
//! splitting a character (§3.1), every line ending in CRLF.

use std::fmt::Write as _;

use crate::sape::db::FeedDeadline;

/// The feed's media type.
pub const CONTENT_TYPE: &str = "text/calendar; charset=utf-8";

/// Escapes a TEXT value: backslash, semicolon, comma and newlines.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            // Other control characters are not allowed in TEXT.
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends `line` folded at 75 octets: continuation lines start with one space (which counts
/// in their 75), and a character is never split.
pub fn push_folded(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

/// `YYYY-MM-DD` as `YYYYMMDD`.
fn basic_date(day: &str) -> String {
    day.replace('-', "")
}

/// The day after `day` (`YYYY-MM-DD`), for the exclusive end of an all-day event.
fn next_day(day: &str) -> String {
    crate::sape::Day::parse(day)
        .ok()
        .and_then(|d| d.date().next_day())
        .map_or_else(|| day.to_owned(), |d| crate::sape::Day::from(d).iso())
}

/// Unix seconds as a UTC DATE-TIME (`20240711T083000Z`).
fn utc_stamp(unix: i64) -> String {
    let text = crate::db::rfc3339(unix);
    // `2024-07-11T08:30:00Z` → `20240711T083000Z`.
    text.replace(['-', ':'], "")
}

/// The calendar of `deadlines` for Comune `comune_name` of Province `province` (its code
/// makes UIDs unique across nodes).
pub fn calendar(province: &str, comune_name: &str, deadlines: &[FeedDeadline]) -> String {
    let mut out = String::new();
    for line in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Pi.Co.//SAPE bandi europei//IT",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ] {
        push_folded(&mut out, line);
    }
    push_folded(
        &mut out,
        &format!(
            "X-WR-CALNAME:{}",
            escape_text(&format!("Scadenze dei bandi seguiti — {comune_name}"))
        ),
    );
    for d in deadlines {
        push_folded(&mut out, "BEGIN:VEVENT");
        push_folded(
            &mut out,
            &format!("UID:sape-{province}-{}-{}@pico", d.call_id, d.ordinal),
        );
        push_folded(&mut out, &format!("DTSTAMP:{}", utc_stamp(d.updated_at)));
        push_folded(
            &mut out,
            &format!("DTSTART;VALUE=DATE:{}", basic_date(&d.deadline)),
        );
        push_folded(
            &mut out,
            &format!("DTEND;VALUE=DATE:{}", basic_date(&next_day(&d.deadline))),
        );
        push_folded(
            &mut out,
            &format!(
                "SUMMARY:{}",
                escape_text(&format!(
                    "{}: {} — {}",
                    d.stage.label(),
                    d.identifier,
                    d.title
                ))
            ),
        );
        let mut description = format!("Bando {}.", d.identifier);
        if !d.url.is_empty() {
            let _ = write!(description, "\nScheda: {}", d.url);
        }
        push_folded(
            &mut out,
            &format!("DESCRIPTION:{}", escape_text(&description)),
        );
        if !d.url.is_empty() && !d.url.contains(['\r', '\n', '"']) {
            push_folded(&mut out, &format!("URL:{}", d.url));
        }
        push_folded(&mut out, "TRANSP:TRANSPARENT");
        push_folded(&mut out, "END:VEVENT");
    }
    push_folded(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text() {
        assert_eq!(escape_text("a,b;c\\d\ne\r\nf"), "a\\,b\\;c\\\\d\\ne\\nf");
    }

    #[test]
    fn folds_at_75_octets_without_splitting_characters() {
        let mut out = String::new();
        let line = format!("SUMMARY:{}", "è".repeat(60));
        push_folded(&mut out, &line);
        for physical in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(physical.len() <= 75, "{} octets", physical.len());
        }
        let unfolded = out.trim_end_matches("\r\n").replace("\r\n ", "");
        assert_eq!(unfolded, line);
    }

    #[test]
    fn all_day_events_end_the_next_day() {
        assert_eq!(next_day("2024-12-31"), "2025-01-01");
        assert_eq!(basic_date("2024-02-29"), "20240229");
        assert_eq!(utc_stamp(1_720_686_600), "20240711T083000Z");
    }
}
