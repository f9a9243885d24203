//! Whether a new or escalated warning is suppressed, and by what: a silence, an inhibition
//! rule whose source fires for the same enterprise (or whose production state holds), or the
//! enterprise's flood (never a red warning). Suppressed warnings are still recorded.

use std::collections::BTreeMap;

use crate::model::EventTime;

use super::config::{InhibitRule, WarningsConfig};
use super::context::WarningContext;
use super::entry::{Entry, Key};
use super::hygiene::{Hygiene, FLOOD_RULE};
use super::record::{SuppressedBy, Suppression, WarningRecord};
use super::silence::Silences;
use super::summary::is_red;

pub(super) struct Suppressors<'a> {
    pub entries: &'a BTreeMap<Key, Entry>,
    pub config: &'a WarningsConfig,
    pub silences: &'a Silences,
    pub hygiene: &'a Hygiene,
    pub ctx: &'a dyn WarningContext,
}

impl Suppressors<'_> {
    pub fn find(&self, record: &WarningRecord, now: EventTime) -> Option<Suppression> {
        if let Some(id) = self.silences.matching(record, now) {
            return Some(Suppression {
                by: SuppressedBy::Silence,
                source: id,
            });
        }
        let inhibited = self
            .config
            .inhibit
            .iter()
            .filter(|rule| rule.target_rules.contains(&record.rule_id))
            .find_map(|rule| self.inhibitor(rule, record));
        if let Some(source) = inhibited {
            return Some(Suppression {
                by: SuppressedBy::Inhibition,
                source,
            });
        }
        let flood = self.hygiene.flood(&record.enterprise_id)?;
        (!is_red(record.color) && record.rule_id != FLOOD_RULE).then(|| Suppression {
            by: SuppressedBy::Flood,
            source: flood.id.clone(),
        })
    }

    /// `name: <what inhibits>` when `rule` inhibits `record`.
    fn inhibitor(&self, rule: &InhibitRule, record: &WarningRecord) -> Option<String> {
        if !rule.source_production_states.is_empty() {
            let state = self.ctx.production_state(&record.enterprise_id);
            if let Some(state) = state.filter(|s| rule.source_production_states.contains(s)) {
                return Some(format!(
                    "{}: production state {}",
                    rule.name,
                    state.as_str()
                ));
            }
        }
        let enterprise = &record.enterprise_id;
        rule.source_rules
            .iter()
            .flat_map(|r| {
                let start = (r.clone(), enterprise.clone(), String::new());
                self.entries
                    .range(start..)
                    .take_while(move |((rr, e, _), _)| rr == r && e == enterprise)
            })
            .map(|(_, source)| source)
            .filter(|source| source.tracked.fired_at.is_some() && source.id() != record.id)
            .find(|source| contains_subject(rule, source, &record.subject))
            .map(|source| format!("{}: {}", rule.name, source.id()))
    }
}

pub(super) fn contains_subject(rule: &InhibitRule, source: &Entry, subject: &str) -> bool {
    let Some(column) = &rule.subject_in else {
        return true;
    };
    source
        .last
        .evidence
        .get(column)
        .and_then(|v| v.as_str())
        .is_some_and(|list| list.split(',').any(|s| s.trim() == subject))
}
