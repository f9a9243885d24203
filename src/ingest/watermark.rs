//! Event-time watermarks.
//!
//! - **Lateness** is judged per (topic, partition): a record is late when it is older than the
//!   robust newest time of *its own topic* on its partition minus the allowed lateness. So
//!   readings fetched ahead after a restart do not make that partition's alarms late.
//! - **The partition clock** is the robust newest time over all the partition's topics (see
//!   `frontier`): one enterprise with a fast clock or one backdated record moves neither.
//! - **The engine clock** is the minimum of the partition clocks (minus the lateness), as
//!   Flink aligns watermarks: a partition behind holds it back, so no tick runs before the
//!   records it covers are in, whatever order the broker delivers partitions in. A partition
//!   assigned but not heard from yet holds it back too (`expect`). Live input only (a wall
//!   clock is given), a partition idle for `idle_timeout` of wall time stops holding it back;
//!   when every partition is idle, the most advanced one sets the clock. A partition running
//!   ahead is paused at its source (`ingest.max_drift`), not left out.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{EventTime, Topic};

use super::frontier::Frontier;

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PartitionClock {
    frontier: Frontier,
    topics: BTreeMap<Topic, Frontier>,
    max_event: Option<EventTime>,
    /// The earliest event time accepted: where the engine's first tick starts (`origin`).
    #[serde(default)]
    first: Option<EventTime>,
    #[serde(skip)]
    last_accept_wall_ms: i64,
    /// When each topic of the partition last had a record accepted (reading time).
    #[serde(skip)]
    topic_accept_wall_ms: BTreeMap<Topic, i64>,
}

#[derive(Clone, Debug)]
pub struct Watermarks {
    lateness_ms: i64,
    idle_ms: i64,
    partitions: BTreeMap<i32, PartitionClock>,
    /// Live: what the source knows of its streams (`set_streams`); `None` in replay.
    streams: Option<Streams>,
}

/// A stream read to its end stops holding the clock after this much quiet reading time (the
/// end known is that of the newest fetch response: records produced since are on their way).
const CAUGHT_UP_QUIET_MS: i64 = 1_000;

/// The input topic-partitions as the source knows them: read to their end, or with records
/// waiting beyond what was read.
#[derive(Clone, Debug, Default)]
pub struct Streams {
    pub caught_up: BTreeSet<(Topic, i32)>,
    pub backlogged: BTreeSet<(Topic, i32)>,
    /// The input topics subscribed to: a partition is known once every one of them is.
    pub topics: usize,
}

impl Streams {
    /// Whether the end of every topic of `partition` is known (a topic still paused while
    /// the registry is read first is not fetched from yet).
    fn knows(&self, partition: i32) -> bool {
        let of = |set: &BTreeSet<(Topic, i32)>| set.iter().filter(|(_, p)| *p == partition).count();
        of(&self.caught_up) + of(&self.backlogged) >= self.topics
    }
}

/// The engine clock and how the partitions take part in it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClockReport {
    pub now: Option<EventTime>,
    /// Topic-partitions the clock is the minimum of.
    pub active: usize,
    /// Topic-partitions left out: no accepted record for `idle_timeout` (live only).
    pub idle: usize,
    /// Partitions assigned, not heard from yet: the clock waits for them (until idle).
    pub waiting: usize,
}

impl Watermarks {
    pub fn new(lateness_ms: i64, idle_ms: i64) -> Self {
        Watermarks {
            lateness_ms,
            idle_ms,
            partitions: BTreeMap::new(),
            streams: None,
        }
    }

    /// What the source knows of its streams (live only): a stream with records waiting holds
    /// the clock even before its first record is read (a topic fetched later than the others
    /// of its partition, a dated topic that moves no watermark); a partition the source knows
    /// nothing of yet holds it too; a stream read to its end holds nothing back.
    pub fn set_streams(&mut self, streams: Streams) {
        self.streams = Some(streams);
    }

    /// Whether a stream stops holding the clock: never while records beyond what was read
    /// are known to wait (however slowly they come: a starved or paused reader is not an idle
    /// source); read to its end and quiet for a second, or for `idle_timeout` if shorter (a
    /// catch-up never stalls on a topic whose last record is early in the backlog); or quiet
    /// for `idle_timeout` of reading time when its end is not known.
    fn is_idle(&self, topic: Topic, partition: i32, quiet_ms: i64) -> bool {
        let known = |set: fn(&Streams) -> &BTreeSet<(Topic, i32)>| {
            self.streams
                .as_ref()
                .is_some_and(|s| set(s).contains(&(topic, partition)))
        };
        if known(|s| &s.backlogged) {
            return false;
        }
        quiet_ms > self.idle_ms
            || (quiet_ms > CAUGHT_UP_QUIET_MS.min(self.idle_ms) && known(|s| &s.caught_up))
    }

