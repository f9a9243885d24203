//! The ingest loop next to a busy API (issue 19): readings applied on one thread, in rounds
//! that alternate a quiet API with a loaded one: 200 event-stream clients subscribed to
//! warnings (a record published every 10 ms, each sent to all 200) while `/metrics` and
//! `/api/status` are polled in a loop, back to back, or every `API_LOAD_POLL_MS` milliseconds
//! each. Each loaded round is compared with the quiet round just before it (this VM's speed
//! drifts by a third within minutes, so one quiet run against one loaded run says little);
//! reports every round's ratio and their median, the requests served, the events delivered,
//! and the process's resident memory before and under the load. The API serves on its own
//! runtime (`api.worker_threads`, `API_LOAD_THREADS`); the clients run in the same process on
//! one more thread: they take CPU a remote client would not.
//! Run: `cargo bench --bench api_load` (`API_LOAD_POLL_MS=100 cargo bench --bench api_load`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use vigil::app::Engine;
use vigil::config::Config;
use vigil::ingest::{Pipeline, Position, RecordRef};
use vigil::model::EventTime;
use vigil::sim::{Province, ReadingStream};
use vigil::warnings::WarningRecord;

const ENTERPRISES: usize = 1_000;
/// Readings per round; each round is about a second at full speed.
const READINGS: usize = 1_000_000;
const ROUNDS: usize = 5;
const SSE_CLIENTS: usize = 200;
/// 2020-03-01T00:00:00Z.
const T0: EventTime = EventTime::from_millis(1_583_020_800_000);

/// Readings per second through `pipeline`, over `payloads` (offsets continue from `from`).
fn ingest_rate(pipeline: &mut Pipeline, payloads: &[(String, Vec<u8>)], from: i64) -> f64 {
    let mut out = Vec::new();
    let started = Instant::now();
    for (i, (key, payload)) in payloads.iter().enumerate() {
        let record = RecordRef {
            topic: "sensor.reading",
            partition: 0,
            position: Position::Offset(from + i as i64),
            key: Some(key.as_bytes()),
            payload,
        };
        pipeline.process(record, None, &mut out);
        out.clear();
    }
    payloads.len() as f64 / started.elapsed().as_secs_f64()
}

fn resident_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn warning(n: u64) -> WarningRecord {
    serde_json::from_value(serde_json::json!({
        "id": format!("w-{n}"), "rule_id": "r02_gas_leak", "rule_version": "bench",
        "enterprise_id": "33010200001", "subject": "33010200001-AT001", "color": "red",
        "state": "firing", "tier": "enterprise", "at": "2020-03-01T00:00:00Z",
        "first_seen": "2020-03-01T00:00:00Z", "fired_at": "2020-03-01T00:00:00Z",
        "message": "flammable gas at 62 %LEL", "basis": "GB/T 50493-2019 5.5.2",
        "activations": 1, "evidence": {"max_value": 62.0}, "inputs": []
    }))
    .expect("a warning record")
}

struct Load {
    stop: Arc<AtomicBool>,
    /// Publishing and polling run while set; the streams stay open either way.
    active: Arc<AtomicBool>,
    requests: Arc<AtomicU64>,
    events: Arc<AtomicU64>,
}

