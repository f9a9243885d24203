//! The README documents every schema with an example. Each example must be applied by the
//! pipeline, and survive a round trip: decode → serialise the typed event → decode again.

mod common;

use serde::Serialize;
use serde_json::Value;
use vigil::config::Config;
use vigil::ingest::decode::decode;
use vigil::model::{Event, RegistryRecord, Topic};

fn readme_examples() -> Vec<Value> {
    let readme = include_str!("../README.md");
    readme
        .lines()
        .filter(|line| line.starts_with(r#"{"topic""#))
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

fn to_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("serialises")
}

fn reserialise(event: &Event<'_>) -> Vec<u8> {
    match event {
        Event::Registry(_) => unreachable!("registry records round-trip as RegistryRecord"),
        Event::SensorReading(e) => to_bytes(e),
        Event::SensorStatus(e) => to_bytes(e),
        Event::AlarmLifecycle(e) => to_bytes(e),
        Event::PermitEvent(e) => to_bytes(e),
        Event::GasAnalysis(e) => to_bytes(e),
        Event::CommitmentDaily(e) => to_bytes(e),
        Event::EnterpriseStatus(e) => to_bytes(e),
        Event::EnterpriseOps(e) => to_bytes(e),
        Event::StaffingSnapshot(e) => to_bytes(e),
        Event::TrainingRecord(e) => to_bytes(e),
        Event::InventoryLevel(e) => to_bytes(e),
        Event::RegionEpidemic(e) => to_bytes(e),
        Event::InspectionResult(e) => to_bytes(e),
        Event::WarningFeedback(e) => to_bytes(e),
    }
}

#[test]
fn every_topic_and_entity_has_an_example() {
    let examples = readme_examples();
    for topic in Topic::ALL {
        assert!(
            examples.iter().any(|e| e["topic"] == topic.name()),
            "no example for {topic}"
        );
    }
    for entity in [
        "enterprise",
        "hazard_unit",
        "equipment",
        "indicator",
        "area",
    ] {
        assert!(
            examples.iter().any(|e| e["value"]["entity"] == entity),
            "no example for {entity}"
        );
    }
}

#[test]
fn every_example_is_applied() {
    let lines: Vec<Vec<u8>> = readme_examples()
        .iter()
        .map(|e| e.to_string().into_bytes())
        .collect();
    let run = common::replay_lines(&lines, &Config::default());
    assert_eq!(run.summary.applied, lines.len() as u64, "{:?}", run.dead);
}

#[test]
fn every_example_round_trips() {
    for example in readme_examples() {
        let topic = Topic::from_name(example["topic"].as_str().unwrap()).unwrap();
        let bytes = example["value"].to_string().into_bytes();
        let event = decode(topic, &bytes).unwrap_or_else(|r| panic!("{r}: {example}"));
        if topic == Topic::Registry {
            let record: RegistryRecord = serde_json::from_slice(&bytes).unwrap();
            let again: RegistryRecord = serde_json::from_slice(&to_bytes(&record)).unwrap();
            assert_eq!(record, again);
            continue;
        }
        let again_bytes = reserialise(&event);
        let again = decode(topic, &again_bytes)
            .unwrap_or_else(|r| panic!("{r}: {}", String::from_utf8_lossy(&again_bytes)));
        assert_eq!(event, again, "{topic}");
    }
}

#[test]
fn epoch_milliseconds_and_rfc3339_are_the_same_time() {
    let rfc = br#"{"ts":"2020-03-01T08:00:00+08:00","enterprise_id":"33010200001","target_code":"X","value":1}"#;
    let ms = br#"{"ts":1583020800000,"enterprise_id":"33010200001","target_code":"X","value":1}"#;
    let (a, b) = (
        decode(Topic::SensorReading, rfc).unwrap(),
        decode(Topic::SensorReading, ms).unwrap(),
    );
    assert_eq!(a.event_time(), b.event_time());
}
