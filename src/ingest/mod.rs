//! Ingest: records from a source (Kafka or a replay file) become typed events applied to
//! state; bad records become dead letters with a stable reason code, late ones go to the
//! late output. `pipeline` is shared by every source.

pub mod client;
pub mod dead_letter;
pub mod decode;
pub mod dedup;
pub mod deferred;
pub mod drift;
pub mod fetched;
pub mod first_tick;
pub mod frontier;
pub mod kafka;
pub mod lines;
pub mod offsets;
pub mod outputs;
pub mod pending;
pub mod pipeline;
pub mod produce;
pub mod reason;
pub mod rebalance;
pub mod record;
pub mod replay;
pub mod table_topic;
pub mod topics;
pub mod validate;
pub mod watermark;

pub use dead_letter::DeadLetter;
pub use pipeline::{Disposition, Outcome, Pipeline};
pub use reason::{ReasonCode, Rejection};
pub use record::{Origin, OwnedRecord, Position, RecordRef};
