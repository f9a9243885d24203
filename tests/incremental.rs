//! Incremental evaluation (issue 21): at every tick, the shipped rules over tables refreshed
//! incrementally (only the batches whose part of the state changed, only the tables a due
//! rule reads) find exactly what a full re-evaluation finds (every table rebuilt from the
//! state), over simulated streams with every scenario, replayed as `vigil replay`
//! replays them, and then for 90 minutes without input: the clock alone must bring every
//! deadline (points going offline, alarm windows ending, the morning's commitments due).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use vigil::app::sim::{self, SimOptions};
use vigil::app::Engine;
use vigil::config::Config;
use vigil::error::IoError;
use vigil::ingest::replay::{EventClock, Replay, ReplaySinks, Speed};
use vigil::metrics::Metrics;
use vigil::model::EventTime;
use vigil::rules::{RuleDriver, RuleEngine, TickReport};
use vigil::sim::Scenario;
use vigil::state::StateStore;

const RUN_S: u64 = 1_200;
/// After the input ends: ticks every 30 s for 90 minutes.
const COAST_TICKS: i64 = 180;
const COAST_STEP_MS: i64 = 30_000;

/// Two engines over one store, ticked together: one incremental, one rebuilding every
/// table at every tick. Every tick's findings must be the same.
struct Twins {
    runtime: tokio::runtime::Runtime,
    incremental: RuleDriver,
    full: RuleDriver,
    ticks: usize,
    hits: usize,
    batches_rebuilt: [usize; 2],
    last: Option<EventTime>,
}

impl Twins {
    fn new(config: &Config, store: &Arc<StateStore>) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .unwrap();
        let driver = |runtime: &tokio::runtime::Runtime| {
            let mut engine = RuleEngine::new(config.rules.clone(), Arc::new(Metrics::new()));
            let loaded = runtime.block_on(engine.reload(&config.rules.dir));
            assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
            let rules = &config.rules;
            RuleDriver::new(engine, Arc::clone(store), rules.tick, rules.quiet_tick)
        };
        Twins {
            incremental: driver(&runtime),
            full: driver(&runtime),
            runtime,
            ticks: 0,
            hits: 0,
            batches_rebuilt: [0, 0],
            last: None,
        }
    }

    /// Ticks on with no input: only the clock moves.
    fn coast(&mut self) -> usize {
        let end = self.last.expect("the input was ticked");
        let mut hits = 0;
        for k in 1..=COAST_TICKS {
            let before = self.hits;
            self.tick(end.saturating_add_ms(k * COAST_STEP_MS)).unwrap();
            hits += self.hits - before;
        }
        hits
    }

    fn compare(&mut self, at: EventTime, incremental: TickReport, full: TickReport) {
        let found = |t: &TickReport| {
            let runs: Vec<(&str, usize, Option<&str>)> = t
                .runs
                .iter()
                .map(|r| (r.rule_id.as_str(), r.hits, r.error.as_ref().map(|e| e.kind)))
                .collect();
            serde_json::to_string(&(&t.hits, &t.shadow_hits, &t.opened, runs)).unwrap()
        };
        assert_eq!(
            found(&incremental),
            found(&full),
            "the tick at {at} differs from a full re-evaluation"
        );
        self.ticks += 1;
        self.last = Some(at);
        self.hits += full.hits.len();
        self.batches_rebuilt[0] += incremental.tables.batches_rebuilt;
        self.batches_rebuilt[1] += full.tables.batches_rebuilt;
    }
}

impl EventClock for Twins {
    fn due(&self, now: EventTime, next_record: Option<EventTime>) -> Option<EventTime> {
        self.incremental.due(now, next_record)
    }

    fn tick(&mut self, at: EventTime) -> Result<(), IoError> {
        let incremental = self.runtime.block_on(self.incremental.tick(at));
        self.full.engine.invalidate_tables();
        let full = self.runtime.block_on(self.full.tick(at));
        self.compare(at, incremental, full);
        Ok(())
    }

    fn start_at(&mut self, origin: EventTime) {
        self.incremental.start_at(origin);
        self.full.start_at(origin);
    }

    fn finish(&mut self, end: EventTime) -> Result<(), IoError> {
        let incremental = self.runtime.block_on(self.incremental.finish(end));
        self.full.engine.invalidate_tables();
        let full = self.runtime.block_on(self.full.finish(end));
        if let (Some(incremental), Some(full)) = (incremental, full) {
            self.compare(end, incremental, full);
        }
        Ok(())
    }
}

fn simulate(dir: &Path, seed: u64, enterprises: usize) -> PathBuf {
    let out = dir.join(format!("sim-{seed}.ndjson"));
    // Every scenario starts inside the run; the longer ones are cut off by its end.
    let scenarios: Vec<Scenario> = Scenario::ALL
        .into_iter()
        .filter(|s| !s.needs_live_engine())
        .collect();
    sim::run(&SimOptions {
        out: out.clone(),
        truth_out: None,
        seed,
        enterprises,
        duration_s: RUN_S,
        // 09:40 local: the morning's commitment deadline (10:00) falls inside the run.
        start: EventTime::parse_rfc3339("2026-01-05T01:40:00Z").unwrap(),
        scenarios,
    })
    .unwrap();
    out
}

fn incremental_equals_full(seed: u64, enterprises: usize, table_shards: u32) {
    let dir = tempfile::tempdir().unwrap();
    let input = simulate(dir.path(), seed, enterprises);
    let mut config = Config::default();
    config.rules.dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    config.rules.table_shards = table_shards;
    // Both engines must finish every rule: a timeout in one only would be a false alarm.
    config.rules.rule_timeout = Duration::from_secs(120);
    let engine = Engine::new(&config);
    let mut pipeline = engine.pipeline(&config);
    let mut twins = Twins::new(&config, &engine.store);
    let sinks = ReplaySinks::create(None, None).unwrap();
    Replay::new(
        &mut pipeline,
        sinks,
        Speed::Max,
        config.ingest.max_message_bytes,
    )
    .with_clock(&mut twins)
    .run(&[input], |_| {})
    .unwrap();
    assert!(twins.ticks >= RUN_S as usize - 60, "{} ticks", twins.ticks);
    assert!(twins.hits > 0, "the scenarios are found");
    assert!(twins.coast() > 0, "hits while the clock alone moves");
    let [incremental, full] = twins.batches_rebuilt;
    assert!(
        incremental * 4 < full,
        "incremental refreshes rebuild far less: {incremental} batches against {full}"
    );
}

#[test]
fn incremental_evaluation_equals_full_re_evaluation_one_shard() {
    incremental_equals_full(21, 24, 1);
}

#[test]
fn incremental_evaluation_equals_full_re_evaluation_many_shards() {
    incremental_equals_full(7, 40, 64);
}
