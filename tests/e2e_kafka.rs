//! End to end through Kafka: a mixed stream with bad records goes through the real consumer
//! path; every good record is reflected in state, every bad one is on `vigil.dlq` with its
//! reason, and the committed offsets cover exactly what was handled. Run twice: against
//! librdkafka's in-process mock cluster, and against a real Kafka-protocol broker (Tansu,
//! started on 127.0.0.1 by `.ci/tansu`).

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio_util::sync::CancellationToken;
use vigil::api::StatusReport;
use vigil::app::mock_cluster::MockKafka;
use vigil::app::Engine;
use vigil::config::Config;
use vigil::ingest::{kafka, ReasonCode};
use vigil::sim::corrupt::{self, RawRecord};
use vigil::sim::{Province, ReadingStream};

const PARTITIONS: i32 = 2;

/// Where a produced record landed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Placed {
    topic: String,
    partition: i32,
    offset: i64,
}

struct Producer {
    inner: FutureProducer,
    end: BTreeMap<(String, i32), i64>,
    sent: usize,
}

impl Producer {
    fn new(brokers: &str) -> Self {
        let inner = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .create()
            .expect("producer");
        Producer {
            inner,
            end: BTreeMap::new(),
            sent: 0,
        }
    }

    async fn send(&mut self, record: &RawRecord) -> Placed {
        let RawRecord::Record { topic, key, value } = record else {
            panic!("only framed records go to Kafka");
        };
        let mut message = FutureRecord::to(topic).payload(value);
        if let Some(key) = key {
            message = message.key(key);
        }
        let delivery = self
            .inner
            .send(message, Duration::from_secs(10))
            .await
            .expect("delivered");
        self.sent += 1;
        let end = self
            .end
            .entry((topic.clone(), delivery.partition))
            .or_default();
        *end = (*end).max(delivery.offset + 1);
        Placed {
            topic: topic.clone(),
            partition: delivery.partition,
            offset: delivery.offset,
        }
    }
}

fn input_topics() -> Vec<String> {
    Config::default().kafka.topics
}

fn all_topics() -> Vec<String> {
    let config = Config::default();
    let mut topics = config.kafka.topics.clone();
    topics.extend([config.kafka.dlq_topic, config.kafka.late_topic]);
    topics
}

fn engine_config(brokers: &str, group: &str) -> Config {
    let mut config = Config::default();
    config.kafka.brokers = brokers.to_owned();
    config.kafka.group_id = group.to_owned();
    config.checkpoint.interval = Duration::from_millis(200);
    config.checkpoint.url = common::checkpoint_dir(group);
    for (key, value) in [
        ("session.timeout.ms", "6000"),
        ("heartbeat.interval.ms", "2000"),
    ] {
        config
            .kafka
            .consumer_properties
            .insert(key.into(), value.into());
    }
    config
}

