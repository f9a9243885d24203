//! Kafka ingest: an rdkafka consumer in a consumer group feeding the pipeline. Offsets are
//! committed only for records fully handled (see `offsets`); dead letters and late records
//! are produced to `vigil.dlq` / `vigil.late` by an idempotent producer behind a bounded
//! channel, and retried until delivered, never dropped.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::statistics::Statistics;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::ClientContext;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::api::LiveStatus;
use crate::config::{Config, KafkaConfig};
use crate::error::IoError;
use crate::logging::RateLimit;
use crate::metrics::Metrics;
use crate::model::EventTime;
use crate::model::Topic;

use super::dead_letter::DeadLetter;
use super::offsets::OffsetTracker;
use super::pipeline::{Disposition, Outcome, Pipeline};
use super::record::{Position, RecordRef};

/// Deliveries to the outputs in flight at once.
const MAX_IN_FLIGHT: usize = 1024;
/// Wait between two attempts to deliver one output record.
const RETRY_BACKOFF: Duration = Duration::from_millis(500);

type Tracker = Arc<Mutex<OffsetTracker>>;

fn lock(tracker: &Tracker) -> std::sync::MutexGuard<'_, OffsetTracker> {
    tracker.lock().unwrap_or_else(|e| e.into_inner())
}

/// Commits on revocation, and tells the consumer loop which partitions it lost.
struct IngestContext {
    tracker: Tracker,
    status: Arc<LiveStatus>,
    revoked: Mutex<Vec<i32>>,
    metrics: Arc<Metrics>,
}

impl ClientContext for IngestContext {
    /// Publishes consumer lag per partition of the input topics (labels stay bounded: topics
    /// vigil knows, and their partitions).
    fn stats(&self, statistics: Statistics) {
        let mut total = 0;
        for (name, topic) in &statistics.topics {
            let Some(known) = Topic::from_name(name) else {
                continue;
            };
            for (partition, stats) in &topic.partitions {
                if *partition < 0 || stats.consumer_lag < 0 {
                    continue;
                }
                self.metrics
                    .consumer_lag
                    .with_label_values(&[known.name(), &partition.to_string()])
                    .set(stats.consumer_lag);
                total += stats.consumer_lag;
            }
        }
        self.status.set_consumer_lag(total);
    }
}

impl ConsumerContext for IngestContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance {
            commit(consumer, &self.tracker, &self.metrics, CommitMode::Sync);
            let mut revoked = self.revoked.lock().unwrap_or_else(|e| e.into_inner());
            revoked.extend(list.elements().iter().map(|e| e.partition()));
        }
    }
}

/// Which output a record goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Output {
    Dlq,
    Late,
}

impl Output {
    fn label(self) -> &'static str {
        match self {
            Output::Dlq => "dlq",
            Output::Late => "late",
        }
    }
}

/// A dead letter or late record on its way out, with the input offset it releases.
struct OutputItem {
    output: Output,
    letter: Box<DeadLetter>,
    offset: i64,
}

/// The librdkafka settings shared by consumer and producer, then the user's pass-through.
fn client_config(kafka: &KafkaConfig) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", &kafka.brokers);
    overlay_map(&mut config, &kafka.properties);
    config
}

fn consumer_config(kafka: &KafkaConfig) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("group.id", &kafka.group_id)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        // Range assignment keeps partition N of every input topic on one member.
        .set("partition.assignment.strategy", "range")
        .set(
            "queued.max.messages.kbytes",
            kafka.queued_max_messages_kbytes.to_string(),
        )
        .set("fetch.queue.backoff.ms", "10")
        .set("statistics.interval.ms", "5000");
    overlay(&mut config, client_config(kafka));
    overlay_map(&mut config, &kafka.consumer_properties);
    config
}

pub(crate) fn producer_config(kafka: &KafkaConfig) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("enable.idempotence", "true")
        .set("linger.ms", "5");
    overlay(&mut config, client_config(kafka));
    overlay_map(&mut config, &kafka.producer_properties);
    config
}

fn overlay(config: &mut ClientConfig, other: ClientConfig) {
    for (key, value) in other.config_map() {
        config.set(key, value);
    }
}

fn overlay_map(config: &mut ClientConfig, properties: &BTreeMap<String, String>) {
    for (key, value) in properties {
        config.set(key, value);
    }
}

/// Told the engine's watermark after every record, and every `HOOK_IDLE` while no record
/// arrives (the rules evaluate on it).
#[async_trait::async_trait]
pub trait ClockHook: Send {
    async fn advance(&mut self, now: Option<EventTime>);
}

/// How often the hook is called while no record arrives.
const HOOK_IDLE: Duration = Duration::from_millis(250);

