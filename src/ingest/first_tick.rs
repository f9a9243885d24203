//! A process's first tick waits until its assignment is complete: every partition of the
//! input, or an assignment left unchanged for the group's session timeout. A member that was
//! killed keeps its partitions until the broker drops it, and some brokers hand the others
//! out meanwhile. The engine has one clock for all its partitions: ticking on those first
//! would run it ahead of the ones restored later, whose enterprises would miss the ticks
//! between. Records read meanwhile wait for their tick, as they always do.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

pub struct FirstTick {
    settle: Duration,
    /// When ticks may start, once an assignment came.
    from: Option<Instant>,
    started: bool,
}

impl FirstTick {
    pub fn new(settle: Duration) -> Self {
        FirstTick {
            settle,
            from: None,
            started: false,
        }
    }

    /// An assignment came: `owned` of the input's partitions `all` (`None`: not known).
    pub fn assigned(&mut self, owned: &BTreeSet<i32>, all: Option<&BTreeSet<i32>>) {
        if self.started {
            return;
        }
        let complete = all.is_some_and(|all| !all.is_empty() && all.is_subset(owned));
        let wait = if complete {
            Duration::ZERO
        } else {
            self.settle
        };
        self.from = Some(Instant::now() + wait);
    }

    /// Whether the engine may tick; once it has, always.
    pub fn may_tick(&mut self) -> bool {
        if !self.started {
            self.started = self.from.is_some_and(|from| Instant::now() >= from);
        }
        self.started
    }
}

/// The group's session timeout as the consumer is configured (librdkafka's default else).
pub fn session_timeout(kafka: &crate::config::KafkaConfig) -> Duration {
    let ms = [&kafka.consumer_properties, &kafka.properties]
        .into_iter()
        .find_map(|p| p.get("session.timeout.ms")?.parse::<u64>().ok())
        .unwrap_or(45_000);
    Duration::from_millis(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_wait_for_the_whole_input_or_a_settled_group() {
        let all: BTreeSet<i32> = (0..4).collect();
        let half: BTreeSet<i32> = (0..2).collect();
        let mut first = FirstTick::new(Duration::from_secs(3600));
        assert!(!first.may_tick(), "no assignment yet");
        first.assigned(&half, Some(&all));
        assert!(!first.may_tick(), "half the input, the group not settled");
        first.assigned(&all, Some(&all));
        assert!(first.may_tick(), "the whole input");
        first.assigned(&half, Some(&all));
        assert!(first.may_tick(), "once started, never held again");

        let mut quick = FirstTick::new(Duration::ZERO);
        quick.assigned(&half, None);
        assert!(quick.may_tick(), "settled: the group kept its assignment");
    }
}
