//! The region control index, CPI (DOMAIN.md (d)): per county over a rolling window, from its
//! enterprises' risk records, warnings, inspections and quotas; rolled up to the city by an
//! enterprise-weighted mean. Higher is better control. Every component keeps its inputs.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::enforce::facts::{EnterpriseFacts, InspectionFacts};
use crate::model::{EventTime, InspectionMode, InspectionPool};
use crate::rules::Color;
use crate::warnings::Tier;

use super::config::RegionWeights;
use super::ledger::WarningFacts;
use super::record::RiskRecord;
use super::score::round1;
use super::RiskBook;

const DAY_MS: i64 = 24 * 3_600_000;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Quota {
    /// What the quota counts over (self-inspections submitted, hot-work permits, red
    /// enterprises), how many checks it requires, and how many were done in the window.
    pub eligible: u32,
    pub required: u32,
    pub done: u32,
}

impl Quota {
    fn new(eligible: u32, share: f64, done: u32) -> Self {
        Quota {
            eligible,
            required: (share * f64::from(eligible)).ceil() as u32,
            done,
        }
    }

    /// min(1, done / required); a quota that requires nothing is met.
    pub fn fulfilment(&self) -> f64 {
        if self.required == 0 {
            1.0
        } else {
            (f64::from(self.done) / f64::from(self.required)).min(1.0)
        }
    }

    pub fn deficit(&self) -> u32 {
        self.required.saturating_sub(self.done)
    }
}

/// The quota ledger of a region over the window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QuotaLedger {
    pub self_check: Quota,
    pub hot_work: Quota,
    pub red_onsite: Quota,
}

