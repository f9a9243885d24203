//! Delivery of output records to their keyed topics through one idempotent producer: warning
//! records to `vigil.warnings` (key = warning id), risk records to `vigil.risk` (key =
//! enterprise id), region indices to `vigil.regions`, county parts to the board. See `ingest::outputs` for the queue,
//! its backpressure, ordering, flush barriers and refused records.

use std::sync::Arc;

use rdkafka::producer::FutureProducer;
use tokio::task::JoinHandle;

use crate::checkpoint::Flushed;
use crate::config::KafkaConfig;
use crate::error::IoError;
use crate::ingest::client::producer_config;
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

/// The engine's outputs, all queued on one producer task: warnings, risk records, region
/// indices and the counties' board (`risk::region_share`).
pub struct EngineSenders {
    pub warnings: WarningSender,
    pub risk: KeyedSender,
    pub regions: KeyedSender,
    pub board: KeyedSender,
}

/// Starts the producer task of the engine's outputs. It ends once every sender is dropped and
/// the queue is delivered.
pub fn spawn_engine_outputs(
    kafka: &KafkaConfig,
    capacity: usize,
    metrics: Arc<Metrics>,
) -> Result<(EngineSenders, JoinHandle<()>), IoError> {
    let producer: FutureProducer = producer_config(kafka).create()?;
    let (sender, task) = outputs::spawn(producer, &kafka.dlq_topic, capacity, metrics);
    let keyed = |topic: &str, output| KeyedSender {
        sender: sender.clone(),
        topic: Arc::from(topic),
        output,
    };
    let senders = EngineSenders {
        warnings: WarningSender(keyed(&kafka.warnings_topic, "warnings")),
        risk: keyed(&kafka.risk_topic, "risk"),
        regions: keyed(&kafka.regions_topic, "regions"),
        board: keyed(&kafka.region_parts_topic, "region_parts"),
    };
    Ok((senders, task))
}
