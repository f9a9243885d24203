//! What the warnings stage reads from the engine's state: regions, feedback, production
//! state and input provenance. A trait, so the book can be tested without a store.

use crate::model::{EventTime, ProductionState, WarningFeedback};
use crate::state::{InputRange, StateStore};

use super::record::ModelRef;

pub trait WarningContext {
    /// The county of an enterprise.
    fn region_of(&self, enterprise_id: &str) -> Option<String>;
    /// Feedback on `warning_id` with event time at or before `until`, oldest first.
    fn feedback(
        &self,
        enterprise_id: &str,
        warning_id: &str,
        until: EventTime,
    ) -> Vec<WarningFeedback>;
    /// The enterprise's latest production state.
    fn production_state(&self, enterprise_id: &str) -> Option<ProductionState>;
    /// The enterprise's input ranges applied between `from` and `to` (event time).
    fn inputs(&self, enterprise_id: &str, from: EventTime, to: EventTime) -> Vec<InputRange>;
    /// The enterprise's learned models in force.
    fn models(&self, enterprise_id: &str) -> Vec<ModelRef>;
}

impl WarningContext for StateStore {
    fn region_of(&self, enterprise_id: &str) -> Option<String> {
        StateStore::region_of(self, enterprise_id)
    }

    fn feedback(
        &self,
        enterprise_id: &str,
        warning_id: &str,
        until: EventTime,
    ) -> Vec<WarningFeedback> {
        self.with_enterprise(enterprise_id, |e| {
            e.feedback
                .iter()
                .filter(|(ts, f)| *ts <= until && f.warning_id == warning_id)
                .map(|(_, f)| f.clone())
                .collect()
        })
        .unwrap_or_default()
    }

    fn production_state(&self, enterprise_id: &str) -> Option<ProductionState> {
        self.with_enterprise(enterprise_id, |e| {
            e.status.latest().map(|s| s.production_state)
        })
        .flatten()
    }

    fn inputs(&self, enterprise_id: &str, from: EventTime, to: EventTime) -> Vec<InputRange> {
        self.with_enterprise(enterprise_id, |e| e.inputs.ranges(from, to))
            .unwrap_or_default()
    }

    fn models(&self, enterprise_id: &str) -> Vec<ModelRef> {
        self.with_enterprise(enterprise_id, |e| {
            e.monitors
                .values()
                .map(|m| ModelRef {
                    model_id: m.model.model_id.clone(),
                    version: m.model.version.clone(),
                })
                .collect()
        })
        .unwrap_or_default()
    }
}
