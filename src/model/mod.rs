//! The wire model: reference data from the `registry` topic and the typed events of every
//! input stream (DOMAIN.md (b)). Pure data and serde; validation lives in `ingest`.

pub mod enums;
pub mod events;
pub mod grading;
pub mod physical;
pub mod published;
pub mod registry;
pub mod time;
pub mod topic;

pub use enums::*;
pub use events::*;
pub use published::Published;
pub use registry::*;
pub use time::{EventDate, EventTime};
pub use topic::{TimePolicy, Topic};
