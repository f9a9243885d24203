//! The simulated province's operations and regional context: each enterprise's load and
//! supply figures (`enterprise.ops`) every 30 minutes, and each county's epidemic level
//! (`region.epidemic`), set as the stream begins and moving a step now and then at local
//! midnight.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use crate::model::EventTime;

use super::calendar::{first_on_grid, local_day_start, DAY_MS};
use super::scenario::Scenario;
use super::span::Span;
use super::SimRecord;

const OPS_EVERY_MS: i64 = 30 * 60_000;
const LEVELS: [&str; 3] = ["low", "medium", "high"];
/// The chance a county's level moves one step at a local midnight.
const LEVEL_CHANGE: f64 = 0.1;

/// Load between 72 % and 92 % of design, 6-12 h overtime a week, 5-15 days of raw material;
/// under a supply-imbalance injection, 96 % with 1.5 days of raw material; rushing, 104 %
/// (R16). An injection's figures are reported as it starts, not only at the next half hour.
pub fn ops(span: &Span<'_>) -> Vec<(EventTime, SimRecord)> {
    let Span {
        province,
        seed,
        start,
        end,
        injections,
    } = *span;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0095_e7a1);
    let mut out = Vec::new();
    let mut t = first_on_grid(start, OPS_EVERY_MS);
    while t < end.millis() {
        for (index, ent) in province.enterprises.iter().enumerate() {
            let normal = (
                rng.random_range(72.0..92.0_f64),
                rng.random_range(5.0..15.0_f64),
            );
            let injected = injections
                .iter()
                .find(|j| j.enterprise == index && j.covers(t))
                .and_then(|j| injected_load(j.scenario, normal.1));
            let (load, raw) = injected.unwrap_or(normal);
            let overtime = rng.random_range(6..=12);
            out.push(ops_record(
                ent,
                EventTime::from_millis(t),
                load,
                overtime,
                raw,
            ));
        }
        t += OPS_EVERY_MS;
    }
    for j in injections
        .iter()
        .filter(|j| j.from >= start && j.from < end)
    {
        if let Some((load, raw)) = injected_load(j.scenario, 10.0) {
            out.push(ops_record(
                &province.enterprises[j.enterprise],
                j.from,
                load,
                9,
                raw,
            ));
        }
    }
    out
}

/// Load and raw-material cover under an injection, if it changes them.
fn injected_load(scenario: Scenario, raw: f64) -> Option<(f64, f64)> {
    match scenario {
        Scenario::SupplyImbalance => Some((96.0, 1.5)),
        Scenario::RushProduction => Some((104.0, raw)),
        _ => None,
    }
}

fn ops_record(
    ent: &super::SimEnterprise,
    at: EventTime,
    load: f64,
    overtime: u32,
    raw: f64,
) -> (EventTime, SimRecord) {
    let value = json!({
        "ts": at, "enterprise_id": ent.enterprise_id,
        "throughput_pct_design": (load * 10.0).round() / 10.0,
        "overtime_h_7d": overtime,
        "raw_material_days_cover": (raw * 10.0).round() / 10.0,
        "product_outbound_blocked": false,
    });
    let record = SimRecord {
        topic: "enterprise.ops",
        key: ent.enterprise_id.clone(),
        value,
    };
    (at, record)
}

/// Every county's level at `start` (mostly low, some medium, few high), then at each local
/// midnight a step up or down for about one county in ten.
pub fn epidemic(span: &Span<'_>) -> Vec<(EventTime, SimRecord)> {
    let Span {
        province,
        seed,
        start,
        end,
        ..
    } = *span;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0e71_de31);
    let mut counties: Vec<&str> = province
        .enterprises
        .iter()
        .map(|e| e.region_id.as_str())
        .collect();
    counties.sort_unstable();
    counties.dedup();
    let mut levels: Vec<usize> = counties
        .iter()
        .map(|_| match rng.random_range(0..20) {
            0 => 2,
            1..=5 => 1,
            _ => 0,
        })
        .collect();
    let record = |at: EventTime, region: &str, level: usize| {
        let value = json!({"effective_from": at, "region_id": region, "level": LEVELS[level]});
        let record = SimRecord {
            topic: "region.epidemic",
            key: region.to_owned(),
            value,
        };
        (at, record)
    };
    let mut out: Vec<_> = counties
        .iter()
        .zip(&levels)
        .map(|(region, level)| record(start, region, *level))
        .collect();
    let mut day = local_day_start(start).saturating_add_ms(DAY_MS);
    while day < end {
        for (region, level) in counties.iter().zip(levels.iter_mut()) {
            if rng.random_bool(LEVEL_CHANGE) {
                *level = match *level {
                    0 => 1,
                    2 => 1,
                    _ if rng.random_bool(0.5) => 0,
                    _ => 2,
                };
                out.push(record(day, region, *level));
            }
        }
        day = day.saturating_add_ms(DAY_MS);
    }
    out
}
