//! Rebalance without loss (issue 13): two instances in one group on four partitions, B
//! joining while A is mid-stream, A leaving, then A restarted, against one instance reading the
//! same stream alone, on
//! librdkafka's mock cluster and on a real Kafka-protocol broker (Tansu).
//! No warning is resolved or opened again by a move (every (rule, enterprise, subject) has as
//! many episodes as alone, and each episode's record ends the way it does alone), partitions
//! move with their state (restored from the checkpoint of the instance that gave them up, or
//! kept when assigned back), and every county on `vigil.regions` counts all its enterprises,
//! not the share of one instance.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use vigil::api::StatusReport;
use vigil::app::mock_cluster::MockKafka;
use vigil::app::Engine;
use vigil::config::Config;
use vigil::model::EventTime;
use vigil::sim::{Province, SimRecord};

const PARTITIONS: i32 = 4;
/// The two brokers' runs take the machine's cores; one at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
const MINUTES: i64 = 30;
/// Two leaks, each firing across a move: from the first phase into the second (B joins), and
/// from the second into the third (A leaves).
const LEAKS: [(usize, std::ops::Range<i64>, f64); 2] = [(0, 7..14, 62.0), (1, 17..24, 31.0)];

struct Instance {
    engine: Arc<Engine>,
    shutdown: CancellationToken,
    consumer: tokio::task::JoinHandle<Result<(), vigil::error::IoError>>,
}

impl Instance {
    fn start(config: &Config, name: &'static str) -> Instance {
        let engine = Arc::new(Engine::new(config));
        let shutdown = CancellationToken::new();
        let consumer = {
            let (engine, config, shutdown) =
                (Arc::clone(&engine), config.clone(), shutdown.clone());
            let span = tracing::info_span!("instance", name);
            tokio::spawn(async move { engine.consume(&config, shutdown).await }.instrument(span))
        };
        Instance {
            engine,
            shutdown,
            consumer,
        }
    }

    fn applied(&self) -> u64 {
        let e = &self.engine;
        let status = StatusReport::collect(&e.metrics, &e.store, &e.status);
        status.records_applied + status.records_deferred as u64
    }

    /// Whether the engine has evaluated every tick up to `at`.
    fn ticked_to(&self, at: EventTime) -> bool {
        self.engine.status.last_tick().is_some_and(|t| t >= at)
    }

    fn restores(&self, source: &str) -> u64 {
        let restores = &self.engine.metrics.checkpoint.restores;
        restores.with_label_values(&[source]).get()
    }

    /// Partitions taken over without their holder's release (see `checkpoint::lease`): from
    /// a checkpoint that may be older than what the holder published.
    fn unreleased_handoffs(&self) -> u64 {
        let handoffs = &self.engine.metrics.checkpoint.handoffs;
        ["stale", "timed_out", "unreadable"]
            .map(|outcome| handoffs.with_label_values(&[outcome]).get())
            .iter()
            .sum()
    }

    async fn stop(self) {
        self.shutdown.cancel();
        self.consumer.await.unwrap().unwrap();
    }
}

/// One group's configuration.
fn config(brokers: &str, group: &str, rules: &std::path::Path) -> Config {
    let mut config = Config::default();
    config.kafka.brokers = brokers.to_owned();
    config.kafka.group_id = group.into();

    config.checkpoint.url = common::checkpoint_dir(group);
    config.checkpoint.interval = Duration::from_millis(500);
    config.rules.dir = rules.to_owned();
    config.rules.watch = false;
    config.risk.refresh = Duration::from_secs(60);
    for (key, value) in [
        ("session.timeout.ms", "6000"),
        ("heartbeat.interval.ms", "500"),
    ] {
        config
            .kafka
            .consumer_properties
            .insert(key.into(), value.into());
    }
    config
}

