//! The Tennessee Eastman scenario (issue 3): the benchmark plant's runs (Russell, Chiang and
//! Braatz; `tests/fixtures/tep`, with its LICENSE) stream as one enterprise's measurements,
//! alarm limits from the plant constraints or learned from the normal training run. The
//! process-limit rule (R1) stays nearly quiet on 48 h of normal operation and catches both
//! faults within minutes of their start (sample 160, 08:00).

mod common;

use std::path::{Path, PathBuf};

use vigil::app::sim::{run_tep, TepOptions};
use vigil::config::Config;
use vigil::model::EventTime;

const START: &str = "2026-01-05T00:00:00Z";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tep")
        .join(name)
}

/// The r01 warnings fired over a TEP run, as minutes after the run's start.
fn process_limit_warnings(run_file: &str) -> Vec<f64> {
    let dir = tempfile::tempdir().unwrap();
    let stream = dir.path().join("tep.ndjson");
    let start = EventTime::parse_rfc3339(START).unwrap();
    run_tep(&TepOptions {
        run: fixture(run_file),
        train: fixture("d00.dat"),
        out: stream.clone(),
        start,
        compress: 1,
    })
    .unwrap();
    let rules = common::shipped_rules(dir.path(), &["process/r01_process_limit.sql"]);
    // One sample every 3 minutes: a 30 s tick sees every one, and between samples there is
    // nothing new to evaluate (quiet ticks every 3 minutes, not every minute: a single sample
    // over its limit would otherwise count as held for the minutes until the next).
    let config = Config::from_toml("[rules]\ntick = \"30s\"\nquiet_tick = \"3m\"\n").unwrap();
    common::replay_warnings(&config, vec![stream], rules, dir.path())
        .into_iter()
        .filter(|w| w["state"] == "firing")
        .map(|w| {
            let at = EventTime::parse_rfc3339(w["fired_at"].as_str().unwrap()).unwrap();
            (at.millis() - start.millis()) as f64 / 60_000.0
        })
        .collect()
}

#[test]
fn normal_operation_gives_at_most_one_false_warning_a_day() {
    let fired = process_limit_warnings("d00_te.dat");
    // 960 samples × 3 min = 48 h.
    assert!(
        fired.len() <= 2,
        "{} false warnings in 48 h: {fired:?}",
        fired.len()
    );
}

#[test]
fn both_faults_are_caught_within_a_quarter_of_an_hour() {
    let fault_start = 160.0 * 3.0;
    for run_file in ["d01_te.dat", "d06_te.dat"] {
        let fired = process_limit_warnings(run_file);
        assert!(
            fired.iter().all(|&m| m >= fault_start),
            "{run_file}: a warning before the fault: {fired:?}"
        );
        let delay = fired.first().map(|m| m - fault_start);
        assert!(
            delay.is_some_and(|d| d <= 15.0),
            "{run_file}: detection delay {delay:?} min"
        );
    }
}
