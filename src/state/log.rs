//! A bounded, time-ordered log of recent items (commitments, inspections, ops samples, ...):
//! at most `max_len` items, none older than `max_age` before the newest.

use std::collections::VecDeque;

use crate::model::EventTime;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TimedLog<T> {
    items: VecDeque<(EventTime, T)>,
    max_len: usize,
    max_age_ms: i64,
}

impl<T> TimedLog<T> {
    pub fn new(max_len: usize, max_age_ms: i64) -> Self {
        TimedLog {
            items: VecDeque::new(),
            max_len,
            max_age_ms,
        }
    }

    /// Inserts in time order (a late item goes to its place) and trims to the bounds.
    pub fn push(&mut self, at: EventTime, item: T) {
        let pos = self.items.partition_point(|(t, _)| *t <= at);
        self.items.insert(pos, (at, item));
        self.trim();
    }

    fn trim(&mut self) {
        while self.items.len() > self.max_len {
            self.items.pop_front();
        }
        let Some(newest) = self.items.back().map(|(t, _)| *t) else {
            return;
        };
        let oldest = newest.saturating_sub_ms(self.max_age_ms);
        while self.items.front().is_some_and(|(t, _)| *t < oldest) {
            self.items.pop_front();
        }
    }

    pub fn latest(&self) -> Option<&T> {
        self.items.back().map(|(_, item)| item)
    }

    /// The newest item at or before `at`.
    pub fn at(&self, at: EventTime) -> Option<&T> {
        let pos = self.items.partition_point(|(t, _)| *t <= at);
        pos.checked_sub(1).map(|i| &self.items[i].1)
    }

    /// The newest item at or before `at`, with its time.
    pub fn entry_at(&self, at: EventTime) -> Option<&(EventTime, T)> {
        let pos = self.items.partition_point(|(t, _)| *t <= at);
        pos.checked_sub(1).map(|i| &self.items[i])
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &(EventTime, T)> {
        self.items.iter()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_bounds() {
        let mut log = TimedLog::new(3, 100);
        for (t, v) in [(10, 'a'), (30, 'c'), (20, 'b'), (40, 'd')] {
            log.push(EventTime::from_millis(t), v);
        }
        let values: Vec<char> = log.iter().map(|(_, v)| *v).collect();
        assert_eq!(values, ['b', 'c', 'd']);
        log.push(EventTime::from_millis(500), 'e');
        assert_eq!(log.len(), 1);
        assert_eq!(log.at(EventTime::from_millis(499)), None);
    }
}
