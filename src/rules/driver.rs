//! Drives the engine from an advancing event-time clock: a tick at each `rules.tick`
//! boundary the clock reaches (one tick when it jumps over several), and a last one at the
//! end of a finite input.

use std::sync::Arc;
use std::time::Duration;

use crate::model::EventTime;
use crate::state::StateStore;

use super::engine::{RuleEngine, TickReport};

pub struct RuleDriver {
    pub engine: RuleEngine,
    store: Arc<StateStore>,
    tick_ms: i64,
    last: Option<EventTime>,
}

impl RuleDriver {
    pub fn new(engine: RuleEngine, store: Arc<StateStore>, tick: Duration) -> Self {
        RuleDriver {
            engine,
            store,
            tick_ms: (tick.as_millis() as i64).max(1),
            last: None,
        }
    }

    /// Ticks if `now` reached a boundary after the last tick.
    pub async fn advance(&mut self, now: EventTime) -> Option<TickReport> {
        let boundary = EventTime::from_millis(now.millis().div_euclid(self.tick_ms) * self.tick_ms);
        if self.last.is_some_and(|last| boundary <= last) {
            return None;
        }
        self.tick_at(boundary).await
    }

    /// Ticks at `end` unless a tick already covered it.
    pub async fn finish(&mut self, end: EventTime) -> Option<TickReport> {
        if self.last.is_some_and(|last| end <= last) {
            return None;
        }
        self.tick_at(end).await
    }

    async fn tick_at(&mut self, at: EventTime) -> Option<TickReport> {
        self.last = Some(at);
        Some(self.engine.tick(&self.store, at).await)
    }

    /// Goes on after a checkpoint's last tick: no boundary up to it is evaluated again.
    pub fn resume_after(&mut self, tick: EventTime) {
        self.last = Some(self.last.map_or(tick, |last| last.max(tick)));
    }

    pub fn last_tick(&self) -> Option<EventTime> {
        self.last
    }
}
