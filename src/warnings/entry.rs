//! One tracked warning of the book: its lifecycle, newest hit, handling and activations,
//! and the rule metadata its records carry.

use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

use crate::model::{EventTime, FeedbackAction, WarningFeedback};
use crate::rules::tables::UNIT_MONITOR_TABLE;
use crate::rules::{RuleEngine, RuleHit};

use super::config::WarningsConfig;
use super::lifecycle::{Phase, Timing, Tracked, Transition};
use super::record::{Handling, Suppression, Tier};

pub(super) type Key = (String, String, String);

#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct Entry {
    pub tracked: Tracked,
    /// The newest hit, for the record's value, message and evidence.
    pub last: RuleHit,
    pub tier: Tier,
    pub handling: Option<Handling>,
    /// Feedback already applied, by (time, organisation, action).
    feedback_seen: BTreeSet<(i64, String, String)>,
    /// Resolved by feedback; kept, silent, until the condition clears.
    pub closed: bool,
    /// Activations within the chatter window, and in all.
    recent_activations: VecDeque<EventTime>,
    pub activations: u32,
    pub chattering: bool,
    pub suppressed: Option<Suppression>,
}

/// Rule metadata a record carries.
pub(super) struct RuleInfo {
    pub version: String,
    pub basis: String,
    pub title: String,
    pub suggested_action: Option<String>,
    pub timing: Timing,
    /// The rule reads learned monitoring: its records name the models (`models`).
    pub reads_models: bool,
}

impl Entry {
    pub fn new(now: EventTime, hit: &RuleHit) -> Self {
        Entry {
            tracked: Tracked::new(now, hit.color),
            last: hit.clone(),
            tier: Tier::Enterprise,
            handling: None,
            feedback_seen: BTreeSet::new(),
            closed: false,
            recent_activations: VecDeque::new(),
            activations: 0,
            chattering: false,
            suppressed: None,
        }
    }

    pub fn id(&self) -> String {
        super::record::warning_id(
            &self.last.rule_id,
            &self.last.enterprise_id,
            &self.last.subject,
            self.tracked.first_seen,
        )
    }

    pub fn is_firing(&self) -> bool {
        !self.closed && self.tracked.fired_at.is_some()
    }

    /// The condition holds: lifecycle, activations, and a rise of the pushed-to tier.
    pub fn hit(
        &mut self,
        hit: &RuleHit,
        now: EventTime,
        timing: &Timing,
        config: &WarningsConfig,
    ) -> Option<Transition> {
        let returning = matches!(self.tracked.phase, Phase::Clearing { .. });
        self.last = hit.clone();
        let transition = self.tracked.hit(now, hit.color, timing);
        if transition == Some(Transition::Firing) || returning {
            self.activate(now, config);
        }
        if self.closed {
            return None;
        }
        let tier = hit_tier(hit);
        let fired = self.tracked.fired_at.is_some();
        if fired && tier > self.tier {
            self.tier = tier;
            return transition.or(Some(Transition::Escalated));
        }
        self.tier = self.tier.max(tier);
        transition
    }

    fn activate(&mut self, now: EventTime, config: &WarningsConfig) {
        self.activations += 1;
        let window = ms(config.chatter_window);
        self.recent_activations.push_back(now);
        while self
            .recent_activations
            .front()
            .is_some_and(|t| now.millis() - t.millis() > window)
        {
            self.recent_activations.pop_front();
        }
        if self.recent_activations.len() >= config.chatter_activations {
            self.chattering = true;
        }
    }

    /// A chattering warning also waits out the chatter window before it resolves.
    pub fn timing(&self, rule: &Timing, config: &WarningsConfig) -> Timing {
        if !self.chattering {
            return *rule;
        }
        Timing {
            clear_after: rule.clear_after.max(config.chatter_window),
            ..*rule
        }
    }

    /// Applies one feedback event unless already applied; the transition it causes.
    pub fn take_feedback(&mut self, f: &WarningFeedback) -> Option<Transition> {
        let key = (
            f.ts.millis(),
            f.actor_org.clone(),
            f.action.as_str().to_owned(),
        );
        if !self.feedback_seen.insert(key) {
            return None;
        }
        self.handling = Some(Handling {
            action: f.action,
            actor_org: f.actor_org.clone(),
            at: f.ts,
            measure: f.measure.clone(),
            note: f.note.clone(),
        });
        match f.action {
            FeedbackAction::Resolved | FeedbackAction::FalseAlarm => {
                self.closed = true;
                Some(Transition::Resolved)
            }
            _ => Some(Transition::Updated),
        }
    }
}

/// The tier a hit asks to push to (its `tier` column, as R7 returns it).
fn hit_tier(hit: &RuleHit) -> Tier {
    hit.evidence
        .get("tier")
        .and_then(|v| v.as_str())
        .and_then(Tier::parse)
        .unwrap_or_default()
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

pub(super) fn rule_info(rules: &RuleEngine, id: &str) -> Option<RuleInfo> {
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
        reads_models: rule.reads.contains(UNIT_MONITOR_TABLE),
    })
}
