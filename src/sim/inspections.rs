//! On-site inspections in the simulated province (`inspection.result`): the inspection
//! scenario finds a major hidden hazard, due for rectification in a week and rectified two days
//! later (a newer result of the same inspection). The enterprise declares it in its daily
//! commitments from the next day until it is rectified; on the day of the finding its
//! commitment still says none (R17).

use serde_json::json;

use crate::model::EventTime;

use super::calendar::{local_day_start, DAY_MS};
use super::scenario::{Injection, Scenario};
use super::span::Span;
use super::SimRecord;

/// The finding is rectified this long after it is found.
const RECTIFIED_AFTER_MS: i64 = 2 * DAY_MS;
const RECTIFY_WITHIN_MS: i64 = 7 * DAY_MS;

fn findings(injections: &[Injection]) -> impl Iterator<Item = &Injection> {
    injections
        .iter()
        .filter(|j| j.scenario == Scenario::MajorHazardNotDeclared)
}

/// When the injection's finding is rectified.
pub fn rectified_at(injection: &Injection) -> EventTime {
    injection.from.saturating_add_ms(RECTIFIED_AFTER_MS)
}

/// The inspection results in the span: each finding, then its rectification.
pub fn results(span: &Span<'_>) -> Vec<(EventTime, SimRecord)> {
    let mut out = Vec::new();
    for j in findings(span.injections) {
        let ent = &span.province.enterprises[j.enterprise];
        let inspection_id = format!("{}-IN{}", ent.enterprise_id, j.from.millis() / 60_000);
        let result = |at: EventTime, rectified: Option<EventTime>| {
            let mut value = json!({
                "ts": at, "inspection_id": inspection_id, "enterprise_id": ent.enterprise_id,
                "mode": "onsite", "pool": "risk", "target_refs": [ent.tank_id()],
                "findings": [
                    {"code": "tank-dike-drain-open", "severity": "major_hidden"},
                    {"code": "ledger-incomplete", "severity": "general"},
                ],
                "rectify_due": j.from.saturating_add_ms(RECTIFY_WITHIN_MS),
            });
            if let Some(rectified) = rectified {
                value["rectified_at"] = json!(rectified);
            }
            let record = SimRecord {
                topic: "inspection.result",
                key: ent.enterprise_id.clone(),
                value,
            };
            (at, record)
        };
        out.push(result(j.from, None));
        out.push(result(rectified_at(j), Some(rectified_at(j))));
    }
    out.retain(|(at, _)| *at >= span.start && *at < span.end);
    out
}

/// Whether the commitment `enterprise` files at `at` declares a major hidden hazard: from the
/// day after a finding until its rectification.
pub fn hazard_declared(injections: &[Injection], enterprise: usize, at: EventTime) -> bool {
    findings(injections).any(|j| {
        j.enterprise == enterprise
            && local_day_start(j.from) < local_day_start(at)
            && at < rectified_at(j)
    })
}
