//! The ground truth of an injected incident: which rule should fire, for which enterprise
//! and subject, from when until when (`--truth-out`; tests score detection against it).

use serde::Serialize;

use crate::model::EventTime;

use super::permits::injected_jobs;
use super::scenario::{commitment_window, Injection, Scenario, FLAT_LINE_MS, RUSH_MS};
use super::Province;

/// What the rule should report: one line of `--truth-out`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroundTruth {
    pub scenario: &'static str,
    pub rule_id: &'static str,
    pub enterprise_id: String,
    pub subject: String,
    pub from: EventTime,
    pub until: EventTime,
}

impl Injection {
    /// What the rules should report: the scenario's own rule, and any that fires with it.
    pub fn truths(&self, province: &Province) -> Vec<GroundTruth> {
        let own = self.truth(province, self.scenario.rule_id());
        let also = self
            .scenario
            .also_fires()
            .map(|rule| self.truth(province, rule));
        std::iter::once(own).chain(also).collect()
    }

    fn truth(&self, province: &Province, rule_id: &'static str) -> GroundTruth {
        let ent = &province.enterprises[self.enterprise];
        let (subject, from, until) = match injected_jobs(province, self).first() {
            Some(job) => job.reported(self.scenario, &ent.enterprise_id),
            None => {
                let (from, until) = self.reported_window(rule_id);
                let subject = match (self.indicator, self.scenario) {
                    (Some(i), _) => ent.indicators[i].target_code.clone(),
                    (None, Scenario::OverCapacity) => ent.tank_id(),
                    (None, Scenario::AlarmFlood) => ent.console_id(),
                    (None, _) => ent.enterprise_id.clone(),
                };
                (subject, from, until)
            }
        };
        GroundTruth {
            scenario: self.scenario.name(),
            rule_id,
            enterprise_id: ent.enterprise_id.clone(),
            subject,
            from,
            until,
        }
    }

    /// When `rule_id` can see the incident: a flat line only once it has lasted; a missing
    /// commitment from the 10:00 deadline (and once resumed) to the day's end.
    fn reported_window(&self, rule_id: &str) -> (EventTime, EventTime) {
        match self.scenario {
            Scenario::FlatLine => (self.from.saturating_add_ms(FLAT_LINE_MS), self.until),
            Scenario::RushProduction => (self.from.saturating_add_ms(RUSH_MS), self.until),
            // An orange warning is due for acknowledgement in 30 minutes. R7's own subject is
            // the unanswered warning's id, which only the engine knows: the truth names the
            // leaking point that warning is about.
            Scenario::UnansweredWarnings if rule_id == self.scenario.rule_id() => {
                (self.from.saturating_add_ms(30 * 60_000), self.until)
            }
            // Until the next day's commitment declares it.
            Scenario::MajorHazardNotDeclared => {
                let next_day = self.from.saturating_add_ms(86_400_000);
                (self.from, commitment_window(next_day).0)
            }
            Scenario::ResumedWithoutCommitment => {
                let (deadline, day_end) = commitment_window(self.from);
                let from = if rule_id == self.scenario.rule_id() {
                    deadline.max(self.from)
                } else {
                    deadline
                };
                (from, day_end)
            }
            _ => (self.from, self.until),
        }
    }
}
