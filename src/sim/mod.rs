//! A seeded, deterministic simulated province: enterprises with indicators and alarm limits
//! from the standards, and the streams they produce. Feeds `vigil demo`, tests and benches.

pub mod business;
pub mod calendar;
pub mod corrupt;
pub mod dcs;
pub mod inspections;
pub mod operations;
pub mod permits;
pub mod province;
pub mod readings;
pub mod resumption;
pub mod scenario;
pub mod span;
pub mod stream;
pub mod tep;
pub mod training;
pub mod truth;

pub use province::{Province, SimEnterprise};
pub use readings::ReadingStream;
pub use scenario::{Injection, Scenario};
pub use stream::{ProvinceStream, SimItem};
pub use truth::GroundTruth;

use serde::Serialize;

/// One record as the platform would put it on Kafka: topic, key and JSON value. Serialised,
/// it is a line of `vigil replay` input.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SimRecord {
    pub topic: &'static str,
    pub key: String,
    pub value: serde_json::Value,
}

impl SimRecord {
    pub fn to_ndjson(&self) -> String {
        serde_json::to_string(self).expect("a SimRecord always serialises")
    }
}
