//! The ingest pipeline, shared by every source (Kafka, replay): decode → validate → check
//! time against the partition's watermark → drop duplicates → (wait for the tick before it)
//! → apply to state. Each record ends in exactly one disposition: applied, held (waiting for
//! its registry entry, resolved later), dead-lettered with a reason, or late. Nothing is
//! dropped silently.
//!
//! With an engine ticking on event time (`defer_to_ticks`), an accepted record with an event
//! time after the last tick is deferred (`deferred`) and applied by `release_until` once the
//! ticks before it are evaluated, so each tick sees the same state live and in replay.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::config::IngestConfig;
use crate::metrics::Metrics;
use crate::model::*;
use crate::state::{EnterpriseState, PartitionState, StateRejection, StateStore};

use super::dead_letter::DeadLetter;
use super::decode;
use super::dedup::{self, DedupFilter};
use super::deferred::{Deferred, DeferredRecord};
use super::pending::{PendingBuffer, PendingRecord};
use super::reason::{ReasonCode, Rejection};
use super::record::{Origin, Position, RecordRef};
use super::validate;
use super::watermark::{ClockReport, PartitionClock, Watermarks};

/// Events before this instant (2000-01-01T00:00:00Z) are refused as too old.
const EPOCH_2000_MS: i64 = 946_684_800_000;

/// A record's time refused, and whether by the partition's other enterprises (then it counts
/// as a claim of the future guard) or by an absolute bound (the year 2000, the wall clock: a
/// time no stream can truly reach never counts).
struct TimeRefusal {
    rejection: Rejection,
    by_neighbours: bool,
}

pub(crate) use crate::model::time::wall_clock_ms;

/// What became of a record.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    Applied,
    /// Waiting for a registry entry; a later disposition of the same origin resolves it.
    Held,
    /// Accepted, waiting for the tick before its event time; a later disposition of the same
    /// origin resolves it (`release_until`).
    Deferred,
    Dead(Box<DeadLetter>),
    Late(Box<DeadLetter>),
}

#[derive(Debug, PartialEq)]
pub struct Disposition {
    pub origin: Origin,
    pub outcome: Outcome,
}

/// A partition's ingest state as a checkpoint holds it: its clock, the identities it has
/// applied, and the records waiting for their registry entry.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct IngestSnapshot {
    pub clock: Option<PartitionClock>,
    pub dedup: Option<DedupFilter>,
    pub pending: Vec<PendingRecord>,
    /// Accepted records waiting for the engine's next tick.
    #[serde(default)]
    pub deferred: Vec<DeferredRecord>,
}

struct PartitionIngest {
    state: Arc<PartitionState>,
    dedup: DedupFilter,
}

/// Whether a record is new input or a held record now released.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Admission {
    New,
    /// Held for its registry entry, now known.
    Released,
    /// Deferred to the tick before it: its time, duplicate and clock checks are done.
    Due,
}

pub struct Pipeline {
    state: Arc<StateStore>,
    config: IngestConfig,
    metrics: Arc<Metrics>,
    partitions: FxHashMap<i32, PartitionIngest>,
    watermarks: Watermarks,
    pending: PendingBuffer,
    /// Held records released by a registry entry, processed after the record that freed them.
    released: Vec<PendingRecord>,
    /// Dispositions of other records produced while handling one (pending overflow).
    extra: Vec<Disposition>,
    /// The wall clock when the pipeline started: recorded input cannot be ahead of it.
    started_wall_ms: i64,
    /// The newest engine clock given out (`watermark`).
    clock_floor: Option<EventTime>,
    /// Wall time the source spent evaluating ticks instead of reading (`add_busy`).
    busy_ms: i64,
    /// Whether accepted records wait for the engine's ticks (`defer_to_ticks`).
    defer: bool,
    deferred: Deferred,
    /// The newest time released: records up to it apply at once.
    released_until: Option<EventTime>,
}

