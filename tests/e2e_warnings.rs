//! Warnings end to end through Kafka (issue 5): the gas-leak fixture produced to librdkafka's
//! mock cluster and consumed by the engine gives on `vigil.warnings` exactly the records the
//! replay of the same input gives (same ids, states, times), keyed by warning id, and nothing
//! more once the stream goes quiet. The risk records on the compacted `vigil.risk` (issue 6)
//! are keyed by enterprise and end where the replay's `--risk-out` ends.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::Message;
use serde_json::Value;
use vigil::api::StatusReport;
use vigil::app::mock_cluster::MockKafka;
use vigil::app::Engine;
use vigil::config::Config;

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/rules")
        .join(path)
}

fn inputs() -> Vec<PathBuf> {
    vec![
        fixture("world.ndjson"),
        fixture("r02_gas_leak/fires.ndjson"),
    ]
}

fn gas_rule_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let rule = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/gas/r02_gas_leak.sql");
    std::fs::copy(rule, dir.path().join("r02_gas_leak.sql")).unwrap();
    dir
}

/// The replay's warning records and its last risk record per enterprise.
fn replayed_warnings(rules: &Path) -> (Vec<Value>, BTreeMap<String, Value>) {
    let work = tempfile::tempdir().unwrap();
    let risk_out = work.path().join("risk.ndjson");
    let warnings_out = work.path().join("warnings.ndjson");
    vigil::app::replay::run(
        &Config::default(),
        &vigil::app::replay::ReplayOptions {
            inputs: inputs(),
            rules: Some(rules.to_owned()),
            warnings_out: Some(warnings_out.clone()),
            risk_out: Some(risk_out.clone()),
            ..Default::default()
        },
    )
    .expect("the replay runs");
    let warnings = common::parse_ndjson(&std::fs::read(warnings_out).unwrap());
    let risk = common::parse_ndjson(&std::fs::read(risk_out).unwrap());
    (
        warnings,
        last_per_enterprise(
            risk.into_iter()
                .map(|r| (r["enterprise_id"].as_str().unwrap().to_owned(), r)),
        ),
    )
}

/// The last record per enterprise, without the time-weighted offline share: that samples the
/// state at each tick, and live the world's records of different topics interleave in another
/// order than the file's (Kafka orders a topic's partition, not topics), so the samples taken
/// while the world is applied differ. Every term, the index and the colour must still agree.
fn last_per_enterprise(
    records: impl IntoIterator<Item = (String, Value)>,
) -> BTreeMap<String, Value> {
    records
        .into_iter()
        .map(|(id, mut r)| {
            if let Some(dq) = r["inputs"]["data_quality"].as_object_mut() {
                dq.remove("offline_share");
            }
            (id, r)
        })
        .collect()
}

/// Produces the lines of `path` to their topics, in order.
async fn produce(brokers: &str, path: &Path) -> u64 {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    let mut sent = 0;
    for line in std::fs::read_to_string(path).unwrap().lines() {
        let envelope: Value = serde_json::from_str(line).unwrap();
        let payload = envelope["value"].to_string();
        let key = envelope["key"].as_str().unwrap().to_owned();
        let record = FutureRecord::to(envelope["topic"].as_str().unwrap())
            .key(&key)
            .payload(&payload);
        producer
            .send(record, Duration::from_secs(10))
            .await
            .unwrap();
        sent += 1;
    }
    sent
}

