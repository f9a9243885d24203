//! What the enforcement planner and the region quota ledger need to know about one
//! enterprise besides its risk record: why it must be visited (the mandatory set), its
//! self-inspection, its special and level-1 hot work, its recent inspections and warnings.
//! Gathered with the risk index, from the same state and warnings, and serialisable: a
//! snapshot of these is what `vigil enforce` plans from.

use serde::{Deserialize, Serialize};

use crate::model::{
    EpidemicLevel, EventTime, FindingSeverity, HotGrade, InspectionMode, InspectionPool,
    PermitType, ProductionState,
};
use crate::rules::Color;
use crate::state::{EnterpriseState, PermitPhase};
use crate::warnings::Tier;

use crate::risk::ledger::EnterpriseWarnings;

const DAY_MS: i64 = 24 * 3_600_000;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EnterpriseFacts {
    pub is_hazchem_producer: bool,
    /// Approved to resume, or starting up, running or in trial production.
    pub resumed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumed_at: Option<EventTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_inspection: Option<SelfInspectionFacts>,
    /// SPECIAL and L1 hot-work permits planned, issued or started.
    #[serde(default)]
    pub hot_work: Vec<HotWorkFacts>,
    /// Inspections within the region window, newest state of each.
    #[serde(default)]
    pub inspections: Vec<InspectionFacts>,
    /// The last inspection of any kind, and the last on-site one without findings, as far
    /// back as the engine has seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_inspected_at: Option<EventTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_clean_onsite_at: Option<EventTime>,
    /// ORANGE or RED warnings fired in the last 7 days.
    pub orange_red_warnings_7d: u32,
    /// A warning flood or a bad-actor alarm point (R6) in the last 7 days.
    pub flood_or_bad_actor: bool,
    #[serde(default)]
    pub mandatory: Vec<MandatoryReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epidemic: Option<EpidemicLevel>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SelfInspectionFacts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<EventTime>,
    pub passed: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HotWorkFacts {
    pub permit_id: String,
    pub grade: HotGrade,
    pub phase: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_start: Option<EventTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_end: Option<EventTime>,
    pub contractor: bool,
    pub video_stream: bool,
    pub night_or_holiday: bool,
    /// Open R8-R12 warnings on this permit.
    pub open_violations: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InspectionFacts {
    pub inspection_id: String,
    pub ts: EventTime,
    pub mode: InspectionMode,
    pub pool: InspectionPool,
    #[serde(default)]
    pub target_refs: Vec<String>,
    pub findings_general: u32,
    pub findings_major: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rectify_due: Option<EventTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rectified_at: Option<EventTime>,
}

impl EnterpriseFacts {
    /// Keeps the visit times an earlier gathering saw, once the state's history has let them go.
    pub fn remember(&mut self, earlier: &EnterpriseFacts) {
        self.last_inspected_at = self.last_inspected_at.max(earlier.last_inspected_at);
        self.last_clean_onsite_at = self.last_clean_onsite_at.max(earlier.last_clean_onsite_at);
    }
}

impl InspectionFacts {
    pub fn is_clean(&self) -> bool {
        self.findings_general + self.findings_major == 0
    }
}

/// Why an enterprise is in the mandatory set (DOMAIN.md (e) 1), with what to look at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MandatoryReason {
    /// `red_warning_r02` (R2, R9, R10, R13), `under_reporting`, `direct_red`,
    /// `startup_without_self_inspection`, `red_escalated_to_city`.
    pub code: String,
    pub refs: Vec<String>,
}

/// What gathering needs besides the enterprise.
pub struct FactsContext<'a> {
    pub now: EventTime,
    pub window_ms: i64,
    pub is_night_or_holiday: &'a dyn Fn(EventTime) -> bool,
    pub epidemic: Option<EpidemicLevel>,
}

