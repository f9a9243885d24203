//! Where an enterprise's recent input came from: per source (topic, partition), the range of
//! positions (Kafka offsets, or replay line numbers) applied in each minute of event time. A
//! warning names the records that fed it from this log (its provenance), without keeping the
//! records themselves.

use std::collections::VecDeque;

use serde::Serialize;

use crate::model::{EventTime, Topic};

/// The positions of one source's records in one minute of event time.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct MinuteSpan {
    minute: i64,
    first: i64,
    last: i64,
    records: u32,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Source {
    topic: Topic,
    partition: i32,
    lines: bool,
    spans: VecDeque<MinuteSpan>,
}

/// A contiguous range of one source's positions, as a warning record lists it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InputRange {
    pub topic: &'static str,
    pub partition: i32,
    /// `offsets` (Kafka) or `lines` (replay files).
    pub unit: &'static str,
    pub first: i64,
    pub last: i64,
    /// Records of the enterprise within the range (others may sit between them).
    pub records: u64,
}

/// Bounded by `horizon_minutes` per source; sources are the input topics × partitions.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct InputLog {
    sources: Vec<Source>,
    /// The span being filled, kept inline: an enterprise's records mostly come from one source
    /// within a minute, so the ingest hot path updates it without touching the heap.
    current: Option<CurrentSpan>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct CurrentSpan {
    topic: Topic,
    partition: i32,
    lines: bool,
    span: MinuteSpan,
}

impl InputLog {
    /// Notes one applied record. `line` tells a replay line number from a Kafka offset.
    pub fn note(
        &mut self,
        topic: Topic,
        partition: i32,
        position: i64,
        line: bool,
        at: EventTime,
        horizon_minutes: u32,
    ) {
        let minute = at.millis().div_euclid(60_000);
        if let Some(c) = self.current.as_mut().filter(|c| {
            c.topic == topic
                && c.partition == partition
                && c.lines == line
                && c.span.minute == minute
        }) {
            c.span.add(position, 1);
            return;
        }
        self.flush(minute - i64::from(horizon_minutes));
        self.current = Some(CurrentSpan {
            topic,
            partition,
            lines: line,
            span: MinuteSpan {
                minute,
                first: position,
                last: position,
                records: 1,
            },
        });
    }

    /// Moves the current span into its source's history, forgetting spans before `oldest`.
    fn flush(&mut self, oldest: i64) {
        let Some(c) = self.current.take() else { return };
        let source = self.source(c.topic, c.partition, c.lines);
        let span = c.span;
        match source
            .spans
            .iter_mut()
            .rev()
            .find(|s| s.minute == span.minute)
        {
            Some(old) => {
                old.add(span.first, 0);
                old.add(span.last, span.records);
            }
            None => insert_sorted(&mut source.spans, span),
        }
        while source.spans.front().is_some_and(|s| s.minute < oldest) {
            source.spans.pop_front();
        }
    }

    fn source(&mut self, topic: Topic, partition: i32, lines: bool) -> &mut Source {
        let found = self
            .sources
            .iter()
            .position(|s| s.topic == topic && s.partition == partition && s.lines == lines);
        let index = found.unwrap_or_else(|| {
            self.sources.push(Source {
                topic,
                partition,
                lines,
                spans: VecDeque::new(),
            });
            self.sources.len() - 1
        });
        &mut self.sources[index]
    }

    /// One range per source over the minutes `from ..= to`, in topic order.
    pub fn ranges(&self, from: EventTime, to: EventTime) -> Vec<InputRange> {
        let (lo, hi) = (
            from.millis().div_euclid(60_000),
            to.millis().div_euclid(60_000),
        );
        let within = |s: &&MinuteSpan| s.minute >= lo && s.minute <= hi;
        let current = self.current.as_ref();
        let is_current = |c: &&CurrentSpan, topic, partition, lines| {
            c.topic == topic && c.partition == partition && c.lines == lines
        };
        let mut out: Vec<InputRange> = self
            .sources
            .iter()
            .filter_map(|source| {
                let open = current
                    .filter(|c| is_current(c, source.topic, source.partition, source.lines))
                    .map(|c| &c.span);
                let spans = source.spans.iter().chain(open).filter(within);
                range(source.topic, source.partition, source.lines, spans)
            })
            .collect();
        let unfiled = current.filter(|c| {
            !self
                .sources
                .iter()
                .any(|s| is_current(c, s.topic, s.partition, s.lines))
        });
        if let Some(c) = unfiled {
            out.extend(range(
                c.topic,
                c.partition,
                c.lines,
                std::iter::once(&c.span).filter(within),
            ));
        }
        out.sort_by(|a, b| (a.topic, a.partition).cmp(&(b.topic, b.partition)));
        out
    }

