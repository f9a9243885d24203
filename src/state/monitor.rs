//! A monitored unit in an enterprise's state: its model of normal operation (a
//! `monitor_model` registry record), the alignment of its indicators' readings into samples,
//! and the newest sample's score, which the `unit_monitor` rule table shows.

use serde::{Deserialize, Serialize};

use crate::model::EventTime;
use crate::monitor::sample::STALE_AFTER_PERIODS;
use crate::monitor::{score, Aligner, MonitorModel, Sample};

/// Indicators named in a sample's evidence, per statistic.
pub const TOP_CONTRIBUTORS: usize = 3;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnitMonitor {
    pub model: MonitorModel,
    aligner: Aligner,
    /// The newest sample's score.
    pub latest: Option<MonitorScore>,
    /// Samples in a row, up to the newest, with T² or the SPE over its limit.
    pub over_run: u32,
    /// The event times of the enterprise's first and newest good readings since the model
    /// came in, of any indicator: the plant's own clock, against which a unit whose samples
    /// stopped is told from a plant that stopped sending (`silent`).
    #[serde(default)]
    first_heard: Option<EventTime>,
    #[serde(default)]
    last_heard: Option<EventTime>,
}

/// One sample's statistics, and the indicators contributing most to each.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonitorScore {
    pub at: EventTime,
    pub t2: f64,
    pub spe: f64,
    /// (indicator, share of the statistic), largest first.
    pub top_t2: Vec<(String, f64)>,
    pub top_spe: Vec<(String, f64)>,
}

impl UnitMonitor {
    /// Starts monitoring with a validated model.
    pub fn new(model: MonitorModel) -> Self {
        UnitMonitor {
            aligner: Aligner::new(model.indicators.len(), model.period_ms()),
            model,
            latest: None,
            over_run: 0,
            first_heard: None,
            last_heard: None,
        }
    }

    /// Whether the enterprise's readings went on for more than `STALE_AFTER_PERIODS` periods
    /// past the unit's newest sample (or past the first reading, before any sample): one of
    /// its indicators stopped, was renamed or was removed, and the model watches nothing while
    /// the plant runs. Counted in `vigil_monitor_units{status="silent"}`.
    pub fn silent(&self) -> bool {
        let Some(heard) = self.last_heard else {
            return false;
        };
        let since = self.latest.as_ref().map(|s| s.at).or(self.first_heard);
        since.is_some_and(|since| {
            heard > since.saturating_add_ms(STALE_AFTER_PERIODS * self.model.period_ms())
        })
    }

    /// A good reading of `target_code`, in event-time order; scores the samples it
    /// completes, and says whether there were any.
    pub fn observe(&mut self, target_code: &str, at: EventTime, value: f64) -> bool {
        self.first_heard.get_or_insert(at);
        self.last_heard = self.last_heard.max(Some(at));
        let Ok(column) = self
            .model
            .indicators
            .binary_search_by(|code| code.as_str().cmp(target_code))
        else {
            return false;
        };
        let mut completed = Vec::new();
        self.aligner.push(column, at, value, &mut completed);
        for sample in &completed {
            self.score(sample);
        }
        !completed.is_empty()
    }

    fn score(&mut self, sample: &Sample) {
        let s = score(&self.model, &sample.values);
        self.over_run = if self.model.exceeded(&s) {
            self.over_run.saturating_add(1)
        } else {
            0
        };
        let named = |spe: bool| {
            s.top(spe, TOP_CONTRIBUTORS)
                .into_iter()
                .map(|c| (self.model.indicators[c.column].clone(), c.share))
                .collect()
        };
        self.latest = Some(MonitorScore {
            at: sample.at,
            t2: s.t2,
            spe: s.spe,
            top_t2: named(false),
            top_spe: named(true),
        });
    }

    /// Heap bytes, fixed once the model is in (a reading never changes them).
    pub fn estimated_bytes(&self) -> usize {
        let p = self.model.indicators.len();
        let k = self.model.components();
        std::mem::size_of::<Self>() + p * (8 * (k + 6) + 48) + 2 * TOP_CONTRIBUTORS * 48
    }
}
