//! `[enforce]`: the selection shares, constraints and priority weights of the inspection plan.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::rules::Color;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnforceConfig {
    pub rank_share: f64,
    pub revisit_days: u32,
    #[serde(with = "humantime_serde")]
    pub mandatory_within: Duration,
    pub warning_weight: f64,
    pub not_inspected_days: u32,
    pub not_inspected: f64,
    pub resumption_days: u32,
    pub resumption: f64,
    pub flood_or_bad_actor: f64,
    pub clean_inspection_days: u32,
    pub clean_inspection: f64,
    pub hot_special: f64,
    pub hot_contractor: f64,
    pub hot_night_or_holiday: f64,
    pub hot_open_violation: f64,
    pub floor_days_red: u32,
    pub floor_days_orange: u32,
    pub floor_days_yellow: u32,
    pub floor_days_blue: u32,
    /// Key of the draws' default seed (`request::default_seed`); a secret, never printed.
    /// Empty: a random key of this process (plans stay reproducible from their recorded seed).
    #[serde(default)]
    pub seed_key: String,
}

impl EnforceConfig {
    /// Days an enterprise of this colour may go without a visit.
    pub fn floor_days(&self, color: Color) -> u32 {
        match color {
            Color::Red => self.floor_days_red,
            Color::Orange => self.floor_days_orange,
            Color::Yellow => self.floor_days_yellow,
            Color::Blue => self.floor_days_blue,
        }
    }

    /// The key of the default seed: `seed_key`, or one random key for the whole process.
    pub fn seed_key(&self) -> Vec<u8> {
        static PROCESS_KEY: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();
        if !self.seed_key.is_empty() {
            return self.seed_key.as_bytes().to_vec();
        }
        PROCESS_KEY
            .get_or_init(|| {
                tracing::warn!("enforce.seed_key is not set: plans without a seed draw from a key of this process only");
                let mut key = [0u8; 32];
                if getrandom::fill(&mut key).is_err() {
                    // No entropy source: fall back to what differs between processes.
                    let nanos = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_nanos());
                    key[..16].copy_from_slice(&nanos.to_le_bytes());
                    key[16..20].copy_from_slice(&std::process::id().to_le_bytes());
                }
                key
            })
            .to_vec()
    }

    pub fn check(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.rank_share) {
            return Err("enforce.rank_share must be within 0..1".into());
        }
        Ok(())
    }
}
