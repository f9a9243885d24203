//! `[risk]`: the weights, bands and clocks of the enterprise risk index and the region control
//! index (DOMAIN.md (d)). Every number the formulas use lives here, versioned by
//! `weights_version`, which each published record carries.

use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskConfig {
    /// Names this set of weights; bump it whenever a number below changes.
    pub weights_version: String,
    /// An enterprise's index is recomputed on every change, and at least this often (event
    /// time), since its windows slide and night falls.
    #[serde(with = "humantime_serde")]
    pub refresh: Duration,
    pub bands: Bands,
    pub inherent: InherentWeights,
    pub alarms: AlarmWeights,
    pub data_quality: DataQualityWeights,
    pub special_work: SpecialWorkWeights,
    pub operations: OperationsWeights,
    pub people: PeopleWeights,
    pub management: ManagementWeights,
    pub context: ContextWeights,
    pub region: RegionWeights,
}

/// Colour bands of the index (lower bounds), their hysteresis, and the rules whose red
/// warnings make an enterprise red.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bands {
    pub red: f64,
    pub orange: f64,
    pub yellow: f64,
    /// A colour goes down only once the index has stayed below its band minus this margin...
    pub downgrade_margin: f64,
    /// ... for this long.
    #[serde(with = "humantime_serde")]
    pub downgrade_after: Duration,
    /// Rule numbers (DOMAIN.md (c)) whose open red warning makes the enterprise red.
    pub red_floor_rules: Vec<u8>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InherentWeights {
    pub diag_weight: f64,
    pub hazard_weight: f64,
    /// g(level) for hazard levels 1 to 4.
    pub hazard_level_factor: [f64; 4],
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmWeights {
    pub cap: f64,
    #[serde(with = "humantime_serde")]
    pub window: Duration,
    /// Per active HH/LL alarm or level-2 gas warning.
    pub severe: f64,
    /// Per active H/L alarm or level-1 gas warning.
    pub alarm: f64,
    pub slow_clear_minutes: f64,
    pub slow_clear: f64,
    pub long_alarm_hours: f64,
    pub long_alarm: f64,
    /// More than this many points alarmed twice or more in the window...
    pub repeated_points_over: u32,
    pub repeated: f64,
    /// Per R5 under-reporting warning fired in the window.
    pub under_reporting: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataQualityWeights {
    pub cap: f64,
    /// Times the fraction of points offline over the alarm window.
    pub offline_factor: f64,
    /// If an R4 sensor-quality warning is open on a gas detector.
    pub gas_detector_quality: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecialWorkWeights {
    pub cap: f64,
    pub hot_special: f64,
    pub hot_l1: f64,
    pub confined: f64,
    pub hot_l2: f64,
    pub other: f64,
    /// Per open R8-R12 warning.
    pub violation: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationsWeights {
    pub cap: f64,
    /// Starting up, trial production, or within `resumption_days` of resuming.
    pub startup: f64,
    pub resumption_days: f64,
    /// Open R13 warning at 90 % / 100 % of the approved capacity.
    pub over_capacity_90: f64,
    pub over_capacity_100: f64,
    pub rush_production: f64,
    pub supply_imbalance: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeopleWeights {
    pub cap: f64,
    /// Times the key-post shortfall (1 - filled / required).
    pub shortfall_factor: f64,
    pub untrained_on_post: f64,
    pub new_staff_share_over: f64,
    pub new_staff: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagementWeights {
    pub cap: f64,
    /// Per warning unacknowledged past its deadline (an open R7 warning), and per red one.
    pub overdue: f64,
    pub overdue_red: f64,
    /// Per MAJOR_HIDDEN finding past its rectification date.
    pub major_hidden_overdue: f64,
    /// Per R17 commitment warning within `commitment_days`.
    pub commitment: f64,
    pub commitment_days: f64,
    /// The last inspection had findings that are still open.
    pub failed_inspection: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextWeights {
    pub epidemic_low: f64,
    pub epidemic_medium: f64,
    pub epidemic_high: f64,
    pub night_or_holiday: f64,
    /// Night, in local hours: from `night_from` to `night_to` (wrapping midnight).
    pub night_from: u32,
    pub night_to: u32,
    /// Local dates (YYYY-MM-DD) that are public holidays.
    pub holidays: Vec<chrono::NaiveDate>,
}

/// The region control index (CPI): component weights, the window and the acknowledgement
/// deadlines its timeliness uses.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionWeights {
    #[serde(with = "humantime_serde")]
    pub window: Duration,
    pub timeliness: f64,
    pub containment: f64,
    pub data_quality: f64,
    pub quota: f64,
    pub rectification: f64,
    pub outcome: f64,
    /// Trend bonus or malus of the outcome, and the change that counts as a trend.
    pub outcome_trend: f64,
    pub outcome_trend_min_change: f64,
    /// Minutes to acknowledge a warning, by colour (the R7 deadlines).
    pub ack_minutes: ColorMinutes,
    /// Quota shares (DOMAIN.md (e)).
    pub self_check_share: f64,
    pub hot_work_share: f64,
    /// CPI colour bands (lower bounds; higher is better).
    pub blue_from: f64,
    pub yellow_from: f64,
    pub orange_from: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColorMinutes {
    pub red: f64,
    pub orange: f64,
    pub yellow: f64,
    pub blue: f64,
}

impl ColorMinutes {
    pub fn of(&self, color: crate::rules::Color) -> f64 {
        use crate::rules::Color;
        match color {
            Color::Red => self.red,
            Color::Orange => self.orange,
            Color::Yellow => self.yellow,
            Color::Blue => self.blue,
        }
    }
}

impl RiskConfig {
    pub fn check(&self) -> Result<(), String> {
        let b = &self.bands;
        if !(b.yellow < b.orange && b.orange < b.red) {
            return Err("risk.bands must rise: yellow < orange < red".into());
        }
        let c = &self.context;
        if c.night_from > 23 || c.night_to > 23 {
            return Err("risk.context night hours are 0-23".into());
        }
        if self.refresh.is_zero() {
            return Err("risk.refresh must be positive".into());
        }
        Ok(())
    }
}
