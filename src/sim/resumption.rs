//! Resumption in the simulated province (`enterprise.state`): every enterprise starts the
//! stream running, resumed with a passed self-inspection submitted ten days before and the
//! approval to resume. One resumption scenario shuts one down and starts it up again without
//! a self-inspection or approval (R14) for an hour, until both arrive; the others go through
//! the whole sequence properly (shutdown, pre-start check with the self-inspection submitted
//! and passed, approval, start-up, running) and then file no commitment that day, or run hot
//! work during the start-up without upgrading its grade.

use serde_json::{json, Value};

use crate::model::EventTime;

use super::calendar::DAY_MS;
use super::scenario::{Injection, Scenario};
use super::{Province, SimEnterprise, SimRecord};

fn state(
    ent: &SimEnterprise,
    at: EventTime,
    production: &str,
    extra: Value,
) -> (EventTime, SimRecord) {
    let mut value =
        json!({"ts": at, "enterprise_id": ent.enterprise_id, "production_state": production});
    if let (Some(value), Value::Object(extra)) = (value.as_object_mut(), extra) {
        value.extend(extra);
    }
    let record = SimRecord {
        topic: "enterprise.state",
        key: ent.enterprise_id.clone(),
        value,
    };
    (at, record)
}

/// Resumed properly: self-inspection submitted and passed, approval given.
fn approved(ent: &SimEnterprise, submitted: EventTime) -> Value {
    json!({
        "resumption_applied_at": submitted, "approved_to_resume": true,
        "self_inspection": {
            "submitted_at": submitted, "passed": true,
            "report_id": format!("{}-SI1", ent.enterprise_id),
        },
    })
}

/// Every enterprise's state as the stream begins.
pub fn initial(province: &Province, start: EventTime) -> Vec<(EventTime, SimRecord)> {
    let submitted = start.saturating_add_ms(-10 * DAY_MS);
    province
        .enterprises
        .iter()
        .map(|ent| state(ent, start, "running", approved(ent, submitted)))
        .collect()
}

/// The resumption scenarios' states, shut down half an hour before the injection. Without
/// self-inspection: starting up at it with neither self-inspection nor approval, running
/// properly resumed at its end. Properly: self-inspected and approved 20 minutes before it,
/// starting up at it, running at its end.
pub fn injected(province: &Province, injections: &[Injection]) -> Vec<(EventTime, SimRecord)> {
    let mut out = Vec::new();
    for j in injections.iter().filter(|j| j.scenario.restarts()) {
        let ent = &province.enterprises[j.enterprise];
        let at = |minutes: i64| j.from.saturating_add_ms(minutes * 60_000);
        let no_approval = json!({"approved_to_resume": false});
        out.push(state(ent, at(-30), "shutdown", no_approval.clone()));
        if j.scenario == Scenario::ResumptionWithoutSelfInspection {
            out.push(state(ent, j.from, "startup", no_approval));
            out.push(state(ent, j.until, "running", approved(ent, j.until)));
        } else {
            out.push(state(
                ent,
                at(-20),
                "pre_start_check",
                approved(ent, at(-20)),
            ));
            out.push(state(ent, j.from, "startup", approved(ent, at(-20))));
            out.push(state(ent, j.until, "running", approved(ent, at(-20))));
        }
    }
    out
}

/// Whether the enterprise starts up again on the local day beginning at `day` (no routine
/// special work is planned for that day).
pub fn restarts_on(injections: &[Injection], enterprise: usize, day: EventTime) -> bool {
    injections.iter().any(|j| {
        j.scenario.restarts()
            && j.enterprise == enterprise
            && super::calendar::local_day_start(j.from) == day
    })
}
