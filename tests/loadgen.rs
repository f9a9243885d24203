//! `vigil sim --brokers`: the load generator produces the province's registry and readings in
//! real time to a Kafka-protocol broker (librdkafka's mock cluster on 127.0.0.1), keyed by
//! enterprise id, about `--rate` readings per second, and reports what it achieved.

use std::collections::HashSet;
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::Message;
use serde_json::Value;
use vigil::app::loadgen::{enterprises_for, run, LoadOptions};
use vigil::app::mock_cluster::MockKafka;
use vigil::sim::Scenario;

fn consume_all(brokers: &str, topic: &str, expected: u64) -> Vec<(String, Value)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "loadgen-test")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let mut out = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while (out.len() as u64) < expected && std::time::Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            let key = String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned();
            out.push((
                key,
                serde_json::from_slice(m.payload().unwrap_or_default()).unwrap(),
            ));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_generator_produces_the_asked_rate_keyed_by_enterprise() {
    let topics = vec!["registry".to_owned(), "sensor.reading".to_owned()];
    let cluster = MockKafka::start(&topics, 3).unwrap();
    let options = LoadOptions {
        brokers: cluster.bootstrap_servers.clone(),
        rate: 2_000,
        duration: Duration::from_secs(3),
        seed: 5,
        scenarios: vec![Scenario::GasLeak],
        properties: Vec::new(),
    };
    let started = std::time::Instant::now();
    let report = run(&options, tokio_util::sync::CancellationToken::new())
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(2_900),
        "paced in real time"
    );
    assert_eq!(report.enterprises, enterprises_for(2_000));
    assert_eq!(report.failed, 0);
    assert_eq!(report.acknowledged, report.sent, "{report:?}");
    let wanted = 2_000.0 * 3.0;
    assert!(
        (report.readings as f64 - wanted).abs() < 0.1 * wanted,
        "{report:?}"
    );
    // The business streams start with every enterprise's state, load, inventory, ...
    assert!(report.sent > report.readings + report.enterprises as u64);
    assert!(report.achieved_rate > 0.0);

    let brokers = cluster.bootstrap_servers.clone();
    let sent = report.readings;
    let readings =
        tokio::task::spawn_blocking(move || consume_all(&brokers, "sensor.reading", sent))
            .await
            .unwrap();
    assert_eq!(readings.len() as u64, report.readings);
    let enterprises: HashSet<&str> = readings.iter().map(|(k, _)| k.as_str()).collect();
    assert!(enterprises.len() > 100, "spread over the province");
    for (key, event) in &readings {
        assert_eq!(
            event["enterprise_id"].as_str(),
            Some(key.as_str()),
            "keyed by enterprise"
        );
        assert!(event["ts"].is_string() && event["value"].is_number());
    }
}
