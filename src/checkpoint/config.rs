//! `[checkpoint]`: where and how often partition checkpoints are written.

use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointConfig {
    /// A directory (created if missing) or an object-store URL: `file:///var/lib/vigil`,
    /// `s3://bucket/prefix`, `gs://bucket/prefix`, `az://container/prefix`. Credentials come
    /// from the usual environment variables of each cloud.
    pub url: String,
    /// Every partition is checkpointed this often (wall time), and on shutdown.
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
    /// Checkpoints kept per partition; older ones are deleted once a newer one is written.
    pub keep: usize,
}
