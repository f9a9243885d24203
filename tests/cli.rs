//! The `vigil` binary as users call it: `replay` over a file with every kind of corruption
//! accounts for every line and exits 0; an unusable invocation exits non-zero; `config`.

mod common;

use std::process::Command;

use common::*;
use serde_json::Value;

fn vigil() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
}

#[test]
fn replay_accounts_for_every_line_and_writes_its_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let lines = mixed_input(&province(), 9, 1_000);
    let input = dir.path().join("input.ndjson");
    std::fs::write(&input, lines.join(&b'\n')).unwrap();
    let (dlq, late, summary) = (
        dir.path().join("dlq.ndjson"),
        dir.path().join("late.ndjson"),
        dir.path().join("summary.json"),
    );
    let output = vigil()
        .args(["replay", "--input"])
        .arg(&input)
        .arg("--dlq-out")
        .arg(&dlq)
        .arg("--late-out")
        .arg(&late)
        .arg("--summary-out")
        .arg(&summary)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: Value = serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    let dead: u64 = summary["dead"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    let (read, applied, late_n) = (
        summary["read"].as_u64().unwrap(),
        summary["applied"].as_u64().unwrap(),
        summary["late"].as_u64().unwrap(),
    );
    assert_eq!(read, lines.len() as u64);
    assert_eq!(read, applied + dead + late_n);
    assert!(
        summary["dead"].as_object().unwrap().len() >= 20,
        "{summary}"
    );
    assert_eq!(
        parse_ndjson(&std::fs::read(&dlq).unwrap()).len() as u64,
        dead
    );
    assert_eq!(
        parse_ndjson(&std::fs::read(&late).unwrap()).len() as u64,
        late_n
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains(&format!("read {read}")), "{stdout}");
}

#[test]
fn replay_of_a_missing_file_is_an_error() {
    let output = vigil()
        .args(["replay", "--input", "/nonexistent/input.ndjson"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/input.ndjson"));
}

#[test]
fn config_default_prints_a_config_that_loads() {
    let output = vigil().args(["config", "default"]).output().unwrap();
    assert!(output.status.success());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vigil.toml");
    std::fs::write(&path, &output.stdout).unwrap();
    let shown = vigil()
        .arg("--config")
        .arg(&path)
        .args(["config", "show"])
        .output()
        .unwrap();
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
}

#[test]
fn an_unknown_config_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vigil.toml");
    std::fs::write(&path, "[ingest]\nlateness = \"5s\"\n").unwrap();
    let output = vigil()
        .arg("--config")
        .arg(&path)
        .args(["config", "show"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("lateness"));
}

#[test]
fn config_show_does_not_print_the_api_token() {
    let output = vigil()
        .args(["config", "show"])
        .env("VIGIL__WARNINGS__API_TOKEN", "s3cret-token")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(!shown.contains("s3cret-token"), "{shown}");
    assert!(shown.contains("api_token = \"<redacted>\""), "{shown}");
}

fn rule_fixture(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/rules")
        .join(path)
}

#[test]
fn rules_check_passes_the_shipped_rules_and_names_the_line_of_a_broken_one() {
    let queries = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    let output = vigil()
        .args(["rules", "check"])
        .arg(&queries)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("r02_gas_leak"), "{stdout}");

    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        queries.join("gas/r02_gas_leak.sql"),
        dir.path().join("r02_gas_leak.sql"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("bad.sql"),
        "-- id: r01_bad\n-- title: t\n-- severity: red\n-- basis: b\nSELECT enterprise_id, subject FROM nowhere\n",
    )
    .unwrap();
    let output = vigil()
        .args(["rules", "check"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success());
    assert!(stdout.contains("bad.sql:5:"), "{stdout}");
    assert!(stdout.contains("nowhere"), "{stdout}");
    assert!(
        stdout.contains("ok   "),
        "the good file is still reported: {stdout}"
    );
}

#[test]
fn replay_with_rules_ends_with_a_per_rule_report() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    let queries = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    std::fs::copy(queries.join("gas/r02_gas_leak.sql"), rules.join("a.sql")).unwrap();
    std::fs::copy(
        queries.join("data_quality/r03_point_offline.sql"),
        rules.join("b.sql"),
    )
    .unwrap();
    let (summary, hits) = (
        dir.path().join("summary.json"),
        dir.path().join("hits.ndjson"),
    );
    let output = vigil()
        .args(["replay", "--input"])
        .arg(rule_fixture("world.ndjson"))
        .arg("--input")
        .arg(rule_fixture("r02_gas_leak/fires.ndjson"))
        .arg("--rules")
        .arg(&rules)
        .arg("--hits-out")
        .arg(&hits)
        .arg("--summary-out")
        .arg(&summary)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with("r02_gas_leak "))
        .unwrap_or_else(|| panic!("no report line: {stdout}"));
    let columns: Vec<&str> = line.split_whitespace().collect();
    let hit_count: u64 = columns[1].parse().unwrap();
    let warnings: u64 = columns[2].parse().unwrap();
    assert!(hit_count > warnings && warnings >= 2, "{line}");
    assert!(stdout.contains("r03_point_offline"), "{stdout}");
    let written = std::fs::read_to_string(&hits).unwrap();
    assert_eq!(
        written
            .lines()
            .filter(|l| l.contains("r02_gas_leak"))
            .count() as u64,
        hit_count
    );
    let summary: Value = serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    assert!(
        summary["warnings"]["orange"].as_u64().unwrap() >= 1,
        "{summary}"
    );

    // A rule that cannot run makes the invocation unusable.
    std::fs::write(rules.join("c.sql"), "-- id: r01_x\nSELECT 1\n").unwrap();
    let output = vigil()
        .args(["replay", "--input"])
        .arg(rule_fixture("world.ndjson"))
        .arg("--rules")
        .arg(&rules)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("c.sql:1"));
}

