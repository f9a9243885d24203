//! Time-weighted share of an enterprise's points that were offline: sampled whenever its
//! index is computed, one sample per 5-minute slot, kept over the alarm window (for D) and per
//! day over the region window (for the CPI's data quality).

use std::collections::VecDeque;

use crate::model::EventTime;

const SLOT_MS: i64 = 5 * 60_000;
const DAY_MS: i64 = 24 * 3_600_000;

#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct OnlineHistory {
    /// (slot start, offline share), newest last.
    slots: VecDeque<(i64, f64)>,
    /// (day start, sum of slot shares, slots), newest last.
    days: VecDeque<(i64, f64, u32)>,
}

impl OnlineHistory {
    /// Records the share offline at `now`; a later sample in the same slot replaces it.
    pub fn sample(&mut self, now: EventTime, offline_share: f64, window_ms: i64, days_ms: i64) {
        let slot = now.millis().div_euclid(SLOT_MS) * SLOT_MS;
        match self.slots.back().copied() {
            Some((last, old)) if last == slot => {
                self.replace_in_day(slot, old, offline_share);
                self.slots.back_mut().expect("just seen").1 = offline_share;
            }
            Some((last, _)) if last > slot => return,
            _ => {
                self.slots.push_back((slot, offline_share));
                self.add_to_day(slot, offline_share);
            }
        }
        while self
            .slots
            .front()
            .is_some_and(|(s, _)| *s <= slot - window_ms)
        {
            self.slots.pop_front();
        }
        while self
            .days
            .front()
            .is_some_and(|(d, _, _)| *d <= slot - days_ms)
        {
            self.days.pop_front();
        }
    }

    fn add_to_day(&mut self, slot: i64, share: f64) {
        let day = slot.div_euclid(DAY_MS) * DAY_MS;
        match self.days.back_mut() {
            Some((d, sum, n)) if *d == day => {
                *sum += share;
                *n += 1;
            }
            _ => self.days.push_back((day, share, 1)),
        }
    }

    fn replace_in_day(&mut self, slot: i64, old: f64, new: f64) {
        let day = slot.div_euclid(DAY_MS) * DAY_MS;
        if let Some((d, sum, _)) = self.days.back_mut() {
            if *d == day {
                *sum += new - old;
            }
        }
    }

    /// Mean share offline over the kept slots.
    pub fn recent_share(&self) -> f64 {
        mean(self.slots.iter().map(|(_, s)| (*s, 1)))
    }

    /// Mean share offline over the kept days.
    pub fn long_share(&self) -> f64 {
        mean(self.days.iter().map(|(_, sum, n)| (*sum, *n)))
    }
}

fn mean(parts: impl Iterator<Item = (f64, u32)>) -> f64 {
    let (sum, n) = parts.fold((0.0, 0u32), |(s, n), (x, k)| (s + x, n + k));
    if n == 0 {
        0.0
    } else {
        sum / f64::from(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn the_share_is_weighted_by_time_not_by_sample() {
        let mut h = OnlineHistory::default();
        let window = 24 * 60 * MIN;
        // Offline for 10 min, then online for 30 min, sampled every minute.
        for m in 0..40 {
            let share = if m < 10 { 1.0 } else { 0.0 };
            h.sample(EventTime::from_millis(m * MIN), share, window, 30 * DAY_MS);
        }
        assert_eq!(h.recent_share(), 2.0 / 8.0);
        assert_eq!(h.long_share(), 2.0 / 8.0);
    }

    #[test]
    fn old_slots_leave_the_window() {
        let mut h = OnlineHistory::default();
        h.sample(EventTime::from_millis(0), 1.0, 60 * MIN, DAY_MS);
        h.sample(EventTime::from_millis(61 * MIN), 0.0, 60 * MIN, DAY_MS);
        assert_eq!(h.recent_share(), 0.0);
        assert_eq!(h.long_share(), 0.5);
    }
}
