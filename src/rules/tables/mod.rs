//! The rule tables (DESIGN.md §3): the in-memory state as Arrow RecordBatches, registered
//! once in the rules' SessionContext and refreshed every tick.
//!
//! Incremental refresh: the enterprises of each input partition are split into shards by a
//! hash of their id (about 16 enterprises per shard, so batches are large enough for
//! DataFusion's per-batch costs not to matter). A shard's rows are cached with a fingerprint of its enterprises'
//! versions (every change to an enterprise bumps its version); a tick rebuilds only the
//! shards whose fingerprint changed. `sensor_windows` also depends on the minute of the
//! clock (its windows end with it), so it is rebuilt for every shard when the minute turns.
//! Every other per-enterprise table is independent of the clock by construction: time
//! thresholds are columns (`offline_at`, `value_since`, transition times) that rules compare
//! with `clock.now`. `clock`, `regions` and `active_warnings` are small and rebuilt every tick.

mod business;
mod geometry;
mod global;
mod permits;
mod registry;
mod sensors;
mod swap;
mod writer;

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionContext;

use crate::model::EventTime;
use crate::state::{EnterpriseState, PartitionState, StateStore};

use super::episodes::ActiveWarning;
pub use global::OpenWarning;
pub use sensors::WINDOWS;
use swap::{RowsHint, Slot, SwapTable};
use writer::{schema_of, TableWriter};
pub use writer::{ColType, Column};

/// How a table's rows are made.
#[derive(Clone, Copy)]
pub enum Source {
    /// From one enterprise's state alone.
    Enterprise(fn(&EnterpriseState, &mut TableWriter)),
    /// From one enterprise's state and the minute of the clock.
    EnterpriseAtMinute(fn(&EnterpriseState, EventTime, &mut TableWriter)),
    /// From the clock, the regions or the active warnings.
    Global,
}

/// A rule table: its name in SQL, its columns, where its rows come from.
pub struct TableDef {
    pub name: &'static str,
    pub columns: &'static [Column],
    pub source: Source,
}

const fn per_enterprise(
    name: &'static str,
    columns: &'static [Column],
    rows: fn(&EnterpriseState, &mut TableWriter),
) -> TableDef {
    TableDef {
        name,
        columns,
        source: Source::Enterprise(rows),
    }
}

const fn global(name: &'static str, columns: &'static [Column]) -> TableDef {
    TableDef {
        name,
        columns,
        source: Source::Global,
    }
}

/// Every rule table. Their columns are documented in the README (a test keeps it true).
pub const TABLES: &[TableDef] = &[
    global("clock", global::CLOCK),
    global("regions", global::REGIONS),
    global("active_warnings", global::ACTIVE_WARNINGS),
    global("open_warnings", global::OPEN_WARNINGS),
    per_enterprise("enterprises", registry::ENTERPRISES, registry::enterprises),
    per_enterprise(
        "hazard_units",
        registry::HAZARD_UNITS,
        registry::hazard_units,
    ),
    per_enterprise("areas", registry::AREAS, registry::areas),
    per_enterprise("indicators", sensors::INDICATORS, sensors::indicators),
    TableDef {
        name: "sensor_windows",
        columns: sensors::SENSOR_WINDOWS,
        source: Source::EnterpriseAtMinute(sensors::sensor_windows),
    },
    per_enterprise("alarms", sensors::ALARMS, sensors::alarms),
    per_enterprise("alarm_events", sensors::ALARM_EVENTS, sensors::alarm_events),
    per_enterprise("permits", permits::PERMITS, permits::permits),
    per_enterprise(
        "permit_transitions",
        permits::PERMIT_TRANSITIONS,
        permits::permit_transitions,
    ),
    per_enterprise("gas_analyses", permits::GAS_ANALYSES, permits::gas_analyses),
    per_enterprise(
        "enterprise_status",
        business::ENTERPRISE_STATUS,
        business::enterprise_status,
    ),
    per_enterprise(
        "enterprise_ops",
        business::ENTERPRISE_OPS,
        business::enterprise_ops,
    ),
    per_enterprise("inventory", business::INVENTORY, business::inventory),
    per_enterprise("staffing", business::STAFFING, business::staffing),
    per_enterprise("training", business::TRAINING, business::training),
    per_enterprise("commitments", business::COMMITMENTS, business::commitments),
    per_enterprise("inspections", business::INSPECTIONS, business::inspections),
    per_enterprise(
        "warning_feedback",
        business::WARNING_FEEDBACK,
        business::warning_feedback,
    ),
];

impl TableDef {
    /// What the planner may assume about the table's size.
    fn rows_hint(&self) -> RowsHint {
        match (self.source, self.name) {
            (Source::Global, "clock") => RowsHint::Exactly(1),
            (Source::Global, _) => RowsHint::About(1_000),
            _ => RowsHint::About(1_000_000),
        }
    }
}

