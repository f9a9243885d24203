//! Per-enterprise risk state in memory. Grouped by input partition, so that one partition's
//! state can be snapshotted and handed to another instance on its own; within a partition,
//! `DashMap<EnterpriseId, EnterpriseState>`. Every collection has a bound (see `limits`).
//!
//! `state` knows nothing of Kafka, rules or warnings: `ingest` writes it, the rule tables read it.

pub mod buckets;
pub mod enterprise;
pub mod footprint;
pub mod indicator;
pub mod inputs;
pub mod limits;
pub mod log;
pub mod monitor;
pub mod parts;
pub mod permit;
pub mod region;
pub mod store;

/// Ids used as keys of the hot maps (enterprise ids, target codes). Inline up to 24 bytes, so
/// comparing a key does not chase a pointer: on the ingest hot path that miss was a tenth of
/// the time per reading.
pub type Key = compact_str::CompactString;

pub use buckets::{Bucket, BucketRing, WindowAgg};
pub use enterprise::{EnterpriseState, StateRejection};
pub use footprint::Footprint;
pub use indicator::IndicatorState;
pub use inputs::{InputLog, InputRange};
pub use limits::StateLimits;
pub use monitor::{MonitorScore, UnitMonitor};
pub use parts::{Part, PartVersions};
pub use permit::{PermitPhase, PermitState};
pub use store::{PartitionState, StateSize, StateStore};
