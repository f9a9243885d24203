//! What the risk index and the region index need to know about warnings, folded from the
//! warning records themselves (so it is the same in replay and live): each enterprise's open
//! warnings, and the ones resolved within the region window.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use crate::model::{EventTime, FeedbackAction};
use crate::rules::Color;
use crate::warnings::record::SuppressedBy;
use crate::warnings::{Tier, Transition, WarningRecord};

/// Resolved warnings kept per enterprise for the region window.
const RESOLVED_PER_ENTERPRISE: usize = 2000;

/// One warning, as the indices see it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WarningFacts {
    pub id: String,
    /// The DOMAIN.md rule number (`r02_gas_leak` is 2); 0 for a rule outside the catalogue.
    pub rule: u8,
    pub rule_id: String,
    pub subject: String,
    pub color: Color,
    pub tier: Tier,
    pub value: Option<f64>,
    pub fired_at: EventTime,
    /// When an organisation first acknowledged, verified or closed it.
    pub handled_at: Option<EventTime>,
    pub resolved_at: Option<EventTime>,
    /// False when a silence or an inhibition holds it back (a flood does not: its condition is
    /// real and counts).
    pub counts: bool,
}

/// The rule number of a rule id: `r02_gas_leak` is 2.
pub fn rule_number(rule_id: &str) -> u8 {
    rule_id
        .strip_prefix('r')
        .and_then(|rest| rest.get(..2))
        .and_then(|digits| digits.parse().ok())
        .unwrap_or(0)
}

#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct EnterpriseWarnings {
    pub region_id: Option<String>,
    pub open: BTreeMap<String, WarningFacts>,
    pub resolved: VecDeque<WarningFacts>,
}

impl EnterpriseWarnings {
    /// Open warnings that count towards the index.
    pub fn counting(&self) -> impl Iterator<Item = &WarningFacts> {
        self.open.values().filter(|w| w.counts)
    }

    /// Every warning fired at or after `since`, open or resolved.
    pub fn fired_since(&self, since: EventTime) -> impl Iterator<Item = &WarningFacts> {
        let resolved = self.resolved.iter().filter(move |w| w.fired_at >= since);
        let open = self.open.values().filter(move |w| w.fired_at >= since);
        resolved.chain(open)
    }
}

/// Per-enterprise warning facts.
#[derive(Debug, Default)]
pub struct WarningLedger {
    enterprises: HashMap<String, EnterpriseWarnings>,
    window_ms: i64,
}

impl WarningLedger {
    pub fn new(window: std::time::Duration) -> Self {
        WarningLedger {
            enterprises: HashMap::new(),
            window_ms: window.as_millis() as i64,
        }
    }

    /// The facts of `enterprises`, for their checkpoint.
    pub fn of_many(&self, enterprises: &BTreeSet<String>) -> Vec<(String, EnterpriseWarnings)> {
        enterprises
            .iter()
            .filter_map(|e| Some((e.clone(), self.enterprises.get(e)?.clone())))
            .collect()
    }

    pub fn restore(&mut self, facts: Vec<(String, EnterpriseWarnings)>) {
        self.enterprises.extend(facts);
    }

    pub fn forget(&mut self, enterprises: &BTreeSet<String>) {
        self.enterprises.retain(|e, _| !enterprises.contains(e));
    }

    /// Folds one record in; returns the enterprise it concerns.
    pub fn observe<'r>(&mut self, record: &'r WarningRecord) -> &'r str {
        let at = parse(&record.at);
        let entry = self
            .enterprises
            .entry(record.enterprise_id.clone())
            .or_default();
        if record.region_id.is_some() {
            entry.region_id.clone_from(&record.region_id);
        }
        let facts = entry
            .open
            .entry(record.id.clone())
            .or_insert_with(|| WarningFacts::from_record(record));
        facts.update(record, at);
        if record.state == Transition::Resolved {
            if let Some(done) = entry.open.remove(&record.id) {
                entry.resolved.push_back(done);
            }
            trim(&mut entry.resolved, at.saturating_sub_ms(self.window_ms));
        }
        &record.enterprise_id
    }

    pub fn of(&self, enterprise_id: &str) -> Option<&EnterpriseWarnings> {
        self.enterprises.get(enterprise_id)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &EnterpriseWarnings)> {
        self.enterprises.iter()
    }
}

fn trim(resolved: &mut VecDeque<WarningFacts>, oldest: EventTime) {
    while resolved.len() > RESOLVED_PER_ENTERPRISE
        || resolved.front().is_some_and(|w| w.fired_at < oldest)
    {
        resolved.pop_front();
    }
}

fn parse(text: &str) -> EventTime {
    EventTime::parse_rfc3339(text).unwrap_or_default()
}

impl WarningFacts {
    fn from_record(record: &WarningRecord) -> Self {
        WarningFacts {
            id: record.id.clone(),
            rule: rule_number(&record.rule_id),
            rule_id: record.rule_id.clone(),
            subject: record.subject.clone(),
            color: record.color,
            tier: record.tier,
            value: record.value,
            fired_at: parse(&record.fired_at),
            handled_at: None,
            resolved_at: None,
            counts: true,
        }
    }

    fn update(&mut self, record: &WarningRecord, at: EventTime) {
        self.color = record.color;
        self.tier = self.tier.max(record.tier);
        self.value = record.value;
        self.counts = !matches!(
            record.suppressed.as_ref().map(|s| s.by),
            Some(SuppressedBy::Silence | SuppressedBy::Inhibition)
        );
        let handled = record.handling.as_ref().filter(|h| {
            matches!(
                h.action,
                FeedbackAction::Ack
                    | FeedbackAction::Verified
                    | FeedbackAction::Resolved
                    | FeedbackAction::FalseAlarm
                    | FeedbackAction::Maintenance
            )
        });
        if let (None, Some(h)) = (self.handled_at, handled) {
            self.handled_at = Some(h.at);
        }
        if record.state == Transition::Resolved {
            self.resolved_at = Some(at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_numbers_come_from_the_id() {
        assert_eq!(rule_number("r02_gas_leak"), 2);
        assert_eq!(rule_number("r13_inventory_over_capacity"), 13);
        assert_eq!(rule_number("custom_rule"), 0);
    }
}
