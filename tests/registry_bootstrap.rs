//! Registry bootstrap (issue 13): a backlog of 100 000 readings produced before the registry
//! waits for no registry entry, neither on a first start (the partition reads its registry to
//! the end before anything else) nor on a restart (the registry is in the checkpoint): zero
//! `unknown_indicator`, zero `pending_overflow`.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use vigil::api::StatusReport;
use vigil::app::mock_cluster::MockKafka;
use vigil::app::Engine;
use vigil::config::Config;
use vigil::sim::{Province, ReadingStream, SimRecord};

const BACKLOG: usize = 100_000;
/// The mock cluster keeps about 5 MB per partition: spread over eight, the backlog all stays.
const PARTITIONS: i32 = 8;

fn config(brokers: &str, checkpoints: &str) -> Config {
    let mut config = Config::default();
    config.kafka.brokers = brokers.to_owned();
    config.kafka.group_id = "bootstrap".into();
    config.checkpoint.url = checkpoints.to_owned();
    config.checkpoint.interval = Duration::from_millis(500);
    // No rules run (an empty `rules.dir` says so; an empty directory would stop the start);
    // a tick a minute keeps a debug build's table refreshes out of the way.
    config.rules.dir = std::path::PathBuf::new();
    config.rules.tick = Duration::from_secs(60);
    config
        .kafka
        .consumer_properties
        .insert("session.timeout.ms".into(), "6000".into());
    config
}

/// Consumes until `expected` records were applied, then stops; the engine's metrics.
async fn consume_until_applied(config: &Config, expected: u64) -> Arc<vigil::metrics::Metrics> {
    let engine = Arc::new(Engine::new(config));
    let shutdown = CancellationToken::new();
    let consumer = {
        let (engine, config, shutdown) = (Arc::clone(&engine), config.clone(), shutdown.clone());
        tokio::spawn(async move { engine.consume(&config, shutdown).await })
    };
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let status = StatusReport::collect(&engine.metrics, &engine.store, &engine.status);
        // Applied, or accepted and waiting for the tick before it.
        let accepted = status.records_applied + status.records_deferred as u64;
        if accepted >= expected {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "accepted {accepted} of {expected}: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    shutdown.cancel();
    consumer.await.unwrap().unwrap();
    Arc::clone(&engine.metrics)
}

fn assert_nothing_waited(metrics: &vigil::metrics::Metrics) {
    for reason in ["unknown_indicator", "pending_overflow"] {
        let n = metrics
            .rejected
            .with_label_values(&["sensor.reading", reason])
            .get();
        assert_eq!(n, 0, "{n} readings dead-lettered {reason}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_of_readings_never_waits_for_the_registry() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let cluster = MockKafka::start(&Config::default().kafka.all_topics(), PARTITIONS).unwrap();
    let brokers = cluster.bootstrap_servers.clone();
    let checkpoints = common::checkpoint_dir("bootstrap");
    let province = Province::generate(5, 40, 4);
    let registry = province.registry_records();
    let mut readings = ReadingStream::new(&province, 9, common::T0);
    let first: Vec<SimRecord> = readings.by_ref().take(BACKLOG).collect();
    // The backlog is on the broker before the registry, as after an outage of the registry's
    // producer; a consumer that reads its topics side by side meets readings first.
    common::produce(&brokers, &first).await;
    common::produce(&brokers, &registry).await;

    let config = config(&brokers, &checkpoints);
    let metrics = consume_until_applied(&config, (BACKLOG + registry.len()) as u64).await;
    assert_nothing_waited(&metrics);

    let second: Vec<SimRecord> = readings.take(BACKLOG).collect();
    common::produce(&brokers, &second).await;
    let metrics = consume_until_applied(&config, BACKLOG as u64).await;
    assert_nothing_waited(&metrics);
    let restores = |source: &str| {
        metrics
            .checkpoint
            .restores
            .with_label_values(&[source])
            .get()
    };
    assert_eq!(
        restores("checkpoint"),
        PARTITIONS as u64,
        "every partition is restored"
    );
    assert_eq!(restores("fresh"), 0);
}
