//! The rule tables (DESIGN.md §3): the in-memory state as Arrow RecordBatches, registered
//! once in the rules' SessionContext and refreshed at every tick that runs a rule.
//!
//! Incremental refresh: the enterprises of each input partition are split into shards by a
//! hash of their id (about 16 enterprises per shard, so batches are large enough for
//! DataFusion's per-batch costs not to matter). A shard's batch of a table is cached with a
//! stamp of what it was built from: the versions of the parts of the state the table reads
//! (`state::Part`) of the shard's enterprises. A tick rebuilds only the batches whose stamp
//! changed, of the tables a due rule reads: a reading rebuilds the shard's sensor tables,
//! not its permits or business tables. `sensor_windows` also depends on the minute of the
//! clock (its windows end with it), so it is rebuilt for every shard when the minute turns.
//! Every other per-enterprise table is independent of the clock by construction: time
//! thresholds are columns (`offline_at`, `value_since`, transition times) that rules compare
//! with `clock.now`. `clock`, `regions` and the warnings tables are small and rebuilt at
//! every tick that reads them. Stale shards are built on every core.

mod build;
mod build_side;
mod business;
mod deadlines;
mod geometry;
mod global;
mod monitor;
mod permits;
mod registry;
mod sensors;
mod shards;
mod swap;
mod writer;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionContext;

use crate::model::EventTime;
use crate::state::{EnterpriseState, Part, PartitionState, StateStore};

use super::episodes::ActiveWarning;
use super::locality::Deadline;
use build::ShardJob;
pub use build_side::SmallBuildSide;
pub use global::OpenWarning;
pub use monitor::UNIT_MONITOR_TABLE;
pub use sensors::WINDOWS;
use shards::PartPrints;
pub use swap::{restrict, ShardFilter, ShardKey};
use swap::{Contents, RowsHint, Slot, SwapTable};
use writer::{schema_of, TableWriter};
pub use writer::{ColType, Column};

/// How a table's rows are made.
#[derive(Clone, Copy)]
pub enum Source {
    /// From one enterprise's state alone: the parts it reads.
    Enterprise(&'static [Part], fn(&EnterpriseState, &mut TableWriter)),
    /// From one enterprise's state (the parts it reads) and the minute of the clock.
    EnterpriseAtMinute(
        &'static [Part],
        fn(&EnterpriseState, EventTime, &mut TableWriter),
    ),
    /// From the rules' open episodes, kept with the enterprise each is about.
    Episodes,
    /// From the clock, the regions or the published warnings.
    Global,
}

/// A rule table: its name in SQL, its columns, where its rows come from.
pub struct TableDef {
    pub name: &'static str,
    pub columns: &'static [Column],
    pub source: Source,
    pub volatile: Option<Volatile>,
}

/// Columns that change far more often than the rest of their rows (an enterprise's last
/// event, an episode's last hit). A rule that reads none of them need not run again when
/// only they changed: it is told a second stamp, of the other columns.
pub struct Volatile {
    pub columns: &'static [&'static str],
    /// What the other columns read of the state (for a table built from it).
    pub others_read: &'static [Part],
}

/// What a shard's rows of a table were built from: all of it, and all but its volatile
/// columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    pub full: u64,
    pub stable: u64,
}

const fn per_enterprise(
    name: &'static str,
    columns: &'static [Column],
    reads: &'static [Part],
    rows: fn(&EnterpriseState, &mut TableWriter),
) -> TableDef {
    TableDef {
        name,
        columns,
        source: Source::Enterprise(reads, rows),
        volatile: None,
    }
}

const fn global(name: &'static str, columns: &'static [Column]) -> TableDef {
    TableDef {
        name,
        columns,
        source: Source::Global,
        volatile: None,
    }
}

// What each table reads. A registry change bumps every part, so reference data read
// alongside (an indicator's limits, an area's grade) needs no mention.
const SENSORS: &[Part] = &[Part::Sensors];
const ALARMS: &[Part] = &[Part::Alarms];
const PERMITS: &[Part] = &[Part::Permits];
const BUSINESS: &[Part] = &[Part::Business];
const REGISTRY: &[Part] = &[Part::Registry];
/// A model arrives with the registry (which bumps every part); scores move as samples
/// complete, not with every reading.
const MONITORS: &[Part] = &[Part::Monitors];

