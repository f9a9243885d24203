//! The engine's chain on a replay's clock: ticks as event time advances, folds every tick
//! into the backtest report and writes the hits, warnings and risk records to files.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use crate::config::Config;
use crate::engine::{Chain, ChainTick};
use crate::error::IoError;
use crate::ingest::replay::{create_output, EventClock};
use crate::metrics::Metrics;
use crate::model::EventTime;
use crate::risk::RiskStage;
use crate::rules::backtest::Backtest;
use crate::rules::{RuleDriver, RuleEngine, RuleHit, RuleProblem};
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
    chain: Chain,
    pub backtest: Backtest,
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
        let rules = &config.rules;
        let driver = RuleDriver::new(engine, Arc::clone(&store), rules.tick, rules.quiet_tick);
        let silences = Arc::new(Silences::from_config(&config.warnings.silences));
        let book = WarningBook::new(&config.warnings, silences);
        let risk = RiskStage::new(&config.risk, rules.utc_offset_minutes);
        Ok(RulesClock {
            runtime,
            chain: Chain::new(driver, book, Some(risk), store),
            backtest: Backtest::default(),
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
    pub fn snapshot(&mut self, at: EventTime) -> crate::risk::snapshot::Snapshot {
        let risk = self.chain.risk.as_mut().expect("a replay computes risk");
        risk.snapshot(at)
    }

    pub fn keep_hits(mut self) -> Self {
        self.keep_hits = true;
        self
    }

    /// The event time of the last evaluation.
    pub fn last_tick(&self) -> Option<EventTime> {
        self.chain.last_tick()
    }

    pub fn engine(&self) -> &RuleEngine {
        self.chain.engine()
    }

    fn absorb(&mut self, tick: Option<ChainTick>) -> Result<(), IoError> {
        let Some(ChainTick {
            report,
            warnings,
            risk,
        }) = tick
        else {
            return Ok(());
        };
        self.backtest.add(&report);
        self.backtest.add_warnings(&warnings);
        self.write_warnings(&warnings)?;
        if let Some(risk) = risk {
            write_lines(&mut self.risk_out, &risk.records, "risk")?;
        }
        let at = report.now.to_rfc3339();
        for hit in report.hits {
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
    fn due(&self, now: EventTime, next_record: Option<EventTime>) -> Option<EventTime> {
        self.chain.due(now, next_record)
    }

    fn start_at(&mut self, origin: EventTime) {
        self.chain.start_at(origin);
    }

    fn tick(&mut self, at: EventTime) -> Result<(), IoError> {
        let tick = self.runtime.block_on(self.chain.tick(at));
        self.absorb(Some(tick))
    }

    fn finish(&mut self, end: EventTime) -> Result<(), IoError> {
        let tick = self.runtime.block_on(self.chain.finish(end));
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
