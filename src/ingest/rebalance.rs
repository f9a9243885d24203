//! Partition assignment for the Kafka consumer. vigil keeps librdkafka's range assignor:
//! it is the one that gives a member partition N of *every* input topic, which per-partition
//! state needs (an enterprise's readings, permits and registry entries share a partition
//! number). Cooperative-sticky would move `sensor.reading` 3 without `registry` 3.
//!
//! What a rebalance does instead of dropping state:
//! - **Revoke**: the partitions are *parked*, not dropped: the loop stops committing them and
//!   checkpoints them (which needs no broker), and keeps their state in memory.
//! - **Assign**: a partition still parked here keeps its state and is read on from where this
//!   instance stopped; any other is loaded from its newest checkpoint and read on from the
//!   checkpoint's offsets; one with no checkpoint starts fresh, its `registry` from the
//!   beginning (a Kafka Streams global table is restored the same way). Parked partitions
//!   not assigned again are dropped, silently (another instance now owns their warnings).
//!
//! A fresh partition reads its `registry` to the end before anything else: its other topics
//! are paused until the registry partition reports its end (or `BOOTSTRAP_TIMEOUT` passes),
//! so a backlog of readings never waits for indicators the registry already holds.
//!
//! Seeking happens in the assignment itself (the offsets are set on the list before it is
//! assigned), so no record is ever fetched from the wrong place; `/readyz` says not ready
//! while checkpoints load.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::statistics::Statistics;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::ClientContext;

use crate::api::LiveStatus;
use crate::checkpoint::config::OnUnreadable;
use crate::checkpoint::{lease, CheckpointStore, Loaded};
use crate::metrics::Metrics;
use crate::model::Topic;

use super::offsets::OffsetTracker;

pub type Tracker = Arc<Mutex<OffsetTracker>>;

pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Where an assigned partition's state comes from.
pub enum Takeover {
    /// Still held from before the rebalance.
    Kept,
    Checkpoint(Box<Loaded>),
    /// No checkpoint: state is rebuilt from the input (the registry from its beginning).
    Fresh,
    /// Checkpoints that cannot be used, under `checkpoint.on_unreadable = "fail"`: the
    /// partition is paused and not consumed (the reason is in `/readyz`).
    Refused(String),
}

impl Takeover {
    pub fn label(&self) -> &'static str {
        match self {
            Takeover::Kept => "kept",
            Takeover::Checkpoint(_) => "checkpoint",
            Takeover::Fresh => "fresh",
            Takeover::Refused(_) => "refused",
        }
    }
}

/// What the consumer callbacks tell the ingest loop, in order.
pub enum RebalanceEvent {
    Revoked(Vec<i32>),
    Assigned(Vec<(i32, Takeover)>),
}

pub struct IngestContext {
    pub tracker: Tracker,
    pub status: Arc<LiveStatus>,
    pub metrics: Arc<Metrics>,
    pub store: Arc<CheckpointStore>,
    /// Partition numbers assigned now (the only ones whose offsets are committed).
    pub owned: Mutex<BTreeSet<i32>>,
    /// Partition numbers whose state the loop holds (owned or parked).
    pub held: Mutex<BTreeSet<i32>>,
    pub events: Mutex<Vec<RebalanceEvent>>,
    /// Fresh partitions reading their registry first, with their paused topics and since when.
    pub bootstrapping: Mutex<BTreeMap<i32, (Vec<String>, Instant)>>,
    /// The first and end offsets of the input topic-partitions being fetched, as the latest
    /// statistics report them (see `fetched` for the fresher end of each fetch response).
    pub ends: Mutex<BTreeMap<(Topic, i32), (i64, i64)>>,
    /// Partitions assigned whose checkpoints cannot be used, paused, with the reason.
    pub refused: Mutex<BTreeMap<i32, String>>,
    on_unreadable: OnUnreadable,
    /// This instance's name in the partitions' leases, and when another holder's lease counts
    /// as stale (see `checkpoint::lease`).
    me: String,
    stale: std::time::Duration,
    runtime: tokio::runtime::Handle,
}

/// Longest a fresh partition's other topics wait for its registry to be read.
pub const BOOTSTRAP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

