//! Kafka ingest: an rdkafka consumer in a consumer group feeding the pipeline, with the
//! engine (`ClockHook`) on its clock. State is checkpointed per partition (see `checkpoint`),
//! offsets are committed only from written checkpoints, and a partition assigned to this
//! instance is restored from its newest checkpoint before any of its records is read (see
//! `rebalance`). Dead letters and late records go to `vigil.dlq` / `vigil.late` through an
//! idempotent producer behind a bounded queue (see `outputs`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::FutureExt;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::producer::FutureProducer;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::api::LiveStatus;
use crate::checkpoint::lease::{self, LeaseCommand};
use crate::checkpoint::writer::{self, WriterJob};
use crate::checkpoint::{
    copy_enterprises, CheckpointJob, CheckpointStore, Flushed, Loaded, PartitionCheckpoint,
};
use crate::config::{Config, KafkaConfig};
use crate::error::IoError;
use crate::logging::RateLimit;
use crate::metrics::Metrics;
use crate::model::{EventTime, Topic};

use super::client::{consumer_config, producer_config};
use super::drift::Drift;
use super::fetched::InputTopic;
use super::first_tick::{self, FirstTick};
use super::outputs::{self, OutputSender};
use super::pipeline::{wall_clock_ms, Disposition, Outcome, Pipeline};
use super::rebalance::{lock, IngestContext, RebalanceEvent, Takeover, Tracker};
use super::record::{Position, RecordRef};
use super::watermark::Streams;

/// The engine on the ingest clock. After every batch of records, and every `HOOK_IDLE`
/// while none arrives, the loop asks it for each tick due at the clock (`due`), applies the
/// records up to that tick, and has it evaluated (`tick`). Its state of a partition's
/// enterprises goes into that partition's checkpoint.
#[async_trait]
pub trait ClockHook: Send {
    /// Work between ticks (rule files changed on disk).
    async fn maintain(&mut self) {}

    /// The next tick to evaluate with the engine clock at `now`, if one is due; the next
    /// record waiting is at `next_record`.
    fn due(&self, now: EventTime, next_record: Option<EventTime>) -> Option<EventTime>;

    /// Evaluates the tick at `at`; every record up to it has been applied.
    async fn tick(&mut self, at: EventTime);

    /// Where the first tick is (the pipeline's origin), told before the first `due`.
    fn start_at(&mut self, origin: EventTime);

    /// The last tick evaluated.
    fn last_tick(&self) -> Option<EventTime>;

    /// The engine's state of `enterprises` (warnings, risk), encoded for their checkpoint.
    fn snapshot(&self, _enterprises: &BTreeSet<String>) -> Vec<u8> {
        Vec::new()
    }

    /// Takes over what `snapshot` encoded (a partition restored from its checkpoint).
    fn restore(&mut self, _engine: &[u8]) {}

    /// Drops `enterprises` without a word: their partition now belongs to another instance,
    /// which carries their warnings on.
    fn forget(&mut self, _enterprises: &BTreeSet<String>) {}

    /// The input partitions this instance owns, after every rebalance.
    fn owned(&mut self, _partitions: &BTreeSet<i32>) {}

    /// Barriers behind every record the engine has queued on its outputs.
    async fn flush(&mut self) -> Vec<Flushed> {
        Vec::new()
    }
}

/// Evaluates every tick the engine clock `now` has passed, none skipped, each after the
/// pipeline has applied the records up to it (their dispositions go to `out`).
/// Evaluates the boundaries the clock has passed, each after the records up to it, for at
/// most `budget` of wall time. Returns whether it caught up with `now`; if not, the caller
/// comes back for the rest after it has served what else is waiting (a catch-up of hours
/// of ticks still checkpoints, commits and answers rebalances as it goes).
pub async fn run_ticks(
    pipeline: &mut Pipeline,
    hook: &mut dyn ClockHook,
    now: EventTime,
    out: &mut Vec<Disposition>,
    budget: Duration,
) -> bool {
    if let Some(origin) = pipeline.origin() {
        hook.start_at(origin);
    }
    let started = std::time::Instant::now();
    while let Some(at) = hook.due(now, pipeline.next_deferred()) {
        if started.elapsed() >= budget {
            return false;
        }
        pipeline.release_until(at, out);
        hook.tick(at).await;
    }
    true
}

