//! `vigil replay`: the pipeline over recorded NDJSON input, with NDJSON outputs and a summary.

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::config::Config;
use crate::error::{IoError, ReplayError};
use crate::ingest::replay::{Replay, ReplaySinks, Speed, Summary};
use crate::rules::backtest::Backtest;

use super::rules_clock::RulesClock;
use super::Engine;

#[derive(Default)]
pub struct ReplayOptions {
    pub inputs: Vec<PathBuf>,
    pub speed: Option<Speed>,
    pub dlq_out: Option<PathBuf>,
    pub late_out: Option<PathBuf>,
    pub summary_out: Option<PathBuf>,
    /// Run the rules of this directory and report per rule.
    pub rules: Option<PathBuf>,
    pub hits_out: Option<PathBuf>,
    pub warnings_out: Option<PathBuf>,
    /// Risk records (needs `rules`).
    pub risk_out: Option<PathBuf>,
    /// The enterprises' risk records and enforcement facts at the end, for `vigil enforce`
    /// (needs `rules`).
    pub snapshot_out: Option<PathBuf>,
}

/// What a replay produced.
pub struct ReplayResult {
    pub summary: Summary,
    pub backtest: Option<Backtest>,
}

/// Replays the inputs; bad records are not an error (they go to the DLQ output), a rule file
/// that cannot run is.
pub fn run(config: &Config, options: &ReplayOptions) -> Result<ReplayResult, ReplayError> {
    let engine = Engine::new(config);
    let mut rules = match &options.rules {
        None => None,
        Some(dir) => {
            let store = std::sync::Arc::clone(&engine.store);
            let metrics = std::sync::Arc::clone(&engine.metrics);
            let mut clock =
                RulesClock::load(config, dir, store, metrics).map_err(ReplayError::Rules)?;
            if let Some(path) = &options.hits_out {
                clock.write_hits_to(path)?;
            }
            if let Some(path) = &options.warnings_out {
                clock.write_warnings_to(path)?;
            }
            if let Some(path) = &options.risk_out {
                clock.write_risk_to(path)?;
            }
            Some(clock)
        }
    };
    let mut pipeline = engine.pipeline(config);
    let sinks = ReplaySinks::create(options.dlq_out.as_deref(), options.late_out.as_deref())?;
    let progress = progress_bar(&options.inputs);
    let mut replay = Replay::new(
        &mut pipeline,
        sinks,
        options.speed.unwrap_or(Speed::Max),
        config.ingest.max_message_bytes,
    );
    if let Some(clock) = rules.as_mut() {
        replay = replay.with_clock(clock);
    }
    let mut summary = replay.run(&options.inputs, |n| progress.inc(n))?;
    progress.finish_and_clear();
    if let (Some(path), Some(clock)) = (&options.snapshot_out, rules.as_mut()) {
        let at = clock.last_tick().unwrap_or_default();
        let json = serde_json::to_string(&clock.snapshot(at)).expect("a snapshot serialises");
        std::fs::write(path, json + "\n").map_err(|source| IoError::Write {
            what: path.display().to_string(),
            source,
        })?;
    }
    let backtest = rules.map(|r| r.backtest);
    if let Some(backtest) = &backtest {
        summary.warnings = backtest.warnings_by_color.clone();
    }
    if let Some(path) = &options.summary_out {
        let json = serde_json::to_string_pretty(&summary).expect("a summary always serialises");
        std::fs::write(path, json + "\n").map_err(|source| IoError::Write {
            what: path.display().to_string(),
            source,
        })?;
    }
    Ok(ReplayResult { summary, backtest })
}

fn progress_bar(inputs: &[PathBuf]) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let total = inputs
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// The human-readable end-of-run report.
pub fn describe(summary: &Summary) -> String {
    let mut text = format!(
        "read {}  applied {}  dead-lettered {}  late {}\n",
        summary.read,
        summary.applied,
        summary.dead_total(),
        summary.late
    );
    for (reason, n) in &summary.dead {
        text.push_str(&format!("  dead {reason:<24} {n}\n"));
    }
    for (color, n) in &summary.warnings {
        text.push_str(&format!("  warnings {color:<21} {n}\n"));
    }
    text
}
