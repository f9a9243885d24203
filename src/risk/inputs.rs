//! Everything the risk index of one enterprise is computed from, read out of its state and its
//! warnings at one event time. Stored with every record, so the "why" of a colour can always be
//! shown.

use serde::{Deserialize, Serialize};

use crate::model::{
    AlarmLevel, AlarmTransition, EpidemicLevel, EventTime, HotGrade, PermitType, ProductionState,
};
use crate::rules::Color;
use crate::state::EnterpriseState;

use super::config::RiskConfig;
use super::ledger::EnterpriseWarnings;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RiskInputs {
    pub inherent: InherentInputs,
    pub alarms: AlarmInputs,
    pub data_quality: DataQualityInputs,
    pub special_work: SpecialWorkInputs,
    pub operations: OperationsInputs,
    pub people: PeopleInputs,
    pub management: ManagementInputs,
    pub context: ContextInputs,
    pub floors: FloorInputs,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InherentInputs {
    pub static_diag_score: Option<f64>,
    /// The most severe GB 18218 level among its hazard units (1 is the most severe).
    pub max_hazard_level: Option<u8>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlarmInputs {
    pub active_hh_ll: u32,
    pub active_h_l: u32,
    /// Open R2 warnings at level 2 (red) and level 1.
    pub gas_level2: u32,
    pub gas_level1: u32,
    pub avg_clear_minutes: Option<f64>,
    pub longest_alarm_hours: f64,
    /// Points that raised an alarm at least twice in the window.
    pub repeated_points: u32,
    /// R5 under-reporting warnings fired in the window.
    pub under_reporting: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DataQualityInputs {
    pub points: u32,
    pub points_offline_now: u32,
    /// Time-weighted share of points offline over the alarm window.
    pub offline_share: f64,
    pub gas_detector_quality_warning: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SpecialWorkInputs {
    pub hot_special: u32,
    pub hot_l1: u32,
    pub hot_l2: u32,
    pub confined: u32,
    pub other: u32,
    /// Open R8-R12 warnings.
    pub violations: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OperationsInputs {
    pub production_state: Option<ProductionState>,
    pub days_since_resumption: Option<f64>,
    /// The highest fill ratio among open R13 warnings.
    pub over_capacity_ratio: Option<f64>,
    pub rush_production: bool,
    pub supply_imbalance: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PeopleInputs {
    pub key_posts_required: u32,
    pub key_posts_filled: u32,
    pub untrained_or_uncertified: u32,
    pub new_or_transferred: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ManagementInputs {
    /// Open R7 warnings: warnings unacknowledged past their deadline, and how many are red.
    pub overdue: u32,
    pub overdue_red: u32,
    pub major_hidden_overdue: u32,
    /// R17 commitment warnings fired within the commitment window.
    pub commitment_issues: u32,
    pub failed_inspection_open: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContextInputs {
    pub epidemic: Option<EpidemicLevel>,
    pub night: bool,
    pub holiday: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FloorInputs {
    pub direct_red_flags: Vec<String>,
    /// Open red warnings, and those of the rules that make an enterprise red.
    pub red_warnings: u32,
    pub red_warnings_critical: u32,
}

/// What gathering needs besides the enterprise.
pub struct GatherContext<'a> {
    pub now: EventTime,
    pub config: &'a RiskConfig,
    pub utc_offset_minutes: i32,
    pub epidemic: Option<EpidemicLevel>,
    /// Points, points offline now, and the time-weighted share offline over the window.
    pub points: (u32, u32),
    pub offline_share: f64,
}

pub fn gather(
    e: &EnterpriseState,
    warnings: Option<&EnterpriseWarnings>,
    ctx: &GatherContext<'_>,
) -> RiskInputs {
    let empty = EnterpriseWarnings::default();
    let warnings = warnings.unwrap_or(&empty);
    RiskInputs {
        inherent: inherent(e),
        alarms: alarms(e, warnings, ctx),
        data_quality: data_quality(warnings, ctx),
        special_work: special_work(e, warnings),
        operations: operations(e, warnings, ctx.now),
        people: people(e),
        management: management(e, warnings, ctx),
        context: context(ctx),
        floors: floors(e, warnings, ctx.config),
    }
}

fn inherent(e: &EnterpriseState) -> InherentInputs {
    InherentInputs {
        static_diag_score: e.profile.as_ref().map(|p| p.static_diag_score),
        max_hazard_level: e.hazard_units.values().map(|h| h.level).min(),
    }
}

fn alarms(e: &EnterpriseState, w: &EnterpriseWarnings, ctx: &GatherContext<'_>) -> AlarmInputs {
    let since = ctx
        .now
        .saturating_sub_ms(ctx.config.alarms.window.as_millis() as i64);
    let mut out = AlarmInputs::default();
    for alarm in e
        .alarms
        .values()
        .filter(|a| is_standing(a.latest.transition))
    {
        match alarm.latest.level {
            AlarmLevel::Hh | AlarmLevel::Ll => out.active_hh_ll += 1,
            AlarmLevel::H | AlarmLevel::L => out.active_h_l += 1,
        }
        let hours = (ctx.now.millis() - alarm.raised_at.millis()) as f64 / HOUR_MS as f64;
        out.longest_alarm_hours = out.longest_alarm_hours.max(hours);
    }
    for gas in w.counting().filter(|w| w.rule == 2) {
        match gas.color {
            Color::Red => out.gas_level2 += 1,
            _ => out.gas_level1 += 1,
        }
    }
    let episodes = alarm_episodes(e, since);
    if !episodes.cleared.is_empty() {
        let total: f64 = episodes.cleared.iter().sum();
        out.avg_clear_minutes = Some(total / episodes.cleared.len() as f64 / 60_000.0);
    }
    let longest_cleared = episodes.cleared.iter().copied().fold(0.0, f64::max);
    out.longest_alarm_hours = out
        .longest_alarm_hours
        .max(longest_cleared / HOUR_MS as f64);
    out.repeated_points = episodes.repeated_points;
    out.under_reporting = w.fired_since(since).filter(|w| w.rule == 5).count() as u32;
    out
}

fn is_standing(transition: AlarmTransition) -> bool {
    !matches!(transition, AlarmTransition::Clear | AlarmTransition::Shelve)
}

struct AlarmEpisodes {
    /// Durations (ms) of alarms raised and cleared in the window.
    cleared: Vec<f64>,
    repeated_points: u32,
}

fn alarm_episodes(e: &EnterpriseState, since: EventTime) -> AlarmEpisodes {
    let mut raised: std::collections::HashMap<&str, EventTime> = Default::default();
    let mut raises: std::collections::HashMap<&str, u32> = Default::default();
    let mut cleared = Vec::new();
    for (at, a) in e.alarm_log.iter().filter(|(at, _)| *at >= since) {
        match a.transition {
            AlarmTransition::Raise => {
                raised.insert(&a.alarm_id, *at);
                *raises.entry(&a.target_code).or_default() += 1;
            }
            AlarmTransition::Clear => {
                if let Some(start) = raised.remove(a.alarm_id.as_str()) {
                    cleared.push((at.millis() - start.millis()) as f64);
                }
            }
            _ => {}
        }
    }
    AlarmEpisodes {
        cleared,
        repeated_points: raises.values().filter(|n| **n >= 2).count() as u32,
    }
}

fn data_quality(w: &EnterpriseWarnings, ctx: &GatherContext<'_>) -> DataQualityInputs {
    let (points, offline) = ctx.points;
    DataQualityInputs {
        points,
        points_offline_now: offline,
        offline_share: ctx.offline_share,
        gas_detector_quality_warning: w
            .counting()
            .any(|w| w.rule == 4 && w.color >= Color::Orange),
    }
}

/// Points, and points offline at `now`. A point that has never reported counts as offline
/// only once the enterprise has been known for the point's offline delay: at the start of a
/// stream every point is still waiting for its first reading.
pub fn points_offline(e: &EnterpriseState, now: EventTime, known_since: EventTime) -> (u32, u32) {
    let known_ms = now.millis().saturating_sub(known_since.millis());
    let offline = e
        .indicators
        .values()
        .filter(|i| match i.last {
            Some(_) => !i.is_online(now),
            None => known_ms >= i.offline_after_ms(),
        })
        .count();
    (e.indicators.len() as u32, offline as u32)
}

fn special_work(e: &EnterpriseState, w: &EnterpriseWarnings) -> SpecialWorkInputs {
    let mut out = SpecialWorkInputs::default();
    for permit in e.permits.values().filter(|p| p.phase.is_active()) {
        let latest = &permit.latest;
        let counter = match (latest.permit_type, latest.hot_grade) {
            (PermitType::Hot, Some(HotGrade::Special)) => &mut out.hot_special,
            (PermitType::Hot, Some(HotGrade::L1)) => &mut out.hot_l1,
            (PermitType::Hot, _) => &mut out.hot_l2,
            (PermitType::Confined, _) => &mut out.confined,
            _ => &mut out.other,
        };
        *counter += 1;
    }
    out.violations = w.counting().filter(|w| (8..=12).contains(&w.rule)).count() as u32;
    out
}

fn operations(e: &EnterpriseState, w: &EnterpriseWarnings, now: EventTime) -> OperationsInputs {
    let open_rule = |id: &str| w.counting().any(|w| w.rule_id == id);
    OperationsInputs {
        production_state: e.status.latest().map(|s| s.production_state),
        days_since_resumption: e
            .resumed_at
            .map(|at| (now.millis() - at.millis()) as f64 / DAY_MS as f64),
        over_capacity_ratio: w
            .counting()
            .filter(|w| w.rule == 13)
            .filter_map(|w| w.value)
            .reduce(f64::max),
        rush_production: open_rule("r16_rush_production"),
        supply_imbalance: open_rule("r16_supply_chain_imbalance"),
    }
}

fn people(e: &EnterpriseState) -> PeopleInputs {
    let Some(s) = e.staffing.latest() else {
        return PeopleInputs::default();
    };
    PeopleInputs {
        key_posts_required: s.key_posts_required,
        key_posts_filled: s.key_posts_filled,
        untrained_or_uncertified: s.on_post_untrained_n + s.special_ops_uncertified_n,
        new_or_transferred: s.new_or_transferred_n,
    }
}

fn management(
    e: &EnterpriseState,
    w: &EnterpriseWarnings,
    ctx: &GatherContext<'_>,
) -> ManagementInputs {
    // R7's own rule: warnings past their deadline. Overdue findings count below, from the
    // inspections themselves.
    let overdue: Vec<_> = w
        .counting()
        .filter(|w| w.rule_id == "r07_warning_not_handled")
        .collect();
    let commitment_window = (ctx.config.management.commitment_days * DAY_MS as f64) as i64;
    let (major_hidden_overdue, failed_inspection_open) = inspections(e, ctx.now);
    ManagementInputs {
        overdue: overdue.len() as u32,
        overdue_red: overdue.iter().filter(|w| w.color == Color::Red).count() as u32,
        major_hidden_overdue,
        commitment_issues: w
            .fired_since(ctx.now.saturating_sub_ms(commitment_window))
            .filter(|w| w.rule == 17)
            .count() as u32,
        failed_inspection_open,
    }
}

/// Major hidden findings past their rectification date, and whether the last inspection
/// left findings open. The newest result of an inspection id is its current state.
fn inspections(e: &EnterpriseState, now: EventTime) -> (u32, bool) {
    let latest = crate::enforce::facts::latest_inspections(e, EventTime::MIN);
    let open =
        |i: &&crate::enforce::facts::InspectionFacts| !i.is_clean() && i.rectified_at.is_none();
    let major_overdue = latest
        .iter()
        .filter(open)
        .filter(|i| i.rectify_due.is_some_and(|due| due < now))
        .map(|i| i.findings_major)
        .sum();
    // `latest_inspections` is in time order.
    (major_overdue, latest.last().is_some_and(|i| open(&i)))
}

fn context(ctx: &GatherContext<'_>) -> ContextInputs {
    let (night, holiday) = night_and_holiday(ctx.now, &ctx.config.context, ctx.utc_offset_minutes);
    ContextInputs {
        epidemic: ctx.epidemic,
        night,
        holiday,
    }
}

/// Whether `at` is at night, and whether it is a public holiday, in local time.
pub fn night_and_holiday(
    at: EventTime,
    c: &super::config::ContextWeights,
    utc_offset_minutes: i32,
) -> (bool, bool) {
    let local = chrono::DateTime::from_timestamp_millis(
        at.millis() + i64::from(utc_offset_minutes) * 60_000,
    )
    .unwrap_or_default()
    .naive_utc();
    let hour = chrono::Timelike::hour(&local);
    let night = if c.night_from > c.night_to {
        hour >= c.night_from || hour < c.night_to
    } else {
        hour >= c.night_from && hour < c.night_to
    };
    (night, c.holidays.contains(&local.date()))
}

fn floors(e: &EnterpriseState, w: &EnterpriseWarnings, config: &RiskConfig) -> FloorInputs {
    let red: Vec<_> = w.counting().filter(|w| w.color == Color::Red).collect();
    FloorInputs {
        direct_red_flags: e
            .profile
            .as_ref()
            .map(|p| p.direct_red_flags.clone())
            .unwrap_or_default(),
        red_warnings: red.len() as u32,
        red_warnings_critical: red
            .iter()
            .filter(|w| config.bands.red_floor_rules.contains(&w.rule))
            .count() as u32,
    }
}
