//! Warnings: rule hits become warnings with a lifecycle (pending → firing → escalated →
//! resolved, on event time, with `for` / `clear_after` / `keep_firing_for` hysteresis) and
//! deterministic ids, so enforcement teams get one record per episode, not a storm.

pub mod book;
pub mod delivery;
pub mod lifecycle;
pub mod record;

pub use book::WarningBook;
pub use lifecycle::{Timing, Tracked, Transition};
pub use record::{warning_id, WarningRecord};
