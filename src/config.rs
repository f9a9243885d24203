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
    pub map: MapConfig,
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
    /// Through event time with no input, the boundaries evaluated are this far apart.
    #[serde(with = "humantime_serde")]
    pub quiet_tick: Duration,
    /// Evaluation tick, in event time: every boundary with input is evaluated.
    #[serde(with = "humantime_serde")]
    pub tick: Duration,
    /// The sites' offset from UTC, for local-time rules.
    pub utc_offset_minutes: i32,
    /// Longest one rule may run in one tick; beyond it the evaluation is abandoned.
    #[serde(with = "humantime_serde")]
    pub rule_timeout: Duration,
    /// Memory all rules' executions may hold together (one DataFusion memory pool).
    pub memory_limit: usize,
    /// Rows one rule's evaluation may return in one tick; more fail it (`kind="overflow"`).
    pub max_hits_per_tick: usize,
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
    /// A partition whose watermark runs further ahead of the engine clock is paused at the
    /// source until the clock catches up: it bounds the records waiting for their tick.
    #[serde(with = "humantime_serde")]
    pub max_drift: Duration,
    #[serde(with = "humantime_serde")]
    pub max_ahead_of_watermark: Duration,
    #[serde(with = "humantime_serde")]
    pub max_ahead_of_wall_clock: Duration,
    pub pending_capacity: usize,
    /// Bytes the pending buffer may hold (payloads, keys, names), whatever the record count.
    pub pending_max_bytes: usize,
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
    /// Create missing output topics at start (else a missing one stops the start, named).
    #[serde(default)]
    pub create_topics: bool,
    /// Partitions of the output topics vigil creates.
    #[serde(default = "one_partition")]
    pub create_partitions: i32,
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

fn one_partition() -> i32 {
    1
}

impl KafkaConfig {
    /// Every topic vigil reads or writes: its inputs, then dead letters, late records,
    /// warnings, risk records, region indices and silences (what an embedded cluster must create).
    pub fn all_topics(&self) -> Vec<String> {
        let mut topics = self.topics.clone();
        topics.extend(self.output_topics().map(|(name, _)| name.to_owned()));
        topics
    }

