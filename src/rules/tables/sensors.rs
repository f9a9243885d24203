//! Machine-data tables: `indicators`, `sensor_windows`, `alarms`, `alarm_events`.

use crate::model::EventTime;
use crate::state::{EnterpriseState, IndicatorState};

use super::writer::{ColType::*, Column, TableWriter};

/// The windows served by `sensor_windows`, as (label, minutes).
pub const WINDOWS: [(&str, u32); 4] = [("1m", 1), ("5m", 5), ("15m", 15), ("60m", 60)];

pub const INDICATORS: &[Column] = &[
    ("enterprise_id", Str),
    ("target_code", Str),
    ("equip_id", Str),
    ("equip_type", Str),
    ("hazard_id", Str),
    ("hazard_level", I64),
    ("area_id", Str),
    ("kind", Str),
    ("unit", Str),
    ("range_lo", F64),
    ("range_hi", F64),
    ("l1_hi", F64),
    ("l2_hi", F64),
    ("l1_lo", F64),
    ("l2_lo", F64),
    ("deadband", F64),
    ("on_delay_s", I64),
    ("off_delay_s", I64),
    ("expected_period_s", I64),
    ("console_id", Str),
    ("priority", Str),
    ("last_value", F64),
    ("last_quality", Str),
    ("last_source", Str),
    ("last_ts", Ts),
    // When the point goes offline if nothing more arrives (R3): last_ts + max(3 × period, 5 min),
    // or last_ts itself when the device reported itself offline after its last reading.
    ("offline_at", Ts),
    // Since when the value has not changed (R4 flat-line).
    ("value_since", Ts),
    ("status_online", Bool),
    ("ne107", Str),
    ("status_ts", Ts),
    ("status_reason", Str),
];

pub fn indicators(e: &EnterpriseState, w: &mut TableWriter) {
    for ind in e.indicators.values() {
        let d = &ind.def;
        let equipment = d.equip_id.as_deref().and_then(|id| e.equipment.get(id));
        let hazard_id = d
            .hazard_id
            .as_deref()
            .or_else(|| equipment.and_then(|eq| eq.hazard_id.as_deref()));
        let hazard_level = hazard_id
            .and_then(|h| e.hazard_units.get(h))
            .map(|h| i64::from(h.level));
        let last = ind.last.as_ref();
        let status = ind.status.as_ref();
        w.str(Some(&e.enterprise_id))
            .str(Some(&d.target_code))
            .str(d.equip_id.as_deref())
            .str(equipment.map(|eq| eq.equip_type.as_str()))
            .str(hazard_id)
            .i64(hazard_level)
            .str(d.area_id.as_deref())
            .str(Some(d.kind.as_str()))
            .str(Some(&d.unit))
            .f64(Some(d.range_lo))
            .f64(Some(d.range_hi))
            .f64(d.l1_hi)
            .f64(d.l2_hi)
            .f64(d.l1_lo)
            .f64(d.l2_lo)
            .f64(Some(d.effective_deadband()))
            .i64(Some(i64::from(d.on_delay_s)))
            .i64(Some(i64::from(d.off_delay_s)))
            .i64(Some(i64::from(d.expected_period_s)))
            .str(d.console_id.as_deref())
            .str(d.priority.map(|p| p.as_str()))
            .f64(last.map(|l| l.value))
            .str(last.map(|l| l.quality.as_str()))
            .str(last.map(|l| l.source.as_str()))
            .ts(last.map(|l| l.ts))
            .ts(offline_at(ind))
            .ts(ind.value_since)
            .bool(status.map(|s| s.online))
            .str(status.map(|s| s.ne107.as_str()))
            .ts(status.map(|s| s.ts))
            .str(status.and_then(|s| s.reason.as_deref()));
    }
}

