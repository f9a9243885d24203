//! A job as the platform sees it: its permit's transitions (`permit.event`) and its gas
//! analyses (`gas.analysis`): portable before the start and before resuming, continuous every
//! two minutes while special-grade work goes on.

use serde_json::{json, Value};

use crate::model::EventTime;
use crate::sim::{Province, SimEnterprise, SimRecord};

use super::{Job, Work, MIN_MS};

const CONTINUOUS_EVERY_MS: i64 = 2 * MIN_MS;

/// The permit events and gas analyses of `jobs`, with their event times.
pub fn records(province: &Province, jobs: &[Job]) -> Vec<(EventTime, SimRecord)> {
    let mut out = Vec::new();
    for job in jobs {
        let ent = &province.enterprises[job.enterprise];
        let permit = |transition: &str, at: EventTime| {
            let record = SimRecord {
                topic: "permit.event",
                key: ent.enterprise_id.clone(),
                value: permit_event(ent, job, transition, at),
            };
            (at, record)
        };
        let analysis = |at: EventTime, method: &str, conc_vol_pct: f64| {
            let record = SimRecord {
                topic: "gas.analysis",
                key: ent.enterprise_id.clone(),
                value: gas_analysis(ent, job, at, method, conc_vol_pct),
            };
            (at, record)
        };
        out.push(permit("planned", job.planned_at));
        // Methane (LEL 5 %): at most 0.5 % vol passes.
        out.extend(job.failed_analysis.map(|at| analysis(at, "portable", 0.8)));
        out.extend(job.analysis.map(|at| analysis(at, "portable", 0.1)));
        if job.issued {
            out.push(permit("issued", job.issued_at()));
        }
        out.push(permit("started", job.start));
        if let Some((suspended, resumed)) = job.pause {
            out.push(permit("suspended", suspended));
            out.push(analysis(
                resumed.saturating_add_ms(-10 * MIN_MS),
                "portable",
                0.1,
            ));
            out.push(permit("resumed", resumed));
        }
        if job.continuous {
            let mut at = job.start;
            while at < job.closed {
                out.push(analysis(at, "continuous", 0.05));
                at = at.saturating_add_ms(CONTINUOUS_EVERY_MS);
            }
        }
        out.push(permit("closed", job.closed));
    }
    out.sort_by_key(|(at, _)| *at);
    out
}

fn permit_event(ent: &SimEnterprise, job: &Job, transition: &str, at: EventTime) -> Value {
    let mut value = json!({
        "ts": at, "permit_id": job.permit_id, "enterprise_id": ent.enterprise_id,
        "area_id": job.area_id, "transition": transition,
        "planned_start": job.start, "planned_end": job.planned_end,
        "issued_at": job.issued.then(|| job.issued_at()),
        "supervisor_id": format!("{}-S1", ent.enterprise_id),
        "worker_ids": [format!("{}-W1", ent.enterprise_id)],
        "related_permit_ids": [], "open_air": false,
    });
    let (kind, grade, upgraded) = match job.work {
        Work::HotL1 => ("hot", Some("l1"), false),
        Work::HotSpecial { upgraded } => ("hot", Some("special"), upgraded),
        Work::Confined => ("confined", None, false),
    };
    value["type"] = json!(kind);
    value["hot_grade"] = json!(grade);
    value["declared_grade_upgraded"] = json!(upgraded);
    if job.video {
        value["video_stream_id"] = json!(format!("{}-CAM1", job.area_id));
    }
    value
}

/// A passing or failing sample: methane at `conc_vol_pct`, normal air; in a confined space
/// also the toxic gas against its exposure limit.
fn gas_analysis(
    ent: &SimEnterprise,
    job: &Job,
    at: EventTime,
    method: &str,
    conc_vol_pct: f64,
) -> Value {
    let mut value = json!({
        "ts_sample": at, "enterprise_id": ent.enterprise_id,
        "permit_id": job.permit_id, "point_id": format!("{}-GP1", job.area_id),
        "method": method, "gas_cas": "74-82-8", "gas_lel_vol_pct": 5.0,
        "conc_vol_pct": conc_vol_pct, "o2_vol_pct": 20.9,
        "analyst_id": format!("{}-A1", ent.enterprise_id),
    });
    if job.work == Work::Confined {
        value["toxic_ppm"] = json!(1.0);
        value["oel_ppm"] = json!(10.0);
    }
    value
}
