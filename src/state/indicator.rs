//! Live state of one indicator: its registry definition, the latest reading, device status
//! and the one-minute buckets.

use crate::model::{EventTime, Indicator, Ne107, Quality, ReadingSource, SensorStatus};

use super::buckets::BucketRing;

/// A point is offline when nothing arrived for `max(3 × expected period, 5 min)` (R3).
const MIN_OFFLINE_AFTER_MS: i64 = 5 * 60_000;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LastReading {
    pub ts: EventTime,
    pub value: f64,
    pub quality: Quality,
    pub source: ReadingSource,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PointStatus {
    pub ts: EventTime,
    pub online: bool,
    pub ne107: Ne107,
    pub reason: Option<String>,
}

impl From<&SensorStatus> for PointStatus {
    fn from(s: &SensorStatus) -> Self {
        PointStatus {
            ts: s.ts,
            online: s.online,
            ne107: s.ne107,
            reason: s.reason.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IndicatorState {
    pub def: Indicator,
    pub last: Option<LastReading>,
    /// Readings of `good` or `uncertain` quality; `bad` ones update `last` only.
    pub buckets: BucketRing,
    pub status: Option<PointStatus>,
    /// Since when the latest value has not changed (R4 flat-line).
    pub value_since: Option<EventTime>,
}

impl IndicatorState {
    pub fn new(def: Indicator) -> Self {
        IndicatorState {
            def,
            last: None,
            buckets: BucketRing::default(),
            status: None,
            value_since: None,
        }
    }

    pub fn record(&mut self, reading: LastReading, horizon_min: u32) {
        if reading.quality != Quality::Bad {
            self.buckets.insert(reading.ts, reading.value, horizon_min);
        }
        if self.last.as_ref().is_none_or(|last| reading.ts >= last.ts) {
            let changed = self.last.as_ref().is_none_or(|l| l.value != reading.value);
            if changed {
                self.value_since = Some(reading.ts);
            }
            self.last = Some(reading);
        }
    }

    pub fn set_status(&mut self, status: PointStatus) {
        if self.status.as_ref().is_none_or(|s| status.ts >= s.ts) {
            self.status = Some(status);
        }
    }

    /// Silence after which the point counts as offline.
    pub fn offline_after_ms(&self) -> i64 {
        (3 * i64::from(self.def.expected_period_s) * 1000).max(MIN_OFFLINE_AFTER_MS)
    }

    /// Online at event time `now`: a reading within the offline delay, and no newer status
    /// saying the point is offline.
    pub fn is_online(&self, now: EventTime) -> bool {
        let Some(last) = &self.last else {
            return false;
        };
        let reported_offline = self
            .status
            .as_ref()
            .is_some_and(|s| !s.online && s.ts >= last.ts);
        !reported_offline && now.millis() - last.ts.millis() <= self.offline_after_ms()
    }

    pub fn allocated_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.buckets.allocated_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// README states the footprint of an indicator; keep it true.
    #[test]
    fn an_indicator_is_about_3_8_kib_at_the_default_horizon() {
        let fixed = std::mem::size_of::<IndicatorState>();
        // The newest bucket is inline; 59 more live in the ring.
        let full = fixed + 59 * std::mem::size_of::<crate::state::Bucket>();
        println!("IndicatorState {fixed} bytes, with 60 buckets {full} bytes");
        assert!(fixed <= 456, "{fixed}");
        assert!((3_500..=3_900).contains(&(full + 96)), "{full} + strings");
    }
}