    pub fn spans(&self) -> usize {
        let filed: usize = self.sources.iter().map(|s| s.spans.len()).sum();
        filed + usize::from(self.current.is_some())
    }
}

/// One source's spans merged into a range; `None` when there are none.
fn range<'a>(
    topic: Topic,
    partition: i32,
    lines: bool,
    spans: impl Iterator<Item = &'a MinuteSpan>,
) -> Option<InputRange> {
    spans.fold(None, |range: Option<InputRange>, span| {
        Some(match range {
            None => InputRange {
                topic: topic.name(),
                partition,
                unit: if lines { "lines" } else { "offsets" },
                first: span.first,
                last: span.last,
                records: u64::from(span.records),
            },
            Some(r) => InputRange {
                first: r.first.min(span.first),
                last: r.last.max(span.last),
                records: r.records + u64::from(span.records),
                ..r
            },
        })
    })
}

impl MinuteSpan {
    fn add(&mut self, position: i64, records: u32) {
        self.first = self.first.min(position);
        self.last = self.last.max(position);
        self.records += records;
    }
}

/// Late records of an earlier minute are rare; keep the spans in minute order for pruning.
fn insert_sorted(spans: &mut VecDeque<MinuteSpan>, span: MinuteSpan) {
    let at = spans.partition_point(|s| s.minute < span.minute);
    spans.insert(at, span);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64, second: i64) -> EventTime {
        EventTime::from_millis(minute * 60_000 + second * 1000)
    }

    #[test]
    fn ranges_cover_the_asked_minutes_per_source() {
        let mut log = InputLog::default();
        for (i, minute) in [(10, 0), (11, 0), (12, 1), (13, 2), (14, 2)] {
            log.note(Topic::SensorReading, 0, i, false, at(minute, 5), 60);
        }
        log.note(Topic::PermitEvent, 1, 7, false, at(1, 0), 60);
        let ranges = log.ranges(at(1, 0), at(1, 59));
        assert_eq!(ranges.len(), 2);
        let readings = ranges.iter().find(|r| r.topic == "sensor.reading").unwrap();
        assert_eq!(
            (readings.first, readings.last, readings.records),
            (12, 12, 1)
        );
        let all = log.ranges(at(0, 0), at(2, 0));
        let readings = all.iter().find(|r| r.topic == "sensor.reading").unwrap();
        assert_eq!(
            (readings.first, readings.last, readings.records),
            (10, 14, 5)
        );
    }

    #[test]
    fn spans_older_than_the_horizon_are_forgotten() {
        let mut log = InputLog::default();
        for minute in 0..200 {
            log.note(Topic::SensorReading, 0, minute, true, at(minute, 0), 60);
        }
        assert_eq!(log.spans(), 61);
        assert!(log.ranges(at(0, 0), at(100, 0)).is_empty());
        assert_eq!(log.ranges(at(0, 0), at(139, 0))[0].first, 139);
        assert_eq!(log.ranges(at(150, 0), at(150, 0))[0].unit, "lines");
    }
}

/// An `InputRange` as read back (from a checkpoint): its names become the static ones.
#[derive(serde::Deserialize)]
struct InputRangeRead {
    topic: String,
    partition: i32,
    unit: String,
    first: i64,
    last: i64,
    records: u64,
}

impl<'de> serde::Deserialize<'de> for InputRange {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = InputRangeRead::deserialize(d)?;
        Ok(InputRange {
            topic: Topic::from_name(&r.topic).map_or(crate::metrics::UNKNOWN_TOPIC, Topic::name),
            partition: r.partition,
            unit: if r.unit == "lines" {
                "lines"
            } else {
                "offsets"
            },
            first: r.first,
            last: r.last,
            records: r.records,
        })
    }
}