impl Pipeline {
    pub fn new(state: Arc<StateStore>, config: IngestConfig, metrics: Arc<Metrics>) -> Self {
        let watermarks = Watermarks::new(
            config.allowed_lateness.as_millis() as i64,
            config.idle_timeout.as_millis() as i64,
        );
        let pending = PendingBuffer::new(
            config.pending_capacity,
            config.pending_max_bytes,
            config.pending_timeout.as_millis() as i64,
        );
        Pipeline {
            state,
            config,
            metrics,
            partitions: FxHashMap::default(),
            watermarks,
            pending,
            released: Vec::new(),
            extra: Vec::new(),
            started_wall_ms: wall_clock_ms(),
            busy_ms: 0,
            clock_floor: None,
            defer: false,
            deferred: Deferred::default(),
            released_until: None,
        }
    }

    /// Accepted records with an event time after the last release wait for `release_until`
    /// (an engine ticks on this pipeline's clock). Without it records apply at once.
    pub fn defer_to_ticks(&mut self) {
        self.defer = true;
    }

    /// Applies the deferred records with event time ≤ `until`, in event-time order; their
    /// dispositions go to `out`. Later records apply at once up to `until`.
    pub fn release_until(&mut self, until: EventTime, out: &mut Vec<Disposition>) {
        self.released_until = Some(self.released_until.map_or(until, |r| r.max(until)));
        while let Some(owned) = self.deferred.pop_due(until) {
            let record = owned.as_ref();
            let topic = Topic::from_name(record.topic);
            let outcome = self.admit(topic, &record, None, Admission::Due);
            out.push(Disposition {
                origin: origin(topic, &record),
                outcome,
            });
            self.settle(record.partition, out);
        }
        self.metrics.deferred.set(self.deferred.len() as i64);
    }

    /// The event time of the next record waiting for a tick.
    pub fn next_deferred(&self) -> Option<EventTime> {
        self.deferred.next_time()
    }

    /// The source spent `ms` of wall time evaluating ticks, not reading: it does not count
    /// toward any partition's idleness (a partition with a backlog is never idle, however
    /// long the engine takes to catch up).
    pub fn add_busy(&mut self, ms: i64) {
        self.busy_ms = self.busy_ms.saturating_add(ms.max(0));
    }

    /// The clock idleness is measured on: wall time spent reading.
    fn idle_clock(&self, wall_ms: i64) -> i64 {
        wall_ms.saturating_sub(self.busy_ms)
    }

    /// Records waiting for a tick, and their payload bytes.
    pub fn deferred(&self) -> (usize, usize) {
        (self.deferred.len(), self.deferred.bytes())
    }

    /// Handles one record. `wall_ms` is the wall clock for live sources (`None` in replay,
    /// which is then purely event-time and deterministic). Dispositions are appended to `out`:
    /// the record's own first, then any held records it resolved.
    pub fn process(
        &mut self,
        record: RecordRef<'_>,
        wall_ms: Option<i64>,
        out: &mut Vec<Disposition>,
    ) {
        let topic = Topic::from_name(record.topic);
        self.count_read(topic, &record);
        let outcome = self.admit(topic, &record, wall_ms, Admission::New);
        out.push(Disposition {
            origin: origin(topic, &record),
            outcome,
        });
        self.settle(record.partition, out);
    }

    /// A record its source could not even frame (a replay line that is no envelope).
    pub fn reject_unreadable(
        &mut self,
        record: &RecordRef<'_>,
        rejection: Rejection,
        out: &mut Vec<Disposition>,
    ) {
        self.count_read(None, record);
        self.metrics.reject(None, rejection.code);
        out.push(Disposition {
            origin: origin(None, record),
            outcome: Outcome::Dead(Box::new(DeadLetter::rejected(record, rejection))),
        });
    }

    /// End of input (replay): every record still held is dead-lettered `unknown_indicator`.
    pub fn finish(&mut self, out: &mut Vec<Disposition>) {
        self.release_until(EventTime::from_millis(i64::MAX), out);
        for held in self.pending.drain(None) {
            out.push(self.never_registered(held, "input ended before its registry entry arrived"));
        }
        self.metrics.pending.set(0);
    }

    /// A partition was revoked: forget its state. Held records are not dead-lettered: their
    /// offsets were never committed, so the next owner reads them again.
    pub fn revoke(&mut self, partition: i32) {
        self.partitions.remove(&partition);
        self.deferred.forget(partition);
        self.metrics.deferred.set(self.deferred.len() as i64);
        self.watermarks.forget(partition);
        self.state.remove_partition(partition);
        drop(self.pending.drain(Some(partition)));
        self.metrics.pending.set(self.pending.len() as i64);
    }

