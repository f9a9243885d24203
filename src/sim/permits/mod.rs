//! Special work in the simulated province, done as GB 30871 asks (`routine`): level-1 hot work
//! in the process area by day, some of it through a lunch break; special-grade hot work in the
//! tank dike on camera with a continuous gas analysis; confined-space entries; night repairs
//! upgraded to special grade. Every permit is planned, analysed before the start (and again
//! before resuming after a break), issued, started and closed inside its validity, and
//! declared in the day's commitment. Scenarios inject jobs that break one rule each
//! (`injected`). `records` turns jobs into permit events and gas analyses.

mod injected;
mod records;
mod routine;

pub use injected::injected_jobs;
pub use records::records;

use serde_json::{json, Value};

use crate::model::EventTime;

use super::calendar::{local_day_start, DAY_MS};
use super::scenario::Scenario;
use super::span::Span;
use super::Province;

const MIN_MS: i64 = 60_000;

/// What kind of work, and at what grade it is declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Work {
    HotL1,
    /// Special-grade hot work; `upgraded`: level 1 by its place, raised a grade for the time
    /// (night, rest day) or the enterprise's start-up.
    HotSpecial {
        upgraded: bool,
    },
    Confined,
}

impl Work {
    /// The commitment's count it is declared under (`counts.<key>`).
    fn count_key(self) -> &'static str {
        match self {
            Work::HotL1 => "hot_l1",
            Work::HotSpecial { .. } => "hot_special",
            Work::Confined => "confined",
        }
    }
}

/// One special-work job.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    pub enterprise: usize,
    pub permit_id: String,
    pub work: Work,
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
    /// Suspended for a break and resumed, with a passing analysis 10 minutes before resuming.
    pub pause: Option<(EventTime, EventTime)>,
    /// A camera on the work (`video_stream_id`), as special grade needs.
    pub video: bool,
    /// A continuous gas analysis every 2 minutes while the work goes on (special grade).
    pub continuous: bool,
    /// Declared in the day's commitment (R17).
    pub declared: bool,
    /// The permit is issued before the work starts (R10).
    pub issued: bool,
}

impl Job {
    /// A level-1 hot-work job in the enterprise's process area, starting at `begins`, two
    /// hours long, planned to end half an hour later.
    fn new(province: &Province, enterprise: usize, begins: EventTime, tag: &str) -> Job {
        let ent = &province.enterprises[enterprise];
        Job {
            enterprise,
            permit_id: format!(
                "{}-{tag}{}",
                ent.enterprise_id,
                begins.millis() / MIN_MS % 100_000
            ),
            work: Work::HotL1,
            area_id: ent.work_area.area_id.clone(),
            planned_at: begins.saturating_add_ms(-60 * MIN_MS),
            start: begins,
            planned_end: begins.saturating_add_ms(150 * MIN_MS),
            closed: begins.saturating_add_ms(120 * MIN_MS),
            analysis: Some(begins.saturating_add_ms(-15 * MIN_MS)),
            failed_analysis: None,
            pause: None,
            video: false,
            continuous: false,
            declared: true,
            issued: true,
        }
    }

    /// The same job lasting `work_ms`, planned to end half an hour after.
    fn lasting(mut self, work_ms: i64) -> Job {
        self.closed = self.start.saturating_add_ms(work_ms);
        self.planned_end = self.closed.saturating_add_ms(30 * MIN_MS);
        self
    }

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

/// Every job starting in `[start, end)`: the routine ones and those the injections add.
pub fn jobs(span: &Span<'_>) -> Vec<Job> {
    let mut out = Vec::new();
    let mut day = local_day_start(span.start);
    while day < span.end {
        for index in 0..span.province.enterprises.len() {
            if !super::resumption::restarts_on(span.injections, index, day) {
                out.extend(routine::day_jobs(span.province, span.seed, index, day));
            }
        }
        day = day.saturating_add_ms(DAY_MS);
    }
    out.retain(|j| j.start >= span.start && j.start < span.end);
    out.extend(
        span.injections
            .iter()
            .flat_map(|i| injected_jobs(span.province, i)),
    );
    out.sort_by(|a, b| a.start.cmp(&b.start).then(a.permit_id.cmp(&b.permit_id)));
    out
}

/// The commitment's counts of `enterprise` for the local day beginning at `day`: its
/// declared jobs starting that day, by kind.
pub fn declared_counts(jobs: &[Job], enterprise: usize, day: EventTime) -> Value {
    let mut counts = json!({"hot_special": 0, "hot_l1": 0, "confined": 0});
    for job in jobs
        .iter()
        .filter(|j| j.enterprise == enterprise && j.declared && local_day_start(j.start) == day)
    {
        let key = job.work.count_key();
        counts[key] = json!(counts[key].as_u64().unwrap_or(0) + 1);
    }
    counts
}
