//! Records that name an indicator the registry has not described yet. They wait here, in
//! arrival order, until the indicator's registry entry arrives (then they are applied), their
//! event time falls `timeout` behind the watermark (dead-lettered `unknown_indicator`), or the
//! buffer is full (the oldest is dead-lettered `pending_overflow`).

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
    timeout_ms: i64,
}

impl PendingBuffer {
    pub fn new(capacity: usize, timeout_ms: i64) -> Self {
        PendingBuffer {
            by_arrival: BTreeMap::new(),
            by_subject: HashMap::new(),
            next_seq: 0,
            capacity,
            timeout_ms,
        }
    }

    /// Holds a record; returns the record pushed out if the buffer was full.
    pub fn hold(&mut self, pending: PendingRecord) -> Option<PendingRecord> {
        let evicted = if self.by_arrival.len() >= self.capacity {
            self.pop_oldest()
        } else {
            None
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        let subject = (pending.enterprise_id.clone(), pending.target_code.clone());
        self.by_subject.entry(subject).or_default().push(seq);
        self.by_arrival.insert(seq, pending);
        evicted
    }

    /// Takes every record waiting for this indicator, in arrival order.
    pub fn release(&mut self, enterprise_id: &str, target_code: &str) -> Vec<PendingRecord> {
        let subject: Subject = (enterprise_id.into(), target_code.into());
        let Some(seqs) = self.by_subject.remove(&subject) else {
            return Vec::new();
        };
        seqs.into_iter()
            .filter_map(|seq| self.by_arrival.remove(&seq))
            .collect()
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
