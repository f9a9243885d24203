//! End to end through a real broker (issue 20). A simulated province of 1 000 enterprises
//! (18 indicators each) is produced to Tansu on four partitions: its registry, then
//! `E2E_READINGS` readings (default 2 000 000). The same topics are then read from the
//! beginning, in one run, by:
//! - a bare rdkafka consumer that parses each reading with serde (the ceiling);
//! - vigil (`Engine::consume`, as `vigil run` runs it) without rules;
//! - vigil with the shipped rules.
//!
//! Each is timed from its first record to its last, so joining the consumer group is left
//! out; with rules, to the engine's tick at the stream's end as well (every reading read and
//! evaluated). Reports readings per second and vigil's share of the bare reader's.
//! Run: `CARGO_PROFILE_DEV_OPT_LEVEL=3 cargo bench --profile dev --bench e2e` (needs
//! `.ci/tansu`; `E2E_READINGS=500000` for a short run; README, Benchmarks, says why the dev
//! profile).

// The tests' broker starter; the bench uses only `start`.
#[allow(dead_code)]
#[path = "../tests/common/tansu.rs"]
mod tansu;

use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::Message;
use tokio_util::sync::CancellationToken;
use vigil::app::Engine;
use vigil::config::Config;
use vigil::model::EventTime;
use vigil::sim::{Province, ReadingStream, SimRecord};

const ENTERPRISES: usize = 1_000;
const POINTS_PER_KIND: usize = 3;
const PARTITIONS: i32 = 4;
/// 2026-01-05T00:00:00Z: recorded input, well behind the wall clock.
const T0: EventTime = EventTime::from_millis(1_767_571_200_000);

/// What a bare reader parses of a reading.
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Reading<'a> {
    ts: &'a str,
    enterprise_id: &'a str,
    target_code: &'a str,
    value: f64,
    #[serde(default)]
    quality: Option<&'a str>,
}

async fn produce(brokers: &str, records: &[SimRecord]) {
    let producer: FutureProducer = rdkafka::config::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("linger.ms", "20")
        .set("batch.num.messages", "10000")
        .set("queue.buffering.max.messages", "1000000")
        .create()
        .expect("a producer");
    for chunk in records.chunks(20_000) {
        let payloads: Vec<String> = chunk.iter().map(|r| r.value.to_string()).collect();
        let sends = chunk.iter().zip(&payloads).map(|(r, payload)| {
            producer.send(
                FutureRecord::to(r.topic).key(&r.key).payload(payload),
                Duration::from_secs(60),
            )
        });
        for delivery in futures::future::join_all(sends).await {
            delivery.expect("delivered");
        }
    }
}

/// The bare reader: consume `sensor.reading` and parse every payload; (seconds, parsed).
async fn bare_reader(brokers: &str, readings: u64) -> (f64, u64) {
    let consumer: StreamConsumer = rdkafka::config::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "e2e-bare")
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("a consumer");
    consumer.subscribe(&["sensor.reading"]).expect("subscribe");
    let mut parsed = 0u64;
    let mut first: Option<Instant> = None;
    while parsed < readings {
        let message = consumer.recv().await.expect("a message");
        first.get_or_insert_with(Instant::now);
        let payload = message.payload().unwrap_or_default();
        if serde_json::from_slice::<Reading<'_>>(payload).is_ok() {
            parsed += 1;
        }
    }
    (first.map_or(0.0, |t| t.elapsed().as_secs_f64()), parsed)
}

