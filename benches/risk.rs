//! The risk stage and the planner at scale (issue 6): 10 000 simulated enterprises with a few
//! minutes of readings. Measures a full recomputation of every enterprise's index and facts
//! (what the 5-minute refresh costs), a tick with nothing due (what every other tick costs),
//! the county and city control indices, and one county's inspection plan.
//!
//! Run: `cargo bench --bench risk` (VIGIL_BENCH_ENTERPRISES=2000 for a quicker look).

#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use vigil::app::enforce::rules;
use vigil::config::Config;
use vigil::enforce::plan::{plan, PlanRequest};
use vigil::model::EventTime;
use vigil::risk::RiskStage;

/// 2020-03-01T00:00:00Z.
const T0: EventTime = EventTime::from_millis(1_583_020_800_000);
const RUNS: usize = 7;

fn median(mut d: Vec<Duration>) -> f64 {
    d.sort();
    d[d.len() / 2].as_secs_f64() * 1000.0
}

fn main() {
    let enterprises = std::env::var("VIGIL_BENCH_ENTERPRISES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let config = Config::default();
    let (_, store, now) = common::build_world(enterprises, 2, 3, T0, &config);
    let refresh_ms = config.risk.refresh.as_millis() as i64;
    let mut stage = RiskStage::new(&config.risk, config.rules.utc_offset_minutes);

    let (mut full, mut idle, mut regions) = (Vec::new(), Vec::new(), Vec::new());
    let mut records = 0;
    for run in 0..RUNS {
        let at = now.saturating_add_ms(run as i64 * refresh_ms);
        let started = Instant::now();
        let tick = stage.tick(at, &[], &store);
        full.push(started.elapsed());
        records += tick.records.len();
        let started = Instant::now();
        stage.tick(at.saturating_add_ms(1_000), &[], &store);
        idle.push(started.elapsed());
        let started = Instant::now();
        let (counties, _) = stage.regions(at);
        regions.push(started.elapsed());
        assert!(!counties.is_empty());
    }
    let per_enterprise = median(full.clone()) * 1000.0 / enterprises as f64;
    println!(
        "risk: {enterprises} enterprises | full recompute (all due, with CPI) median {:.1} ms ({per_enterprise:.1} µs per enterprise) | idle tick median {:.2} ms | CPI alone median {:.1} ms | {records} records published over {RUNS} refreshes",
        median(full),
        median(idle),
        median(regions)
    );

    let snapshot = stage.snapshot(now);
    let region = snapshot.enterprises[0].risk.region_id.clone();
    let in_region = snapshot
        .enterprises
        .iter()
        .filter(|v| v.risk.region_id == region)
        .count();
    let request = PlanRequest {
        region,
        date: chrono::NaiveDate::from_ymd_opt(2020, 3, 1).unwrap(),
        capacity: 60,
        teams: 4,
        seed: 1,
    };
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let made = plan(&snapshot, &request, &rules(&config));
        times.push(started.elapsed());
        assert_eq!(made.tasks.len(), 60);
    }
    println!(
        "plan: one county of {in_region} enterprises, capacity 60, 4 teams: median {:.2} ms",
        median(times)
    );
}
