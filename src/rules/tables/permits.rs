//! Special-work tables: `permits`, `permit_transitions`, `gas_analyses`.

use crate::model::PermitTransition as T;
use crate::state::EnterpriseState;

use super::geometry::metres_outside;
use super::writer::{ColType::*, Column, TableWriter};

pub const PERMITS: &[Column] = &[
    ("enterprise_id", Str),
    ("permit_id", Str),
    ("type", Str),
    ("hot_grade", Str),
    ("declared_grade_upgraded", Bool),
    ("height_m", F64),
    ("area_id", Str),
    ("lat", F64),
    ("lon", F64),
    // How far the permit's location lies outside its area's polygon, in metres (0 inside;
    // NULL without a location or polygon).
    ("outside_area_m", F64),
    // planned, issued, started, suspended, resumed, changed, closed, cancelled
    ("phase", Str),
    ("phase_since", Ts),
    ("planned_start", Ts),
    ("planned_end", Ts),
    ("issued_at", Ts),
    // Event times of the transitions vigil saw (NULL: never happened).
    ("issued_ts", Ts),
    ("first_started_at", Ts),
    ("last_started_at", Ts),
    ("last_suspended_at", Ts),
    ("last_resumed_at", Ts),
    ("last_changed_at", Ts),
    ("ended_at", Ts),
    ("supervisor_id", Str),
    ("workers", I64),
    ("contractor_credit_code", Str),
    // Comma-separated.
    ("related_permit_ids", Str),
    ("pipeline_id", Str),
    ("open_air", Bool),
    ("video_stream_id", Str),
];

pub fn permits(e: &EnterpriseState, w: &mut TableWriter) {
    for p in e.permits.values() {
        let l = &p.latest;
        let first_started = p
            .transitions
            .iter()
            .find(|(t, _)| *t == T::Started)
            .map(|(_, at)| *at);
        let ended = p.phase.is_terminal().then(|| p.since());
        let area = l.area_id.as_deref().and_then(|a| e.areas.get(a));
        let outside = match (l.lon, l.lat, area) {
            (Some(lon), Some(lat), Some(area)) => metres_outside([lon, lat], &area.polygon),
            _ => None,
        };
        w.str(Some(&e.enterprise_id))
            .str(Some(&l.permit_id))
            .str(Some(l.permit_type.as_str()))
            .str(l.hot_grade.map(|g| g.as_str()))
            .bool(Some(l.declared_grade_upgraded))
            .f64(l.height_m)
            .str(l.area_id.as_deref())
            .f64(l.lat)
            .f64(l.lon)
            .f64(outside)
            .str(Some(p.phase.as_str()))
            .ts(Some(p.since()))
            .ts(l.planned_start)
            .ts(l.planned_end)
            .ts(l.issued_at)
            .ts(p.last_time_of(T::Issued))
            .ts(first_started)
            .ts(p.last_time_of(T::Started))
            .ts(p.last_time_of(T::Suspended))
            .ts(p.last_time_of(T::Resumed))
            .ts(p.last_time_of(T::Changed))
            .ts(ended)
            .str(l.supervisor_id.as_deref())
            .i64(Some(l.worker_ids.len() as i64))
            .str(l.contractor_credit_code.as_deref())
            .str(Some(&l.related_permit_ids.join(",")))
            .str(l.pipeline_id.as_deref())
            .bool(Some(l.open_air))
            .str(l.video_stream_id.as_deref());
    }
}

pub const PERMIT_TRANSITIONS: &[Column] = &[
    ("enterprise_id", Str),
    ("permit_id", Str),
    ("type", Str),
    ("hot_grade", Str),
    ("transition", Str),
    ("ts", Ts),
];

pub fn permit_transitions(e: &EnterpriseState, w: &mut TableWriter) {
    for p in e.permits.values() {
        for (transition, at) in &p.transitions {
            w.str(Some(&e.enterprise_id))
                .str(Some(&p.latest.permit_id))
                .str(Some(p.latest.permit_type.as_str()))
                .str(p.latest.hot_grade.map(|g| g.as_str()))
                .str(Some(transition.as_str()))
                .ts(Some(*at));
        }
    }
}

pub const GAS_ANALYSES: &[Column] = &[
    ("enterprise_id", Str),
    ("permit_id", Str),
    ("point_id", Str),
    ("method", Str),
    ("ts", Ts),
    ("gas_cas", Str),
    ("gas_lel_vol_pct", F64),
    ("conc_vol_pct", F64),
    ("conc_pct_lel", F64),
    ("o2_vol_pct", F64),
    ("toxic_ppm", F64),
    ("oel_ppm", F64),
    ("analyst_id", Str),
];

pub fn gas_analyses(e: &EnterpriseState, w: &mut TableWriter) {
    for log in e.analyses.values() {
        for (ts, g) in log.iter() {
            w.str(Some(&e.enterprise_id))
                .str(Some(&g.permit_id))
                .str(Some(&g.point_id))
                .str(Some(g.method.as_str()))
                .ts(Some(*ts))
                .str(g.gas_cas.as_deref())
                .f64(g.gas_lel_vol_pct)
                .f64(g.conc_vol_pct)
                .f64(g.conc_pct_lel)
                .f64(g.o2_vol_pct)
                .f64(g.toxic_ppm)
                .f64(g.oel_ppm)
                .str(g.analyst_id.as_deref());
        }
    }
}
