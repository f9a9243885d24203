//! Tables of the enterprise's own declarations and status: `enterprise_status`,
//! `enterprise_ops`, `inventory`, `staffing`, `training`, `commitments`, `inspections`,
//! `warning_feedback`.

use crate::model::{EventDate, FindingSeverity};
use crate::state::EnterpriseState;

use super::writer::{ColType::*, Column, TableWriter};

/// Days since 1970-01-01, the representation of an Arrow `Date32`.
pub fn epoch_days(date: EventDate) -> i32 {
    (date.start().millis().div_euclid(86_400_000)) as i32
}

pub const ENTERPRISE_STATUS: &[Column] = &[
    ("enterprise_id", Str),
    ("production_state", Str),
    ("since", Ts),
    ("resumption_applied_at", Ts),
    ("self_inspection_submitted_at", Ts),
    ("self_inspection_passed", Bool),
    ("approved_to_resume", Bool),
    // When it last went from shut down to starting up, running or trial.
    ("resumed_at", Ts),
    ("throughput_pct_design", F64),
    ("overtime_h_7d", F64),
    ("raw_material_days_cover", F64),
    ("product_outbound_blocked", Bool),
    ("ops_ts", Ts),
];

pub fn enterprise_status(e: &EnterpriseState, w: &mut TableWriter) {
    let status = e.status.iter().next_back();
    let ops = e.ops.iter().next_back();
    if status.is_none() && ops.is_none() {
        return;
    }
    let s = status.map(|(_, s)| s);
    let inspection = s.and_then(|s| s.self_inspection.as_ref());
    let o = ops.map(|(_, o)| o);
    w.str(Some(&e.enterprise_id))
        .str(s.map(|s| s.production_state.as_str()))
        .ts(status.map(|(at, _)| *at))
        .ts(s.and_then(|s| s.resumption_applied_at))
        .ts(inspection.and_then(|i| i.submitted_at))
        .bool(inspection.map(|i| i.passed))
        .bool(s.map(|s| s.approved_to_resume))
        .ts(e.resumed_at)
        .f64(o.map(|o| o.throughput_pct_design))
        .f64(o.map(|o| o.overtime_h_7d))
        .f64(o.map(|o| o.raw_material_days_cover))
        .bool(o.map(|o| o.product_outbound_blocked))
        .ts(ops.map(|(at, _)| *at));
}

pub const ENTERPRISE_OPS: &[Column] = &[
    ("enterprise_id", Str),
    ("ts", Ts),
    ("throughput_pct_design", F64),
    ("overtime_h_7d", F64),
    ("raw_material_days_cover", F64),
    ("product_outbound_blocked", Bool),
];

pub fn enterprise_ops(e: &EnterpriseState, w: &mut TableWriter) {
    for (ts, o) in e.ops.iter() {
        w.str(Some(&e.enterprise_id))
            .ts(Some(*ts))
            .f64(Some(o.throughput_pct_design))
            .f64(Some(o.overtime_h_7d))
            .f64(Some(o.raw_material_days_cover))
            .bool(Some(o.product_outbound_blocked));
    }
}

pub const INVENTORY: &[Column] = &[
    ("enterprise_id", Str),
    ("storage_unit_id", Str),
    ("cas", Str),
    ("qty_t", F64),
    ("approved_capacity_t", F64),
    // From the enterprise's registration, when it names this unit.
    ("registered_capacity_t", F64),
    // qty_t / approved_capacity_t (NULL when the capacity is not positive).
    ("ratio", F64),
    ("ts", Ts),
];

/// The latest level of each storage unit.
pub fn inventory(e: &EnterpriseState, w: &mut TableWriter) {
    for log in e.inventory.values() {
        let Some((ts, i)) = log.iter().next_back() else {
            continue;
        };
        let registered = e
            .profile
            .as_ref()
            .and_then(|p| p.registered_capacity_t.get(&i.storage_unit_id).copied());
        let ratio = (i.approved_capacity_t > 0.0).then(|| i.qty_t / i.approved_capacity_t);
        w.str(Some(&e.enterprise_id))
            .str(Some(&i.storage_unit_id))
            .str(Some(&i.cas))
            .f64(Some(i.qty_t))
            .f64(Some(i.approved_capacity_t))
            .f64(registered)
            .f64(ratio)
            .ts(Some(*ts));
    }
}

pub const STAFFING: &[Column] = &[
    ("enterprise_id", Str),
    ("date", Date),
    ("key_posts_required", I64),
    ("key_posts_filled", I64),
    ("new_or_transferred_n", I64),
    ("on_post_untrained_n", I64),
    ("special_ops_uncertified_n", I64),
    ("headcount_vs_normal_pct", F64),
];

