//! Building warning records: from a tracked warning, and the flood summaries.

use std::time::Duration;

use serde_json::{json, Map};

use crate::model::EventTime;
use crate::rules::Color;

use super::context::WarningContext;
use super::entry::{Entry, RuleInfo};
use super::hygiene::{Flood, FLOOD_RULE};
use super::lifecycle::Transition;
use super::record::{Tier, WarningRecord};

/// What every record of one tick shares.
pub(super) struct Stamp<'a> {
    pub now: EventTime,
    pub lookback: Duration,
    pub ctx: &'a dyn WarningContext,
}

impl Stamp<'_> {
    fn inputs(&self, enterprise_id: &str, first_seen: EventTime) -> Vec<crate::state::InputRange> {
        let lookback = i64::try_from(self.lookback.as_millis()).unwrap_or(i64::MAX);
        let from = EventTime::from_millis(first_seen.millis().saturating_sub(lookback));
        self.ctx.inputs(enterprise_id, from, self.now)
    }
}

pub(super) fn record(
    entry: &Entry,
    state: Transition,
    info: &RuleInfo,
    reason: Option<&str>,
    stamp: &Stamp<'_>,
) -> WarningRecord {
    let hit = &entry.last;
    let t = &entry.tracked;
    let now = stamp.now;
    WarningRecord {
        id: entry.id(),
        rule_id: hit.rule_id.clone(),
        rule_version: info.version.clone(),
        enterprise_id: hit.enterprise_id.clone(),
        region_id: stamp.ctx.region_of(&hit.enterprise_id),
        subject: hit.subject.clone(),
        color: t.color,
        state,
        tier: entry.tier,
        at: now.to_rfc3339(),
        first_seen: t.first_seen.to_rfc3339(),
        fired_at: t.fired_at.unwrap_or(now).to_rfc3339(),
        resolved_at: (state == Transition::Resolved).then(|| now.to_rfc3339()),
        reason: reason.map(str::to_owned),
        value: hit.value,
        threshold: hit.threshold,
        message: hit.message.clone().unwrap_or_else(|| info.title.clone()),
        basis: info.basis.clone(),
        suggested_action: info.suggested_action.clone(),
        handling: entry.handling.clone(),
        suppressed: entry.suppressed.clone(),
        activations: entry.activations,
        chattering: entry.chattering,
        evidence: hit.evidence.clone(),
        inputs: stamp.inputs(&hit.enterprise_id, t.first_seen),
        models: if info.reads_models {
            stamp.ctx.models(&hit.enterprise_id)
        } else {
            Vec::new()
        },
    }
}

pub(super) fn flood_started(
    enterprise_id: &str,
    flood: &Flood,
    stamp: &Stamp<'_>,
) -> WarningRecord {
    flood_record(enterprise_id, flood, Transition::Firing, stamp)
}

pub(super) fn flood_ended(enterprise_id: &str, flood: &Flood, stamp: &Stamp<'_>) -> WarningRecord {
    flood_record(enterprise_id, flood, Transition::Resolved, stamp)
}

fn flood_record(
    enterprise_id: &str,
    flood: &Flood,
    state: Transition,
    stamp: &Stamp<'_>,
) -> WarningRecord {
    let mut evidence = Map::new();
    evidence.insert("warnings".into(), json!(flood.total));
    let now = stamp.now;
    WarningRecord {
        id: flood.id.clone(),
        rule_id: FLOOD_RULE.into(),
        rule_version: "builtin".into(),
        enterprise_id: enterprise_id.into(),
        region_id: stamp.ctx.region_of(enterprise_id),
        subject: "warnings".into(),
        color: flood.color,
        state,
        tier: Tier::Enterprise,
        at: now.to_rfc3339(),
        first_seen: flood.since.to_rfc3339(),
        fired_at: flood.since.to_rfc3339(),
        resolved_at: (state == Transition::Resolved).then(|| now.to_rfc3339()),
        reason: None,
        value: Some(flood.total as f64),
        threshold: None,
        message: format!(
            "warning flood: {} warnings since {}; the enterprise's non-red warnings are suppressed while it lasts",
            flood.total, flood.since
        ),
        basis: "ISA-18.2 / EEMUA 191 alarm flood (DOMAIN.md R6)".into(),
        suggested_action: Some(
            "Call the enterprise's control room: find the common cause behind the flood.".into(),
        ),
        handling: None,
        suppressed: None,
        activations: 1,
        chattering: false,
        evidence,
        inputs: stamp.inputs(enterprise_id, flood.since),
        models: Vec::new(),
    }
}

/// Flood colours never hide a red member: it is never suppressed (see `suppress`).
pub(super) fn is_red(color: Color) -> bool {
    color == Color::Red
}
