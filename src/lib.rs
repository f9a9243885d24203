//! vigil: a stream-processing risk engine for hazardous-chemical production safety.
//!
//! Data flow (DESIGN.md): `ingest` (Kafka or replay → decode, validate, dead-letter) →
//! `state` (per-enterprise, event-time windows) → rules → warnings → risk → enforcement.

pub mod api;
pub mod app;
pub mod checkpoint;
pub mod config;
pub mod enforce;
pub mod engine;
pub mod error;
pub mod ingest;
pub mod logging;
pub mod metrics;
pub mod model;
pub mod monitor;
pub mod risk;
pub mod rules;
pub mod sim;
pub mod state;
pub mod warnings;

/// Every binary linking vigil (the service, its tests and benches) allocates through
/// mimalloc: the rules' table builds allocate and free many Arrow buffers a tick, and glibc's
/// malloc spent about a quarter of a tick merging and unlinking free chunks (perf over the
/// rules bench).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
