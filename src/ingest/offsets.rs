//! Where each input partition has been read to. Offsets are committed from checkpoints (see
//! `checkpoint`), never from here: this only says, per topic and partition, the next offset
//! to read, which is what a checkpoint records and where a partition kept across a
//! rebalance is read on from.

use std::collections::BTreeMap;

/// Next offset to read per topic, then per partition (looked up by `&str`, no allocation per
/// record).
#[derive(Debug, Default)]
pub struct OffsetTracker {
    topics: BTreeMap<String, BTreeMap<i32, i64>>,
}

impl OffsetTracker {
    /// A record is about to be handed to the pipeline; `false` (and nothing noted) when its
    /// offset was already handed over (a record fetched again).
    pub fn seen(&mut self, topic: &str, partition: i32, offset: i64) -> bool {
        let next = self
            .topics
            .get_mut(topic)
            .and_then(|p| p.get_mut(&partition));
        match next {
            Some(next) if offset < *next => false,
            Some(next) => {
                *next = offset + 1;
                true
            }
            None => {
                let partitions = self.topics.entry(topic.to_owned()).or_default();
                partitions.insert(partition, offset + 1);
                true
            }
        }
    }

    /// The next offset to read of every topic of `partition` (what a checkpoint records).
    pub fn next_offsets(&self, partition: i32) -> BTreeMap<String, i64> {
        self.topics
            .iter()
            .filter_map(|(topic, partitions)| Some((topic.clone(), *partitions.get(&partition)?)))
            .collect()
    }

    /// Starts `partition` of every topic at the offsets of its checkpoint.
    pub fn restart_at(&mut self, partition: i32, offsets: &BTreeMap<String, i64>) {
        self.forget(partition);
        for (topic, next) in offsets {
            let partitions = self.topics.entry(topic.clone()).or_default();
            partitions.insert(partition, *next);
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
    fn positions_follow_the_records_and_restart_at_a_checkpoint() {
        let mut t = OffsetTracker::default();
        let fed: Vec<bool> = [10, 12, 11]
            .into_iter()
            .map(|offset| t.seen("sensor.reading", 0, offset))
            .collect();
        assert_eq!(fed, [true, true, false], "11 comes after 12: read again");
        t.seen("registry", 0, 3);
        t.seen("registry", 1, 9);
        let next = t.next_offsets(0);
        assert_eq!(next.get("sensor.reading"), Some(&13));
        assert_eq!(next.get("registry"), Some(&4));
        assert!(!t.seen("sensor.reading", 0, 12));
        assert!(t.seen("sensor.reading", 0, 13));
        t.restart_at(0, &BTreeMap::from([("sensor.reading".to_owned(), 5)]));
        assert_eq!(t.next_offsets(0).len(), 1);
        assert_eq!(t.next_offsets(1).get("registry"), Some(&10));
    }
}
