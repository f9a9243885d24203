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

/// The TEP stream of `run_file` in `dir`, limits learned from `d00.dat`.
fn tep_stream(dir: &Path, run_file: &str) -> PathBuf {
    let stream = dir.join(format!("{run_file}.ndjson"));
    run_tep(&TepOptions {
        run: fixture(run_file),
        train: fixture("d00.dat"),
        out: stream.clone(),
        start: EventTime::parse_rfc3339(START).unwrap(),
        compress: 1,
    })
    .unwrap();
    stream
}

/// `vigil learn`'s defaults on the normal training run `d00`, the model to `dir/model.ndjson`.
fn normal_training(dir: &Path) -> vigil::app::learn::LearnOptions {
    vigil::app::learn::LearnOptions::new(vec![tep_stream(dir, "d00.dat")], dir.join("model.ndjson"))
}

/// `vigil learn` on the normal training run, checked on `run_file`: when it fired, in
/// minutes after the run's start.
fn learned_monitor_firings(run_file: &str) -> (Vec<f64>, vigil::app::learn::CheckReport) {
    use vigil::app::learn::{run, LearnOptions};
    let dir = tempfile::tempdir().unwrap();
    let options = LearnOptions {
        check: vec![tep_stream(dir.path(), run_file)],
        ..normal_training(dir.path())
    };
    let report = run(&options).unwrap();
    assert_eq!(report.fitted.len(), 1, "{}", report.describe());
    assert_eq!(
        report.invalid_lines, 0,
        "the simulated plant's records all decode"
    );
    let model = &report.fitted[0].model;
    assert_eq!(
        model.sample_period_s, 180,
        "the period is inferred from the readings"
    );
    assert_eq!(model.indicators.len(), 14);
    let start = EventTime::parse_rfc3339(START).unwrap().millis();
    let check = report.checks[0].clone();
    println!("{run_file}: {}", report.describe());
    let minutes = check
        .fired_at
        .iter()
        .map(|t| (t.millis() - start) as f64 / 60_000.0)
        .collect();
    (minutes, check)
}

#[test]
fn the_learned_monitor_is_quiet_on_48_hours_of_normal_operation() {
    let (fired, check) = learned_monitor_firings("d00_te.dat");
    assert_eq!(check.samples, 960);
    assert!(
        fired.len() <= 2,
        "{} firings in 48 h: {fired:?}",
        fired.len()
    );
}

#[test]
fn the_learned_monitor_catches_both_faults_within_an_hour() {
    let fault_start = 160.0 * 3.0;
    for run_file in ["d01_te.dat", "d06_te.dat"] {
        let (fired, _) = learned_monitor_firings(run_file);
        assert!(
            fired.iter().all(|&m| m >= fault_start),
            "{run_file}: fired before the fault: {fired:?}"
        );
        let delay = fired.first().map(|m| m - fault_start);
        assert!(
            delay.is_some_and(|d| d <= 60.0),
            "{run_file}: detection delay {delay:?} min"
        );
    }
}

#[test]
fn learned_models_are_registry_records_that_validate() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("model.ndjson");
    let options = normal_training(dir.path());
    vigil::app::learn::run(&options).unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    let line: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(line["topic"], "registry");
    assert_eq!(line["value"]["entity"], "monitor_model");
    let model: vigil::monitor::MonitorModel =
        serde_json::from_value(line["value"]["data"].clone()).unwrap();
    model.validate().unwrap();
    assert_eq!(line["value"]["id"], model.model_id.as_str());
    // The same training gives the same model, byte for byte.
    vigil::app::learn::run(&options).unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), text);
}

/// `vigil replay --input model.ndjson --input RUN --rules` with R18: the engine applies the
/// learned model to the run that follows it. When it fired, in minutes after the run's start.
fn process_monitor_warnings(run_file: &str) -> Vec<(f64, String)> {
    let dir = tempfile::tempdir().unwrap();
    let options = normal_training(dir.path());
    let model = options.out.clone();
    vigil::app::learn::run(&options).unwrap();
    let run = tep_stream(dir.path(), run_file);
    let rules = common::shipped_rules(dir.path(), &["process/r18_process_monitor.sql"]);
    let config = Config::from_toml("[rules]\ntick = \"30s\"\nquiet_tick = \"3m\"\n").unwrap();
    let start = EventTime::parse_rfc3339(START).unwrap();
    common::replay_warnings(&config, vec![model, run], rules, dir.path())
        .into_iter()
        .filter(|w| w["state"] == "firing")
        .map(|w| {
            let at = EventTime::parse_rfc3339(w["fired_at"].as_str().unwrap()).unwrap();
            let minutes = (at.millis() - start.millis()) as f64 / 60_000.0;
            (minutes, w["message"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[test]
fn the_process_monitor_rule_is_quiet_on_normal_operation_and_catches_both_faults() {
    let normal = process_monitor_warnings("d00_te.dat");
    assert!(
        normal.len() <= 2,
        "{} warnings in 48 h: {normal:?}",
        normal.len()
    );
    let fault_start = 160.0 * 3.0;
    for run_file in ["d01_te.dat", "d06_te.dat"] {
        let fired = process_monitor_warnings(run_file);
        assert!(
            fired.iter().all(|(m, _)| *m >= fault_start),
            "{run_file}: fired before the fault: {fired:?}"
        );
        let (first, message) = fired.first().expect("the fault is caught");
        assert!(
            *first - fault_start <= 60.0,
            "{run_file}: caught after {first} min"
        );
        assert!(
            message.contains("T² from 33010299001-"),
            "names the indicators: {message}"
        );
    }
}
