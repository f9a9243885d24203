//! Checkpoints: per input partition, a snapshot of everything vigil holds for it (its
//! enterprises with their registry entries and windows, its clock, the identities it applied,
//! its records waiting for a registry entry, and the engine's warnings and risk colours of its
//! enterprises) with the offsets of every input topic of that partition number.
//!
//! The order that makes a crash lose nothing: the snapshot is taken in the ingest loop at
//! record boundaries; the outputs queued before it (warnings, risk, regions, dead letters,
//! late records) are delivered and acknowledged; then the checkpoint is written atomically;
//! only then are its offsets committed. A restart loads the newest checkpoint and reads on
//! from its offsets, so every output is either already acknowledged or produced again with
//! the same deterministic id.

pub mod config;
pub mod format;
pub mod lease;
pub mod store;
pub mod writer;

pub use config::CheckpointConfig;
pub use format::{copy_enterprises, PartitionCheckpoint, SCHEMA_VERSION};
pub use store::{CheckpointStore, Loaded};
pub use writer::{CheckpointJob, Flushed};
