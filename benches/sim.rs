//! The simulator as a generator (issue 3): events per second written by `vigil sim --out`
//! (registry, then readings with the whole scenario catalogue injected) to a file.
//!
//! Run: `cargo bench --bench sim` (VIGIL_BENCH_ENTERPRISES to change the province's size).

use std::time::Instant;

use vigil::app::sim::{run, SimOptions};
use vigil::model::EventTime;
use vigil::sim::Scenario;

fn main() {
    let enterprises: usize = std::env::var("VIGIL_BENCH_ENTERPRISES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("stream.ndjson");
    let mut rates = Vec::new();
    for _ in 0..5 {
        // A fresh file each run: unlinking the last one drops its unwritten pages, so a run
        // does not pay for the previous run's writeback.
        let _ = std::fs::remove_file(&out);
        let started = Instant::now();
        let report = run(&SimOptions {
            out: out.clone(),
            truth_out: None,
            seed: 42,
            enterprises,
            duration_s: 3_600,
            start: EventTime::parse_rfc3339("2026-01-05T00:00:00Z").unwrap(),
            scenarios: Scenario::ALL.to_vec(),
        })
        .unwrap();
        let elapsed = started.elapsed().as_secs_f64();
        let bytes = std::fs::metadata(&out).unwrap().len();
        rates.push(report.records as f64 / elapsed);
        println!(
            "sim --out: {} events ({:.0} MB) in {:.2} s: {:.2} M events/s",
            report.records,
            bytes as f64 / 1e6,
            elapsed,
            report.records as f64 / elapsed / 1e6
        );
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "median of {}: {:.2} M events/s",
        rates.len(),
        rates[rates.len() / 2] / 1e6
    );
}
