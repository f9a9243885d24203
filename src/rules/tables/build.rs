//! Building the stale batches of a partition's shards, on every core: shards are dealt to
//! threads, each of which walks the partition's enterprises and writes the rows of its own
//! shards. A tick's refresh blocks the tick anyway; spreading it is pure gain.
//!
//! A stale batch is rebuilt from its enterprises' rows: an enterprise whose parts did not
//! change keeps its rows (a slice of the old batch, `Span`), the others are written anew,
//! and the pieces are put together in the partition's order, as a whole rebuild lays them
//! out. A reading then costs its enterprise's rows, not its shard's.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;

use crate::model::EventTime;
use crate::state::{EnterpriseState, PartitionState};

use super::shards::{enterprise_stamp, shard_of};
use super::writer::TableWriter;
use super::{Built, ShardKey, Stamp, TableDef};

/// One shard's tables to rebuild: per table, the stamp to build it with (`None`: keep).
pub struct ShardJob {
    pub shard: u32,
    pub stamps: Vec<Option<Stamp>>,
}

/// Where an enterprise's rows sit in a shard's batch, and the stamp of its parts they were
/// built from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub stamp: u64,
    pub offset: usize,
    pub len: usize,
}

/// A shard's rows of one table (`batch` is `None` when it has none), per enterprise.
#[derive(Default)]
pub struct Rows {
    pub batch: Option<RecordBatch>,
    pub spans: HashMap<Box<str>, Span>,
}

/// Per table of a job: its new rows, or `None` when it was not rebuilt.
pub type Rebuilt = Vec<Option<Rows>>;

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
    /// What the partition's shards held before (rows of unchanged enterprises are kept).
    pub previous: &'a HashMap<ShardKey, Vec<Option<Built>>>,
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
        let mut job_of = vec![None; self.shards as usize];
        for (i, job) in jobs.iter().enumerate() {
            job_of[job.shard as usize] = Some(i);
        }
        let mut pieces: Vec<Vec<Option<Pieces>>> = jobs
            .iter()
            .map(|job| {
                (job.stamps.iter().zip(self.defs.iter().zip(self.schemas)))
                    .map(|(stamp, (def, schema))| {
                        stamp
                            .map(|_| Pieces::new(TableWriter::new(Arc::clone(schema), def.columns)))
                    })
                    .collect()
            })
            .collect();
        for entry in self.state.enterprises.iter() {
            let (shard, _) = shard_of(entry.key(), self.shards);
            let Some(job) = job_of[shard as usize] else {
                continue;
            };
            let previous = self.previous.get(&(self.state.id, shard));
            for (i, table) in pieces[job].iter_mut().enumerate() {
                let Some(table) = table else { continue };
                let kept = previous.and_then(|p| p[i].as_ref());
                self.add(i, entry.key(), entry.value(), kept, table);
            }
        }
        jobs.into_iter()
            .zip(pieces)
            .map(|(job, tables)| {
                let rows = tables.into_iter().map(|t| t.map(Pieces::finish)).collect();
                (job, rows)
            })
            .collect()
    }

    /// An enterprise's rows of table `i`: kept from the old batch when its parts did not
    /// change, else written anew.
    fn add(
        &self,
        i: usize,
        id: &str,
        enterprise: &EnterpriseState,
        kept: Option<&Built>,
        table: &mut Pieces,
    ) {
        let def = self.defs[i];
        let Some((reads, minute)) = def.state_reads(self.now.millis().div_euclid(60_000)) else {
            return;
        };
        let stamp = enterprise_stamp(&enterprise.part_versions, reads, minute);
        let old = kept.and_then(|b| Some((b.batch.as_ref(), *b.spans.get(id)?)));
        match old {
            Some((batch, span)) if span.stamp == stamp => table.keep(id, batch, span),
            _ => {
                let offset = table.writer.rows();
                def.write(enterprise, self.now, &mut table.writer);
                table.fresh(id, stamp, offset);
            }
        }
    }
}

/// One shard's rows of one table, enterprise by enterprise: kept slices of the old batch and
/// rows written anew, in order.
struct Pieces {
    writer: TableWriter,
    order: Vec<(Box<str>, u64, Piece)>,
    kept_any: bool,
}

enum Piece {
    /// Rows of the old batch.
    Kept(Option<RecordBatch>),
    /// Rows of the writer, from this offset on.
    Fresh { offset: usize, len: usize },
}

impl Pieces {
    fn new(writer: TableWriter) -> Self {
        Pieces {
            writer,
            order: Vec::new(),
            kept_any: false,
        }
    }

    fn keep(&mut self, id: &str, batch: Option<&RecordBatch>, span: Span) {
        let rows = batch
            .filter(|_| span.len > 0)
            .map(|b| b.slice(span.offset, span.len));
        self.kept_any |= rows.is_some();
        self.order.push((id.into(), span.stamp, Piece::Kept(rows)));
    }

    fn fresh(&mut self, id: &str, stamp: u64, offset: usize) {
        let len = self.writer.rows() - offset;
        self.order
            .push((id.into(), stamp, Piece::Fresh { offset, len }));
    }

    /// The shard's batch, its pieces in order, and where each enterprise's rows sit in it.
    fn finish(self) -> Rows {
        let fresh = self.writer.finish();
        let mut spans = HashMap::with_capacity(self.order.len());
        // Rows written anew are already in order when nothing was kept: no slices, no copy.
        let mut slices = Vec::with_capacity(if self.kept_any { self.order.len() } else { 0 });
        let mut offset = 0;
        for (id, stamp, piece) in self.order {
            let len = match piece {
                Piece::Kept(rows) => {
                    let len = rows.as_ref().map_or(0, RecordBatch::num_rows);
                    slices.extend(rows);
                    len
                }
                Piece::Fresh { offset: from, len } => {
                    if self.kept_any && len > 0 {
                        slices.push(fresh.slice(from, len));
                    }
                    len
                }
            };
            spans.insert(id, Span { stamp, offset, len });
            offset += len;
        }
        let batch = match self.kept_any {
            false => fresh,
            true => concat_batches(&fresh.schema(), &slices).expect("slices of one schema"),
        };
        Rows {
            batch: (batch.num_rows() > 0).then_some(batch),
            spans,
        }
    }
}
