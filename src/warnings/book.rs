//! Every warning vigil tracks, and the records their transitions produce. Fed once per tick
//! with the rules' hits; deterministic, so a replay gives the records the live run gave.
//!
//! One tick: the rules' hits move each warning's lifecycle (firing, escalated by colour or by
//! the `tier` a rule such as R7 names, resolved); new feedback updates or closes firing
//! warnings; then every record gets its provenance, and new or escalated warnings are checked
//! against silences, inhibition rules and the enterprise's flood state.

use std::collections::{btree_map, BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::model::{EventTime, FeedbackAction};
use crate::rules::engine::TickReport;
use crate::rules::tables::OpenWarning;
use crate::rules::{Color, RuleEngine, RuleHit};

use super::capacity::{self, Capacity, Condition};
use super::config::WarningsConfig;
use super::context::WarningContext;
use super::entry::{rule_info, Entry, Key, RuleInfo};
use super::hygiene::{AlarmKpi, FloodChange, Hygiene};
use super::lifecycle::{Phase, Timing, Transition};
use super::record::WarningRecord;
use super::record::{SuppressedBy, Suppression};
use super::silence::Silences;
use super::summary::{self, Stamp};
use super::suppress::{self, Suppressors};

/// The book's part of a partition checkpoint: the warnings of its enterprises (with their
/// ids' `first_seen`, lifecycle, feedback and suppression) and their flood state.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub struct BookSnapshot {
    entries: Vec<(Key, Entry)>,
    loads: Vec<(String, super::hygiene::EnterpriseLoad)>,
}

pub struct WarningBook {
    entries: BTreeMap<Key, Entry>,
    config: WarningsConfig,
    silences: Arc<Silences>,
    hygiene: Hygiene,
    capacity: Capacity,
    /// New warnings refused at this tick, and since `take_refused` last read them.
    refused_tick: usize,
    refused_unread: u64,
}

impl WarningBook {
    pub fn new(config: &WarningsConfig, silences: Arc<Silences>) -> Self {
        WarningBook {
            entries: BTreeMap::new(),
            config: config.clone(),
            silences,
            hygiene: Hygiene::new(config),
            capacity: Capacity::default(),
            refused_tick: 0,
            refused_unread: 0,
        }
    }

    /// Applies one tick: every rule that evaluated without error moves its warnings on.
    pub fn apply(
        &mut self,
        tick: &TickReport,
        rules: &RuleEngine,
        ctx: &dyn WarningContext,
    ) -> Vec<WarningRecord> {
        let now = tick.now;
        let stamp = Stamp {
            now,
            lookback: self.config.provenance_lookback,
            ctx,
        };
        let mut out = Vec::new();
        self.refused_tick = 0;
        for run in tick.runs.iter().filter(|r| r.error.is_none()) {
            let Some(info) = rule_info(rules, &run.rule_id) else {
                continue;
            };
            let hits: Vec<&RuleHit> = tick
                .hits
                .iter()
                .filter(|h| h.rule_id == run.rule_id)
                .collect();
            self.apply_rule(&run.rule_id, &hits, &info, &stamp, &mut out);
        }
        self.apply_feedback(rules, &stamp, &mut out);
        self.finish_tick(rules, &stamp, &mut out);
        out.extend(self.service_warnings(tick, rules));
        out
    }

    /// The service's own warnings (`capacity`): rules over `rules.max_hits_per_tick` and
    /// warnings refused past `warnings.max_open`.
    fn service_warnings(&mut self, tick: &TickReport, rules: &RuleEngine) -> Vec<WarningRecord> {
        let mut present: Vec<Condition> = tick
            .runs
            .iter()
            .filter_map(|r| Some((r, r.error.as_ref().filter(|e| e.kind == "overflow")?)))
            .map(|(r, error)| Condition {
                rule_id: capacity::RULE_OVERFLOW,
                subject: r.rule_id.clone(),
                color: rules
                    .rule(&r.rule_id)
                    .map_or(Color::Orange, |rule| rule.header.severity),
                value: None,
                message: format!(
                    "rule {}: {}; its warnings are withheld until it matches fewer",
                    r.rule_id, error.message
                ),
            })
            .collect();
        if self.refused_tick > 0 {
            present.push(Condition {
                rule_id: capacity::BOOK_FULL,
                subject: "warnings".into(),
                color: Color::Red,
                value: Some(self.refused_tick as f64),
                message: format!(
                    "{} new warnings refused: vigil already tracks warnings.max_open = {}",
                    self.refused_tick, self.config.max_open
                ),
            });
        }
        let ran = |rule: &str| tick.runs.iter().any(|r| r.rule_id == rule);
        self.capacity
            .update(tick.now, present, |condition, subject| {
                condition != capacity::RULE_OVERFLOW
                    || ran(subject)
                    || rules.rule(subject).is_none()
            })
    }

