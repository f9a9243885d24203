//! Property tests of event time: for random readings with bounded disorder, the served
//! windows equal a brute-force recomputation over the accepted readings, and the late
//! readings are exactly those older than the partition's watermark when they arrived.

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use proptest::prelude::*;
use vigil::config::Config;
use vigil::ingest::{Outcome, Pipeline, Position, RecordRef};
use vigil::metrics::Metrics;
use vigil::model::EventTime;
use vigil::state::StateStore;

const ENTERPRISE: &str = "33010200001";
const TARGET: &str = "33010200001-LT001";
const LATENESS_MS: i64 = 10_000;

fn registry() -> String {
    format!(
        r#"{{"entity":"indicator","id":"{TARGET}","data":{{"target_code":"{TARGET}","enterprise_id":"{ENTERPRISE}","kind":"press","unit":"kPa","range_lo":0,"range_hi":100,"expected_period_s":10}}}}"#
    )
}

fn reading(ts: EventTime, value: f64) -> String {
    format!(
        r#"{{"ts":"{ts}","enterprise_id":"{ENTERPRISE}","target_code":"{TARGET}","value":{value}}}"#
    )
}

fn feed(pipeline: &mut Pipeline, topic: &str, payload: &str, line: u64) -> Outcome {
    let mut out = Vec::new();
    let record = RecordRef {
        topic,
        partition: 0,
        position: Position::Line(line),
        key: Some(ENTERPRISE.as_bytes()),
        payload: payload.as_bytes(),
    };
    pipeline.process(record, None, &mut out);
    out.remove(0).outcome
}

/// Readings that advance by `step` on average with up to `disorder` ms of jitter either way.
fn readings() -> impl Strategy<Value = Vec<(i64, i32)>> {
    prop::collection::vec((0i64..20_000, -30_000i64..30_000, -500i32..500), 1..400).prop_map(
        |steps| {
            let mut clock = 0i64;
            steps
                .into_iter()
                .map(|(step, jitter, value)| {
                    clock += step;
                    ((clock + jitter).max(0), value)
                })
                .collect()
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn windows_match_brute_force_and_late_is_exactly_behind_the_watermark(events in readings()) {
        let base = common::T0.millis();
        let store = Arc::new(StateStore::new(Default::default()));
        let mut pipeline = Pipeline::new(Arc::clone(&store), Config::default().ingest, Arc::new(Metrics::new()));
        prop_assert_eq!(feed(&mut pipeline, "registry", &registry(), 0), Outcome::Applied);

        let mut newest: Option<i64> = None;
        let mut seen = HashSet::new();
        let mut accepted: Vec<(i64, f64)> = Vec::new();
        for (i, (offset, value)) in events.iter().enumerate() {
            let ts = base + offset;
            let value = f64::from(*value) / 10.0;
            let outcome = feed(&mut pipeline, "sensor.reading", &reading(EventTime::from_millis(ts), value), i as u64 + 1);
            let watermark = newest.map(|n| n - LATENESS_MS);
            let expected_late = watermark.is_some_and(|w| ts < w);
            match outcome {
                Outcome::Late(_) => prop_assert!(expected_late, "ts {} wrongly late (watermark {:?})", ts, watermark),
                Outcome::Applied => {
                    prop_assert!(!expected_late, "ts {} should be late (watermark {:?})", ts, watermark);
                    prop_assert!(seen.insert(ts));
                    accepted.push((ts, value));
                    newest = Some(newest.map_or(ts, |n| n.max(ts)));
                }
                Outcome::Dead(letter) => {
                    prop_assert_eq!(letter.reason_code, "duplicate");
                    prop_assert!(seen.contains(&ts));
                }
                Outcome::Held => prop_assert!(false, "a registered indicator never waits"),
                Outcome::Deferred => prop_assert!(false, "without an engine nothing waits for a tick"),
            }
        }

        let now = newest.expect("the first reading is always accepted");
        let partition = store.partition(0);
        let state = partition.enterprises.get(ENTERPRISE).unwrap();
        let buckets = &state.indicators[TARGET].buckets;
        for minutes in [1i64, 5, 15, 60] {
            let end = now.div_euclid(60_000);
            let inside: Vec<&(i64, f64)> = accepted
                .iter()
                .filter(|(ts, _)| (end - minutes + 1..=end).contains(&ts.div_euclid(60_000)))
                .collect();
            let served = buckets.window(EventTime::from_millis(now), minutes as u32);
            if inside.is_empty() {
                prop_assert!(served.is_none());
                continue;
            }
            let served = served.expect("a window with readings");
            let first = inside.iter().min_by_key(|(ts, _)| *ts).unwrap();
            let last = inside.iter().max_by_key(|(ts, _)| *ts).unwrap();
            prop_assert_eq!(served.count, inside.len() as u64);
            prop_assert_eq!(served.min, inside.iter().map(|(_, v)| *v).fold(f64::INFINITY, f64::min));
            prop_assert_eq!(served.max, inside.iter().map(|(_, v)| *v).fold(f64::NEG_INFINITY, f64::max));
            prop_assert!((served.sum - inside.iter().map(|(_, v)| *v).sum::<f64>()).abs() < 1e-6);
            prop_assert_eq!((served.first_ts.millis(), served.first), **first);
            prop_assert_eq!((served.last_ts.millis(), served.last), **last);
        }
        // The one-pass form the rule tables use serves the same windows.
        let all = buckets.windows(EventTime::from_millis(now), [1, 5, 15, 60]);
        for (one_pass, minutes) in all.iter().zip([1, 5, 15, 60]) {
            let single = buckets.window(EventTime::from_millis(now), minutes);
            prop_assert_eq!(one_pass.is_some(), single.is_some());
            if let (Some(a), Some(b)) = (one_pass, single) {
                prop_assert!((a.sum - b.sum).abs() < 1e-6);
                prop_assert_eq!(vigil::state::WindowAgg { sum: b.sum, ..*a }, b);
            }
        }
    }
}
