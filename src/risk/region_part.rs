//! A county's sums over some of its enterprises: what the control index is computed from,
//! additive, so the parts of a county held by several partitions (on several instances) merge
//! into the sums over all of it. `RegionHistory::county` turns merged sums into the index.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::enforce::facts::{EnterpriseFacts, InspectionFacts};
use crate::model::{EventTime, InspectionMode, InspectionPool};
use crate::rules::Color;
use crate::warnings::Tier;

use super::config::RegionWeights;
use super::ledger::WarningFacts;
use super::record::RiskRecord;
use super::RiskBook;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CountyPart {
    pub region_id: String,
    pub city_id: String,
    /// The input partition whose enterprises these are.
    pub partition: i32,
    pub at: EventTime,
    pub enterprises: u32,
    pub by_color: BTreeMap<String, u32>,
    /// Warnings fired in the window whose deadline has passed, weighted RED 4 .. BLUE 1, and
    /// the weight of those answered in time.
    pub warnings_due_weight: f64,
    pub warnings_timely_weight: f64,
    pub warnings: u32,
    pub escalated_beyond_county: u32,
    /// Sum over the enterprises of the share of the window they were online.
    pub online_sum: f64,
    pub under_reporting: u32,
    pub findings_due_weight: f64,
    pub findings_closed_weight: f64,
    pub self_check_eligible: u32,
    pub self_check_done: u32,
    pub hot_work_eligible: u32,
    pub hot_work_done: u32,
    pub red_done: u32,
}

struct Member<'a> {
    record: &'a RiskRecord,
    facts: &'a EnterpriseFacts,
    offline: f64,
    warnings: Vec<&'a WarningFacts>,
}

impl CountyPart {
    /// The parts of every (county, partition) of the book's enterprises at `now`;
    /// `partition_of` says where an enterprise lives (`None`: not counted here).
    pub fn of_book(
        book: &RiskBook,
        now: EventTime,
        partition_of: impl Fn(&str) -> Option<i32>,
    ) -> Vec<CountyPart> {
        let w = &book.config().region;
        let since = now.saturating_sub_ms(w.window.as_millis() as i64);
        let mut groups: BTreeMap<(&str, i32), Vec<Member<'_>>> = BTreeMap::new();
        for (record, facts) in book.snapshot() {
            let Some(partition) = partition_of(&record.enterprise_id) else {
                continue;
            };
            let warnings = book
                .ledger()
                .of(&record.enterprise_id)
                .map(|l| l.fired_since(since).collect())
                .unwrap_or_default();
            groups
                .entry((&record.region_id, partition))
                .or_default()
                .push(Member {
                    record,
                    facts,
                    offline: book
                        .long_offline_share(&record.enterprise_id)
                        .unwrap_or(0.0),
                    warnings,
                });
        }
        groups
            .into_iter()
            .map(|((region, partition), members)| {
                Self::of_members(region, partition, &members, w, now, since)
            })
            .collect()
    }

