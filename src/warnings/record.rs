//! The warning record (DESIGN.md §6), as written to `vigil.warnings` (key = id) and to
//! `--warnings-out`, extended with who it is pushed to (`tier`), how it is being handled
//! (`handling`), whether it is suppressed, its chattering, and its provenance (`inputs`, `models`).

use serde::Serialize;
use serde_json::{Map, Value};

use crate::model::{EventTime, FeedbackAction};
use crate::rules::Color;
use crate::state::InputRange;

use super::lifecycle::Transition;

/// Who a warning is pushed to (DOMAIN.md R7): the enterprise first, then up the ladder.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    #[default]
    Enterprise,
    County,
    City,
    Province,
}

impl Tier {
    pub fn parse(name: &str) -> Option<Tier> {
        Some(match name {
            "enterprise" => Tier::Enterprise,
            "county" => Tier::County,
            "city" => Tier::City,
            "province" => Tier::Province,
            _ => return None,
        })
    }
}

/// The latest feedback on a warning (`warning.feedback`).
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Handling {
    pub action: FeedbackAction,
    pub actor_org: String,
    pub at: EventTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measure: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Why a warning is recorded but not pushed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressedBy {
    Silence,
    Inhibition,
    Flood,
}

impl SuppressedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            SuppressedBy::Silence => "silence",
            SuppressedBy::Inhibition => "inhibition",
            SuppressedBy::Flood => "flood",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Suppression {
    pub by: SuppressedBy,
    /// The silence id, the inhibition rule and its source warning, or the flood warning id.
    pub source: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct WarningRecord {
    pub id: String,
    pub rule_id: String,
    pub rule_version: String,
    pub enterprise_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region_id: Option<String>,
    pub subject: String,
    pub color: Color,
    pub state: Transition,
    pub tier: Tier,
    /// The event time of this record.
    pub at: String,
    pub first_seen: String,
    pub fired_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<String>,
    /// Why it resolved when the condition did not simply clear: `rule_removed`,
    /// `feedback_resolved`, `false_alarm`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    pub message: String,
    pub basis: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggested_action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handling: Option<Handling>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppression>,
    /// Times the condition came back within this warning (ISA-18.2 activations).
    pub activations: u32,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub chattering: bool,
    /// The rule's result row: the window values and inputs the rule read.
    pub evidence: Map<String, Value>,
    /// The enterprise's input records from `provenance_lookback` before the first hit to
    /// this record: per topic and partition, the offsets (or replay lines) applied.
    pub inputs: Vec<InputRange>,
    /// For a rule that reads `unit_monitor`: the enterprise's learned models (id and
    /// version) in force at this record, so a regulator can see which model said so.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<ModelRef>,
}

/// A learned model of normal operation (`monitor_model`), as provenance names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ModelRef {
    pub model_id: String,
    pub version: String,
}

/// The same rule, enterprise, subject and episode start always give the same id, across
/// restarts and replays; it is the id of the rule episode the warning grew from.
pub use crate::rules::episodes::episode_id as warning_id;
