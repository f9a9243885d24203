//! The shipped rules over a large province (issue 4): 10 000 enterprises, about 500 000
//! indicators with 10 minutes of readings. Per tick, 1 % of the enterprises change; after a
//! minute of warm-up, the tick time is split into table building and DataFusion execution, as p50 / p99 over many
//! ticks, separately for ticks inside a minute and for the tick where the minute turns
//! (every `sensor_windows` row moves then). Then full re-evaluations (every table rebuilt).
//!
//! Run: `cargo bench --bench rules` (VIGIL_BENCH_ENTERPRISES=2000 for a quicker look).

#[path = "common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use vigil::config::Config;
use vigil::metrics::Metrics;
use vigil::model::{EventTime, Quality, ReadingSource, SensorReading};
use vigil::rules::{RuleEngine, TickReport};
use vigil::sim::Province;
use vigil::state::StateStore;

/// 2020-03-01T00:00:00Z.
const T0: EventTime = EventTime::from_millis(1_583_020_800_000);
const POINTS_PER_KIND: usize = 8;
const HISTORY_MIN: i64 = 10;
const TICKS: usize = 120;
/// Ticks run before the measured ones: the world's readings all began 10 minutes before
/// its end, so every shard's deadlines on their windows' first readings fall due in the
/// first minute (a cold start), and the first minute turn moves every window.
const WARM_UP: usize = 61;
const FULL_RUNS: usize = 5;

fn build_world(enterprises: usize, config: &Config) -> (Province, Arc<StateStore>, EventTime) {
    common::build_world(enterprises, POINTS_PER_KIND, HISTORY_MIN, T0, config)
}

/// One new reading for every indicator of 1 % of the enterprises, at `at`.
fn change_one_percent(
    province: &Province,
    store: &StateStore,
    rng: &mut impl Rng,
    at: EventTime,
    config: &Config,
) {
    let changed = (province.enterprises.len() / 100).max(1);
    let partition = store.partition(0);
    for _ in 0..changed {
        let e = &province.enterprises[rng.random_range(0..province.enterprises.len())];
        let mut state = partition
            .enterprises
            .get_mut(e.enterprise_id.as_str())
            .expect("registered");
        for (indicator, (mean, spread)) in e.indicators.iter().zip(&e.normals) {
            let reading = SensorReading {
                ts: at,
                enterprise_id: e.enterprise_id.as_str().into(),
                target_code: indicator.target_code.as_str().into(),
                value: mean + spread * rng.random_range(-1.0..1.0),
                quality: Quality::Good,
                source: ReadingSource::Edge,
            };
            state
                .apply_reading(&reading, &config.state)
                .expect("a known indicator");
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn report(label: &str, ticks: &[TickReport]) {
    if ticks.is_empty() {
        return;
    }
    let stats = |f: &dyn Fn(&TickReport) -> Duration| {
        let mut d: Vec<Duration> = ticks.iter().map(f).collect();
        d.sort();
        (percentile(&d, 0.5), percentile(&d, 0.99))
    };
    let tables = stats(&|t| t.tables.elapsed);
    let execute = stats(&|t| t.execute);
    let total = stats(&|t| t.tables.elapsed + t.execute);
    let rebuilt: usize = ticks.iter().map(|t| t.tables.shards_rebuilt).sum::<usize>() / ticks.len();
    let shards = ticks[0].tables.shards;
    println!(
        "{label:<28} n={:<4} tables p50 {:>7.1} ms p99 {:>7.1} | execute p50 {:>7.1} ms p99 {:>7.1} | total p50 {:>7.1} ms p99 {:>7.1} | shards rebuilt {rebuilt}/{shards}",
        ticks.len(), tables.0, tables.1, execute.0, execute.1, total.0, total.1
    );
}

/// The rules that take longest in incremental ticks (by total time), with how they ran.
fn costliest(ticks: &[TickReport]) {
    let mut by_rule: std::collections::BTreeMap<&str, (Duration, usize, usize)> =
        Default::default();
    for run in ticks.iter().flat_map(|t| &t.runs) {
        let entry = by_rule.entry(run.rule_id.as_str()).or_default();
        entry.0 += run.elapsed;
        entry.1 += 1;
        entry.2 += run.shards.unwrap_or(usize::MAX).min(1_000_000);
    }
    let mut rules: Vec<_> = by_rule.into_iter().collect();
    rules.sort_by_key(|r| std::cmp::Reverse(r.1 .0));
    for (id, (total, runs, shards)) in rules.iter().take(8) {
        let mean_shards = match *shards >= 1_000_000 {
            true => "all".to_owned(),
            false => format!("{:.1}", *shards as f64 / *runs as f64),
        };
        println!(
            "  costliest in incremental ticks: {id:<36} mean {:>6.1} ms over {mean_shards} shards",
            total.as_secs_f64() * 1000.0 / *runs as f64
        );
    }
}

fn main() {
    let enterprises = std::env::var("VIGIL_BENCH_ENTERPRISES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let mut config = Config::default();
    config.rules.dir = concat!(env!("CARGO_MANIFEST_DIR"), "/queries").into();
    let (province, store, start) = build_world(enterprises, &config);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut engine = RuleEngine::new(config.rules.clone(), Arc::new(Metrics::new()));
    let loaded = runtime.block_on(engine.reload(&config.rules.dir));
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    println!(
        "{} rules; {} cores",
        loaded.loaded.len(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    let first = runtime.block_on(engine.tick(&store, start));
    println!(
        "first tick (everything built): tables {:.0} ms, execute {:.0} ms, {} hits",
        first.tables.elapsed.as_secs_f64() * 1000.0,
        first.execute.as_secs_f64() * 1000.0,
        first.hits.len()
    );
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let (mut within, mut rollover) = (Vec::new(), Vec::new());
    for i in 1..=WARM_UP + TICKS {
        let now = start.saturating_add_ms(i as i64 * 1000);
        change_one_percent(&province, &store, &mut rng, now, &config);
        let tick = runtime.block_on(engine.tick(&store, now));
        if i <= WARM_UP {
            continue;
        }
        if now.millis() % 60_000 < 1000 {
            rollover.push(tick);
        } else {
            within.push(tick);
        }
    }
    report("incremental, within minute", &within);
    report("incremental, minute turns", &rollover);
    let all: Vec<TickReport> = within.into_iter().chain(rollover).collect();
    report("incremental, all ticks", &all);
    costliest(&all);
    drop(all);
    let mut full = Vec::new();
    for i in 0..FULL_RUNS {
        engine.invalidate_tables();
        let now = start.saturating_add_ms((WARM_UP + TICKS + 1 + i) as i64 * 1000);
        full.push(runtime.block_on(engine.tick(&store, now)));
    }
    report("full re-evaluation", &full);
    if let Ok(id) = std::env::var("VIGIL_BENCH_EXPLAIN") {
        let plan = runtime.block_on(engine.explain_analyze(&id));
        println!("{}", plan.unwrap_or_else(|| format!("no rule {id}")));
    }
    let mut slowest: Vec<(Duration, String)> = full[0]
        .runs
        .iter()
        .map(|r| (r.elapsed, r.rule_id.clone()))
        .collect();
    slowest.sort_by(|a, b| b.cmp(a));
    for (elapsed, id) in slowest.iter().take(5) {
        println!(
            "  slowest rule in a full tick: {id:<36} {:.1} ms",
            elapsed.as_secs_f64() * 1000.0
        );
    }
}