/// Every rule table. Their columns are documented in the README (a test keeps it true).
pub const TABLES: &[TableDef] = &[
    global("clock", global::CLOCK),
    global("regions", global::REGIONS),
    TableDef {
        name: "active_warnings",
        columns: global::ACTIVE_WARNINGS,
        source: Source::Episodes,
        volatile: Some(Volatile {
            columns: &["last_seen"],
            others_read: &[],
        }),
    },
    global("open_warnings", global::OPEN_WARNINGS),
    // `last_event_ts` moves with any change; the rest is reference data.
    TableDef {
        volatile: Some(Volatile {
            columns: &["last_event_ts"],
            others_read: REGISTRY,
        }),
        ..per_enterprise(
            "enterprises",
            registry::ENTERPRISES,
            &Part::ALL,
            registry::enterprises,
        )
    },
    per_enterprise(
        "hazard_units",
        registry::HAZARD_UNITS,
        REGISTRY,
        registry::hazard_units,
    ),
    per_enterprise("areas", registry::AREAS, REGISTRY, registry::areas),
    per_enterprise(
        "indicators",
        sensors::INDICATORS,
        SENSORS,
        sensors::indicators,
    ),
    TableDef {
        name: "sensor_windows",
        columns: sensors::SENSOR_WINDOWS,
        source: Source::EnterpriseAtMinute(SENSORS, sensors::sensor_windows),
        volatile: None,
    },
    per_enterprise("alarms", sensors::ALARMS, ALARMS, sensors::alarms),
    per_enterprise(
        "alarm_events",
        sensors::ALARM_EVENTS,
        ALARMS,
        sensors::alarm_events,
    ),
    per_enterprise("permits", permits::PERMITS, PERMITS, permits::permits),
    per_enterprise(
        "permit_transitions",
        permits::PERMIT_TRANSITIONS,
        PERMITS,
        permits::permit_transitions,
    ),
    per_enterprise(
        "gas_analyses",
        permits::GAS_ANALYSES,
        PERMITS,
        permits::gas_analyses,
    ),
    per_enterprise(
        "enterprise_status",
        business::ENTERPRISE_STATUS,
        BUSINESS,
        business::enterprise_status,
    ),
    per_enterprise(
        "enterprise_ops",
        business::ENTERPRISE_OPS,
        BUSINESS,
        business::enterprise_ops,
    ),
    per_enterprise(
        monitor::UNIT_MONITOR_TABLE,
        monitor::UNIT_MONITOR,
        MONITORS,
        monitor::unit_monitor,
    ),
    per_enterprise(
        "indicator_drift",
        monitor::INDICATOR_DRIFT,
        SENSORS,
        monitor::indicator_drift,
    ),
    per_enterprise(
        "inventory",
        business::INVENTORY,
        BUSINESS,
        business::inventory,
    ),
    per_enterprise("staffing", business::STAFFING, BUSINESS, business::staffing),
    per_enterprise("training", business::TRAINING, BUSINESS, business::training),
    per_enterprise(
        "commitments",
        business::COMMITMENTS,
        BUSINESS,
        business::commitments,
    ),
    per_enterprise(
        "inspections",
        business::INSPECTIONS,
        BUSINESS,
        business::inspections,
    ),
    per_enterprise(
        "warning_feedback",
        business::WARNING_FEEDBACK,
        BUSINESS,
        business::warning_feedback,
    ),
];

impl TableDef {
    /// What the planner may assume about the table's size.
    fn rows_hint(&self) -> RowsHint {
        match (self.source, self.name) {
            (Source::Global, "clock") => RowsHint::Exactly(1),
            (Source::Global | Source::Episodes, _) => RowsHint::About(1_000),
            _ => RowsHint::About(1_000_000),
        }
    }

    /// What a shard's rows of this table are built from (`None` unless built from the
    /// state).
    fn stamp(&self, prints: &PartPrints, minute: i64) -> Option<Stamp> {
        let (reads, minute) = self.state_reads(minute)?;
        let full = shards::stamp(prints, reads, minute);
        let stable = self
            .volatile
            .as_ref()
            .map_or(full, |v| shards::stamp(prints, v.others_read, minute));
        Some(Stamp { full, stable })
    }