/// Every record on `topic` that arrives within `wait` after the first `expected`.
fn read_warnings(
    brokers: &str,
    topic: &str,
    expected: usize,
    wait: Duration,
) -> Vec<(String, Value)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "warnings-reader")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "6000")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let mut records = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut quiet_until: Option<Instant> = None;
    while Instant::now() < deadline && quiet_until.is_none_or(|q| Instant::now() < q) {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            let key = String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned();
            let value = serde_json::from_slice(m.payload().unwrap_or_default()).unwrap();
            records.push((key, value));
        }
        if records.len() >= expected && quiet_until.is_none() {
            quiet_until = Some(Instant::now() + wait);
        }
    }
    records
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_warnings_on_kafka_equal_the_replay() {
    let rules = gas_rule_dir();
    let dir = rules.path().to_owned();
    // Replay runs its own runtime: off this one.
    let (expected, expected_risk) = tokio::task::spawn_blocking(move || replayed_warnings(&dir))
        .await
        .unwrap();
    assert!(!expected_risk.is_empty());
    assert_eq!(expected.len(), 5, "{expected:#?}");

    let mut config = Config::default();
    let topics = config.kafka.all_topics();
    // One partition: the same record order as the replay.
    let cluster = MockKafka::start(&topics, 1).unwrap();
    config.kafka.brokers = cluster.bootstrap_servers.clone();
    config.kafka.group_id = "vigil-warnings-e2e".into();
    config.checkpoint.url = common::checkpoint_dir("warnings-e2e");
    config.rules.dir = rules.path().to_owned();
    config
        .kafka
        .consumer_properties
        .insert("session.timeout.ms".into(), "6000".into());
    let engine = Arc::new(Engine::new(&config));
    let shutdown = tokio_util::sync::CancellationToken::new();
    let consumer = {
        let (engine, config, shutdown) = (Arc::clone(&engine), config.clone(), shutdown.clone());
        tokio::spawn(async move { engine.consume(&config, shutdown).await })
    };
    // Kafka orders records within a partition, not across topics: the world (reference data
    // and status on several topics) is applied before the readings (one topic) are sent, so
    // the engine sees the order the replay reads.
    let world = produce(&config.kafka.brokers, &fixture("world.ndjson")).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let accepted = || {
        let status = StatusReport::collect(&engine.metrics, &engine.store, &engine.status);
        status.records_applied + status.records_deferred as u64
    };
    while accepted() < world {
        assert!(Instant::now() < deadline, "the world was never applied");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    produce(&config.kafka.brokers, &fixture("r02_gas_leak/fires.ndjson")).await;
    let brokers = config.kafka.brokers.clone();
    let topic = config.kafka.warnings_topic.clone();
    let live = tokio::task::spawn_blocking(move || {
        read_warnings(&brokers, &topic, 5, Duration::from_secs(3))
    })
    .await
    .unwrap();
    let brokers = config.kafka.brokers.clone();
    let topic = config.kafka.risk_topic.clone();
    let risk_count = expected_risk.len();
    let live_risk = tokio::task::spawn_blocking(move || {
        read_warnings(&brokers, &topic, risk_count, Duration::from_secs(3))
    })
    .await
    .unwrap();
    let brokers = config.kafka.brokers.clone();
    let topic = config.kafka.regions_topic.clone();
    let regions = tokio::task::spawn_blocking(move || {
        read_warnings(&brokers, &topic, 2, Duration::from_millis(500))
    })
    .await
    .unwrap();
    shutdown.cancel();
    consumer.await.unwrap().unwrap();

    // The control indices: the county and its city, each keyed by its id.
    let county = regions
        .iter()
        .find(|(key, _)| key == "330102")
        .expect("the county's index on vigil.regions");
    assert_eq!(county.1["region_id"], "330102");
    assert!(county.1["cpi"]
        .as_f64()
        .is_some_and(|c| (0.0..=100.0).contains(&c)));
    let city = regions
        .iter()
        .find(|(key, _)| key == "330100")
        .expect("the city's index on vigil.regions");
    assert_eq!(city.1["city_id"], "330100");

    for (key, value) in &live_risk {
        assert_eq!(
            key,
            value["enterprise_id"].as_str().unwrap(),
            "keyed by enterprise id"
        );
    }
    assert_eq!(
        last_per_enterprise(live_risk),
        expected_risk,
        "the live risk picture ends where the replay's does"
    );

    for (key, value) in &live {
        assert_eq!(key, value["id"].as_str().unwrap(), "keyed by warning id");
    }
    let mut live: Vec<Value> = live.into_iter().map(|(_, v)| v).collect();
    let mut expected = expected;
    // Provenance names each source's own positions: Kafka offsets live, file lines in replay.
    let live_inputs = take_inputs(&mut live);
    let replay_inputs = take_inputs(&mut expected);
    assert_eq!(live, expected, "live and replay disagree");
    for (inputs, unit) in [(&live_inputs, "offsets"), (&replay_inputs, "lines")] {
        for record_inputs in inputs {
            let readings = record_inputs
                .iter()
                .find(|r| r["topic"] == "sensor.reading")
                .expect("a gas warning names the readings that fed it");
            assert_eq!(readings["unit"], unit);
            assert!(readings["first"].as_i64() <= readings["last"].as_i64());
            assert!(readings["records"].as_u64().unwrap() > 0);
        }
    }
    drop(cluster);
}

/// Removes and returns each record's `inputs`.
fn take_inputs(records: &mut [Value]) -> Vec<Vec<Value>> {
    records
        .iter_mut()
        .map(
            |r| match r.as_object_mut().and_then(|o| o.remove("inputs")) {
                Some(Value::Array(inputs)) => inputs,
                other => panic!("no inputs list: {other:?}"),
            },
        )
        .collect()
}
