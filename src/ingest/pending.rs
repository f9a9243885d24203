//! Records that name an indicator the registry has not described yet. They wait here, in
//! arrival order, until the indicator's registry entry arrives (then they are applied), their
//! event time falls `timeout` behind the watermark (dead-lettered `unknown_indicator`), or the
//! buffer is full (the oldest is dead-lettered `pending_overflow`). Full means `capacity`
//! records or `max_bytes` of them (issue 19: ten thousand padded 1 MiB readings were 10 GiB,
//! and were checkpointed too).

use std::collections::{BTreeMap, HashMap};

use crate::model::EventTime;

use super::record::OwnedRecord;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PendingRecord {
    pub record: OwnedRecord,
    pub ts: EventTime,
    pub enterprise_id: Box<str>,
    pub target_code: Box<str>,
}

type Subject = (Box<str>, Box<str>);

#[derive(Debug)]
pub struct PendingBuffer {
    by_arrival: BTreeMap<u64, PendingRecord>,
    by_subject: HashMap<Subject, Vec<u64>>,
    next_seq: u64,
    capacity: usize,
    max_bytes: usize,
    bytes: usize,
    timeout_ms: i64,
}

/// What a held record weighs against `max_bytes`: its payload, key and names.
fn weight(p: &PendingRecord) -> usize {
    p.record.payload.len()
        + p.record.key.as_ref().map_or(0, Vec::len)
        + p.record.topic.len()
        + p.enterprise_id.len()
        + p.target_code.len()
}

impl PendingBuffer {
    pub fn new(capacity: usize, max_bytes: usize, timeout_ms: i64) -> Self {
        PendingBuffer {
            by_arrival: BTreeMap::new(),
            by_subject: HashMap::new(),
            next_seq: 0,
            capacity,
            max_bytes,
            bytes: 0,
            timeout_ms,
        }
    }

    /// Holds a record; returns the records pushed out (oldest first) to make room for it.
    pub fn hold(&mut self, pending: PendingRecord) -> Vec<PendingRecord> {
        let mut evicted = Vec::new();
        let incoming = weight(&pending);
        while !self.by_arrival.is_empty()
            && (self.by_arrival.len() >= self.capacity || self.bytes + incoming > self.max_bytes)
        {
            evicted.extend(self.pop_oldest());
        }
        self.bytes += incoming;
        let seq = self.next_seq;
        self.next_seq += 1;
        let subject = (pending.enterprise_id.clone(), pending.target_code.clone());
        self.by_subject.entry(subject).or_default().push(seq);
        self.by_arrival.insert(seq, pending);
        evicted
    }

    /// Bytes held now (see `weight`).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Takes every record waiting for this indicator, in arrival order.
    pub fn release(&mut self, enterprise_id: &str, target_code: &str) -> Vec<PendingRecord> {
        let subject: Subject = (enterprise_id.into(), target_code.into());
        let Some(seqs) = self.by_subject.remove(&subject) else {
            return Vec::new();
        };
        let released: Vec<PendingRecord> = seqs
            .into_iter()
            .filter_map(|seq| self.by_arrival.remove(&seq))
            .collect();
        self.bytes -= released.iter().map(weight).sum::<usize>();
        released
    }

    /// Takes the records of `partition` whose event time is `timeout` behind `watermark`.
    /// Looks from the oldest arrival and stops at the first that has not expired.
    pub fn expire(&mut self, partition: i32, watermark: EventTime) -> Vec<PendingRecord> {
        let limit = watermark.saturating_sub_ms(self.timeout_ms);
        let expired: Vec<u64> = self
            .by_arrival
            .iter()
            .filter(|(_, p)| p.record.partition == partition)
            .take_while(|(_, p)| p.ts < limit)
            .map(|(seq, _)| *seq)
            .collect();
        expired
            .into_iter()
            .filter_map(|seq| self.take(seq))
            .collect()
    }

    /// Takes every record (end of input, or a partition revoked).
    pub fn drain(&mut self, partition: Option<i32>) -> Vec<PendingRecord> {
        let seqs: Vec<u64> = self
            .by_arrival
            .iter()
            .filter(|(_, p)| partition.is_none_or(|id| p.record.partition == id))
            .map(|(seq, _)| *seq)
            .collect();
        seqs.into_iter().filter_map(|seq| self.take(seq)).collect()
    }

    fn pop_oldest(&mut self) -> Option<PendingRecord> {
        let seq = *self.by_arrival.keys().next()?;
        self.take(seq)
    }

    fn take(&mut self, seq: u64) -> Option<PendingRecord> {
        let pending = self.by_arrival.remove(&seq)?;
        self.bytes -= weight(&pending);
        let subject = (pending.enterprise_id.clone(), pending.target_code.clone());
        if let Some(seqs) = self.by_subject.get_mut(&subject) {
            seqs.retain(|s| *s != seq);
            if seqs.is_empty() {
                self.by_subject.remove(&subject);
            }
        }
        Some(pending)
    }

    /// The records of `partition` waiting, in arrival order (for its checkpoint).
    pub fn of_partition(&self, partition: i32) -> impl Iterator<Item = &PendingRecord> {
        self.by_arrival
            .values()
            .filter(move |p| p.record.partition == partition)
    }

    pub fn len(&self) -> usize {
        self.by_arrival.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_arrival.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::record::Position;

    fn held(i: i64, payload_bytes: usize) -> PendingRecord {
        PendingRecord {
            record: OwnedRecord {
                topic: "sensor.reading".into(),
                partition: 0,
                position: Position::Offset(i),
                key: None,
                payload: vec![b' '; payload_bytes],
            },
            ts: EventTime::from_millis(i),
            enterprise_id: "E".into(),
            target_code: format!("T{i}").into(),
        }
    }

    /// Issue 19, item 8: a few huge records cannot fill memory within the record count.
    #[test]
    fn the_oldest_records_make_room_by_bytes_too() {
        let mut buffer = PendingBuffer::new(10_000, 3_000, 60_000);
        for i in 0..3 {
            assert!(buffer.hold(held(i, 900)).is_empty());
        }
        let evicted = buffer.hold(held(3, 1_900));
        let evicted: Vec<i64> = evicted.iter().map(|p| p.ts.millis()).collect();
        assert_eq!(evicted, vec![0, 1], "the oldest go first");
        assert!(buffer.bytes() <= 3_000, "{}", buffer.bytes());
        assert_eq!(buffer.len(), 2);
        let released = buffer.release("E", "T3");
        assert_eq!(released.len(), 1);
        buffer.drain(None);
        assert_eq!((buffer.len(), buffer.bytes()), (0, 0));
    }
}