    /// What its rows read of an enterprise's state, and the minute when they depend on it
    /// (`None` unless built from the state).
    fn state_reads(&self, minute: i64) -> Option<(&'static [Part], Option<i64>)> {
        match self.source {
            Source::Enterprise(reads, _) => Some((reads, None)),
            Source::EnterpriseAtMinute(reads, _) => Some((reads, Some(minute))),
            Source::Global | Source::Episodes => None,
        }
    }

    /// Writes an enterprise's rows (of a table built from the state) as of `now`.
    fn write(&self, enterprise: &EnterpriseState, now: EventTime, w: &mut TableWriter) {
        match self.source {
            Source::Enterprise(_, rows) => rows(enterprise, w),
            Source::EnterpriseAtMinute(_, rows) => rows(enterprise, now, w),
            Source::Global | Source::Episodes => {}
        }
    }

    /// Whether a scan of these columns reads a volatile one.
    fn reads_volatile<'c>(&self, mut columns: impl Iterator<Item = &'c str>) -> bool {
        self.volatile
            .as_ref()
            .is_some_and(|v| columns.any(|c| v.columns.contains(&c)))
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
    /// Shards with at least one batch rebuilt.
    pub shards_rebuilt: usize,
    /// Batches (one table of one shard) rebuilt.
    pub batches_rebuilt: usize,
    pub elapsed: Duration,
}

struct Table {
    def: &'static TableDef,
    schema: SchemaRef,
    slot: Arc<Slot>,
}

/// A shard's rows of one table, and the stamp they were built from.
struct Built {
    stamp: Stamp,
    batch: Option<RecordBatch>,
    /// Where each enterprise's rows are in `batch` (tables built from the state).
    spans: HashMap<Box<str>, build::Span>,
}

/// Enterprises per shard the shard count aims at: enough rows per batch that DataFusion's
/// per-batch costs vanish (about 50 indicators and 200 window rows per enterprise).
const ENTERPRISES_PER_SHARD: usize = 16;

pub struct RuleTables {
    tables: Vec<Table>,
    max_shards: u32,
    /// The shard count each partition's cache was built with.
    shard_counts: HashMap<i32, u32>,
    /// Per (partition, shard): each table's rows (`None`: never built, or global).
    cache: HashMap<(i32, u32), Vec<Option<Built>>>,
    threads: usize,
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
            threads: build::threads(),
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

    /// Brings the tables `wanted` selects (by name) up to `world`, rebuilding only what
    /// changed since they were last built, and swaps their new contents in. The others keep
    /// their contents until a tick wants them.
    pub fn refresh(&mut self, world: &World<'_>, wanted: impl Fn(&str) -> bool) -> RefreshStats {
        let started = Instant::now();
        let wanted: Vec<bool> = self.tables.iter().map(|t| wanted(t.def.name)).collect();
        let minute = world.now.millis().div_euclid(60_000);
        let mut stats = RefreshStats::default();
        let partitions = world.store.partitions();
        let present = |p: &i32| partitions.iter().any(|part| part.id == *p);
        self.cache.retain(|(p, _), _| present(p));
        self.shard_counts.retain(|p, _| present(p));
        for partition in &partitions {
            self.refresh_partition(partition, world.now, minute, &wanted, &mut stats);
        }
        self.refresh_episodes(world, &wanted, &partitions, &mut stats);
        self.swap_in(world, &wanted);
        stats.elapsed = started.elapsed();
        stats
    }

