//! The `[warnings]` section: hygiene thresholds, provenance, silences and inhibition rules.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::ProductionState;

use super::silence::SilenceSpec;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarningsConfig {
    /// Bearer token of `POST /api/silences`; empty turns the endpoint off.
    pub api_token: String,
    #[serde(with = "humantime_serde")]
    pub provenance_lookback: Duration,
    pub chatter_activations: usize,
    #[serde(with = "humantime_serde")]
    pub chatter_window: Duration,
    pub flood_threshold: usize,
    #[serde(with = "humantime_serde")]
    pub flood_window: Duration,
    pub flood_end_below: usize,
    /// Resolved warnings kept for the API.
    pub history: usize,
    /// Warnings tracked at once (pending, firing, resolving); new ones beyond are refused,
    /// counted and raised as one `r00_warnings_capacity` warning.
    pub max_open: usize,
    #[serde(default)]
    pub silences: Vec<SilenceSpec>,
    #[serde(default)]
    pub inhibit: Vec<InhibitRule>,
}

/// While a source fires, matching targets of the same enterprise are inhibited.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InhibitRule {
    pub name: String,
    #[serde(default)]
    pub source_rules: Vec<String>,
    #[serde(default)]
    pub source_production_states: Vec<ProductionState>,
    pub target_rules: Vec<String>,
    /// Only targets whose subject is listed in this evidence column of the source.
    #[serde(default)]
    pub subject_in: Option<String>,
}

impl WarningsConfig {
    /// Problems a config can have that serde cannot see.
    pub fn check(&self) -> Result<(), String> {
        for rule in &self.inhibit {
            if rule.source_rules.is_empty() && rule.source_production_states.is_empty() {
                return Err(format!(
                    "warnings.inhibit `{}` needs source_rules or source_production_states",
                    rule.name
                ));
            }
            if rule.subject_in.is_some() && rule.source_rules.is_empty() {
                return Err(format!(
                    "warnings.inhibit `{}`: subject_in needs source_rules",
                    rule.name
                ));
            }
        }
        for spec in &self.silences {
            spec.check()
                .map_err(|e| format!("warnings.silences: {e}"))?;
        }
        if self.max_open == 0 {
            return Err("warnings.max_open must be ≥ 1".into());
        }
        if self.chatter_activations < 2 || self.flood_threshold == 0 {
            return Err("warnings.chatter_activations must be ≥ 2 and flood_threshold ≥ 1".into());
        }
        Ok(())
    }
}