/// Each component in points (out of its weight), and what it was computed from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CpiComponents {
    pub timeliness: f64,
    pub containment: f64,
    pub data_quality: f64,
    pub quota: f64,
    pub rectification: f64,
    pub outcome: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CpiInputs {
    /// Warnings fired in the window whose deadline has passed, weighted RED 4 .. BLUE 1, and
    /// the weight of those acknowledged (or cleared) in time.
    pub warnings_due_weight: f64,
    pub warnings_timely_weight: f64,
    pub warnings: u32,
    pub escalated_beyond_county: u32,
    pub online_rate: f64,
    pub under_reporting_share: f64,
    /// Findings due in the window, weighted MAJOR_HIDDEN 3 : GENERAL 1, and closed by the date.
    pub findings_due_weight: f64,
    pub findings_closed_weight: f64,
    pub red_share: f64,
    pub orange_share: f64,
    /// The outcome share one window ago, if known, and the trend bonus it gave.
    pub previous_outcome: Option<f64>,
    pub trend: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegionIndex {
    pub region_id: String,
    pub city_id: String,
    pub at: String,
    pub cpi: f64,
    /// Inverse sense: blue is good control, red poor.
    pub color: Color,
    pub enterprises: u32,
    pub enterprises_by_color: BTreeMap<String, u32>,
    pub components: CpiComponents,
    pub inputs: CpiInputs,
    pub quotas: QuotaLedger,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CityIndex {
    pub city_id: String,
    pub at: String,
    pub cpi: f64,
    pub color: Color,
    pub enterprises: u32,
    pub regions: Vec<String>,
}

/// Remembers each region's outcome share per day, for the trend.
#[derive(Debug, Default)]
pub struct RegionHistory {
    outcomes: BTreeMap<String, VecDeque<(i64, f64)>>,
}

struct Member<'a> {
    record: &'a RiskRecord,
    facts: &'a EnterpriseFacts,
    offline: f64,
    warnings: Vec<&'a WarningFacts>,
}

impl RegionHistory {
    /// Computes every county's index and the cities' from the book at `now`.
    pub fn compute(
        &mut self,
        book: &RiskBook,
        now: EventTime,
    ) -> (Vec<RegionIndex>, Vec<CityIndex>) {
        let w = &book.config().region;
        let since = now.saturating_sub_ms(w.window.as_millis() as i64);
        let mut regions: BTreeMap<&str, Vec<Member<'_>>> = BTreeMap::new();
        for (record, facts) in book.snapshot() {
            let warnings = book
                .ledger()
                .of(&record.enterprise_id)
                .map(|l| l.fired_since(since).collect())
                .unwrap_or_default();
            regions.entry(&record.region_id).or_default().push(Member {
                record,
                facts,
                offline: book
                    .long_offline_share(&record.enterprise_id)
                    .unwrap_or(0.0),
                warnings,
            });
        }
        let counties: Vec<RegionIndex> = regions
            .into_iter()
            .map(|(region, members)| self.county(region, &members, w, now, since))
            .collect();
        let cities = cities(&counties, w, now);
        (counties, cities)
    }

    fn county(
        &mut self,
        region: &str,
        members: &[Member<'_>],
        w: &RegionWeights,
        now: EventTime,
        since: EventTime,
    ) -> RegionIndex {
        let mut inputs = CpiInputs::default();
        timeliness(members, w, now, &mut inputs);
        data_quality(members, &mut inputs);
        rectification(members, now, since, &mut inputs);
        let quotas = quotas(members, w, since);
        let n = members.len().max(1) as f64;
        let count = |c: Color| members.iter().filter(|m| m.record.color == c).count() as u32;
        inputs.red_share = f64::from(count(Color::Red)) / n;
        inputs.orange_share = f64::from(count(Color::Orange)) / n;
        let outcome_share = 1.0 - (inputs.red_share + 0.5 * inputs.orange_share);
        inputs.previous_outcome = self.remember(region, now, outcome_share, w);
        inputs.trend = trend(outcome_share, inputs.previous_outcome, w);
        let ratio = |part: f64, whole: f64| if whole > 0.0 { part / whole } else { 1.0 };
        let components = CpiComponents {
            timeliness: round1(
                w.timeliness * ratio(inputs.warnings_timely_weight, inputs.warnings_due_weight),
            ),
            containment: round1(
                w.containment
                    * (1.0
                        - ratio(
                            f64::from(inputs.escalated_beyond_county),
                            f64::from(inputs.warnings.max(1)),
                        )
                        .min(1.0)),
            ),
            data_quality: round1(
                w.data_quality * inputs.online_rate * (1.0 - inputs.under_reporting_share),
            ),
            quota: round1(
                w.quota
                    * (quotas.self_check.fulfilment()
                        + quotas.hot_work.fulfilment()
                        + quotas.red_onsite.fulfilment())
                    / 3.0,
            ),
            rectification: round1(
                w.rectification * ratio(inputs.findings_closed_weight, inputs.findings_due_weight),
            ),
            outcome: round1((w.outcome * outcome_share + inputs.trend).clamp(0.0, w.outcome)),
        };
        let cpi = round1(
            components.timeliness
                + components.containment
                + components.data_quality
                + components.quota
                + components.rectification
                + components.outcome,
        );
        let by_color = Color::ALL
            .iter()
            .map(|c| (c.as_str().to_owned(), count(*c)))
            .collect();
        RegionIndex {
            region_id: region.to_owned(),
            city_id: members
                .first()
                .map(|m| m.record.city_id.clone())
                .unwrap_or_default(),
            at: now.to_rfc3339(),
            cpi,
            color: cpi_color(cpi, w),
            enterprises: members.len() as u32,
            enterprises_by_color: by_color,
            components,
            inputs,
            quotas,
        }
    }

    /// Stores today's outcome; returns the one from a window ago, if any.
    fn remember(
        &mut self,
        region: &str,
        now: EventTime,
        outcome: f64,
        w: &RegionWeights,
    ) -> Option<f64> {
        let window_ms = w.window.as_millis() as i64;
        let day = now.millis().div_euclid(DAY_MS) * DAY_MS;
        let days = self.outcomes.entry(region.to_owned()).or_default();
        match days.back_mut() {
            Some((d, value)) if *d == day => *value = outcome,
            _ => days.push_back((day, outcome)),
        }
        while days.len() > 1 && days.get(1).is_some_and(|(d, _)| *d <= day - window_ms) {
            days.pop_front();
        }
        days.front()
            .filter(|(d, _)| *d <= day - window_ms)
            .map(|(_, v)| *v)
    }
}

/// The CPI's colour: blue is good control.
pub fn cpi_color(cpi: f64, w: &RegionWeights) -> Color {
    if cpi >= w.blue_from {
        Color::Blue
    } else if cpi >= w.yellow_from {
        Color::Yellow
    } else if cpi >= w.orange_from {
        Color::Orange
    } else {
        Color::Red
    }
}

fn color_weight(c: Color) -> f64 {
    match c {
        Color::Red => 4.0,
        Color::Orange => 3.0,
        Color::Yellow => 2.0,
        Color::Blue => 1.0,
    }
}

fn timeliness(members: &[Member<'_>], w: &RegionWeights, now: EventTime, inputs: &mut CpiInputs) {
    for warning in members.iter().flat_map(|m| &m.warnings) {
        inputs.warnings += 1;
        if warning.tier > Tier::County {
            inputs.escalated_beyond_county += 1;
        }
        let deadline = warning
            .fired_at
            .saturating_add_ms((w.ack_minutes.of(warning.color) * 60_000.0) as i64);
        let answered = [warning.handled_at, warning.resolved_at]
            .into_iter()
            .flatten()
            .min();
        let timely = answered.is_some_and(|at| at <= deadline);
        // Still open within its deadline: not yet decided either way.
        if !timely && deadline > now {
            continue;
        }
        let weight = color_weight(warning.color);
        inputs.warnings_due_weight += weight;
        if timely {
            inputs.warnings_timely_weight += weight;
        }
    }
}

fn data_quality(members: &[Member<'_>], inputs: &mut CpiInputs) {
    let n = members.len().max(1) as f64;
    inputs.online_rate = members.iter().map(|m| 1.0 - m.offline).sum::<f64>() / n;
    let under_reporting = members
        .iter()
        .filter(|m| m.warnings.iter().any(|w| w.rule == 5))
        .count();
    inputs.under_reporting_share = under_reporting as f64 / n;
}

fn rectification(members: &[Member<'_>], now: EventTime, since: EventTime, inputs: &mut CpiInputs) {
    for inspection in members.iter().flat_map(|m| &m.facts.inspections) {
        let Some(due) = inspection.rectify_due.filter(|d| *d >= since && *d <= now) else {
            continue;
        };
        let weight =
            3.0 * f64::from(inspection.findings_major) + f64::from(inspection.findings_general);
        inputs.findings_due_weight += weight;
        if inspection.rectified_at.is_some_and(|at| at <= due) {
            inputs.findings_closed_weight += weight;
        }
    }
}

fn quotas(members: &[Member<'_>], w: &RegionWeights, since: EventTime) -> QuotaLedger {
    fn in_window<'a>(
        m: &Member<'a>,
        pool: InspectionPool,
        since: EventTime,
    ) -> Vec<&'a InspectionFacts> {
        m.facts
            .inspections
            .iter()
            .filter(|i| i.ts >= since && i.pool == pool)
            .collect()
    }
    let self_check: Vec<_> = members
        .iter()
        .filter(|m| m.facts.resumed && m.facts.self_inspection.is_some())
        .collect();
    let self_done = self_check
        .iter()
        .filter(|m| !in_window(m, InspectionPool::SelfCheck, since).is_empty())
        .count();
    let hot_eligible: u32 = members
        .iter()
        .filter(|m| m.facts.resumed && m.facts.is_hazchem_producer)
        .map(|m| m.facts.hot_work.len() as u32)
        .sum();
    let hot_done: std::collections::BTreeSet<&String> = members
        .iter()
        .flat_map(|m| in_window(m, InspectionPool::HotWork, since))
        .flat_map(|i| &i.target_refs)
        .collect();
    let red: Vec<_> = members
        .iter()
        .filter(|m| m.record.color == Color::Red)
        .collect();
    let red_done = red
        .iter()
        .filter(|m| {
            m.facts
                .inspections
                .iter()
                .any(|i| i.ts >= since && i.mode == InspectionMode::Onsite)
        })
        .count();
    QuotaLedger {
        self_check: Quota::new(
            self_check.len() as u32,
            w.self_check_share,
            self_done as u32,
        ),
        hot_work: Quota::new(hot_eligible, w.hot_work_share, hot_done.len() as u32),
        red_onsite: Quota::new(red.len() as u32, 1.0, red_done as u32),
    }
}

fn trend(now: f64, previous: Option<f64>, w: &RegionWeights) -> f64 {
    match previous {
        Some(p) if now - p >= w.outcome_trend_min_change => w.outcome_trend,
        Some(p) if p - now >= w.outcome_trend_min_change => -w.outcome_trend,
        _ => 0.0,
    }
}

fn cities(counties: &[RegionIndex], w: &RegionWeights, now: EventTime) -> Vec<CityIndex> {
    let mut by_city: BTreeMap<&str, Vec<&RegionIndex>> = BTreeMap::new();
    for county in counties {
        by_city.entry(&county.city_id).or_default().push(county);
    }
    by_city
        .into_iter()
        .map(|(city, regions)| {
            let n: u32 = regions.iter().map(|r| r.enterprises).sum();
            let weighted: f64 = regions
                .iter()
                .map(|r| r.cpi * f64::from(r.enterprises))
                .sum();
            let cpi = round1(weighted / f64::from(n.max(1)));
            CityIndex {
                city_id: city.to_owned(),
                at: now.to_rfc3339(),
                cpi,
                color: cpi_color(cpi, w),
                enterprises: n,
                regions: regions.iter().map(|r| r.region_id.clone()).collect(),
            }
        })
        .collect()
}
