//! Warnings beyond the lifecycle (issue 5): feedback updates and closes them, R7 pushes an
//! unhandled one up the tiers on schedule, silences and inhibition suppress them (recorded,
//! not lost), a flood is summarised, a chattering point stays one warning, and every record
//! names its inputs. Each test replays generated input through the real rules.

mod common;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use vigil::config::Config;
use vigil::model::EventTime;
use vigil::warnings::warning_id;

const ENTERPRISE: &str = "33010200001";
/// 2020-03-02T00:00:00Z, where the fixtures' world starts.
const T0_MS: i64 = 1_583_107_200_000;

fn at(seconds: i64) -> EventTime {
    EventTime::from_millis(T0_MS + seconds * 1000)
}

fn code(suffix: &str) -> String {
    format!("{ENTERPRISE}-{suffix}")
}

fn reading(seconds: i64, indicator: &str, value: f64) -> Value {
    json!({"topic": "sensor.reading", "key": ENTERPRISE, "value": {
        "ts": at(seconds), "enterprise_id": ENTERPRISE, "target_code": code(indicator),
        "value": value, "quality": "good", "source": "edge"}})
}

fn feedback(seconds: i64, warning: &str, action: &str) -> Value {
    json!({"topic": "warning.feedback", "key": ENTERPRISE, "value": {
        "ts": at(seconds), "enterprise_id": ENTERPRISE, "warning_id": warning,
        "actor_org": "county-emergency-bureau", "action": action, "note": "on site"}})
}

fn gas_detector(suffix: &str) -> Value {
    json!({"topic": "registry", "key": ENTERPRISE, "value": {"entity": "indicator", "id": code(suffix),
        "data": {"target_code": code(suffix), "enterprise_id": ENTERPRISE, "kind": "flammable_gas",
                 "unit": "%LEL", "range_lo": 0, "range_hi": 100, "l1_hi": 25, "l2_hi": 50,
                 "expected_period_s": 10, "console_id": "C1", "area_id": "A-02"}}})
}

/// Readings of `indicator` every 10 s over `from .. to` seconds, valued by `value(t)`.
fn series(indicator: &str, from: i64, to: i64, value: impl Fn(i64) -> f64) -> Vec<Value> {
    (from..to)
        .step_by(10)
        .map(|t| reading(t, indicator, value(t)))
        .collect()
}

fn by_time(mut lines: Vec<Value>) -> Vec<Value> {
    lines.sort_by_key(|l| l["value"]["ts"].as_str().unwrap_or("").to_owned());
    lines
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Replays the fixtures' world, then `input` (or a fixture file), through `rules`; the
/// warning records written.
fn replay(config: &Config, rules: &[&str], input: Input) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let rules_dir = common::shipped_rules(dir.path(), rules);
    let input = match input {
        Input::Fixture(path) => repo("tests/fixtures/rules").join(path),
        Input::Lines(lines) => {
            let path = dir.path().join("input.ndjson");
            let text: Vec<String> = lines.iter().map(Value::to_string).collect();
            std::fs::write(&path, text.join("\n") + "\n").unwrap();
            path
        }
    };
    let inputs = vec![repo("tests/fixtures/rules/world.ndjson"), input];
    common::replay_warnings(config, inputs, rules_dir, dir.path())
}

enum Input {
    Fixture(&'static str),
    Lines(Vec<Value>),
}

fn of<'a>(records: &'a [Value], rule: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r["rule_id"] == rule).collect()
}

fn states(records: &[&Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| {
            format!(
                "{}@{}",
                r["state"].as_str().unwrap(),
                &r["at"].as_str().unwrap()[11..19]
            )
        })
        .collect()
}

