//! Watermark alignment at the source, as Flink's does: a partition whose watermark runs more
//! than `ingest.max_drift` ahead of the engine clock is paused on the consumer, and resumed
//! once the clock is within half of that. Its records would only wait for their ticks
//! (`deferred`); pausing it keeps that wait, and the memory it takes, bounded whatever order
//! the broker delivers the partitions in.

use std::collections::BTreeSet;

use rdkafka::consumer::{Consumer, ConsumerContext};
use rdkafka::TopicPartitionList;

use crate::config::Config;
use crate::model::{EventTime, Topic};

pub struct Drift {
    max_ms: i64,
    /// The input topics paused with a partition: all but `registry`, which has no event time
    /// and must stay readable.
    topics: Vec<String>,
    paused: BTreeSet<i32>,
}

impl Drift {
    pub fn new(config: &Config) -> Self {
        Drift {
            max_ms: i64::try_from(config.ingest.max_drift.as_millis()).unwrap_or(i64::MAX),
            topics: config
                .kafka
                .topics
                .iter()
                .filter(|t| t.as_str() != Topic::Registry.name())
                .cloned()
                .collect(),
            paused: BTreeSet::new(),
        }
    }

    /// Pauses the partitions (`marks`: watermark by partition) too far ahead of `clock` and
    /// resumes the paused ones it has caught up with.
    pub fn align<X: ConsumerContext, C: Consumer<X>>(
        &mut self,
        consumer: &C,
        clock: Option<EventTime>,
        marks: &[(i32, Option<EventTime>)],
    ) {
        let Some(clock) = clock else { return };
        for &(partition, mark) in marks {
            let Some(mark) = mark else { continue };
            let ahead = mark.millis().saturating_sub(clock.millis());
            let paused = self.paused.contains(&partition);
            if !paused && ahead > self.max_ms {
                self.set(consumer, partition, true);
            } else if paused && ahead <= self.max_ms / 2 {
                self.set(consumer, partition, false);
            }
        }
    }

    fn set<X: ConsumerContext, C: Consumer<X>>(
        &mut self,
        consumer: &C,
        partition: i32,
        pause: bool,
    ) {
        let mut list = TopicPartitionList::new();
        for topic in &self.topics {
            list.add_partition(topic, partition);
        }
        let done = if pause {
            consumer.pause(&list)
        } else {
            consumer.resume(&list)
        };
        match done {
            Ok(()) if pause => {
                tracing::debug!(partition, "partition ahead of the engine clock; paused");
                self.paused.insert(partition);
            }
            Ok(()) => {
                tracing::debug!(partition, "the engine clock caught up; partition resumed");
                self.paused.remove(&partition);
            }
            Err(error) => tracing::warn!(partition, %error, pause, "cannot pause or resume"),
        }
    }

    /// The partition left this instance (its pause went with the assignment).
    pub fn forget(&mut self, partition: i32) {
        self.paused.remove(&partition);
    }

    pub fn paused(&self) -> usize {
        self.paused.len()
    }
}
