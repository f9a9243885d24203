//! Special work in the simulated province, done as GB 30871 asks: on a weekday, about one
//! enterprise in four runs a level-1 hot-work job in its process area (a fire/explosion area,
//! so level 1 is the right grade by day). The permit is planned, a portable gas analysis passes
//! 15 minutes before the start, the permit is issued 10 minutes before, the work starts at
//! 09:00 local and closes after two hours, within its planned end and the 8-hour validity.
//! The day's commitment declares it. Scenarios inject jobs that break one rule each.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use crate::model::EventTime;

use super::business::{local_day_start, Span};
use super::scenario::{Injection, Scenario};
use super::{Province, SimRecord};

const MIN_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;
/// Normal jobs start at 09:00 local and last two hours.
const START_MS: i64 = 9 * 60 * MIN_MS;
const WORK_MS: i64 = 120 * MIN_MS;
/// The share of enterprises with a job on a weekday.
const JOB_SHARE: f64 = 0.25;

/// One hot-work job.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    pub enterprise: usize,
    pub permit_id: String,
    pub area_id: String,
    /// When the permit is planned (an hour before the start).
    pub planned_at: EventTime,
    pub start: EventTime,
    pub planned_end: EventTime,
    pub closed: EventTime,
    /// The passing gas analysis before the start; `None`: skipped (R8).
    pub analysis: Option<EventTime>,
    /// A failing analysis before the passing one (R9).
    pub failed_analysis: Option<EventTime>,
    /// Declared in the day's commitment (R17).
    pub declared: bool,
    /// The permit is issued before the work starts (R10).
    pub issued: bool,
}

impl Job {
    /// Permits are issued ten minutes before the work starts.
    pub fn issued_at(&self) -> EventTime {
        self.start.saturating_add_ms(-10 * MIN_MS)
    }

    /// What the rule of `scenario` reports about this job: subject, from and until. R11
    /// reports the permit from its planning, R8 the work from its start, R10 from the planned
    /// end, R9 the failed analysis until the passing one, R12 the area while the jobs run,
    /// R17 the enterprise from the start to the day's end.
    pub fn reported(
        &self,
        scenario: Scenario,
        enterprise_id: &str,
    ) -> (String, EventTime, EventTime) {
        let permit = self.permit_id.clone();
        match scenario {
            Scenario::HotWorkGradeMismatch => (permit, self.planned_at, self.closed),
            Scenario::PermitExpired => (permit, self.planned_end, self.closed),
            Scenario::GasAnalysisFail => (
                permit,
                self.failed_analysis.unwrap_or(self.planned_at),
                self.analysis.unwrap_or(self.start),
            ),
            Scenario::HotWorkConcentration => (self.area_id.clone(), self.start, self.closed),
            Scenario::StartupHotWorkNotUpgraded => (permit, self.issued_at(), self.closed),
            Scenario::UndeclaredHotWork => (
                enterprise_id.to_owned(),
                self.start,
                local_day_start(self.start).saturating_add_ms(DAY_MS),
            ),
            _ => (permit, self.start, self.closed),
        }
    }
}

/// Every job starting in `[start, end)`: the normal ones and those the injections add.
pub fn jobs(span: &Span<'_>) -> Vec<Job> {
    let Span {
        province,
        seed,
        start,
        end,
        injections,
    } = *span;
    let mut out = Vec::new();
    let mut day = local_day_start(start);
    while day < end {
        for index in 0..province.enterprises.len() {
            let begins = day.saturating_add_ms(START_MS);
            let restarting = super::resumption::restarts_on(injections, index, day);
            if is_weekday(day)
                && has_job(seed, index, day)
                && !restarting
                && begins >= start
                && begins < end
            {
                out.push(normal_job(province, index, begins, "HW"));
            }
        }
        day = day.saturating_add_ms(DAY_MS);
    }
    out.extend(injections.iter().flat_map(|i| injected_jobs(province, i)));
    out.sort_by(|a, b| a.start.cmp(&b.start).then(a.permit_id.cmp(&b.permit_id)));
    out
}

fn has_job(seed: u64, enterprise: usize, day: EventTime) -> bool {
    let mut rng = ChaCha8Rng::seed_from_u64(
        seed ^ 0x0407_70b5 ^ ((enterprise as u64) << 20) ^ day.millis() as u64,
    );
    rng.random_bool(JOB_SHARE)
}

/// Monday to Friday, local (1970-01-01 was a Thursday).
fn is_weekday(day: EventTime) -> bool {
    let days = (day.millis() + DAY_MS / 2).div_euclid(DAY_MS);
    !matches!((days + 3).rem_euclid(7), 5 | 6)
}

