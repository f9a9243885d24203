//! Duplicate detection. An event's identity is its topic, its subject (target, permit, alarm,
//! storage unit, ...) and its event time; a second event with the same identity is a
//! duplicate. An identity is remembered until the watermark passes its event time plus a
//! retention: zero for windowed topics (anything older would be late anyway, which bounds the
//! set by one lateness window of readings), `ingest.dedup_retention` for business records,
//! which are applied even behind the watermark. A hard cap bounds the whole set.

use std::hash::{Hash, Hasher};

use rustc_hash::{FxHashMap, FxHasher};

use crate::model::*;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DedupFilter {
    /// Identity → the watermark after which it may be forgotten (as Unix milliseconds in a
    /// checkpoint: a million identities format no dates).
    #[serde(with = "seen_millis")]
    seen: FxHashMap<u64, EventTime>,
    prune_at: usize,
    capacity: usize,
    /// Identities forgotten early because the hard cap was reached (not checkpointed: it
    /// is counted into a metric as it happens).
    #[serde(skip)]
    pub evicted: u64,
}

mod seen_millis {
    use rustc_hash::FxHashMap;
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::model::EventTime;

    pub fn serialize<S: Serializer>(
        seen: &FxHashMap<u64, EventTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(seen.iter().map(|(k, t)| (*k, t.millis())))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<FxHashMap<u64, EventTime>, D::Error> {
        let pairs = Vec::<(u64, i64)>::deserialize(d)?;
        Ok(pairs
            .into_iter()
            .map(|(k, t)| (k, EventTime::from_millis(t)))
            .collect())
    }
}

const MIN_PRUNE_AT: usize = 4_096;

impl DedupFilter {
    pub fn new(capacity: usize) -> Self {
        DedupFilter {
            seen: FxHashMap::default(),
            prune_at: MIN_PRUNE_AT.min(capacity.max(1)),
            capacity: capacity.max(1),
            evicted: 0,
        }
    }

    pub fn contains(&self, fingerprint: u64) -> bool {
        self.seen.contains_key(&fingerprint)
    }

    /// Remembers an identity until the watermark passes `forget_after`.
    pub fn insert(
        &mut self,
        fingerprint: u64,
        forget_after: EventTime,
        watermark: Option<EventTime>,
    ) {
        if self.seen.len() >= self.prune_at {
            self.prune(watermark);
        }
        self.seen.insert(fingerprint, forget_after);
    }

    fn prune(&mut self, watermark: Option<EventTime>) {
        if let Some(mark) = watermark {
            self.seen.retain(|_, forget_after| *forget_after >= mark);
        }
        if self.seen.len() >= self.capacity {
            self.evicted += self.seen.len() as u64;
            self.seen.clear();
        }
        self.prune_at = (self.seen.len() * 2).clamp(MIN_PRUNE_AT.min(self.capacity), self.capacity);
    }

    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

/// The identity hash of an event (`None` for reference data, which is idempotent).
pub fn fingerprint(topic: Topic, event: &Event<'_>) -> Option<u64> {
    let mut h = FxHasher::default();
    topic.hash(&mut h);
    event.event_time()?.hash(&mut h);
    event.key_id().hash(&mut h);
    match event {
        Event::SensorReading(e) => e.target_code.hash(&mut h),
        Event::SensorStatus(e) => (&e.target_code, &e.gateway_code).hash(&mut h),
        Event::AlarmLifecycle(e) => (&e.alarm_id, e.transition).hash(&mut h),
        Event::PermitEvent(e) => (&e.permit_id, e.transition).hash(&mut h),
        Event::GasAnalysis(e) => (&e.permit_id, &e.point_id, &e.gas_cas).hash(&mut h),
        Event::TrainingRecord(e) => (&e.person_id, &e.course).hash(&mut h),
        Event::InventoryLevel(e) => (&e.storage_unit_id, &e.cas).hash(&mut h),
        Event::InspectionResult(e) => e.inspection_id.hash(&mut h),
        Event::WarningFeedback(e) => (&e.warning_id, &e.actor_org, e.action).hash(&mut h),
        Event::CommitmentDaily(e) => e.date.hash(&mut h),
        Event::EnterpriseStatus(_)
        | Event::EnterpriseOps(_)
        | Event::StaffingSnapshot(_)
        | Event::RegionEpidemic(_)
        | Event::Registry(_) => {}
    }
    Some(h.finish())
}
