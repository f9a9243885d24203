//! Output delivery (issue 13): a record the broker refuses for good is dead-lettered
//! `output_refused` with the reason instead of being retried forever, and a flush barrier
//! resolves only once what was queued before it is acknowledged.

mod common;

use std::sync::Arc;

use rdkafka::config::ClientConfig;
use rdkafka::producer::FutureProducer;
use vigil::app::mock_cluster::MockKafka;
use vigil::ingest::outputs;
use vigil::metrics::Metrics;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_the_broker_refuses_is_dead_lettered_and_the_rest_goes_on() {
    let topics = vec!["vigil.warnings".to_owned(), "vigil.dlq".to_owned()];
    let cluster = MockKafka::start(&topics, 1).unwrap();
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &cluster.bootstrap_servers)
        .set("message.max.bytes", "4000")
        .create()
        .unwrap();
    let metrics = Arc::new(Metrics::new());
    let (sender, task) = outputs::spawn(producer, "vigil.dlq", 16, Arc::clone(&metrics));
    let topic: Arc<str> = Arc::from("vigil.warnings");
    let huge = format!(r#"{{"id":"W-1","message":"{}"}}"#, "x".repeat(10_000));
    sender
        .send(Arc::clone(&topic), Some(b"W-1".to_vec()), huge, "warnings")
        .await;
    sender
        .send(
            topic,
            Some(b"W-2".to_vec()),
            r#"{"id":"W-2"}"#.into(),
            "warnings",
        )
        .await;
    let flushed = sender.flush().await;
    tokio::time::timeout(std::time::Duration::from_secs(30), flushed)
        .await
        .expect("the barrier resolves: nothing is retried forever")
        .expect("the task is alive");

    let refused = metrics
        .outputs_refused
        .with_label_values(&["warnings"])
        .get();
    assert_eq!(refused, 1);
    assert_eq!(
        metrics
            .outputs_produced
            .with_label_values(&["warnings"])
            .get(),
        1
    );
    let brokers = cluster.bootstrap_servers.clone();
    let dead = tokio::task::spawn_blocking(move || common::read_topic(&brokers, "vigil.dlq", 1))
        .await
        .unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0]["reason_code"], "output_refused");
    assert_eq!(dead[0]["topic"], "vigil.warnings");
    assert!(dead[0]["reason"].as_str().unwrap().contains("warnings"));
    assert!(dead[0]["raw"]
        .as_str()
        .unwrap()
        .starts_with(r#"{"id":"W-1""#));
    drop(sender);
    task.await.unwrap();
}
