//! Live equals replay (issue 20): a `vigil sim` stream with every scenario, produced to a real
//! broker (Tansu) on four partitions and consumed by `vigil run` from the beginning, gives the
//! warning records (ids and states) of `vigil replay --rules` on the same file, exactly. Three
//! ways a broker delivers it, each with its own seed:
//! - the whole backlog at once, read at full speed;
//! - one partition's whole backlog produced before the others';
//! - read while being killed with SIGKILL at random points and restarted.
//!
//! The comparison stops a minute before the stream's end: the live engine evaluates up to
//! its watermark and waits for more input there, where a replay, knowing its input is over,
//! evaluates the rest at once.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use serde_json::Value;
use vigil::config::Config;
use vigil::model::EventTime;

const PARTITIONS: i32 = 4;
const ENTERPRISES: u32 = 30;
const SECONDS: u32 = 1200;
/// The comparison leaves out the stream's last minute (see the module comment).
const TAIL_MS: i64 = 60_000;
/// One broker variant at a time: two vigil-and-Tansu pairs on CI's two cores starve each
/// other's readers.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One line of a replay file, as produced.
struct Line {
    topic: String,
    key: Option<String>,
    value: String,
    partition: i32,
}

/// A `vigil sim` stream with every scenario.
fn simulate(seed: u64, dir: &Path) -> PathBuf {
    let out = dir.join("stream.ndjson");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["sim", "--scenario", "all", "--seed", &seed.to_string()])
        .args(["--enterprises", &ENTERPRISES.to_string()])
        .args(["--duration", &SECONDS.to_string()])
        .arg("--out")
        .arg(&out)
        .status()
        .expect("vigil sim runs");
    assert!(status.success());
    out
}

/// The stream's records, each given the partition of its key (a key always goes to one).
fn lines(file: &Path) -> Vec<Line> {
    let text = std::fs::read_to_string(file).unwrap();
    text.lines()
        .map(|line| {
            let envelope: Value = serde_json::from_str(line).unwrap();
            let key = envelope["key"].as_str().map(str::to_owned);
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            key.hash(&mut hasher);
            Line {
                topic: envelope["topic"].as_str().unwrap().to_owned(),
                partition: (hasher.finish() % PARTITIONS as u64) as i32,
                key,
                value: envelope["value"].to_string(),
            }
        })
        .collect()
}

/// Produces `lines` in order; the end offset of every input partition.
async fn produce(brokers: &str, lines: &[&Line]) -> BTreeMap<(String, i32), i64> {
    let producer: rdkafka::producer::FutureProducer = rdkafka::config::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .create()
        .unwrap();
    let mut ends = BTreeMap::new();
    for chunk in lines.chunks(2_000) {
        let sends = chunk.iter().map(|line| {
            let mut record = rdkafka::producer::FutureRecord::to(&line.topic)
                .partition(line.partition)
                .payload(&line.value);
            if let Some(key) = &line.key {
                record = record.key(key);
            }
            producer.send(record, Duration::from_secs(30))
        });
        for (line, delivery) in chunk.iter().zip(futures::future::join_all(sends).await) {
            let delivery = delivery.expect("delivered");
            let end = ends
                .entry((line.topic.clone(), delivery.partition))
                .or_insert(0);
            *end = (*end).max(delivery.offset + 1);
        }
    }
    ends
}

/// `vigil run`'s configuration for one test.
fn config_file(dir: &Path, brokers: &str, port: u16) -> PathBuf {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    let text = format!(
        r#"
[kafka]
brokers = "{brokers}"
group_id = "live"
[kafka.consumer_properties]
"session.timeout.ms" = "3000"
"heartbeat.interval.ms" = "1000"
[api]
addr = "127.0.0.1:{port}"
[checkpoint]
url = "{checkpoints}"
interval = "500ms"
[rules]
dir = "{rules}"
watch = false
"#,
        checkpoints = dir.join("checkpoints").display(),
        rules = rules.display(),
    );
    let file = dir.join("vigil.toml");
    std::fs::write(&file, text).unwrap();
    file
}

/// (id, state) of the warning records at or before `cut`.
fn until(records: &[Value], cut: EventTime) -> BTreeSet<(String, String)> {
    records
        .iter()
        .filter(|r| {
            r["at"]
                .as_str()
                .and_then(EventTime::parse_rfc3339)
                .is_some_and(|at| at <= cut)
        })
        .map(|r| {
            let field = |f: &str| r[f].as_str().unwrap_or_default().to_owned();
            (field("id"), field("state"))
        })
        .collect()
}