#[test]
fn an_unacknowledged_warning_climbs_the_tiers_until_feedback_closes_it() {
    let leak = warning_id("r02_gas_leak", ENTERPRISE, &code("AT001"), at(60));
    // Level 1 from 00:01 to 01:50, back at 02:00; acknowledged at 01:40, resolved at 01:45.
    let mut lines = series("AT001", 60, 8_000, |t| {
        if (6_600..7_200).contains(&t) {
            5.0
        } else {
            30.0
        }
    });
    lines.push(feedback(6_000, &leak, "ack"));
    lines.push(feedback(6_300, &leak, "resolved"));
    let records = replay(
        &Config::default(),
        &[
            "gas/r02_gas_leak.sql",
            "warnings/r07_warning_not_handled.sql",
        ],
        Input::Lines(by_time(lines)),
    );

    let leaks = of(&records, "r02_gas_leak");
    assert_eq!(
        states(&leaks),
        [
            "firing@00:01:30",
            "updated@01:40:00",
            "resolved@01:45:00",
            "firing@02:00:30"
        ],
        "{leaks:#?}"
    );
    assert!(leaks[..3].iter().all(|r| r["id"] == leak.as_str()));
    assert_ne!(leaks[3]["id"], leak.as_str(), "a new episode, a new id");
    assert_eq!(leaks[1]["handling"]["action"], "ack");
    assert_eq!(leaks[1]["handling"]["actor_org"], "county-emergency-bureau");
    assert_eq!(leaks[2]["reason"], "feedback_resolved");
    assert!(leaks[2].get("resolved_at").is_some());

    // R7: orange is due in 30 min (from 00:01), the city at three times that; the warning
    // keeps its colour and resolves once acknowledged.
    let pushes = of(&records, "r07_warning_not_handled");
    assert_eq!(
        states(&pushes),
        ["firing@00:32:00", "escalated@01:32:00", "resolved@01:40:00"],
        "{pushes:#?}"
    );
    let tiers: Vec<&Value> = pushes.iter().map(|r| &r["tier"]).collect();
    assert_eq!(tiers, [&json!("county"), &json!("city"), &json!("city")]);
    assert!(pushes
        .iter()
        .all(|r| r["subject"] == leak.as_str() && r["color"] == "orange"));
}

/// Readings 5 s past every tenth second: each time the minute turns, the rule's one-minute
/// window is empty for the first ticks, the hit blinks, the warning stays firing (its
/// `clear_after`). R7 counts the warning's age, not the blinking hit's.
#[test]
fn a_warning_whose_condition_blinks_still_escalates_when_unanswered() {
    let lines = series("AT001", 65, 2_600, |_| 30.0);
    let records = replay(
        &Config::default(),
        &[
            "gas/r02_gas_leak.sql",
            "warnings/r07_warning_not_handled.sql",
        ],
        Input::Lines(lines),
    );
    let leaks = of(&records, "r02_gas_leak");
    assert_eq!(leaks.len(), 1, "one warning, firing throughout: {leaks:#?}");
    let pushes = of(&records, "r07_warning_not_handled");
    assert_eq!(
        states(&pushes),
        ["firing@00:32:05"],
        "due 30 min after the leak was first seen: {pushes:#?}"
    );
    assert_eq!(pushes[0]["subject"], leaks[0]["id"]);
}

#[test]
fn a_silence_records_the_warnings_it_covers_as_silenced() {
    let config = Config::from_toml(
        r#"
        [[warnings.silences]]
        rule_id = "r02_gas_leak"
        enterprise_id = "33010200001"
        starts_at = "2020-03-02T00:00:00Z"
        ends_at = "2020-03-03T00:00:00Z"
        created_by = "test"
        comment = "detector calibration"
        "#,
    )
    .unwrap();
    let records = replay(
        &config,
        &["gas/r02_gas_leak.sql"],
        Input::Fixture("r02_gas_leak/fires.ndjson"),
    );
    assert_eq!(records.len(), 5, "{records:#?}");
    for r in &records {
        assert_eq!(r["suppressed"]["by"], "silence", "{r:#?}");
    }
    let unsilenced = replay(
        &Config::default(),
        &["gas/r02_gas_leak.sql"],
        Input::Fixture("r02_gas_leak/fires.ndjson"),
    );
    assert!(unsilenced.iter().all(|r| r.get("suppressed").is_none()));
}

#[test]
fn a_corroborated_leak_inhibits_the_single_detector_warnings_it_contains() {
    let records = replay(
        &Config::default(),
        &["gas/r02_gas_leak.sql", "gas/r02_gas_leak_corroborated.sql"],
        Input::Fixture("r02_gas_leak_corroborated/fires.ndjson"),
    );
    let area = of(&records, "r02_gas_leak_corroborated");
    assert!(!area.is_empty(), "{records:#?}");
    assert!(area.iter().all(|r| r.get("suppressed").is_none()));
    let source = format!("corroborated_gas_leak: {}", area[0]["id"].as_str().unwrap());
    let singles = of(&records, "r02_gas_leak");
    // AT001 fired before the corroboration: it is marked inhibited when the area fires.
    let at001: Vec<&Value> = singles
        .iter()
        .copied()
        .filter(|r| r["subject"] == code("AT001"))
        .collect();
    assert_eq!(
        states(&at001),
        ["firing@00:01:30", "updated@00:02:00", "resolved@00:04:00"]
    );
    assert!(at001[0].get("suppressed").is_none());
    // AT002 fires inside the corroborated area: inhibited from the start.
    let at002: Vec<&Value> = singles
        .iter()
        .copied()
        .filter(|r| r["subject"] == code("AT002"))
        .collect();
    assert_eq!(states(&at002), ["firing@00:02:30", "resolved@00:05:00"]);
    for r in at001[1..].iter().chain(&at002) {
        assert_eq!(r["suppressed"]["by"], "inhibition", "{r:#?}");
        assert_eq!(r["suppressed"]["source"], source.as_str());
    }
}

