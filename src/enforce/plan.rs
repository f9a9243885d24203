//! The daily inspection plan of one county (DOMAIN.md (e)): the mandatory set first, then the
//! SELF_CHECK and HOT_WORK quotas, then the RISK pool with the capacity left; one visit per
//! enterprise, none within the revisit window unless mandatory; video in high-epidemic
//! regions where it is allowed; tasks grouped by park onto the teams.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

use crate::model::{EpidemicLevel, EventTime, InspectionPool};
use crate::risk::config::RegionWeights;
use crate::risk::snapshot::{EnterpriseView, Snapshot};

use super::config::EnforceConfig;
use super::facts::HotWorkFacts;
use super::priority::{self, Priority};
use super::select::{select, Candidate};
use super::task::{InspectionTask, Mode, Plan, Pool, PoolLedger, QuotaDeficit, Selection};

const DAY_MS: i64 = 24 * 3_600_000;

#[derive(Clone, Debug, Deserialize)]
pub struct PlanRequest {
    pub region: String,
    pub date: NaiveDate,
    pub capacity: u32,
    #[serde(default = "one")]
    pub teams: u32,
    #[serde(default)]
    pub seed: u64,
}

fn one() -> u32 {
    1
}

/// The settings a plan follows.
pub struct PlanRules<'a> {
    pub enforce: &'a EnforceConfig,
    pub quotas: &'a RegionWeights,
    pub utc_offset_minutes: i32,
}

/// A visit being put together: its enterprise, pool, refs and reasons.
struct Draft<'a> {
    view: &'a EnterpriseView,
    pool: Pool,
    selection: Selection,
    priority: Priority,
    refs: Vec<String>,
    not_before: EventTime,
    due_by: EventTime,
    video_possible: bool,
}

struct Day {
    start: EventTime,
    end: EventTime,
    now: EventTime,
}

pub fn plan(snapshot: &Snapshot, request: &PlanRequest, rules: &PlanRules<'_>) -> Plan {
    let day = day_of(request.date, rules.utc_offset_minutes, snapshot.at);
    let mut members: Vec<&EnterpriseView> = snapshot
        .enterprises
        .iter()
        .filter(|v| v.risk.region_id == request.region)
        .collect();
    members.sort_by(|a, b| a.risk.enterprise_id.cmp(&b.risk.enterprise_id));
    let mut rng = ChaCha8Rng::seed_from_u64(request.seed);
    let mut planner = Planner {
        rules,
        day,
        drafts: Vec::new(),
        chosen: BTreeSet::new(),
        ledger: Vec::new(),
        deficits: Vec::new(),
        region: &request.region,
        capacity: i64::from(request.capacity),
    };
    planner.mandatory(&members);
    let over_capacity = planner.capacity < 0;
    planner.self_check(&members, &mut rng);
    planner.hot_work(&members, &mut rng);
    planner.risk(&members, &mut rng);
    let high_epidemic = members
        .iter()
        .any(|v| v.facts.epidemic == Some(EpidemicLevel::High));
    let tasks = finish(planner.drafts, request, high_epidemic);
    Plan {
        region_id: request.region.clone(),
        date: request.date,
        state_at: snapshot.at,
        seed: request.seed,
        capacity: request.capacity,
        teams: request.teams.max(1),
        over_capacity,
        tasks,
        ledger: planner.ledger,
        deficits: planner.deficits,
    }
}

fn day_of(date: NaiveDate, utc_offset_minutes: i32, state_at: EventTime) -> Day {
    let midnight = date
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc();
    let start = EventTime::from_millis(
        midnight.timestamp_millis() - i64::from(utc_offset_minutes) * 60_000,
    );
    Day {
        start,
        end: start.saturating_add_ms(DAY_MS),
        now: state_at.max(start),
    }
}

struct Planner<'p, 'v> {
    rules: &'p PlanRules<'p>,
    day: Day,
    drafts: Vec<Draft<'v>>,
    chosen: BTreeSet<&'v str>,
    ledger: Vec<PoolLedger>,
    deficits: Vec<QuotaDeficit>,
    region: &'p str,
    capacity: i64,
}

impl<'p, 'v> Planner<'p, 'v> {
    fn recently_visited(&self, v: &EnterpriseView) -> bool {
        let window = i64::from(self.rules.enforce.revisit_days) * DAY_MS;
        v.facts
            .last_inspected_at
            .is_some_and(|at| self.day.now.millis() - at.millis() < window)
    }

    fn free(&self, v: &EnterpriseView) -> bool {
        !self.chosen.contains(v.risk.enterprise_id.as_str()) && !self.recently_visited(v)
    }

