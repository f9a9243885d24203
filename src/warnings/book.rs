//! Every warning vigil tracks, and the records their transitions produce. Fed once per tick
//! with the rules' hits; deterministic, so a replay gives the records the live run gave.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::EventTime;
use crate::rules::engine::TickReport;
use crate::rules::{RuleEngine, RuleHit};

use super::lifecycle::{Timing, Tracked, Transition};
use super::record::{warning_id, WarningRecord};

type Key = (String, String, String);

struct Entry {
    tracked: Tracked,
    /// The newest hit, for the record's value, message and evidence.
    last: RuleHit,
}

/// Rule metadata a record carries.
struct RuleInfo {
    version: String,
    basis: String,
    title: String,
    suggested_action: Option<String>,
    timing: Timing,
}

#[derive(Default)]
pub struct WarningBook {
    entries: BTreeMap<Key, Entry>,
}

impl WarningBook {
    /// Applies one tick: every rule that evaluated without error moves its warnings on.
    /// `region_of` names an enterprise's county.
    pub fn apply(
        &mut self,
        tick: &TickReport,
        rules: &RuleEngine,
        region_of: &dyn Fn(&str) -> Option<String>,
    ) -> Vec<WarningRecord> {
        let mut out = Vec::new();
        for run in tick.runs.iter().filter(|r| r.error.is_none()) {
            let Some(info) = rule_info(rules, &run.rule_id) else {
                continue;
            };
            let hits: Vec<&RuleHit> = tick
                .hits
                .iter()
                .filter(|h| h.rule_id == run.rule_id)
                .collect();
            self.apply_rule(&run.rule_id, &hits, &info, tick.now, region_of, &mut out);
        }
        out
    }

    fn apply_rule(
        &mut self,
        rule_id: &str,
        hits: &[&RuleHit],
        info: &RuleInfo,
        now: EventTime,
        region_of: &dyn Fn(&str) -> Option<String>,
        out: &mut Vec<WarningRecord>,
    ) {
        let mut seen = BTreeSet::new();
        for hit in hits {
            let key = (
                rule_id.to_owned(),
                hit.enterprise_id.clone(),
                hit.subject.clone(),
            );
            let entry = self.entries.entry(key.clone()).or_insert_with(|| Entry {
                tracked: Tracked::new(now, hit.color),
                last: (*hit).clone(),
            });
            entry.last = (*hit).clone();
            if let Some(transition) = entry.tracked.hit(now, hit.color, &info.timing) {
                out.push(record(entry, transition, info, now, None, region_of));
            }
            seen.insert(key);
        }
        let missed: Vec<Key> = self
            .entries
            .keys()
            .filter(|k| k.0 == rule_id && !seen.contains(*k))
            .cloned()
            .collect();
        for key in missed {
            let entry = self.entries.get_mut(&key).expect("listed above");
            let (transition, keep) = entry.tracked.miss(now, &info.timing);
            if let Some(transition) = transition {
                out.push(record(entry, transition, info, now, None, region_of));
            }
            if !keep {
                self.entries.remove(&key);
            }
        }
    }

    /// A rule was removed: its firing warnings resolve with reason `rule_removed`.
    pub fn remove_rule(
        &mut self,
        rule_id: &str,
        version: &str,
        now: EventTime,
        region_of: &dyn Fn(&str) -> Option<String>,
    ) -> Vec<WarningRecord> {
        let info = RuleInfo {
            version: version.to_owned(),
            basis: String::new(),
            title: String::new(),
            suggested_action: None,
            timing: Timing::default(),
        };
        let keys: Vec<Key> = self
            .entries
            .keys()
            .filter(|k| k.0 == rule_id)
            .cloned()
            .collect();
        let mut out = Vec::new();
        for key in keys {
            let entry = self.entries.remove(&key).expect("listed above");
            if let Some(transition) = entry.tracked.abandon() {
                out.push(record(
                    &entry,
                    transition,
                    &info,
                    now,
                    Some("rule_removed"),
                    region_of,
                ));
            }
        }
        out
    }

    /// Warnings firing now (pending ones excluded).
    pub fn firing(&self) -> usize {
        self.entries
            .values()
            .filter(|e| e.tracked.fired_at.is_some())
            .count()
    }
}

fn rule_info(rules: &RuleEngine, id: &str) -> Option<RuleInfo> {
    let rule = rules.rule(id)?;
    let h = &rule.header;
    Some(RuleInfo {
        version: rule.version.clone(),
        basis: h.basis.clone(),
        title: h.title.clone(),
        suggested_action: h.suggested_action.clone(),
        timing: Timing {
            hold_for: h.r#for,
            clear_after: h.clear_after,
            keep_firing_for: h.keep_firing_for,
        },
    })
}

fn record(
    entry: &Entry,
    state: Transition,
    info: &RuleInfo,
    now: EventTime,
    reason: Option<&str>,
    region_of: &dyn Fn(&str) -> Option<String>,
) -> WarningRecord {
    let hit = &entry.last;
    let t = &entry.tracked;
    WarningRecord {
        id: warning_id(&hit.rule_id, &hit.enterprise_id, &hit.subject, t.first_seen),
        rule_id: hit.rule_id.clone(),
        rule_version: info.version.clone(),
        enterprise_id: hit.enterprise_id.clone(),
        region_id: region_of(&hit.enterprise_id),
        subject: hit.subject.clone(),
        color: t.color,
        state,
        first_seen: t.first_seen.to_rfc3339(),
        fired_at: t.fired_at.unwrap_or(now).to_rfc3339(),
        resolved_at: (state == Transition::Resolved).then(|| now.to_rfc3339()),
        reason: reason.map(str::to_owned),
        value: hit.value,
        threshold: hit.threshold,
        message: hit.message.clone().unwrap_or_else(|| info.title.clone()),
        basis: info.basis.clone(),
        suggested_action: info.suggested_action.clone(),
        evidence: hit.evidence.clone(),
        inputs: Vec::new(),
    }
}