/// The newest event time of the stream.
fn end_of(lines: &[Line]) -> EventTime {
    lines
        .iter()
        .filter_map(|l| {
            let value: Value = serde_json::from_str(&l.value).ok()?;
            EventTime::parse_rfc3339(value["ts"].as_str()?)
        })
        .max()
        .unwrap()
}

/// How the broker gets the stream, and how vigil reads it.
#[derive(Clone, Copy, Debug)]
enum Delivery {
    Backlog,
    OnePartitionFirst,
    Killed,
}

async fn live_equals_replay(seed: u64, delivery: Delivery) {
    let _alone = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let file = simulate(seed, dir.path());
    // Replay runs its own runtime: off this one.
    let replayed = {
        let (file, work) = (file.clone(), dir.path().to_owned());
        tokio::task::spawn_blocking(move || {
            let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
            common::replay_warnings(&Config::default(), vec![file], rules, &work)
        })
        .await
        .unwrap()
    };
    let lines = lines(&file);
    let cut = end_of(&lines).saturating_sub_ms(TAIL_MS);
    let expected = until(&replayed, cut);
    assert!(
        expected.iter().filter(|(_, s)| s == "firing").count() >= 5,
        "the stream fires warnings: {expected:?}"
    );

    let tansu = common::tansu::Tansu::start();
    let brokers = tansu.brokers.clone();
    let kafka = Config::default().kafka;
    common::create_topics(&brokers, &kafka.topics, PARTITIONS).await;
    let outputs: Vec<String> = kafka
        .output_topics()
        .iter()
        .map(|(t, _)| (*t).to_owned())
        .collect();
    common::create_topics(&brokers, &outputs, 1).await;
    let ordered: Vec<&Line> = match delivery {
        Delivery::OnePartitionFirst => {
            let (first, rest): (Vec<&Line>, Vec<&Line>) =
                lines.iter().partition(|l| l.partition == 0);
            first.into_iter().chain(rest).collect()
        }
        Delivery::Backlog | Delivery::Killed => lines.iter().collect(),
    };
    let ends = produce(&brokers, &ordered).await;

    let port = common::free_port();
    let config = config_file(dir.path(), &brokers, port);
    let log = std::env::var("VIGIL_TEST_LOG").unwrap_or("warn".into());
    if let Delivery::Killed = delivery {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        for _ in 0..3 {
            let mut child =
                common::process::start(common::process::vigil_run(&config).env("RUST_LOG", &log));
            tokio::time::sleep(Duration::from_millis(rng.random_range(2_000..8_000))).await;
            child.kill().expect("SIGKILL");
            child.wait().unwrap();
        }
    }
    let _vigil = common::process::start(common::process::vigil_run(&config).env("RUST_LOG", log));
    wait_committed(&brokers, &ends).await;
    wait_clock_past(port, cut).await;
    let live: Vec<Value> = common::read_to_end(&brokers, &kafka.warnings_topic);
    let got = until(&live, cut);
    let describe = |records: &[Value], keys: Vec<&(String, String)>| -> Vec<String> {
        keys.iter()
            .map(|(id, state)| {
                let r = records
                    .iter()
                    .find(|r| r["id"] == id.as_str() && r["state"] == state.as_str());
                r.map_or_else(String::new, |r| {
                    format!(
                        "{} {} {} {} at {}",
                        r["rule_id"], r["subject"], state, id, r["at"]
                    )
                })
            })
            .collect()
    };
    let missing = describe(&replayed, expected.difference(&got).collect());
    let invented = describe(&live, got.difference(&expected).collect());
    assert!(
        missing.is_empty() && invented.is_empty(),
        "{delivery:?}, seed {seed}: {} records replayed, {} live; missing {missing:#?}, invented {invented:#?}",
        expected.len(),
        got.len()
    );
}