    /// Every topic vigil writes, with whether it is compacted (a keyed table).
    pub fn output_topics(&self) -> [(&str, bool); 7] {
        [
            (&self.dlq_topic, false),
            (&self.late_topic, false),
            (&self.warnings_topic, false),
            (&self.risk_topic, true),
            (&self.regions_topic, true),
            (&self.silences_topic, true),
            (&self.region_parts_topic, true),
        ]
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    pub addr: String,
    pub ready_max_lag: i64,
    /// Requests served at once; more are answered 503.
    pub max_concurrent_requests: usize,
    /// Longest a request may take to answer (an event stream's body flows on); then 503.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Event streams (`/api/warnings/stream`, `/api/risk/stream`) open at once; more: 503.
    pub max_sse_clients: usize,
    /// Threads of the API's own runtime (1..=64), apart from the ingest loop's.
    pub worker_threads: usize,
    /// Bearer token of every read (all but /healthz, /readyz and the map's static files);
    /// empty: reads are open. A secret: from the environment or `read_token_file`.
    #[serde(default)]
    pub read_token: String,
    /// Bearer token of writes (`POST /api/silences`); empty: `warnings.api_token`.
    #[serde(default)]
    pub write_token: String,
    /// Files holding the tokens (a mounted secret); their content wins over the keys above.
    #[serde(default)]
    pub read_token_file: String,
    #[serde(default)]
    pub write_token_file: String,
    /// Serve `/metrics` without a token even when `read_token` is set.
    #[serde(default)]
    pub metrics_public: bool,
    /// PEM certificate chain and private key: when both are set the API speaks only HTTPS.
    #[serde(default)]
    pub tls_cert: String,
    #[serde(default)]
    pub tls_key: String,
}

/// The map page (`api::map`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapConfig {
    /// A GeoJSON file of county outlines; empty for outlines from the enterprises' positions.
    pub boundaries: String,
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
        let overrides = env_overrides(env, &merged);
        merge(&mut merged, toml::from_str(text)?);
        merge(&mut merged, overrides);
        let config: Config = merged.try_into()?;
        config.check()?;
        Ok(config)
    }

    /// Reads a config file (or none) over the defaults, then the process environment. Paths
    /// the file sets relative (`rules.dir`, a directory `checkpoint.url`) are taken relative
    /// to the file's folder, as Prometheus does; defaults and environment values stay
    /// relative to the working directory.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let text = match path {
            None => String::new(),
            Some(path) => std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?,
        };
        let mut config = Config::layered(&text, std::env::vars())?;
        if let Some(path) = path {
            let folder = path.parent().unwrap_or(Path::new(""));
            config.resolve_file_paths(&toml::from_str(&text)?, folder);
        }
        config.read_token_files()?;
        Ok(config)
    }

    /// Fills `api.read_token` / `api.write_token` from their files, trimmed.
    fn read_token_files(&mut self) -> Result<(), ConfigError> {
        let api = &mut self.api;
        for (file, token) in [
            (&api.read_token_file, &mut api.read_token),
            (&api.write_token_file, &mut api.write_token),
        ] {
            if file.is_empty() {
                continue;
            }
            let text = std::fs::read_to_string(file).map_err(|source| ConfigError::Read {
                path: file.into(),
                source,
            })?;
            *token = text.trim().to_owned();
        }
        Ok(())
    }

    fn resolve_file_paths(&mut self, file: &toml::Table, folder: &Path) {
        let set = |section: &str, key: &str| {
            file.get(section)
                .and_then(|s| s.get(key))
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        let relative = |value: &str| !value.is_empty() && Path::new(value).is_relative();
        if let Some(dir) = set("rules", "dir") {
            if relative(&dir) && self.rules.dir == Path::new(&dir) {
                self.rules.dir = folder.join(dir);
            }
        }
        if let Some(url) = set("checkpoint", "url") {
            if relative(&url) && !url.contains("://") && self.checkpoint.url == url {
                self.checkpoint.url = folder.join(url).to_string_lossy().into_owned();
            }
        }
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
        if self.rules.quiet_tick < self.rules.tick
            || self.rules.quiet_tick.as_millis() % self.rules.tick.as_millis() != 0
        {
            return invalid("rules.quiet_tick must be a multiple of rules.tick");
        }
        if self.ingest.channel_capacity == 0 || self.ingest.pending_capacity == 0 {
            return invalid("ingest.channel_capacity and ingest.pending_capacity must be positive");
        }
        if !(1..=MAX_API_WORKERS).contains(&self.api.worker_threads) {
            return invalid("api.worker_threads must be within 1..=64");
        }
        if self.api.tls_cert.is_empty() != self.api.tls_key.is_empty() {
            return invalid("api.tls_cert and api.tls_key are set together");
        }
        if self.ingest.pending_max_bytes < self.ingest.max_message_bytes {
            return invalid("ingest.pending_max_bytes must hold at least one record of ingest.max_message_bytes");
        }
        Ok(())
    }
}

/// More API threads than this only contend with the ingest loop.
const MAX_API_WORKERS: usize = 64;

/// Prefix of the environment variables that override config keys.
pub const ENV_PREFIX: &str = "VIGIL__";

/// `VIGIL__INGEST__ALLOWED_LATENESS=20s` → `[ingest] allowed_lateness = "20s"`. A key whose
/// default is a string, and every librdkafka property, takes the value as a string as it is
/// (a numeric password stays a string); other values are parsed as TOML when they parse.
fn env_overrides(
    env: impl IntoIterator<Item = (String, String)>,
    defaults: &toml::Table,
) -> toml::Table {
    let mut table = toml::Table::new();
    for (name, raw) in env {
        let Some(path) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let keys: Vec<String> = path.split("__").map(str::to_lowercase).collect();
        let value = if is_string_key(defaults, &keys) {
            toml::Value::String(raw)
        } else {
            toml::from_str::<toml::Table>(&format!("v = {raw}"))
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or(toml::Value::String(raw))
        };
        insert_path(&mut table, &keys, value);
    }
    table
}