/// What a tick evaluates over.
pub struct World<'a> {
    pub store: &'a StateStore,
    pub now: EventTime,
    pub utc_offset_minutes: i32,
    pub active_warnings: &'a [ActiveWarning],
    /// The warnings published and not resolved, as of the previous tick.
    pub open_warnings: &'a [global::OpenWarning],
}

/// What a refresh did.
#[derive(Clone, Copy, Debug, Default)]
pub struct RefreshStats {
    pub shards: usize,
    pub shards_rebuilt: usize,
    pub elapsed: Duration,
}

struct Table {
    def: &'static TableDef,
    schema: SchemaRef,
    slot: Arc<Slot>,
}

/// The cached rows of one shard: one batch per table (`None` for global tables).
struct ShardRows {
    fingerprint: (u64, u32),
    minute: i64,
    batches: Vec<Option<RecordBatch>>,
}

/// Enterprises per shard the shard count aims at: enough rows per batch that DataFusion's
/// per-batch costs vanish (about 50 indicators and 200 window rows per enterprise).
const ENTERPRISES_PER_SHARD: usize = 16;

pub struct RuleTables {
    tables: Vec<Table>,
    max_shards: u32,
    /// The shard count each partition's cache was built with.
    shard_counts: HashMap<i32, u32>,
    cache: HashMap<(i32, u32), ShardRows>,
}

impl RuleTables {
    pub fn new(max_shards: u32) -> Self {
        let tables = TABLES
            .iter()
            .map(|def| Table {
                def,
                schema: schema_of(def.columns),
                slot: Arc::default(),
            })
            .collect();
        RuleTables {
            tables,
            max_shards: max_shards.max(1),
            shard_counts: HashMap::new(),
            cache: HashMap::new(),
        }
    }

    /// Registers every table in `ctx`, once; refreshes are seen by every plan built on it.
    pub fn register(&self, ctx: &SessionContext) -> datafusion::common::Result<()> {
        for table in &self.tables {
            let provider = SwapTable::new(
                Arc::clone(&table.schema),
                Arc::clone(&table.slot),
                table.def.rows_hint(),
            );
            ctx.register_table(table.def.name, Arc::new(provider))?;
        }
        Ok(())
    }

    /// Rebuilds what changed since the last refresh (everything when `full`) and swaps the
    /// new contents in.
    pub fn refresh(&mut self, world: &World<'_>, full: bool) -> RefreshStats {
        let started = Instant::now();
        if full {
            self.cache.clear();
        }
        let minute = world.now.millis().div_euclid(60_000);
        let mut stats = RefreshStats::default();
        let partitions = world.store.partitions();
        let present = |p: &i32| partitions.iter().any(|part| part.id == *p);
        self.cache.retain(|(p, _), _| present(p));
        self.shard_counts.retain(|p, _| present(p));
        for partition in &partitions {
            self.refresh_partition(partition, world.now, minute, &mut stats);
        }
        self.swap_in(world);
        stats.elapsed = started.elapsed();
        stats
    }

    fn refresh_partition(
        &mut self,
        partition: &PartitionState,
        now: EventTime,
        minute: i64,
        stats: &mut RefreshStats,
    ) {
        let shards = self.shard_count(partition);
        // Per shard: XOR of its enterprises' prints, and how many there are.
        let mut fingerprints = vec![(0u64, 0u32); shards as usize];
        for entry in partition.enterprises.iter() {
            let (shard, print) = shard_and_print(entry.key(), entry.version, shards);
            let slot = &mut fingerprints[shard as usize];
            slot.0 ^= print;
            slot.1 += 1;
        }
        // Which shards need which tables rebuilt: all (`true`) or only the clocked ones.
        let mut stale: HashMap<u32, bool> = HashMap::new();
        for (shard, print) in fingerprints.iter().enumerate() {
            let shard = shard as u32;
            if print.1 == 0 {
                self.cache.remove(&(partition.id, shard));
                continue;
            }
            match self.cache.get(&(partition.id, shard)) {
                Some(rows) if rows.fingerprint == *print && rows.minute == minute => {}
                Some(rows) if rows.fingerprint == *print => drop(stale.insert(shard, false)),
                _ => drop(stale.insert(shard, true)),
            }
        }
        stats.shards += fingerprints.iter().filter(|p| p.1 > 0).count();
        stats.shards_rebuilt += stale.len();
        let mut writers: HashMap<u32, Vec<Option<TableWriter>>> = stale
            .iter()
            .map(|(shard, all)| (*shard, self.writers(*all)))
            .collect();
        for entry in partition.enterprises.iter() {
            let (shard, _) = shard_and_print(entry.key(), entry.version, shards);
            if let Some(writers) = writers.get_mut(&shard) {
                self.write_rows(entry.value(), now, writers);
            }
        }
        for (shard, writers) in writers {
            self.store_shard(
                partition.id,
                shard,
                fingerprints[shard as usize],
                minute,
                writers,
            );
        }
    }

