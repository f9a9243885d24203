//! Warnings: rule hits become warnings with a lifecycle (pending → firing → escalated →
//! resolved, on event time, with `for` / `clear_after` / `keep_firing_for` hysteresis) and
//! deterministic ids, so enforcement teams get one record per episode, not a storm. Feedback
//! updates and closes them, R7 pushes them up the tiers, silences and inhibition suppress
//! them (recorded, never lost), floods are summarised, and each carries its provenance.

pub mod book;
pub mod capacity;
pub mod config;
pub mod context;
pub mod delivery;
mod entry;
pub mod hygiene;
pub mod lifecycle;
pub mod record;
pub mod silence;
pub mod silence_topic;
mod summary;
mod suppress;
pub mod view;

pub use book::WarningBook;
pub use config::WarningsConfig;
pub use context::WarningContext;
pub use lifecycle::{Timing, Tracked, Transition};
pub use record::{warning_id, Tier, WarningRecord};
pub use silence::{Silence, SilenceSpec, Silences};
