//! Silences posted through the API live in a compacted topic (`kafka.silences_topic`, key =
//! silence id, value = the silence as JSON), so they outlive a restart and reach every
//! instance of the group: a post is answered only once the broker has it, and every instance
//! reads the topic from its beginning before it consumes any input, then follows it.
//!
//! A record on the topic that is not a silence is counted (`vigil_ingest_rejected_total`,
//! topic "unknown") and dead-lettered with the reason; an empty value (a tombstone) lifts the
//! silence of its key.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::config::KafkaConfig;
use crate::error::IoError;
use crate::ingest::kafka::{client_config, producer_config};
use crate::ingest::ReasonCode;
use crate::metrics::Metrics;

use super::silence::{Silence, SilenceSpec, Silences};

/// How long a post waits for the broker before it is answered 503.
const APPEND_TIMEOUT: Duration = Duration::from_secs(10);
const METADATA_TIMEOUT: Duration = Duration::from_secs(10);

/// The writing end: `POST /api/silences` appends here before the silence takes effect.
pub struct SilenceJournal {
    producer: FutureProducer,
    topic: String,
}

#[derive(Debug, thiserror::Error)]
#[error("the silence was not recorded on {topic}: {reason}")]
pub struct NotRecorded {
    topic: String,
    reason: String,
}

impl std::fmt::Debug for SilenceJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SilenceJournal")
            .field("topic", &self.topic)
            .finish()
    }
}

impl SilenceJournal {
    pub fn new(kafka: &KafkaConfig) -> Result<Self, IoError> {
        Ok(SilenceJournal {
            producer: producer_config(kafka).create()?,
            topic: kafka.silences_topic.clone(),
        })
    }

    /// Returns once the broker has acknowledged the silence.
    pub async fn append(&self, silence: &Silence) -> Result<(), NotRecorded> {
        let payload = serde_json::to_string(&silence.spec).expect("a silence serialises");
        let record = FutureRecord::to(&self.topic)
            .key(&silence.id)
            .payload(&payload);
        match self.producer.send(record, APPEND_TIMEOUT).await {
            Ok(_) => Ok(()),
            Err((error, _)) => Err(NotRecorded {
                topic: self.topic.clone(),
                reason: error.to_string(),
            }),
        }
    }
}

/// Reads the silences topic from its beginning into `silences` and follows it until
/// `shutdown`; `caught_up` fires once every partition's end has been reached (or the topic
/// cannot be read: posted silences then live only until a restart, which is logged).
pub async fn follow(
    kafka: KafkaConfig,
    silences: Arc<Silences>,
    metrics: Arc<Metrics>,
    caught_up: oneshot::Sender<()>,
    shutdown: CancellationToken,
) {
    let mut caught_up = Some(caught_up);
    let (consumer, mut open) = match assign_from_beginning(&kafka) {
        Ok(assigned) => assigned,
        Err(error) => {
            tracing::warn!(topic = %kafka.silences_topic, %error, "silences topic unreadable: posted silences are not kept across restarts");
            let _ = caught_up.take().map(|tx| tx.send(()));
            return;
        }
    };
    let dead_letters = DeadLetters::new(&kafka);
    loop {
        if open.is_empty() {
            let _ = caught_up.take().map(|tx| tx.send(()));
        }
        let message = tokio::select! {
            _ = shutdown.cancelled() => return,
            message = consumer.recv() => message,
        };
        match message {
            Ok(m) => {
                let outcome = apply(&silences, m.key(), m.payload());
                if let Err((code, reason)) = outcome {
                    metrics.reject(None, code);
                    dead_letters
                        .send(
                            &kafka,
                            m.partition(),
                            m.offset(),
                            m.payload(),
                            code,
                            &reason,
                        )
                        .await;
                }
            }
            Err(KafkaError::PartitionEOF(partition)) => {
                open.remove(&partition);
            }
            Err(error) => {
                tracing::warn!(%error, "reading the silences topic");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

fn assign_from_beginning(
    kafka: &KafkaConfig,
) -> Result<(StreamConsumer, BTreeSet<i32>), KafkaError> {
    let mut config = client_config(kafka);
    config
        .set("group.id", format!("{}.silences", kafka.group_id))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true");
    let consumer: StreamConsumer = config.create()?;
    let metadata = consumer.fetch_metadata(Some(&kafka.silences_topic), METADATA_TIMEOUT)?;
    let partitions: BTreeSet<i32> = metadata
        .topics()
        .iter()
        .filter(|t| t.error().is_none())
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    if partitions.is_empty() {
        return Err(KafkaError::MetadataFetch(
            rdkafka::types::RDKafkaErrorCode::UnknownTopicOrPartition,
        ));
    }
    let mut list = TopicPartitionList::new();
    for p in &partitions {
        list.add_partition_offset(&kafka.silences_topic, *p, Offset::Beginning)?;
    }
    consumer.assign(&list)?;
    Ok((consumer, partitions))
}

/// Applies one record of the topic: a silence, or a tombstone lifting one.
fn apply(
    silences: &Silences,
    key: Option<&[u8]>,
    payload: Option<&[u8]>,
) -> Result<(), (ReasonCode, String)> {
    let Some(payload) = payload.filter(|p| !p.is_empty()) else {
        let key = key.ok_or((
            ReasonCode::MissingKey,
            "a tombstone without a key".to_owned(),
        ))?;
        silences.remove(&String::from_utf8_lossy(key));
        return Ok(());
    };
    let spec: SilenceSpec = serde_json::from_slice(payload)
        .map_err(|e| (ReasonCode::WrongType, format!("not a silence: {e}")))?;
    silences
        .add(spec)
        .map(|_| ())
        .map_err(|e| (ReasonCode::InconsistentFields, e.to_string()))
}

/// Dead letters of the silences topic, sent straight to `kafka.dlq_topic`.
struct DeadLetters(Option<FutureProducer>);

impl DeadLetters {
    fn new(kafka: &KafkaConfig) -> Self {
        DeadLetters(producer_config(kafka).create().ok())
    }

    async fn send(
        &self,
        kafka: &KafkaConfig,
        partition: i32,
        offset: i64,
        raw: Option<&[u8]>,
        code: ReasonCode,
        reason: &str,
    ) {
        let letter = serde_json::json!({
            "topic": kafka.silences_topic,
            "partition": partition,
            "offset": offset,
            "reason_code": code.as_str(),
            "reason": reason,
            "raw": String::from_utf8_lossy(raw.unwrap_or_default()),
        })
        .to_string();
        let Some(producer) = &self.0 else { return };
        let record: FutureRecord<'_, (), String> =
            FutureRecord::to(&kafka.dlq_topic).payload(&letter);
        if let Err((error, _)) = producer.send(record, APPEND_TIMEOUT).await {
            tracing::error!(%error, "a silences dead letter was not delivered");
        }
    }
}
