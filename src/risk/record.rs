//! The risk record: one enterprise's index, colour and their breakdown at one event time, as
//! published to `vigil.risk` (compacted, key = enterprise id), `--risk-out` and the API.

use serde::{Deserialize, Serialize};

use crate::rules::Color;

use super::inputs::RiskInputs;
use super::score::{Floor, Terms};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RiskRecord {
    pub enterprise_id: String,
    pub name: String,
    pub region_id: String,
    pub city_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub park_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    /// The event time of the computation.
    pub at: String,
    /// ERI, 0-100, one decimal.
    pub eri: f64,
    /// The colour shown: the band, raised to the floor, with hysteresis on the way down.
    pub color: Color,
    /// The band the index alone falls in.
    pub band: Color,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<Floor>,
    pub color_since: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downgrade_pending_since: Option<String>,
    pub weights_version: String,
    pub terms: Terms,
    pub inputs: RiskInputs,
}

impl RiskRecord {
    /// True when `other` says something different to a reader (not just a later time or a
    /// slid window): what decides whether a new record is published.
    pub fn differs(&self, other: &RiskRecord) -> bool {
        self.eri != other.eri
            || self.color != other.color
            || self.floor != other.floor
            || self.terms != other.terms
            || self.downgrade_pending_since != other.downgrade_pending_since
            || self.weights_version != other.weights_version
    }
}
