//! The rules engine on a replay's clock: ticks as event time advances, folds every tick into
//! the backtest report and writes the hits (`--hits-out`).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use crate::config::Config;
use crate::error::IoError;
use crate::ingest::replay::{create_output, EventClock};
use crate::metrics::Metrics;
use crate::model::EventTime;
use crate::risk::RiskStage;
use crate::rules::backtest::Backtest;
use crate::rules::{RuleDriver, RuleEngine, RuleHit, RuleProblem, TickReport};
use crate::state::StateStore;
use crate::warnings::{Silences, WarningBook, WarningRecord};

/// A hit with the event time of the tick that found it.
#[derive(Clone, Debug, Serialize)]
pub struct TimedHit {
    pub at: String,
    #[serde(flatten)]
    pub hit: RuleHit,
}

pub struct RulesClock {
    runtime: tokio::runtime::Runtime,
    driver: RuleDriver,
    store: Arc<StateStore>,
    pub backtest: Backtest,
    pub warnings: WarningBook,
    pub risk: RiskStage,
    hits_out: Option<BufWriter<File>>,
    warnings_out: Option<BufWriter<File>>,
    risk_out: Option<BufWriter<File>>,
    /// Every hit, when asked for (tests); otherwise empty.
    pub hits: Vec<TimedHit>,
    keep_hits: bool,
}

impl RulesClock {
    /// Loads the rules of `dir`; any rule file that cannot run is an error listing them all.
    pub fn load(
        config: &Config,
        dir: &Path,
        store: Arc<StateStore>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, Vec<RuleProblem>> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .expect("a tokio runtime starts");
        let mut engine = RuleEngine::new(config.rules.clone(), metrics);
        let report = runtime.block_on(engine.reload(dir));
        if !report.problems.is_empty() {
            return Err(report.problems);
        }
        Ok(RulesClock {
            runtime,
            driver: RuleDriver::new(engine, Arc::clone(&store), config.rules.tick),
            store,
            backtest: Backtest::default(),
            warnings: WarningBook::new(
                &config.warnings,
                Arc::new(Silences::from_config(&config.warnings.silences)),
            ),
            risk: RiskStage::new(&config.risk, config.rules.utc_offset_minutes),
            hits_out: None,
            warnings_out: None,
            risk_out: None,
            hits: Vec::new(),
            keep_hits: false,
        })
    }

    pub fn write_hits_to(&mut self, path: &Path) -> Result<(), IoError> {
        self.hits_out = Some(create_output(path)?);
        Ok(())
    }

    pub fn write_warnings_to(&mut self, path: &Path) -> Result<(), IoError> {
        self.warnings_out = Some(create_output(path)?);
        Ok(())
    }

    pub fn write_risk_to(&mut self, path: &Path) -> Result<(), IoError> {
        self.risk_out = Some(create_output(path)?);
        Ok(())
    }

    /// The enterprises' risk records and facts now, for `vigil enforce`.
    pub fn snapshot(&mut self, at: EventTime) -> crate::enforce::plan::Snapshot {
        self.risk.snapshot(at)
    }

    pub fn keep_hits(mut self) -> Self {
        self.keep_hits = true;
        self
    }

    /// The event time of the last evaluation.
    pub fn last_tick(&self) -> Option<EventTime> {
        self.driver.last_tick()
    }

    pub fn engine(&self) -> &RuleEngine {
        &self.driver.engine
    }

    /// The rules read back the warnings published so far (`open_warnings`).
    fn show_open_warnings(&mut self) {
        let open = self.warnings.open();
        self.driver.engine.set_open_warnings(open);
    }

    fn absorb(&mut self, tick: Option<TickReport>) -> Result<(), IoError> {
        let Some(tick) = tick else { return Ok(()) };
        self.backtest.add(&tick);
        let records = self
            .warnings
            .apply(&tick, &self.driver.engine, self.store.as_ref());
        self.backtest.add_warnings(&records);
        self.write_warnings(&records)?;
        let risk = self.risk.tick(tick.now, &records, self.store.as_ref());
        write_lines(&mut self.risk_out, &risk.records, "risk")?;
        let at = tick.now.to_rfc3339();
        for hit in tick.hits {
            let timed = TimedHit {
                at: at.clone(),
                hit,
            };
            if let Some(out) = &mut self.hits_out {
                let line = serde_json::to_string(&timed).expect("a hit serialises");
                writeln!(out, "{line}").map_err(|source| IoError::Write {
                    what: "hits".into(),
                    source,
                })?;
            }
            if self.keep_hits {
                self.hits.push(timed);
            }
        }
        Ok(())
    }
}

impl RulesClock {
    fn write_warnings(&mut self, records: &[WarningRecord]) -> Result<(), IoError> {
        write_lines(&mut self.warnings_out, records, "warnings")
    }
}

/// Writes records as NDJSON, if the output was asked for.
fn write_lines<T: Serialize>(
    out: &mut Option<BufWriter<File>>,
    records: &[T],
    what: &str,
) -> Result<(), IoError> {
    let Some(out) = out else { return Ok(()) };
    for record in records {
        let line = serde_json::to_string(record).expect("an output record serialises");
        writeln!(out, "{line}").map_err(|source| IoError::Write {
            what: what.into(),
            source,
        })?;
    }
    Ok(())
}

impl EventClock for RulesClock {
    fn advance(&mut self, now: EventTime) -> Result<(), IoError> {
        self.show_open_warnings();
        let tick = self.runtime.block_on(self.driver.advance(now));
        self.absorb(tick)
    }

    fn finish(&mut self, end: EventTime) -> Result<(), IoError> {
        self.show_open_warnings();
        let tick = self.runtime.block_on(self.driver.finish(end));
        self.absorb(tick)?;
        for out in [
            &mut self.hits_out,
            &mut self.warnings_out,
            &mut self.risk_out,
        ]
        .into_iter()
        .flatten()
        {
            out.flush().map_err(|source| IoError::Write {
                what: "rule outputs".into(),
                source,
            })?;
        }
        Ok(())
    }
}