pub fn gather(
    e: &EnterpriseState,
    warnings: Option<&EnterpriseWarnings>,
    ctx: &FactsContext<'_>,
) -> EnterpriseFacts {
    let empty = EnterpriseWarnings::default();
    let warnings = warnings.unwrap_or(&empty);
    let status = e.status.latest();
    let week_ago = ctx.now.saturating_sub_ms(7 * DAY_MS);
    let recent: Vec<_> = warnings.fired_since(week_ago).collect();
    let inspections = latest_inspections(e, ctx.now.saturating_sub_ms(ctx.window_ms));
    EnterpriseFacts {
        last_inspected_at: e.inspections.iter().map(|(at, _)| *at).max(),
        last_clean_onsite_at: e
            .inspections
            .iter()
            .filter(|(_, r)| r.mode == InspectionMode::Onsite && r.findings.is_empty())
            .map(|(at, _)| *at)
            .max(),
        is_hazchem_producer: e.profile.as_ref().is_some_and(|p| p.is_hazchem_producer),
        resumed: status.is_some_and(|s| {
            s.approved_to_resume
                || matches!(
                    s.production_state,
                    ProductionState::Startup | ProductionState::Running | ProductionState::Trial
                )
        }),
        resumed_at: e.resumed_at,
        self_inspection: status.and_then(|s| s.self_inspection.as_ref()).map(|si| {
            SelfInspectionFacts {
                report_id: si.report_id.clone(),
                submitted_at: si.submitted_at,
                passed: si.passed,
            }
        }),
        hot_work: hot_work(e, warnings, ctx),
        inspections,
        orange_red_warnings_7d: recent.iter().filter(|w| w.color >= Color::Orange).count() as u32,
        flood_or_bad_actor: recent
            .iter()
            .any(|w| w.rule_id == "r06_warning_flood" || w.rule_id == "r06_alarm_bad_actor"),
        mandatory: mandatory(e, warnings),
        epidemic: ctx.epidemic,
    }
}

fn hot_work(
    e: &EnterpriseState,
    warnings: &EnterpriseWarnings,
    ctx: &FactsContext<'_>,
) -> Vec<HotWorkFacts> {
    let mut out: Vec<HotWorkFacts> = e
        .permits
        .values()
        .filter(|p| {
            matches!(
                p.phase,
                PermitPhase::Planned | PermitPhase::Issued | PermitPhase::Started
            )
        })
        .filter_map(|p| {
            let latest = &p.latest;
            let grade = latest.hot_grade.filter(|g| *g != HotGrade::L2)?;
            (latest.permit_type == PermitType::Hot).then(|| HotWorkFacts {
                permit_id: latest.permit_id.clone(),
                grade,
                phase: p.phase.as_str().to_owned(),
                planned_start: latest.planned_start,
                planned_end: latest.planned_end,
                contractor: latest.contractor_credit_code.is_some(),
                video_stream: latest.video_stream_id.is_some(),
                night_or_holiday: latest
                    .planned_start
                    .is_some_and(|t| (ctx.is_night_or_holiday)(t)),
                open_violations: warnings
                    .counting()
                    .filter(|w| (8..=12).contains(&w.rule) && w.subject == latest.permit_id)
                    .count() as u32,
            })
        })
        .collect();
    out.sort_by(|a, b| a.permit_id.cmp(&b.permit_id));
    out
}

/// The newest result of each inspection at or after `since`, in time order.
pub fn latest_inspections(e: &EnterpriseState, since: EventTime) -> Vec<InspectionFacts> {
    let mut latest = std::collections::BTreeMap::new();
    for (_, r) in e.inspections.iter().filter(|(at, _)| *at >= since) {
        let count = |s: FindingSeverity| r.findings.iter().filter(|f| f.severity == s).count();
        latest.insert(
            r.inspection_id.clone(),
            InspectionFacts {
                inspection_id: r.inspection_id.clone(),
                ts: r.ts,
                mode: r.mode,
                pool: r.pool,
                target_refs: r.target_refs.clone(),
                findings_general: count(FindingSeverity::General) as u32,
                findings_major: count(FindingSeverity::MajorHidden) as u32,
                rectify_due: r.rectify_due,
                rectified_at: r.rectified_at,
            },
        );
    }
    let mut out: Vec<_> = latest.into_values().collect();
    out.sort_by_key(|i| i.ts);
    out
}

fn mandatory(e: &EnterpriseState, warnings: &EnterpriseWarnings) -> Vec<MandatoryReason> {
    let mut out = Vec::new();
    let mut add = |code: String, refs: Vec<String>| {
        if !refs.is_empty() {
            out.push(MandatoryReason { code, refs });
        }
    };
    for rule in [2u8, 9, 10, 13] {
        let refs = ids(warnings, |w| w.rule == rule && w.color == Color::Red);
        add(format!("red_warning_r{rule:02}"), refs);
    }
    add("under_reporting".into(), ids(warnings, |w| w.rule == 5));
    let flags = e
        .profile
        .as_ref()
        .map(|p| p.direct_red_flags.clone())
        .unwrap_or_default();
    add("direct_red".into(), flags);
    add(
        "startup_without_self_inspection".into(),
        ids(warnings, |w| {
            w.rule_id == "r14_resumption_without_self_inspection"
        }),
    );
    add(
        "red_escalated_to_city".into(),
        ids(warnings, |w| w.color == Color::Red && w.tier >= Tier::City),
    );
    out
}

fn ids(
    warnings: &EnterpriseWarnings,
    keep: impl Fn(&crate::risk::ledger::WarningFacts) -> bool,
) -> Vec<String> {
    warnings
        .open
        .values()
        .filter(|w| keep(w))
        .map(|w| w.id.clone())
        .collect()
}