    /// The state this pipeline writes.
    pub fn store(&self) -> &Arc<StateStore> {
        &self.state
    }

    /// What a checkpoint of `partition` needs from ingest (its enterprises are in the store).
    pub fn snapshot(&self, partition: i32) -> IngestSnapshot {
        IngestSnapshot {
            clock: self.watermarks.snapshot(partition),
            dedup: self.partitions.get(&partition).map(|p| p.dedup.clone()),
            pending: self.pending.of_partition(partition).cloned().collect(),
            deferred: self.deferred.of_partition(partition),
        }
    }

    /// Takes over a partition from its checkpoint: its enterprises, clock, applied identities
    /// and waiting records, replacing whatever this pipeline held of it.
    pub fn restore(
        &mut self,
        partition: i32,
        snapshot: IngestSnapshot,
        enterprises: Vec<EnterpriseState>,
        wall_ms: i64,
    ) {
        self.revoke(partition);
        let state = self.state.partition(partition);
        for enterprise in enterprises {
            state.insert(enterprise);
        }
        if let Some(clock) = snapshot.clock {
            self.watermarks
                .restore(partition, clock, self.idle_clock(wall_ms));
        }
        let capacity = self.config.dedup_capacity;
        self.partitions.insert(
            partition,
            PartitionIngest {
                state,
                dedup: snapshot.dedup.unwrap_or_else(|| DedupFilter::new(capacity)),
            },
        );
        for waiting in snapshot.deferred {
            let topic = Topic::from_name(&waiting.record.topic).unwrap_or(Topic::SensorReading);
            self.deferred.push(waiting.ts, topic, waiting.record);
        }
        self.metrics.deferred.set(self.deferred.len() as i64);
        for held in snapshot.pending {
            for evicted in self.pending.hold(held) {
                let rejection = Rejection::new(
                    ReasonCode::PendingOverflow,
                    "the pending buffer is full while restoring a checkpoint",
                );
                let disposition = self.dead_letter_held(evicted, rejection);
                self.extra.push(disposition);
            }
        }
        self.metrics.pending.set(self.pending.len() as i64);
    }

    /// Dispositions left behind by `restore` (a restored pending buffer that overflowed).
    pub fn take_extra(&mut self, out: &mut Vec<Disposition>) {
        out.append(&mut self.extra);
    }

    /// A partition was assigned: the clock waits for it (see `Watermarks::expect`).
    pub fn expect(&mut self, partition: i32, wall_ms: i64) {
        self.watermarks.expect(partition, self.idle_clock(wall_ms));
    }

    /// Where the engine's first tick is (see `Watermarks::origin`).
    pub fn origin(&self) -> Option<EventTime> {
        self.watermarks.origin()
    }

    /// What the source knows of its streams (live): see `Watermarks::set_streams`.
    pub fn set_streams(&mut self, streams: super::watermark::Streams) {
        self.watermarks.set_streams(streams);
    }

    /// The engine's event-time clock (see `Watermarks::global`). When a stream comes back
    /// behind it, it goes back until that stream moves on or is idle; no tick runs again
    /// (the driver goes on after its last), and the stream's records apply at once.
    pub fn watermark(&mut self, wall_ms: i64) -> Option<EventTime> {
        let now = self.watermarks.global(self.idle_clock(wall_ms));
        self.clock_floor = self.clock_floor.max(now);
        now
    }

    /// The newest engine clock given out by `watermark`.
    pub fn last_clock(&self) -> Option<EventTime> {
        self.clock_floor
    }

    /// The engine clock with the streams it leaves out (idle) or waits for.
    pub fn clock_report(&self, wall_ms: i64) -> ClockReport {
        self.watermarks.report(self.idle_clock(wall_ms))
    }

    pub fn partition_watermark(&self, partition: i32) -> Option<EventTime> {
        self.watermarks.of(partition)
    }

    /// The watermark of each topic heard from on `partition`.
    pub fn topic_marks(&self, partition: i32) -> Vec<(Topic, EventTime)> {
        self.watermarks.topic_marks(partition)
    }