#[test]
fn a_shut_down_enterprise_inhibits_its_process_limit_warnings() {
    let status = json!({"topic": "enterprise.state", "key": ENTERPRISE, "value": {
        "ts": at(30), "enterprise_id": ENTERPRISE, "production_state": "shutdown"}});
    let mut lines = vec![status];
    lines.extend(series("PT201", 60, 300, |_| 1.8));
    let records = replay(
        &Config::default(),
        &["process/r01_process_limit.sql"],
        Input::Lines(by_time(lines)),
    );
    let fired = of(&records, "r01_process_limit");
    assert!(!fired.is_empty(), "{records:#?}");
    assert_eq!(
        fired[0]["suppressed"]["source"],
        "enterprise_shut_down: production state shutdown"
    );
}

#[test]
fn a_flood_is_summarised_and_the_warnings_past_it_are_suppressed() {
    let detectors: Vec<String> = (1..=12).map(|i| format!("AT1{i:02}")).collect();
    let mut lines: Vec<Value> = detectors.iter().map(|d| gas_detector(d)).collect();
    let mut readings = Vec::new();
    for d in &detectors {
        // Level 1 from 00:01 to 00:05, then normal until 00:20.
        readings.extend(series(d, 60, 1_200, |t| if t < 300 { 30.0 } else { 2.0 }));
    }
    lines.extend(by_time(readings));
    let records = replay(
        &Config::default(),
        &["gas/r02_gas_leak.sql"],
        Input::Lines(lines),
    );

    let fired: Vec<&Value> = of(&records, "r02_gas_leak")
        .into_iter()
        .filter(|r| r["state"] == "firing")
        .collect();
    assert_eq!(fired.len(), 12, "one warning per detector: {records:#?}");
    let flood = of(&records, "r06_warning_flood");
    assert_eq!(
        states(&flood),
        ["firing@00:01:30", "resolved@00:11:30"],
        "{flood:#?}"
    );
    assert_eq!(flood[0]["color"], "yellow");
    let suppressed: Vec<&&Value> = fired
        .iter()
        .filter(|r| r["suppressed"]["by"] == "flood")
        .collect();
    assert_eq!(suppressed.len(), 2, "the 11th and 12th: {fired:#?}");
    assert!(suppressed
        .iter()
        .all(|r| r["suppressed"]["source"] == flood[0]["id"]));
}

#[test]
fn a_chattering_point_stays_one_warning_and_says_so() {
    // PT201 (H at 1.6 MPa) goes over, then flickers across the limit every 10 s for 50 s.
    let records = replay(
        &Config::default(),
        &["process/r01_process_limit.sql"],
        Input::Lines(series("PT201", 60, 600, |t| match t {
            60..150 => 1.7,
            150..250 if (t / 10) % 2 == 0 => 1.0,
            150..250 => 1.7,
            _ => 1.0,
        })),
    );
    let limit = of(&records, "r01_process_limit");
    assert_eq!(
        states(&limit).len(),
        2,
        "one firing, one resolution: {limit:#?}"
    );
    let resolved = limit[1];
    assert!(
        resolved["activations"].as_u64().unwrap() >= 3,
        "{resolved:#?}"
    );
    assert_eq!(resolved["chattering"], true);
}

#[test]
fn every_record_names_the_replay_lines_that_fed_it() {
    let records = replay(
        &Config::default(),
        &["gas/r02_gas_leak.sql"],
        Input::Fixture("r02_gas_leak/fires.ndjson"),
    );
    for r in &records {
        let inputs = r["inputs"].as_array().unwrap();
        let readings = inputs
            .iter()
            .find(|i| i["topic"] == "sensor.reading")
            .expect("readings");
        assert_eq!(readings["unit"], "lines");
        assert!(readings["first"].as_i64().unwrap() >= 1);
        assert!(readings["first"].as_i64() <= readings["last"].as_i64());
        assert_eq!(
            r["rule_version"].as_str().unwrap().len(),
            12,
            "a content hash"
        );
        assert!(
            r["evidence"]["readings_1m"].as_i64().unwrap() > 0,
            "window values"
        );
    }
}