    fn of_members(
        region: &str,
        partition: i32,
        members: &[Member<'_>],
        w: &RegionWeights,
        now: EventTime,
        since: EventTime,
    ) -> CountyPart {
        let mut part = CountyPart {
            region_id: region.to_owned(),
            city_id: members
                .first()
                .map(|m| m.record.city_id.clone())
                .unwrap_or_default(),
            partition,
            at: now,
            enterprises: members.len() as u32,
            by_color: Color::ALL
                .iter()
                .map(|c| {
                    let n = members.iter().filter(|m| m.record.color == *c).count();
                    (c.as_str().to_owned(), n as u32)
                })
                .collect(),
            online_sum: members.iter().map(|m| 1.0 - m.offline).sum(),
            under_reporting: members
                .iter()
                .filter(|m| m.warnings.iter().any(|w| w.rule == 5))
                .count() as u32,
            ..CountyPart::default()
        };
        part.add_timeliness(members, w, now);
        part.add_rectification(members, now, since);
        part.add_quotas(members, since);
        part
    }

    /// Adds `other`'s sums (another partition's share of the same county).
    pub fn merge(&mut self, other: &CountyPart) {
        if self.city_id.is_empty() {
            self.city_id.clone_from(&other.city_id);
        }
        self.at = self.at.max(other.at);
        self.enterprises += other.enterprises;
        for (color, n) in &other.by_color {
            *self.by_color.entry(color.clone()).or_default() += n;
        }
        self.warnings_due_weight += other.warnings_due_weight;
        self.warnings_timely_weight += other.warnings_timely_weight;
        self.warnings += other.warnings;
        self.escalated_beyond_county += other.escalated_beyond_county;
        self.online_sum += other.online_sum;
        self.under_reporting += other.under_reporting;
        self.findings_due_weight += other.findings_due_weight;
        self.findings_closed_weight += other.findings_closed_weight;
        self.self_check_eligible += other.self_check_eligible;
        self.self_check_done += other.self_check_done;
        self.hot_work_eligible += other.hot_work_eligible;
        self.hot_work_done += other.hot_work_done;
        self.red_done += other.red_done;
    }

    /// The county's sums over every part given (all of one county).
    pub fn merged<'a>(parts: impl IntoIterator<Item = &'a CountyPart>) -> Option<CountyPart> {
        let mut parts = parts.into_iter();
        let mut total = parts.next()?.clone();
        for part in parts {
            total.merge(part);
        }
        Some(total)
    }

    pub fn count(&self, color: Color) -> u32 {
        self.by_color.get(color.as_str()).copied().unwrap_or(0)
    }

    fn add_timeliness(&mut self, members: &[Member<'_>], w: &RegionWeights, now: EventTime) {
        for warning in members.iter().flat_map(|m| &m.warnings) {
            self.warnings += 1;
            if warning.tier > Tier::County {
                self.escalated_beyond_county += 1;
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
            self.warnings_due_weight += weight;
            if timely {
                self.warnings_timely_weight += weight;
            }
        }
    }

    fn add_rectification(&mut self, members: &[Member<'_>], now: EventTime, since: EventTime) {
        for inspection in members.iter().flat_map(|m| &m.facts.inspections) {
            let Some(due) = inspection.rectify_due.filter(|d| *d >= since && *d <= now) else {
                continue;
            };
            let weight =
                3.0 * f64::from(inspection.findings_major) + f64::from(inspection.findings_general);
            self.findings_due_weight += weight;
            if inspection.rectified_at.is_some_and(|at| at <= due) {
                self.findings_closed_weight += weight;
            }
        }
    }

    fn add_quotas(&mut self, members: &[Member<'_>], since: EventTime) {
        let self_check: Vec<_> = members
            .iter()
            .filter(|m| m.facts.resumed && m.facts.self_inspection.is_some())
            .collect();
        self.self_check_eligible = self_check.len() as u32;
        self.self_check_done = self_check
            .iter()
            .filter(|m| !in_window(m, InspectionPool::SelfCheck, since).is_empty())
            .count() as u32;
        self.hot_work_eligible = members
            .iter()
            .filter(|m| m.facts.resumed && m.facts.is_hazchem_producer)
            .map(|m| m.facts.hot_work.len() as u32)
            .sum();
        // A permit belongs to one enterprise, so the distinct permits checked add up across
        // partitions.
        let hot_done: BTreeSet<&String> = members
            .iter()
            .flat_map(|m| in_window(m, InspectionPool::HotWork, since))
            .flat_map(|i| &i.target_refs)
            .collect();
        self.hot_work_done = hot_done.len() as u32;
        self.red_done = members
            .iter()
            .filter(|m| m.record.color == Color::Red)
            .filter(|m| {
                m.facts
                    .inspections
                    .iter()
                    .any(|i| i.ts >= since && i.mode == InspectionMode::Onsite)
            })
            .count() as u32;
    }
}

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

fn color_weight(c: Color) -> f64 {
    match c {
        Color::Red => 4.0,
        Color::Orange => 3.0,
        Color::Yellow => 2.0,
        Color::Blue => 1.0,
    }
}
