//! The warning record (DESIGN.md §6), as written to `vigil.warnings` (key = id) and to
//! `--warnings-out`.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::rules::Color;

use super::lifecycle::Transition;

#[derive(Clone, Debug, PartialEq, Serialize)]
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
    pub first_seen: String,
    pub fired_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<String>,
    /// Why it resolved when the condition did not simply clear (`rule_removed`).
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
    pub evidence: Map<String, Value>,
    /// References to the inputs that fed the evidence; filled by the provenance work.
    pub inputs: Vec<Value>,
}

/// The same rule, enterprise, subject and episode start always give the same id, across
/// restarts and replays; it is the id of the rule episode the warning grew from.
pub use crate::rules::episodes::episode_id as warning_id;