impl IngestContext {
    pub fn new(
        tracker: Tracker,
        status: Arc<LiveStatus>,
        metrics: Arc<Metrics>,
        store: Arc<CheckpointStore>,
    ) -> Self {
        IngestContext {
            tracker,
            status,
            metrics,
            store,
            owned: Mutex::default(),
            held: Mutex::default(),
            events: Mutex::default(),
            bootstrapping: Mutex::default(),
            ends: Mutex::default(),
            refused: Mutex::default(),
            on_unreadable: OnUnreadable::default(),
            me: lease::instance_id(),
            stale: lease::stale_after(std::time::Duration::from_secs(10)),
            runtime: tokio::runtime::Handle::current(),
        }
    }

    /// Leases are renewed every `interval` (another holder's counts as stale after
    /// `lease::stale_after` of it).
    pub fn handoff(mut self, interval: std::time::Duration) -> Self {
        self.stale = lease::stale_after(interval);
        self
    }

    /// This instance's name in the partitions' leases.
    pub fn instance(&self) -> &str {
        &self.me
    }

    /// What a partition whose checkpoints cannot be used does (`checkpoint.on_unreadable`).
    pub fn on_unreadable(mut self, policy: OnUnreadable) -> Self {
        self.on_unreadable = policy;
        self
    }

    pub fn take_events(&self) -> Vec<RebalanceEvent> {
        std::mem::take(&mut *lock(&self.events))
    }

    /// Takes the assigned partitions over; returns those with no checkpoint (fresh).
    fn on_assign(&self, list: &mut TopicPartitionList) -> Vec<i32> {
        self.status.set_restoring(true);
        let partitions = partition_numbers(list);
        let held = lock(&self.held).clone();
        let taken: Vec<i32> = (partitions.iter().copied())
            .filter(|p| !held.contains(p))
            .collect();
        self.wait_for_handoff(&taken);
        let mut takeovers: Vec<(i32, Takeover)> = partitions
            .into_iter()
            .map(|partition| match held.contains(&partition) {
                true => (partition, Takeover::Kept),
                false => (partition, self.load(partition)),
            })
            .collect();
        self.align(&mut takeovers);
        for (partition, takeover) in &takeovers {
            self.seek(list, *partition, takeover);
            if let Takeover::Refused(why) = takeover {
                lock(&self.refused).insert(*partition, why.clone());
            }
            self.metrics
                .checkpoint
                .restores
                .with_label_values(&[takeover.label()])
                .inc();
        }
        lock(&self.owned).extend(takeovers.iter().map(|(p, _)| *p));
        tracing::info!(
            partitions = ?takeovers.iter().map(|(p, t)| format!("{p}:{}", t.label())).collect::<Vec<_>>(),
            "partitions assigned"
        );
        let fresh = takeovers
            .iter()
            .filter(|(_, t)| matches!(t, Takeover::Fresh))
            .map(|(p, _)| *p)
            .collect();
        lock(&self.events).push(RebalanceEvent::Assigned(takeovers));
        fresh
    }

    /// Waits until the instances that held `partitions` have written their last checkpoints
    /// of them (see `checkpoint::lease`).
    fn wait_for_handoff(&self, partitions: &[i32]) {
        if partitions.is_empty() {
            return;
        }
        let started = Instant::now();
        let (store, taken) = (Arc::clone(&self.store), partitions.to_vec());
        let (me, stale) = (self.me.clone(), self.stale);
        let found = block_on(&self.runtime, async move {
            lease::wait_for_handoff(&store, &taken, &me, stale).await
        });
        for handoff in found.values() {
            let handoffs = &self.metrics.checkpoint.handoffs;
            handoffs.with_label_values(&[handoff.label()]).inc();
        }
        tracing::info!(
            handoffs = ?found.iter().map(|(p, h)| format!("{p}:{}", h.label())).collect::<Vec<_>>(),
            waited_ms = started.elapsed().as_millis() as u64,
            "partitions handed over"
        );
    }