    fn refresh_partition(
        &mut self,
        partition: &PartitionState,
        now: EventTime,
        minute: i64,
        wanted: &[bool],
        stats: &mut RefreshStats,
    ) {
        let shards = self.shard_count(partition);
        let mut jobs = Vec::new();
        for (shard, prints) in shards::fingerprints(partition, shards).iter().enumerate() {
            let key = (partition.id, shard as u32);
            if shards::population(prints) == 0 {
                self.cache.remove(&key);
                continue;
            }
            stats.shards += 1;
            let tables = self.tables.len();
            (self.cache.entry(key)).or_insert_with(|| (0..tables).map(|_| None).collect());
            let stamps = self.stale(&self.cache[&key], prints, minute, wanted);
            if stamps.iter().any(Option::is_some) {
                jobs.push(ShardJob {
                    shard: shard as u32,
                    stamps,
                });
            }
        }
        stats.shards_rebuilt += jobs.len();
        let defs: Vec<&'static TableDef> = self.tables.iter().map(|t| t.def).collect();
        let schemas: Vec<SchemaRef> = self.tables.iter().map(|t| Arc::clone(&t.schema)).collect();
        let source = build::Partition {
            defs: &defs,
            schemas: &schemas,
            state: partition,
            shards,
            now,
            previous: &self.cache,
        };
        let built = build::rows(&source, jobs, self.threads);
        for (job, batches) in built {
            let cached = (self.cache.get_mut(&(partition.id, job.shard)))
                .expect("every shard with enterprises has an entry");
            for ((slot, stamp), rows) in cached.iter_mut().zip(job.stamps).zip(batches) {
                if let (Some(stamp), Some(rows)) = (stamp, rows) {
                    stats.batches_rebuilt += 1;
                    *slot = Some(Built {
                        stamp,
                        batch: rows.batch,
                        spans: rows.spans,
                    });
                }
            }
        }
    }

    /// Per table: the stamp to build it with, when it is wanted and its cached rows are not
    /// current.
    fn stale(
        &self,
        cached: &[Option<Built>],
        prints: &PartPrints,
        minute: i64,
        wanted: &[bool],
    ) -> Vec<Option<Stamp>> {
        self.tables
            .iter()
            .enumerate()
            .map(|(i, table)| {
                let stamp = table.def.stamp(prints, minute).filter(|_| wanted[i])?;
                let current = cached[i]
                    .as_ref()
                    .is_some_and(|b| b.stamp.full == stamp.full);
                (!current).then_some(stamp)
            })
            .collect()
    }

