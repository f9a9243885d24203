//! `unit_monitor`: each monitored unit's newest sample scored against its model of normal
//! operation (`state::monitor`), with the indicators contributing most to each statistic.

use crate::monitor::sample::STALE_AFTER_PERIODS;
use crate::state::EnterpriseState;

use super::writer::{ColType::*, Column, TableWriter};

/// The table's name in SQL: warnings of the rules that read it name the models in force.
pub const UNIT_MONITOR_TABLE: &str = "unit_monitor";

pub const UNIT_MONITOR: &[Column] = &[
    ("enterprise_id", Str),
    // `<enterprise_id>/<unit>`.
    ("model_id", Str),
    ("unit", Str),
    ("model_version", Str),
    ("sample_period_s", I64),
    // The newest sample scored (NULL before the first), and when it goes stale: two periods
    // later, with no newer sample the unit's readings have stopped.
    ("sample_ts", Ts),
    ("stale_at", Ts),
    ("t2", F64),
    ("t2_limit", F64),
    ("spe", F64),
    ("spe_limit", F64),
    // Samples in a row, up to the newest, with T² or the SPE over its limit.
    ("over_run", I64),
    // "code share, ..." of the three largest contributions, as shares of the statistic.
    ("t2_top", Str),
    ("spe_top", Str),
];

pub fn unit_monitor(e: &EnterpriseState, w: &mut TableWriter) {
    for m in e.monitors.values() {
        let latest = m.latest.as_ref();
        w.str(Some(&e.enterprise_id))
            .str(Some(&m.model.model_id))
            .str(Some(&m.model.unit))
            .str(Some(&m.model.version))
            .i64(Some(i64::from(m.model.sample_period_s)))
            .ts(latest.map(|s| s.at))
            .ts(latest.map(|s| {
                s.at.saturating_add_ms(STALE_AFTER_PERIODS * m.model.period_ms())
            }))
            .f64(latest.map(|s| s.t2))
            .f64(Some(m.model.t2_limit))
            .f64(latest.map(|s| s.spe))
            .f64(Some(m.model.spe_limit))
            .i64(Some(i64::from(m.over_run)))
            .str(latest.map(|s| named(&s.top_t2)).as_deref())
            .str(latest.map(|s| named(&s.top_spe)).as_deref());
    }
}

/// "PT007 0.41, TT009 0.22".
fn named(top: &[(String, f64)]) -> String {
    top.iter()
        .map(|(code, share)| format!("{code} {share:.2}"))
        .collect::<Vec<_>>()
        .join(", ")
}