    /// Partitions taken over together restart at one engine tick. A cycle checkpoints every
    /// partition at the same tick, but a crash can fall between two of its writes; the
    /// partitions written last are then read at the tick of the others (their previous
    /// checkpoint), or the engine would resume past ticks some enterprises never had.
    fn align(&self, takeovers: &mut [(i32, Takeover)]) {
        let tick_of = |t: &Takeover| match t {
            Takeover::Checkpoint(loaded) => Some(loaded.checkpoint.tick),
            _ => None,
        };
        let Some(common) = takeovers.iter().filter_map(|(_, t)| tick_of(t)).min() else {
            return;
        };
        for (partition, takeover) in takeovers.iter_mut() {
            if tick_of(takeover).is_none_or(|tick| tick <= common) {
                continue;
            }
            let (store, p) = (Arc::clone(&self.store), *partition);
            match block_on(&self.runtime, async move {
                store.newest_at_or_before(p, common).await
            }) {
                Ok(Some(older)) => {
                    tracing::info!(partition = p, location = %older.location, ?common, "checkpoint of the tick the other partitions restart at");
                    *takeover = Takeover::Checkpoint(Box::new(older));
                }
                Ok(None) => {
                    tracing::warn!(partition = p, ?common, "no checkpoint at the tick the other partitions restart at; restored at its own");
                }
                Err(error) => {
                    tracing::warn!(partition = p, %error, "older checkpoint unreadable; restored at its own tick");
                }
            }
        }
    }

    /// The newest checkpoint of `partition`, read in the callback (the assignment waits for
    /// it, so no record is fetched before its offsets are known).
    fn load(&self, partition: i32) -> Takeover {
        let started = Instant::now();
        let store = Arc::clone(&self.store);
        let loaded = block_on(&self.runtime, async move { store.latest(partition).await });
        match loaded {
            Ok(Some(loaded)) => {
                self.metrics
                    .checkpoint
                    .restore_seconds
                    .observe(started.elapsed().as_secs_f64());
                tracing::info!(partition, location = %loaded.location, bytes = loaded.bytes, took_ms = started.elapsed().as_millis() as u64, "checkpoint loaded");
                Takeover::Checkpoint(Box::new(loaded))
            }
            Ok(None) => Takeover::Fresh,
            Err(error) => {
                self.metrics.checkpoint.failures.inc();
                match self.on_unreadable {
                    // Reading on from the committed offsets with empty state loses the state,
                    // not the input: committed offsets only ever follow a written checkpoint.
                    OnUnreadable::Fresh => {
                        tracing::error!(partition, %error, "checkpoint unusable; starting the partition fresh (checkpoint.on_unreadable = \"fresh\")");
                        Takeover::Fresh
                    }
                    OnUnreadable::Fail => {
                        tracing::error!(partition, %error, "checkpoint unusable; the partition is NOT consumed until this is fixed (checkpoint.on_unreadable = \"fail\")");
                        Takeover::Refused(error.to_string())
                    }
                }
            }
        }
    }

    fn publish_refused(&self) {
        let reasons = lock(&self.refused)
            .iter()
            .map(|(p, why)| format!("partition {p}: {why}"))
            .collect();
        self.status.set_refused(reasons);
    }

    /// Pauses every topic of the refused partitions just assigned, and tells `/readyz`.
    fn pause_refused(
        &self,
        consumer: &BaseConsumer<Self>,
        list: &TopicPartitionList,
    ) -> rdkafka::error::KafkaResult<()> {
        self.publish_refused();
        let refused = lock(&self.refused);
        let mut paused = TopicPartitionList::new();
        for e in list.elements() {
            if refused.contains_key(&e.partition()) {
                paused.add_partition(e.topic(), e.partition());
            }
        }
        if paused.count() == 0 {
            return Ok(());
        }
        consumer.pause(&paused)
    }

