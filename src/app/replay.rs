//! `vigil replay`: the pipeline over recorded NDJSON input, with NDJSON outputs and a summary.

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::config::Config;
use crate::error::IoError;
use crate::ingest::replay::{Replay, ReplaySinks, Speed, Summary};

use super::Engine;

pub struct ReplayOptions {
    pub inputs: Vec<PathBuf>,
    pub speed: Speed,
    pub dlq_out: Option<PathBuf>,
    pub late_out: Option<PathBuf>,
    pub summary_out: Option<PathBuf>,
}

/// Replays the inputs; bad records are not an error (they go to the DLQ output).
pub fn run(config: &Config, options: &ReplayOptions) -> Result<Summary, IoError> {
    let engine = Engine::new(config);
    let mut pipeline = engine.pipeline(config);
    let sinks = ReplaySinks::create(options.dlq_out.as_deref(), options.late_out.as_deref())?;
    let progress = progress_bar(&options.inputs);
    let replay = Replay::new(
        &mut pipeline,
        sinks,
        options.speed,
        config.ingest.max_message_bytes,
    );
    let summary = replay.run(&options.inputs, |n| progress.inc(n))?;
    progress.finish_and_clear();
    if let Some(path) = &options.summary_out {
        let json = serde_json::to_string_pretty(&summary).expect("a summary always serialises");
        std::fs::write(path, json + "\n").map_err(|source| IoError::Write {
            what: path.display().to_string(),
            source,
        })?;
    }
    Ok(summary)
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
    if summary.warnings.is_empty() {
        text.push_str("warnings: none (no rules loaded)\n");
    }
    text
}
