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

/// The faults start at sample 160, one sample every 3 minutes: minute 480 of the run.
const FAULT_START_MIN: f64 = 160.0 * 3.0;

/// On a faulty run: nothing fired before the fault, and the first firing (minutes after the
/// run's start) within `within` minutes of it.
fn assert_caught_within(run_file: &str, fired: &[f64], within: f64) {
    assert!(
        fired.iter().all(|&m| m >= FAULT_START_MIN),
        "{run_file}: fired before the fault: {fired:?}"
    );
    let delay = fired.first().map(|m| m - FAULT_START_MIN);
    assert!(
        delay.is_some_and(|d| d <= within),
        "{run_file}: detection delay {delay:?} min"
    );
}

/// `inputs` replayed with `rule` alone at the TEP pace (a 30 s tick, quiet ticks every 3
/// minutes: one sample every 3 minutes): the warning records.
fn replayed_warnings(dir: &Path, inputs: Vec<PathBuf>, rule: &str) -> Vec<serde_json::Value> {
    let rules = common::shipped_rules(dir, &[rule]);
    // Between samples there is nothing new to evaluate (quiet ticks every 3 minutes, not
    // every minute: a single sample over its limit would otherwise count as held for the
    // minutes until the next).
    let config = Config::from_toml("[rules]\ntick = \"30s\"\nquiet_tick = \"3m\"\n").unwrap();
    common::replay_warnings(&config, inputs, rules, dir)
}

/// The firing records among `warnings`: when each fired, in minutes after the run's start,
/// and its `field`.
fn firings(warnings: &[serde_json::Value], field: &str) -> Vec<(f64, String)> {
    warnings
        .iter()
        .filter(|w| w["state"] == "firing")
        .map(|w| {
            let at = EventTime::parse_rfc3339(w["fired_at"].as_str().unwrap()).unwrap();
            (after_start(at), w[field].as_str().unwrap().to_owned())
        })
        .collect()
}

/// Minutes from the run's start to `at`.
fn after_start(at: EventTime) -> f64 {
    let start = EventTime::parse_rfc3339(START).unwrap();
    (at.millis() - start.millis()) as f64 / 60_000.0
}

fn minutes(fired: &[(f64, String)]) -> Vec<f64> {
    fired.iter().map(|(m, _)| *m).collect()
}