    /// New warnings refused past `warnings.max_open` since the last call.
    pub fn take_refused(&mut self) -> u64 {
        std::mem::take(&mut self.refused_unread)
    }

    /// Warnings tracked: pending, firing, and resolving.
    pub fn tracked(&self) -> usize {
        self.entries.len()
    }

    fn apply_rule(
        &mut self,
        rule_id: &str,
        hits: &[&RuleHit],
        info: &RuleInfo,
        stamp: &Stamp<'_>,
        out: &mut Vec<WarningRecord>,
    ) {
        let now = stamp.now;
        let mut seen = BTreeSet::new();
        for hit in hits {
            let key = (
                rule_id.to_owned(),
                hit.enterprise_id.clone(),
                hit.subject.clone(),
            );
            let full = self.entries.len() >= self.config.max_open;
            let entry = match self.entries.entry(key.clone()) {
                btree_map::Entry::Occupied(tracked) => tracked.into_mut(),
                btree_map::Entry::Vacant(_) if full => {
                    self.refused_tick += 1;
                    self.refused_unread += 1;
                    continue;
                }
                btree_map::Entry::Vacant(new) => new.insert(Entry::new(now, hit)),
            };
            if let Some(transition) = entry.hit(hit, now, &info.timing, &self.config) {
                out.push(summary::record(entry, transition, info, None, stamp));
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
            let timing = entry.timing(&info.timing, &self.config);
            let (transition, keep) = entry.tracked.miss(now, &timing);
            if let (Some(transition), false) = (transition, entry.closed) {
                out.push(summary::record(entry, transition, info, None, stamp));
            }
            if !keep {
                self.entries.remove(&key);
            }
        }
    }

    /// New feedback on firing warnings: ack, verified, maintenance and defer update them;
    /// resolved and false_alarm close them.
    fn apply_feedback(
        &mut self,
        rules: &RuleEngine,
        stamp: &Stamp<'_>,
        out: &mut Vec<WarningRecord>,
    ) {
        for entry in self.entries.values_mut() {
            if entry.closed || entry.tracked.fired_at.is_none() {
                continue;
            }
            let id = entry.id();
            for feedback in stamp
                .ctx
                .feedback(&entry.last.enterprise_id, &id, stamp.now)
            {
                let Some(transition) = entry.take_feedback(&feedback) else {
                    continue;
                };
                let Some(info) = rule_info(rules, &entry.last.rule_id) else {
                    continue;
                };
                let reason = match feedback.action {
                    FeedbackAction::FalseAlarm => Some("false_alarm"),
                    FeedbackAction::Resolved => Some("feedback_resolved"),
                    _ => None,
                };
                out.push(summary::record(entry, transition, &info, reason, stamp));
                if entry.closed {
                    break;
                }
            }
        }
    }

    /// Suppression, floods and the flood summaries, after every rule has moved.
    fn finish_tick(&mut self, rules: &RuleEngine, stamp: &Stamp<'_>, out: &mut Vec<WarningRecord>) {
        let now = stamp.now;
        let mut summaries = self.inhibit_firing(rules, out, stamp);
        for record in out.iter_mut() {
            let key = (
                record.rule_id.clone(),
                record.enterprise_id.clone(),
                record.subject.clone(),
            );
            if record.state == Transition::Firing {
                let started = self.hygiene.fired(&record.enterprise_id, record.color, now);
                if let Some(FloodChange::Started(flood)) = started {
                    summaries.push(summary::flood_started(&record.enterprise_id, &flood, stamp));
                }
            }
            let fresh = matches!(record.state, Transition::Firing | Transition::Escalated);
            let unsuppressed = self
                .entries
                .get(&key)
                .is_some_and(|e| e.suppressed.is_none());
            if fresh && unsuppressed {
                let found = Suppressors {
                    entries: &self.entries,
                    config: &self.config,
                    silences: &self.silences,
                    hygiene: &self.hygiene,
                    ctx: stamp.ctx,
                }
                .find(record, now);
                if let Some(entry) = self.entries.get_mut(&key) {
                    entry.suppressed = found;
                }
            }
            if let Some(entry) = self.entries.get(&key) {
                record.suppressed.clone_from(&entry.suppressed);
            }
        }
        for (enterprise, change) in self.hygiene.advance(now) {
            if let FloodChange::Ended(flood) = change {
                summaries.push(summary::flood_ended(&enterprise, &flood, stamp));
            }
        }
        out.extend(summaries);
    }

    /// A source that starts firing inhibits the matching targets already firing: each gets
    /// an `updated` record saying so.
    fn inhibit_firing(
        &mut self,
        rules: &RuleEngine,
        out: &[WarningRecord],
        stamp: &Stamp<'_>,
    ) -> Vec<WarningRecord> {
        let mut updates = Vec::new();
        let started = out.iter().filter(|r| r.state == Transition::Firing);
        for source in started {
            let source_key = (
                source.rule_id.clone(),
                source.enterprise_id.clone(),
                source.subject.clone(),
            );
            let Some(source_entry) = self.entries.get(&source_key) else {
                continue;
            };
            let inhibitions: Vec<(Key, String)> = self
                .config
                .inhibit
                .iter()
                .filter(|rule| rule.source_rules.contains(&source.rule_id))
                .flat_map(|rule| {
                    self.entries
                        .iter()
                        .filter(|((r, e, _), target)| {
                            rule.target_rules.contains(r)
                                && *e == source.enterprise_id
                                && target.is_firing()
                                && target.suppressed.is_none()
                                && suppress::contains_subject(
                                    rule,
                                    source_entry,
                                    &target.last.subject,
                                )
                        })
                        .map(|(key, _)| (key.clone(), format!("{}: {}", rule.name, source.id)))
                })
                .collect();
            for (key, by) in inhibitions {
                let entry = self.entries.get_mut(&key).expect("listed above");
                entry.suppressed = Some(Suppression {
                    by: SuppressedBy::Inhibition,
                    source: by,
                });
                if let Some(info) = rule_info(rules, &key.0) {
                    updates.push(summary::record(
                        entry,
                        Transition::Updated,
                        &info,
                        None,
                        stamp,
                    ));
                }
            }
        }
        updates
    }

    /// A rule was removed: its firing warnings resolve with reason `rule_removed`.
    pub fn remove_rule(
        &mut self,
        rule_id: &str,
        version: &str,
        now: EventTime,
        ctx: &dyn WarningContext,
    ) -> Vec<WarningRecord> {
        let stamp = Stamp {
            now,
            lookback: self.config.provenance_lookback,
            ctx,
        };
        let info = RuleInfo {
            version: version.to_owned(),
            basis: String::new(),
            title: String::new(),
            suggested_action: None,
            timing: Timing::default(),
            reads_models: false,
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
            if let (Some(transition), false) = (entry.tracked.abandon(), entry.closed) {
                out.push(summary::record(
                    &entry,
                    transition,
                    &info,
                    Some("rule_removed"),
                    &stamp,
                ));
            }
        }
        out
    }

    /// What a checkpoint of `enterprises` holds of the book.
    pub fn snapshot(&self, enterprises: &BTreeSet<String>) -> BookSnapshot {
        BookSnapshot {
            entries: self
                .entries
                .iter()
                .filter(|(key, _)| enterprises.contains(&key.1))
                .map(|(key, entry)| (key.clone(), entry.clone()))
                .collect(),
            loads: self.hygiene.loads_of(enterprises),
        }
    }

    /// Takes over the warnings of a restored partition, as they were: no record is emitted.
    pub fn restore(&mut self, snapshot: BookSnapshot) {
        self.entries.extend(snapshot.entries);
        self.hygiene.restore(snapshot.loads);
    }

    /// Forgets `enterprises` without resolving anything: another instance carries them on.
    pub fn forget(&mut self, enterprises: &BTreeSet<String>) {
        self.entries.retain(|key, _| !enterprises.contains(&key.1));
        self.hygiene.forget(enterprises);
    }

    /// Warnings firing now (pending and feedback-closed ones excluded).
    pub fn firing(&self) -> usize {
        self.entries.values().filter(|e| e.is_firing()).count() + self.capacity.firing()
    }

    /// The warnings published and not resolved (firing or clearing), as the rules'
    /// `open_warnings` table shows them.
    pub fn open(&self) -> Vec<OpenWarning> {
        self.entries
            .values()
            .filter_map(|e| {
                let fired_at = e.tracked.fired_at.filter(|_| e.is_firing())?;
                Some(OpenWarning {
                    id: e.id(),
                    rule_id: e.last.rule_id.clone(),
                    enterprise_id: e.last.enterprise_id.clone(),
                    subject: e.last.subject.clone(),
                    color: e.tracked.color,
                    first_seen: e.tracked.first_seen,
                    fired_at,
                    clearing: matches!(e.tracked.phase, Phase::Clearing { .. }),
                })
            })
            .collect()
    }

    pub fn chattering(&self) -> usize {
        self.entries
            .values()
            .filter(|e| e.is_firing() && e.chattering)
            .count()
    }

    pub fn floods_active(&self) -> usize {
        self.hygiene.floods_active()
    }

    /// Per-enterprise alarm-rate KPIs.
    pub fn kpis(&self, now: EventTime) -> Vec<AlarmKpi> {
        let mut standing: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for entry in self.entries.values().filter(|e| e.is_firing()) {
            let s = standing.entry(&entry.last.enterprise_id).or_default();
            s.0 += 1;
            s.1 += usize::from(entry.chattering);
        }
        self.hygiene
            .kpis(now, &|e| standing.get(e).copied().unwrap_or_default())
    }
}
