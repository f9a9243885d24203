//! The bounds of every collection in the state, from the `[state]` section of the config.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Bounds of the in-memory state. When a bound is reached the oldest entries go first; where
/// nothing can go (all permits still open, say) the new record is dead-lettered with
/// `capacity_exceeded`, never dropped silently.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateLimits {
    /// How far back the one-minute buckets of an indicator reach; windows up to this length
    /// (of 1, 5, 15, 60 min) are served.
    #[serde(with = "humantime_serde")]
    pub bucket_horizon: Duration,
    /// Enterprises per partition (events for unregistered enterprises create one too).
    pub max_enterprises_per_partition: usize,
    /// Indicators per enterprise.
    pub max_indicators_per_enterprise: usize,
    /// Permits per enterprise, open and recently closed.
    pub max_permits_per_enterprise: usize,
    /// How long a closed or cancelled permit stays (for rules on recent work).
    #[serde(with = "humantime_serde")]
    pub closed_permit_retention: Duration,
    /// Transitions remembered per permit.
    pub max_transitions_per_permit: usize,
    /// Gas analyses kept per permit, and for how long.
    pub max_analyses_per_permit: usize,
    #[serde(with = "humantime_serde")]
    pub analysis_retention: Duration,
    /// Alarms per enterprise (latest state of each), and how long a cleared one stays.
    pub max_alarms_per_enterprise: usize,
    #[serde(with = "humantime_serde")]
    pub cleared_alarm_retention: Duration,
    /// Storage units with inventory per enterprise.
    pub max_storage_units_per_enterprise: usize,
    /// Gateways with a status per enterprise.
    pub max_gateways_per_enterprise: usize,
    /// Monitored units (`monitor_model` records) per enterprise.
    #[serde(default = "default_max_monitors")]
    pub max_monitors_per_enterprise: usize,
    /// Length (items) and age of the per-enterprise histories: status, ops, staffing,
    /// training, inventory per unit, commitments, inspections, feedback.
    pub history_len: usize,
    #[serde(with = "humantime_serde")]
    pub history_age: Duration,
    /// Regions with an epidemic level.
    pub max_regions: usize,
}

fn default_max_monitors() -> usize {
    64
}

impl StateLimits {
    pub fn horizon_minutes(&self) -> u32 {
        (self.bucket_horizon.as_secs() / 60).max(1) as u32
    }

    pub fn history_age_ms(&self) -> i64 {
        self.history_age.as_millis() as i64
    }
}

impl Default for StateLimits {
    fn default() -> Self {
        StateLimits {
            bucket_horizon: Duration::from_secs(60 * 60),
            max_enterprises_per_partition: 200_000,
            max_indicators_per_enterprise: 20_000,
            max_permits_per_enterprise: 2_000,
            closed_permit_retention: Duration::from_secs(24 * 3600),
            max_transitions_per_permit: 64,
            max_analyses_per_permit: 2_000,
            analysis_retention: Duration::from_secs(24 * 3600),
            max_alarms_per_enterprise: 10_000,
            cleared_alarm_retention: Duration::from_secs(24 * 3600),
            max_storage_units_per_enterprise: 1_000,
            max_gateways_per_enterprise: 1_000,
            max_monitors_per_enterprise: default_max_monitors(),
            history_len: 2_016,
            history_age: Duration::from_secs(30 * 24 * 3600),
            max_regions: 100_000,
        }
    }
}
