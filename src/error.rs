//! Errors of the vigil library. One enum per concern, each variant says when it happens.

use std::path::PathBuf;

/// Errors loading the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The TOML does not parse, or names a key vigil does not know.
    #[error("config: {0}")]
    Toml(#[from] toml::de::Error),
    /// The values parse but contradict each other.
    #[error("config: {0}")]
    Invalid(String),
}

/// Errors of a source or sink that stop a run (bad records never do: they are dead-lettered).
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    /// An input file could not be opened or read.
    #[error("{path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    /// An output could not be written.
    #[error("writing {what}: {source}")]
    Write {
        what: String,
        source: std::io::Error,
    },
    /// Kafka client creation, subscription or delivery failed.
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    /// The map's boundaries file (`map.boundaries`) is not one vigil can draw.
    #[error("map.boundaries {path}: {why}")]
    Boundaries { path: PathBuf, why: String },
    /// The HTTP listener could not start.
    #[error("http: {0}")]
    Http(std::io::Error),
    /// The API's TLS certificate or key cannot be used.
    #[error("api tls: {0}")]
    Tls(String),
    /// The checkpoint store could not be opened.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The rules directory is missing, unreadable or holds no rule (`rules.dir = ""` is the
    /// explicit way to run none): the service would report ready while watching nothing.
    #[error("rules: {0}")]
    Rules(String),
    /// `vigil learn` fitted no model from its input.
    #[error("learn: {0}")]
    Learn(String),
    /// An output topic does not exist (and `kafka.create_topics` is off).
    #[error("kafka: output topic(s) missing: {0}; create them, or set kafka.create_topics = true")]
    MissingTopics(String),
}

/// Errors that stop a replay.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Io(#[from] IoError),
    /// `--rules` names files that cannot run; one line per problem.
    #[error("rules cannot run:\n{}", list(.0))]
    Rules(Vec<crate::rules::RuleProblem>),
}

fn list(problems: &[crate::rules::RuleProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("  {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Errors writing or reading a checkpoint. None of them loses input: offsets are only
/// committed once a checkpoint is written, so a failed write is retried at the next interval
/// and a checkpoint that cannot be read is passed over for an older one.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// `checkpoint.url` is neither a directory nor a URL object_store understands.
    #[error("checkpoint.url {url:?}: {reason}")]
    Url { url: String, reason: String },
    /// The object store refused a put, get, list or delete.
    #[error("checkpoint store: {0}")]
    Store(#[from] object_store::Error),
    /// The bytes are not a vigil checkpoint.
    #[error("not a vigil checkpoint (bad magic)")]
    Magic,
    /// Written by a vigil whose checkpoint schema this one cannot read.
    #[error("checkpoint schema {found} is not readable by this vigil (reads {supported})")]
    Schema { found: u32, supported: u32 },
    /// Checkpoints exist for the partition but none reads back.
    #[error("{found} checkpoint(s) of partition {partition}, none readable; the newest: {newest}")]
    NoneReadable {
        partition: i32,
        found: usize,
        newest: String,
    },
    #[error("checkpoint encoding: {0}")]
    Encode(#[from] rmp_serde::encode::Error),
    #[error("checkpoint decoding: {0}")]
    Decode(#[from] rmp_serde::decode::Error),
}