    /// The episode tables, wanted, split by the shard of the enterprise each row is about.
    /// A shard's batch is rebuilt when its rows changed. An episode of an enterprise no
    /// longer in the state is left out: no other table has rows it could join.
    fn refresh_episodes(
        &mut self,
        world: &World<'_>,
        wanted: &[bool],
        partitions: &[Arc<PartitionState>],
        stats: &mut RefreshStats,
    ) {
        let tables: Vec<usize> = (0..self.tables.len())
            .filter(|i| wanted[*i] && matches!(self.tables[*i].def.source, Source::Episodes))
            .collect();
        if tables.is_empty() {
            return;
        }
        let mut by_shard: HashMap<ShardKey, Vec<&ActiveWarning>> = HashMap::new();
        for episode in world.active_warnings {
            if let Some(key) = self.locate(partitions, &episode.enterprise_id) {
                by_shard.entry(key).or_default().push(episode);
            }
        }
        for i in tables {
            let (schema, columns) = (&self.tables[i].schema, self.tables[i].def.columns);
            for (key, cached) in self.cache.iter_mut() {
                let rows = by_shard.get(key).map_or(&[][..], Vec::as_slice);
                let stamp = Stamp {
                    full: shards::rows_stamp(rows.iter().map(|a| global::episode_print(a, true))),
                    stable: shards::rows_stamp(
                        rows.iter().map(|a| global::episode_print(a, false)),
                    ),
                };
                if cached[i].as_ref().is_some_and(|b| b.stamp == stamp) {
                    continue;
                }
                let batch = (!rows.is_empty()).then(|| {
                    let mut w = TableWriter::new(Arc::clone(schema), columns);
                    global::active_warnings(rows.iter().copied(), &mut w);
                    w.finish()
                });
                stats.batches_rebuilt += 1;
                cached[i] = Some(Built {
                    stamp,
                    batch,
                    spans: HashMap::new(),
                });
            }
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

    fn swap_in(&self, world: &World<'_>, wanted: &[bool]) {
        let mut keys: Vec<&(i32, u32)> = self.cache.keys().collect();
        keys.sort_unstable();
        for (i, table) in self.tables.iter().enumerate() {
            if !wanted[i] {
                continue;
            }
            let contents = match table.def.source {
                Source::Global => Contents {
                    batches: vec![self.global_batch(table, world)],
                    shards: vec![None],
                },
                _ => {
                    let (shards, batches) = keys
                        .iter()
                        .filter_map(|k| {
                            Some((Some(**k), self.cache[*k][i].as_ref()?.batch.clone()?))
                        })
                        .unzip();
                    Contents { batches, shards }
                }
            };
            table.slot.swap(Arc::new(contents));
        }
    }

    fn global_batch(&self, table: &Table, world: &World<'_>) -> RecordBatch {
        let mut w = TableWriter::new(Arc::clone(&table.schema), table.def.columns);
        match table.def.name {
            "clock" => global::clock(world.now, world.utc_offset_minutes, &mut w),
            "regions" => global::regions(&world.store.regions.levels_at(world.now), &mut w),
            "open_warnings" => global::open_warnings(world.open_warnings, &mut w),
            other => unreachable!("{other} is not a global table"),
        }
        w.finish()
    }

    /// Forgets every cached shard: the next refresh rebuilds everything.
    pub fn invalidate(&mut self) {
        self.cache.clear();
    }

    /// A table's rows as of the last tick that ran a rule reading it (for tests and
    /// inspection).
    pub fn contents(&self, name: &str) -> Option<Vec<RecordBatch>> {
        self.tables
            .iter()
            .find(|t| t.def.name == name)
            .map(|t| t.slot.current().batches.clone())
    }

    /// Whether `name` is a per-enterprise table (its rows are sharded).
    pub fn is_per_enterprise(name: &str) -> bool {
        TABLES
            .iter()
            .any(|t| t.name == name && !matches!(t.source, Source::Global))
    }

    /// Per shard, a stamp of its rows in the tables `reads` names, as of the last refresh
    /// (which must have included them): equal stamps, equal rows. Of the tables in
    /// `volatile`, all columns count; of the others, all but their volatile columns.
    pub fn stamps(
        &self,
        reads: &BTreeSet<String>,
        volatile: &BTreeSet<String>,
    ) -> HashMap<ShardKey, u64> {
        let read: Vec<(usize, bool)> = (self.tables.iter().enumerate())
            .filter(|(_, t)| reads.contains(t.def.name))
            .map(|(i, t)| (i, volatile.contains(t.def.name)))
            .collect();
        self.cache
            .iter()
            .map(|(key, built)| {
                let stamps = read.iter().map(|(i, all)| {
                    built[*i].as_ref().map_or(0, |b| match all {
                        true => b.stamp.full,
                        false => b.stamp.stable,
                    })
                });
                (*key, shards::combine(stamps))
            })
            .collect()
    }

    /// Whether a scan of `table` projecting `columns` reads one of its volatile columns.
    pub fn reads_volatile<'c>(table: &str, columns: impl Iterator<Item = &'c str>) -> bool {
        TABLES
            .iter()
            .find(|t| t.name == table)
            .is_some_and(|t| t.reads_volatile(columns))
    }

    /// Per shard of `keys` with one ahead: when the clock next reaches one of `deadlines`
    /// in its rows, as of the last refresh (which must have included their tables).
    pub fn next_deadlines<'k>(
        &self,
        keys: impl Iterator<Item = &'k ShardKey>,
        deadlines: &BTreeSet<Deadline>,
        now: EventTime,
    ) -> HashMap<ShardKey, EventTime> {
        let located: Vec<(usize, &Deadline)> = (deadlines.iter())
            .filter_map(|d| Some((self.tables.iter().position(|t| t.def.name == d.table)?, d)))
            .collect();
        if located.is_empty() {
            return HashMap::new();
        }
        let next = |cached: &Vec<Option<Built>>| {
            (located.iter())
                .filter_map(|(i, d)| {
                    let batch = cached[*i].as_ref()?.batch.as_ref()?;
                    deadlines::earliest(batch, &d.column, d.offset_ms, now)
                })
                .min()
        };
        keys.filter_map(|key| Some((*key, next(self.cache.get(key)?)?)))
            .collect()
    }

    /// The shard holding an enterprise's rows, if it has any.
    pub fn locate(
        &self,
        partitions: &[Arc<PartitionState>],
        enterprise_id: &str,
    ) -> Option<ShardKey> {
        partitions
            .iter()
            .find(|p| p.enterprises.contains_key(enterprise_id))
            .and_then(|p| {
                let shards = *self.shard_counts.get(&p.id)?;
                Some((p.id, shards::shard_of(enterprise_id, shards).0))
            })
    }
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
