//! The enterprise risk index, ERI = min(100, I + E · (D + M)) (DOMAIN.md (d)): a pure function
//! of the inputs and the weights, every term and part kept for the breakdown.

use serde::{Deserialize, Serialize};

use crate::model::{EpidemicLevel, ProductionState};
use crate::rules::Color;

use super::config::RiskConfig;
use super::inputs::RiskInputs;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Terms {
    /// I, 0-40.
    pub inherent: f64,
    /// D, 0-45, and its parts.
    pub dynamic: f64,
    pub alarms: f64,
    pub data_quality: f64,
    pub special_work: f64,
    pub operations: f64,
    pub people: f64,
    /// M, 0-15.
    pub management: f64,
    /// E, the multiplier of D + M.
    pub context: f64,
}

/// The index, its terms, and the colour floor the warnings and flags set, with why.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RiskScore {
    pub eri: f64,
    pub terms: Terms,
    pub floor: Option<Floor>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Floor {
    pub color: Color,
    /// `direct_red_flag`, `red_warning_critical_rule`, `red_warning_overdue` or `red_warning`.
    pub reason: String,
}

pub fn score(inputs: &RiskInputs, config: &RiskConfig) -> RiskScore {
    let mut terms = Terms {
        inherent: inherent(inputs, config),
        alarms: alarms(inputs, config),
        data_quality: data_quality(inputs, config),
        special_work: special_work(inputs, config),
        operations: operations(inputs, config),
        people: people(inputs, config),
        management: management(inputs, config),
        context: context(inputs, config),
        dynamic: 0.0,
    };
    terms.dynamic = round1(
        terms.alarms + terms.data_quality + terms.special_work + terms.operations + terms.people,
    );
    let eri = terms.inherent + terms.context * (terms.dynamic + terms.management);
    RiskScore {
        eri: round1(eri.min(100.0)),
        terms,
        floor: floor(inputs),
    }
}

/// Rounds to one decimal, as the index is shown.
pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn capped(cap: f64, x: f64) -> f64 {
    round1(x.clamp(0.0, cap))
}

fn inherent(inputs: &RiskInputs, config: &RiskConfig) -> f64 {
    let w = &config.inherent;
    let i = &inputs.inherent;
    let diag = i
        .static_diag_score
        .map_or(0.0, |s| (100.0 - s.clamp(0.0, 100.0)) / 100.0);
    let hazard = i
        .max_hazard_level
        .and_then(|level| {
            w.hazard_level_factor
                .get(usize::from(level).checked_sub(1)?)
        })
        .copied()
        .unwrap_or(0.0);
    round1(w.diag_weight * diag + w.hazard_weight * hazard)
}

fn alarms(inputs: &RiskInputs, config: &RiskConfig) -> f64 {
    let w = &config.alarms;
    let a = &inputs.alarms;
    let severe = f64::from(a.active_hh_ll + a.gas_level2);
    let plain = f64::from(a.active_h_l + a.gas_level1);
    let mut points = w.severe * severe + w.alarm * plain;
    if a.avg_clear_minutes
        .is_some_and(|m| m > w.slow_clear_minutes)
    {
        points += w.slow_clear;
    }
    if a.longest_alarm_hours > w.long_alarm_hours {
        points += w.long_alarm;
    }
    if a.repeated_points > w.repeated_points_over {
        points += w.repeated;
    }
    points += w.under_reporting * f64::from(a.under_reporting);
    capped(w.cap, points)
}

fn data_quality(inputs: &RiskInputs, config: &RiskConfig) -> f64 {
    let w = &config.data_quality;
    let d = &inputs.data_quality;
    let mut points = w.offline_factor * d.offline_share;
    if d.gas_detector_quality_warning {
        points += w.gas_detector_quality;
    }
    capped(w.cap, points)
}

fn special_work(inputs: &RiskInputs, config: &RiskConfig) -> f64 {
    let w = &config.special_work;
    let s = &inputs.special_work;
    let points = w.hot_special * f64::from(s.hot_special)
        + w.hot_l1 * f64::from(s.hot_l1)
        + w.hot_l2 * f64::from(s.hot_l2)
        + w.confined * f64::from(s.confined)
        + w.other * f64::from(s.other)
        + w.violation * f64::from(s.violations);
    capped(w.cap, points)
}

fn operations(inputs: &RiskInputs, config: &RiskConfig) -> f64 {
    let w = &config.operations;
    let o = &inputs.operations;
    let starting = matches!(
        o.production_state,
        Some(ProductionState::Startup | ProductionState::Trial)
    ) || o
        .days_since_resumption
        .is_some_and(|d| d < w.resumption_days);
    let mut points = if starting { w.startup } else { 0.0 };
    points += match o.over_capacity_ratio {
        Some(r) if r >= 1.0 => w.over_capacity_100,
        Some(r) if r >= 0.9 => w.over_capacity_90,
        _ => 0.0,
    };
    if o.rush_production {
        points += w.rush_production;
    }
    if o.supply_imbalance {
        points += w.supply_imbalance;
    }
    capped(w.cap, points)
}

fn people(inputs: &RiskInputs, config: &RiskConfig) -> f64 {
    let w = &config.people;
    let p = &inputs.people;
    let mut points = 0.0;
    if p.key_posts_required > 0 {
        let ratio = f64::from(p.key_posts_filled) / f64::from(p.key_posts_required);
        points += (1.0 - ratio).max(0.0) * w.shortfall_factor;
    }
    if p.untrained_or_uncertified > 0 {
        points += w.untrained_on_post;
    }
    let on_post = f64::from(p.key_posts_filled.max(1));
    if f64::from(p.new_or_transferred) / on_post > w.new_staff_share_over {
        points += w.new_staff;
    }
    capped(w.cap, points)
}