/// Waits until the engine has handled `expected` records (applied, dead, late or held).
async fn wait_handled(report: impl Fn() -> StatusReport, expected: u64) -> StatusReport {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let r = report();
        let handled =
            r.records_applied + r.records_rejected + r.records_late + r.records_pending as u64;
        if handled >= expected || Instant::now() > deadline {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What the engine reported at the end: its metrics exposition and its readiness.
struct EndState {
    exposition: String,
    readiness: Result<(), String>,
}

async fn mixed_stream_through(brokers: &str) -> EndState {
    let group = format!("vigil-test-{}", std::process::id());
    let config = engine_config(brokers, &group);
    let engine = Engine::new(&config);
    let status = Arc::clone(&engine.status);
    let shutdown = CancellationToken::new();
    let pipeline = engine.pipeline(&config);
    let run = {
        let (config, metrics, status, shutdown) = (
            config.clone(),
            Arc::clone(&engine.metrics),
            Arc::clone(&status),
            shutdown.clone(),
        );
        tokio::spawn(
            async move { kafka::run(&config, pipeline, metrics, status, None, shutdown).await },
        )
    };
    let report = || StatusReport::collect(&engine.metrics, &engine.store, &status);
    let mut producer = Producer::new(brokers);

    // Phase 1: reference data and readings (one timed topic, so no cross-topic skew).
    let province = Province::generate(11, 4, 1);
    for record in province.registry_records() {
        producer
            .send(&RawRecord::Record {
                topic: record.topic.into(),
                key: Some(record.key),
                value: record.value.to_string().into_bytes(),
            })
            .await;
    }
    let readings: Vec<_> = ReadingStream::new(&province, 11, common::T0)
        .take(600)
        .collect();
    for r in &readings {
        producer
            .send(&RawRecord::Record {
                topic: r.topic.into(),
                key: Some(r.key.clone()),
                value: r.value.to_string().into_bytes(),
            })
            .await;
    }
    wait_handled(report, producer.sent as u64).await;

    // Phase 2: every kind of bad record a Kafka topic can carry; phase 3: a late one.
    let cases = corrupt::catalogue(&common::case_context(
        &province,
        common::T0.saturating_add_ms(15 * 60_000),
    ));
    let kafka_cases = cases.iter().filter(|c| {
        matches!(c.bad, RawRecord::Record { .. })
            && !matches!(
                c.reason,
                Some(ReasonCode::UnknownTopic | ReasonCode::Oversized)
            )
    });
    let (timely, late): (Vec<_>, Vec<_>) = kafka_cases.partition(|c| c.reason.is_some());
    let mut expected_dead = Vec::new();
    let mut held = None;
    for case in timely.iter().chain(late.iter()) {
        if case.reason.is_none() {
            wait_handled(report, producer.sent as u64).await;
        }
        for setup in &case.setup {
            producer.send(setup).await;
        }
        let placed = producer.send(&case.bad).await;
        match case.reason {
            Some(ReasonCode::UnknownIndicator) => held = Some(placed),
            Some(reason) => expected_dead.push((placed, reason)),
            None => {}
        }
    }
    let final_report = wait_handled(report, producer.sent as u64).await;
    assert_eq!(
        final_report.records_read, producer.sent as u64,
        "{final_report:?}"
    );
    assert_eq!(
        final_report.records_pending, 1,
        "the reading of an unregistered indicator waits"
    );
    assert_eq!(final_report.records_late, 1);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let readiness = engine.status.readiness();
    shutdown.cancel();
    run.await.expect("engine task").expect("engine ran");

    // Every good reading is in state (the corruption cases add valid readings of their own
    // to the first enterprise).
    for ent in &province.enterprises {
        for indicator in &ent.indicators {
            let sent = common::sent_values(&readings, &indicator.target_code).len();
            let (counted, _) = common::indicator_readings(
                &engine.store,
                &ent.enterprise_id,
                &indicator.target_code,
            );
            if ent.enterprise_id == province.enterprises[0].enterprise_id {
                assert!(counted >= sent, "{}", indicator.target_code);
            } else {
                assert_eq!(counted, sent, "{}", indicator.target_code);
            }
        }
    }

    // Every bad record is on the dead-letter topic, with its reason and position.
    let dead = common::read_topic(brokers, "vigil.dlq", expected_dead.len());
    assert_eq!(dead.len(), expected_dead.len(), "{dead:?}");
    for (placed, reason) in &expected_dead {
        let found = dead.iter().find(|d| {
            d["topic"] == placed.topic.as_str()
                && d["partition"] == placed.partition
                && d["offset"] == placed.offset
        });
        let found =
            found.unwrap_or_else(|| panic!("{placed:?} ({reason}) not dead-lettered: {dead:?}"));
        assert_eq!(found["reason_code"], reason.as_str());
    }
    assert_eq!(common::read_topic(brokers, "vigil.late", 1).len(), 1);

    // Committed offsets: everything, the held record's partition too: the record waits in
    // the checkpoint the offsets were committed from (issue 13), not behind the offset.
    let held = held.expect("the unknown-indicator case ran");
    let committed = common::committed(brokers, &group, &producer.end);
    for ((topic, partition), end) in &producer.end {
        assert_eq!(
            committed.get(&(topic.clone(), *partition)),
            Some(end),
            "{topic}/{partition}"
        );
    }
    let checkpoints = vigil::checkpoint::CheckpointStore::open(&config.checkpoint, &group).unwrap();
    let latest = checkpoints
        .latest(held.partition)
        .await
        .unwrap()
        .expect("a checkpoint");
    let waiting = &latest.checkpoint.ingest.pending;
    assert!(
        waiting.iter().any(|p| p.record.topic == held.topic
            && p.record.position == vigil::ingest::Position::Offset(held.offset)),
        "the held record is in its partition's checkpoint: {waiting:?}"
    );
    engine.metrics.set_state_size(&engine.store.size());
    EndState {
        exposition: engine.metrics.render(),
        readiness,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_stream_through_the_mock_cluster() {
    let cluster = MockKafka::start(&all_topics(), PARTITIONS).expect("mock cluster");
    let end = mixed_stream_through(&cluster.bootstrap_servers).await;
    // The dashboard and the alert rules in deploy/ only query metrics a live vigil exposes.
    common::assert_deployed_metrics_exposed(&end.exposition);
    // Caught up: /readyz would answer 200. (Not asserted against Tansu, whose ListOffsets
    // reports a stale high watermark, so librdkafka's lag figure is not meaningful there.)
    assert_eq!(end.readiness, Ok(()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_stream_through_a_real_broker() {
    let tansu = common::tansu::Tansu::start();
    common::create_topics(&tansu.brokers, &all_topics(), PARTITIONS).await;
    assert_eq!(input_topics().len(), 15);
    mixed_stream_through(&tansu.brokers).await;
}