    /// A partition was assigned at wall time `wall_ms`: the clock waits for its first record
    /// (or for it to be idle).
    pub fn expect(&mut self, partition: i32, wall_ms: i64) {
        self.partitions
            .entry(partition)
            .or_insert_with(|| PartitionClock {
                last_accept_wall_ms: wall_ms,
                ..PartitionClock::default()
            });
    }

    /// The watermark of one partition's clock (`None` before its first event).
    pub fn of(&self, partition: i32) -> Option<EventTime> {
        let clock = self.partitions.get(&partition)?;
        Some(clock.frontier.newest()?.saturating_sub_ms(self.lateness_ms))
    }

    /// The watermark of each topic heard from on `partition`.
    pub fn topic_marks(&self, partition: i32) -> Vec<(Topic, EventTime)> {
        let Some(clock) = self.partitions.get(&partition) else {
            return Vec::new();
        };
        clock
            .topics
            .iter()
            .filter_map(|(topic, f)| {
                Some((*topic, f.newest()?.saturating_sub_ms(self.lateness_ms)))
            })
            .collect()
    }

    /// The newest event time accepted on a partition (the true maximum: where a replay ends).
    pub fn max_event(&self, partition: i32) -> Option<EventTime> {
        self.partitions.get(&partition).and_then(|c| c.max_event)
    }

    /// The watermark a record of `topic` at `ts` is late against, if it is late.
    pub fn late(&self, topic: Topic, partition: i32, ts: EventTime) -> Option<EventTime> {
        let frontier = self.partitions.get(&partition)?.topics.get(&topic)?;
        frontier.behind(ts, self.lateness_ms)
    }

    /// What the partition's other keys report, if a record of `key` at `ts` is more than
    /// `ahead_ms` past it (see `Frontier::reference_for`).
    pub fn too_far_ahead(
        &self,
        partition: i32,
        key: u64,
        ts: EventTime,
        ahead_ms: i64,
    ) -> Option<EventTime> {
        let frontier = &self.partitions.get(&partition)?.frontier;
        frontier.too_far_ahead(key, ts, ahead_ms)
    }

    /// A record of `topic` with key hash `key` and event time `ts` was accepted.
    pub fn observe(&mut self, topic: Topic, partition: i32, key: u64, ts: EventTime, wall_ms: i64) {
        let clock = self.partitions.entry(partition).or_default();
        clock.frontier.accept(key, ts);
        clock.topics.entry(topic).or_default().accept(key, ts);
        clock.max_event = Some(clock.max_event.map_or(ts, |m| m.max(ts)));
        clock.first = Some(clock.first.map_or(ts, |first| first.min(ts)));
        clock.last_accept_wall_ms = wall_ms;
        clock.topic_accept_wall_ms.insert(topic, wall_ms);
    }

    /// A record was refused as too far in the future: its time still counts as a claim.
    pub fn claim(&mut self, partition: i32, key: u64, ts: EventTime) {
        let clock = self.partitions.entry(partition).or_default();
        clock.frontier.claim(key, ts);
    }

    pub fn forget(&mut self, partition: i32) {
        self.partitions.remove(&partition);
    }

    /// The clock of one partition, for its checkpoint.
    pub fn snapshot(&self, partition: i32) -> Option<PartitionClock> {
        self.partitions.get(&partition).cloned()
    }

    /// Restores a partition's clock from its checkpoint; it counts as heard at `wall_ms`.
    pub fn restore(&mut self, partition: i32, mut clock: PartitionClock, wall_ms: i64) {
        clock.last_accept_wall_ms = wall_ms;
        self.partitions.insert(partition, clock);
    }

    /// Where the engine's first tick is: the watermark of the earliest record accepted. The
    /// first tick waits until every stream with records has been heard from, so this is the
    /// earliest of their first records, whatever the fetch order: a partition's topics are
    /// separate streams, and the record it hands over first may be an alarm a minute into
    /// the input while its readings start at its beginning.
    pub fn origin(&self) -> Option<EventTime> {
        let first = self.partitions.values().filter_map(|c| c.first).min()?;
        Some(first.saturating_sub_ms(self.lateness_ms))
    }

    /// The engine's event-time clock at wall time `wall_ms` (live input).
    pub fn global(&self, wall_ms: i64) -> Option<EventTime> {
        self.report(wall_ms).now
    }

