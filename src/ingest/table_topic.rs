//! A compacted topic read as a table: from its beginning into memory, then followed, every
//! instance reading every partition (as a Kafka Streams global table). Silences and the
//! counties' shared parts are kept this way. A record the table refuses is counted
//! (`vigil_ingest_rejected_total`, topic "unknown") and dead-lettered with the reason.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::client::ClientContext;
use rdkafka::consumer::{Consumer, ConsumerContext, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::config::KafkaConfig;
use crate::ingest::client::{client_config, producer_config};
use crate::ingest::ReasonCode;
use crate::metrics::Metrics;

const METADATA_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest table record taken (a silence or a county part is a few KB): every instance holds
/// every record of every table, so one huge record would cost memory on all of them.
pub const MAX_RECORD_BYTES: usize = 256 * 1024;
const DEAD_LETTER_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a record was not taken into the table.
pub type Refusal = (ReasonCode, String);

/// Takes one record (key, value; an empty or absent value is a tombstone) into the table.
pub trait Table: Send + Sync + 'static {
    fn apply(&self, key: Option<&[u8]>, value: Option<&[u8]>) -> Result<(), Refusal>;
}

/// Reads `topic` from its beginning into `table` and follows it until `shutdown`;
/// `caught_up` fires once every partition's end has been reached. While the broker does not
/// answer (or the topic does not exist yet), it retries with backoff: a table is never
/// silently left unread (issue 19: a broker down at start once left it so for good).
pub async fn follow(
    kafka: KafkaConfig,
    topic: String,
    table: Arc<dyn Table>,
    metrics: Arc<Metrics>,
    caught_up: oneshot::Sender<()>,
    shutdown: CancellationToken,
) {
    let mut caught_up = Some(caught_up);
    let assign = {
        let (kafka, topic) = (kafka.clone(), topic.clone());
        move || assign_from_beginning(&kafka, &topic)
    };
    // A topic that does not exist yet is an empty table: caught up, and followed once it does.
    let missing = |error: &KafkaError| {
        if is_unknown_topic(error) {
            let _ = caught_up.take().map(|tx| tx.send(()));
        }
    };
    let Some((consumer, mut open)) = retrying(&shutdown, &topic, assign, missing).await else {
        return;
    };
    let dead_letters = DeadLetters::new(&kafka, &topic);
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
                let taken = match m.payload() {
                    Some(p) if p.len() > MAX_RECORD_BYTES => Err((
                        ReasonCode::Oversized,
                        format!(
                            "{} bytes; a table record may have at most {MAX_RECORD_BYTES}",
                            p.len()
                        ),
                    )),
                    payload => table.apply(m.key(), payload),
                };
                if let Err((code, reason)) = taken {
                    metrics.reject(None, code);
                    dead_letters
                        .send(m.partition(), m.offset(), m.payload(), code, &reason)
                        .await;
                }
            }
            Err(KafkaError::PartitionEOF(partition)) => {
                open.remove(&partition);
            }
            Err(error) => {
                tracing::warn!(%topic, %error, "reading a table topic");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

/// Backoff between attempts to reach the broker: doubling from 1 s up to 30 s.
const RETRY_FIRST: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(30);

/// Runs `attempt` on a blocking thread until it succeeds, backing off between failures and
/// logging each (`failed` sees each error); `None` once `shutdown` is cancelled.
pub async fn retrying<T: Send + 'static>(
    shutdown: &CancellationToken,
    what: &str,
    attempt: impl Fn() -> Result<T, KafkaError> + Clone + Send + 'static,
    mut failed: impl FnMut(&KafkaError),
) -> Option<T> {
    let mut backoff = RETRY_FIRST;
    loop {
        let attempt = attempt.clone();
        match tokio::task::spawn_blocking(attempt).await {
            Ok(Ok(done)) => return Some(done),
            Ok(Err(error)) => {
                failed(&error);
                tracing::warn!(what, %error, retry_in = ?backoff, "the broker did not answer, or the topic is missing; retrying")
            }
            Err(join) => tracing::error!(what, error = %join, "metadata attempt failed"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return None,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(RETRY_MAX);
    }
}

/// Whether the cluster answered that the topic does not exist (or has no partitions).
pub fn is_unknown_topic(error: &KafkaError) -> bool {
    matches!(
        error,
        KafkaError::MetadataFetch(rdkafka::types::RDKafkaErrorCode::UnknownTopicOrPartition)
            | KafkaError::MetadataFetch(rdkafka::types::RDKafkaErrorCode::UnknownTopic)
    )
}

/// The partitions of `topic`, from the cluster's metadata.
pub fn partitions_of<C: ConsumerContext + 'static>(
    consumer: &StreamConsumer<C>,
    topic: &str,
) -> Result<BTreeSet<i32>, KafkaError> {
    let metadata = consumer.fetch_metadata(Some(topic), METADATA_TIMEOUT)?;
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
    Ok(partitions)
}

/// The table readers' client context: a partition's end is how a reader knows it has caught
/// up, not an error (librdkafka's default context logged every one at ERROR, burying real
/// errors: issue 19, item 11).
pub struct ReaderContext;

impl ClientContext for ReaderContext {
    fn error(&self, error: KafkaError, reason: &str) {
        match error {
            KafkaError::PartitionEOF(_)
            | KafkaError::Global(rdkafka::types::RDKafkaErrorCode::PartitionEOF) => {
                tracing::debug!(reason, "end of partition")
            }
            error => tracing::error!(%error, reason, "librdkafka"),
        }
    }
}

impl ConsumerContext for ReaderContext {}

/// A consumer of the table topics and of metadata.
pub type Reader = StreamConsumer<ReaderContext>;

/// A consumer outside any group (nothing is committed), for reading tables and metadata.
pub fn reader(kafka: &KafkaConfig, purpose: &str) -> Result<Reader, KafkaError> {
    let mut config = client_config(kafka);
    config
        .set("group.id", format!("{}.{purpose}", kafka.group_id))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true");
    config.create_with_context(ReaderContext)
}

fn assign_from_beginning(
    kafka: &KafkaConfig,
    topic: &str,
) -> Result<(Reader, BTreeSet<i32>), KafkaError> {
    let consumer = reader(kafka, topic)?;
    let partitions = partitions_of(&consumer, topic)?;
    let mut list = TopicPartitionList::new();
    for p in &partitions {
        list.add_partition_offset(topic, *p, Offset::Beginning)?;
    }
    consumer.assign(&list)?;
    Ok((consumer, partitions))
}

/// Dead letters of a table topic, sent straight to `kafka.dlq_topic`.
struct DeadLetters {
    producer: Option<FutureProducer>,
    dlq_topic: String,
    topic: String,
}

impl DeadLetters {
    fn new(kafka: &KafkaConfig, topic: &str) -> Self {
        DeadLetters {
            producer: producer_config(kafka).create().ok(),
            dlq_topic: kafka.dlq_topic.clone(),
            topic: topic.to_owned(),
        }
    }

    async fn send(
        &self,
        partition: i32,
        offset: i64,
        raw: Option<&[u8]>,
        code: ReasonCode,
        reason: &str,
    ) {
        let letter = serde_json::json!({
            "topic": self.topic,
            "partition": partition,
            "offset": offset,
            "reason_code": code.as_str(),
            "reason": reason,
            "raw": String::from_utf8_lossy(raw.unwrap_or_default()),
        })
        .to_string();
        let Some(producer) = &self.producer else {
            return;
        };
        let record: FutureRecord<'_, (), String> =
            FutureRecord::to(&self.dlq_topic).payload(&letter);
        if let Err((error, _)) = producer.send(record, DEAD_LETTER_TIMEOUT).await {
            tracing::error!(%error, topic = %self.topic, "a table topic's dead letter was not delivered");
        }
    }
}
