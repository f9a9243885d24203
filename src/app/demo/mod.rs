//! `vigil demo`: the mock cluster, a simulated province producing into it (with a bad record
//! now and then, to show dead-lettering), the engine consuming it, the HTTP API, and the
//! enterprises' duty officers answering the warnings (`responder`).

mod responder;

pub use responder::{EventClock, StreamProgress};

use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio_util::sync::CancellationToken;

use crate::api::{LiveStatus, StatusReport};
use crate::config::Config;
use crate::error::IoError;
use crate::ingest::ReasonCode;
use crate::metrics::Metrics;
use crate::model::EventTime;
use crate::sim::corrupt::{self, CaseContext, RawRecord};
use crate::sim::scenario::schedule;
use crate::sim::span::Span;
use crate::sim::{Injection, Province, ProvinceStream, Scenario, SimRecord};
use crate::state::StateStore;

use super::mock_cluster::MockKafka;
use super::Engine;

pub struct DemoOptions {
    pub addr: String,
    pub enterprises: usize,
    pub seed: u64,
    /// Event time runs this many times faster than wall time.
    pub speed: f64,
    pub partitions: i32,
    /// A scenario from the catalogue is injected every this much event time.
    pub scenario_every: Duration,
}

/// Runs the demo until `shutdown`.
pub async fn run(
    mut config: Config,
    options: DemoOptions,
    shutdown: CancellationToken,
) -> Result<(), IoError> {
    let topics = config.kafka.all_topics();
    let cluster = MockKafka::start(&topics, options.partitions)?;
    config.kafka.brokers = cluster.bootstrap_servers.clone();
    // The mock cluster's first group join takes ~3 s; keep the session above it.
    config
        .kafka
        .consumer_properties
        .insert("session.timeout.ms".into(), "6000".into());
    // Accelerated event time runs ahead of the wall clock by design: the guard against sources
    // with a clock in the future would dead-letter the demo's own stream after a few minutes.
    // Idleness is wall time: at `speed` times event time, a quiet stream would hold the clock
    // `speed` times longer in event time than it does live; scale it back.
    if options.speed > 1.0 {
        config.ingest.max_ahead_of_wall_clock = Duration::from_secs(100 * 365 * 24 * 3600);
        config.ingest.idle_timeout = config
            .ingest
            .idle_timeout
            .div_f64(options.speed)
            .max(Duration::from_millis(250));
        // Every tick boundary with input is evaluated: at 1 s ticks, `speed` times faster
        // than real time asks for `speed` evaluations of every rule per second of wall time.
        if options.speed >= 10.0 {
            config.rules.tick = Duration::from_secs(10);
        }
    }

    // The embedded cluster starts empty every time, so its checkpoints must too.
    let checkpoints = std::env::temp_dir().join(format!("vigil-demo-{}", std::process::id()));
    config.checkpoint.url = checkpoints.display().to_string();

    let engine = Engine::new(&config);
    let (addr, server) = engine.spawn_api(&options.addr, shutdown.clone()).await?;
    println!(
        "vigil demo: {} simulated enterprises, event time x{}",
        options.enterprises, options.speed
    );
    println!("  map:     http://{addr}/");
    println!("  status:  http://{addr}/api/status");
    println!("  metrics: http://{addr}/metrics");
    println!("  warnings: http://{addr}/api/warnings (live: /api/warnings/stream)");
    println!("  risk:    http://{addr}/api/risk, /api/regions (live: /api/risk/stream)");
    println!(
        "  plan:    http://{addr}/api/enforcement/plan?region=330102&date=YYYY-MM-DD&capacity=10"
    );
    println!(
        "  rules:   {} (edit a file there: it is reloaded)",
        config.rules.dir.display()
    );
    println!("  Ctrl-C to stop");
    let province = Province::generate(options.seed, options.enterprises, 1);
    let clock = EventClock::starting_now(options.speed);
    let injections = demo_scenarios(
        &province,
        options.seed,
        clock.start(),
        options.scenario_every,
    );
    let world = Arc::new(DemoWorld {
        province,
        clock,
        injections,
        seed: options.seed,
        progress: StreamProgress::default(),
    });
    let producer = tokio::spawn(produce(
        config.kafka.brokers.clone(),
        Arc::clone(&world),
        shutdown.clone(),
    ));
    let responder = tokio::spawn(responder::respond(
        config.kafka.brokers.clone(),
        config.kafka.warnings_topic.clone(),
        Arc::clone(&world),
        shutdown.clone(),
    ));
    let reporter = tokio::spawn(report(
        Arc::clone(&engine.metrics),
        Arc::clone(&engine.store),
        Arc::clone(&engine.status),
        shutdown.clone(),
    ));
    let result = engine.consume(&config, shutdown.clone()).await;
    shutdown.cancel();
    let _ = tokio::join!(server, producer, responder, reporter);
    drop(cluster);
    let _ = std::fs::remove_dir_all(&checkpoints);
    result
}

/// Event time for which the demo schedules scenarios ahead.
const SCENARIO_HORIZON_MS: i64 = 7 * 86_400_000;

/// What the demo simulates: the province, its event clock and the scenarios scheduled on it.
pub struct DemoWorld {
    pub province: Province,
    pub clock: EventClock,
    pub injections: Vec<Injection>,
    pub seed: u64,
    pub progress: StreamProgress,
}