    /// The newest event time seen on a partition.
    pub fn partition_max_event(&self, partition: i32) -> Option<EventTime> {
        self.watermarks.max_event(partition)
    }

    /// The partitions this pipeline has seen records from.
    pub fn partitions(&self) -> Vec<i32> {
        self.partitions.keys().copied().collect()
    }

    fn admit(
        &mut self,
        topic: Option<Topic>,
        record: &RecordRef<'_>,
        wall_ms: Option<i64>,
        admission: Admission,
    ) -> Outcome {
        match self.handle(topic, record, wall_ms, admission) {
            Ok(outcome) => {
                self.count(topic, &outcome);
                outcome
            }
            Err(rejection) => {
                self.metrics.reject(topic, rejection.code);
                Outcome::Dead(Box::new(DeadLetter::rejected(record, rejection)))
            }
        }
    }

    fn count_read(&self, topic: Option<Topic>, record: &RecordRef<'_>) {
        let counters = self.metrics.topic(topic);
        counters.records.inc();
        counters.bytes.inc_by(record.payload.len() as u64);
    }

    fn count(&self, topic: Option<Topic>, outcome: &Outcome) {
        let counters = self.metrics.topic(topic);
        match outcome {
            Outcome::Applied => counters.applied.inc(),
            Outcome::Late(_) => counters.late.inc(),
            Outcome::Held | Outcome::Deferred | Outcome::Dead(_) => {}
        }
    }

    fn handle(
        &mut self,
        topic: Option<Topic>,
        record: &RecordRef<'_>,
        wall_ms: Option<i64>,
        admission: Admission,
    ) -> Result<Outcome, Rejection> {
        let topic = topic.ok_or_else(|| {
            Rejection::new(
                ReasonCode::UnknownTopic,
                format!("topic {:?} is not an input of vigil", record.topic),
            )
        })?;
        if record.payload.len() > self.config.max_message_bytes {
            return Err(oversized(
                record.payload.len(),
                self.config.max_message_bytes,
            ));
        }
        let event = decode::decode(topic, record.payload)?;
        validate::check_key(&event, record.key)?;
        validate::check_fields(&event)?;
        let ts = event.event_time();
        let policy = topic.time_policy();
        let key = key_hash(record.key);
        if let (Some(ts), Admission::New) = (ts, admission) {
            if let Err(refusal) = self.check_time(record.partition, key, ts, wall_ms, policy) {
                if refusal.by_neighbours {
                    self.watermarks.claim(record.partition, key, ts);
                }
                return Err(refusal.rejection);
            }
            let late = self.watermarks.late(topic, record.partition, ts);
            if let (Some(mark), TimePolicy::Windowed) = (late, policy) {
                return Ok(Outcome::Late(Box::new(DeadLetter::late(record, ts, mark))));
            }
        }
        let fingerprint = dedup::fingerprint(topic, &event);
        let partition = self.partition(record.partition);
        if admission != Admission::Due && fingerprint.is_some_and(|fp| partition.dedup.contains(fp))
        {
            return Err(Rejection::new(
                ReasonCode::Duplicate,
                "an event with the same identity and time was already applied",
            ));
        }
        let state = Arc::clone(&partition.state);
        let deferred = ts.filter(|ts| admission == Admission::New && self.defers(*ts, policy));
        if let Some(ts) = deferred {
            // Accepted now: it moves the clock (validity dates do not) and counts as seen; it
            // applies at its tick.
            if policy != TimePolicy::Dated {
                self.observe(topic, record.partition, key, ts, wall_ms);
            }
            if let Some(fp) = fingerprint {
                self.remember(record.partition, fp, ts, policy);
            }
            self.deferred.push(ts, topic, record.to_owned());
            return Ok(Outcome::Deferred);
        }
        let outcome = self.apply(&state, topic, record, &event)?;
        if admission == Admission::Due {
            return Ok(outcome);
        }
        if let (Some(ts), false) = (ts, policy == TimePolicy::Dated) {
            self.observe(topic, record.partition, key, ts, wall_ms);
        }
        if let (Outcome::Applied, Some(fp), Some(ts)) = (&outcome, fingerprint, ts) {
            self.remember(record.partition, fp, ts, policy);
        }
        Ok(outcome)
    }

