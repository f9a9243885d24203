//! The warnings stage (issue 5):
//! 1. the cost of a lifecycle update per rule hit: `WarningBook::apply` over ticks of 10 000
//!    hits (10 000 warnings held firing, 1 % of them starting or clearing each tick) against a
//!    store of 1 000 enterprises, with feedback lookups, suppression and provenance;
//! 2. warnings per second through the idempotent producer end to end, to an in-process
//!    Kafka-protocol mock cluster, counted once every record is acknowledged.
//!
//! Run: `cargo bench --bench warnings`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Map;
use vigil::app::mock_cluster::MockKafka;
use vigil::config::Config;
use vigil::metrics::Metrics;
use vigil::model::EventTime;
use vigil::rules::engine::{RuleRun, TickReport};
use vigil::rules::{Color, RuleEngine, RuleHit};
use vigil::state::StateStore;
use vigil::warnings::{Silences, Tier, Transition, WarningBook, WarningRecord};

const RULE: &str = "r02_bench_gas";
const ENTERPRISES: usize = 1_000;
const SUBJECTS: usize = 10;
const TICKS: usize = 200;
const DELIVERED: usize = 100_000;

fn hit(enterprise: usize, subject: usize, color: Color) -> RuleHit {
    RuleHit {
        rule_id: RULE.into(),
        enterprise_id: format!("3301{enterprise:07}"),
        subject: format!("AT{subject:03}"),
        color,
        value: Some(30.0),
        threshold: Some(25.0),
        message: Some("gas at level 1".into()),
        evidence: Map::new(),
    }
}

fn tick(now: EventTime, round: usize) -> TickReport {
    let mut hits = Vec::with_capacity(ENTERPRISES * SUBJECTS);
    for e in 0..ENTERPRISES {
        for s in 0..SUBJECTS {
            // 1 % of the warnings toggle each tick: some clear, some start.
            if (e * SUBJECTS + s + round) % 100 == 0 {
                continue;
            }
            let color = if round % 50 == 0 && s == 0 {
                Color::Red
            } else {
                Color::Orange
            };
            hits.push(hit(e, s, color));
        }
    }
    TickReport {
        now,
        runs: vec![RuleRun {
            rule_id: RULE.into(),
            hits: hits.len(),
            elapsed: Duration::ZERO,
            error: None,
            shards: None,
        }],
        hits,
        ..TickReport::default()
    }
}

fn rule_engine(runtime: &tokio::runtime::Runtime) -> (RuleEngine, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("gas.sql"),
        format!(
            "-- id: {RULE}\n-- title: gas\n-- severity: orange\n-- for: 0s\n-- clear_after: 5s\n-- basis: bench\n\
             SELECT enterprise_id, target_code AS subject FROM sensor_windows\n"
        ),
    )
    .unwrap();
    let mut config = Config::default().rules;
    config.dir = dir.path().to_owned();
    let mut engine = RuleEngine::new(config, Arc::new(Metrics::new()));
    let report = runtime.block_on(engine.reload(dir.path()));
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    (engine, dir)
}

fn lifecycle(runtime: &tokio::runtime::Runtime) {
    let (engine, _dir) = rule_engine(runtime);
    let config = Config::default();
    let store = StateStore::new(config.state.clone());
    let mut book = WarningBook::new(&config.warnings, Arc::new(Silences::default()));
    let t0 = 1_583_020_800_000;
    let ticks: Vec<TickReport> = (0..TICKS)
        .map(|i| tick(EventTime::from_millis(t0 + i as i64 * 1000), i))
        .collect();
    let hits: usize = ticks.iter().map(|t| t.hits.len()).sum();
    let mut records = 0;
    let mut per_tick = Vec::with_capacity(TICKS);
    let started = Instant::now();
    for t in &ticks {
        let at = Instant::now();
        records += book.apply(t, &engine, &store).len();
        per_tick.push(at.elapsed());
    }
    let elapsed = started.elapsed();
    per_tick.sort();
    println!(
        "lifecycle: {hits} hits over {TICKS} ticks ({} firing): {:.0} ns per hit, tick p50 {:.1} ms / p99 {:.1} ms, {records} records",
        book.firing(),
        elapsed.as_nanos() as f64 / hits as f64,
        per_tick[TICKS / 2].as_secs_f64() * 1e3,
        per_tick[TICKS * 99 / 100].as_secs_f64() * 1e3,
    );
}

fn record(i: usize) -> WarningRecord {
    WarningRecord {
        id: format!("{i:020x}"),
        rule_id: RULE.into(),
        rule_version: "0123456789ab".into(),
        enterprise_id: format!("3301{:07}", i % ENTERPRISES),
        region_id: Some("330102".into()),
        subject: format!("AT{:03}", i % SUBJECTS),
        color: Color::Orange,
        state: Transition::Firing,
        tier: Tier::Enterprise,
        at: "2020-03-01T00:00:00.000Z".into(),
        first_seen: "2020-03-01T00:00:00.000Z".into(),
        fired_at: "2020-03-01T00:00:00.000Z".into(),
        resolved_at: None,
        reason: None,
        value: Some(30.0),
        threshold: Some(25.0),
        message: "flammable_gas detector at 30.0 (level 1)".into(),
        basis: "GB/T 50493-2019 5.5.2".into(),
        suggested_action: None,
        handling: None,
        suppressed: None,
        activations: 1,
        chattering: false,
        evidence: Map::new(),
        inputs: Vec::new(),
        models: Vec::new(),
    }
}

fn delivery(runtime: &tokio::runtime::Runtime) {
    let mut config = Config::default();
    let cluster = MockKafka::start(&[config.kafka.warnings_topic.clone()], 3).unwrap();
    config.kafka.brokers = cluster.bootstrap_servers.clone();
    let metrics = Arc::new(Metrics::new());
    let records: Vec<WarningRecord> = (0..DELIVERED).map(record).collect();
    let elapsed = runtime.block_on(async {
        let (senders, task) = vigil::warnings::delivery::spawn_engine_outputs(
            &config.kafka,
            10_000,
            Arc::clone(&metrics),
        )
        .unwrap();
        // Only the warnings are sent; the task ends once every sender is dropped.
        let vigil::warnings::delivery::EngineSenders {
            warnings: sender,
            risk,
            regions,
            board,
        } = senders;
        drop((risk, regions, board));
        let started = Instant::now();
        for r in &records {
            sender.send(r).await;
        }
        drop(sender);
        task.await.unwrap();
        started.elapsed()
    });
    let acked = metrics
        .outputs_produced
        .with_label_values(&["warnings"])
        .get();
    assert_eq!(acked, DELIVERED as u64);
    println!(
        "delivery: {DELIVERED} warnings acknowledged by the mock cluster in {:.2} s: {:.0} warnings/s",
        elapsed.as_secs_f64(),
        DELIVERED as f64 / elapsed.as_secs_f64()
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    lifecycle(&runtime);
    delivery(&runtime);
}