fn management(inputs: &RiskInputs, config: &RiskConfig) -> f64 {
    let w = &config.management;
    let m = &inputs.management;
    let plain_overdue = m.overdue.saturating_sub(m.overdue_red);
    let mut points = w.overdue * f64::from(plain_overdue)
        + w.overdue_red * f64::from(m.overdue_red)
        + w.major_hidden_overdue * f64::from(m.major_hidden_overdue)
        + w.commitment * f64::from(m.commitment_issues);
    if m.failed_inspection_open {
        points += w.failed_inspection;
    }
    capped(w.cap, points)
}

fn context(inputs: &RiskInputs, config: &RiskConfig) -> f64 {
    let w = &config.context;
    let c = &inputs.context;
    let epidemic = match c.epidemic {
        Some(EpidemicLevel::High) => w.epidemic_high,
        Some(EpidemicLevel::Medium) => w.epidemic_medium,
        Some(EpidemicLevel::Low) | None => w.epidemic_low,
    };
    let when = if c.night || c.holiday {
        w.night_or_holiday
    } else {
        1.0
    };
    (epidemic * when * 1000.0).round() / 1000.0
}

/// The colour the flags and warnings hold the enterprise at, whatever its index.
fn floor(inputs: &RiskInputs) -> Option<Floor> {
    let f = &inputs.floors;
    let red = |reason: &str| {
        Some(Floor {
            color: Color::Red,
            reason: reason.into(),
        })
    };
    if !f.direct_red_flags.is_empty() {
        return red("direct_red_flag");
    }
    if f.red_warnings_critical > 0 {
        return red("red_warning_critical_rule");
    }
    if inputs.management.overdue_red > 0 {
        return red("red_warning_overdue");
    }
    (f.red_warnings > 0).then_some(Floor {
        color: Color::Orange,
        reason: "red_warning".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::inputs::*;

    fn config() -> RiskConfig {
        crate::config::Config::default().risk
    }

    /// DOMAIN.md (d)'s worked example: diag score 72, a level-2 source, two H alarms, one
    /// SPECIAL and one L1 hot work, starting up, in a MEDIUM region.
    fn worked_example() -> RiskInputs {
        RiskInputs {
            inherent: InherentInputs {
                static_diag_score: Some(72.0),
                max_hazard_level: Some(2),
            },
            alarms: AlarmInputs {
                active_h_l: 2,
                ..AlarmInputs::default()
            },
            special_work: SpecialWorkInputs {
                hot_special: 1,
                hot_l1: 1,
                ..SpecialWorkInputs::default()
            },
            operations: OperationsInputs {
                production_state: Some(ProductionState::Startup),
                ..OperationsInputs::default()
            },
            context: ContextInputs {
                epidemic: Some(EpidemicLevel::Medium),
                ..ContextInputs::default()
            },
            ..RiskInputs::default()
        }
    }

    #[test]
    fn the_worked_example_scores_32_7() {
        let s = score(&worked_example(), &config());
        assert_eq!(s.terms.inherent, 20.6);
        assert_eq!(
            (s.terms.alarms, s.terms.special_work, s.terms.operations),
            (2.0, 5.0, 4.0)
        );
        assert_eq!(s.terms.dynamic, 11.0);
        assert_eq!(s.terms.management, 0.0);
        assert_eq!(s.terms.context, 1.1);
        assert_eq!(s.eri, 32.7);
        assert_eq!(s.floor, None);
    }

    #[test]
    fn an_r8_violation_on_the_special_job_adds_3_and_a_red_warning_floor() {
        let mut inputs = worked_example();
        inputs.special_work.violations = 1;
        inputs.floors.red_warnings = 1;
        let s = score(&inputs, &config());
        assert_eq!(s.terms.dynamic, 14.0);
        assert_eq!(s.eri, 36.0);
        assert_eq!(s.floor.map(|f| f.color), Some(Color::Orange));
    }

    #[test]
    fn parts_are_capped_and_the_index_stops_at_100() {
        let mut inputs = worked_example();
        inputs.alarms.active_hh_ll = 40;
        inputs.special_work.hot_special = 40;
        inputs.management.overdue_red = 40;
        inputs.management.overdue = 40;
        inputs.context.epidemic = Some(EpidemicLevel::High);
        inputs.context.night = true;
        let s = score(&inputs, &config());
        assert_eq!((s.terms.alarms, s.terms.special_work), (15.0, 10.0));
        assert_eq!(s.terms.management, 15.0);
        assert_eq!(s.terms.context, 1.32);
        // 20.6 + 1.32 × (15 + 10 + 4 + 15) = 78.68
        assert_eq!(s.eri, 78.7);
        inputs.operations.over_capacity_ratio = Some(1.2);
        inputs.people.untrained_or_uncertified = 1;
        inputs.data_quality.offline_share = 1.0;
        // 20.6 + 1.32 × (45 + 15) = 99.8; with I at its maximum of 40 it stops at 100.
        assert_eq!(score(&inputs, &config()).eri, 99.8);
        inputs.inherent.static_diag_score = Some(0.0);
        inputs.inherent.max_hazard_level = Some(1);
        assert_eq!(score(&inputs, &config()).terms.inherent, 40.0);
        assert_eq!(score(&inputs, &config()).eri, 100.0);
        assert_eq!(
            score(&inputs, &config()).floor.map(|f| f.reason),
            Some("red_warning_overdue".into())
        );
    }
}
