//! The special work scenarios inject: each job breaks one rule (or, for R12, four jobs break
//! it together), starting at the injection.

use crate::model::EventTime;
use crate::sim::scenario::{Injection, Scenario};
use crate::sim::Province;

use super::{Job, MIN_MS};

/// Hot-work jobs at once in one area for R12: one more than it allows.
const CONCENTRATED_JOBS: usize = 4;

/// The jobs a permit scenario adds, starting at the injection (whole minute).
pub fn injected_jobs(province: &Province, injection: &Injection) -> Vec<Job> {
    let begins = EventTime::from_millis(injection.from.millis() / MIN_MS * MIN_MS);
    let mut job = Job::new(province, injection.enterprise, begins, "SC");
    job.closed = begins.saturating_add_ms(60 * MIN_MS);
    match injection.scenario {
        Scenario::HotWorkWithoutAnalysis => job.analysis = None,
        Scenario::PermitExpired => job.planned_end = begins.saturating_add_ms(30 * MIN_MS),
        // Level 1 declared in the tank dike, where only special grade is allowed.
        Scenario::HotWorkGradeMismatch => {
            job.area_id = province.enterprises[injection.enterprise]
                .area
                .area_id
                .clone()
        }
        // Too much flammable gas at the first sample; the area is ventilated and sampled
        // again half an hour later.
        Scenario::GasAnalysisFail => {
            job.failed_analysis = Some(begins.saturating_add_ms(-45 * MIN_MS))
        }
        Scenario::UndeclaredHotWork => job.declared = false,
        Scenario::WorkWithoutPermit => job.issued = false,
        // Ten minutes into the start-up (which begins at the injection), for 40 minutes,
        // graded level 1 as on any day.
        Scenario::StartupHotWorkNotUpgraded => {
            let begins = begins.saturating_add_ms(10 * MIN_MS);
            job = Job::new(province, injection.enterprise, begins, "SC");
            job.closed = begins.saturating_add_ms(40 * MIN_MS);
        }
        Scenario::HotWorkConcentration => {
            return (0..CONCENTRATED_JOBS)
                .map(|n| {
                    let tag = format!("SC{}", n + 1);
                    let mut crew = Job::new(province, injection.enterprise, begins, &tag);
                    crew.closed = job.closed;
                    crew
                })
                .collect()
        }
        _ => return Vec::new(),
    }
    vec![job]
}