/// The stream cut by event time: the registry and minutes 0–10 (A alone), 10–20 (A and B),
/// 20–25 (B alone), 25–30 (B and A again).
fn phases(province: &Province) -> [Vec<SimRecord>; 4] {
    let start = common::T0.saturating_add_ms(8 * 3_600_000).millis();
    let mut phases: [Vec<SimRecord>; 4] = Default::default();
    for record in common::leak_stream(province, MINUTES, &LEAKS) {
        let minute = record.value["ts"]
            .as_str()
            .and_then(EventTime::parse_rfc3339)
            .map_or(0, |t| (t.millis() - start) / 60_000);
        let phase = [10, 20, 25].iter().filter(|cut| minute >= **cut).count();
        phases[phase].push(record);
    }
    phases
}

/// Produces a phase's records in one burst, as a broker holds a backlog, and waits until
/// they are all accepted (applied, or waiting for the tick before them).
async fn feed(brokers: &str, records: &[SimRecord], accepted: impl Fn() -> u64) {
    let target = accepted() + records.len() as u64;
    common::produce(brokers, records).await;
    wait_until("the phase's records to be accepted", 180, || {
        accepted() >= target
    })
    .await;
}

async fn wait_until(what: &str, seconds: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Per (rule, enterprise, subject): each episode's id and its last state.
type Episodes = BTreeMap<(String, String, String), BTreeMap<String, String>>;

fn episodes(brokers: &str, topic: &str) -> Episodes {
    let mut out = Episodes::new();
    for partition_records in read_all_partitions(brokers, topic) {
        for w in partition_records {
            let key = ["rule_id", "enterprise_id", "subject"]
                .map(|f| w[f].as_str().unwrap_or_default().to_owned());
            let state = w["state"].as_str().unwrap_or_default().to_owned();
            out.entry(key.into())
                .or_default()
                .insert(w["id"].as_str().unwrap().to_owned(), state);
        }
    }
    out
}

fn read_all_partitions(brokers: &str, topic: &str) -> Vec<Vec<Value>> {
    (0..PARTITIONS)
        .map(|p| common::read_partition_to_end(brokers, topic, p))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_mock_cluster_instances_joining_and_leaving_lose_nothing() {
    let _alone = ONE_AT_A_TIME.lock().await;
    // One cluster each, so both read the stream as it is produced, a minute at a time: a
    // reader catching up on several partitions at once sees a different interleaving.
    let topics = Config::default().kafka.all_topics();
    let alone = MockKafka::start(&topics, PARTITIONS).unwrap();
    let pair = MockKafka::start(&topics, PARTITIONS).unwrap();
    joining_and_leaving(&alone.bootstrap_servers, &pair.bootstrap_servers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_tansu_instances_joining_and_leaving_lose_nothing() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let alone = common::tansu::Tansu::start();
    let pair = common::tansu::Tansu::start();
    let topics = Config::default().kafka.all_topics();
    for brokers in [&alone.brokers, &pair.brokers] {
        common::create_topics(brokers, &topics, PARTITIONS).await;
    }
    joining_and_leaving(&alone.brokers, &pair.brokers).await;
}

/// One instance alone on `alone_brokers`; on `brokers`, A, then B joining, then A leaving.
async fn joining_and_leaving(alone_brokers: &str, brokers: &str) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let province = Province::generate(23, 12, 1);
    let [first, second, third, fourth] = phases(&province);
    let rules = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    let brokers = brokers.to_owned();

    // The reference: one instance reads each phase to its end.
    let alone = config(alone_brokers, "alone", &rules);
    let one = Instance::start(&alone, "alone");
    for phase in [&first, &second, &third, &fourth] {
        feed(&alone.kafka.brokers, phase, || one.applied()).await;
    }
    // Records are accepted before the ticks reach them: compare up to a minute before the end.
    let end = common::T0.saturating_add_ms(8 * 3_600_000 + (MINUTES - 1) * 60_000);
    wait_until("the engine to tick to the end", 180, || one.ticked_to(end)).await;
    // Let the last refresh come round before stopping.
    tokio::time::sleep(Duration::from_secs(2)).await;
    one.stop().await;

    // The pair reads the stream as it is produced: A alone, B joins, A leaves, A comes back.
    let pair = config(&brokers, "pair", &rules);
    let a = Instance::start(&pair, "A");
    feed(&brokers, &first, || a.applied()).await;
    let b = Instance::start(&pair, "B");
    wait_until("B to take partitions over from A's checkpoints", 60, || {
        b.restores("checkpoint") > 0
    })
    .await;
    assert!(
        a.restores("kept") > 0,
        "A keeps the partitions assigned back to it, with their state"
    );
    feed(&brokers, &second, || a.applied() + b.applied()).await;
    assert_eq!(a.unreleased_handoffs(), 0, "every partition handed over");
    a.stop().await;
    wait_until("B to take A's partitions over", 60, || {
        b.restores("checkpoint") >= PARTITIONS as u64
    })
    .await;
    feed(&brokers, &third, || b.applied()).await;
    let a = Instance::start(&pair, "A");
    wait_until(
        "A, restarted, to take partitions over from B's checkpoints",
        60,
        || a.restores("checkpoint") > 0,
    )
    .await;
    feed(&brokers, &fourth, || a.applied() + b.applied()).await;
    wait_until("both engines to tick to the end", 180, || {
        a.ticked_to(end) && b.ticked_to(end)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    for instance in [&a, &b] {
        assert_eq!(
            instance.unreleased_handoffs(),
            0,
            "every partition handed over"
        );
    }
    a.stop().await;
    b.stop().await;

    let alone_brokers = alone.kafka.brokers.clone();
    let (expected, got, regions, pair_warnings) = tokio::task::spawn_blocking(move || {
        (
            episodes(&alone_brokers, &alone.kafka.warnings_topic),
            episodes(&brokers, &pair.kafka.warnings_topic),
            read_all_partitions(&brokers, &pair.kafka.regions_topic),
            read_all_partitions(&brokers, &pair.kafka.warnings_topic),
        )
    })
    .await
    .unwrap();
    assert!(
        expected.keys().any(|(rule, _, _)| rule == "r02_gas_leak"),
        "the leaks fire: {expected:#?}"
    );
    let shape = |e: &Episodes| -> BTreeMap<(String, String, String), Vec<String>> {
        e.iter()
            .map(|(k, ids)| {
                let mut ends: Vec<String> = ids.values().cloned().collect();
                ends.sort();
                (k.clone(), ends)
            })
            .collect()
    };
    if shape(&got) != shape(&expected) {
        let differing: Vec<_> = (shape(&got).into_iter())
            .filter(|(key, ends)| shape(&expected).get(key) != Some(ends))
            .map(|(key, _)| key)
            .collect();
        for (partition, records) in pair_warnings.iter().enumerate() {
            for w in records {
                let key = ["rule_id", "enterprise_id", "subject"]
                    .map(|f| w[f].as_str().unwrap_or_default().to_owned());
                if differing.contains(&key.clone().into()) {
                    eprintln!("pair, partition {partition}: {w}");
                }
            }
        }
    }
    assert_eq!(
        shape(&got),
        shape(&expected),
        "the same episodes, ending the same way"
    );

    let mut in_county: BTreeMap<String, u64> = BTreeMap::new();
    for e in &province.enterprises {
        *in_county.entry(e.region_id.clone()).or_default() += 1;
    }
    assert!(in_county.len() > 1, "the test wants several counties");
    // While A and B each owned two partitions (minutes 10–20 and 25–30), every
    // county's owner merged its own parts with the other's from the board.
    let start = common::T0.saturating_add_ms(8 * 3_600_000);
    let minutes = |from: i64, to: i64| {
        start.saturating_add_ms(from * 60_000)..start.saturating_add_ms(to * 60_000)
    };
    let shared_phases = [minutes(10, 20), minutes(25, MINUTES)];
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for record in regions.into_iter().flatten() {
        let (Some(county), Some(at)) = (
            record["region_id"].as_str(),
            record["at"].as_str().and_then(EventTime::parse_rfc3339),
        ) else {
            continue;
        };
        if !shared_phases.iter().any(|phase| phase.contains(&at)) {
            continue;
        }
        assert_eq!(
            record["enterprises"].as_u64(),
            in_county.get(county).copied(),
            "{county} counts all its enterprises: {record}"
        );
        *seen.entry(county.to_owned()).or_default() += 1;
    }
    assert_eq!(
        seen.keys().collect::<Vec<_>>(),
        in_county.keys().collect::<Vec<_>>(),
        "every county is published while the pair shares it"
    );
}
