//! Safety training in the simulated province (`training.record`): on a weekday afternoon
//! about three enterprises in ten hold a session at 15:00 where one to three people finish a
//! course of the three-level induction for new and transferred staff, or a special-operations
//! refresher. About one in fifteen fails and retakes it, passing, the next day at the same hour.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use crate::model::EventTime;

use super::calendar::{is_weekday, local_day_start, DAY_MS};
use super::span::Span;
use super::SimRecord;

const SESSION_AT_MS: i64 = 15 * 3_600_000;
const SESSION_SHARE: f64 = 0.3;
const FAIL_SHARE: f64 = 1.0 / 15.0;
const COURSES: [&str; 4] = [
    "plant-level safety induction",
    "workshop-level safety induction",
    "team-level safety induction",
    "special-operations certificate refresher",
];

pub fn records(span: &Span<'_>) -> Vec<(EventTime, SimRecord)> {
    let mut rng = ChaCha8Rng::seed_from_u64(span.seed ^ 0x7a11_0e55);
    let mut out = Vec::new();
    let mut day = local_day_start(span.start);
    while day < span.end {
        let at = day.saturating_add_ms(SESSION_AT_MS);
        for ent in span.province.enterprises.iter() {
            if !is_weekday(day) || !rng.random_bool(SESSION_SHARE) {
                continue;
            }
            for _ in 0..rng.random_range(1..=3) {
                let person_id = format!("{}-P{:03}", ent.enterprise_id, rng.random_range(1..200));
                let course = COURSES[rng.random_range(0..COURSES.len())];
                let passed = !rng.random_bool(FAIL_SHARE);
                let record = |at: EventTime, passed: bool| {
                    let value = json!({
                        "ts": at, "person_id": person_id, "enterprise_id": ent.enterprise_id,
                        "course": course, "passed": passed,
                    });
                    let topic = "training.record";
                    let key = ent.enterprise_id.clone();
                    (at, SimRecord { topic, key, value })
                };
                out.push(record(at, passed));
                if !passed {
                    out.push(record(at.saturating_add_ms(DAY_MS), true));
                }
            }
        }
        day = day.saturating_add_ms(DAY_MS);
    }
    out.retain(|(at, _)| *at >= span.start && *at < span.end);
    out
}
