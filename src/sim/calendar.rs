//! The sites' calendar: China Standard Time, local days and weekdays, the clock's grid for
//! periodic reports, and when the day's staffing snapshot is taken.

use crate::model::EventTime;

/// China Standard Time, the sites' zone (no daylight saving).
pub const UTC_OFFSET_MS: i64 = 8 * 3_600_000;
pub const DAY_MS: i64 = 86_400_000;

/// Monday to Friday, local, for the local day beginning at `day` (1970-01-01 was a Thursday).
pub fn is_weekday(day: EventTime) -> bool {
    let days = (day.millis() + DAY_MS / 2).div_euclid(DAY_MS);
    !matches!((days + 3).rem_euclid(7), 5 | 6)
}

/// The first multiple of `every_ms` (since the epoch) at or after `start`: periodic reports
/// fall on the clock's grid.
pub fn first_on_grid(start: EventTime, every_ms: i64) -> i64 {
    let first = start.millis().div_euclid(every_ms) * every_ms;
    if first < start.millis() {
        first + every_ms
    } else {
        first
    }
}

/// The UTC instant at which the local day holding `t` began.
pub fn local_day_start(t: EventTime) -> EventTime {
    let local = t.millis() + UTC_OFFSET_MS;
    EventTime::from_millis(local.div_euclid(DAY_MS) * DAY_MS - UTC_OFFSET_MS)
}

/// The local date (`YYYY-MM-DD`) of the local day starting at `day`.
pub fn local_date(day: EventTime) -> String {
    chrono::DateTime::from_timestamp_millis(day.millis() + UTC_OFFSET_MS)
        .map(|d| d.date_naive().to_string())
        .unwrap_or_default()
}

/// When the day's staffing snapshot is filed: 08:00 local, as the day shift starts, which is
/// the start of its validity (the date's 00:00 UTC). A snapshot filed after its validity has
/// started takes effect when it arrives, which a replay and a backlog read from Kafka cannot
/// agree on (README, Event time).
pub const STAFFING_AT_MS: i64 = 8 * 60 * 60_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekdays_are_monday_to_friday() {
        let monday = local_day_start(EventTime::parse_rfc3339("2026-01-05T02:00:00Z").unwrap());
        let days: Vec<bool> = (0..7)
            .map(|d| is_weekday(monday.saturating_add_ms(d * DAY_MS)))
            .collect();
        assert_eq!(days, [true, true, true, true, true, false, false]);
    }
}