    /// Whether an accepted record at `ts` waits for a tick. A dated record (a staffing
    /// snapshot, an epidemic level) waits for the start of its validity; one arriving after
    /// it applies at once: nothing says when it was filed, so its effect is the one that
    /// depends on when it arrives.
    fn defers(&self, ts: EventTime, _policy: TimePolicy) -> bool {
        self.defer && self.released_until.is_none_or(|released| ts > released)
    }

    fn observe(
        &mut self,
        topic: Topic,
        partition: i32,
        key: u64,
        ts: EventTime,
        wall_ms: Option<i64>,
    ) {
        let idle_clock = wall_ms.map_or(0, |w| self.idle_clock(w));
        self.watermarks
            .observe(topic, partition, key, ts, idle_clock);
        if let (Some(wall), TimePolicy::Windowed) = (wall_ms, topic.time_policy()) {
            let lag_ms = wall.saturating_sub(ts.millis()).max(0);
            self.metrics.event_lag.observe(lag_ms as f64 / 1000.0);
        }
    }

    fn remember(&mut self, partition: i32, fingerprint: u64, ts: EventTime, policy: TimePolicy) {
        let retention = match policy {
            TimePolicy::Windowed => 0,
            TimePolicy::Recorded | TimePolicy::Dated => {
                self.config.dedup_retention.as_millis() as i64
            }
        };
        let mark = self.watermarks.of(partition);
        let forget_after = ts.max(mark.unwrap_or(ts)).saturating_add_ms(retention);
        let partition = self.partition(partition);
        partition.dedup.insert(fingerprint, forget_after, mark);
        let evicted = std::mem::take(&mut partition.dedup.evicted);
        self.metrics.dedup_evicted.inc_by(evicted);
    }

    /// Refuses times before 2000 and times too far ahead: of the wall clock (live input is
    /// bounded by the clock now; recorded input by the clock when the replay started, which it
    /// cannot be ahead of), and of what the partition's other enterprises claim (see
    /// `frontier`: it cannot freeze a partition). Dated topics carry validity dates, never
    /// checked.
    fn check_time(
        &self,
        partition: i32,
        key: u64,
        ts: EventTime,
        wall_ms: Option<i64>,
        policy: TimePolicy,
    ) -> Result<(), TimeRefusal> {
        let absolute = |rejection| TimeRefusal {
            rejection,
            by_neighbours: false,
        };
        if ts.millis() < EPOCH_2000_MS {
            return Err(absolute(Rejection::new(
                ReasonCode::TimestampTooOld,
                format!("event time {ts} is before 2000"),
            )));
        }
        if policy == TimePolicy::Dated {
            return Ok(());
        }
        let skew = self.config.max_ahead_of_wall_clock.as_millis() as i64;
        let wall = wall_ms.unwrap_or(self.started_wall_ms);
        // Replay reads the clock again only for a record past the start's bound.
        let wall = if ts.millis() > wall.saturating_add(skew) && wall_ms.is_none() {
            wall_clock_ms()
        } else {
            wall
        };
        if ts.millis() > wall.saturating_add(skew) {
            return Err(absolute(Rejection::new(
                ReasonCode::TimestampInFuture,
                format!(
                    "event time {ts} is more than {skew} ms ahead of the wall clock {}",
                    EventTime::from_millis(wall)
                ),
            )));
        }
        let ahead = self.config.max_ahead_of_watermark.as_millis() as i64;
        if let Some(reference) = self.watermarks.too_far_ahead(partition, key, ts, ahead) {
            return Err(TimeRefusal {
                rejection: Rejection::new(
                    ReasonCode::TimestampInFuture,
                    format!("event time {ts} is more than {ahead} ms ahead of what the partition's other enterprises report ({reference})"),
                ),
                by_neighbours: true,
            });
        }
        Ok(())
    }

    fn partition(&mut self, id: i32) -> &mut PartitionIngest {
        let (state, capacity) = (&self.state, self.config.dedup_capacity);
        self.partitions
            .entry(id)
            .or_insert_with(|| PartitionIngest {
                state: state.partition(id),
                dedup: DedupFilter::new(capacity),
            })
    }

