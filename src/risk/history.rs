//! An enterprise's index over the last day, for the map's sparkline: one point per quarter
//! hour of event time (the newest computation in it), 24 hours kept, so at most 97 points.
//! Part of the risk book, so it is checkpointed and the same replayed as live.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::model::EventTime;
use crate::rules::Color;

pub const SLOT_MS: i64 = 15 * 60_000;
pub const KEPT_MS: i64 = 24 * 3_600_000;

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndexPoint {
    pub at: EventTime,
    pub eri: f64,
    pub color: Color,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IndexHistory {
    points: VecDeque<IndexPoint>,
}

impl IndexHistory {
    /// A computation at `at`: it replaces the point of its quarter hour, or starts the next;
    /// points older than a day before it go. One older than the newest point is ignored.
    pub fn record(&mut self, at: EventTime, eri: f64, color: Color) {
        let point = IndexPoint { at, eri, color };
        let slot = |t: EventTime| t.millis().div_euclid(SLOT_MS);
        match self.points.back_mut() {
            Some(last) if at < last.at => return,
            Some(last) if slot(last.at) == slot(at) => *last = point,
            _ => self.points.push_back(point),
        }
        let oldest = at.millis().saturating_sub(KEPT_MS);
        while self.points.front().is_some_and(|p| p.at.millis() < oldest) {
            self.points.pop_front();
        }
    }

    pub fn points(&self) -> impl Iterator<Item = &IndexPoint> {
        self.points.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_point_per_quarter_hour_for_a_day() {
        let mut h = IndexHistory::default();
        // A computation every 5 minutes for two days.
        for n in 0..(2 * 24 * 12) {
            let at = EventTime::from_millis(n * 5 * 60_000);
            h.record(at, n as f64, Color::Blue);
        }
        let points: Vec<&IndexPoint> = h.points().collect();
        assert_eq!(points.len(), 97, "24 h of quarter hours, both ends");
        // Each point is the newest computation of its quarter hour.
        assert!(points
            .iter()
            .all(|p| p.at.millis() % SLOT_MS == 10 * 60_000 || p.at == points.last().unwrap().at));
        let newest = points.last().unwrap();
        assert_eq!(newest.eri, (2 * 24 * 12 - 1) as f64);
        assert!(newest.at.millis() - points[0].at.millis() <= KEPT_MS);
        // An older computation changes nothing.
        h.record(EventTime::from_millis(0), -1.0, Color::Red);
        assert_eq!(h.points().count(), 97);
    }
}
