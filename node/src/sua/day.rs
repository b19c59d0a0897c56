//! Calendar dates of the SUA workflow (publication, deadline, award, contract…), stored and
//! sent as `YYYY-MM-DD` text: in that form their text order is their time order, so SQL and
//! Rust compare them as strings.

use std::fmt;

/// A valid calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(time::Date);

impl Day {
    /// Parses `YYYY-MM-DD` (what HTML date inputs send), also accepting the Italian
    /// `DD/MM/YYYY`.
    pub fn parse(text: &str) -> Result<Day, String> {
        let text = text.trim();
        let bad = || {
            format!("{text:?} non è una data valida: scrivetela come 2026-03-31 (anno-mese-giorno)")
        };
        let parts: Vec<&str> = if text.contains('/') {
            text.split('/').rev().collect()
        } else {
            text.split('-').collect()
        };
        let [year, month, day] = parts.as_slice() else {
            return Err(bad());
        };
        if year.len() != 4 || month.is_empty() || month.len() > 2 || day.is_empty() || day.len() > 2
        {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        let month: u8 = month.parse().map_err(|_| bad())?;
        let day: u8 = day.parse().map_err(|_| bad())?;
        let month = time::Month::try_from(month).map_err(|_| bad())?;
        if !(1900..=2200).contains(&year) {
            return Err(bad());
        }
        time::Date::from_calendar_date(year, month, day)
            .map(Day)
            .map_err(|_| bad())
    }

    /// The calendar date.
    pub fn date(self) -> time::Date {
        self.0
    }

    /// Today in Italy (Europe/Rome), not UTC's day: a date "in the future" or a call "closed
    /// today" is judged as a person in Italy reads the calendar.
    pub fn today() -> Day {
        let (year, month, day) = pico_service::format::today_in_italy();
        time::Month::try_from(u8::try_from(month).unwrap_or(1))
            .ok()
            .and_then(|month| {
                time::Date::from_calendar_date(i32::from(year), month, u8::try_from(day).ok()?).ok()
            })
            .map_or_else(|| Day(time::OffsetDateTime::now_utc().date()), Day)
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.0.year()
    }

    /// The `YYYY-MM-DD` form.
    pub fn iso(self) -> String {
        format!(
            "{:04}-{:02}-{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }

    /// The Italian form shown on pages (`31/03/2026`).
    pub fn italian(self) -> String {
        format!(
            "{:02}/{:02}/{:04}",
            self.0.day(),
            u8::from(self.0.month()),
            self.0.year()
        )
    }
}

impl From<time::Date> for Day {
    fn from(date: time::Date) -> Day {
        Day(date)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.iso())
    }
}

/// The Italian form of a stored `YYYY-MM-DD` date, or the text as it is if it is not one.
pub fn italian(stored: &str) -> String {
    Day::parse(stored).map_or_else(|_| stored.to_owned(), Day::italian)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_iso_and_italian() {
        assert_eq!(
            Day::parse("2026-03-31").map(Day::iso),
            Ok("2026-03-31".into())
        );
        assert_eq!(
            Day::parse("31/03/2026").map(Day::iso),
            Ok("2026-03-31".into())
        );
        assert_eq!(
            Day::parse("2026-3-1").map(Day::iso),
            Ok("2026-03-01".into())
        );
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "26-03-31",
            "2026/03/31x",
            "",
            "oggi",
            "0001-01-01",
        ] {
            assert!(Day::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(italian("2026-03-31"), "31/03/2026");
        assert!(Day::parse("2026-01-31") < Day::parse("2026-02-01"));
    }
}
