//! Risk: "one code, one index". Per enterprise, the transparent risk index ERI (inherent,
//! dynamic, management and context terms, every input kept) and its red/orange/yellow/blue
//! colour with floors and hysteresis; per region, the control index CPI. Fed by the state and
//! the warnings; read by the map, the API and the enforcement planner.

pub mod book;
pub mod color;
pub mod config;
pub mod history;
pub mod inputs;
pub mod ledger;
pub mod online;
pub mod record;
pub mod region;
pub mod region_part;
pub mod region_share;
pub mod score;
pub mod snapshot;
pub mod stage;
pub mod view;

pub use book::RiskBook;
pub use config::RiskConfig;
pub use record::RiskRecord;
pub use stage::{RiskStage, RiskTick};
pub use view::RiskView;
