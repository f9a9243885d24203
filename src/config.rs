//! Configuration: one TOML file over compiled-in defaults (`deploy/vigil.toml`, printed by
//! `vigil config default`), then environment overrides `VIGIL__SECTION__KEY=value` (a value
//! that parses as TOML is taken as such, otherwise as a string). Unknown keys are an error that
//! names the key.

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
    pub rules: RulesConfig,
    pub warnings: crate::warnings::WarningsConfig,
    pub risk: crate::risk::RiskConfig,
    pub enforce: crate::enforce::config::EnforceConfig,
    pub checkpoint: crate::checkpoint::CheckpointConfig,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesConfig {
    /// Directory of rule files (`*.sql`, searched recursively); empty for none.
    pub dir: std::path::PathBuf,
    /// Evaluation tick, in event time.
    #[serde(with = "humantime_serde")]
    pub tick: Duration,
    /// The sites' offset from UTC, for local-time rules.
    pub utc_offset_minutes: i32,
    /// Longest one rule may run in one tick; beyond it the evaluation is abandoned.
    #[serde(with = "humantime_serde")]
    pub rule_timeout: Duration,
    /// Memory one rule's execution may use (DataFusion memory pool).
    pub rule_memory_bytes: usize,
    /// Shards per input partition for incremental table refresh.
    pub table_shards: u32,
    /// Reload changed rule files while running.
    pub watch: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestConfig {
    pub max_message_bytes: usize,
    #[serde(with = "humantime_serde")]
    pub allowed_lateness: Duration,
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// A partition further behind the most advanced one does not hold the engine clock.
    #[serde(with = "humantime_serde")]
    pub max_partition_skew: Duration,
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
    /// Warning records (key = warning id).
    pub warnings_topic: String,
    /// Enterprise risk records (compacted; key = enterprise id).
    pub risk_topic: String,
    /// County and city control indices (compacted; key = region or city id).
    pub regions_topic: String,
    /// Silences posted through the API (compacted; key = silence id).
    pub silences_topic: String,
    /// The counties' parts the instances of a group share (compacted; `risk::region_share`).
    pub region_parts_topic: String,
    pub late_topic: String,
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

impl KafkaConfig {
    /// Every topic vigil reads or writes: its inputs, then dead letters, late records,
    /// warnings, risk records, region indices and silences (what an embedded cluster must create).
    pub fn all_topics(&self) -> Vec<String> {
        let mut topics = self.topics.clone();
        topics.extend([
            self.dlq_topic.clone(),
            self.late_topic.clone(),
            self.warnings_topic.clone(),
            self.risk_topic.clone(),
            self.regions_topic.clone(),
            self.silences_topic.clone(),
            self.region_parts_topic.clone(),
        ]);
        topics
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    pub addr: String,
    pub ready_max_lag: i64,
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
        Config::layered(text, std::iter::empty())
    }

    /// The defaults, then `text`, then the `VIGIL__SECTION__KEY` variables among `env`.
    pub fn layered(
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut merged: toml::Table = toml::from_str(DEFAULT_TOML)?;
        merge(&mut merged, toml::from_str(text)?);
        merge(&mut merged, env_overrides(env));
        let config: Config = merged.try_into()?;
        config.check()?;
        Ok(config)
    }

    /// Reads a config file (or none) over the defaults, then the process environment.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let text = match path {
            None => String::new(),
            Some(path) => std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?,
        };
        Config::layered(&text, std::env::vars())
    }

    fn check(&self) -> Result<(), ConfigError> {
        let invalid = |message: &str| Err(ConfigError::Invalid(message.to_owned()));
        if let Err(message) = self.warnings.check() {
            return invalid(&message);
        }
        if let Err(message) = self.risk.check() {
            return invalid(&message);
        }
        if let Err(message) = self.enforce.check() {
            return invalid(&message);
        }
        if self.ingest.allowed_lateness >= self.state.bucket_horizon {
            return invalid("ingest.allowed_lateness must be shorter than state.bucket_horizon");
        }
        if self.rules.tick.is_zero() || self.rules.table_shards == 0 {
            return invalid("rules.tick and rules.table_shards must be positive");
        }
        if self.ingest.channel_capacity == 0 || self.ingest.pending_capacity == 0 {
            return invalid("ingest.channel_capacity and ingest.pending_capacity must be positive");
        }
        Ok(())
    }
}

/// Prefix of the environment variables that override config keys.
pub const ENV_PREFIX: &str = "VIGIL__";

/// `VIGIL__INGEST__ALLOWED_LATENESS=20s` → `[ingest] allowed_lateness = "20s"`.
fn env_overrides(env: impl IntoIterator<Item = (String, String)>) -> toml::Table {
    let mut table = toml::Table::new();
    for (name, raw) in env {
        let Some(path) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let keys: Vec<String> = path.split("__").map(str::to_lowercase).collect();
        let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or(toml::Value::String(raw));
        insert_path(&mut table, &keys, value);
    }
    table
}

fn insert_path(table: &mut toml::Table, keys: &[String], value: toml::Value) {
    match keys {
        [] => {}
        [last] => {
            table.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = table
                .entry(first.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let toml::Value::Table(inner) = entry {
                insert_path(inner, rest, value);
            }
        }
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
    fn environment_overrides_the_file() {
        let env = [
            (
                "VIGIL__INGEST__ALLOWED_LATENESS".to_owned(),
                "20s".to_owned(),
            ),
            ("VIGIL__INGEST__PENDING_CAPACITY".to_owned(), "5".to_owned()),
            (
                "VIGIL__KAFKA__BROKERS".to_owned(),
                "kafka-1:9092,kafka-2:9092".to_owned(),
            ),
            (
                "VIGIL__KAFKA__PROPERTIES__SECURITY.PROTOCOL".to_owned(),
                "ssl".to_owned(),
            ),
            (
                "VIGIL_ADDR".to_owned(),
                "ignored: a flag, not a key".to_owned(),
            ),
        ];
        let config = Config::layered("[ingest]\nallowed_lateness = \"5s\"\n", env).unwrap();
        assert_eq!(config.ingest.allowed_lateness, Duration::from_secs(20));
        assert_eq!(config.ingest.pending_capacity, 5);
        assert_eq!(config.kafka.brokers, "kafka-1:9092,kafka-2:9092");
        assert_eq!(config.kafka.properties["security.protocol"], "ssl");
    }

    #[test]
    fn an_unknown_environment_key_is_named() {
        let env = [("VIGIL__INGEST__LATENESS".to_owned(), "5s".to_owned())];
        let err = Config::layered("", env).unwrap_err();
        assert!(err.to_string().contains("lateness"), "{err}");
    }

    #[test]
    fn partial_file_overrides_one_key() {
        let config = Config::from_toml("[ingest]\nallowed_lateness = \"20s\"\n").unwrap();
        assert_eq!(config.ingest.allowed_lateness, Duration::from_secs(20));
        assert_eq!(config.ingest.pending_capacity, 10_000);
    }
}
