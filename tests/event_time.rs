//! Event-time robustness (issue 13): a backdated first record does not freeze its partition,
//! one enterprise's fast clock does not make its neighbours late, readings fetched ahead do not
//! make alarms late, and a stalled partition does not stop the engine clock.

use std::sync::Arc;

use vigil::config::Config;
use vigil::ingest::{Outcome, Pipeline, Position, RecordRef};
use vigil::metrics::Metrics;
use vigil::model::EventTime;
use vigil::state::StateStore;

/// 2020-03-01T08:00:00Z.
const T: i64 = 1_583_049_600_000;
const HOUR: i64 = 3_600_000;

fn enterprise(i: usize) -> String {
    format!("3301020{i:04}")
}

fn target(i: usize) -> String {
    format!("{}-PT001", enterprise(i))
}

struct Feed {
    pipeline: Pipeline,
    offset: i64,
    /// `Some(wall)`: fed as the Kafka ingest does, with the wall clock; `None`: a replay.
    wall_ms: Option<i64>,
}

impl Feed {
    fn new(enterprises: usize, wall_ms: Option<i64>) -> Self {
        let store = Arc::new(StateStore::new(Default::default()));
        let pipeline = Pipeline::new(store, Config::default().ingest, Arc::new(Metrics::new()));
        let mut feed = Feed {
            pipeline,
            offset: 0,
            wall_ms,
        };
        for i in 0..enterprises {
            for partition in [0, 1] {
                let (e, t) = (enterprise(i), target(i));
                let registry = format!(
                    r#"{{"entity":"indicator","id":"{t}","data":{{"target_code":"{t}","enterprise_id":"{e}","kind":"press","unit":"kPa","range_lo":0,"range_hi":100,"expected_period_s":10}}}}"#
                );
                assert_eq!(
                    feed.send("registry", partition, i, &registry),
                    Outcome::Applied
                );
            }
        }
        feed
    }

    fn send(&mut self, topic: &str, partition: i32, i: usize, payload: &str) -> Outcome {
        let key = enterprise(i);
        let record = RecordRef {
            topic,
            partition,
            position: Position::Offset(self.offset),
            key: Some(key.as_bytes()),
            payload: payload.as_bytes(),
        };
        self.offset += 1;
        let mut out = Vec::new();
        self.pipeline.process(record, self.wall_ms, &mut out);
        out.remove(0).outcome
    }

