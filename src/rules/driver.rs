//! Drives the engine from an advancing event-time clock: a tick at every `rules.tick`
//! boundary the clock passes (none skipped when it jumps over several, so the ticks are the
//! same however the input arrives), and a last one at the end of a finite input.

use std::sync::Arc;
use std::time::Duration;

use crate::model::EventTime;
use crate::state::StateStore;

use super::engine::{RuleEngine, TickReport};

pub struct RuleDriver {
    pub engine: RuleEngine,
    store: Arc<StateStore>,
    tick_ms: i64,
    quiet_ms: i64,
    last: Option<EventTime>,
    /// Where the first tick is, when the source says (`start_at`).
    first: Option<EventTime>,
}

impl RuleDriver {
    pub fn new(
        engine: RuleEngine,
        store: Arc<StateStore>,
        tick: Duration,
        quiet: Duration,
    ) -> Self {
        let tick_ms = (tick.as_millis() as i64).max(1);
        RuleDriver {
            engine,
            store,
            tick_ms,
            quiet_ms: (quiet.as_millis() as i64).max(tick_ms),
            last: None,
            first: None,
        }
    }

    /// The next boundary to evaluate once the clock is at `now`, given the event time of
    /// the next record waiting (`next_record`): the first boundary after the last tick that
    /// covers a record, or else the next multiple of the quiet tick. The first tick is the
    /// boundary at or before the origin (`start_at`), else `now`.
    pub fn due(&self, now: EventTime, next_record: Option<EventTime>) -> Option<EventTime> {
        let floor = |t: i64, step: i64| t.div_euclid(step) * step;
        let ceil = |t: i64, step: i64| -floor(-t, step);
        let next = match self.last {
            None => floor(self.first.unwrap_or(now).millis(), self.tick_ms),
            Some(last) => {
                let after = floor(last.millis(), self.tick_ms).saturating_add(self.tick_ms);
                let record = next_record.map_or(i64::MAX, |t| ceil(t.millis(), self.tick_ms));
                record.max(after).min(ceil(after, self.quiet_ms))
            }
        };
        (next <= now.millis()).then(|| EventTime::from_millis(next))
    }

    /// The first tick is the boundary at or before `origin` (the source's first watermark),
    /// not the clock's first value, which depends on how the first records were batched.
    pub fn start_at(&mut self, origin: EventTime) {
        self.first.get_or_insert(origin);
    }

    /// Evaluates the boundary `at` (from `due`).
    pub async fn tick(&mut self, at: EventTime) -> TickReport {
        self.last = Some(at);
        self.engine.tick(&self.store, at).await
    }

    /// Ticks at `end` unless a tick already covered it.
    pub async fn finish(&mut self, end: EventTime) -> Option<TickReport> {
        if self.last.is_some_and(|last| end <= last) {
            return None;
        }
        self.tick_at(end).await
    }

    async fn tick_at(&mut self, at: EventTime) -> Option<TickReport> {
        Some(self.tick(at).await)
    }

    /// Goes on after a checkpoint's last tick: no boundary up to it is evaluated again.
    pub fn resume_after(&mut self, tick: EventTime) {
        self.last = Some(self.last.map_or(tick, |last| last.max(tick)));
    }

    pub fn last_tick(&self) -> Option<EventTime> {
        self.last
    }
}
