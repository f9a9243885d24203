//! The simulated province's business streams, merged in event-time order by `stream`: the
//! daily safety commitment (`commitment.daily`) every enterprise files each local morning
//! between 08:00 and 09:30, before the 10:00 deadline (DOMAIN.md R17), declaring its units
//! running, the day's special work and any open major hidden hazard; the tank inventory
//! (`inventory.level`) every 30 minutes, between 45 % and 75 % of the approved capacity; and
//! the staffing snapshot (`staffing.snapshot`) of each local day at 08:00, key posts filled by
//! trained, certified people, and the training sessions of `training`; each enterprise's state (`resumption`); the permits and gas
//! analyses of `permits`; the inspections of `inspections`; and the load, supply and epidemic
//! context of `operations`.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use crate::model::EventTime;

use super::calendar::{first_on_grid, local_date, local_day_start, DAY_MS, STAFFING_AT_MS};
use super::scenario::{Injection, Scenario};
use super::span::Span;
use super::SimRecord;
use super::{inspections, operations, permits, resumption, training};

/// Inventory is reported this often.
const INVENTORY_EVERY_MS: i64 = 30 * 60_000;

/// Every business record in the span, in time order, with the injections' effects (a
/// withheld commitment, an over-filled tank).
pub fn stream(span: &Span<'_>) -> Vec<(EventTime, SimRecord)> {
    let Span {
        province,
        start,
        end,
        injections,
        ..
    } = *span;
    let withheld: Vec<_> = injections
        .iter()
        .filter_map(Injection::withheld_commitment)
        .collect();
    let jobs = permits::jobs(span);
    let mut out = daily_commitments(span, &withheld, &jobs);
    out.extend(
        permits::records(province, &jobs)
            .into_iter()
            .filter(|(at, _)| *at >= start && *at < end),
    );
    out.extend(resumption::initial(province, start));
    out.extend(
        resumption::injected(province, injections)
            .into_iter()
            .filter(|(at, _)| *at >= start && *at < end),
    );
    out.extend(operations::ops(span));
    out.extend(operations::epidemic(span));
    out.extend(inventory(span));
    out.extend(inspections::results(span));
    out.extend(training::records(span));
    out.extend(staffing(span));
    out.sort_by_key(|(at, _)| *at);
    out
}

/// One staffing snapshot per enterprise and local day; on the day of an uncertified-staff
/// injection it lists two special-work operators without a valid certificate.
fn staffing(span: &Span<'_>) -> Vec<(EventTime, SimRecord)> {
    let Span {
        province,
        seed,
        start,
        end,
        injections,
    } = *span;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x57af_f1e5);
    let mut out = Vec::new();
    let mut day = local_day_start(start);
    while day < end {
        let at = day.saturating_add_ms(STAFFING_AT_MS);
        for (index, ent) in province.enterprises.iter().enumerate() {
            let (filled, new) = (rng.random_range(11..=12), rng.random_range(0..=2));
            if at < start || at >= end {
                continue;
            }
            let uncertified = injections.iter().any(|j| {
                j.scenario == Scenario::UncertifiedStaff
                    && j.enterprise == index
                    && local_day_start(j.from) == day
            });
            let local_date = local_date(day);
            out.push((
                at,
                SimRecord {
                    topic: "staffing.snapshot",
                    key: ent.enterprise_id.clone(),
                    value: json!({
                        "date": local_date, "enterprise_id": ent.enterprise_id,
                        "key_posts_required": 12, "key_posts_filled": filled,
                        "new_or_transferred_n": new, "on_post_untrained_n": 0,
                        "special_ops_uncertified_n": if uncertified { 2 } else { 0 },
                        "headcount_vs_normal_pct": 95.0 + f64::from(filled) / 12.0 * 5.0,
                    }),
                },
            ));
        }
        day = day.saturating_add_ms(DAY_MS);
    }
    out
}

/// Tank inventory every 30 minutes from `start` (aligned to the half hour).
fn inventory(span: &Span<'_>) -> Vec<(EventTime, SimRecord)> {
    let Span {
        province,
        start,
        end,
        injections,
        ..
    } = *span;
    let mut out = Vec::new();
    let mut t = first_on_grid(start, INVENTORY_EVERY_MS);
    while t < end.millis() {
        for (index, ent) in province.enterprises.iter().enumerate() {
            let over = injections.iter().any(|j| {
                j.scenario == Scenario::OverCapacity && j.enterprise == index && j.covers(t)
            });
            // A slow fill-and-draw over the day, different per tank.
            let phase = (t / INVENTORY_EVERY_MS + index as i64 * 7) % 48;
            let share = if over {
                1.02
            } else {
                0.45 + 0.3 * (phase as f64 / 47.0)
            };
            let qty = (ent.approved_capacity_t * share * 10.0).round() / 10.0;
            let at = EventTime::from_millis(t);
            out.push((
                at,
                SimRecord {
                    topic: "inventory.level",
                    key: ent.enterprise_id.clone(),
                    value: json!({
                        "ts": at, "enterprise_id": ent.enterprise_id,
                        "storage_unit_id": ent.tank_id(),
                        "cas": ent.hazard.substances[0].cas, "qty_t": qty,
                        "approved_capacity_t": ent.approved_capacity_t,
                    }),
                },
            ));
        }
        t += INVENTORY_EVERY_MS;
    }
    out
}

/// The commitments filed in `[start, end)`, in time order; `skip` lists (enterprise index,
/// local day start) pairs whose commitment is not filed (the missing-commitment scenario).
fn daily_commitments(
    span: &Span<'_>,
    skip: &[(usize, EventTime)],
    jobs: &[permits::Job],
) -> Vec<(EventTime, SimRecord)> {
    let Span {
        province,
        seed,
        start,
        end,
        injections,
    } = *span;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xc0ff_ee17);
    let mut out = Vec::new();
    let mut day = local_day_start(start);
    while day < end {
        for (index, ent) in province.enterprises.iter().enumerate() {
            // 08:00 to 09:30 local.
            let filed = day.saturating_add_ms(8 * 3_600_000 + rng.random_range(0..5_400_000));
            // A stream beginning later in the day begins by filing that day's commitment.
            let at = if local_day_start(start) == day {
                filed.max(start)
            } else {
                filed
            };
            if at < start || at >= end || skip.contains(&(index, day)) {
                continue;
            }
            let local_date = local_date(day);
            out.push((
                at,
                SimRecord {
                    topic: "commitment.daily",
                    key: ent.enterprise_id.clone(),
                    value: json!({
                        "date": local_date, "enterprise_id": ent.enterprise_id,
                        "committed_at": at, "units_total": 1, "units_running": 1,
                        "units_stopped": 0,
                        "major_hidden_hazard": inspections::hazard_declared(injections, index, at),
                        "counts": permits::declared_counts(jobs, index, day),
                        "self_risk_level": rng.random_range(3..=4),
                        "committer": format!("{}-safety-officer", ent.enterprise_id),
                    }),
                },
            ));
        }
        day = day.saturating_add_ms(DAY_MS);
    }
    out.sort_by_key(|(at, _)| *at);
    out
}
