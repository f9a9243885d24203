//! What the engine reports about itself: live counters updated by the ingest loop, and the
//! JSON summary of `/api/status`.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use serde::Serialize;

use prometheus::core::Collector;

use crate::metrics::{Metrics, TopicCounters};
use crate::model::EventTime;
use crate::state::{StateSize, StateStore};

/// Shared between the engine (writer) and the API (reader).
#[derive(Debug)]
pub struct LiveStatus {
    started: AtomicBool,
    /// Assigned partitions are being restored from their checkpoints.
    restoring: AtomicBool,
    /// The shared tables (silences, the counties' board) are not read to their end yet.
    tables_pending: AtomicBool,
    /// Assigned partitions not consumed because their checkpoints cannot be used, and why.
    refused: std::sync::Mutex<Vec<String>>,
    watermark: AtomicTime,
    /// The engine's last evaluated tick.
    last_tick: AtomicTime,
    /// Total consumer lag over the input partitions; negative until librdkafka first reports.
    consumer_lag: AtomicI64,
    ready_max_lag: i64,
}

impl Default for LiveStatus {
    fn default() -> Self {
        LiveStatus::new(i64::MAX)
    }
}

impl LiveStatus {
    /// `ready_max_lag`: the consumer lag up to which the instance counts as caught up.
    pub fn new(ready_max_lag: i64) -> Self {
        LiveStatus {
            started: AtomicBool::new(false),
            restoring: AtomicBool::new(false),
            tables_pending: AtomicBool::new(false),
            refused: std::sync::Mutex::default(),
            watermark: AtomicTime::default(),
            last_tick: AtomicTime::default(),
            consumer_lag: AtomicI64::new(-1),
            ready_max_lag,
        }
    }

    pub fn set_consumer_lag(&self, lag: i64) {
        self.consumer_lag.store(lag.max(0), Ordering::Relaxed);
    }

    /// Ready: subscribed, and caught up to within `ready_max_lag` messages. Otherwise why not.
    pub fn readiness(&self) -> Result<(), String> {
        if !self.is_started() {
            return Err("not subscribed yet".into());
        }
        if self.restoring.load(Ordering::Relaxed) {
            return Err("restoring assigned partitions from their checkpoints".into());
        }
        let refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        if !refused.is_empty() {
            return Err(format!(
                "partitions not consumed, their checkpoints unusable (checkpoint.on_unreadable): {}",
                refused.join("; ")
            ));
        }
        drop(refused);
        if self.tables_pending.load(Ordering::Relaxed) {
            return Err("the shared tables (silences, county parts) are not read yet".into());
        }
        match self.consumer_lag.load(Ordering::Relaxed) {
            lag if lag < 0 => Err("consumer lag not reported yet".into()),
            lag if lag > self.ready_max_lag => Err(format!(
                "catching up: {lag} messages behind (ready at {})",
                self.ready_max_lag
            )),
            _ => Ok(()),
        }
    }

    pub fn set_refused(&self, reasons: Vec<String>) {
        *self.refused.lock().unwrap_or_else(|e| e.into_inner()) = reasons;
    }

    pub fn set_tables_pending(&self, pending: bool) {
        self.tables_pending.store(pending, Ordering::Relaxed);
    }

    pub fn set_restoring(&self, restoring: bool) {
        self.restoring.store(restoring, Ordering::Relaxed);
    }

    pub fn mark_started(&self) {
        self.started.store(true, Ordering::Relaxed);
    }

    pub fn is_started(&self) -> bool {
        self.started.load(Ordering::Relaxed)
    }

    pub fn set_watermark(&self, watermark: Option<EventTime>) {
        self.watermark.set(watermark);
    }

    pub fn watermark(&self) -> Option<EventTime> {
        self.watermark.get()
    }

    pub fn set_last_tick(&self, tick: Option<EventTime>) {
        self.last_tick.set(tick);
    }

    pub fn last_tick(&self) -> Option<EventTime> {
        self.last_tick.get()
    }
}

/// An event time shared between threads; `None` until set.
#[derive(Debug)]
struct AtomicTime(AtomicI64);

impl Default for AtomicTime {
    fn default() -> Self {
        AtomicTime(AtomicI64::new(i64::MIN))
    }
}

impl AtomicTime {
    fn set(&self, at: Option<EventTime>) {
        self.0
            .store(at.map_or(i64::MIN, EventTime::millis), Ordering::Relaxed);
    }

    fn get(&self) -> Option<EventTime> {
        match self.0.load(Ordering::Relaxed) {
            i64::MIN => None,
            ms => Some(EventTime::from_millis(ms)),
        }
    }
}

/// The body of `/api/status`.
#[derive(Debug, Serialize)]
pub struct StatusReport {
    pub started: bool,
    pub watermark: Option<EventTime>,
    /// The engine's last evaluated tick: the warnings are those of the input up to it.
    pub last_tick: Option<EventTime>,
    pub state: StateSize,
    pub records_read: u64,
    pub records_applied: u64,
    pub records_rejected: u64,
    pub records_late: u64,
    pub records_pending: i64,
    /// Accepted, waiting for the engine's tick before their event time.
    pub records_deferred: i64,
}

impl StatusReport {
    /// From counters only (the state's size is counted as it changes): cheap enough for
    /// every request.
    pub fn collect(metrics: &Metrics, store: &StateStore, status: &LiveStatus) -> Self {
        let sum = |f: fn(&TopicCounters) -> u64| metrics.by_topic.iter().map(f).sum::<u64>();
        let rejected = metrics
            .rejected
            .collect()
            .iter()
            .flat_map(|family| family.get_metric())
            .map(|m| m.get_counter().value() as u64)
            .sum();
        StatusReport {
            started: status.is_started(),
            watermark: status.watermark(),
            last_tick: status.last_tick(),
            state: store.size(),
            records_read: sum(|c| c.records.get()),
            records_applied: sum(|c| c.applied.get()),
            records_rejected: rejected,
            records_late: sum(|c| c.late.get()),
            records_pending: metrics.pending.get(),
            records_deferred: metrics.deferred.get(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_once_subscribed_and_caught_up() {
        let status = LiveStatus::new(100);
        assert!(status.readiness().is_err());
        status.mark_started();
        assert!(status.readiness().unwrap_err().contains("not reported"));
        status.set_consumer_lag(5_000);
        assert!(status
            .readiness()
            .unwrap_err()
            .contains("5000 messages behind"));
        status.set_consumer_lag(40);
        assert_eq!(status.readiness(), Ok(()));
    }
}
