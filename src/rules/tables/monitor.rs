//! Learned monitoring's tables. `unit_monitor`: each monitored unit's newest sample scored
//! against its model of normal operation (`state::monitor`), with the indicators contributing
//! most to each statistic. `indicator_drift`: each indicator with a learned baseline, its
//! newest value's distance from it and how fast it moves, in robust σ.

use crate::monitor::sample::STALE_AFTER_PERIODS;
use crate::state::{EnterpriseState, IndicatorState};

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

/// The rate of change is measured over at most this many minutes before the newest.
pub const RATE_MINUTES: i64 = 5;

pub const INDICATOR_DRIFT: &[Column] = &[
    ("enterprise_id", Str),
    ("target_code", Str),
    ("kind", Str),
    // The learned unit whose model has this indicator as a column; NULL for a single
    // indicator without a model.
    ("model_id", Str),
    ("baseline_version", Str),
    ("baseline_median", F64),
    // The robust σ: 1.4826 · MAD, at least a thousandth of the indicator's span.
    ("baseline_scale", F64),
    // The newest good or uncertain reading (NULL before the first).
    ("value", F64),
    ("value_ts", Ts),
    // When the value is no evidence any more, if nothing newer arrives: the point's offline
    // time (R3), value_ts + max(3 × expected period, 5 min).
    ("stale_at", Ts),
    // (value − median) / scale.
    ("drift", F64),
    // Robust σ per minute: the change of the one-minute means from up to five minutes before
    // the newest minute to it (NULL with one minute held).
    ("rate", F64),
];

pub fn indicator_drift(e: &EnterpriseState, w: &mut TableWriter) {
    for (code, learned) in &e.baselines {
        let Some(ind) = e.indicators.get(code.as_str()) else {
            continue;
        };
        let baseline = learned.baseline();
        let scale = baseline.scale(ind.def.range_hi - ind.def.range_lo);
        let newest = ind.buckets.iter().next_back();
        let model = e
            .monitors
            .values()
            .find(|m| m.model.indicators.binary_search(code).is_ok());
        w.str(Some(&e.enterprise_id))
            .str(Some(code))
            .str(Some(ind.def.kind.as_str()))
            .str(model.map(|m| m.model.model_id.as_str()))
            .str(Some(&learned.version))
            .f64(Some(baseline.median))
            .f64(Some(scale))
            .f64(newest.map(|b| b.last))
            .ts(newest.map(|b| b.last_ts()))
            .ts(newest.map(|b| b.last_ts().saturating_add_ms(ind.offline_after_ms())))
            .f64(newest.map(|b| (b.last - baseline.median) / scale))
            .f64(rate_per_minute(ind).map(|r| r / scale));
    }
}

/// The change per minute of the one-minute means, from the earliest minute held within
/// `RATE_MINUTES` before the newest to the newest.
fn rate_per_minute(ind: &IndicatorState) -> Option<f64> {
    let mut newest_first = ind.buckets.iter().rev();
    let newest = newest_first.next()?;
    let from = newest.start().millis() - RATE_MINUTES * 60_000;
    let earlier = newest_first
        .take_while(|b| b.start().millis() >= from)
        .last()?;
    let minutes = (newest.start().millis() - earlier.start().millis()) as f64 / 60_000.0;
    Some((newest.mean() - earlier.mean()) / minutes)
}