/// vigil on the same topics in its own group: seconds from its first record read to its
/// last (every record of the inputs read and handled).
async fn vigil_reader(
    brokers: &str,
    group: &str,
    rules: Option<&std::path::Path>,
    total: u64,
    end: EventTime,
) -> f64 {
    let checkpoints = tempfile::tempdir().expect("a temporary directory");
    let mut config = Config::default();
    config.kafka.brokers = brokers.to_owned();
    config.kafka.group_id = group.to_owned();
    config.checkpoint.url = checkpoints.path().display().to_string();
    config.rules.dir = rules.map(|r| r.to_owned()).unwrap_or_default();
    config.rules.watch = false;
    let engine = Arc::new(Engine::new(&config));
    let shutdown = CancellationToken::new();
    let task = {
        let (engine, config, shutdown) = (Arc::clone(&engine), config.clone(), shutdown.clone());
        tokio::spawn(async move { engine.consume(&config, shutdown).await })
    };
    let read = || -> u64 {
        engine
            .metrics
            .by_topic
            .iter()
            .map(|c| c.records.get())
            .sum()
    };
    while read() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let first = Instant::now();
    let evaluated = || rules.is_none() || engine.status.last_tick().is_some_and(|t| t >= end);
    while read() < total || !evaluated() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let seconds = first.elapsed().as_secs_f64();
    shutdown.cancel();
    task.await
        .expect("the consumer task")
        .expect("vigil consumes");
    seconds
}

fn main() {
    let readings: u64 = std::env::var("E2E_READINGS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let broker = tansu::Tansu::start();
    let brokers = broker.brokers.clone();
    let province = Province::generate(11, ENTERPRISES, POINTS_PER_KIND);
    let indicators: usize = province
        .enterprises
        .iter()
        .map(|e| e.indicators.len())
        .sum();
    let registry = province.registry_records();
    let stream: Vec<SimRecord> = ReadingStream::new(&province, 3, T0)
        .take(readings as usize)
        .collect();
    let total = (registry.len() + stream.len()) as u64;
    // The engine ticks up to its watermark: the last reading less the allowed lateness (and
    // the tick's second).
    let lateness = Config::default().ingest.allowed_lateness.as_millis() as i64;
    let end = stream
        .iter()
        .filter_map(|r| EventTime::parse_rfc3339(r.value["ts"].as_str()?))
        .max()
        .expect("readings")
        .saturating_sub_ms(lateness + 1_000);
    runtime.block_on(async {
        let kafka = Config::default().kafka;
        create(&brokers, &kafka.topics, PARTITIONS).await;
        let outputs: Vec<String> = kafka.output_topics().iter().map(|(t, _)| (*t).to_owned()).collect();
        create(&brokers, &outputs, 1).await;
        let started = Instant::now();
        produce(&brokers, &registry).await;
        produce(&brokers, &stream).await;
        println!(
            "produced {} enterprises, {indicators} indicators: {} registry records and {readings} readings in {:.1} s",
            ENTERPRISES,
            registry.len(),
            started.elapsed().as_secs_f64()
        );
        let (bare_s, parsed) = bare_reader(&brokers, readings).await;
        let bare = parsed as f64 / bare_s;
        println!("bare rdkafka consumer + serde parse: {bare:>10.0} readings/s ({bare_s:.2} s)");
        let norules_s = vigil_reader(&brokers, "e2e-norules", None, total, end).await;
        let norules = readings as f64 / norules_s;
        println!(
            "vigil, no rules:                     {norules:>10.0} readings/s ({norules_s:.2} s) = {:.0} % of the bare reader",
            100.0 * norules / bare
        );
        let queries = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
        let rules_s = vigil_reader(&brokers, "e2e-rules", Some(&queries), total, end).await;
        let rules = readings as f64 / rules_s;
        println!(
            "vigil, shipped rules:                {rules:>10.0} readings/s ({rules_s:.2} s) = {:.0} % of the bare reader",
            100.0 * rules / bare
        );
    });
}

async fn create(brokers: &str, names: &[String], partitions: i32) {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    let admin: AdminClient<rdkafka::client::DefaultClientContext> =
        rdkafka::config::ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .create()
            .expect("an admin client");
    let topics: Vec<NewTopic> = names
        .iter()
        .map(|t| NewTopic::new(t, partitions, TopicReplication::Fixed(1)))
        .collect();
    for result in admin
        .create_topics(&topics, &AdminOptions::new())
        .await
        .expect("create topics")
    {
        result.expect("a topic created");
    }
}
