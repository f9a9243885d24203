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
    /// What an assigned partition does when its checkpoints exist but none can be read (a
    /// newer schema after a rollback, a store that keeps failing).
    #[serde(default)]
    pub on_unreadable: OnUnreadable,
}

/// `checkpoint.on_unreadable`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnUnreadable {
    /// The partition is not consumed (paused, nothing committed), with an error log, the
    /// `vigil_checkpoint_restores_total{kind="refused"}` counter and `/readyz` saying why,
    /// until an operator acts: never a silent fresh start.
    #[default]
    Fail,
    /// The partition starts fresh from the committed offsets (its state is lost; its input
    /// is not).
    Fresh,
}