    /// Sets where each topic of `partition` is read from.
    fn seek(&self, list: &mut TopicPartitionList, partition: i32, takeover: &Takeover) {
        let kept = match takeover {
            Takeover::Kept => lock(&self.tracker).next_offsets(partition),
            _ => BTreeMap::new(),
        };
        let topics: Vec<String> = list
            .elements()
            .iter()
            .filter(|e| e.partition() == partition)
            .map(|e| e.topic().to_owned())
            .collect();
        for topic in topics {
            let offset = match takeover {
                Takeover::Kept => kept
                    .get(&topic)
                    .map_or(Offset::Stored, |o| Offset::Offset(*o)),
                Takeover::Checkpoint(loaded) => loaded
                    .checkpoint
                    .offsets
                    .get(&topic)
                    .map_or(Offset::Beginning, |o| Offset::Offset(*o)),
                Takeover::Fresh if topic == Topic::Registry.name() => Offset::Beginning,
                Takeover::Fresh | Takeover::Refused(_) => Offset::Stored,
            };
            if let Err(error) = list.set_partition_offset(&topic, partition, offset) {
                tracing::warn!(%topic, partition, %error, "cannot set the start offset");
            }
        }
    }

    /// Pauses every topic but `registry` of the `fresh` partitions just assigned, and again
    /// those of partitions assigned back before their registry was read (a rebalance in the
    /// middle of it; otherwise their topics would stay paused with nothing left to resume them).
    fn pause_for_registry(
        &self,
        consumer: &BaseConsumer<Self>,
        list: &TopicPartitionList,
        fresh: Vec<i32>,
    ) -> rdkafka::error::KafkaResult<()> {
        let has_registry = |p: i32| {
            list.elements()
                .iter()
                .any(|e| e.partition() == p && e.topic() == Topic::Registry.name())
        };
        let mut paused = TopicPartitionList::new();
        let mut bootstrapping = lock(&self.bootstrapping);
        let assigned = partition_numbers(list);
        bootstrapping.retain(|p, _| assigned.contains(p));
        // Assigned back while its registry was being read: its topics wait as before.
        for (p, (topics, _)) in bootstrapping.iter() {
            for topic in topics {
                paused.add_partition(topic, *p);
            }
        }
        for p in fresh.into_iter().filter(|p| has_registry(*p)) {
            let topics: Vec<String> = list
                .elements()
                .iter()
                .filter(|e| e.partition() == p && e.topic() != Topic::Registry.name())
                .map(|e| e.topic().to_owned())
                .collect();
            for topic in &topics {
                paused.add_partition(topic, p);
            }
            bootstrapping.insert(p, (topics, Instant::now()));
        }
        if paused.count() == 0 {
            return Ok(());
        }
        tracing::info!(partitions = ?bootstrapping.keys().collect::<Vec<_>>(), "reading the registry before the rest");
        consumer.pause(&paused)
    }

    /// The registry of `partition` was read to its end (or waited too long): its other
    /// topics go on.
    pub fn end_bootstrap<C: Consumer<Self>>(&self, consumer: &C, partition: i32) {
        let Some((topics, since)) = lock(&self.bootstrapping).remove(&partition) else {
            return;
        };
        let mut list = TopicPartitionList::new();
        for topic in &topics {
            list.add_partition(topic, partition);
        }
        tracing::info!(
            partition,
            took_ms = since.elapsed().as_millis() as u64,
            "registry read; the partition's other topics go on"
        );
        if let Err(error) = consumer.resume(&list) {
            tracing::error!(partition, %error, "cannot resume the partition's topics");
        }
    }

    /// Partitions that have waited for their registry longer than `BOOTSTRAP_TIMEOUT`.
    pub fn overdue_bootstraps(&self) -> Vec<i32> {
        lock(&self.bootstrapping)
            .iter()
            .filter(|(_, (_, since))| since.elapsed() > BOOTSTRAP_TIMEOUT)
            .map(|(p, _)| *p)
            .collect()
    }

    fn on_revoke(&self, list: &TopicPartitionList) {
        let partitions = partition_numbers(list);
        let mut owned = lock(&self.owned);
        for p in &partitions {
            // A registry still being read stays `bootstrapping`: assigned back, the
            // partition's other topics must still wait for it (and then be resumed).
            owned.remove(p);
            lock(&self.refused).remove(p);
        }
        self.publish_refused();
        tracing::info!(
            ?partitions,
            "partitions revoked; parked until the assignment"
        );
        lock(&self.events).push(RebalanceEvent::Revoked(partitions));
    }
}

