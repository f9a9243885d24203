//! The engine: the one chain from the state to warnings and risk records (`chain`), run on
//! an event-time clock by every mode (replay, demo, `vigil run`). The modes differ only in
//! where the records go.

pub mod chain;

pub use chain::{Chain, ChainTick};
