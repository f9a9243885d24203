//! Where checkpoints live: an `object_store` (a local directory by default; S3, GCS or Azure
//! by URL). One object per checkpoint, named so that listing sorts them oldest first:
//! `<group>/partition-00003/<progress:020>-<taken_at_ms:013>.vck`. A put is atomic in every
//! store (a local directory writes a temporary file and renames it), so a crash mid-write
//! leaves the previous checkpoint as the latest.

use std::sync::Arc;

use futures::TryStreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::error::CheckpointError;
use crate::model::EventTime;

use super::config::CheckpointConfig;
use super::format::PartitionCheckpoint;

const SUFFIX: &str = ".vck";

pub struct CheckpointStore {
    store: Arc<dyn ObjectStore>,
    root: Path,
    keep: usize,
}

/// A checkpoint found in the store and read back.
pub struct Loaded {
    pub checkpoint: PartitionCheckpoint,
    pub bytes: usize,
    pub location: Path,
}

impl CheckpointStore {
    /// Opens `config.url`, under a folder named after the consumer group.
    pub fn open(config: &CheckpointConfig, group: &str) -> Result<Self, CheckpointError> {
        let (store, prefix) = open_url(&config.url)?;
        Ok(CheckpointStore {
            store,
            root: prefix.join(group),
            keep: config.keep.max(1),
        })
    }

    fn folder(&self, partition: i32) -> Path {
        self.root.clone().join(format!("partition-{partition:05}"))
    }

    /// Writes a small object beside the partition's checkpoints (not one of them: its name
    /// lacks their suffix), such as its lease.
    pub async fn write_beside(
        &self,
        partition: i32,
        name: &str,
        bytes: Vec<u8>,
    ) -> Result<(), CheckpointError> {
        let location = self.folder(partition).join(name);
        self.store.put(&location, PutPayload::from(bytes)).await?;
        Ok(())
    }

    /// An object written by `write_beside`, if it exists.
    pub async fn read_beside(
        &self,
        partition: i32,
        name: &str,
    ) -> Result<Option<Vec<u8>>, CheckpointError> {
        let location = self.folder(partition).join(name);
        match self.store.get(&location).await {
            Ok(found) => Ok(Some(found.bytes().await?.to_vec())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// Writes one checkpoint and deletes all but the newest `keep` of its partition.
    pub async fn write(
        &self,
        partition: i32,
        progress: i64,
        taken_at_ms: i64,
        bytes: Vec<u8>,
    ) -> Result<Path, CheckpointError> {
        let name = format!("{:020}-{:013}{SUFFIX}", progress.max(0), taken_at_ms.max(0));
        let location = self.folder(partition).join(name);
        self.store.put(&location, PutPayload::from(bytes)).await?;
        self.prune(partition, &location).await?;
        Ok(location)
    }

    /// The partition's checkpoints, oldest first.
    async fn list(&self, partition: i32) -> Result<Vec<Path>, CheckpointError> {
        let folder = self.folder(partition);
        let mut found: Vec<Path> = self
            .store
            .list(Some(&folder))
            .map_ok(|meta| meta.location)
            .try_filter(|l| futures::future::ready(l.as_ref().ends_with(SUFFIX)))
            .try_collect()
            .await?;
        found.sort_by(|a, b| a.as_ref().cmp(b.as_ref()));
        Ok(found)
    }

    /// Deletes the oldest checkpoints beyond `keep`, never `written` (the one just written,
    /// which reads back): with checkpoints named after it that this vigil cannot read (a
    /// rollback), counting by name alone once deleted every readable one (issue 19).
    async fn prune(&self, partition: i32, written: &Path) -> Result<(), CheckpointError> {
        let found = self.list(partition).await?;
        let surplus = found.len().saturating_sub(self.keep);
        for old in found.iter().filter(|l| *l != written).take(surplus) {
            self.store.delete(old).await?;
        }
        Ok(())
    }

    /// The newest checkpoint of `partition` that reads back. A corrupt one is logged and
    /// passed over (an older one is still consistent); one of a newer schema is an error (this
    /// vigil is older than its state: falling back days could seek past the input's
    /// retention), and so is a partition whose checkpoints all fail to read. `None` only when
    /// the partition has no checkpoint at all.
    pub async fn latest(&self, partition: i32) -> Result<Option<Loaded>, CheckpointError> {
        self.newest_where(partition, |_| true).await
    }

    /// The newest readable checkpoint of `partition` taken when the engine's last tick was
    /// `tick` or earlier (`None`: before its first tick).
    pub async fn newest_at_or_before(
        &self,
        partition: i32,
        tick: Option<EventTime>,
    ) -> Result<Option<Loaded>, CheckpointError> {
        self.newest_where(partition, |c| c.tick <= tick).await
    }

    async fn newest_where(
        &self,
        partition: i32,
        wanted: impl Fn(&PartitionCheckpoint) -> bool,
    ) -> Result<Option<Loaded>, CheckpointError> {
        let found = self.list(partition).await?;
        let mut newest_error = None;
        let mut readable = false;
        for location in found.iter().rev() {
            let bytes = self.store.get(location).await?.bytes().await?;
            match PartitionCheckpoint::decode(&bytes) {
                Ok(checkpoint) if wanted(&checkpoint) => {
                    return Ok(Some(Loaded {
                        checkpoint,
                        bytes: bytes.len(),
                        location: location.clone(),
                    }))
                }
                Ok(_) => readable = true,
                Err(error @ CheckpointError::Schema { found, supported }) if found > supported => {
                    tracing::error!(%location, %error, "checkpoint of a newer vigil");
                    return Err(error);
                }
                Err(error) => {
                    tracing::error!(%location, %error, "checkpoint unreadable; trying an older one");
                    newest_error.get_or_insert_with(|| format!("{location}: {error}"));
                }
            }
        }
        match newest_error.filter(|_| !readable) {
            None => Ok(None),
            Some(newest) => Err(CheckpointError::NoneReadable {
                partition,
                found: found.len(),
                newest,
            }),
        }
    }
}

/// A bare path is a local directory (created); anything with a scheme goes to object_store,
/// with the cloud's credentials from the environment (`AWS_*`, `GOOGLE_*`, `AZURE_*`).
fn open_url(text: &str) -> Result<(Arc<dyn ObjectStore>, Path), CheckpointError> {
    let bad = |reason: String| CheckpointError::Url {
        url: text.to_owned(),
        reason,
    };
    if !text.contains("://") {
        std::fs::create_dir_all(text).map_err(|e| bad(e.to_string()))?;
        let local = LocalFileSystem::new_with_prefix(text)?;
        return Ok((Arc::new(local), Path::default()));
    }
    let url = url::Url::parse(text).map_err(|e| bad(e.to_string()))?;
    if url.scheme() == "file" {
        std::fs::create_dir_all(url.path()).map_err(|e| bad(e.to_string()))?;
    }
    let credentials = std::env::vars()
        .filter(|(k, _)| {
            ["AWS_", "GOOGLE_", "AZURE_"]
                .iter()
                .any(|p| k.starts_with(p))
        })
        .map(|(k, v)| (k.to_ascii_lowercase(), v));
    let (store, prefix) = object_store::parse_url_opts(&url, credentials)?;
    Ok((Arc::from(store), prefix))
}
