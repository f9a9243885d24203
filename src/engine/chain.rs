//! The chain every mode runs at a tick: the rules read the state (and the warnings as
//! published at the previous tick), the warnings book turns their hits into warning records,
//! and the risk stage turns those into risk records. Replay writes what comes out to files,
//! a live engine to Kafka and the API; the chain is the same, so they agree.

use std::sync::Arc;

use crate::model::EventTime;
use crate::risk::{RiskStage, RiskTick};
use crate::rules::{RuleDriver, RuleEngine, TickReport};
use crate::state::StateStore;
use crate::warnings::{WarningBook, WarningRecord};

pub struct Chain {
    pub driver: RuleDriver,
    pub book: WarningBook,
    /// The risk stage, where the mode computes risk (a rules-only test does not).
    pub risk: Option<RiskStage>,
    store: Arc<StateStore>,
}

/// What one tick produced.
pub struct ChainTick {
    pub report: TickReport,
    pub warnings: Vec<WarningRecord>,
    pub risk: Option<RiskTick>,
}

impl Chain {
    pub fn new(
        driver: RuleDriver,
        book: WarningBook,
        risk: Option<RiskStage>,
        store: Arc<StateStore>,
    ) -> Self {
        Chain {
            driver,
            book,
            risk,
            store,
        }
    }

    pub fn engine(&self) -> &RuleEngine {
        &self.driver.engine
    }

    /// The next boundary to evaluate (see `RuleDriver::due`).
    pub fn due(&self, now: EventTime, next_record: Option<EventTime>) -> Option<EventTime> {
        self.driver.due(now, next_record)
    }

    pub fn start_at(&mut self, origin: EventTime) {
        self.driver.start_at(origin);
    }

    pub fn last_tick(&self) -> Option<EventTime> {
        self.driver.last_tick()
    }

    /// Evaluates the boundary `at`.
    pub async fn tick(&mut self, at: EventTime) -> ChainTick {
        self.show_open_warnings();
        let report = self.driver.tick(at).await;
        self.carry(report)
    }

    /// Evaluates `end` unless a tick already covered it (the end of a finite input).
    pub async fn finish(&mut self, end: EventTime) -> Option<ChainTick> {
        self.show_open_warnings();
        let report = self.driver.finish(end).await?;
        Some(self.carry(report))
    }

    /// The warnings of a rule taken out of the rule files resolve (their records).
    pub fn remove_rule(&mut self, id: &str, version: &str, now: EventTime) -> Vec<WarningRecord> {
        self.book.remove_rule(id, version, now, self.store.as_ref())
    }

    /// The rules read back the warnings as published so far (`open_warnings`).
    fn show_open_warnings(&mut self) {
        let open = self.book.open();
        self.driver.engine.set_open_warnings(open);
    }

    fn carry(&mut self, report: TickReport) -> ChainTick {
        let store = self.store.as_ref();
        let warnings = self.book.apply(&report, &self.driver.engine, store);
        let risk = self
            .risk
            .as_mut()
            .map(|stage| stage.tick(report.now, &warnings, store));
        ChainTick {
            report,
            warnings,
            risk,
        }
    }
}
