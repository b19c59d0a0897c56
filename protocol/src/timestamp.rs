//! Timestamps on the wire: RFC 3339, UTC, whole seconds, `Z` suffix (`2026-11-26T19:31:11Z`).
//!
//! One spelling per instant keeps signed bytes reproducible. Timestamps are advisory: clock
//! skew between a node and the hub is reported, never a reason to refuse an entry.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::FormatItem;
use time::macros::format_description;

const WIRE_FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");

/// An instant in UTC with one-second precision.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// Why a text is not a wire timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "«{0}» non è una data e ora valida: serve il formato RFC 3339 in UTC con secondi interi, come 2026-11-26T19:31:11Z"
)]
pub struct BadTimestamp(pub String);

impl Timestamp {
    /// The current time, truncated to the second.
    pub fn now() -> Timestamp {
        Timestamp(OffsetDateTime::now_utc().unix_timestamp())
    }

    /// The instant `seconds` after the Unix epoch.
    pub fn from_unix(seconds: i64) -> Result<Timestamp, BadTimestamp> {
        OffsetDateTime::from_unix_timestamp(seconds)
            .map(|_| Timestamp(seconds))
            .map_err(|_| BadTimestamp(seconds.to_string()))
    }

    /// Seconds since the Unix epoch.
    pub fn unix(self) -> i64 {
        self.0
    }
}

impl FromStr for Timestamp {
    type Err = BadTimestamp;
    fn from_str(text: &str) -> Result<Self, BadTimestamp> {
        let bad = || BadTimestamp(text.chars().take(40).collect());
        if text.len() != 20 {
            return Err(bad());
        }
        let parsed = time::PrimitiveDateTime::parse(text, WIRE_FORMAT).map_err(|_| bad())?;
        Ok(Timestamp(parsed.assume_utc().unix_timestamp()))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let instant = OffsetDateTime::from_unix_timestamp(self.0).map_err(|_| fmt::Error)?;
        let text = instant.format(WIRE_FORMAT).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_spelling_per_instant() {
        let t: Timestamp = "2026-11-26T19:31:11Z".parse().unwrap();
        assert_eq!(t.to_string(), "2026-11-26T19:31:11Z");
        assert_eq!(Timestamp::from_unix(t.unix()).unwrap(), t);
        for bad in [
            "2026-11-26T19:31:11.5Z",
            "2026-11-26T19:31:11+01:00",
            "2026-11-26 19:31:11Z",
            "2026-02-30T00:00:00Z",
            "2026-11-26T19:31:11z",
        ] {
            assert!(bad.parse::<Timestamp>().is_err(), "{bad}");
        }
    }
}