    fn reading(&mut self, partition: i32, i: usize, ts: i64) -> Outcome {
        let (e, t, at) = (enterprise(i), target(i), EventTime::from_millis(ts));
        let payload =
            format!(r#"{{"ts":"{at}","enterprise_id":"{e}","target_code":"{t}","value":1.5}}"#);
        self.send("sensor.reading", partition, i, &payload)
    }

    fn alarm(&mut self, partition: i32, i: usize, ts: i64) -> Outcome {
        let (e, t, at) = (enterprise(i), target(i), EventTime::from_millis(ts));
        let payload = format!(
            r#"{{"ts":"{at}","enterprise_id":"{e}","alarm_id":"A-{ts}","target_code":"{t}","transition":"raise","level":"h","value":90,"threshold":80,"origin":"enterprise_dcs"}}"#
        );
        self.send("alarm.lifecycle", partition, i, &payload)
    }

    fn clock(&self) -> Option<i64> {
        self.pipeline
            .clock_report(self.wall_ms.unwrap_or(0))
            .now
            .map(|t| t.millis())
    }
}

fn assert_applied(outcome: Outcome, what: &str) {
    assert_eq!(outcome, Outcome::Applied, "{what}");
}

#[test]
fn a_first_record_three_hours_old_does_not_freeze_a_live_partition() {
    let mut feed = Feed::new(4, Some(T + 1_000));
    assert_applied(
        feed.reading(0, 0, T - 3 * HOUR),
        "the backdated first record",
    );
    for (n, ts) in (T - 60_000..T).step_by(1_000).enumerate() {
        assert_applied(feed.reading(0, 1 + n % 3, ts), "every record after it");
    }
    let clock = feed.clock().expect("the engine clock runs");
    assert!(
        clock >= T - 15_000,
        "rules keep ticking near the stream's time: {clock}"
    );
}

#[test]
fn a_first_record_three_hours_old_does_not_freeze_a_replay() {
    let mut feed = Feed::new(4, None);
    assert_applied(
        feed.reading(0, 0, T - 3 * HOUR),
        "the backdated first record",
    );
    for (n, ts) in (T - 60_000..T).step_by(1_000).enumerate() {
        assert_applied(feed.reading(0, 1 + n % 3, ts), "every record after it");
    }
    assert!(feed.clock().is_some_and(|c| c >= T - 15_000));
}

#[test]
fn a_record_far_ahead_of_its_neighbours_is_refused_live_too() {
    // Historical data through Kafka: the wall clock is years ahead, so only the neighbours
    // can tell that a record is two days in the future.
    let mut feed = Feed::new(4, Some(T + 5 * 365 * 24 * HOUR));
    for i in 0..4 {
        assert_applied(feed.reading(0, i, T), "the neighbours");
    }
    match feed.reading(0, 0, T + 48 * HOUR) {
        Outcome::Dead(letter) => assert_eq!(letter.reason_code, "timestamp_in_future"),
        other => panic!("{other:?}"),
    }
    assert_applied(feed.reading(0, 1, T + 1_000), "the clock did not jump");
}

#[test]
fn one_reading_four_minutes_ahead_makes_no_neighbour_late() {
    for wall_ms in [Some(T), None] {
        let mut feed = Feed::new(6, wall_ms);
        for i in 0..6 {
            assert_applied(feed.reading(0, i, T - 10_000), "warm-up");
        }
        assert_applied(
            feed.reading(0, 0, T + 240_000),
            "the fast gateway's reading",
        );
        for i in 1..6 {
            assert_applied(
                feed.reading(0, i, T - 5_000),
                "a neighbour one reading later",
            );
        }
    }
}

#[test]
fn readings_fetched_ahead_do_not_make_the_partitions_alarms_late() {
    let mut feed = Feed::new(3, None);
    for ts in (T..T + 600_000).step_by(10_000) {
        for i in 0..3 {
            assert_applied(feed.reading(0, i, ts), "readings");
        }
    }
    for i in 0..3 {
        assert_applied(
            feed.alarm(0, i, T + 60_000 + i as i64),
            "an alarm of minute one",
        );
    }
    let late = feed.reading(0, 0, T + 60_000);
    assert!(
        matches!(late, Outcome::Late(_)),
        "readings are still judged against readings"
    );
}

/// Issue 20: watermarks are aligned, as Flink's are. A partition an hour behind that still
/// delivers holds the engine clock back (the one ahead is paused at the source instead): a
/// tick never runs before the records it covers are in.
#[test]
fn a_partition_an_hour_behind_holds_the_engine_clock_back() {
    let mut feed = Feed::new(2, Some(T + 1_000));
    for ts in (T - 120_000..T).step_by(5_000) {
        assert_applied(feed.reading(0, 0, ts), "the live partition");
        assert_applied(feed.reading(1, 1, ts - HOUR), "the partition behind");
    }
    let report = feed.pipeline.clock_report(T + 1_000);
    assert_eq!((report.active, report.idle), (2, 0), "{report:?}");
    assert_eq!(feed.clock(), Some(T - 5_000 - HOUR - 10_000));
}

/// Issue 19, item 2: readings of five enterprises, four each, corrupted far into the future
/// and spread over the stream; the good records around them are judged as if they were not
/// there. `future` is how far ahead the corrupt times are.
fn far_future_pattern(wall_ms: Option<i64>, future: i64) {
    let mut feed = Feed::new(12, wall_ms);
    let (mut late, mut refused) = (0, 0);
    for (n, ts) in (T..T + 1_200_000).step_by(10_000).enumerate() {
        for i in 0..12 {
            let corrupt = i < 5 && n % 30 == 7 + i;
            let at = if corrupt { ts + future } else { ts };
            match feed.reading(0, i, at) {
                Outcome::Applied => assert!(!corrupt, "a corrupt reading was accepted at {n}"),
                Outcome::Late(_) => late += 1,
                Outcome::Dead(letter) => {
                    assert_eq!(letter.reason_code, "timestamp_in_future");
                    assert!(
                        corrupt,
                        "a good reading was refused at {n}: {}",
                        letter.reason
                    );
                    refused += 1;
                }
                Outcome::Held | Outcome::Deferred => panic!("held"),
            }
        }
    }
    assert_eq!(
        (late, refused),
        (0, 20),
        "no good record late, every corrupt one refused"
    );
}

#[test]
fn readings_dated_2096_do_not_make_a_replay_late() {
    far_future_pattern(None, 76 * 365 * 24 * HOUR);
}

#[test]
fn readings_dated_2096_do_not_make_live_input_late() {
    // A backlog read live: the wall clock a day past the stream.
    far_future_pattern(Some(T + 24 * HOUR), 76 * 365 * 24 * HOUR);
}

#[test]
fn readings_a_month_ahead_of_historical_input_do_not_make_it_late() {
    // Historical data: the wall clock is years ahead, so only the neighbours can tell.
    far_future_pattern(Some(T + 5 * 365 * 24 * HOUR), 30 * 24 * HOUR);
    far_future_pattern(None, 30 * 24 * HOUR);
}
