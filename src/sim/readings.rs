//! The `sensor.reading` stream of a province: every indicator reports at its expected period
//! around its normal value, in event-time order, deterministically from a seed.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use crate::model::EventTime;

use super::scenario::Injection;
use super::{Province, SimRecord};

/// Readings of every indicator of a province from `start`, in event-time order.
pub struct ReadingStream<'p> {
    province: &'p Province,
    rng: ChaCha8Rng,
    /// (next due time, enterprise index, indicator index), earliest first.
    due: BinaryHeap<Reverse<(i64, u32, u32)>>,
    injections: Vec<Injection>,
}

impl<'p> ReadingStream<'p> {
    pub fn new(province: &'p Province, seed: u64, start: EventTime) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut due = BinaryHeap::new();
        for (e, ent) in province.enterprises.iter().enumerate() {
            for (i, indicator) in ent.indicators.iter().enumerate() {
                // Spread first reports over one period so the stream is smooth.
                let period_ms = i64::from(indicator.expected_period_s) * 1000;
                let first = start.millis() + rng.random_range(0..period_ms);
                due.push(Reverse((first, e as u32, i as u32)));
            }
        }
        ReadingStream {
            province,
            rng,
            due,
            injections: Vec::new(),
        }
    }

    /// The same stream with incidents injected (see `scenario`).
    pub fn with_injections(mut self, injections: Vec<Injection>) -> Self {
        self.injections = injections;
        self
    }

    /// Event time of the next reading.
    pub fn peek_time(&self) -> Option<EventTime> {
        self.due
            .peek()
            .map(|Reverse((t, _, _))| EventTime::from_millis(*t))
    }
}

impl Iterator for ReadingStream<'_> {
    type Item = SimRecord;

    fn next(&mut self) -> Option<SimRecord> {
        loop {
            let Reverse((ts, e, i)) = self.due.pop()?;
            let ent = &self.province.enterprises[e as usize];
            let indicator = &ent.indicators[i as usize];
            let (mean, noise) = ent.normals[i as usize];
            let normal = mean + self.rng.random_range(-noise..=noise);
            self.due.push(Reverse((
                ts + i64::from(indicator.expected_period_s) * 1000,
                e,
                i,
            )));
            let injected = self
                .injections
                .iter()
                .find(|j| j.enterprise == e as usize && j.indicator == i as usize && j.covers(ts));
            let value = match injected {
                None => normal,
                Some(j) => {
                    let l1 = indicator.l1_hi.unwrap_or(indicator.range_hi);
                    let l2 = indicator.l2_hi.unwrap_or(l1);
                    match j.value_at(ts, normal, l1, l2) {
                        Some(v) => v,
                        None => continue,
                    }
                }
            };
            let value = (value * 1000.0).round() / 1000.0;
            return Some(SimRecord {
                topic: "sensor.reading",
                key: ent.enterprise_id.clone(),
                value: json!({
                    "ts": EventTime::from_millis(ts).to_rfc3339(),
                    "enterprise_id": ent.enterprise_id,
                    "target_code": indicator.target_code,
                    "value": value,
                    "quality": "good",
                }),
            });
        }
    }
}
