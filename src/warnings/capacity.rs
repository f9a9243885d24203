//! Warnings about vigil itself, for whoever reads `vigil.warnings`: a rule returning more
//! rows than `rules.max_hits_per_tick` (its warnings are withheld while it does), and the book
//! refusing new warnings past `warnings.max_open`. Each condition is one warning that fires
//! when it starts and resolves when it ends, however many hits it withholds.
//!
//! They concern the service, not an enterprise: the enterprise id is empty and the tier is
//! the province. Their ids depend only on the condition (rule and subject), so a restarted
//! service that finds the condition still true repeats the same warning, not a new one.

use std::collections::BTreeMap;

use serde_json::{json, Map};

use crate::model::EventTime;
use crate::rules::Color;

use super::lifecycle::Transition;
use super::record::{warning_id, Tier, WarningRecord};

/// A rule's evaluation returned more than `rules.max_hits_per_tick` rows; subject: the rule.
pub const RULE_OVERFLOW: &str = "r00_rule_overflow";
/// The book holds `warnings.max_open` warnings and refused new ones; subject: `warnings`.
pub const BOOK_FULL: &str = "r00_warnings_capacity";

/// A condition true at this tick.
pub(super) struct Condition {
    pub rule_id: &'static str,
    pub subject: String,
    pub color: Color,
    /// What was withheld at this tick (hits refused), for the record.
    pub value: Option<f64>,
    pub message: String,
}

struct Firing {
    since: EventTime,
    color: Color,
}

/// The service's own warnings that are firing.
#[derive(Default)]
pub(super) struct Capacity {
    firing: BTreeMap<(&'static str, String), Firing>,
}

impl Capacity {
    /// Moves the service's warnings on. `present` holds the conditions true now; `checked`
    /// says whether a firing one was looked at this tick (a rule not due keeps its state).
    pub fn update(
        &mut self,
        now: EventTime,
        present: Vec<Condition>,
        checked: impl Fn(&str, &str) -> bool,
    ) -> Vec<WarningRecord> {
        let mut out = Vec::new();
        let mut seen = Vec::new();
        for c in present {
            let key = (c.rule_id, c.subject.clone());
            if !self.firing.contains_key(&key) {
                out.push(record(&c, now, now, Transition::Firing));
                let firing = Firing {
                    since: now,
                    color: c.color,
                };
                self.firing.insert(key.clone(), firing);
            }
            seen.push(key);
        }
        let ended: Vec<_> = self
            .firing
            .keys()
            .filter(|k| !seen.contains(k) && checked(k.0, &k.1))
            .cloned()
            .collect();
        for key in ended {
            let firing = self.firing.remove(&key).expect("listed above");
            let c = Condition {
                rule_id: key.0,
                subject: key.1,
                color: firing.color,
                value: None,
                message: "the condition ended".into(),
            };
            out.push(record(&c, firing.since, now, Transition::Resolved));
        }
        out
    }

    pub fn firing(&self) -> usize {
        self.firing.len()
    }
}

fn record(c: &Condition, since: EventTime, now: EventTime, state: Transition) -> WarningRecord {
    let (basis, action) = match c.rule_id {
        RULE_OVERFLOW => (
            "vigil: rules.max_hits_per_tick",
            "Check the rule's query (it matches far more than it should) or raise rules.max_hits_per_tick.",
        ),
        _ => (
            "vigil: warnings.max_open",
            "Find the rule behind the flood of warnings, or raise warnings.max_open.",
        ),
    };
    let mut evidence = Map::new();
    evidence.insert("condition".into(), json!(c.rule_id));
    WarningRecord {
        id: warning_id(c.rule_id, "", &c.subject, EventTime::default()),
        rule_id: c.rule_id.into(),
        rule_version: "builtin".into(),
        enterprise_id: String::new(),
        region_id: None,
        subject: c.subject.clone(),
        color: c.color,
        state,
        tier: Tier::Province,
        at: now.to_rfc3339(),
        first_seen: since.to_rfc3339(),
        fired_at: since.to_rfc3339(),
        resolved_at: (state == Transition::Resolved).then(|| now.to_rfc3339()),
        reason: None,
        value: c.value,
        threshold: None,
        message: c.message.clone(),
        basis: basis.into(),
        suggested_action: Some(action.into()),
        handling: None,
        suppressed: None,
        activations: 1,
        chattering: false,
        evidence,
        inputs: Vec::new(),
        models: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overflow(rule: &str) -> Condition {
        Condition {
            rule_id: RULE_OVERFLOW,
            subject: rule.into(),
            color: Color::Orange,
            value: Some(10.0),
            message: "too many".into(),
        }
    }

    fn t(s: i64) -> EventTime {
        EventTime::from_millis(s * 1000)
    }

    #[test]
    fn fires_once_while_present_and_resolves_once_checked_absent() {
        let mut c = Capacity::default();
        let first = c.update(t(1), vec![overflow("r01")], |_, _| true);
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].state, Transition::Firing);
        assert!(c
            .update(t(2), vec![overflow("r01")], |_, _| true)
            .is_empty());
        // Not evaluated at this tick: still firing.
        assert!(c.update(t(3), vec![], |_, _| false).is_empty());
        let end = c.update(t(4), vec![], |_, _| true);
        assert_eq!(end.len(), 1);
        assert_eq!(end[0].state, Transition::Resolved);
        assert_eq!(end[0].id, first[0].id, "one warning per condition");
        assert_eq!(end[0].first_seen, first[0].first_seen);
        assert_eq!(c.firing(), 0);
        // The same condition later is the same warning again.
        let again = c.update(t(9), vec![overflow("r01")], |_, _| true);
        assert_eq!(again[0].id, first[0].id);
    }
}
