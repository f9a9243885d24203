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
