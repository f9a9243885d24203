//! Delivery of warning records to `vigil.warnings` (key = warning id) through an idempotent
//! producer. The queue is bounded: when the broker is away and it fills, the rules task waits
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
/// The `output` label of the delivery metrics.
const OUTPUT: &str = "warnings";

/// The rules task's end of the queue.
#[derive(Clone)]
pub struct WarningSender {
    tx: mpsc::Sender<(String, String)>,
}

impl WarningSender {
    /// Queues a record; waits while the queue is full.
    pub async fn send(&self, record: &WarningRecord) {
        let payload = serde_json::to_string(record).expect("a warning serialises");
        // The receiver only goes away at shutdown, after the rules task.
        let _ = self.tx.send((record.id.clone(), payload)).await;
    }
}

/// Starts the producer task. It ends once every sender is dropped and the queue is delivered.
pub fn spawn(
    kafka: &KafkaConfig,
    capacity: usize,
    metrics: Arc<Metrics>,
) -> Result<(WarningSender, JoinHandle<()>), IoError> {
    let producer: FutureProducer = producer_config(kafka).create()?;
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let topic = kafka.warnings_topic.clone();
    let task = tokio::spawn(deliver_all(rx, producer, topic, metrics));
    Ok((WarningSender { tx }, task))
}

async fn deliver_all(
    mut rx: mpsc::Receiver<(String, String)>,
    producer: FutureProducer,
    topic: String,
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
                        deliver_until_acked(producer, topic, Some(key.as_bytes()), &payload, OUTPUT, metrics)
                            .await;
                    });
                }
                None => open = false,
            },
            Some(()) = in_flight.next() => {
                metrics.outputs_produced.with_label_values(&[OUTPUT]).inc();
            }
        }
    }
}
