//! Watermark alignment at the source, as Flink's does: a topic-partition whose watermark runs
//! more than `ingest.max_drift` ahead of the engine clock is paused on the consumer, and
//! resumed once the clock is within half of that. Its records would only wait for their ticks
//! (`deferred`); pausing it keeps that wait, and the memory it takes, bounded whatever order
//! the broker delivers the partitions in.

use std::collections::BTreeSet;

use rdkafka::consumer::{Consumer, ConsumerContext};
use rdkafka::TopicPartitionList;

use crate::config::Config;
use crate::model::{EventTime, Topic};

pub struct Drift {
    max_ms: i64,
    /// Topic-partitions paused.
    paused: BTreeSet<(Topic, i32)>,
}

impl Drift {
    pub fn new(config: &Config) -> Self {
        Drift {
            max_ms: i64::try_from(config.ingest.max_drift.as_millis()).unwrap_or(i64::MAX),
            paused: BTreeSet::new(),
        }
    }

    /// Pauses the topic-partitions (`marks`: their watermarks) too far ahead of `clock` and
    /// resumes the paused ones it has caught up with. Each is paused alone: the stream that
    /// holds the clock back is never paused with a faster one of its partition.
    pub fn align<X: ConsumerContext, C: Consumer<X>>(
        &mut self,
        consumer: &C,
        clock: Option<EventTime>,
        marks: &[(Topic, i32, EventTime)],
    ) {
        let Some(clock) = clock else { return };
        for &(topic, partition, mark) in marks {
            let ahead = mark.millis().saturating_sub(clock.millis());
            let paused = self.paused.contains(&(topic, partition));
            if !paused && ahead > self.max_ms {
                self.set(consumer, topic, partition, true);
            } else if paused && ahead <= self.max_ms / 2 {
                self.set(consumer, topic, partition, false);
            }
        }
    }

    fn set<X: ConsumerContext, C: Consumer<X>>(
        &mut self,
        consumer: &C,
        topic: Topic,
        partition: i32,
        pause: bool,
    ) {
        let mut list = TopicPartitionList::new();
        list.add_partition(topic.name(), partition);
        let done = if pause {
            consumer.pause(&list)
        } else {
            consumer.resume(&list)
        };
        match done {
            Ok(()) if pause => {
                tracing::debug!(
                    topic = topic.name(),
                    partition,
                    "ahead of the engine clock; paused"
                );
                self.paused.insert((topic, partition));
            }
            Ok(()) => {
                tracing::debug!(
                    topic = topic.name(),
                    partition,
                    "the engine clock caught up; resumed"
                );
                self.paused.remove(&(topic, partition));
            }
            Err(error) => tracing::warn!(partition, %error, pause, "cannot pause or resume"),
        }
    }

    /// The partition left this instance: its pauses are forgotten here.
    pub fn forget(&mut self, partition: i32) {
        self.paused.retain(|(_, p)| *p != partition);
    }

    /// The partition was assigned anew (restored or fresh). librdkafka keeps a pause across a
    /// revoke and a re-assignment to the same consumer (librdkafka#1849), while `forget` has
    /// dropped it here: nothing would ever resume it, and the partition would stall. So
    /// every topic of the partition is resumed.
    pub fn reassigned<X: ConsumerContext, C: Consumer<X>>(&mut self, consumer: &C, partition: i32) {
        self.forget(partition);
        let mut list = TopicPartitionList::new();
        for topic in Topic::ALL {
            list.add_partition(topic.name(), partition);
        }
        if let Err(error) = consumer.resume(&list) {
            tracing::warn!(partition, %error, "cannot resume a partition assigned anew");
        }
    }

    /// Topic-partitions paused.
    pub fn paused(&self) -> usize {
        self.paused.len()
    }
}