    fn push(&mut self, draft: Draft<'v>) {
        self.chosen.insert(draft.view.risk.enterprise_id.as_str());
        self.capacity -= 1;
        self.drafts.push(draft);
    }

    fn slots(&self) -> u32 {
        self.capacity.max(0) as u32
    }

    /// Every enterprise of the mandatory set, whatever the capacity, on site within 24 h.
    fn mandatory(&mut self, members: &[&'v EnterpriseView]) {
        let enforce = self.rules.enforce;
        for &v in members.iter().filter(|v| !v.facts.mandatory.is_empty()) {
            let mut priority = priority::enterprise(v, self.day.now, enforce);
            let mut refs = Vec::new();
            for (i, reason) in v.facts.mandatory.iter().enumerate() {
                priority
                    .reasons
                    .insert(i, format!("mandatory_{}", reason.code));
                refs.extend(reason.refs.iter().cloned());
            }
            refs.extend(self_inspection_ref(v));
            let due = self
                .day
                .now
                .saturating_add_ms(enforce.mandatory_within.as_millis() as i64);
            self.push(Draft {
                view: v,
                pool: Pool::Mandatory,
                selection: Selection::Mandatory,
                priority,
                refs,
                not_before: self.day.now,
                due_by: due,
                video_possible: false,
            });
        }
        self.ledger.push(PoolLedger {
            pool: Pool::Mandatory,
            eligible: self.drafts.len() as u32,
            required: self.drafts.len() as u32,
            done_before: 0,
            planned: self.drafts.len() as u32,
            deficit: 0,
        });
    }

    /// Hot-work permits of `v` that can be checked today while they are active.
    fn active_permits(&self, v: &'v EnterpriseView) -> impl Iterator<Item = &'v HotWorkFacts> {
        let (start, end) = (self.day.start, self.day.end);
        v.facts.hot_work.iter().filter(move |p| {
            p.planned_start.is_none_or(|s| s < end) && p.planned_end.is_none_or(|e| e > start)
        })
    }

    fn self_check(&mut self, members: &[&'v EnterpriseView], rng: &mut ChaCha8Rng) {
        let eligible: Vec<&EnterpriseView> = members
            .iter()
            .copied()
            .filter(|v| v.facts.resumed && v.facts.self_inspection.is_some())
            .collect();
        let checked = |v: &EnterpriseView| has_inspection(v, InspectionPool::SelfCheck);
        let done_before = eligible.iter().filter(|v| checked(v)).count() as u32;
        let required = quota(self.rules.quotas.self_check_share, eligible.len());
        let by_mandatory = eligible
            .iter()
            .filter(|v| !checked(v) && self.chosen.contains(v.risk.enterprise_id.as_str()))
            .count() as u32;
        let need = required.saturating_sub(done_before + by_mandatory);
        let enforce = self.rules.enforce;
        let candidates = ranked(
            eligible
                .iter()
                .copied()
                .filter(|v| !checked(v) && self.free(v))
                .map(|v| {
                    let mut p = priority::enterprise(v, self.day.now, enforce);
                    p.reasons.insert(0, "self_inspection_submitted".into());
                    Candidate {
                        item: (v, p),
                        priority: 0.0,
                        units: 1,
                    }
                }),
        );
        let available = candidates.len() as u32;
        let picked = select(candidates, need.min(self.slots()), enforce.rank_share, rng);
        let planned = by_mandatory + picked.len() as u32;
        for ((v, p), selection) in picked {
            self.push(Draft {
                view: v,
                pool: Pool::SelfCheck,
                selection,
                priority: p,
                refs: self_inspection_ref(v).into_iter().collect(),
                not_before: self.day.now,
                due_by: self.day.end,
                video_possible: true,
            });
        }
        self.close_pool(
            Pool::SelfCheck,
            eligible.len() as u32,
            required,
            done_before,
            planned,
            need,
            available,
        );
    }

    fn hot_work(&mut self, members: &[&'v EnterpriseView], rng: &mut ChaCha8Rng) {
        let producers: Vec<&EnterpriseView> = members
            .iter()
            .copied()
            .filter(|v| v.facts.resumed && v.facts.is_hazchem_producer)
            .collect();
        let eligible: u32 = producers
            .iter()
            .map(|v| v.facts.hot_work.len() as u32)
            .sum();
        let checked: BTreeSet<&str> = producers
            .iter()
            .flat_map(|v| v.facts.inspections.iter())
            .filter(|i| i.pool == InspectionPool::HotWork)
            .flat_map(|i| i.target_refs.iter().map(String::as_str))
            .collect();
        let done_before = producers
            .iter()
            .flat_map(|v| v.facts.hot_work.iter())
            .filter(|p| checked.contains(p.permit_id.as_str()))
            .count() as u32;
        let by_visits = self.cover_permits_on_visits(&checked);
        let required = quota(self.rules.quotas.hot_work_share, eligible as usize);
        let need = required.saturating_sub(done_before + by_visits);
        let enforce = self.rules.enforce;
        let mut candidates = Vec::new();
        for &v in producers.iter().filter(|v| self.free(v)) {
            let permits: Vec<&HotWorkFacts> = self
                .active_permits(v)
                .filter(|p| !checked.contains(p.permit_id.as_str()))
                .collect();
            let Some(best) = permits
                .iter()
                .map(|p| {
                    priority::hot_work(&priority::enterprise(v, self.day.now, enforce), p, enforce)
                })
                .max_by(|a, b| a.value.total_cmp(&b.value))
            else {
                continue;
            };
            candidates.push(Candidate {
                units: permits.len() as u32,
                item: (v, best, permits),
                priority: 0.0,
            });
        }
        let candidates = ranked_by(candidates, |(_, p, _)| p.value);
        let available: u32 = candidates.iter().map(|c| c.units).sum();
        let slots = self.slots();
        let mut picked = select(candidates, need, enforce.rank_share, rng);
        picked.truncate(slots as usize);
        let mut planned = by_visits;
        for ((v, p, permits), selection) in picked {
            planned += permits.len() as u32;
            let not_before = permits
                .iter()
                .filter_map(|p| p.planned_start)
                .min()
                .unwrap_or(self.day.now)
                .max(self.day.now);
            let due_by = permits
                .iter()
                .filter_map(|p| p.planned_end)
                .max()
                .unwrap_or(self.day.end)
                .min(self.day.end);
            self.push(Draft {
                view: v,
                pool: Pool::HotWork,
                selection,
                priority: p,
                refs: permits.iter().map(|p| p.permit_id.clone()).collect(),
                not_before,
                due_by,
                video_possible: permits.iter().all(|p| p.video_stream),
            });
        }
        self.close_pool(
            Pool::HotWork,
            eligible,
            required,
            done_before,
            planned,
            need,
            available,
        );
    }

    /// Visits already planned (mandatory, self-check) also check the enterprise's special and
    /// L1 hot work that is active during the visit's window, if it is a resumed hazchem
    /// producer; returns how many permits they cover.
    fn cover_permits_on_visits(&mut self, checked: &BTreeSet<&str>) -> u32 {
        let mut covered = 0;
        for draft in &mut self.drafts {
            let facts = &draft.view.facts;
            if !(facts.resumed && facts.is_hazchem_producer) {
                continue;
            }
            let (from, to) = (draft.not_before, draft.due_by);
            for permit in facts.hot_work.iter().filter(|p| {
                !checked.contains(p.permit_id.as_str())
                    && p.planned_start.is_none_or(|s| s <= to)
                    && p.planned_end.is_none_or(|e| e >= from)
            }) {
                draft.refs.push(permit.permit_id.clone());
                draft
                    .priority
                    .reasons
                    .push(format!("hot_work_{}", permit.grade.as_str()));
                covered += 1;
            }
        }
        covered
    }

    /// The capacity left, by index: enterprises past their colour's visit floor first.
    fn risk(&mut self, members: &[&'v EnterpriseView], rng: &mut ChaCha8Rng) {
        let enforce = self.rules.enforce;
        let now = self.day.now;
        let mut candidates: Vec<Candidate<(&EnterpriseView, Priority, bool)>> = members
            .iter()
            .copied()
            .filter(|v| self.free(v))
            .map(|v| {
                let mut p = priority::enterprise(v, now, enforce);
                let floor = priority::past_frequency_floor(v, now, enforce);
                if floor {
                    p.reasons.insert(0, "frequency_floor".into());
                }
                Candidate {
                    item: (v, p, floor),
                    priority: 0.0,
                    units: 1,
                }
            })
            .collect();
        candidates.sort_by(|a, b| {
            (b.item.2, b.item.1.value)
                .partial_cmp(&(a.item.2, a.item.1.value))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        for c in &mut candidates {
            c.priority = c.item.1.value;
        }
        let slots = self.slots();
        let picked = select(candidates, slots, enforce.rank_share, rng);
        let planned = picked.len() as u32;
        for ((v, p, _), selection) in picked {
            self.push(Draft {
                view: v,
                pool: Pool::Risk,
                selection,
                priority: p,
                refs: Vec::new(),
                not_before: now,
                due_by: self.day.end,
                video_possible: true,
            });
        }
        self.ledger.push(PoolLedger {
            pool: Pool::Risk,
            eligible: members.len() as u32,
            required: 0,
            done_before: 0,
            planned,
            deficit: 0,
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn close_pool(
        &mut self,
        pool: Pool,
        eligible: u32,
        required: u32,
        done_before: u32,
        planned: u32,
        need: u32,
        available: u32,
    ) {
        let deficit = required.saturating_sub(done_before + planned);
        self.ledger.push(PoolLedger {
            pool,
            eligible,
            required,
            done_before,
            planned,
            deficit,
        });
        if deficit > 0 {
            self.deficits.push(QuotaDeficit {
                kind: "quota_deficit".into(),
                region_id: self.region.to_owned(),
                pool,
                required,
                covered: done_before + planned,
                shortfall: deficit,
                reason: if available < need {
                    "not_schedulable".into()
                } else {
                    "capacity".into()
                },
            });
        }
    }
}

fn quota(share: f64, n: usize) -> u32 {
    (share * n as f64).ceil() as u32
}

fn has_inspection(v: &EnterpriseView, pool: InspectionPool) -> bool {
    v.facts.inspections.iter().any(|i| i.pool == pool)
}

fn self_inspection_ref(v: &EnterpriseView) -> Option<String> {
    let si = v.facts.self_inspection.as_ref()?;
    Some(
        si.report_id
            .clone()
            .unwrap_or_else(|| format!("self_inspection:{}", v.risk.enterprise_id)),
    )
}

/// Candidates carrying (view, priority) in rank order, their weight set from the priority.
fn ranked<'v>(
    items: impl Iterator<Item = Candidate<(&'v EnterpriseView, Priority)>>,
) -> Vec<Candidate<(&'v EnterpriseView, Priority)>> {
    ranked_by(items.collect(), |(_, p)| p.value)
}

fn ranked_by<T>(mut items: Vec<Candidate<T>>, value: impl Fn(&T) -> f64) -> Vec<Candidate<T>> {
    for c in &mut items {
        c.priority = value(&c.item);
    }
    // Stable: ties keep the enterprise-id order they came in.
    items.sort_by(|a, b| b.priority.total_cmp(&a.priority));
    items
}

/// Orders the tasks (mandatory, quotas, risk; by priority within), numbers them, picks the
/// mode, and hands whole parks to the teams.
fn finish(
    mut drafts: Vec<Draft<'_>>,
    request: &PlanRequest,
    high_epidemic: bool,
) -> Vec<InspectionTask> {
    drafts.sort_by(|a, b| {
        a.pool
            .cmp(&b.pool)
            .then(b.priority.value.total_cmp(&a.priority.value))
            .then(a.view.risk.enterprise_id.cmp(&b.view.risk.enterprise_id))
    });
    let teams = assign_teams(&drafts, request.teams.max(1));
    drafts
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            let risk = &d.view.risk;
            let mode = if high_epidemic && d.video_possible {
                Mode::Video
            } else {
                Mode::Onsite
            };
            InspectionTask {
                task_id: format!("{}-{}-{:03}", request.region, request.date, i + 1),
                region_id: risk.region_id.clone(),
                enterprise_id: risk.enterprise_id.clone(),
                park_id: risk.park_id.clone(),
                pool: d.pool,
                mode,
                target_refs: d.refs,
                reason_codes: d.priority.reasons,
                priority: crate::risk::score::round1(d.priority.value),
                eri: risk.eri,
                color: risk.color,
                not_before: d.not_before,
                due_by: d.due_by,
                assigned_team: teams[&risk.enterprise_id].clone(),
                selection: d.selection,
            }
        })
        .collect()
}

/// Whole parks to one team each, the largest park to the least-loaded team.
fn assign_teams(drafts: &[Draft<'_>], teams: u32) -> BTreeMap<String, String> {
    let mut parks: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for d in drafts {
        let park = d.view.risk.park_id.as_deref().unwrap_or("");
        parks
            .entry(park)
            .or_default()
            .push(&d.view.risk.enterprise_id);
    }
    let mut parks: Vec<_> = parks.into_iter().collect();
    parks.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
    // More teams than parks leaves the rest idle: no need to count them.
    let mut load = vec![0usize; (teams as usize).clamp(1, parks.len().max(1))];
    let mut out = BTreeMap::new();
    for (_, enterprises) in parks {
        let team = (0..load.len()).min_by_key(|t| (load[*t], *t)).unwrap_or(0);
        load[team] += enterprises.len();
        for e in enterprises {
            out.insert(e.to_owned(), format!("team-{}", team + 1));
        }
    }
    out
}