    /// The engine clock, with how each input stream takes part in it. Live, every topic of
    /// a partition is its own stream (Kafka orders records within a topic-partition, not
    /// across them: a partition's alarms can be fetched minutes ahead of its readings), so
    /// the clock is the minimum over the topic-partitions heard from; one silent for
    /// `idle_timeout` stops holding it back. A partition assigned and not heard from at all
    /// holds it (`waiting`) until idle.
    pub fn report(&self, wall_ms: i64) -> ClockReport {
        let mut report = ClockReport::default();
        let mut leader: Option<EventTime> = None;
        let mut min: Option<EventTime> = None;
        for (partition, clock) in &self.partitions {
            let quiet = wall_ms - clock.last_accept_wall_ms;
            if let Some(streams) = &self.streams {
                let unknown = !streams.knows(*partition) && quiet <= self.idle_ms;
                let unread = streams
                    .backlogged
                    .iter()
                    .filter(|(t, p)| *p == *partition && !clock.topics.contains_key(t))
                    .count();
                report.waiting += usize::from(unknown) + unread;
            }
            if clock.topics.is_empty() {
                let empty = self.streams.as_ref().is_some_and(|s| {
                    s.knows(*partition) && !s.backlogged.iter().any(|(_, p)| p == partition)
                });
                match quiet > self.idle_ms || empty {
                    true => report.idle += 1,
                    false => report.waiting += 1,
                }
                continue;
            }
            for (topic, frontier) in &clock.topics {
                let Some(mark) = frontier
                    .newest()
                    .map(|n| n.saturating_sub_ms(self.lateness_ms))
                else {
                    continue;
                };
                leader = leader.max(Some(mark));
                let heard = clock
                    .topic_accept_wall_ms
                    .get(topic)
                    .copied()
                    .unwrap_or(clock.last_accept_wall_ms);
                if self.is_idle(*topic, *partition, wall_ms - heard) {
                    report.idle += 1;
                    continue;
                }
                report.active += 1;
                min = Some(min.map_or(mark, |m| m.min(mark)));
            }
        }
        report.now = match (report.waiting, min) {
            (0, Some(min)) => Some(min),
            (0, None) => leader,
            _ => None,
        };
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const READING: Topic = Topic::SensorReading;

    fn w() -> Watermarks {
        Watermarks::new(10_000, 30_000)
    }

    #[test]
    fn idle_partition_does_not_hold_time_back() {
        let mut w = w();
        w.observe(READING, 0, 1, EventTime::from_millis(100_000), 0);
        w.observe(READING, 1, 1, EventTime::from_millis(500_000), 0);
        assert_eq!(w.global(1_000), Some(EventTime::from_millis(90_000)));
        w.observe(READING, 1, 1, EventTime::from_millis(600_000), 40_000);
        let report = w.report(40_000);
        assert_eq!(report.now, Some(EventTime::from_millis(590_000)));
        assert_eq!((report.active, report.idle, report.waiting), (1, 1, 0));
    }

    #[test]
    fn a_partition_behind_holds_the_clock_and_a_silent_one_until_idle() {
        let mut w = w();
        w.expect(2, 0);
        w.observe(READING, 0, 1, EventTime::from_millis(0), 0);
        w.observe(READING, 1, 1, EventTime::from_millis(3_600_000), 0);
        let report = w.report(1_000);
        assert_eq!(report.now, None, "partition 2 has said nothing yet");
        assert_eq!((report.active, report.waiting), (2, 1));
        w.observe(READING, 2, 1, EventTime::from_millis(3_600_000), 1_000);
        assert_eq!(w.global(1_000), Some(EventTime::from_millis(-10_000)));
        let later = w.report(31_000);
        assert_eq!((later.active, later.idle), (1, 2));
        assert_eq!(later.now, Some(EventTime::from_millis(3_590_000)));
    }

    #[test]
    fn the_origin_is_the_earliest_record_whatever_topic_is_fetched_first() {
        let mut w = w();
        w.observe(
            Topic::AlarmLifecycle,
            0,
            1,
            EventTime::from_millis(83_000),
            0,
        );
        w.observe(READING, 0, 1, EventTime::from_millis(0), 0);
        w.observe(READING, 1, 2, EventTime::from_millis(5_000), 0);
        assert_eq!(w.origin(), Some(EventTime::from_millis(-10_000)));
    }

    #[test]
    fn each_topic_is_late_against_its_own_time() {
        let mut w = w();
        w.observe(READING, 0, 1, EventTime::from_millis(600_000), 0);
        w.observe(
            Topic::AlarmLifecycle,
            0,
            1,
            EventTime::from_millis(60_000),
            0,
        );
        assert_eq!(
            w.late(Topic::AlarmLifecycle, 0, EventTime::from_millis(40_000)),
            Some(EventTime::from_millis(50_000))
        );
        assert_eq!(
            w.late(READING, 0, EventTime::from_millis(580_000)),
            Some(EventTime::from_millis(590_000))
        );
    }
}
