//! The checkpoint writer: waits for a snapshot's encoding and for the outputs it depends on,
//! writes it, and hands its offsets on to be committed. It runs beside the ingest loop, so a
//! slow encode, store or broker delays commits, never ingest.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::error::CheckpointError;
use crate::metrics::Metrics;

use super::lease::LeaseCommand;
use super::store::CheckpointStore;

/// Resolves once every record queued on one output before the snapshot is acknowledged.
pub type Flushed = oneshot::Receiver<()>;

/// One partition's snapshot on its way to the store.
pub struct CheckpointJob {
    pub partition: i32,
    pub offsets: BTreeMap<String, i64>,
    pub taken_at_ms: i64,
    /// The encoding, running on a blocking thread.
    pub bytes: JoinHandle<Result<Vec<u8>, CheckpointError>>,
    pub flushed: Vec<Flushed>,
}

/// What the writer does, in the order the ingest loop asks.
pub enum WriterJob {
    Checkpoint(CheckpointJob),
    /// To the lease keeper (see `lease`) once the checkpoints asked for before it are
    /// written (or given up on).
    Lease(LeaseCommand),
}

/// Writes jobs in order; `commit` is called with the offsets of each checkpoint written.
pub async fn run(
    mut jobs: mpsc::Receiver<WriterJob>,
    store: Arc<CheckpointStore>,
    metrics: Arc<Metrics>,
    leases: mpsc::UnboundedSender<LeaseCommand>,
    mut commit: impl FnMut(i32, &BTreeMap<String, i64>) + Send,
) {
    while let Some(job) = jobs.recv().await {
        match job {
            WriterJob::Checkpoint(job) => write(job, &store, &metrics, &mut commit).await,
            WriterJob::Lease(command) => {
                if leases.send(command).is_err() {
                    tracing::error!("lease keeper stopped");
                }
            }
        }
    }
}

async fn write(
    job: CheckpointJob,
    store: &CheckpointStore,
    metrics: &Metrics,
    commit: &mut (impl FnMut(i32, &BTreeMap<String, i64>) + Send),
) {
    let started = Instant::now();
    let mut delivered = true;
    for flushed in job.flushed {
        delivered &= flushed.await.is_ok();
    }
    if !delivered {
        // An output task ended with records undelivered: a checkpoint now would skip them.
        metrics.checkpoint.failures.inc();
        tracing::error!(
            partition = job.partition,
            "outputs not delivered; checkpoint skipped"
        );
        return;
    }
    let bytes = match job.bytes.await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(error)) => {
            metrics.checkpoint.failures.inc();
            tracing::error!(partition = job.partition, %error, "checkpoint cannot be encoded");
            return;
        }
        Err(error) => {
            metrics.checkpoint.failures.inc();
            tracing::error!(partition = job.partition, %error, "checkpoint encoding failed");
            return;
        }
    };
    let size = bytes.len();
    let progress = super::PartitionCheckpoint::progress(&job.offsets);
    match store
        .write(job.partition, progress, job.taken_at_ms, bytes)
        .await
    {
        Ok(location) => {
            metrics.checkpoint.record_write(
                job.partition,
                size,
                started.elapsed(),
                job.taken_at_ms,
            );
            tracing::debug!(partition = job.partition, %location, bytes = size, "checkpoint written");
            commit(job.partition, &job.offsets);
        }
        Err(error) => {
            metrics.checkpoint.failures.inc();
            tracing::error!(partition = job.partition, %error, "checkpoint write failed; offsets stay uncommitted");
        }
    }
}
