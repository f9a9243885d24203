//! The producer task behind one or more outputs (dead letters, late records, warnings, risk,
//! regions). A bounded queue in front of it gives backpressure: when the broker is away and
//! the queue fills, the stage that sends waits instead of dropping. Records are acknowledged
//! in the order they were queued, so a warning's `resolved` never overtakes its `firing`, and
//! a flush barrier resolves once everything queued before it is acknowledged (a checkpoint
//! waits on it). A record the broker refuses for good is dead-lettered with the reason.

use std::sync::Arc;

use futures::stream::{FuturesOrdered, StreamExt};
use rdkafka::producer::FutureProducer;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::checkpoint::Flushed;
use crate::ingest::ReasonCode;
use crate::metrics::Metrics;

use super::produce::{deliver, Refused};

/// Records in flight to the broker at once, per task.
const MAX_IN_FLIGHT: usize = 1_000;
/// A refused record was likely refused for its size: its dead letter keeps its start.
const REFUSED_RAW_CHARS: usize = 1024;

enum Outgoing {
    Record(Record),
    Flush(oneshot::Sender<()>),
}

struct Record {
    topic: Arc<str>,
    key: Option<Vec<u8>>,
    payload: String,
    /// The `output` label of the delivery metrics.
    output: &'static str,
}

/// The sending end of one producer task.
#[derive(Clone)]
pub struct OutputSender {
    tx: mpsc::Sender<Outgoing>,
}

impl OutputSender {
    /// Queues a record; waits while the queue is full.
    pub async fn send(
        &self,
        topic: Arc<str>,
        key: Option<Vec<u8>>,
        payload: String,
        output: &'static str,
    ) {
        let record = Record {
            topic,
            key,
            payload,
            output,
        };
        // The task only ends once every sender is gone.
        let _ = self.tx.send(Outgoing::Record(record)).await;
    }

    /// A barrier behind everything queued so far.
    pub async fn flush(&self) -> Flushed {
        let (done, flushed) = oneshot::channel();
        let _ = self.tx.send(Outgoing::Flush(done)).await;
        flushed
    }

    /// Records queued and not yet handed to the producer.
    pub fn depth(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }
}

/// Starts a producer task; records the broker refuses go to `dlq_topic`. It ends once every
/// sender is dropped and the queue is delivered.
pub fn spawn(
    producer: FutureProducer,
    dlq_topic: &str,
    capacity: usize,
    metrics: Arc<Metrics>,
) -> (OutputSender, JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let task = tokio::spawn(deliver_all(rx, producer, Arc::from(dlq_topic), metrics));
    (OutputSender { tx }, task)
}

async fn deliver_all(
    mut rx: mpsc::Receiver<Outgoing>,
    producer: FutureProducer,
    dlq_topic: Arc<str>,
    metrics: Arc<Metrics>,
) {
    let mut in_flight = FuturesOrdered::new();
    let mut open = true;
    while open || !in_flight.is_empty() {
        tokio::select! {
            item = rx.recv(), if open && in_flight.len() < MAX_IN_FLIGHT => match item {
                Some(Outgoing::Record(record)) => {
                    let (producer, dlq, metrics) = (&producer, &dlq_topic, &metrics);
                    in_flight.push_back(futures::future::Either::Left(async move {
                        send_or_dead_letter(producer, dlq, record, metrics).await;
                        None
                    }));
                }
                Some(Outgoing::Flush(done)) => {
                    in_flight.push_back(futures::future::Either::Right(async move { Some(done) }));
                }
                None => open = false,
            },
            Some(done) = in_flight.next() => {
                if let Some(done) = done {
                    let _ = done.send(());
                }
            }
        }
    }
}

async fn send_or_dead_letter(
    producer: &FutureProducer,
    dlq_topic: &Arc<str>,
    record: Record,
    metrics: &Metrics,
) {
    let key = record.key.as_deref();
    let sent = deliver(
        producer,
        &record.topic,
        key,
        &record.payload,
        record.output,
        metrics,
    )
    .await;
    let Err(Refused(reason)) = sent else {
        metrics
            .outputs_produced
            .with_label_values(&[record.output])
            .inc();
        return;
    };
    metrics
        .outputs_refused
        .with_label_values(&[record.output])
        .inc();
    if record.topic == *dlq_topic {
        tracing::error!(%reason, "the dead-letter topic refused a dead letter; it is counted in vigil_output_refused_total{{output=\"dlq\"}}");
        return;
    }
    let raw: String = record.payload.chars().take(REFUSED_RAW_CHARS).collect();
    let letter = serde_json::json!({
        "topic": &*record.topic,
        "reason_code": ReasonCode::OutputRefused.as_str(),
        "reason": format!("the broker refused the {} record: {reason}", record.output),
        "raw": raw,
    });
    let payload = letter.to_string();
    if deliver(producer, dlq_topic, key, &payload, "dlq", metrics)
        .await
        .is_ok()
    {
        metrics.outputs_produced.with_label_values(&["dlq"]).inc();
    } else {
        metrics.outputs_refused.with_label_values(&["dlq"]).inc();
    }
}
