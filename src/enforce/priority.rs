//! Priority inside a pool (DOMAIN.md (e) 3): the enterprise's index plus its recent warnings,
//! how long since it was visited, resumption and alarm hygiene; hot-work permits add their own
//! factors. Each addend that applies also names itself as a reason code.

use crate::model::{EventTime, HotGrade};
use crate::risk::snapshot::EnterpriseView;

use super::config::EnforceConfig;
use super::facts::HotWorkFacts;

const DAY_MS: i64 = 24 * 3_600_000;

/// A priority and the reasons behind it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Priority {
    pub value: f64,
    pub reasons: Vec<String>,
}

impl Priority {
    fn add(&mut self, points: f64, reason: impl Into<String>) {
        self.value += points;
        self.reasons.push(reason.into());
    }
}

fn days_since(at: Option<EventTime>, now: EventTime) -> Option<f64> {
    at.map(|t| (now.millis() - t.millis()) as f64 / DAY_MS as f64)
}

pub fn enterprise(view: &EnterpriseView, now: EventTime, c: &EnforceConfig) -> Priority {
    let (risk, facts) = (&view.risk, &view.facts);
    let mut p = Priority {
        value: risk.eri,
        reasons: vec![format!("eri_{}", risk.color.as_str())],
    };
    let terms = &risk.terms;
    for (name, value) in [
        ("alarms", terms.alarms),
        ("data_quality", terms.data_quality),
        ("special_work", terms.special_work),
        ("operations", terms.operations),
        ("people", terms.people),
        ("management", terms.management),
    ] {
        if value > 0.0 {
            p.reasons.push(format!("eri_{name}"));
        }
    }
    if facts.orange_red_warnings_7d > 0 {
        let n = f64::from(facts.orange_red_warnings_7d);
        p.add(c.warning_weight * n, "orange_red_warnings_7d");
    }
    if days_since(facts.last_inspected_at, now).is_none_or(|d| d >= f64::from(c.not_inspected_days))
    {
        p.add(c.not_inspected, "not_inspected_90d");
    }
    if days_since(facts.resumed_at, now).is_some_and(|d| d < f64::from(c.resumption_days)) {
        p.add(c.resumption, "first_14d_after_resumption");
    }
    if facts.flood_or_bad_actor {
        p.add(c.flood_or_bad_actor, "flood_or_bad_actor");
    }
    if days_since(facts.last_clean_onsite_at, now)
        .is_some_and(|d| d <= f64::from(c.clean_inspection_days))
    {
        p.add(c.clean_inspection, "clean_inspection_14d");
    }
    p
}

pub fn hot_work(base: &Priority, permit: &HotWorkFacts, c: &EnforceConfig) -> Priority {
    let mut p = base.clone();
    p.reasons
        .insert(0, format!("hot_work_{}", permit.grade.as_str()));
    if permit.grade == HotGrade::Special {
        p.add(c.hot_special, "hot_special");
    }
    if permit.contractor {
        p.add(c.hot_contractor, "contractor");
    }
    if permit.night_or_holiday {
        p.add(c.hot_night_or_holiday, "night_or_holiday");
    }
    if permit.open_violations > 0 {
        p.add(c.hot_open_violation, "open_r08_r12");
    }
    p
}

/// Past the minimum visit frequency of its colour.
pub fn past_frequency_floor(view: &EnterpriseView, now: EventTime, c: &EnforceConfig) -> bool {
    let floor = f64::from(c.floor_days(view.risk.color));
    days_since(view.facts.last_inspected_at, now).is_none_or(|d| d >= floor)
}