    fn apply(
        &mut self,
        partition: &PartitionState,
        topic: Topic,
        record: &RecordRef<'_>,
        event: &Event<'_>,
    ) -> Result<Outcome, Rejection> {
        let limits = &self.state.limits;
        match event {
            Event::RegionEpidemic(r) => {
                self.state
                    .regions
                    .apply(r, limits.max_regions)
                    .map_err(|_| capacity("region table"))?;
            }
            Event::Registry(change) => self.apply_registry(partition, record, change)?,
            Event::SensorReading(r) => {
                let applied =
                    partition
                        .enterprises
                        .get_mut(r.enterprise_id.as_ref())
                        .map(|mut ent| {
                            let before = ent.reading_footprint(&r.target_code);
                            ent.apply_reading(r, limits)?;
                            note_input(&mut ent, topic, record, Some(r.ts), limits);
                            partition.account(ent.reading_footprint(&r.target_code) - before);
                            Ok(())
                        });
                match applied {
                    Some(Ok(())) => {}
                    None | Some(Err(StateRejection::UnknownIndicator(_))) => {
                        return Ok(self.hold(record, r.ts, &r.enterprise_id, &r.target_code))
                    }
                    Some(Err(other)) => return Err(from_state(other)),
                }
            }
            Event::SensorStatus(s)
                if s.target_code
                    .as_deref()
                    .is_some_and(|code| !indicator_known(partition, &s.enterprise_id, code)) =>
            {
                return Ok(self.hold(
                    record,
                    s.ts,
                    &s.enterprise_id,
                    s.target_code.as_deref().unwrap_or_default(),
                ));
            }
            other => {
                let id = other.key_id().unwrap_or_default();
                let mut ent = enterprise_mut(partition, id, limits)?;
                let before = ent.footprint();
                let applied = ent.apply(other, limits);
                if applied.is_ok() {
                    note_input(&mut ent, topic, record, other.event_time(), limits);
                }
                partition.account(ent.footprint() - before);
                applied.map_err(from_state)?;
            }
        }
        Ok(Outcome::Applied)
    }

    fn apply_registry(
        &mut self,
        partition: &PartitionState,
        record: &RecordRef<'_>,
        change: &RegistryChange,
    ) -> Result<(), Rejection> {
        let key = record
            .key
            .and_then(|k| std::str::from_utf8(k).ok())
            .unwrap_or_default();
        let enterprise_id = decode::registry_enterprise(change).unwrap_or(key);
        match change {
            RegistryChange::Deleted {
                entity: EntityKind::Enterprise,
                ..
            } => {
                partition.remove(enterprise_id);
                return Ok(());
            }
            // Deleting from an enterprise vigil never saw changes nothing.
            RegistryChange::Deleted { .. }
                if !partition.enterprises.contains_key(enterprise_id) =>
            {
                return Ok(());
            }
            _ => {}
        }
        let limits = &self.state.limits;
        let mut ent = enterprise_mut(partition, enterprise_id, limits)?;
        let before = ent.footprint();
        let applied = ent.apply_registry(change, limits);
        partition.account(ent.footprint() - before);
        drop(ent);
        applied.map_err(from_state)?;
        if let RegistryChange::Indicator(indicator) = change {
            let released = self.pending.release(enterprise_id, &indicator.target_code);
            self.released.extend(released);
        }
        Ok(())
    }

    fn hold(
        &mut self,
        record: &RecordRef<'_>,
        ts: EventTime,
        enterprise_id: &str,
        target_code: &str,
    ) -> Outcome {
        let evicted = self.pending.hold(PendingRecord {
            record: record.to_owned(),
            ts,
            enterprise_id: enterprise_id.into(),
            target_code: target_code.into(),
        });
        for evicted in evicted {
            let rejection = Rejection::new(
                ReasonCode::PendingOverflow,
                format!(
                    "the pending buffer ({} records, {} bytes) is full",
                    self.config.pending_capacity, self.config.pending_max_bytes
                ),
            );
            let disposition = self.dead_letter_held(evicted, rejection);
            self.extra.push(disposition);
        }
        Outcome::Held
    }