/// 200 subscribers, a publisher, and two pollers, on the clients' runtime.
fn start_load(
    runtime: &tokio::runtime::Runtime,
    engine: &Engine,
    addr: std::net::SocketAddr,
) -> Load {
    let load = Load {
        stop: Arc::new(AtomicBool::new(false)),
        active: Arc::new(AtomicBool::new(false)),
        requests: Arc::new(AtomicU64::new(0)),
        events: Arc::new(AtomicU64::new(0)),
    };
    let http = reqwest::Client::new();
    for _ in 0..SSE_CLIENTS {
        let (http, stop, events) = (
            http.clone(),
            Arc::clone(&load.stop),
            Arc::clone(&load.events),
        );
        runtime.spawn(async move {
            let url = format!("http://{addr}/api/warnings/stream");
            let Ok(response) = http.get(url).send().await else {
                return;
            };
            let mut body = response.bytes_stream();
            while let Some(Ok(chunk)) = body.next().await {
                events.fetch_add(
                    chunk.iter().filter(|b| **b == b'\n').count() as u64 / 4,
                    Ordering::Relaxed,
                );
                if stop.load(Ordering::Relaxed) {
                    return;
                }
            }
        });
    }
    let pause = std::env::var("API_LOAD_POLL_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map(Duration::from_millis);
    for path in ["/metrics", "/api/status"] {
        let (http, stop, active, requests) = (
            http.clone(),
            Arc::clone(&load.stop),
            Arc::clone(&load.active),
            Arc::clone(&load.requests),
        );
        runtime.spawn(async move {
            let url = format!("http://{addr}{path}");
            while !stop.load(Ordering::Relaxed) {
                if !active.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
                if let Ok(r) = http.get(&url).send().await {
                    let _ = r.bytes().await;
                    requests.fetch_add(1, Ordering::Relaxed);
                }
                if let Some(pause) = pause {
                    tokio::time::sleep(pause).await;
                }
            }
        });
    }
    let (view, stop, active) = (
        Arc::clone(&engine.warnings),
        Arc::clone(&load.stop),
        Arc::clone(&load.active),
    );
    runtime.spawn(async move {
        let mut n = 0;
        while !stop.load(Ordering::Relaxed) {
            if active.load(Ordering::Relaxed) {
                view.publish(&[warning(n)]);
                n += 1;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    load
}

fn main() {
    let mut config = Config::default();
    config.api.max_sse_clients = SSE_CLIENTS + 10;
    if let Some(threads) = std::env::var("API_LOAD_THREADS")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        config.api.worker_threads = threads;
    }
    // The clients' own thread: the API serves on the engine's runtime.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let engine = Engine::new(&config);
    let shutdown = tokio_util::sync::CancellationToken::new();
    let (addr, _server) = runtime
        .block_on(engine.spawn_api("127.0.0.1:0", shutdown.clone()))
        .expect("the API starts");
    let province = Province::generate(11, ENTERPRISES, 1);
    let mut pipeline = engine.pipeline(&config);
    let mut out = Vec::new();
    for (n, r) in province.registry_records().iter().enumerate() {
        let payload = r.value.to_string();
        let record = RecordRef {
            topic: "registry",
            partition: 0,
            position: Position::Offset(n as i64),
            key: Some(r.key.as_bytes()),
            payload: payload.as_bytes(),
        };
        pipeline.process(record, None, &mut out);
        out.clear();
    }
    let mut stream = ReadingStream::new(&province, 3, T0);
    let mut next_payloads = || -> Vec<(String, Vec<u8>)> {
        stream
            .by_ref()
            .take(READINGS)
            .map(|r| (r.key.clone(), r.value.to_string().into_bytes()))
            .collect()
    };
    let mut offset = 1_000_000;
    let mut round = |pipeline: &mut Pipeline, payloads: &[(String, Vec<u8>)]| {
        let rate = ingest_rate(pipeline, payloads, offset);
        offset += payloads.len() as i64;
        rate
    };
    let _ = round(&mut pipeline, &next_payloads());
    let load = start_load(&runtime, &engine, addr);
    std::thread::sleep(Duration::from_secs(1));
    let (mut rss_quiet, mut rss_loaded) = (Vec::new(), Vec::new());
    let (mut ratios, mut quiet_rates, mut loaded_rates) = (Vec::new(), Vec::new(), Vec::new());
    let (mut requests, mut events, mut loaded_seconds) = (0, 0, 0.0);
    for _ in 0..ROUNDS {
        let quiet = round(&mut pipeline, &next_payloads());
        rss_quiet.push(resident_mib());
        let payloads = next_payloads();
        load.active.store(true, Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(500));
        let (requests_at, events_at, started) = (
            load.requests.load(Ordering::Relaxed),
            load.events.load(Ordering::Relaxed),
            Instant::now(),
        );
        let loaded = round(&mut pipeline, &payloads);
        rss_loaded.push(resident_mib());
        loaded_seconds += started.elapsed().as_secs_f64();
        requests += load.requests.load(Ordering::Relaxed) - requests_at;
        events += load.events.load(Ordering::Relaxed) - events_at;
        load.active.store(false, Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(300));
        ratios.push(loaded / quiet);
        quiet_rates.push(quiet);
        loaded_rates.push(loaded);
    }
    load.stop.store(true, Ordering::Relaxed);
    shutdown.cancel();

    let polling = std::env::var("API_LOAD_POLL_MS")
        .map_or("back to back".into(), |ms| format!("every {ms} ms"));
    println!(
        "api_load: {ENTERPRISES} enterprises, readings applied on one thread, {ROUNDS} rounds of {READINGS} quiet then loaded"
    );
    println!(
        "  load: {SSE_CLIENTS} event streams, /metrics + /api/status polled {polling}; API on {} thread(s)",
        config.api.worker_threads
    );
    let list = |rates: &[f64], scale: f64, digits: usize| {
        rates
            .iter()
            .map(|r| format!("{:.digits$}", r / scale))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!("  quiet  (K readings/s): {}", list(&quiet_rates, 1e3, 0));
    println!("  loaded (K readings/s): {}", list(&loaded_rates, 1e3, 0));
    println!("  ratio loaded/quiet per round: {}", list(&ratios, 1.0, 3));
    ratios.sort_by(f64::total_cmp);
    println!("  ratio loaded/quiet, median: {:.3}", ratios[ROUNDS / 2]);
    println!(
        "  while loaded ({loaded_seconds:.2} s): {:.0} polls/s served, {:.0} events/s delivered to subscribers",
        requests as f64 / loaded_seconds,
        events as f64 / loaded_seconds
    );
    println!(
        "  resident memory after each round (MiB; the state grows with the readings): quiet {}, loaded {}",
        list(&rss_quiet, 1.0, 0),
        list(&rss_loaded, 1.0, 0)
    );
}
