//! Declarative rules (DESIGN.md §3): SQL files in `queries/`, planned once by DataFusion
//! against the rule tables, re-executed every event-time tick over fresh Arrow batches.
//!
//! `tables` turns the state into RecordBatches; `header` and `sandbox` check a rule file;
//! `compile` plans it (`fixed_intervals` makes its time arithmetic cheap); `engine` runs the tick; `hit` applies the result contract;
//! `episodes` tracks what is being hit; `watch` reloads changed files; `backtest` reports
//! per rule over a replay.

pub mod backtest;
pub mod color;
pub mod compile;
pub mod delta;
pub mod driver;
pub mod engine;
pub mod episodes;
pub mod fixed_intervals;
pub mod header;
pub mod hit;
pub mod loader;
pub mod locality;
pub mod sandbox;
pub mod tables;
pub mod watch;

pub use color::Color;
pub use driver::RuleDriver;
pub use engine::{ReloadReport, RuleEngine, RuleFailure, RuleRun, TickReport};
pub use hit::RuleHit;
pub use loader::{RuleFileError, RuleProblem};
