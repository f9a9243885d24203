//! Reference-data tables: `enterprises`, `hazard_units`, `areas`.

use crate::state::EnterpriseState;

use super::writer::{ColType::*, Column, TableWriter};

pub const ENTERPRISES: &[Column] = &[
    ("enterprise_id", Str),
    ("name", Str),
    ("region_id", Str),
    ("city_id", Str),
    ("province_id", Str),
    ("park_id", Str),
    ("industry", Str),
    ("is_hazchem_producer", Bool),
    ("static_diag_score", F64),
    ("static_color", Str),
    ("direct_red_flags", I64),
    // The highest GB 18218 level among its hazard units: 1 is the most dangerous.
    ("major_hazard_level", I64),
    ("lat", F64),
    ("lon", F64),
    ("last_event_ts", Ts),
];

pub fn enterprises(e: &EnterpriseState, w: &mut TableWriter) {
    let p = e.profile.as_ref();
    let level = e.hazard_units.values().map(|h| i64::from(h.level)).min();
    w.str(Some(&e.enterprise_id))
        .str(p.map(|p| p.name.as_str()))
        .str(p.map(|p| p.region_id.as_str()))
        .str(p.map(|p| p.city_id.as_str()))
        .str(p.map(|p| p.province_id.as_str()))
        .str(p.and_then(|p| p.park_id.as_deref()))
        .str(p.and_then(|p| p.industry.as_deref()))
        .bool(p.map(|p| p.is_hazchem_producer))
        .f64(p.map(|p| p.static_diag_score))
        .str(p.and_then(|p| p.static_color.as_deref()))
        .i64(p.map(|p| p.direct_red_flags.len() as i64))
        .i64(level)
        .f64(p.and_then(|p| p.lat))
        .f64(p.and_then(|p| p.lon))
        .ts((e.last_event.millis() > i64::MIN).then_some(e.last_event));
}

pub const HAZARD_UNITS: &[Column] = &[
    ("enterprise_id", Str),
    ("hazard_id", Str),
    ("kind", Str),
    ("level", I64),
    ("r_registered", F64),
    ("alpha", F64),
    ("pop_500m", I64),
    ("substances", I64),
    // Σ q/Q over its substances at design quantities (GB 18218: a major hazard when ≥ 1).
    ("q_ratio_sum", F64),
];

pub fn hazard_units(e: &EnterpriseState, w: &mut TableWriter) {
    for h in e.hazard_units.values() {
        let q_ratio: f64 = h
            .substances
            .iter()
            .filter(|s| s.q_crit_t > 0.0)
            .map(|s| s.q_design_t / s.q_crit_t)
            .sum();
        w.str(Some(&e.enterprise_id))
            .str(Some(&h.hazard_id))
            .str(Some(h.kind.as_str()))
            .i64(Some(i64::from(h.level)))
            .f64(h.r_registered)
            .f64(h.alpha)
            .i64(h.pop_500m.map(i64::from))
            .i64(Some(h.substances.len() as i64))
            .f64(Some(q_ratio));
    }
}

pub const AREAS: &[Column] = &[
    ("enterprise_id", Str),
    ("area_id", Str),
    ("hazard_class", Str),
    ("is_tank_dike", Bool),
    ("is_pipe_rack", Bool),
];

pub fn areas(e: &EnterpriseState, w: &mut TableWriter) {
    for a in e.areas.values() {
        w.str(Some(&e.enterprise_id))
            .str(Some(&a.area_id))
            .str(Some(a.hazard_class.as_str()))
            .bool(Some(a.is_tank_dike))
            .bool(Some(a.is_pipe_rack));
    }
}