/// The latest snapshot.
pub fn staffing(e: &EnterpriseState, w: &mut TableWriter) {
    let Some(s) = e.staffing.latest() else {
        return;
    };
    w.str(Some(&e.enterprise_id))
        .date(Some(epoch_days(s.date)))
        .i64(Some(i64::from(s.key_posts_required)))
        .i64(Some(i64::from(s.key_posts_filled)))
        .i64(Some(i64::from(s.new_or_transferred_n)))
        .i64(Some(i64::from(s.on_post_untrained_n)))
        .i64(Some(i64::from(s.special_ops_uncertified_n)))
        .f64(Some(s.headcount_vs_normal_pct));
}

pub const TRAINING: &[Column] = &[
    ("enterprise_id", Str),
    ("person_id", Str),
    ("course", Str),
    ("passed", Bool),
    ("ts", Ts),
];

pub fn training(e: &EnterpriseState, w: &mut TableWriter) {
    for (ts, t) in e.training.iter() {
        w.str(Some(&e.enterprise_id))
            .str(Some(&t.person_id))
            .str(Some(&t.course))
            .bool(Some(t.passed))
            .ts(Some(*ts));
    }
}

pub const COMMITMENTS: &[Column] = &[
    ("enterprise_id", Str),
    ("date", Date),
    ("committed_at", Ts),
    ("units_total", I64),
    ("units_running", I64),
    ("units_stopped", I64),
    ("units_startstop", I64),
    ("trial_production", Bool),
    ("hot_special", I64),
    ("hot_l1", I64),
    ("hot_l2", I64),
    ("confined", I64),
    ("blind", I64),
    ("height", I64),
    ("lift", I64),
    ("temp_power", I64),
    ("excavate", I64),
    ("road", I64),
    ("maintenance", I64),
    ("contractor", I64),
    ("major_hidden_hazard", Bool),
    ("self_risk_level", I64),
];

pub fn commitments(e: &EnterpriseState, w: &mut TableWriter) {
    let n = |v: u32| Some(i64::from(v));
    for (_, c) in e.commitments.iter() {
        let k = &c.counts;
        w.str(Some(&e.enterprise_id))
            .date(Some(epoch_days(c.date)))
            .ts(Some(c.committed_at))
            .i64(n(c.units_total))
            .i64(n(c.units_running))
            .i64(n(c.units_stopped))
            .i64(n(c.units_startstop))
            .bool(Some(c.trial_production))
            .i64(n(k.hot_special))
            .i64(n(k.hot_l1))
            .i64(n(k.hot_l2))
            .i64(n(k.confined))
            .i64(n(k.blind))
            .i64(n(k.height))
            .i64(n(k.lift))
            .i64(n(k.temp_power))
            .i64(n(k.excavate))
            .i64(n(k.road))
            .i64(n(k.maintenance))
            .i64(n(k.contractor))
            .bool(Some(c.major_hidden_hazard))
            .i64(Some(i64::from(c.self_risk_level)));
    }
}

pub const INSPECTIONS: &[Column] = &[
    ("enterprise_id", Str),
    ("inspection_id", Str),
    ("ts", Ts),
    ("mode", Str),
    ("pool", Str),
    ("findings", I64),
    ("major_hidden_findings", I64),
    ("rectify_due", Ts),
    ("rectified_at", Ts),
];

pub fn inspections(e: &EnterpriseState, w: &mut TableWriter) {
    for (ts, i) in e.inspections.iter() {
        let major = i
            .findings
            .iter()
            .filter(|f| f.severity == FindingSeverity::MajorHidden)
            .count();
        w.str(Some(&e.enterprise_id))
            .str(Some(&i.inspection_id))
            .ts(Some(*ts))
            .str(Some(i.mode.as_str()))
            .str(Some(i.pool.as_str()))
            .i64(Some(i.findings.len() as i64))
            .i64(Some(major as i64))
            .ts(i.rectify_due)
            .ts(i.rectified_at);
    }
}

pub const WARNING_FEEDBACK: &[Column] = &[
    ("enterprise_id", Str),
    ("warning_id", Str),
    ("actor_org", Str),
    ("action", Str),
    ("ts", Ts),
];

pub fn warning_feedback(e: &EnterpriseState, w: &mut TableWriter) {
    for (ts, f) in e.feedback.iter() {
        w.str(Some(&e.enterprise_id))
            .str(Some(&f.warning_id))
            .str(Some(&f.actor_org))
            .str(Some(f.action.as_str()))
            .ts(Some(*ts));
    }
}