/// A partition's newest checkpoint: its offsets, and the engine's last tick then.
type Checkpointed = (BTreeMap<String, i64>, Option<EventTime>);

/// How often the hook is called while no record arrives.
const HOOK_IDLE: Duration = Duration::from_millis(250);
/// Ticks evaluated in one go before the loop serves records, checkpoints and rebalances.
const TICK_BUDGET: Duration = Duration::from_millis(200);
/// Records between two updates of the watermark gauges and status.
const REPORT_EVERY: usize = 256;
/// Ready records handled before the loop settles, routes and advances the clock once.
const MAX_BATCH: usize = 1024;
/// Checkpoints waiting for their outputs and the store.
const CHECKPOINT_QUEUE: usize = 64;

/// Consumes until `shutdown`, then checkpoints every partition it owns, delivers what is in
/// flight and commits.
pub async fn run(
    config: &Config,
    pipeline: Pipeline,
    metrics: Arc<Metrics>,
    status: Arc<LiveStatus>,
    hook: Option<Box<dyn ClockHook>>,
    shutdown: CancellationToken,
) -> Result<(), IoError> {
    let kafka = &config.kafka;
    let store = Arc::new(CheckpointStore::open(&config.checkpoint, &kafka.group_id)?);
    let tracker: Tracker = Arc::default();
    let context = IngestContext::new(
        Arc::clone(&tracker),
        Arc::clone(&status),
        Arc::clone(&metrics),
        Arc::clone(&store),
    )
    .on_unreadable(config.checkpoint.on_unreadable)
    .handoff(config.checkpoint.interval);
    let me = context.instance().to_owned();
    let consumer: Arc<StreamConsumer<IngestContext>> =
        Arc::new(consumer_config(kafka).create_with_context(context)?);
    let topics: Vec<&str> = kafka.topics.iter().map(String::as_str).collect();
    consumer.subscribe(&topics)?;
    status.mark_started();
    let producer: FutureProducer = producer_config(kafka).create()?;
    let (outputs, outputs_task) = outputs::spawn(
        producer,
        &kafka.dlq_topic,
        config.ingest.channel_capacity,
        Arc::clone(&metrics),
    );
    let mut pipeline = pipeline;
    if hook.is_some() {
        pipeline.defer_to_ticks();
    }
    let (jobs, jobs_rx) = mpsc::channel(CHECKPOINT_QUEUE);
    let commit = committer(Arc::clone(&consumer), Arc::clone(&metrics));
    let (leases, leases_rx) = mpsc::unbounded_channel();
    let every = config.checkpoint.interval;
    let keeper = tokio::spawn(lease::keep(Arc::clone(&store), me, every, leases_rx));
    let writer = tokio::spawn(writer::run(
        jobs_rx,
        store,
        Arc::clone(&metrics),
        leases,
        commit,
    ));
    let mut ingest = KafkaIngest {
        pipeline,
        hook,
        tracker,
        consumer,
        outputs,
        jobs,
        metrics,
        status,
        dlq_topic: Arc::from(kafka.dlq_topic.as_str()),
        late_topic: Arc::from(kafka.late_topic.as_str()),
        owned: BTreeSet::new(),
        parked: BTreeSet::new(),
        checkpointed: BTreeMap::new(),
        assigned_at: BTreeMap::new(),
        out: Vec::new(),
        drift: Drift::new(config),
        inputs: InputTopic::all(&kafka.topics),
        ticks_behind: false,
        first_tick: FirstTick::new(first_tick::session_timeout(kafka)),
        input_partitions: None,
        kafka: kafka.clone(),
    };
    ingest.consume(config, shutdown).await;
    ingest.settle_rebalance().await;
    let owned: Vec<i32> = ingest.owned.iter().copied().collect();
    ingest.checkpoint(&owned, true).await;
    ingest.lease(owned, true).await;
    drop(ingest);
    let _ = writer.await;
    let _ = keeper.await;
    let _ = outputs_task.await;
    Ok(())
}

