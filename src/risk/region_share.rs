//! Counties shared across the instances of a group. An enterprise lives on one input
//! partition and a county's enterprises are spread over many, so no instance holds a whole
//! county. Every instance publishes, each refresh, its partitions' sums of every county
//! (`CountyPart`, key `part/<county>/<partition>`) to a compacted topic
//! (`kafka.region_parts_topic`) that every instance reads as a table (`RegionBoard`). The
//! county's owner, the instance holding input partition `owner_partition(county)`, merges the
//! parts into the index and publishes it to `vigil.regions` and, with the days its trend
//! needs, back to the board (key `county/<county>`), from which a city's owner computes the
//! city and a new owner takes the trend over. So `vigil.regions` never holds a partial index.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::RwLock;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ingest::table_topic::{Refusal, Table};
use crate::ingest::ReasonCode;

use super::region::RegionIndex;
use super::region_part::CountyPart;

/// A county's index as its owner last computed it, with the days its trend remembers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CountyRecord {
    pub index: RegionIndex,
    pub outcomes: Vec<(i64, f64)>,
}

/// One record of the board's topic.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BoardRecord {
    Part(CountyPart),
    County(CountyRecord),
}

impl BoardRecord {
    pub fn key(&self) -> String {
        match self {
            BoardRecord::Part(p) => part_key(&p.region_id, p.partition),
            BoardRecord::County(c) => format!("county/{}", c.index.region_id),
        }
    }
}

pub fn part_key(region: &str, partition: i32) -> String {
    format!("part/{region}/{partition}")
}

/// The input partition whose owner computes `id` (a county or a city), out of `partitions`.
/// A stable hash: every instance, of any version, agrees.
pub fn owner_partition(id: &str, partitions: i32) -> i32 {
    let digest = Sha256::digest(id.as_bytes());
    let mut head = [0u8; 8];
    head.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(head) % partitions.max(1) as u64) as i32
}

/// Every instance's latest parts and county indices, as read from the board's topic.
#[derive(Debug, Default)]
pub struct RegionBoard {
    parts: RwLock<BTreeMap<(String, i32), CountyPart>>,
    counties: RwLock<BTreeMap<String, CountyRecord>>,
    /// How many partitions every input topic has (0 until known).
    partitions: AtomicI32,
}

impl RegionBoard {
    pub fn set_partitions(&self, n: i32) {
        self.partitions.store(n, Ordering::Relaxed);
    }

    pub fn partitions(&self) -> i32 {
        self.partitions.load(Ordering::Relaxed)
    }

    /// The parts of every county, those of `skip`ped partitions left out.
    pub fn parts_except(&self, skip: &BTreeSet<i32>) -> Vec<CountyPart> {
        let parts = self.parts.read().unwrap_or_else(|e| e.into_inner());
        parts
            .values()
            .filter(|p| !skip.contains(&p.partition))
            .cloned()
            .collect()
    }

    pub fn counties(&self) -> BTreeMap<String, CountyRecord> {
        self.counties
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn insert(&self, record: BoardRecord) {
        match record {
            BoardRecord::Part(p) => {
                let mut parts = self.parts.write().unwrap_or_else(|e| e.into_inner());
                parts.insert((p.region_id.clone(), p.partition), p);
            }
            BoardRecord::County(c) => {
                let mut counties = self.counties.write().unwrap_or_else(|e| e.into_inner());
                counties.insert(c.index.region_id.clone(), c);
            }
        }
    }

    fn remove(&self, key: &str) -> Result<(), Refusal> {
        let refuse = || {
            (
                ReasonCode::BadEnvelope,
                format!("unknown board key {key:?}"),
            )
        };
        if let Some(county) = key.strip_prefix("county/") {
            let mut counties = self.counties.write().unwrap_or_else(|e| e.into_inner());
            counties.remove(county);
            return Ok(());
        }
        let rest = key.strip_prefix("part/").ok_or_else(refuse)?;
        let (region, partition) = rest.rsplit_once('/').ok_or_else(refuse)?;
        let partition: i32 = partition.parse().map_err(|_| refuse())?;
        let mut parts = self.parts.write().unwrap_or_else(|e| e.into_inner());
        parts.remove(&(region.to_owned(), partition));
        Ok(())
    }
}

impl Table for RegionBoard {
    fn apply(&self, key: Option<&[u8]>, value: Option<&[u8]>) -> Result<(), Refusal> {
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            let key = key.ok_or((ReasonCode::MissingKey, "a tombstone without a key".into()))?;
            return self.remove(&String::from_utf8_lossy(key));
        };
        let record: BoardRecord = serde_json::from_slice(value)
            .map_err(|e| (ReasonCode::WrongType, format!("not a board record: {e}")))?;
        if key.is_some_and(|k| k != record.key().as_bytes()) {
            return Err((
                ReasonCode::KeyMismatch,
                format!("the key is not {:?}", record.key()),
            ));
        }
        self.insert(record);
        Ok(())
    }
}
