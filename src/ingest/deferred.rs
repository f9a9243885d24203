//! Records accepted ahead of the engine's next tick. They wait here, in event-time order,
//! until the tick before them has been evaluated: a tick at T then sees exactly the records
//! with event time ≤ T, however the source delivered them (a whole backlog in one burst, one
//! partition ahead of another, or line by line in a replay). So the rules give the same
//! answers live and replayed.
//!
//! Order among records of the same time: topic, then partition and position, so that one
//! enterprise's records (one key, one partition) apply in the order their source holds them.

use std::collections::BTreeMap;

use crate::model::{EventTime, Topic};

use super::record::{OwnedRecord, Position};

type Order = (i64, Topic, i32, i64);

/// A deferred record as a checkpoint holds it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DeferredRecord {
    pub ts: EventTime,
    pub record: OwnedRecord,
}

#[derive(Debug, Default)]
pub struct Deferred {
    queue: BTreeMap<Order, OwnedRecord>,
    bytes: usize,
}

fn order(ts: EventTime, topic: Topic, record: &OwnedRecord) -> Order {
    let position = match record.position {
        Position::Offset(o) => o,
        Position::Line(l) => i64::try_from(l).unwrap_or(i64::MAX),
    };
    (ts.millis(), topic, record.partition, position)
}

impl Deferred {
    pub fn push(&mut self, ts: EventTime, topic: Topic, record: OwnedRecord) {
        self.bytes += record.payload.len();
        self.queue.insert(order(ts, topic, &record), record);
    }

    /// The next record due at `until` (event time ≤ `until`), oldest first.
    pub fn pop_due(&mut self, until: EventTime) -> Option<OwnedRecord> {
        let entry = self.queue.first_entry()?;
        if entry.key().0 > until.millis() {
            return None;
        }
        let record = entry.remove();
        self.bytes -= record.payload.len();
        Some(record)
    }

    /// The event time of the next record due.
    pub fn next_time(&self) -> Option<EventTime> {
        self.queue
            .first_key_value()
            .map(|((ts, ..), _)| EventTime::from_millis(*ts))
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Payload bytes waiting.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The records of one partition, for its checkpoint.
    pub fn of_partition(&self, partition: i32) -> Vec<DeferredRecord> {
        self.queue
            .iter()
            .filter(|((_, _, p, _), _)| *p == partition)
            .map(|((ts, ..), record)| DeferredRecord {
                ts: EventTime::from_millis(*ts),
                record: record.clone(),
            })
            .collect()
    }

    /// Drops one partition's records (revoked: its next owner reads or restores them).
    pub fn forget(&mut self, partition: i32) {
        let bytes = &mut self.bytes;
        self.queue.retain(|(_, _, p, _), record| {
            let keep = *p != partition;
            if !keep {
                *bytes -= record.payload.len();
            }
            keep
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(partition: i32, offset: i64) -> OwnedRecord {
        OwnedRecord {
            topic: "sensor.reading".into(),
            partition,
            position: Position::Offset(offset),
            key: None,
            payload: vec![0; 10],
        }
    }

    #[test]
    fn due_records_come_out_in_event_time_then_source_order() {
        let mut d = Deferred::default();
        let t = EventTime::from_millis;
        d.push(t(30), Topic::SensorReading, record(1, 7));
        d.push(t(10), Topic::SensorReading, record(0, 9));
        d.push(t(10), Topic::SensorReading, record(0, 3));
        d.push(t(20), Topic::AlarmLifecycle, record(2, 1));
        assert_eq!(d.bytes(), 40);
        let mut out = Vec::new();
        while let Some(r) = d.pop_due(t(20)) {
            out.push((r.partition, r.position));
        }
        assert_eq!(
            out,
            [
                (0, Position::Offset(3)),
                (0, Position::Offset(9)),
                (2, Position::Offset(1))
            ]
        );
        assert_eq!(d.len(), 1);
        assert_eq!(d.of_partition(1)[0].ts, t(30));
        d.forget(1);
        assert!(d.is_empty());
        assert_eq!(d.bytes(), 0);
    }
}