/// Commits a written checkpoint's offsets, if its partition is still assigned here.
fn committer(
    consumer: Arc<StreamConsumer<IngestContext>>,
    metrics: Arc<Metrics>,
) -> impl FnMut(i32, &BTreeMap<String, i64>) + Send {
    move |partition, offsets| {
        if !lock(&consumer.context().owned).contains(&partition) {
            return;
        }
        let mut list = TopicPartitionList::new();
        for (topic, offset) in offsets {
            if let Err(error) = list.add_partition_offset(topic, partition, Offset::Offset(*offset))
            {
                tracing::warn!(%error, topic, partition, "cannot commit this offset");
            }
        }
        match consumer.commit(&list, CommitMode::Sync) {
            Ok(()) => metrics.offsets_committed.inc(),
            Err(error) => {
                // The next checkpoint commits further; a restart restores from the checkpoint.
                metrics.commit_errors.inc();
                tracing::warn!(%error, partition, "offset commit failed");
            }
        }
    }
}

/// The ingest loop's own state.
struct KafkaIngest {
    pipeline: Pipeline,
    hook: Option<Box<dyn ClockHook>>,
    tracker: Tracker,
    consumer: Arc<StreamConsumer<IngestContext>>,
    outputs: OutputSender,
    jobs: mpsc::Sender<WriterJob>,
    metrics: Arc<Metrics>,
    status: Arc<LiveStatus>,
    dlq_topic: Arc<str>,
    late_topic: Arc<str>,
    /// Partition numbers assigned to this instance, as of the last rebalance event handled.
    owned: BTreeSet<i32>,
    /// Revoked, state still held, until the next assignment says whether they come back.
    parked: BTreeSet<i32>,
    /// The offsets of each partition's newest checkpoint taken.
    checkpointed: BTreeMap<i32, Checkpointed>,
    /// Wall time each partition was assigned, for the checkpoint age before its first.
    assigned_at: BTreeMap<i32, i64>,
    out: Vec<Disposition>,
    drift: Drift,
    /// The input topics subscribed to.
    inputs: Vec<InputTopic>,
    /// The engine's budget ran out before the ticks the clock has passed.
    ticks_behind: bool,
    /// The first tick waits for a complete assignment (see `first_tick`).
    first_tick: FirstTick,
    /// Every partition number of the input topics, once read from the cluster's metadata.
    input_partitions: Option<BTreeSet<i32>>,
    kafka: KafkaConfig,
}