/// The r01 warnings fired over a TEP run, as minutes after the run's start.
fn process_limit_warnings(run_file: &str) -> Vec<f64> {
    let dir = tempfile::tempdir().unwrap();
    let stream = tep_stream(dir.path(), run_file);
    let warnings = replayed_warnings(dir.path(), vec![stream], "process/r01_process_limit.sql");
    minutes(&firings(&warnings, "subject"))
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
    for run_file in ["d01_te.dat", "d06_te.dat"] {
        assert_caught_within(run_file, &process_limit_warnings(run_file), 15.0);
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
    let check = report.checks[0].clone();
    println!("{run_file}: {}", report.describe());
    let minutes = check.fired_at.iter().copied().map(after_start).collect();
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
    for run_file in ["d01_te.dat", "d06_te.dat"] {
        let (fired, _) = learned_monitor_firings(run_file);
        assert_caught_within(run_file, &fired, 60.0);
    }
}

/// `vigil learn --units equipment --confidence 0.999`, checked on `run_file`: the models, and
/// when any of them fired, in minutes after the run's start.
fn equipment_monitor_firings(run_file: &str) -> (Vec<vigil::monitor::MonitorModel>, Vec<f64>) {
    use vigil::app::learn::{run, LearnOptions, UnitsBy};
    let dir = tempfile::tempdir().unwrap();
    let mut options = LearnOptions {
        check: vec![tep_stream(dir.path(), run_file)],
        units_by: UnitsBy::Equipment,
        ..normal_training(dir.path())
    };
    options.fit.confidence = 0.999;
    let report = run(&options).unwrap();
    println!("{run_file}: {}", report.describe());
    let mut fired: Vec<f64> = report
        .checks
        .iter()
        .flat_map(|c| c.fired_at.iter().copied())
        .map(after_start)
        .collect();
    fired.sort_by(f64::total_cmp);
    println!("{run_file}: fired at {fired:?} min");
    let models = report.fitted.into_iter().map(|f| f.model).collect();
    (models, fired)
}

/// Units by equipment: one model per piece of equipment of the plant, its own indicators
/// only; at 99.9 % the four together stay within the plant target on normal operation and
/// still catch both faults within an hour.
#[test]
fn equipment_units_are_quiet_on_normal_operation_and_catch_both_faults() {
    let (models, fired) = equipment_monitor_firings("d00_te.dat");
    let units: Vec<&str> = models.iter().map(|m| m.unit.as_str()).collect();
    assert_eq!(
        units,
        [
            "33010299001-C-01",
            "33010299001-FEED",
            "33010299001-R-01",
            "33010299001-V-01"
        ]
    );
    assert_eq!(
        models.iter().map(|m| m.indicators.len()).sum::<usize>(),
        14,
        "every indicator in exactly one unit"
    );
    for m in &models {
        assert_eq!(m.model_id, format!("33010299001/{}", m.unit));
        m.validate().unwrap();
    }
    assert!(
        fired.len() <= 2,
        "{} firings in 48 h: {fired:?}",
        fired.len()
    );
    for run_file in ["d01_te.dat", "d06_te.dat"] {
        let (_, fired) = equipment_monitor_firings(run_file);
        assert_caught_within(run_file, &fired, 60.0);
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
    let line: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(&model)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    let version = line["value"]["data"]["version"].clone();
    let warnings = replayed_warnings(
        dir.path(),
        vec![model, run],
        "process/r18_process_monitor.sql",
    );
    for w in &warnings {
        // Which model said so: every record names it in its provenance.
        assert_eq!(
            w["models"],
            serde_json::json!([{"model_id": "33010299001/plant", "version": version}]),
            "{w}"
        );
    }
    firings(&warnings, "message")
}

#[test]
fn the_process_monitor_rule_is_quiet_on_normal_operation_and_catches_both_faults() {
    let normal = process_monitor_warnings("d00_te.dat");
    assert!(
        normal.len() <= 2,
        "{} warnings in 48 h: {normal:?}",
        normal.len()
    );
    for run_file in ["d01_te.dat", "d06_te.dat"] {
        let fired = process_monitor_warnings(run_file);
        assert_caught_within(run_file, &minutes(&fired), 60.0);
        let message = &fired[0].1;
        assert!(
            message.contains("T² from 33010299001-"),
            "names the indicators: {message}"
        );
    }
}

/// R19 with the learned baselines alone (the model's record left out, so no model covers the
/// indicators): when it fired, in minutes after the run's start, and on which indicator.
fn indicator_drift_warnings(run_file: &str) -> Vec<(f64, String)> {
    let dir = tempfile::tempdir().unwrap();
    let options = normal_training(dir.path());
    vigil::app::learn::run(&options).unwrap();
    let learned = std::fs::read_to_string(&options.out).unwrap();
    let baselines: String = learned
        .lines()
        .filter(|line| !line.contains(r#""entity":"monitor_model""#))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(baselines.lines().count(), 14, "one baseline per indicator");
    let baselines_file = dir.path().join("baselines.ndjson");
    std::fs::write(&baselines_file, baselines).unwrap();
    let run = tep_stream(dir.path(), run_file);
    let warnings = replayed_warnings(
        dir.path(),
        vec![baselines_file, run],
        "process/r19_indicator_drift.sql",
    );
    firings(&warnings, "subject")
}

/// Single indicators against their own baselines, no model: quiet for 48 h of normal
/// operation, and both faults caught within an hour.
#[test]
fn the_indicator_drift_rule_is_quiet_on_normal_operation_and_catches_both_faults() {
    let normal = indicator_drift_warnings("d00_te.dat");
    assert!(
        normal.len() <= 2,
        "{} warnings in 48 h: {normal:?}",
        normal.len()
    );
    for run_file in ["d01_te.dat", "d06_te.dat"] {
        let fired = indicator_drift_warnings(run_file);
        println!("{run_file}: {fired:?}");
        assert_caught_within(run_file, &minutes(&fired), 60.0);
    }
}

/// A missing or stale model is visible in a metric: a unit whose indicator stops reporting
/// while the rest of the plant goes on is counted silent (R18 cannot see anything there),
/// and the counters `/metrics` reads equal a walk of the state.
#[test]
fn a_unit_whose_indicator_stops_is_counted_silent() {
    let dir = tempfile::tempdir().unwrap();
    let options = normal_training(dir.path());
    vigil::app::learn::run(&options).unwrap();
    let run = tep_stream(dir.path(), "d00_te.dat");
    let text = std::fs::read_to_string(&run).unwrap();
    let stopped_after = EventTime::parse_rfc3339(START).unwrap().millis() + 24 * 3_600_000;
    let stopped: String = text
        .lines()
        .filter(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let r = &v["value"];
            let late = r["ts"]
                .as_str()
                .and_then(EventTime::parse_rfc3339)
                .is_some_and(|t| t.millis() >= stopped_after);
            !(v["topic"] == "sensor.reading" && r["target_code"] == "33010299001-PT007" && late)
        })
        .map(|line| format!("{line}\n"))
        .collect();
    assert!(
        stopped.len() < text.len(),
        "the indicator's readings were taken out"
    );
    let stopped_run = dir.path().join("stopped.ndjson");
    std::fs::write(&stopped_run, stopped).unwrap();

    let metrics = vigil::metrics::Metrics::new();
    for (input, silent) in [(&run, 0), (&stopped_run, 1)] {
        let replayed = common::replay_files(
            &[options.out.clone(), input.clone()],
            dir.path(),
            &Config::default(),
        );
        let size = replayed.store.size();
        assert_eq!(size, replayed.store.walk_size());
        assert_eq!(
            (
                size.monitor_units,
                size.silent_monitor_units,
                size.unmonitored_enterprises
            ),
            (1, silent, 0),
            "{input:?}"
        );
        metrics.set_state_size(&size);
        let rendered = metrics.render();
        assert!(
            rendered.contains(&format!(
                "vigil_monitor_units{{status=\"silent\"}} {silent}"
            )),
            "{rendered}"
        );
    }
    // Without the model, the enterprise is counted as unmonitored.
    let replayed = common::replay_files(&[run], dir.path(), &Config::default());
    let size = replayed.store.size();
    assert_eq!((size.monitor_units, size.unmonitored_enterprises), (0, 1));
}

/// `vigil learn` applies the state's physical check: a reading the engine would refuse (a
/// negative level in %) is left out and counted, and the model is the one learned without it.
#[test]
fn learn_leaves_out_physically_impossible_readings() {
    let dir = tempfile::tempdir().unwrap();
    let clean = normal_training(dir.path());
    let report = vigil::app::learn::run(&clean).unwrap();
    assert_eq!(report.implausible_readings, 0);
    let version = report.fitted[0].model.version.clone();
    let mut text = std::fs::read_to_string(&clean.inputs[0]).unwrap();
    // At a sample boundary, after the good reading of the same time: the sample's value.
    text += r#"{"topic":"sensor.reading","key":"33010299001","value":{"enterprise_id":"33010299001","target_code":"33010299001-LT008","ts":"2026-01-05T10:03:00.000Z","value":-5.0,"quality":"good","source":"edge"}}"#;
    text += "\n";
    let dirty = dir.path().join("dirty.ndjson");
    std::fs::write(&dirty, text).unwrap();
    let report = vigil::app::learn::run(&vigil::app::learn::LearnOptions::new(
        vec![dirty],
        dir.path().join("dirty_model.ndjson"),
    ))
    .unwrap();
    assert_eq!(report.invalid_lines, 0, "the reading decodes and validates");
    assert_eq!(report.implausible_readings, 1);
    assert_eq!(report.fitted[0].model.version, version);
}
