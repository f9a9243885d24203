//! The simulated province's business streams. So far: the daily safety commitment
//! (`commitment.daily`) every enterprise files each local morning between 08:00 and 09:30,
//! before the 10:00 deadline (DOMAIN.md R17), declaring its units running and no special work.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use crate::model::EventTime;

use super::{Province, SimRecord};

/// China Standard Time, the sites' zone (no daylight saving).
pub const UTC_OFFSET_MS: i64 = 8 * 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// The UTC instant at which the local day holding `t` began.
pub fn local_day_start(t: EventTime) -> EventTime {
    let local = t.millis() + UTC_OFFSET_MS;
    EventTime::from_millis(local.div_euclid(DAY_MS) * DAY_MS - UTC_OFFSET_MS)
}

/// The commitments filed in `[start, end)`, in time order; `skip` lists (enterprise index,
/// local day start) pairs whose commitment is not filed (the missing-commitment scenario).
pub fn daily_commitments(
    province: &Province,
    seed: u64,
    start: EventTime,
    end: EventTime,
    skip: &[(usize, EventTime)],
) -> Vec<(EventTime, SimRecord)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xc0ff_ee17);
    let mut out = Vec::new();
    let mut day = local_day_start(start);
    while day < end {
        for (index, ent) in province.enterprises.iter().enumerate() {
            // 08:00 to 09:30 local.
            let at = day.saturating_add_ms(8 * 3_600_000 + rng.random_range(0..5_400_000));
            if at < start || at >= end || skip.contains(&(index, day)) {
                continue;
            }
            let local_date = chrono::DateTime::from_timestamp_millis(day.millis() + UTC_OFFSET_MS)
                .map(|d| d.date_naive().to_string())
                .unwrap_or_default();
            out.push((
                at,
                SimRecord {
                    topic: "commitment.daily",
                    key: ent.enterprise_id.clone(),
                    value: json!({
                        "date": local_date, "enterprise_id": ent.enterprise_id,
                        "committed_at": at, "units_total": 1, "units_running": 1,
                        "units_stopped": 0, "major_hidden_hazard": false,
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