impl KafkaIngest {
    async fn consume(&mut self, config: &Config, shutdown: CancellationToken) {
        let consumer = Arc::clone(&self.consumer);
        let mut since_report = 0usize;
        let mut errors = RateLimit::per_second(config.log.per_record_errors_per_second);
        let mut idle = tokio::time::interval(HOOK_IDLE);
        let every = config.checkpoint.interval.max(Duration::from_millis(100));
        let mut checkpoints = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        loop {
            let first = tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = idle.tick() => {
                    self.settle_rebalance().await;
                    for partition in self.consumer.context().overdue_bootstraps() {
                        tracing::warn!(partition, "the registry did not report its end in time; going on");
                        self.consumer.context().end_bootstrap(self.consumer.as_ref(), partition);
                    }
                    self.report_clock();
                    self.advance().await;
                    continue;
                }
                // Ticks left over from the last budget: next, unless something else is
                // ready (the branches are polled in random order).
                _ = std::future::ready(()), if self.ticks_behind => {
                    self.advance().await;
                    continue;
                }
                _ = checkpoints.tick() => {
                    self.settle_rebalance().await;
                    let owned: Vec<i32> = self.owned.iter().copied().collect();
                    self.checkpoint(&owned, false).await;
                    continue;
                }
                message = consumer.recv() => message,
            };
            // A batch: this record and the ones already fetched, then the outputs, the clock
            // and the ticks once.
            let mut next = Some(first);
            let mut handled = 0;
            while let Some(message) = next.take() {
                self.handle(message, &mut errors).await;
                handled += 1;
                if handled < MAX_BATCH {
                    next = consumer.recv().now_or_never();
                }
            }
            self.route().await;
            self.advance().await;
            since_report += handled;
            if since_report >= REPORT_EVERY {
                since_report = 0;
                self.report_clock();
            }
        }
    }

    /// One message of a batch, to the pipeline (applied, deferred, dead-lettered or late).
    async fn handle(
        &mut self,
        message: Result<BorrowedMessage<'_>, rdkafka::error::KafkaError>,
        errors: &mut RateLimit,
    ) {
        let message = match message {
            Ok(message) => message,
            Err(rdkafka::error::KafkaError::PartitionEOF(partition)) => {
                // Only a bootstrapping partition's registry is unpaused, so this is its end.
                self.consumer
                    .context()
                    .end_bootstrap(self.consumer.as_ref(), partition);
                return;
            }
            Err(error) => {
                if errors.allow() {
                    tracing::warn!(%error, "kafka consumer error");
                }
                return;
            }
        };
        self.settle_rebalance().await;
        let (topic, partition, offset) = (message.topic(), message.partition(), message.offset());
        if !self.owned.contains(&partition) || !lock(&self.tracker).seen(topic, partition, offset) {
            // Fetched before a rebalance moved the partition, or read again after it.
            tracing::debug!(
                topic,
                partition,
                offset,
                "record skipped: not owned, or already read"
            );
            return;
        }
        let record = RecordRef {
            topic,
            partition,
            position: Position::Offset(offset),
            key: message.key(),
            payload: message.payload().unwrap_or_default(),
        };
        self.pipeline
            .process(record, Some(wall_clock_ms()), &mut self.out);
    }

    /// Evaluates every tick the engine clock has passed, each after the records up to it,
    /// then pauses the partitions running too far ahead of the clock and resumes those it
    /// has caught up with.
    async fn advance(&mut self) {
        let streams = self.streams();
        self.pipeline.set_streams(streams);
        let now = self.pipeline.watermark(wall_clock_ms());
        if let Some(hook) = self.hook.as_deref_mut() {
            hook.maintain().await;
            // Parked partitions (revoked, checkpointed, the assignment not yet known) hold
            // the ticks: a next owner restores them as of that checkpoint, and must not
            // find warnings published after it.
            let parked = !self.parked.is_empty();
            if let (Some(now), true, false) = (now, self.first_tick.may_tick(), parked) {
                let started = std::time::Instant::now();
                self.ticks_behind =
                    !run_ticks(&mut self.pipeline, hook, now, &mut self.out, TICK_BUDGET).await;
                let busy = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
                self.pipeline.add_busy(busy);
            }
        }
        self.route().await;
        let marks: Vec<(Topic, i32, EventTime)> = self
            .owned
            .iter()
            .flat_map(|p| {
                let marks = self.pipeline.topic_marks(*p);
                marks
                    .into_iter()
                    .map(move |(topic, mark)| (topic, *p, mark))
            })
            .collect();
        // Before every partition is heard from, the slowest stream heard sets the pace.
        let reference = now.or_else(|| marks.iter().map(|(_, _, m)| *m).min());
        self.drift.align(self.consumer.as_ref(), reference, &marks);
    }

    /// The owned topic-partitions read to their end, and those with records beyond what was
    /// read (see `Watermarks::set_streams`). A stream is read to its end only if both the
    /// statistics (a partition being fetched, its first offset) and the newest fetch response
    /// (`fetched`: fresher, but also kept for partitions not fetched from) say so; either one
    /// showing records beyond what was read makes it backlogged.
    fn streams(&self) -> Streams {
        let stats = lock(&self.consumer.context().ends).clone();
        let tracker = lock(&self.tracker);
        let mut streams = Streams {
            topics: self.inputs.len(),
            ..Streams::default()
        };
        for &partition in &self.owned {
            let next_offsets = tracker.next_offsets(partition);
            for input in &self.inputs {
                let key = (input.topic, partition);
                let fetched = input.ends(self.consumer.client(), partition);
                let stated = stats.get(&key).copied();
                let next = next_offsets.get(input.topic.name()).copied();
                let read = |(first, end): (i64, i64)| next.unwrap_or(first).max(first) >= end;
                if fetched.is_some_and(|f| !read(f)) || stated.is_some_and(|s| !read(s)) {
                    streams.backlogged.insert(key);
                } else if let Some((first, end)) = stated {
                    let end = fetched.map_or(end, |(_, f)| f.max(end));
                    if read((first, end)) {
                        streams.caught_up.insert(key);
                    }
                }
            }
        }
        streams
    }

    /// Dead letters and late records go out; the rest is done.
    async fn route(&mut self) {
        for disposition in self.out.drain(..) {
            let (topic, output, letter) = match disposition.outcome {
                Outcome::Applied | Outcome::Held | Outcome::Deferred => continue,
                Outcome::Dead(letter) => (&self.dlq_topic, "dlq", letter),
                Outcome::Late(letter) => (&self.late_topic, "late", letter),
            };
            self.metrics
                .channel_depth
                .with_label_values(&["outputs"])
                .set(self.outputs.depth() as i64);
            let (key, payload) = (letter.key.clone(), letter.to_json());
            self.outputs
                .send(Arc::clone(topic), key, payload, output)
                .await;
        }
    }

    /// Applies what the consumer callbacks reported: revoked partitions are parked and
    /// checkpointed; assigned ones are kept, restored from their checkpoint or started fresh;
    /// parked ones not assigned again are dropped.
    async fn settle_rebalance(&mut self) {
        let events = self.consumer.context().take_events();
        if events.is_empty() {
            // Ownership only changes with an event: `held` is still right (the per-record path).
            return;
        }
        for event in events {
            match event {
                RebalanceEvent::Revoked(partitions) => {
                    for p in &partitions {
                        self.owned.remove(p);
                        self.parked.insert(*p);
                    }
                    self.checkpoint(&partitions, true).await;
                    self.lease(partitions, true).await;
                }
                RebalanceEvent::Assigned(takeovers) => self.take_over(takeovers).await,
            }
        }
        if let Some(hook) = self.hook.as_mut() {
            hook.owned(&self.owned);
        }
        let mut held = lock(&self.consumer.context().held);
        *held = self.owned.union(&self.parked).copied().collect();
    }

    async fn take_over(&mut self, takeovers: Vec<(i32, Takeover)>) {
        let assigned: BTreeSet<i32> = takeovers.iter().map(|(p, _)| *p).collect();
        for p in std::mem::take(&mut self.parked).difference(&assigned) {
            tracing::info!(
                partition = p,
                "partition moved to another instance; its state is dropped"
            );
            self.drop_partition(*p);
        }
        for (partition, takeover) in takeovers {
            match takeover {
                Takeover::Kept => {}
                Takeover::Checkpoint(loaded) => {
                    self.restore(partition, *loaded).await;
                    self.drift.reassigned(self.consumer.as_ref(), partition);
                }
                Takeover::Fresh => {
                    self.drop_partition(partition);
                    self.drift.reassigned(self.consumer.as_ref(), partition);
                }
                // Not owned: nothing of it is applied, committed or checkpointed.
                Takeover::Refused(_) => {
                    self.drop_partition(partition);
                    continue;
                }
            }
            self.owned.insert(partition);
            self.pipeline.expect(partition, wall_clock_ms());
            self.assigned_at.insert(partition, wall_clock_ms());
        }
        let held: Vec<i32> = self.owned.iter().copied().collect();
        self.lease(held, false).await;
        if self.input_partitions.is_none() {
            self.input_partitions = input_partitions(self.kafka.clone()).await;
        }
        self.first_tick
            .assigned(&self.owned, self.input_partitions.as_ref());
        self.status.set_restoring(false);
    }

    fn drop_partition(&mut self, partition: i32) {
        let enterprises = enterprises_of(&self.pipeline, partition);
        if let Some(hook) = self.hook.as_mut() {
            hook.forget(&enterprises);
        }
        self.pipeline.revoke(partition);
        self.drift.forget(partition);
        lock(&self.tracker).forget(partition);
        self.checkpointed.remove(&partition);
        self.assigned_at.remove(&partition);
    }

    async fn restore(&mut self, partition: i32, loaded: Loaded) {
        self.drop_partition(partition);
        let checkpoint = loaded.checkpoint;
        if let Some(hook) = self.hook.as_mut() {
            hook.restore(&checkpoint.engine);
        }
        self.pipeline.restore(
            partition,
            checkpoint.ingest,
            checkpoint.enterprises,
            wall_clock_ms(),
        );
        lock(&self.tracker).restart_at(partition, &checkpoint.offsets);
        let tick = self.hook.as_ref().and_then(|h| h.last_tick());
        self.checkpointed
            .insert(partition, (checkpoint.offsets, tick));
        self.pipeline.take_extra(&mut self.out);
        self.route().await;
    }

    /// Snapshots `partitions` and queues them for the writer. Unless `force`, a partition
    /// that read nothing since its last checkpoint is skipped.
    async fn checkpoint(&mut self, partitions: &[i32], force: bool) {
        for &partition in partitions {
            let offsets = lock(&self.tracker).next_offsets(partition);
            // The engine moves on at every tick, records or not: a partition is unchanged only
            // if it read nothing and no tick ran since its last checkpoint.
            let tick = self.hook.as_ref().and_then(|h| h.last_tick());
            let unchanged = self.checkpointed.get(&partition) == Some(&(offsets.clone(), tick));
            if offsets.is_empty() || (unchanged && !force) {
                continue;
            }
            let job = self.snapshot(partition, &offsets).await;
            if self.jobs.send(WriterJob::Checkpoint(job)).await.is_err() {
                tracing::error!("checkpoint writer stopped");
                return;
            }
            self.checkpointed.insert(partition, (offsets, tick));
        }
    }

    /// Holds the leases of `partitions`, or (`released`) gives them up to their next owner
    /// once the checkpoints queued before are written.
    async fn lease(&mut self, partitions: Vec<i32>, released: bool) {
        if partitions.is_empty() {
            return;
        }
        let command = match released {
            true => LeaseCommand::Release(partitions),
            false => LeaseCommand::Hold(partitions),
        };
        if self.jobs.send(WriterJob::Lease(command)).await.is_err() {
            tracing::error!("checkpoint writer stopped");
        }
    }

    async fn snapshot(&mut self, partition: i32, offsets: &BTreeMap<String, i64>) -> CheckpointJob {
        // The pause: a copy of the partition's state. Encoding it runs on a blocking thread.
        let enterprises = copy_enterprises(&self.pipeline.store().partition(partition));
        let ids: BTreeSet<String> = enterprises
            .iter()
            .map(|e| e.enterprise_id.to_string())
            .collect();
        let engine = self
            .hook
            .as_ref()
            .map(|hook| hook.snapshot(&ids))
            .unwrap_or_default();
        let copy = PartitionCheckpoint {
            partition,
            offsets: offsets.clone(),
            taken_at_ms: wall_clock_ms(),
            tick: self.hook.as_ref().and_then(|h| h.last_tick()),
            ingest: self.pipeline.snapshot(partition),
            enterprises,
            engine,
        };
        let taken_at_ms = copy.taken_at_ms;
        let size_hint = self
            .metrics
            .checkpoint
            .bytes
            .with_label_values(&[&partition.to_string()])
            .get();
        let size_hint = usize::try_from(size_hint).unwrap_or(0);
        let bytes = tokio::task::spawn_blocking(move || copy.encode(size_hint));
        let mut flushed = match self.hook.as_mut() {
            Some(hook) => hook.flush().await,
            None => Vec::new(),
        };
        flushed.push(self.outputs.flush().await);
        CheckpointJob {
            partition,
            offsets: offsets.clone(),
            taken_at_ms,
            bytes,
            flushed,
        }
    }

    fn report_clock(&self) {
        let now = wall_clock_ms();
        let clock = self.pipeline.clock_report(now);
        tracing::debug!(?clock, paused = self.drift.paused(), deferred = ?self.pipeline.deferred(), "engine clock");
        self.status
            .set_watermark(clock.now.max(self.pipeline.last_clock()));
        self.status
            .set_last_tick(self.hook.as_ref().and_then(|h| h.last_tick()));
        if let Some(mark) = clock.now {
            self.metrics
                .watermark_delay
                .set((now - mark.millis()) as f64 / 1000.0);
        }
        for (state, n) in [
            ("active", clock.active),
            ("idle", clock.idle),
            ("waiting", clock.waiting),
            ("paused", self.drift.paused()),
        ] {
            self.metrics
                .clock_partitions
                .with_label_values(&[state])
                .set(n as i64);
        }
        for partition in self.pipeline.partitions() {
            if let Some(mark) = self.pipeline.partition_watermark(partition) {
                self.metrics
                    .watermark
                    .with_label_values(&[&partition.to_string()])
                    .set(mark.millis() / 1000);
            }
        }
        self.report_checkpoint_age(now);
    }

    fn report_checkpoint_age(&self, now: i64) {
        let checkpoint = &self.metrics.checkpoint;
        let oldest = self
            .owned
            .iter()
            .map(|p| {
                let written = checkpoint
                    .last_written
                    .with_label_values(&[&p.to_string()])
                    .get();
                match written {
                    0 => self.assigned_at.get(p).copied().unwrap_or(now),
                    seconds => seconds * 1000,
                }
            })
            .min();
        let age = oldest.map_or(0, |t| (now - t).max(0));
        checkpoint.age_seconds.set(age as f64 / 1000.0);
    }
}

fn enterprises_of(pipeline: &Pipeline, partition: i32) -> BTreeSet<String> {
    let state = pipeline.store().partition(partition);
    let ids = state
        .enterprises
        .iter()
        .map(|e| e.key().to_string())
        .collect();
    ids
}

/// Every partition number of the input topics (`None` if the metadata cannot be read). Asked
/// on a client of its own: a metadata request through the group's consumer disturbed its
/// fetches.
async fn input_partitions(kafka: KafkaConfig) -> Option<BTreeSet<i32>> {
    let read = tokio::task::spawn_blocking(move || {
        let client = super::table_topic::reader(&kafka, "metadata")?;
        let metadata = client.fetch_metadata(None, Duration::from_secs(10))?;
        let all: BTreeSet<i32> = metadata
            .topics()
            .iter()
            .filter(|t| kafka.topics.iter().any(|name| name == t.name()))
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect();
        Ok::<_, rdkafka::error::KafkaError>(all)
    });
    match read.await {
        Ok(Ok(all)) if !all.is_empty() => Some(all),
        Ok(Err(error)) => {
            tracing::warn!(%error, "input partitions unknown; the first tick waits for the group to settle");
            None
        }
        _ => None,
    }
}
