//! The risk step of a tick, shared by replay and the live service: fold the tick's warning
//! records in, recompute the enterprises that are due, and every `refresh` the region indices.

use crate::model::EventTime;
use crate::state::StateStore;
use crate::warnings::WarningRecord;

use super::region::{CityIndex, RegionHistory, RegionIndex};
use super::{RiskBook, RiskConfig, RiskRecord};

/// What one tick changed.
#[derive(Default)]
pub struct RiskTick {
    pub now: EventTime,
    pub records: Vec<RiskRecord>,
    /// Recomputed region indices, when the refresh came round.
    pub regions: Option<(Vec<RegionIndex>, Vec<CityIndex>)>,
}

pub struct RiskStage {
    pub book: RiskBook,
    history: RegionHistory,
    regions_at: Option<EventTime>,
    refresh_ms: i64,
}

impl RiskStage {
    pub fn new(config: &RiskConfig, utc_offset_minutes: i32) -> Self {
        RiskStage {
            book: RiskBook::new(config, utc_offset_minutes),
            history: RegionHistory::default(),
            regions_at: None,
            refresh_ms: config.refresh.as_millis() as i64,
        }
    }

    pub fn tick(
        &mut self,
        now: EventTime,
        warnings: &[WarningRecord],
        store: &StateStore,
    ) -> RiskTick {
        self.book.observe(warnings);
        let records = self.book.update(now, store);
        let due = self
            .regions_at
            .is_none_or(|at| now.millis() - at.millis() >= self.refresh_ms);
        let regions = due.then(|| {
            self.regions_at = Some(now);
            self.history.compute(&self.book, now)
        });
        RiskTick {
            now,
            records,
            regions,
        }
    }

    /// Every enterprise's latest record and facts, and the counties' indices, for the planner.
    pub fn snapshot(&mut self, at: EventTime) -> crate::enforce::plan::Snapshot {
        crate::enforce::plan::Snapshot {
            at,
            counties: self.regions(at).0,
            enterprises: self
                .book
                .snapshot()
                .map(|(risk, facts)| super::view::EnterpriseView {
                    risk: risk.clone(),
                    facts: facts.clone(),
                })
                .collect(),
        }
    }

    /// The region indices now, whatever the refresh.
    pub fn regions(&mut self, now: EventTime) -> (Vec<RegionIndex>, Vec<CityIndex>) {
        self.history.compute(&self.book, now)
    }
}
