//! Reference data, upserted and deleted through the compacted `registry` topic
//! (`{"entity", "id", "data", "deleted"?}`, key = enterprise_id).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::enums::*;

/// One record of the `registry` topic: an upsert (`data` present) or a tombstone
/// (`deleted: true`, no `data`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegistryRecord {
    pub entity: EntityKind,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

/// A registered enterprise.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Enterprise {
    pub enterprise_id: String,
    pub name: String,
    pub region_id: String,
    pub city_id: String,
    pub province_id: String,
    #[serde(default)]
    pub park_id: Option<String>,
    #[serde(default)]
    pub industry: Option<String>,
    pub is_hazchem_producer: bool,
    /// Static diagnostic score of the MEM 2018 grading, 0-100.
    pub static_diag_score: f64,
    #[serde(default)]
    pub static_color: Option<String>,
    #[serde(default)]
    pub direct_red_flags: Vec<String>,
    /// Registered capacity per storage unit, in tonnes.
    #[serde(default)]
    pub registered_capacity_t: BTreeMap<String, f64>,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lon: Option<f64>,
}

/// A substance held in a hazard unit (GB 18218).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Substance {
    pub cas: String,
    pub name: String,
    #[serde(default)]
    pub ghs_class: Option<String>,
    pub q_design_t: f64,
    #[serde(rename = "Q_crit_t")]
    pub q_crit_t: f64,
    pub beta: f64,
}

/// A major hazard unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HazardUnit {
    pub hazard_id: String,
    pub enterprise_id: String,
    pub kind: HazardKind,
    /// GB 18218 level, 1 (highest) to 4.
    pub level: u8,
    #[serde(default)]
    pub r_registered: Option<f64>,
    #[serde(default)]
    pub alpha: Option<f64>,
    #[serde(default)]
    pub pop_500m: Option<u32>,
    #[serde(default)]
    pub substances: Vec<Substance>,
}

/// A piece of equipment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Equipment {
    pub equip_id: String,
    pub enterprise_id: String,
    #[serde(default)]
    pub hazard_id: Option<String>,
    #[serde(rename = "type")]
    pub equip_type: EquipmentType,
    #[serde(default)]
    pub medium_cas: Vec<String>,
    pub in_service: bool,
}

/// A measured point with its alarm limits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Indicator {
    pub target_code: String,
    pub enterprise_id: String,
    #[serde(default)]
    pub equip_id: Option<String>,
    pub kind: IndicatorKind,
    pub unit: String,
    pub range_lo: f64,
    pub range_hi: f64,
    #[serde(default)]
    pub l1_hi: Option<f64>,
    #[serde(default)]
    pub l2_hi: Option<f64>,
    #[serde(default)]
    pub l1_lo: Option<f64>,
    #[serde(default)]
    pub l2_lo: Option<f64>,
    /// Clear deadband; absent means 1 % of the span.
    #[serde(default)]
    pub deadband: Option<f64>,
    #[serde(default = "default_on_delay_s")]
    pub on_delay_s: u32,
    #[serde(default = "default_off_delay_s")]
    pub off_delay_s: u32,
    pub expected_period_s: u32,
    #[serde(default)]
    pub console_id: Option<String>,
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default)]
    pub hazard_id: Option<String>,
    #[serde(default)]
    pub area_id: Option<String>,
}

fn default_on_delay_s() -> u32 {
    30
}

fn default_off_delay_s() -> u32 {
    60
}

impl Indicator {
    /// The clear deadband: the configured one, or 1 % of the span.
    pub fn effective_deadband(&self) -> f64 {
        self.deadband
            .unwrap_or_else(|| (self.range_hi - self.range_lo).abs() * 0.01)
    }
}

/// An area of a site, used to grade hot work.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Area {
    pub area_id: String,
    pub enterprise_id: String,
    pub hazard_class: HazardClass,
    /// Polygon as `[lon, lat]` pairs.
    #[serde(default)]
    pub polygon: Vec<[f64; 2]>,
    #[serde(default)]
    pub is_tank_dike: bool,
    #[serde(default)]
    pub is_pipe_rack: bool,
}

/// A decoded registry change.
#[derive(Clone, Debug, PartialEq)]
pub enum RegistryChange {
    Enterprise(Box<Enterprise>),
    HazardUnit(Box<HazardUnit>),
    Equipment(Box<Equipment>),
    Indicator(Box<Indicator>),
    Area(Box<Area>),
    /// A unit's model of normal operation (`vigil learn`).
    MonitorModel(Box<crate::monitor::MonitorModel>),
    /// An indicator's robust baseline of normal operation (`vigil learn`).
    IndicatorBaseline(Box<crate::monitor::IndicatorBaseline>),
    Deleted {
        entity: EntityKind,
        id: String,
    },
}
