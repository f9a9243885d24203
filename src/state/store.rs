//! The state store: one `DashMap<EnterpriseId, EnterpriseState>` per input partition, plus the
//! region table every partition shares.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use dashmap::DashMap;
use rustc_hash::FxBuildHasher;

use super::enterprise::EnterpriseState;
use super::footprint::{Footprint, SizeCounters};
use super::limits::StateLimits;
use super::region::RegionTable;
use super::Key;

/// The state of the enterprises whose events arrive on one input partition. Every input
/// topic (and `registry`) is keyed by enterprise and has the same partition count, so an
/// enterprise lives in exactly one partition.
#[derive(Debug)]
pub struct PartitionState {
    pub id: i32,
    /// Written through `insert`, `remove` and `account`, which keep `sizes` true.
    pub enterprises: DashMap<Key, EnterpriseState, FxBuildHasher>,
    sizes: SizeCounters,
}

impl PartitionState {
    fn new(id: i32) -> Self {
        PartitionState {
            id,
            enterprises: DashMap::with_hasher(FxBuildHasher),
            sizes: SizeCounters::default(),
        }
    }

    /// Adds (or replaces) an enterprise.
    pub fn insert(&self, enterprise: EnterpriseState) {
        self.sizes.add(enterprise.footprint());
        let replaced = self
            .enterprises
            .insert(enterprise.enterprise_id.clone(), enterprise);
        if let Some(old) = replaced {
            self.sizes.add(Footprint::default() - old.footprint());
        }
    }

    pub fn remove(&self, enterprise_id: &str) {
        if let Some((_, old)) = self.enterprises.remove(enterprise_id) {
            self.sizes.add(Footprint::default() - old.footprint());
        }
    }

    /// Records what a change made in place to one of the enterprises did to the footprint.
    pub fn account(&self, change: Footprint) {
        self.sizes.add(change);
    }

    /// The partition's footprint, as counted.
    pub fn footprint(&self) -> Footprint {
        self.sizes.get()
    }
}

#[derive(Debug)]
pub struct StateStore {
    partitions: RwLock<BTreeMap<i32, Arc<PartitionState>>>,
    pub regions: RegionTable,
    pub limits: StateLimits,
}

/// Counts for the state-size metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct StateSize {
    pub partitions: usize,
    pub enterprises: usize,
    pub indicators: usize,
    pub buckets: usize,
    pub permits: usize,
    pub regions: usize,
    pub estimated_bytes: usize,
    /// Learned monitoring (`state::monitor`): units with a model, those of them silent, and
    /// enterprises with indicators but no model.
    pub monitor_units: usize,
    pub silent_monitor_units: usize,
    pub unmonitored_enterprises: usize,
}

impl StateStore {
    pub fn new(limits: StateLimits) -> Self {
        StateStore {
            partitions: RwLock::new(BTreeMap::new()),
            regions: RegionTable::default(),
            limits,
        }
    }

    /// The state of partition `id`, created empty on first use.
    pub fn partition(&self, id: i32) -> Arc<PartitionState> {
        if let Some(p) = self.read().get(&id) {
            return Arc::clone(p);
        }
        let mut partitions = self.partitions.write().unwrap_or_else(|e| e.into_inner());
        Arc::clone(
            partitions
                .entry(id)
                .or_insert_with(|| Arc::new(PartitionState::new(id))),
        )
    }

    /// Removes a partition (after it was revoked and checkpointed) and hands its state back.
    pub fn remove_partition(&self, id: i32) -> Option<Arc<PartitionState>> {
        self.partitions
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id)
    }

    pub fn partitions(&self) -> Vec<Arc<PartitionState>> {
        self.read().values().cloned().collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<i32, Arc<PartitionState>>> {
        self.partitions.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads one enterprise's state, wherever its partition.
    pub fn with_enterprise<T>(
        &self,
        enterprise_id: &str,
        read: impl FnOnce(&EnterpriseState) -> T,
    ) -> Option<T> {
        let partitions = self.read();
        let found = partitions
            .values()
            .find_map(|p| p.enterprises.get(enterprise_id));
        found.map(|e| read(&e))
    }

    /// The county of an enterprise, from its registry entry.
    pub fn region_of(&self, enterprise_id: &str) -> Option<String> {
        self.read().values().find_map(|p| {
            let e = p.enterprises.get(enterprise_id)?;
            e.profile.as_ref().map(|profile| profile.region_id.clone())
        })
    }

    /// The state's size from the partitions' counters: cheap, for any request.
    pub fn size(&self) -> StateSize {
        let mut size = StateSize {
            regions: self.regions.len(),
            ..StateSize::default()
        };
        let whole = |n: i64| usize::try_from(n).unwrap_or(0);
        for partition in self.partitions() {
            let counted = partition.footprint();
            size.partitions += 1;
            size.enterprises += whole(counted.enterprises);
            size.indicators += whole(counted.indicators);
            size.buckets += whole(counted.buckets);
            size.permits += whole(counted.permits);
            size.estimated_bytes += whole(counted.bytes);
            size.monitor_units += whole(counted.monitor_units);
            size.silent_monitor_units += whole(counted.silent_units);
            size.unmonitored_enterprises += whole(counted.unmonitored);
        }
        size
    }

    /// The state's size by walking every enterprise: what `size` must always equal (tests
    /// check it). Takes every map shard's lock in turn: not for a request path.
    pub fn walk_size(&self) -> StateSize {
        let mut size = StateSize {
            regions: self.regions.len(),
            ..StateSize::default()
        };
        for partition in self.partitions() {
            size.partitions += 1;
            for ent in partition.enterprises.iter() {
                let counted = ent.footprint();
                size.enterprises += 1;
                size.indicators += counted.indicators as usize;
                size.buckets += counted.buckets as usize;
                size.permits += counted.permits as usize;
                size.estimated_bytes += counted.bytes as usize;
                size.monitor_units += counted.monitor_units as usize;
                size.silent_monitor_units += counted.silent_units as usize;
                size.unmonitored_enterprises += counted.unmonitored as usize;
            }
        }
        size
    }
}
