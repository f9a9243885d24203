//! Event time: milliseconds since the Unix epoch, UTC. On the wire a time is an RFC 3339
//! string or an integer of epoch milliseconds (both accepted); vigil always writes RFC 3339.

use std::fmt;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Prefix of the serde error raised for a time that cannot be parsed; `ingest` maps it to a
/// reason code, so it must stay stable.
pub const BAD_TIMESTAMP: &str = "bad timestamp";

/// A point in event time, in milliseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventTime(i64);

impl EventTime {
    pub const MIN: EventTime = EventTime(i64::MIN);

    pub const fn from_millis(ms: i64) -> Self {
        EventTime(ms)
    }

    pub const fn millis(self) -> i64 {
        self.0
    }

    /// Parses an RFC 3339 string (`2020-03-01T08:00:00Z`, `2020-03-01T16:00:00+08:00`).
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| EventTime(t.timestamp_millis()))
    }

    pub fn to_rfc3339(self) -> String {
        match DateTime::<Utc>::from_timestamp_millis(self.0) {
            Some(t) => t.to_rfc3339_opts(SecondsFormat::Millis, true),
            None => self.0.to_string(),
        }
    }

    /// Start of the UTC minute that holds this instant.
    pub const fn minute_floor(self) -> EventTime {
        EventTime(self.0.div_euclid(60_000) * 60_000)
    }

    pub const fn saturating_add_ms(self, ms: i64) -> EventTime {
        EventTime(self.0.saturating_add(ms))
    }

    pub const fn saturating_sub_ms(self, ms: i64) -> EventTime {
        EventTime(self.0.saturating_sub(ms))
    }
}

impl fmt::Display for EventTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for EventTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for EventTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(EventTimeVisitor)
    }
}

struct EventTimeVisitor;

/// What `to_rfc3339` writes for an instant no calendar date holds (`EventTime::MIN`, an
/// enterprise's "no event yet"), read back: a checkpoint must restore what it saved. Any
/// other number in a string is refused, as input times are.
fn beyond_calendar(text: &str) -> Option<EventTime> {
    let ms: i64 = text.parse().ok()?;
    DateTime::<Utc>::from_timestamp_millis(ms)
        .is_none()
        .then_some(EventTime(ms))
}

impl Visitor<'_> for EventTimeVisitor {
    type Value = EventTime;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an RFC 3339 time or epoch milliseconds")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<EventTime, E> {
        EventTime::parse_rfc3339(v)
            .or_else(|| beyond_calendar(v))
            .ok_or_else(|| E::custom(format_args!("{BAD_TIMESTAMP}: {v:?} is not RFC 3339")))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<EventTime, E> {
        Ok(EventTime(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<EventTime, E> {
        i64::try_from(v)
            .map(EventTime)
            .map_err(|_| E::custom(format_args!("{BAD_TIMESTAMP}: {v} ms is out of range")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<EventTime, E> {
        Err(E::custom(format_args!(
            "{BAD_TIMESTAMP}: {v} is not whole milliseconds"
        )))
    }
}

/// A calendar day (`YYYY-MM-DD`), used by the daily streams. Its event time is 00:00 UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventDate(pub NaiveDate);

impl EventDate {
    pub fn start(self) -> EventTime {
        EventTime(
            self.0
                .and_time(Default::default())
                .and_utc()
                .timestamp_millis(),
        )
    }
}

impl Serialize for EventDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0.format("%Y-%m-%d"))
    }
}

impl<'de> Deserialize<'de> for EventDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .map(EventDate)
            .map_err(|_| {
                de::Error::custom(format_args!("{BAD_TIMESTAMP}: {text:?} is not YYYY-MM-DD"))
            })
    }
}

/// The wall clock, in epoch milliseconds (live sources stamp records with it; leases are
/// renewed by it).
pub fn wall_clock_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_beyond_the_calendar_round_trip_and_other_numbers_in_strings_do_not() {
        for t in [EventTime::MIN, EventTime(i64::MAX)] {
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(serde_json::from_str::<EventTime>(&json).unwrap(), t);
        }
        assert!(serde_json::from_str::<EventTime>("\"1583020800000\"").is_err());
    }
}
