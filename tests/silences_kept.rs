//! Silences posted through the API are not lost (issue 13): a post is answered once the
//! compacted silences topic has it, a restarted engine reads it back before it consumes, a
//! silence posted to one instance applies on another, and a record on the topic that is not
//! a silence is counted and dead-lettered.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use vigil::app::mock_cluster::MockKafka;
use vigil::app::Engine;
use vigil::config::Config;

const TOKEN: &str = "s3cret";

struct Instance {
    engine: Arc<Engine>,
    base: String,
    shutdown: CancellationToken,
    consumer: tokio::task::JoinHandle<Result<(), vigil::error::IoError>>,
}

async fn start(config: &Config) -> Instance {
    let engine = Arc::new(Engine::new(config));
    let shutdown = CancellationToken::new();
    let (addr, _server) = engine
        .spawn_api("127.0.0.1:0", shutdown.clone())
        .await
        .unwrap();
    let consumer = {
        let (engine, config, shutdown) = (Arc::clone(&engine), config.clone(), shutdown.clone());
        tokio::spawn(async move { engine.consume(&config, shutdown).await })
    };
    Instance {
        engine,
        base: format!("http://{addr}"),
        shutdown,
        consumer,
    }
}

impl Instance {
    async fn post(&self, silence: &Value) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("{}/api/silences", self.base))
            .bearer_auth(TOKEN)
            .json(silence)
            .send()
            .await
            .unwrap()
    }

    async fn wait_for_silences(&self, ids: &[&str]) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let listed: Vec<String> = self
                .engine
                .silences
                .list()
                .into_iter()
                .map(|s| s.id)
                .collect();
            if ids.iter().all(|id| listed.iter().any(|l| l == id)) {
                return;
            }
            assert!(Instant::now() < deadline, "{ids:?} not in {listed:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn stop(self) {
        self.shutdown.cancel();
        self.consumer.await.unwrap().unwrap();
    }
}

fn silence(enterprise: &str) -> Value {
    json!({
        "enterprise_id": enterprise,
        "starts_at": "2020-03-01T00:00:00Z",
        "ends_at": "2099-01-01T00:00:00Z",
        "created_by": "duty officer",
        "comment": "maintenance",
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posted_silences_outlive_a_restart_and_reach_every_instance() {
    let mut config = Config::default();
    let cluster = MockKafka::start(&config.kafka.all_topics(), 1).unwrap();
    config.kafka.brokers = cluster.bootstrap_servers.clone();
    config.kafka.group_id = "vigil-silences".into();
    config.checkpoint.url = common::checkpoint_dir("silences");
    config.warnings.api_token = TOKEN.into();
    config.rules.watch = false;
    config
        .kafka
        .consumer_properties
        .insert("session.timeout.ms".into(), "6000".into());

    let first = start(&config).await;
    let response = first.post(&silence("11010100001")).await;
    assert_eq!(response.status(), 201);
    let posted: Value = response.json().await.unwrap();
    let id = posted["id"].as_str().unwrap().to_owned();
    let brokers = config.kafka.brokers.clone();
    let topic = config.kafka.silences_topic.clone();
    let kept = tokio::task::spawn_blocking(move || common::read_to_end(&brokers, &topic))
        .await
        .unwrap();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0]["enterprise_id"], "11010100001");
    first.stop().await;

    // Something on the topic that is not a silence.
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &config.kafka.brokers)
        .create()
        .unwrap();
    producer
        .send(
            FutureRecord::to(&config.kafka.silences_topic)
                .key("junk")
                .payload("{\"enterprise_id\": 7"),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    // Issue 19, item 8: a record too large for a table every instance holds.
    let huge = format!("{{\"comment\": \"{}\"}}", "x".repeat(300 * 1024));
    producer
        .send(
            FutureRecord::to(&config.kafka.silences_topic)
                .key("huge")
                .payload(&huge),
            Duration::from_secs(10),
        )
        .await
        .unwrap();

    let restarted = start(&config).await;
    restarted.wait_for_silences(&[&id]).await;
    let other = start(&config).await;
    other.wait_for_silences(&[&id]).await;
    let response = other.post(&silence("11010100002")).await;
    assert_eq!(response.status(), 201);
    let second: Value = response.json().await.unwrap();
    let second = second["id"].as_str().unwrap().to_owned();
    restarted.wait_for_silences(&[&id, &second]).await;

    let rejected = common::metric_value(
        &restarted.engine.metrics.render(),
        "vigil_ingest_rejected_total{reason=\"wrong_type\",topic=\"unknown\"}",
    );
    assert_eq!(rejected, Some(1.0));
    let oversized = common::metric_value(
        &restarted.engine.metrics.render(),
        "vigil_ingest_rejected_total{reason=\"oversized\",topic=\"unknown\"}",
    );
    assert_eq!(oversized, Some(1.0));
    let brokers = config.kafka.brokers.clone();
    let dlq = config.kafka.dlq_topic.clone();
    let letters = tokio::task::spawn_blocking(move || common::read_to_end(&brokers, &dlq))
        .await
        .unwrap();
    let junk: Vec<&Value> = letters
        .iter()
        .filter(|l| l["topic"] == config.kafka.silences_topic.as_str())
        .collect();
    // Each of the two instances that read them dead-letters them.
    let by_reason = |code: &str| junk.iter().filter(|l| l["reason_code"] == code).count();
    assert!(
        by_reason("wrong_type") > 0 && by_reason("oversized") > 0,
        "{junk:?}"
    );
    assert_eq!(by_reason("wrong_type") + by_reason("oversized"), junk.len());
    assert!(junk
        .iter()
        .filter(|l| l["reason_code"] == "wrong_type")
        .all(|l| l["raw"] == "{\"enterprise_id\": 7"));
    restarted.stop().await;
    other.stop().await;
}