fn offline_at(ind: &IndicatorState) -> Option<EventTime> {
    let last = ind.last.as_ref()?;
    let reported = ind.status.as_ref().filter(|s| !s.online && s.ts >= last.ts);
    Some(match reported {
        Some(status) => status.ts,
        None => last.ts.saturating_add_ms(ind.offline_after_ms()),
    })
}

pub const SENSOR_WINDOWS: &[Column] = &[
    ("enterprise_id", Str),
    ("target_code", Str),
    ("kind", Str),
    ("window", Str),
    ("window_minutes", I64),
    ("count", I64),
    ("min_value", F64),
    ("max_value", F64),
    ("mean_value", F64),
    ("first_value", F64),
    ("last_value", F64),
    ("first_ts", Ts),
    ("last_ts", Ts),
    ("l1_hi", F64),
    ("l2_hi", F64),
    ("l1_lo", F64),
    ("l2_lo", F64),
];

/// One row per indicator and window that holds readings, the window ending with the minute
/// of `now`.
pub fn sensor_windows(e: &EnterpriseState, now: EventTime, w: &mut TableWriter) {
    let lengths = WINDOWS.map(|(_, minutes)| minutes);
    for ind in e.indicators.values() {
        let d = &ind.def;
        let aggregates = ind.buckets.windows(now, lengths);
        for ((label, minutes), agg) in WINDOWS.into_iter().zip(aggregates) {
            let Some(agg) = agg else {
                continue;
            };
            w.str(Some(&e.enterprise_id))
                .str(Some(&d.target_code))
                .str(Some(d.kind.as_str()))
                .str(Some(label))
                .i64(Some(i64::from(minutes)))
                .i64(Some(agg.count as i64))
                .f64(Some(agg.min))
                .f64(Some(agg.max))
                .f64(Some(agg.mean()))
                .f64(Some(agg.first))
                .f64(Some(agg.last))
                .ts(Some(agg.first_ts))
                .ts(Some(agg.last_ts))
                .f64(d.l1_hi)
                .f64(d.l2_hi)
                .f64(d.l1_lo)
                .f64(d.l2_lo);
        }
    }
}

pub const ALARMS: &[Column] = &[
    ("enterprise_id", Str),
    ("alarm_id", Str),
    ("target_code", Str),
    ("transition", Str),
    ("level", Str),
    ("value", F64),
    ("threshold", F64),
    ("origin", Str),
    ("raised_at", Ts),
    ("ts", Ts),
    ("shelved_until", Ts),
    ("worst_status", Str),
];

pub fn alarms(e: &EnterpriseState, w: &mut TableWriter) {
    for alarm in e.alarms.values() {
        let a = &alarm.latest;
        w.str(Some(&e.enterprise_id))
            .str(Some(&a.alarm_id))
            .str(Some(&a.target_code))
            .str(Some(a.transition.as_str()))
            .str(Some(a.level.as_str()))
            .f64(a.value)
            .f64(a.threshold)
            .str(Some(a.origin.as_str()))
            .ts(Some(alarm.raised_at))
            .ts(Some(a.ts))
            .ts(a.shelved_until)
            .str(a.worst_status.as_deref());
    }
}

pub const ALARM_EVENTS: &[Column] = &[
    ("enterprise_id", Str),
    ("alarm_id", Str),
    ("target_code", Str),
    ("console_id", Str),
    ("transition", Str),
    ("level", Str),
    ("origin", Str),
    ("ts", Ts),
];

pub fn alarm_events(e: &EnterpriseState, w: &mut TableWriter) {
    for (ts, a) in e.alarm_log.iter() {
        let console = e
            .indicators
            .get(a.target_code.as_str())
            .and_then(|i| i.def.console_id.as_deref());
        w.str(Some(&e.enterprise_id))
            .str(Some(&a.alarm_id))
            .str(Some(&a.target_code))
            .str(console)
            .str(Some(a.transition.as_str()))
            .str(Some(a.level.as_str()))
            .str(Some(a.origin.as_str()))
            .ts(Some(*ts));
    }
}
