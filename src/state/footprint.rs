//! What the state holds, counted as it changes: each partition keeps the sum of its
//! enterprises' footprints, adjusted by every write, so `/metrics` and `/api/status` read a
//! handful of counters instead of walking every enterprise under the locks ingest needs.

use std::ops::{Add, Sub};
use std::sync::atomic::{AtomicI64, Ordering};

use super::enterprise::EnterpriseState;
use super::indicator::IndicatorState;
use super::log::TimedLog;
use super::monitor::UnitMonitor;

/// What one enterprise (or a part of one) adds to the state-size metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Footprint {
    pub enterprises: i64,
    pub indicators: i64,
    pub buckets: i64,
    pub permits: i64,
    /// A rough heap footprint: exact for the windows, an average per logged item.
    pub bytes: i64,
    /// Learned monitoring: units with a model, those of them `silent`, and enterprises with
    /// indicators but no model at all.
    pub monitor_units: i64,
    pub silent_units: i64,
    pub unmonitored: i64,
}

/// The heap an item of a log or a map is counted for: a guess at an event with its strings.
const BYTES_PER_ITEM: usize = 256;
/// The heap a span of the input log is counted for.
const BYTES_PER_SPAN: usize = 32;

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl EnterpriseState {
    /// The whole enterprise's footprint.
    pub fn footprint(&self) -> Footprint {
        let windows: usize = self
            .indicators
            .values()
            .map(IndicatorState::allocated_bytes)
            .sum();
        let items = self.permits.len()
            + self.alarms.len()
            + self.alarm_log.len()
            + self.analyses.values().map(TimedLog::len).sum::<usize>()
            + self.inventory.values().map(TimedLog::len).sum::<usize>()
            + self.status.len()
            + self.ops.len()
            + self.staffing.len()
            + self.training.len()
            + self.commitments.len()
            + self.inspections.len()
            + self.feedback.len()
            + self.hazard_units.len()
            + self.equipment.len()
            + self.areas.len()
            + self.baselines.len();
        let bytes = std::mem::size_of::<Self>()
            + windows
            + items * BYTES_PER_ITEM
            + self.inputs.spans() * BYTES_PER_SPAN
            + self
                .monitors
                .values()
                .map(UnitMonitor::estimated_bytes)
                .sum::<usize>();
        Footprint {
            enterprises: 1,
            indicators: count(self.indicators.len()),
            buckets: count(self.indicators.values().map(|i| i.buckets.len()).sum()),
            permits: count(self.permits.len()),
            bytes: count(bytes),
            monitor_units: count(self.monitors.len()),
            silent_units: self.silent_units(),
            unmonitored: i64::from(!self.indicators.is_empty() && self.monitors.is_empty()),
        }
    }

    fn silent_units(&self) -> i64 {
        count(self.monitors.values().filter(|m| m.silent()).count())
    }

    /// The part of the footprint a reading of `target_code` can change: that indicator's
    /// window, the input log and whether a monitored unit is silent. Cheap enough for the
    /// hot path, where `footprint` is not.
    pub fn reading_footprint(&self, target_code: &str) -> Footprint {
        let (buckets, windows) = self
            .indicators
            .get(target_code)
            .map_or((0, 0), |i| (i.buckets.len(), i.buckets.allocated_bytes()));
        Footprint {
            buckets: count(buckets),
            bytes: count(windows + self.inputs.spans() * BYTES_PER_SPAN),
            silent_units: self.silent_units(),
            ..Footprint::default()
        }
    }

    /// Rough heap footprint, for the state-size metric.
    pub fn estimated_bytes(&self) -> usize {
        usize::try_from(self.footprint().bytes).unwrap_or(0)
    }
}

impl Add for Footprint {
    type Output = Footprint;
    fn add(self, other: Footprint) -> Footprint {
        Footprint {
            enterprises: self.enterprises + other.enterprises,
            indicators: self.indicators + other.indicators,
            buckets: self.buckets + other.buckets,
            permits: self.permits + other.permits,
            bytes: self.bytes + other.bytes,
            monitor_units: self.monitor_units + other.monitor_units,
            silent_units: self.silent_units + other.silent_units,
            unmonitored: self.unmonitored + other.unmonitored,
        }
    }
}

impl Sub for Footprint {
    type Output = Footprint;
    fn sub(self, other: Footprint) -> Footprint {
        Footprint {
            enterprises: self.enterprises - other.enterprises,
            indicators: self.indicators - other.indicators,
            buckets: self.buckets - other.buckets,
            permits: self.permits - other.permits,
            bytes: self.bytes - other.bytes,
            monitor_units: self.monitor_units - other.monitor_units,
            silent_units: self.silent_units - other.silent_units,
            unmonitored: self.unmonitored - other.unmonitored,
        }
    }
}

/// A partition's footprint, written by its (single) ingest writer, read by the API.
#[derive(Debug, Default)]
pub struct SizeCounters {
    enterprises: AtomicI64,
    indicators: AtomicI64,
    buckets: AtomicI64,
    permits: AtomicI64,
    bytes: AtomicI64,
    monitor_units: AtomicI64,
    silent_units: AtomicI64,
    unmonitored: AtomicI64,
}

impl SizeCounters {
    pub fn add(&self, delta: Footprint) {
        if delta == Footprint::default() {
            return;
        }
        let add = |counter: &AtomicI64, by: i64| {
            if by != 0 {
                counter.fetch_add(by, Ordering::Relaxed);
            }
        };
        add(&self.enterprises, delta.enterprises);
        add(&self.indicators, delta.indicators);
        add(&self.buckets, delta.buckets);
        add(&self.permits, delta.permits);
        add(&self.bytes, delta.bytes);
        add(&self.monitor_units, delta.monitor_units);
        add(&self.silent_units, delta.silent_units);
        add(&self.unmonitored, delta.unmonitored);
    }

    pub fn get(&self) -> Footprint {
        let get = |counter: &AtomicI64| counter.load(Ordering::Relaxed);
        Footprint {
            enterprises: get(&self.enterprises),
            indicators: get(&self.indicators),
            buckets: get(&self.buckets),
            permits: get(&self.permits),
            bytes: get(&self.bytes),
            monitor_units: get(&self.monitor_units),
            silent_units: get(&self.silent_units),
            unmonitored: get(&self.unmonitored),
        }
    }
}