/// Whether the key at `keys` is string-typed: its default is a string, or it sits in one of
/// the librdkafka property maps.
fn is_string_key(defaults: &toml::Table, keys: &[String]) -> bool {
    if keys.len() == 3 && keys[0] == "kafka" && keys[1].ends_with("properties") {
        return true;
    }
    let mut table = defaults;
    for (i, key) in keys.iter().enumerate() {
        match table.get(key) {
            Some(toml::Value::Table(inner)) if i + 1 < keys.len() => table = inner,
            Some(toml::Value::String(_)) => return i + 1 == keys.len(),
            _ => return false,
        }
    }
    false
}

/// Whether a setting holds a secret, judged by its name: never printed or logged.
pub fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["password", "secret", "token", "key"]
        .iter()
        .any(|word| key.contains(word))
}

const REDACTED: &str = "<redacted>";

impl Config {
    /// The config as `config show` prints it: every secret replaced by `<redacted>`.
    pub fn redacted(&self) -> Config {
        let mut shown = self.clone();
        let hide = |value: &mut String| {
            if !value.is_empty() {
                *value = REDACTED.into();
            }
        };
        hide(&mut shown.warnings.api_token);
        hide(&mut shown.api.read_token);
        hide(&mut shown.api.write_token);
        hide(&mut shown.enforce.seed_key);
        for properties in [
            &mut shown.kafka.properties,
            &mut shown.kafka.consumer_properties,
            &mut shown.kafka.producer_properties,
        ] {
            for (key, value) in properties.iter_mut() {
                if is_secret(key) {
                    hide(value);
                }
            }
        }
        shown
    }
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

    /// Issue 19, item 4.
    #[test]
    fn secrets_are_redacted_and_numeric_passwords_stay_strings() {
        let env = [
            (
                "VIGIL__KAFKA__PROPERTIES__SASL.PASSWORD".to_owned(),
                "123456".to_owned(),
            ),
            ("VIGIL__WARNINGS__API_TOKEN".to_owned(), "0042".to_owned()),
            ("VIGIL__KAFKA__GROUP_ID".to_owned(), "7".to_owned()),
        ];
        let file = "[kafka.properties]\n\"ssl.key.password\" = \"hunter2\"\n\"security.protocol\" = \"sasl_ssl\"\n";
        let config = Config::layered(file, env).unwrap();
        assert_eq!(config.kafka.properties["sasl.password"], "123456");
        assert_eq!(config.warnings.api_token, "0042");
        assert_eq!(config.kafka.group_id, "7");
        let shown = toml::to_string(&config.redacted()).unwrap();
        for secret in ["123456", "hunter2", "0042"] {
            assert!(!shown.contains(secret), "{secret} printed:\n{shown}");
        }
        assert!(shown.contains("sasl_ssl"));
    }

    #[test]
    fn relative_paths_of_a_file_are_relative_to_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("vigil.toml");
        std::fs::write(
            &file,
            "[rules]\ndir = \"rules\"\n[checkpoint]\nurl = \"cp\"\n",
        )
        .unwrap();
        let config = Config::load(Some(&file)).unwrap();
        assert_eq!(config.rules.dir, dir.path().join("rules"));
        assert_eq!(
            config.checkpoint.url,
            dir.path().join("cp").to_string_lossy()
        );
    }

    #[test]
    fn partial_file_overrides_one_key() {
        let config = Config::from_toml("[ingest]\nallowed_lateness = \"20s\"\n").unwrap();
        assert_eq!(config.ingest.allowed_lateness, Duration::from_secs(20));
        assert_eq!(config.ingest.pending_capacity, 10_000);
    }
}