    /// Resolves what handling a record left behind: overflowed, released and expired holds.
    fn settle(&mut self, partition: i32, out: &mut Vec<Disposition>) {
        out.append(&mut self.extra);
        for held in std::mem::take(&mut self.released) {
            let record = held.record.as_ref();
            let topic = Topic::from_name(record.topic);
            let outcome = self.admit(topic, &record, None, Admission::Released);
            out.push(Disposition {
                origin: origin(topic, &record),
                outcome,
            });
            out.append(&mut self.extra);
        }
        if !self.pending.is_empty() {
            if let Some(mark) = self.watermarks.of(partition) {
                for held in self.pending.expire(partition, mark) {
                    out.push(self.never_registered(
                        held,
                        "no registry entry arrived within ingest.pending_timeout",
                    ));
                }
            }
        }
        self.metrics.pending.set(self.pending.len() as i64);
    }

    fn never_registered(&self, held: PendingRecord, why: &str) -> Disposition {
        let detail = format!(
            "indicator {} of enterprise {} is not in the registry: {why}",
            held.target_code, held.enterprise_id
        );
        self.dead_letter_held(held, Rejection::new(ReasonCode::UnknownIndicator, detail))
    }

    fn dead_letter_held(&self, held: PendingRecord, rejection: Rejection) -> Disposition {
        let record = held.record.as_ref();
        let topic = Topic::from_name(record.topic);
        self.metrics.reject(topic, rejection.code);
        Disposition {
            origin: origin(topic, &record),
            outcome: Outcome::Dead(Box::new(DeadLetter::rejected(&record, rejection))),
        }
    }
}

/// The key a record's clock is tracked under in its partition's frontier.
fn key_hash(key: Option<&[u8]>) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(key.unwrap_or_default());
    h.finish()
}

fn origin(topic: Option<Topic>, record: &RecordRef<'_>) -> Origin {
    Origin {
        topic,
        partition: record.partition,
        position: record.position,
    }
}

fn indicator_known(partition: &PartitionState, enterprise_id: &str, target_code: &str) -> bool {
    partition
        .enterprises
        .get(enterprise_id)
        .is_some_and(|ent| ent.has_indicator(target_code))
}

/// Remembers where an applied event came from, for the provenance of the warnings it feeds.
fn note_input(
    ent: &mut EnterpriseState,
    topic: Topic,
    record: &RecordRef<'_>,
    ts: Option<EventTime>,
    limits: &crate::state::StateLimits,
) {
    let Some(ts) = ts else { return };
    let (position, line) = match record.position {
        Position::Offset(o) => (o, false),
        Position::Line(l) => (i64::try_from(l).unwrap_or(i64::MAX), true),
    };
    ent.inputs.note(
        topic,
        record.partition,
        position,
        line,
        ts,
        limits.horizon_minutes(),
    );
}

fn enterprise_mut<'a>(
    partition: &'a PartitionState,
    id: &str,
    limits: &crate::state::StateLimits,
) -> Result<dashmap::mapref::one::RefMut<'a, crate::state::Key, EnterpriseState>, Rejection> {
    if let Some(ent) = partition.enterprises.get_mut(id) {
        return Ok(ent);
    }
    if partition.enterprises.len() >= limits.max_enterprises_per_partition {
        return Err(capacity("enterprise table"));
    }
    let created = EnterpriseState::new(id, limits);
    partition.account(created.footprint());
    Ok(partition.enterprises.entry(id.into()).or_insert(created))
}

pub(crate) fn oversized(len: usize, limit: usize) -> Rejection {
    Rejection::new(
        ReasonCode::Oversized,
        format!("{len} bytes exceed the limit of {limit}"),
    )
}

fn capacity(what: &str) -> Rejection {
    Rejection::new(ReasonCode::CapacityExceeded, format!("{what} is full"))
}

fn from_state(rejection: StateRejection) -> Rejection {
    let code = match &rejection {
        StateRejection::UnknownIndicator(_) => ReasonCode::UnknownIndicator,
        StateRejection::ImpossibleTransition { .. } => ReasonCode::ImpossibleTransition,
        StateRejection::CapacityExceeded(_) => ReasonCode::CapacityExceeded,
        StateRejection::NotPhysical(_) => ReasonCode::NotPhysical,
    };
    Rejection::new(code, rejection.to_string())
}
