//! Issue 6: the enterprise risk index through the real pipeline. DOMAIN.md (d)'s worked
//! example, replayed: diag score 72, a level-2 hazard source, two H alarms, one SPECIAL and one
//! L1 hot job under way, starting up, in a MEDIUM-epidemic county, on a weekday morning:
//! ERI = 20.6 + 1.1 × 11 = 32.7, yellow. With R8 running, the special job (no gas analysis
//! before it started) adds 3 and a red-warning floor: 36.0, orange.

mod common;

use std::path::Path;

use serde_json::Value;
use vigil::config::Config;

const ENTERPRISE: &str = "33010200901";

fn fixture() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/risk/worked_example.ndjson")
}

/// Replays the worked example with these rule files; returns its risk records.
fn replay_risk(work: &Path, rules: &[&str]) -> Vec<Value> {
    replay_risk_with(work, rules, &[])
}

/// The same, with more input files after the worked example.
fn replay_risk_with(work: &Path, rules: &[&str], more: &[&str]) -> Vec<Value> {
    let mut inputs = vec![fixture()];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/risk");
    inputs.extend(more.iter().map(|m| dir.join(m)));
    let dir = common::shipped_rules(work, rules);
    let out = work.join("risk.ndjson");
    vigil::app::replay::run(
        &Config::default(),
        &vigil::app::replay::ReplayOptions {
            inputs,
            rules: Some(dir),
            risk_out: Some(out.clone()),
            snapshot_out: Some(work.join("snapshot.json")),
            ..Default::default()
        },
    )
    .expect("the replay runs");
    common::parse_ndjson(&std::fs::read(out).expect("risk output"))
        .into_iter()
        .filter(|r| r["enterprise_id"] == ENTERPRISE)
        .collect()
}

#[test]
fn the_worked_example_scores_32_7_and_is_yellow() {
    let work = tempfile::tempdir().unwrap();
    let records = replay_risk(work.path(), &[]);
    let last = records.last().expect("a risk record");
    assert_eq!(last["eri"], 32.7, "{last:#}");
    assert_eq!(last["color"], "yellow");
    let terms = &last["terms"];
    assert_eq!(terms["inherent"], 20.6);
    assert_eq!(
        (
            &terms["alarms"],
            &terms["special_work"],
            &terms["operations"]
        ),
        (&Value::from(2.0), &Value::from(5.0), &Value::from(4.0))
    );
    assert_eq!(terms["dynamic"], 11.0);
    assert_eq!(terms["management"], 0.0);
    assert_eq!(terms["context"], 1.1);
    // The inputs behind each term are on the record.
    let inputs = &last["inputs"];
    assert_eq!(inputs["inherent"]["static_diag_score"], 72.0);
    assert_eq!(inputs["inherent"]["max_hazard_level"], 2);
    assert_eq!(inputs["alarms"]["active_h_l"], 2);
    assert_eq!(inputs["special_work"]["hot_special"], 1);
    assert_eq!(inputs["special_work"]["hot_l1"], 1);
    assert_eq!(inputs["operations"]["production_state"], "startup");
    assert_eq!(inputs["context"]["epidemic"], "medium");
    // Records are published on change: the index rose as the events came in.
    let eris: Vec<f64> = records.iter().map(|r| r["eri"].as_f64().unwrap()).collect();
    assert!(eris.windows(2).all(|w| w[0] <= w[1]), "{eris:?}");
    assert!(eris.len() >= 3, "{eris:?}");
}

#[test]
fn an_r8_violation_on_the_special_job_adds_3_and_a_red_warning_floor_making_it_orange() {
    let work = tempfile::tempdir().unwrap();
    let records = replay_risk(work.path(), &["permits/r08_hot_work_analysis_gap.sql"]);
    let last = records.last().expect("a risk record");
    assert_eq!(last["terms"]["special_work"], 8.0, "{last:#}");
    assert_eq!(last["eri"], 36.0);
    assert_eq!(last["band"], "yellow");
    assert_eq!(last["floor"]["reason"], "red_warning");
    assert_eq!(last["color"], "orange");
    assert_eq!(last["inputs"]["special_work"]["violations"], 1);

    // The snapshot for `vigil enforce` carries the enterprise's hot work with its violation.
    let snapshot: Value =
        serde_json::from_slice(&std::fs::read(work.path().join("snapshot.json")).unwrap()).unwrap();
    let view = snapshot["enterprises"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["risk"]["enterprise_id"] == ENTERPRISE)
        .expect("the enterprise is in the snapshot");
    let hot: Vec<(&str, u64)> = view["facts"]["hot_work"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["permit_id"].as_str().unwrap(),
                p["open_violations"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(hot, vec![("HW-1", 0), ("HW-S", 1)]);
}

#[test]
fn an_inspection_result_closes_the_loop_into_the_index_and_the_county() {
    // On-site inspection at 02:15 finds one MAJOR_HIDDEN and one GENERAL hidden hazard, to be
    // rectified by 02:20; by 02:30 nothing is rectified: M = 5 (major past due) + 3 (last
    // inspection's findings open) = 8, so ERI = 20.6 + 1.1 × (11 + 8) = 41.5.
    let work = tempfile::tempdir().unwrap();
    let records = replay_risk_with(work.path(), &[], &["inspection_overdue.ndjson"]);
    let last = records.last().expect("a risk record");
    assert_eq!(
        last["inputs"]["management"]["major_hidden_overdue"], 1,
        "{last:#}"
    );
    assert_eq!(last["inputs"]["management"]["failed_inspection_open"], true);
    assert_eq!(last["terms"]["management"], 8.0);
    assert_eq!(last["eri"], 41.5);
    assert_eq!(last["color"], "yellow");

    let snapshot: Value =
        serde_json::from_slice(&std::fs::read(work.path().join("snapshot.json")).unwrap()).unwrap();
    let facts = &snapshot["enterprises"][0]["facts"];
    assert_eq!(facts["inspections"][0]["inspection_id"], "INS-1");
    assert_eq!(facts["inspections"][0]["findings_major"], 1);
    assert_eq!(facts["last_inspected_at"], "2026-03-10T02:15:00.000Z");
    // The county: nothing due was rectified (closure 0 of 15); one yellow enterprise of one.
    let county = &snapshot["counties"][0];
    assert_eq!(county["region_id"], "330102");
    assert_eq!(county["inputs"]["findings_due_weight"], 4.0);
    assert_eq!(county["inputs"]["findings_closed_weight"], 0.0);
    assert_eq!(county["components"]["rectification"], 0.0);
    assert_eq!(county["components"]["outcome"], 15.0);
    assert_eq!(county["enterprises_by_color"]["yellow"], 1);
}
