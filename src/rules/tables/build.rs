//! Building the stale batches of a partition's shards, on every core: shards are dealt to
//! threads, each of which walks the partition's enterprises and writes the rows of its own
//! shards. A tick's refresh blocks the tick anyway; spreading it is pure gain.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;

use crate::model::EventTime;
use crate::state::PartitionState;

use super::shards::shard_of;
use super::writer::TableWriter;
use super::{Source, Stamp, TableDef};

/// One shard's tables to rebuild: per table, the stamp to build it with (`None`: keep).
pub struct ShardJob {
    pub shard: u32,
    pub stamps: Vec<Option<Stamp>>,
}

/// Per table of a job: its new rows (`None` inside: the shard has no rows for it), or
/// `None` when it was not rebuilt.
pub type Rebuilt = Vec<Option<Option<RecordBatch>>>;

/// Shards a thread should have to itself for spawning it to pay.
const SHARDS_PER_THREAD: usize = 4;

/// Threads to build with: the machine's cores, up to 8.
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

/// What the rows of one partition's shards are built from.
pub struct Partition<'a> {
    pub defs: &'a [&'static TableDef],
    pub schemas: &'a [SchemaRef],
    pub state: &'a PartitionState,
    pub shards: u32,
    pub now: EventTime,
}

/// Builds every job's stale batches.
pub fn rows(
    partition: &Partition<'_>,
    jobs: Vec<ShardJob>,
    threads: usize,
) -> Vec<(ShardJob, Rebuilt)> {
    let threads = threads.min(jobs.len() / SHARDS_PER_THREAD).max(1);
    let build = |jobs| partition.build_some(jobs);
    if threads == 1 {
        return build(jobs);
    }
    let mut groups: Vec<Vec<ShardJob>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, job) in jobs.into_iter().enumerate() {
        groups[i % threads].push(job);
    }
    let first = groups.remove(0);
    std::thread::scope(|scope| {
        let others: Vec<_> = groups
            .into_iter()
            .map(|group| scope.spawn(move || build(group)))
            .collect();
        let mut built = build(first);
        for handle in others {
            match handle.join() {
                Ok(rows) => built.extend(rows),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        built
    })
}

impl Partition<'_> {
    fn build_some(&self, jobs: Vec<ShardJob>) -> Vec<(ShardJob, Rebuilt)> {
        let Partition {
            defs,
            schemas,
            state: partition,
            shards,
            now,
        } = *self;
        let mut job_of = vec![None; shards as usize];
        for (i, job) in jobs.iter().enumerate() {
            job_of[job.shard as usize] = Some(i);
        }
        let mut writers: Vec<Vec<Option<TableWriter>>> = jobs
            .iter()
            .map(|job| {
                job.stamps
                    .iter()
                    .zip(defs.iter().zip(schemas))
                    .map(|(stamp, (def, schema))| {
                        stamp.map(|_| TableWriter::new(Arc::clone(schema), def.columns))
                    })
                    .collect()
            })
            .collect();
        for entry in partition.enterprises.iter() {
            let (shard, _) = shard_of(entry.key(), shards);
            let Some(job) = job_of[shard as usize] else {
                continue;
            };
            for (def, writer) in defs.iter().zip(writers[job].iter_mut()) {
                let Some(w) = writer else { continue };
                match def.source {
                    Source::Enterprise(_, rows) => rows(entry.value(), w),
                    Source::EnterpriseAtMinute(_, rows) => rows(entry.value(), now, w),
                    Source::Global | Source::Episodes => {}
                }
            }
        }
        jobs.into_iter()
            .zip(writers)
            .map(|(job, writers)| {
                let batches = writers
                    .into_iter()
                    .map(|w| w.map(|w| (w.rows() > 0).then(|| w.finish())))
                    .collect();
                (job, batches)
            })
            .collect()
    }
}