fn normal_job(province: &Province, enterprise: usize, begins: EventTime, tag: &str) -> Job {
    let ent = &province.enterprises[enterprise];
    Job {
        enterprise,
        permit_id: format!(
            "{}-{tag}{}",
            ent.enterprise_id,
            begins.millis() / MIN_MS % 100_000
        ),
        area_id: ent.work_area.area_id.clone(),
        planned_at: begins.saturating_add_ms(-60 * MIN_MS),
        start: begins,
        planned_end: begins.saturating_add_ms(WORK_MS + 30 * MIN_MS),
        closed: begins.saturating_add_ms(WORK_MS),
        analysis: Some(begins.saturating_add_ms(-15 * MIN_MS)),
        failed_analysis: None,
        declared: true,
        issued: true,
    }
}

/// Hot-work jobs at once in one area for R12: one more than it allows.
const CONCENTRATED_JOBS: usize = 4;

/// The jobs a permit scenario adds, starting at the injection (whole minute).
pub fn injected_jobs(province: &Province, injection: &Injection) -> Vec<Job> {
    let begins = EventTime::from_millis(injection.from.millis() / MIN_MS * MIN_MS);
    let mut job = normal_job(province, injection.enterprise, begins, "SC");
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
            job = normal_job(province, injection.enterprise, begins, "SC");
            job.closed = begins.saturating_add_ms(40 * MIN_MS);
        }
        Scenario::HotWorkConcentration => {
            return (0..CONCENTRATED_JOBS)
                .map(|n| {
                    let tag = format!("SC{}", n + 1);
                    let mut crew = normal_job(province, injection.enterprise, begins, &tag);
                    crew.closed = job.closed;
                    crew
                })
                .collect()
        }
        _ => return Vec::new(),
    }
    vec![job]
}

/// The permit events and gas analyses of `jobs`, with their event times.
pub fn records(province: &Province, jobs: &[Job]) -> Vec<(EventTime, SimRecord)> {
    let mut out = Vec::new();
    for job in jobs {
        let ent = &province.enterprises[job.enterprise];
        let key = || ent.enterprise_id.clone();
        let issued_at = job.issued.then(|| job.issued_at());
        let permit = |transition: &str, at: EventTime| {
            (
                at,
                SimRecord {
                    topic: "permit.event",
                    key: key(),
                    value: json!({
                        "ts": at, "permit_id": job.permit_id, "enterprise_id": ent.enterprise_id,
                        "type": "hot", "hot_grade": "l1", "declared_grade_upgraded": false,
                        "area_id": job.area_id, "transition": transition,
                        "planned_start": job.start, "planned_end": job.planned_end,
                        "issued_at": issued_at,
                        "supervisor_id": format!("{}-S1", ent.enterprise_id),
                        "worker_ids": [format!("{}-W1", ent.enterprise_id)],
                        "related_permit_ids": [], "open_air": false,
                    }),
                },
            )
        };
        out.push(permit("planned", job.planned_at));
        // Methane (LEL 5 %): at most 0.5 % vol passes.
        let samples = [(job.failed_analysis, 0.8), (job.analysis, 0.1)];
        for (at, conc_vol_pct) in samples {
            let Some(at) = at else { continue };
            out.push((
                at,
                SimRecord {
                    topic: "gas.analysis",
                    key: key(),
                    value: json!({
                        "ts_sample": at, "enterprise_id": ent.enterprise_id,
                        "permit_id": job.permit_id, "point_id": format!("{}-GP1", job.area_id),
                        "method": "portable", "gas_cas": "74-82-8", "gas_lel_vol_pct": 5.0,
                        "conc_vol_pct": conc_vol_pct, "o2_vol_pct": 20.9,
                        "analyst_id": format!("{}-A1", ent.enterprise_id),
                    }),
                },
            ));
        }
        if let Some(at) = issued_at {
            out.push(permit("issued", at));
        }
        out.push(permit("started", job.start));
        out.push(permit("closed", job.closed));
    }
    out.sort_by_key(|(at, _)| *at);
    out
}

/// Declared level-1 hot-work jobs of `enterprise` starting on the local day beginning at
/// `day`.
pub fn hot_l1_on(jobs: &[Job], enterprise: usize, day: EventTime) -> u32 {
    jobs.iter()
        .filter(|j| j.enterprise == enterprise && j.declared && local_day_start(j.start) == day)
        .count() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekdays_are_monday_to_friday() {
        let monday = local_day_start(EventTime::parse_rfc3339("2026-01-05T02:00:00Z").unwrap());
        let days: Vec<bool> = (0..7)
            .map(|d| is_weekday(monday.saturating_add_ms(d * DAY_MS)))
            .collect();
        assert_eq!(days, [true, true, true, true, true, false, false]);
    }
}