/// Produces the province's registry, then its stream paced by the event clock, with one bad
/// record from the corruption catalogue every few seconds and the scheduled scenarios.
async fn produce(brokers: String, world: Arc<DemoWorld>, shutdown: CancellationToken) {
    let producer: FutureProducer = match ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("linger.ms", "5")
        .create()
    {
        Ok(p) => p,
        Err(error) => return tracing::error!(%error, "demo producer"),
    };
    let DemoWorld {
        province,
        clock,
        injections,
        seed,
        progress,
    } = &*world;
    for record in province.registry_records() {
        send(
            &producer,
            record.topic,
            Some(&record.key),
            record.value.to_string().as_bytes(),
        )
        .await;
    }
    let start = clock.start();
    let mut stream = ProvinceStream::new(Span {
        province,
        seed: *seed,
        start,
        end: start.saturating_add_ms(SCENARIO_HORIZON_MS),
        injections,
    });
    let mut announced = 0;
    let mut bad_sent = 0usize;
    let mut next_bad = start.saturating_add_ms(5_000);
    while !shutdown.is_cancelled() {
        let Some(due) = stream.peek_time() else {
            break;
        };
        if let Some(wait) = clock.wall_at(due).checked_duration_since(Instant::now()) {
            tokio::select! { _ = shutdown.cancelled() => break, _ = tokio::time::sleep(wait) => {} }
        }
        let Some(item) = stream.next() else {
            break;
        };
        send_sim(&producer, &item.into_record()).await;
        progress.reached(due);
        while let Some(next) = injections.get(announced).filter(|j| j.from <= due) {
            for truth in next.truths(province) {
                println!(
                    "scenario {} on {} {} until {} (expect {})",
                    truth.scenario, truth.enterprise_id, truth.subject, truth.until, truth.rule_id
                );
            }
            announced += 1;
        }
        if due >= next_bad {
            next_bad = due.saturating_add_ms(5_000);
            if let Some(RawRecord::Record { topic, key, value }) =
                bad_record(province, due, bad_sent)
            {
                send(&producer, &topic, key.as_deref(), &value).await;
            }
            bad_sent += 1;
        }
    }
}

/// The catalogue in turn, one scenario every `every` of event time (the first after one
/// interval), for a week ahead.
fn demo_scenarios(
    province: &Province,
    seed: u64,
    start: EventTime,
    every: Duration,
) -> Vec<Injection> {
    let every_ms = i64::try_from(every.as_millis())
        .unwrap_or(i64::MAX)
        .max(60_000);
    let count = usize::try_from(SCENARIO_HORIZON_MS / every_ms).unwrap_or(0);
    let scenarios: Vec<Scenario> = Scenario::ALL.iter().copied().cycle().take(count).collect();
    // `schedule` spreads n scenarios over (n + 1) intervals.
    let span = every_ms.saturating_mul(count as i64 + 1);
    schedule(province, &scenarios, seed, start, span)
}

/// The `n`-th bad record of the catalogue's rotation, stamped at event time `at` so that it
/// shows its own reason rather than arriving late.
fn bad_record(province: &Province, at: EventTime, n: usize) -> Option<RawRecord> {
    let first = &province.enterprises[0];
    let other = province.enterprises.get(1).unwrap_or(first);
    let ctx = CaseContext {
        enterprise_id: first.enterprise_id.clone(),
        other_enterprise_id: other.enterprise_id.clone(),
        level_target: first.indicators[0].target_code.clone(),
        o2_target: first
            .indicators
            .last()
            .map(|i| i.target_code.clone())
            .unwrap_or_default(),
        at,
    };
    let usable: Vec<RawRecord> = corrupt::catalogue(&ctx)
        .into_iter()
        // Framed, standalone, and small enough for the broker to accept.
        .filter(|case| {
            case.setup.is_empty() && case.reason.is_some_and(|r| r != ReasonCode::Oversized)
        })
        .map(|case| case.bad)
        .filter(|bad| matches!(bad, RawRecord::Record { .. }))
        .collect();
    let count = usable.len().max(1);
    usable.into_iter().nth(n % count)
}

async fn send_sim(producer: &FutureProducer, record: &SimRecord) {
    send(
        producer,
        record.topic,
        Some(&record.key),
        record.value.to_string().as_bytes(),
    )
    .await;
}

pub(super) async fn send(
    producer: &FutureProducer,
    topic: &str,
    key: Option<&str>,
    payload: &[u8],
) {
    let mut record = FutureRecord::to(topic).payload(payload);
    if let Some(key) = key {
        record = record.key(key);
    }
    if let Err((error, _)) = producer.send(record, Duration::from_secs(5)).await {
        tracing::warn!(%error, topic, "demo producer could not deliver");
    }
}

/// Prints the engine's status every five seconds.
async fn report(
    metrics: Arc<Metrics>,
    store: Arc<StateStore>,
    status: Arc<LiveStatus>,
    shutdown: CancellationToken,
) {
    let mut ticks = tokio::time::interval(Duration::from_secs(5));
    ticks.tick().await;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticks.tick() => {
                let report = StatusReport::collect(&metrics, &store, &status);
                println!("{}", serde_json::to_string(&report).unwrap_or_default());
            }
        }
    }
}
