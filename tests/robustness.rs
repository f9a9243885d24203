//! Bad input never panics and never disappears: for arbitrary bytes and for valid records
//! mutated at random, the pipeline gives every record exactly one disposition.

mod common;

use std::sync::Arc;

use proptest::prelude::*;
use vigil::config::Config;
use vigil::ingest::{Outcome, Pipeline, Position, RecordRef};
use vigil::metrics::Metrics;
use vigil::model::Topic;
use vigil::state::StateStore;

fn pipeline() -> Pipeline {
    let store = Arc::new(StateStore::new(Default::default()));
    Pipeline::new(store, Config::default().ingest, Arc::new(Metrics::new()))
}

fn process(
    pipeline: &mut Pipeline,
    topic: &str,
    key: Option<&[u8]>,
    payload: &[u8],
) -> Vec<Outcome> {
    let mut out = Vec::new();
    let record = RecordRef {
        topic,
        partition: 0,
        position: Position::Offset(0),
        key,
        payload,
    };
    pipeline.process(record, Some(1_600_000_000_000), &mut out);
    out.into_iter().map(|d| d.outcome).collect()
}

/// A valid example of every topic (from the README), to mutate.
fn examples() -> Vec<(String, String, Vec<u8>)> {
    include_str!("../README.md")
        .lines()
        .filter(|l| l.starts_with(r#"{"topic""#))
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["topic"].as_str().unwrap().to_owned(),
                v["key"].as_str().unwrap().to_owned(),
                v["value"].to_string().into_bytes(),
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn arbitrary_bytes_on_any_topic_are_dead_lettered(topic in 0usize..16, payload in prop::collection::vec(any::<u8>(), 0..300)) {
        let name = Topic::ALL.get(topic).map_or("no.such.topic", |t| t.name());
        let outcomes = process(&mut pipeline(), name, Some(b"33010200001"), &payload);
        prop_assert_eq!(outcomes.len(), 1);
        prop_assert!(matches!(outcomes[0], Outcome::Dead(_) | Outcome::Applied | Outcome::Held));
    }

    #[test]
    fn mutated_records_get_exactly_one_disposition(index in 0usize..20, cut in 0usize..400, byte in any::<u8>(), at in 0usize..400) {
        let examples = examples();
        let (topic, key, mut payload) = examples[index % examples.len()].clone();
        if !payload.is_empty() {
            let at = at % payload.len();
            payload[at] = byte;
        }
        payload.truncate(cut.max(1));
        let outcomes = process(&mut pipeline(), &topic, Some(key.as_bytes()), &payload);
        prop_assert_eq!(outcomes.len(), 1);
    }
}
