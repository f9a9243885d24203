//! Event-time watermarks. Per input partition: the newest event time seen minus the allowed
//! lateness; an event older than its partition's watermark is late. The engine's clock is
//! the minimum over partitions, leaving out partitions idle (no record for `idle_timeout` of
//! wall time) so a quiet partition does not hold time back.

use std::collections::BTreeMap;

use crate::model::EventTime;

#[derive(Clone, Copy, Debug, Default)]
struct PartitionClock {
    max_event: Option<EventTime>,
    last_record_wall_ms: i64,
}

#[derive(Clone, Debug)]
pub struct Watermarks {
    lateness_ms: i64,
    idle_ms: i64,
    partitions: BTreeMap<i32, PartitionClock>,
}

impl Watermarks {
    pub fn new(lateness_ms: i64, idle_ms: i64) -> Self {
        Watermarks {
            lateness_ms,
            idle_ms,
            partitions: BTreeMap::new(),
        }
    }

    /// The watermark of one partition (`None` before its first event).
    pub fn of(&self, partition: i32) -> Option<EventTime> {
        self.max_event(partition)
            .map(|t| t.saturating_sub_ms(self.lateness_ms))
    }

    /// The newest event time seen on a partition.
    pub fn max_event(&self, partition: i32) -> Option<EventTime> {
        self.partitions.get(&partition).and_then(|c| c.max_event)
    }

    /// Notes that a record with event time `ts` was accepted on `partition`.
    pub fn observe(&mut self, partition: i32, ts: EventTime, wall_ms: i64) {
        let clock = self.partitions.entry(partition).or_default();
        clock.max_event = Some(clock.max_event.map_or(ts, |m| m.max(ts)));
        clock.last_record_wall_ms = wall_ms;
    }

    /// Notes that a partition delivered a record (any record), so it is not idle.
    pub fn touch(&mut self, partition: i32, wall_ms: i64) {
        self.partitions
            .entry(partition)
            .or_default()
            .last_record_wall_ms = wall_ms;
    }

    pub fn forget(&mut self, partition: i32) {
        self.partitions.remove(&partition);
    }

    /// The engine's event-time clock: the minimum watermark over the partitions that are not
    /// idle at wall time `wall_ms`; when all are idle, the maximum (time still moves on).
    pub fn global(&self, wall_ms: i64) -> Option<EventTime> {
        let marks = |active: bool| {
            self.partitions
                .values()
                .filter(move |c| !active || wall_ms - c.last_record_wall_ms <= self.idle_ms)
                .filter_map(|c| c.max_event)
                .map(|t| t.saturating_sub_ms(self.lateness_ms))
        };
        marks(true).min().or_else(|| marks(false).max())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_partition_does_not_hold_time_back() {
        let mut w = Watermarks::new(10_000, 30_000);
        w.observe(0, EventTime::from_millis(100_000), 0);
        w.observe(1, EventTime::from_millis(500_000), 0);
        assert_eq!(w.global(1_000), Some(EventTime::from_millis(90_000)));
        w.observe(1, EventTime::from_millis(600_000), 40_000);
        assert_eq!(w.global(40_000), Some(EventTime::from_millis(590_000)));
    }
}