/// Consumes until `shutdown`, then delivers what is in flight and commits.
pub async fn run(
    config: &Config,
    mut pipeline: Pipeline,
    metrics: Arc<Metrics>,
    status: Arc<LiveStatus>,
    mut hook: Option<Box<dyn ClockHook>>,
    shutdown: CancellationToken,
) -> Result<(), IoError> {
    let kafka = &config.kafka;
    let tracker: Tracker = Arc::default();
    let context = IngestContext {
        tracker: Arc::clone(&tracker),
        status: Arc::clone(&status),
        revoked: Mutex::new(Vec::new()),
        metrics: Arc::clone(&metrics),
    };
    let consumer: Arc<StreamConsumer<IngestContext>> =
        Arc::new(consumer_config(kafka).create_with_context(context)?);
    let topics: Vec<&str> = kafka.topics.iter().map(String::as_str).collect();
    consumer.subscribe(&topics)?;
    status.mark_started();
    let producer: FutureProducer = producer_config(kafka).create()?;
    let (tx, rx) = mpsc::channel(config.ingest.channel_capacity);
    let outputs = tokio::spawn(deliver_outputs(
        rx,
        producer,
        kafka.clone(),
        Arc::clone(&tracker),
        Arc::clone(&metrics),
    ));
    let committer = tokio::spawn(commit_every(
        Arc::clone(&consumer),
        Arc::clone(&tracker),
        Arc::clone(&metrics),
        kafka.commit_interval,
        shutdown.clone(),
    ));
    let mut out = Vec::new();
    let mut since_report = 0u32;
    let mut errors = RateLimit::per_second(config.log.per_record_errors_per_second);
    let mut idle = tokio::time::interval(HOOK_IDLE);
    loop {
        let message = tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = idle.tick() => {
                report_clock(&pipeline, &status, &metrics);
                if let Some(hook) = hook.as_mut() {
                    hook.advance(pipeline.watermark(wall_ms())).await;
                }
                continue;
            }
            message = consumer.recv() => message,
        };
        let message = match message {
            Ok(message) => message,
            Err(error) => {
                if errors.allow() {
                    tracing::warn!(%error, "kafka consumer error");
                }
                continue;
            }
        };
        let record = RecordRef {
            topic: message.topic(),
            partition: message.partition(),
            position: Position::Offset(message.offset()),
            key: message.key(),
            payload: message.payload().unwrap_or_default(),
        };
        lock(&tracker).seen(record.topic, record.partition, message.offset());
        pipeline.process(record, Some(wall_ms()), &mut out);
        drop(message);
        route(&mut out, &tracker, &tx, &metrics).await;
        forget_revoked(&consumer, &mut pipeline, &tracker);
        if let Some(hook) = hook.as_mut() {
            hook.advance(pipeline.watermark(wall_ms())).await;
        }
        since_report += 1;
        if since_report >= REPORT_EVERY {
            since_report = 0;
            report_clock(&pipeline, &status, &metrics);
        }
    }
    drop(tx);
    let _ = outputs.await;
    let _ = committer.await;
    commit(consumer.as_ref(), &tracker, &metrics, CommitMode::Sync);
    Ok(())
}

/// Records between two updates of the watermark gauges and status.
const REPORT_EVERY: u32 = 256;

fn report_clock(pipeline: &Pipeline, status: &LiveStatus, metrics: &Metrics) {
    let now = wall_ms();
    let watermark = pipeline.watermark(now);
    status.set_watermark(watermark);
    if let Some(mark) = watermark {
        metrics
            .watermark_delay
            .set((now - mark.millis()) as f64 / 1000.0);
    }
    for partition in pipeline.partitions() {
        if let Some(mark) = pipeline.partition_watermark(partition) {
            metrics
                .watermark
                .with_label_values(&[&partition.to_string()])
                .set(mark.millis() / 1000);
        }
    }
}

fn wall_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Offsets of applied records are released; held ones are held; dead and late ones are held
/// until their output is delivered.
async fn route(
    out: &mut Vec<Disposition>,
    tracker: &Tracker,
    tx: &mpsc::Sender<OutputItem>,
    metrics: &Metrics,
) {
    for disposition in out.drain(..) {
        let Position::Offset(offset) = disposition.origin.position else {
            continue;
        };
        let partition = disposition.origin.partition;
        let (output, letter) = match disposition.outcome {
            Outcome::Applied => {
                let topic = disposition.origin.topic.map_or("", Topic::name);
                lock(tracker).release(topic, partition, offset);
                continue;
            }
            Outcome::Held => {
                let topic = disposition.origin.topic.map_or("", Topic::name);
                lock(tracker).hold(topic, partition, offset);
                continue;
            }
            Outcome::Dead(letter) => (Output::Dlq, letter),
            Outcome::Late(letter) => (Output::Late, letter),
        };
        lock(tracker).hold(&letter.topic, partition, offset);
        metrics
            .channel_depth
            .with_label_values(&["outputs"])
            .set((tx.max_capacity() - tx.capacity()) as i64);
        if tx
            .send(OutputItem {
                output,
                letter,
                offset,
            })
            .await
            .is_err()
        {
            tracing::error!(
                "output task stopped; the record stays uncommitted and will be read again"
            );
        }
    }
}