fn partition_numbers(list: &TopicPartitionList) -> Vec<i32> {
    let set: BTreeSet<i32> = list.elements().iter().map(|e| e.partition()).collect();
    set.into_iter().collect()
}

/// Runs a future to completion from inside a librdkafka callback.
fn block_on<F>(runtime: &tokio::runtime::Handle, future: F) -> F::Output
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    match runtime.runtime_flavor() {
        tokio::runtime::RuntimeFlavor::CurrentThread => {
            // This thread drives the runtime, so the future runs on a helper thread of its own.
            std::thread::scope(|scope| {
                scope
                    .spawn(|| {
                        tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()
                            .expect("a runtime for the checkpoint load")
                            .block_on(future)
                    })
                    .join()
                    .expect("checkpoint load thread")
            })
        }
        _ => tokio::task::block_in_place(|| runtime.block_on(future)),
    }
}

impl ClientContext for IngestContext {
    /// A partition's end is news for a bootstrapping registry (the loop gets it too), not an
    /// error.
    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        use rdkafka::error::{KafkaError, RDKafkaErrorCode};
        match error {
            KafkaError::PartitionEOF(_) | KafkaError::Global(RDKafkaErrorCode::PartitionEOF) => {
                tracing::trace!(reason, "end of partition")
            }
            error => tracing::error!(%error, reason, "librdkafka"),
        }
    }

    /// Publishes consumer lag per partition of the input topics (labels stay bounded: topics
    /// vigil knows, and their partitions).
    fn stats(&self, statistics: Statistics) {
        let mut total = 0;
        let mut ends = lock(&self.ends);
        for (name, topic) in &statistics.topics {
            let Some(known) = Topic::from_name(name) else {
                continue;
            };
            for (partition, stats) in &topic.partitions {
                // The end counts once the partition is fetched from (before, it reads 0 or
                // less, which would pass for an empty stream).
                let key = (known, *partition);
                match *partition >= 0 && stats.hi_offset >= 0 && stats.fetch_state == "active" {
                    true => ends.insert(key, (stats.lo_offset.max(0), stats.hi_offset)),
                    false => ends.remove(&key),
                };
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
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        list: &mut TopicPartitionList,
    ) {
        let result = match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                let fresh = self.on_assign(list);
                consumer
                    .assign(list)
                    .and_then(|()| self.pause_for_registry(consumer, list, fresh))
                    .and_then(|()| self.pause_refused(consumer, list))
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                self.on_revoke(list);
                consumer.unassign()
            }
            other => {
                tracing::error!(error = ?other, "rebalance error");
                consumer.unassign()
            }
        };
        if let Err(error) = result {
            tracing::error!(%error, "applying the assignment failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use rdkafka::error::{KafkaError, RDKafkaErrorCode};

    use super::*;

    /// What a subscriber wrote, shared with the test.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            lock(&self.0).extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The lines logged at `level` or above while `report` runs.
    fn logged(level: tracing::Level, report: impl FnOnce()) -> String {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(level)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, report);
        let bytes = lock(&captured.0).clone();
        String::from_utf8(bytes).unwrap()
    }

    #[tokio::test]
    async fn a_partitions_end_is_not_an_error_and_a_real_error_is() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = crate::config::Config::default().checkpoint;
        config.url = dir.path().display().to_string();
        let context = IngestContext::new(
            Tracker::default(),
            Arc::new(LiveStatus::default()),
            Arc::new(Metrics::new()),
            Arc::new(CheckpointStore::open(&config, "group").unwrap()),
        );
        let ends = logged(tracing::Level::DEBUG, || {
            context.error(KafkaError::PartitionEOF(3), "end");
            let global = KafkaError::Global(RDKafkaErrorCode::PartitionEOF);
            context.error(global, "end");
        });
        assert_eq!(ends, "", "a partition's end is traced, not logged");
        let failure = logged(tracing::Level::DEBUG, || {
            let down = KafkaError::Global(RDKafkaErrorCode::AllBrokersDown);
            context.error(down, "3/3 brokers are down");
        });
        assert!(failure.contains("ERROR"), "{failure}");
        assert!(failure.contains("3/3 brokers are down"), "{failure}");
    }
}
