//! Delivery of output records to their keyed topics through an idempotent producer: warning
//! records to `vigil.warnings` (key = warning id), risk records to `vigil.risk` (key =
//! enterprise id), region indices to `vigil.regions`. See `ingest::outputs` for the queue,
//! its backpressure, ordering, flush barriers and refused records.

use std::sync::Arc;

use rdkafka::producer::FutureProducer;
use tokio::task::JoinHandle;

use crate::checkpoint::Flushed;
use crate::config::KafkaConfig;
use crate::error::IoError;
use crate::ingest::kafka::producer_config;
use crate::ingest::outputs::{self, OutputSender};
use crate::metrics::Metrics;

use super::WarningRecord;

/// The rules task's end of one output's queue.
#[derive(Clone)]
pub struct KeyedSender {
    sender: OutputSender,
    topic: Arc<str>,
    output: &'static str,
}

impl KeyedSender {
    /// Queues a serialised record under `key`; waits while the queue is full.
    pub async fn send(&self, key: String, payload: String) {
        let topic = Arc::clone(&self.topic);
        self.sender
            .send(topic, Some(key.into_bytes()), payload, self.output)
            .await;
    }

    /// A barrier behind every record queued so far.
    pub async fn flush(&self) -> Flushed {
        self.sender.flush().await
    }
}

/// The warnings' queue.
#[derive(Clone)]
pub struct WarningSender(KeyedSender);

impl WarningSender {
    pub async fn send(&self, record: &WarningRecord) {
        let payload = serde_json::to_string(record).expect("a warning serialises");
        self.0.send(record.id.clone(), payload).await;
    }

    pub async fn flush(&self) -> Flushed {
        self.0.flush().await
    }
}

/// Starts the producer task of `kafka.warnings_topic`. It ends once every sender is dropped
/// and the queue is delivered.
pub fn spawn(
    kafka: &KafkaConfig,
    capacity: usize,
    metrics: Arc<Metrics>,
) -> Result<(WarningSender, JoinHandle<()>), IoError> {
    let (sender, task) = spawn_keyed(kafka, &kafka.warnings_topic, "warnings", capacity, metrics)?;
    Ok((WarningSender(sender), task))
}

/// Starts a producer task for `topic`; `output` labels its delivery metrics.
pub fn spawn_keyed(
    kafka: &KafkaConfig,
    topic: &str,
    output: &'static str,
    capacity: usize,
    metrics: Arc<Metrics>,
) -> Result<(KeyedSender, JoinHandle<()>), IoError> {
    let producer: FutureProducer = producer_config(kafka).create()?;
    let (sender, task) = outputs::spawn(producer, &kafka.dlq_topic, capacity, metrics);
    let keyed = KeyedSender {
        sender,
        topic: Arc::from(topic),
        output,
    };
    Ok((keyed, task))
}
