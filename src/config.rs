//! Configuration: one TOML file over compiled-in defaults (`deploy/vigil.toml`, printed by
//! `vigil config default`). Unknown keys are an error that names the key.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::state::StateLimits;

/// The documented defaults, compiled in.
pub const DEFAULT_TOML: &str = include_str!("../deploy/vigil.toml");

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub ingest: IngestConfig,
    pub state: StateLimits,
    pub kafka: KafkaConfig,
    pub api: ApiConfig,
    pub log: LogConfig,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestConfig {
    pub max_message_bytes: usize,
    #[serde(with = "humantime_serde")]
    pub allowed_lateness: Duration,
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub max_ahead_of_watermark: Duration,
    #[serde(with = "humantime_serde")]
    pub max_ahead_of_wall_clock: Duration,
    pub pending_capacity: usize,
    #[serde(with = "humantime_serde")]
    pub pending_timeout: Duration,
    pub dedup_capacity: usize,
    #[serde(with = "humantime_serde")]
    pub dedup_retention: Duration,
    pub channel_capacity: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    pub brokers: String,
    pub group_id: String,
    pub topics: Vec<String>,
    pub dlq_topic: String,
    pub late_topic: String,
    #[serde(with = "humantime_serde")]
    pub commit_interval: Duration,
    pub queued_max_messages_kbytes: u32,
    /// Passed through to librdkafka for the consumer and the producer.
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
    /// Passed through to the consumer only (`session.timeout.ms`, `fetch.*`, ...).
    #[serde(default)]
    pub consumer_properties: BTreeMap<String, String>,
    /// Passed through to the producer of the outputs only (`linger.ms`, `compression.type`, ...).
    #[serde(default)]
    pub producer_properties: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    pub addr: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    pub per_record_errors_per_second: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Config::from_toml(DEFAULT_TOML).expect("the compiled-in default config is valid")
    }
}

impl Config {
    /// Parses a complete or partial TOML document over the defaults.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let mut merged: toml::Table = toml::from_str(DEFAULT_TOML)?;
        let overrides: toml::Table = toml::from_str(text)?;
        merge(&mut merged, overrides);
        let config: Config = merged.try_into()?;
        config.check()?;
        Ok(config)
    }

    /// Reads a config file, or the defaults when `path` is `None`.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        match path {
            None => Config::from_toml(""),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                Config::from_toml(&text)
            }
        }
    }

    fn check(&self) -> Result<(), ConfigError> {
        let invalid = |message: &str| Err(ConfigError::Invalid(message.to_owned()));
        if self.ingest.allowed_lateness >= self.state.bucket_horizon {
            return invalid("ingest.allowed_lateness must be shorter than state.bucket_horizon");
        }
        if self.ingest.channel_capacity == 0 || self.ingest.pending_capacity == 0 {
            return invalid("ingest.channel_capacity and ingest.pending_capacity must be positive");
        }
        Ok(())
    }
}

/// Overlays `overrides` on `base`, table by table.
fn merge(base: &mut toml::Table, overrides: toml::Table) {
    for (key, value) in overrides {
        if let (Some(toml::Value::Table(base_table)), toml::Value::Table(table)) =
            (base.get_mut(&key), &value)
        {
            merge(base_table, table.clone());
            continue;
        }
        base.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse() {
        let config = Config::default();
        assert_eq!(config.ingest.max_message_bytes, 1 << 20);
        assert_eq!(config.ingest.allowed_lateness, Duration::from_secs(10));
        assert_eq!(config.state.horizon_minutes(), 60);
    }

    #[test]
    fn unknown_key_is_named() {
        let err = Config::from_toml("[ingest]\nallowed_latenes = \"5s\"\n").unwrap_err();
        assert!(err.to_string().contains("allowed_latenes"), "{err}");
    }

    #[test]
    fn partial_file_overrides_one_key() {
        let config = Config::from_toml("[ingest]\nallowed_lateness = \"20s\"\n").unwrap();
        assert_eq!(config.ingest.allowed_lateness, Duration::from_secs(20));
        assert_eq!(config.ingest.pending_capacity, 10_000);
    }
}
