//! The bytes of one partition checkpoint: a magic, the schema version (little-endian `u32`),
//! then MessagePack with named fields, so a field added later reads as its default.
//!
//! The ingest loop copies a partition's state into a `PartitionCheckpoint` (a clone of its
//! maps); encoding and writing run on other threads, so the loop pauses for the copy only.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::CheckpointError;
use crate::ingest::pipeline::IngestSnapshot;
use crate::state::{EnterpriseState, PartitionState};

const MAGIC: &[u8; 6] = b"VIGILC";
/// Bump on any change an older vigil could misread; add a reader for the old one if needed.
pub const SCHEMA_VERSION: u32 = 1;
const HEADER: usize = MAGIC.len() + 4;

/// A partition's checkpoint: copied out of the live state between two records (the only
/// pause the ingest loop takes), then encoded and written away from the loop; and read back.
#[derive(Debug, Serialize, Deserialize)]
pub struct PartitionCheckpoint {
    pub partition: i32,
    /// Next offset to read, per input topic, for this partition number.
    pub offsets: BTreeMap<String, i64>,
    /// Wall time the snapshot was taken, in Unix milliseconds.
    pub taken_at_ms: i64,
    pub ingest: IngestSnapshot,
    pub enterprises: Vec<EnterpriseState>,
    /// The engine's last tick when the snapshot was taken: partitions restored together
    /// restart at one tick (`CheckpointStore::newest_at_or_before`).
    #[serde(default)]
    pub tick: Option<crate::model::EventTime>,
    /// The engine's part (warnings book, risk colours), encoded by the engine itself.
    #[serde(with = "serde_bytes")]
    pub engine: Vec<u8>,
}

/// Copies every enterprise of a partition out of its map.
pub fn copy_enterprises(state: &PartitionState) -> Vec<EnterpriseState> {
    state
        .enterprises
        .iter()
        .map(|e| e.value().clone())
        .collect()
}

impl PartitionCheckpoint {
    /// Encodes into a buffer of `size_hint` bytes (the partition's previous checkpoint: a
    /// buffer grown by doubling would copy a large checkpoint twice over).
    pub fn encode(&self, size_hint: usize) -> Result<Vec<u8>, CheckpointError> {
        let mut bytes = Vec::with_capacity(size_hint.max(1 << 16) + (size_hint >> 4));
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&SCHEMA_VERSION.to_le_bytes());
        rmp_serde::encode::write_named(&mut bytes, self)?;
        Ok(bytes)
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, CheckpointError> {
        if bytes.len() < HEADER || &bytes[..MAGIC.len()] != MAGIC {
            return Err(CheckpointError::Magic);
        }
        let mut version = [0u8; 4];
        version.copy_from_slice(&bytes[MAGIC.len()..HEADER]);
        let found = u32::from_le_bytes(version);
        if found != SCHEMA_VERSION {
            return Err(CheckpointError::Schema {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        Ok(rmp_serde::from_slice(&bytes[HEADER..])?)
    }

    /// Sum of the next offsets over every topic: how far the checkpoint has come. Of two
    /// consistent checkpoints of one partition the further one is restored.
    pub fn progress(offsets: &BTreeMap<String, i64>) -> i64 {
        offsets.values().sum()
    }
}