    /// A power of two near `enterprises / ENTERPRISES_PER_SHARD`, at most `max_shards`. When
    /// it changes (the partition grew or shrank by half) the partition is rebuilt.
    fn shard_count(&mut self, partition: &PartitionState) -> u32 {
        let wanted = (partition.enterprises.len() / ENTERPRISES_PER_SHARD).max(1);
        let shards = (1u32 << wanted.ilog2()).min(self.max_shards);
        if self.shard_counts.insert(partition.id, shards) != Some(shards) {
            self.cache.retain(|(p, _), _| *p != partition.id);
        }
        shards
    }

    /// Writers for the per-enterprise tables to rebuild: every one, or the clocked ones.
    fn writers(&self, all: bool) -> Vec<Option<TableWriter>> {
        self.tables
            .iter()
            .map(|t| match t.def.source {
                Source::Enterprise(_) if all => Some(t.writer()),
                Source::EnterpriseAtMinute(_) => Some(t.writer()),
                _ => None,
            })
            .collect()
    }

    fn write_rows(&self, e: &EnterpriseState, now: EventTime, writers: &mut [Option<TableWriter>]) {
        for (table, writer) in self.tables.iter().zip(writers.iter_mut()) {
            let Some(w) = writer else { continue };
            match table.def.source {
                Source::Enterprise(rows) => rows(e, w),
                Source::EnterpriseAtMinute(rows) => rows(e, now, w),
                Source::Global => {}
            }
        }
    }

    fn store_shard(
        &mut self,
        partition: i32,
        shard: u32,
        fingerprint: (u64, u32),
        minute: i64,
        writers: Vec<Option<TableWriter>>,
    ) {
        let n = self.tables.len();
        let entry = self
            .cache
            .entry((partition, shard))
            .or_insert_with(|| ShardRows {
                fingerprint,
                minute,
                batches: vec![None; n],
            });
        entry.fingerprint = fingerprint;
        entry.minute = minute;
        for (slot, writer) in entry.batches.iter_mut().zip(writers) {
            if let Some(w) = writer {
                *slot = (w.rows() > 0).then(|| w.finish());
            }
        }
    }

    fn swap_in(&self, world: &World<'_>) {
        let mut keys: Vec<&(i32, u32)> = self.cache.keys().collect();
        keys.sort_unstable();
        for (i, table) in self.tables.iter().enumerate() {
            let batches: Vec<RecordBatch> = match table.def.source {
                Source::Global => vec![self.global_batch(table, world)],
                _ => keys
                    .iter()
                    .filter_map(|k| self.cache[*k].batches[i].clone())
                    .collect(),
            };
            table.slot.swap(Arc::new(batches));
        }
    }

    fn global_batch(&self, table: &Table, world: &World<'_>) -> RecordBatch {
        let mut w = table.writer();
        match table.def.name {
            "clock" => global::clock(world.now, world.utc_offset_minutes, &mut w),
            "regions" => global::regions(&world.store.regions.levels_at(world.now), &mut w),
            "active_warnings" => global::active_warnings(world.active_warnings, &mut w),
            "open_warnings" => global::open_warnings(world.open_warnings, &mut w),
            other => unreachable!("{other} is not a global table"),
        }
        w.finish()
    }

    /// Forgets every cached shard: the next refresh rebuilds everything.
    pub fn invalidate(&mut self) {
        self.cache.clear();
    }

    /// The current rows of a table (for tests and `vigil rules tables`).
    pub fn contents(&self, name: &str) -> Option<Vec<RecordBatch>> {
        self.tables
            .iter()
            .find(|t| t.def.name == name)
            .map(|t| t.slot.current().to_vec())
    }
}

impl Table {
    fn writer(&self) -> TableWriter {
        TableWriter::new(Arc::clone(&self.schema), self.def.columns)
    }
}

/// The shard of an enterprise, and its contribution to the shard's fingerprint.
fn shard_and_print(key: &str, version: u64, shards: u32) -> (u32, u64) {
    let key_hash = splitmix(rustc_hash::FxBuildHasher.hash_one(key));
    let shard = (key_hash % u64::from(shards)) as u32;
    let print = splitmix(key_hash ^ version.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    (shard, print)
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The tables and their columns as Markdown (`vigil rules tables`, and the README).
pub fn markdown() -> String {
    let mut text = String::new();
    for table in TABLES {
        let columns: Vec<String> = table
            .columns
            .iter()
            .map(|(name, ty)| format!("`{name}` {}", ty.sql_name()))
            .collect();
        text.push_str(&format!("- **`{}`**: {}\n", table.name, columns.join(", ")));
    }
    text
}