async fn wait_committed(brokers: &str, ends: &BTreeMap<(String, i32), i64>) {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let committed = common::committed(brokers, "live", ends);
        if ends.iter().all(|(k, end)| committed.get(k) == Some(end)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "committed {committed:?} of {ends:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Waits until the engine's last tick (`/api/status`) has passed `cut`: every tick up to it
/// ran (the clock itself can be ahead of the ticks while the engine catches up).
async fn wait_clock_past(port: u16, cut: EventTime) {
    let deadline = Instant::now() + Duration::from_secs(120);
    let client = reqwest::Client::new();
    loop {
        let status: Option<Value> = async {
            let url = format!("http://127.0.0.1:{port}/api/status");
            client.get(url).send().await.ok()?.json().await.ok()
        }
        .await;
        let clock = status
            .as_ref()
            .and_then(|s| s["last_tick"].as_str())
            .and_then(EventTime::parse_rfc3339);
        if clock.is_some_and(|c| c.millis() > cut.millis() + 1_000) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the engine ticked to {clock:?}, short of {cut}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_read_at_full_speed_gives_the_replays_warnings() {
    live_equals_replay(7, Delivery::Backlog).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_partition_ahead_of_the_others_gives_the_replays_warnings() {
    live_equals_replay(11, Delivery::OnePartitionFirst).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_three_times_it_gives_the_replays_warnings() {
    live_equals_replay(5, Delivery::Killed).await;
}

/// The same property without a broker, so it is quick and shows where a difference comes
/// from: the stream's records delivered partition by partition in bursts (each partition's
/// own order kept, as a broker keeps it), through the pipeline and the rules on the engine
/// clock of the partitions, give the replay's warnings.
#[test]
fn partitions_delivered_in_bursts_give_the_replays_warnings_in_process() {
    use vigil::app::rules_clock::RulesClock;
    use vigil::ingest::replay::EventClock;
    use vigil::ingest::{Position, RecordRef};
    let dir = tempfile::tempdir().unwrap();
    let file = simulate(11, dir.path());
    let queries = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    let replay_dir = dir.path().join("replay");
    std::fs::create_dir_all(&replay_dir).unwrap();
    let replayed = common::replay_warnings(
        &Config::default(),
        vec![file.clone()],
        queries.clone(),
        &replay_dir,
    );
    let lines = lines(&file);
    let cut = end_of(&lines).saturating_sub_ms(TAIL_MS);

    let config = Config::default();
    let engine = vigil::app::Engine::new(&config);
    let mut clock = RulesClock::load(
        &config,
        &queries,
        std::sync::Arc::clone(&engine.store),
        std::sync::Arc::clone(&engine.metrics),
    )
    .unwrap_or_else(|p| panic!("{p:?}"));
    let out = dir.path().join("live.ndjson");
    clock.write_warnings_to(&out).unwrap();
    let mut pipeline = engine.pipeline(&config);
    pipeline.defer_to_ticks();
    // Bursts of 500 records from one partition at a time, round robin, partition 0 first.
    let mut queues: Vec<std::collections::VecDeque<(i64, &Line)>> = (0..PARTITIONS)
        .map(|p| {
            lines
                .iter()
                .filter(|l| l.partition == p)
                .enumerate()
                .map(|(i, l)| (i as i64, l))
                .collect()
        })
        .collect();
    let mut dispositions = Vec::new();
    while queues.iter().any(|q| !q.is_empty()) {
        for queue in queues.iter_mut() {
            for (offset, line) in queue.drain(..queue.len().min(500)) {
                let record = RecordRef {
                    topic: &line.topic,
                    partition: line.partition,
                    position: Position::Offset(offset),
                    key: line.key.as_deref().map(str::as_bytes),
                    payload: line.value.as_bytes(),
                };
                pipeline.process(record, None, &mut dispositions);
            }
            // Each partition's lines keep the file's order across topics here, so a
            // partition's clock is its newest time over all of them.
            let marks: Option<Vec<EventTime>> = (0..PARTITIONS)
                .map(|p| pipeline.partition_watermark(p))
                .collect();
            if let Some(now) = marks.and_then(|m| m.into_iter().min()) {
                if let Some(origin) = pipeline.origin() {
                    clock.start_at(origin);
                }
                while let Some(at) = clock.due(now, pipeline.next_deferred()) {
                    pipeline.release_until(at, &mut dispositions);
                    clock.tick(at).unwrap();
                }
            }
        }
    }
    clock.finish(EventTime::from_millis(0)).unwrap();
    let live = common::parse_ndjson(&std::fs::read(&out).unwrap());
    let (expected, got) = (until(&replayed, cut), until(&live, cut));
    let missing: Vec<_> = expected.difference(&got).collect();
    let invented: Vec<_> = got.difference(&expected).collect();
    assert!(
        missing.is_empty() && invented.is_empty(),
        "missing {missing:?}, invented {invented:?}"
    );
}