#[test]
fn sim_writes_a_stream_and_its_truth_that_replay_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let (out, truth) = (
        dir.path().join("sim.ndjson"),
        dir.path().join("truth.ndjson"),
    );
    let output = vigil()
        .args([
            "sim",
            "--seed",
            "3",
            "--enterprises",
            "5",
            "--duration",
            "900",
        ])
        .args(["--scenario", "gas-leak,sensor-offline", "--out"])
        .arg(&out)
        .arg("--truth-out")
        .arg(&truth)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("2 scenarios injected"));
    let truth = parse_ndjson(&std::fs::read(&truth).unwrap());
    let rules: Vec<&str> = truth
        .iter()
        .map(|t| t["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["r02_gas_leak", "r03_point_offline"]);
    let summary = dir.path().join("summary.json");
    let replay = vigil()
        .args(["replay", "--input"])
        .arg(&out)
        .arg("--summary-out")
        .arg(&summary)
        .output()
        .unwrap();
    assert!(replay.status.success());
    let summary: Value = serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    assert_eq!(
        summary["read"], summary["applied"],
        "every simulated record is valid: {summary}"
    );
}

#[test]
fn sim_needs_a_file_or_a_broker() {
    let output = vigil().args(["sim", "--seed", "1"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--out") && stderr.contains("--brokers"),
        "{stderr}"
    );
}

/// Issue 19, item 3: rules are never silently absent. `vigil run` with a rules directory that
/// does not exist, or holds no rule, stops at start naming it (before it needs a broker);
/// `vigil rules check` refuses both; `vigil replay --rules` refuses a missing one (an empty
/// one is a risk-only backtest).
#[test]
fn a_missing_or_empty_rules_directory_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let input = dir.path().join("input.ndjson");
    std::fs::write(&input, registry_lines(&province()).join(&b'\n')).unwrap();
    for (rules, replay_code) in [(dir.path().join("missing"), 2), (empty, 0)] {
        let config = dir.path().join("vigil.toml");
        std::fs::write(
            &config,
            format!(
                "[kafka]\nbrokers = \"127.0.0.1:1\"\n[api]\naddr = \"127.0.0.1:0\"\n[rules]\ndir = \"{}\"\n[checkpoint]\nurl = \"{}\"\n",
                rules.display(),
                dir.path().join("cp").display()
            ),
        )
        .unwrap();
        let run = vigil()
            .arg("--config")
            .arg(&config)
            .arg("run")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(!run.status.success(), "{stderr}");
        assert!(
            stderr.contains("no rule runs from") && stderr.contains(&*rules.to_string_lossy()),
            "{stderr}"
        );
        let check = vigil()
            .args(["rules", "check"])
            .arg(&rules)
            .output()
            .unwrap();
        assert!(!check.status.success(), "rules check {}", rules.display());
        let replay = vigil()
            .args(["replay", "--input"])
            .arg(&input)
            .arg("--rules")
            .arg(&rules)
            .output()
            .unwrap();
        assert_eq!(
            replay.status.code(),
            Some(replay_code),
            "replay --rules {}",
            rules.display()
        );
    }
}

/// `vigil learn` as the README gives it: a TEP normal run in, a model out, a check reported;
/// input with nothing to learn from, or a confidence of 1, is refused with a non-zero exit.
#[test]
fn learn_writes_a_model_and_reports_its_check() {
    let dir = tempfile::tempdir().unwrap();
    let tep = |run: &str| {
        let out = dir.path().join(format!("{run}.ndjson"));
        let fixture = |f: &str| format!("{}/tests/fixtures/tep/{f}", env!("CARGO_MANIFEST_DIR"));
        let status = vigil()
            .args([
                "sim",
                "--tep",
                &fixture(run),
                "--tep-train",
                &fixture("d00.dat"),
                "--out",
            ])
            .arg(&out)
            .status()
            .unwrap();
        assert!(status.success());
        out
    };
    let (normal, heldout, model) = (
        tep("d00.dat"),
        tep("d00_te.dat"),
        dir.path().join("m.ndjson"),
    );
    let output = vigil()
        .args(["learn", "--input"])
        .arg(&normal)
        .arg("--out")
        .arg(&model)
        .arg("--check")
        .arg(&heldout)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("33010299001/plant: 14 indicators"),
        "{stdout}"
    );
    assert!(
        stdout.contains("check 33010299001/plant: 960 samples"),
        "{stdout}"
    );
    assert!(stdout.contains("14 indicator baseline(s)"), "{stdout}");
    let written = std::fs::read_to_string(&model).unwrap();
    let entities: Vec<String> = written
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["value"]["entity"].to_string()
        })
        .collect();
    assert_eq!(entities.len(), 15, "one model and 14 baselines");
    assert_eq!(entities[0], r#""monitor_model""#);
    assert!(entities[1..].iter().all(|e| e == r#""indicator_baseline""#));

    // One model per piece of equipment.
    let output = vigil()
        .args(["learn", "--units", "equipment", "--input"])
        .arg(&normal)
        .arg("--out")
        .arg(&model)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    assert!(
        stdout.contains("33010299001/33010299001-R-01: 3 indicators"),
        "{stdout}"
    );
    let output = vigil()
        .args(["learn", "--units", "site", "--input"])
        .arg(&normal)
        .arg("--out")
        .arg(&model)
        .output()
        .unwrap();
    assert!(
        !output.status.success(),
        "an unknown unit grouping is refused"
    );

    let empty = dir.path().join("empty.ndjson");
    std::fs::write(&empty, "not json\n").unwrap();
    let output = vigil()
        .args(["learn", "--input"])
        .arg(&empty)
        .arg("--out")
        .arg(&model)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no model fitted"));
    let output = vigil()
        .args(["learn", "--confidence", "1", "--input"])
        .arg(&normal)
        .arg("--out")
        .arg(&model)
        .output()
        .unwrap();
    assert!(!output.status.success());
}
