//! Delivery of output records to their keyed topics through an idempotent producer: warning
//! records to `vigil.warnings` (key = warning id), risk records to `vigil.risk` (key =
//! enterprise id). The queue is bounded: when the broker is away and it fills, the rules task waits
//! (backpressure) instead of dropping. A failed send is counted and retried until delivered;
//! records are acknowledged in the order they were produced, so a warning's `resolved` never
//! overtakes its `firing`.

use std::sync::Arc;

use futures::stream::{FuturesOrdered, StreamExt};
use rdkafka::producer::FutureProducer;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::config::KafkaConfig;
use crate::error::IoError;
use crate::ingest::kafka::{deliver_until_acked, producer_config};
use crate::metrics::Metrics;

use super::WarningRecord;

/// Records in flight to the broker at once.
const MAX_IN_FLIGHT: usize = 1_000;

/// The rules task's end of one output's queue.
#[derive(Clone)]
pub struct KeyedSender {
    tx: mpsc::Sender<(String, String)>,
}

impl KeyedSender {
    /// Queues a serialised record under `key`; waits while the queue is full.
    pub async fn send(&self, key: String, payload: String) {
        // The receiver only goes away at shutdown, after the rules task.
        let _ = self.tx.send((key, payload)).await;
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
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let task = tokio::spawn(deliver_all(rx, producer, topic.to_owned(), output, metrics));
    Ok((KeyedSender { tx }, task))
}

async fn deliver_all(
    mut rx: mpsc::Receiver<(String, String)>,
    producer: FutureProducer,
    topic: String,
    output: &'static str,
    metrics: Arc<Metrics>,
) {
    let mut in_flight = FuturesOrdered::new();
    let mut open = true;
    while open || !in_flight.is_empty() {
        tokio::select! {
            item = rx.recv(), if open && in_flight.len() < MAX_IN_FLIGHT => match item {
                Some((key, payload)) => {
                    let (producer, topic, metrics) = (&producer, &topic, &metrics);
                    in_flight.push_back(async move {
                        deliver_until_acked(producer, topic, Some(key.as_bytes()), &payload, output, metrics)
                            .await;
                    });
                }
                None => open = false,
            },
            Some(()) = in_flight.next() => {
                metrics.outputs_produced.with_label_values(&[output]).inc();
            }
        }
    }
}
