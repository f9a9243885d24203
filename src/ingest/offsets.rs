//! Which offsets may be committed. A record's offset is committable once the record was
//! applied to state, or dead-lettered / routed late *and* that output was delivered. Records
//! still held (pending registry entry) or in delivery hold their partition's commit position
//! back, so a crash re-reads them instead of losing them.

use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Default)]
struct PartitionOffsets {
    /// One past the highest offset handed to the pipeline.
    next: i64,
    holds: BTreeSet<i64>,
    committed: i64,
}

impl PartitionOffsets {
    fn position(&self) -> i64 {
        self.holds.first().copied().unwrap_or(self.next)
    }
}

/// Offsets per topic, then per partition (looked up by `&str`, no allocation per record).
#[derive(Debug, Default)]
pub struct OffsetTracker {
    topics: BTreeMap<String, BTreeMap<i32, PartitionOffsets>>,
}

impl OffsetTracker {
    fn get_mut(&mut self, topic: &str, partition: i32) -> Option<&mut PartitionOffsets> {
        self.topics.get_mut(topic)?.get_mut(&partition)
    }

    /// A record was handed to the pipeline.
    pub fn seen(&mut self, topic: &str, partition: i32, offset: i64) {
        if let Some(p) = self.get_mut(topic, partition) {
            p.next = p.next.max(offset + 1);
            return;
        }
        let partitions = self.topics.entry(topic.to_owned()).or_default();
        partitions.insert(
            partition,
            PartitionOffsets {
                next: offset + 1,
                holds: BTreeSet::new(),
                committed: offset,
            },
        );
    }

    /// Keeps `offset` from being committed (call after `seen`).
    pub fn hold(&mut self, topic: &str, partition: i32, offset: i64) {
        if let Some(p) = self.get_mut(topic, partition) {
            p.holds.insert(offset);
        }
    }

    pub fn release(&mut self, topic: &str, partition: i32, offset: i64) {
        if let Some(p) = self.get_mut(topic, partition) {
            p.holds.remove(&offset);
        }
    }

    /// Positions (next offset to read) that moved since the last commit.
    pub fn to_commit(&self) -> Vec<(String, i32, i64)> {
        let mut moved = Vec::new();
        for (topic, partitions) in &self.topics {
            for (partition, p) in partitions {
                if p.position() > p.committed {
                    moved.push((topic.clone(), *partition, p.position()));
                }
            }
        }
        moved
    }

    pub fn committed(&mut self, topic: &str, partition: i32, offset: i64) {
        if let Some(p) = self.get_mut(topic, partition) {
            p.committed = p.committed.max(offset);
        }
    }

    /// Forgets the partitions numbered `partition` of every topic (revoked).
    pub fn forget(&mut self, partition: i32) {
        for partitions in self.topics.values_mut() {
            partitions.remove(&partition);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_keeps_the_position_back_until_released() {
        let mut t = OffsetTracker::default();
        for offset in 10..15 {
            t.seen("sensor.reading", 0, offset);
        }
        t.hold("sensor.reading", 0, 12);
        assert_eq!(t.to_commit(), vec![("sensor.reading".into(), 0, 12)]);
        t.committed("sensor.reading", 0, 12);
        assert!(t.to_commit().is_empty());
        t.release("sensor.reading", 0, 12);
        assert_eq!(t.to_commit(), vec![("sensor.reading".into(), 0, 15)]);
    }
}