fn forget_revoked(
    consumer: &StreamConsumer<IngestContext>,
    pipeline: &mut Pipeline,
    tracker: &Tracker,
) {
    let revoked = std::mem::take(
        &mut *consumer
            .context()
            .revoked
            .lock()
            .unwrap_or_else(|e| e.into_inner()),
    );
    for partition in revoked {
        tracing::info!(partition, "partition revoked; its state is dropped");
        pipeline.revoke(partition);
        lock(tracker).forget(partition);
    }
}

async fn deliver_outputs(
    mut rx: mpsc::Receiver<OutputItem>,
    producer: FutureProducer,
    kafka: KafkaConfig,
    tracker: Tracker,
    metrics: Arc<Metrics>,
) {
    let mut in_flight = FuturesUnordered::new();
    let mut open = true;
    while open || !in_flight.is_empty() {
        tokio::select! {
            item = rx.recv(), if open && in_flight.len() < MAX_IN_FLIGHT => match item {
                Some(item) => in_flight.push(deliver(&producer, &kafka, item, &metrics)),
                None => open = false,
            },
            Some(item) = in_flight.next() => {
                lock(&tracker).release(&item.letter.topic, item.letter.partition, item.offset);
                metrics.outputs_produced.with_label_values(&[item.output.label()]).inc();
            }
        }
    }
}

/// Delivers one output record, retrying until the broker acknowledges it.
async fn deliver(
    producer: &FutureProducer,
    kafka: &KafkaConfig,
    item: OutputItem,
    metrics: &Metrics,
) -> OutputItem {
    let topic = match item.output {
        Output::Dlq => &kafka.dlq_topic,
        Output::Late => &kafka.late_topic,
    };
    let payload = item.letter.to_json();
    let key = item.letter.key.as_deref();
    deliver_until_acked(producer, topic, key, &payload, item.output.label(), metrics).await;
    item
}

/// Sends one record to `topic`, retrying until the broker acknowledges it; every failed
/// attempt counts in `vigil_output_errors_total{output}`.
pub(crate) async fn deliver_until_acked(
    producer: &FutureProducer,
    topic: &str,
    key: Option<&[u8]>,
    payload: &str,
    output: &str,
    metrics: &Metrics,
) {
    let mut errors = RateLimit::per_second(1);
    loop {
        let mut record = FutureRecord::to(topic).payload(payload);
        if let Some(key) = key {
            record = record.key(key);
        }
        match producer.send(record, Duration::from_secs(30)).await {
            Ok(_) => return,
            Err((error, _)) => {
                metrics.output_errors.with_label_values(&[output]).inc();
                if errors.allow() {
                    tracing::warn!(%error, topic, "delivery failed; retrying");
                }
                tokio::time::sleep(RETRY_BACKOFF).await;
            }
        }
    }
}

async fn commit_every(
    consumer: Arc<StreamConsumer<IngestContext>>,
    tracker: Tracker,
    metrics: Arc<Metrics>,
    every: Duration,
    shutdown: CancellationToken,
) {
    let mut ticks = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticks.tick() => commit(consumer.as_ref(), &tracker, &metrics, CommitMode::Async),
        }
    }
}

fn commit<C: Consumer<X>, X: ConsumerContext>(
    consumer: &C,
    tracker: &Tracker,
    metrics: &Metrics,
    mode: CommitMode,
) {
    let moved = lock(tracker).to_commit();
    if moved.is_empty() {
        return;
    }
    let mut list = TopicPartitionList::new();
    for (topic, partition, offset) in &moved {
        if list
            .add_partition_offset(topic, *partition, Offset::Offset(*offset))
            .is_err()
        {
            return;
        }
    }
    match consumer.commit(&list, mode) {
        Ok(()) => {
            metrics.offsets_committed.inc();
            let mut tracker = lock(tracker);
            for (topic, partition, offset) in &moved {
                tracker.committed(topic, *partition, *offset);
            }
        }
        Err(error) => {
            metrics.commit_errors.inc();
            tracing::warn!(%error, "offset commit failed; retried at the next interval");
        }
    }
}
