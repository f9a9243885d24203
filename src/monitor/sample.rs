//! A unit's samples: at every multiple of the sample period, each indicator's latest value at
//! or before it. A value older than two periods is stale, and a boundary with a stale or
//! missing indicator has no sample. Readings come in event-time order (as the pipeline applies
//! them); one older than a boundary already sampled is counted and left out.

use crate::model::EventTime;

/// A value older than this many periods is stale: it makes no sample.
pub const STALE_AFTER_PERIODS: i64 = 2;

/// One row: the unit's indicators at `at`.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub at: EventTime,
    pub values: Vec<f64>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Aligner {
    period_ms: i64,
    /// Each column's latest reading: (event time ms, value).
    latest: Vec<Option<(i64, f64)>>,
    /// The next boundary to sample; none before the first reading.
    next: Option<i64>,
    /// Readings older than a boundary already sampled.
    pub out_of_order: u64,
}

impl Aligner {
    pub fn new(columns: usize, period_ms: i64) -> Self {
        Aligner {
            period_ms: period_ms.max(1),
            latest: vec![None; columns],
            next: None,
            out_of_order: 0,
        }
    }

    /// A reading of `column` at `at`. Samples of the boundaries it passes go to `out`.
    pub fn push(&mut self, column: usize, at: EventTime, value: f64, out: &mut Vec<Sample>) {
        let ts = at.millis();
        let Some(slot) = self.latest.get(column) else {
            return;
        };
        if self.next.is_some_and(|next| ts <= next - self.period_ms) {
            self.out_of_order += 1;
            return;
        }
        if slot.is_some_and(|(t, _)| t > ts) {
            self.out_of_order += 1;
            return;
        }
        // Every boundary before this reading has seen all of its readings.
        self.sample_until(ts - 1, out);
        self.latest[column] = Some((ts, value));
        if self.next.is_none() {
            self.next = Some(ceil(ts, self.period_ms));
        }
    }

    /// The end of a finite input: the boundaries up to the newest reading.
    pub fn finish(&mut self, out: &mut Vec<Sample>) {
        if let Some(newest) = self.newest() {
            self.sample_until(newest, out);
        }
    }

    /// Samples every boundary up to `until`, jumping over stretches where nothing is fresh.
    fn sample_until(&mut self, until: i64, out: &mut Vec<Sample>) {
        let Some(mut next) = self.next else {
            return;
        };
        let max_age = STALE_AFTER_PERIODS * self.period_ms;
        while next <= until {
            match self.newest() {
                Some(newest) if next - newest <= max_age => {}
                // Nothing is fresh until a new reading: go on from the one waiting.
                _ => {
                    next = ceil(until, self.period_ms);
                    if next > until {
                        break;
                    }
                }
            }
            if let Some(values) = self.values_at(next, max_age) {
                out.push(Sample {
                    at: EventTime::from_millis(next),
                    values,
                });
            }
            next += self.period_ms;
        }
        self.next = Some(next);
    }

    fn values_at(&self, boundary: i64, max_age: i64) -> Option<Vec<f64>> {
        self.latest
            .iter()
            .map(|slot| match slot {
                Some((t, v)) if *t <= boundary && boundary - t <= max_age => Some(*v),
                _ => None,
            })
            .collect()
    }

    fn newest(&self) -> Option<i64> {
        self.latest.iter().flatten().map(|(t, _)| *t).max()
    }
}

fn ceil(t: i64, step: i64) -> i64 {
    -(-t).div_euclid(step) * step
}

#[cfg(test)]
mod tests {
    use super::*;

    const PERIOD: i64 = 180_000;

    fn at(ms: i64) -> EventTime {
        EventTime::from_millis(ms)
    }

    #[test]
    fn a_boundary_is_sampled_once_a_later_reading_shows_it_complete() {
        let mut a = Aligner::new(2, PERIOD);
        let mut out = Vec::new();
        for k in 0..3 {
            a.push(0, at(k * PERIOD), k as f64, &mut out);
            a.push(1, at(k * PERIOD + 10), 10.0 + k as f64, &mut out);
        }
        // Column 1 reports 10 ms after each boundary: its value counts for the next one.
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(
            out[0],
            Sample {
                at: at(PERIOD),
                values: vec![1.0, 10.0]
            }
        );
        a.finish(&mut out);
        assert_eq!(out.last().unwrap().values, vec![2.0, 11.0]);
    }

    #[test]
    fn stale_and_missing_indicators_make_no_sample_and_a_gap_is_jumped() {
        let mut a = Aligner::new(2, PERIOD);
        let mut out = Vec::new();
        a.push(0, at(0), 1.0, &mut out);
        a.push(1, at(0), 2.0, &mut out);
        for k in 1..6 {
            a.push(0, at(k * PERIOD), 1.0, &mut out);
        }
        // Column 1 was last heard at 0: fresh for two periods (boundaries 0, 1, 2), then stale.
        let times: Vec<i64> = out.iter().map(|s| s.at.millis()).collect();
        assert_eq!(times, vec![0, PERIOD, 2 * PERIOD]);
        // Ten years later: no sample for the gap, and no walk over its boundaries either.
        let later = 10 * 365 * 86_400_000;
        a.push(0, at(later), 1.0, &mut out);
        a.push(1, at(later), 2.0, &mut out);
        a.push(0, at(later + PERIOD), 1.0, &mut out);
        assert_eq!(out.len(), 4);
        assert_eq!(out[3].at, at(later));
    }

    #[test]
    fn a_reading_older_than_a_sampled_boundary_is_counted_not_used() {
        let mut a = Aligner::new(1, PERIOD);
        let mut out = Vec::new();
        a.push(0, at(0), 1.0, &mut out);
        a.push(0, at(PERIOD), 2.0, &mut out);
        a.push(0, at(PERIOD - 5), 99.0, &mut out);
        a.push(0, at(2 * PERIOD), 3.0, &mut out);
        assert_eq!(a.out_of_order, 1);
        assert_eq!(
            out.iter().map(|s| s.values[0]).collect::<Vec<_>>(),
            vec![1.0, 2.0]
        );
        a.push(7, at(3 * PERIOD), 1.0, &mut out);
    }
}
