//! Helpers shared by the integration tests: a small simulated province, replay runs over
//! in-memory lines, and the corruption catalogue's context.
#![allow(dead_code)]

pub mod process;
pub mod tansu;

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use vigil::app::Engine;
use vigil::config::Config;
use vigil::ingest::replay::{Replay, ReplaySinks, Speed, Summary};
use vigil::model::EventTime;
use vigil::sim::corrupt::CaseContext;
use vigil::sim::Province;
use vigil::state::StateStore;

/// 2020-03-01T00:00:00Z, the start of simulated time in tests.
pub const T0: EventTime = EventTime::from_millis(1_583_020_800_000);

pub fn province() -> Province {
    Province::generate(7, 3, 1)
}

/// The province's registry, then `minutes` of its readings from 08:00, with gas leaks: the
/// flammable-gas detectors of enterprise `i` read `ppm` during the minutes given.
pub fn leak_stream(
    province: &vigil::sim::Province,
    minutes: i64,
    leaks: &[(usize, std::ops::Range<i64>, f64)],
) -> Vec<vigil::sim::SimRecord> {
    let start = T0.saturating_add_ms(8 * 3_600_000);
    let end = start.saturating_add_ms(minutes * 60_000);
    let leaks: Vec<(String, std::ops::Range<i64>, f64)> = leaks
        .iter()
        .map(|(i, minutes, value)| {
            (
                province.enterprises[*i].enterprise_id.clone(),
                minutes.clone(),
                *value,
            )
        })
        .collect();
    let mut records = province.registry_records();
    for reading in vigil::sim::ReadingStream::new(province, 21, start) {
        let mut record = reading;
        let ts = record.value["ts"]
            .as_str()
            .and_then(EventTime::parse_rfc3339);
        let Some(ts) = ts.filter(|t| *t < end) else {
            break;
        };
        let minute = (ts.millis() - start.millis()) / 60_000;
        let target = record.value["target_code"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        for (enterprise, minutes, value) in &leaks {
            if target.starts_with(enterprise.as_str())
                && target.contains("-AT")
                && minutes.contains(&minute)
            {
                record.value["value"] = serde_json::Value::from(*value);
            }
        }
        records.push(record);
    }
    records
}

pub fn registry_lines(province: &Province) -> Vec<Vec<u8>> {
    province
        .registry_records()
        .iter()
        .map(|r| r.to_ndjson().into_bytes())
        .collect()
}

pub fn case_context(province: &Province, at: EventTime) -> CaseContext {
    let first = &province.enterprises[0];
    let target = |code: &str| {
        first
            .indicators
            .iter()
            .find(|i| i.target_code.contains(code))
            .map(|i| i.target_code.clone())
            .expect("the province has this kind of indicator")
    };
    CaseContext {
        enterprise_id: first.enterprise_id.clone(),
        other_enterprise_id: province.enterprises[1].enterprise_id.clone(),
        level_target: target("-LT"),
        o2_target: target("-OX"),
        at,
    }
}

/// What one replay produced.
pub struct ReplayRun {
    pub summary: Summary,
    pub dead: Vec<Value>,
    pub late: Vec<Value>,
    pub dlq_bytes: Vec<u8>,
    pub late_bytes: Vec<u8>,
    pub store: Arc<StateStore>,
}

impl ReplayRun {
    /// Every one of `lines` was applied: nothing dead, late or held.
    pub fn assert_all_applied(&self, lines: usize) {
        assert_eq!(
            self.summary.applied, lines as u64,
            "dead {:?} late {:?}",
            self.dead, self.late
        );
    }

    /// The dead letter of input line `line` (1-based).
    pub fn dead_at(&self, line: usize) -> Option<&Value> {
        self.dead.iter().find(|d| d["line"] == line)
    }
}

pub fn replay_lines(lines: &[Vec<u8>], config: &Config) -> ReplayRun {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("input.ndjson");
    let mut bytes = Vec::new();
    for line in lines {
        bytes.extend_from_slice(line);
        bytes.push(b'\n');
    }
    std::fs::write(&input, bytes).expect("write input");
    replay_files(&[input], dir.path(), config)
}

pub fn replay_files(inputs: &[std::path::PathBuf], out: &Path, config: &Config) -> ReplayRun {
    let (dlq, late) = (out.join("dlq.ndjson"), out.join("late.ndjson"));
    let engine = Engine::new(config);
    let mut pipeline = engine.pipeline(config);
    let sinks = ReplaySinks::create(Some(&dlq), Some(&late)).expect("sinks");
    let summary = Replay::new(
        &mut pipeline,
        sinks,
        Speed::Max,
        config.ingest.max_message_bytes,
    )
    .run(inputs, |_| {})
    .expect("replay runs");
    let dlq_bytes = std::fs::read(&dlq).expect("dlq output");
    let late_bytes = std::fs::read(&late).expect("late output");
    ReplayRun {
        summary,
        dead: parse_ndjson(&dlq_bytes),
        late: parse_ndjson(&late_bytes),
        dlq_bytes,
        late_bytes,
        store: Arc::clone(&engine.store),
    }
}

pub fn parse_ndjson(bytes: &[u8]) -> Vec<Value> {
    bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("outputs are JSON lines"))
        .collect()
}

/// Readings of one indicator counted in its buckets, and its last value.
pub fn indicator_readings(
    store: &StateStore,
    enterprise_id: &str,
    target_code: &str,
) -> (usize, Option<f64>) {
    let partition = store
        .partitions()
        .into_iter()
        .find(|p| p.enterprises.contains_key(enterprise_id))
        .expect("enterprise in state");
    let state = partition.enterprises.get(enterprise_id).unwrap();
    let live = &state.indicators[target_code];
    let counted: u32 = live.buckets.iter().map(|b| b.count).sum();
    (counted as usize, live.last.as_ref().map(|l| l.value))
}

/// The values sent for one indicator, in order.
pub fn sent_values(readings: &[vigil::sim::SimRecord], target_code: &str) -> Vec<f64> {
    readings
        .iter()
        .filter(|r| r.value["target_code"] == target_code)
        .map(|r| r.value["value"].as_f64().expect("a number"))
        .collect()
}

/// The registry, `n` readings, then every case of the corruption catalogue.
pub fn mixed_input(province: &Province, seed: u64, n: usize) -> Vec<Vec<u8>> {
    let mut lines = registry_lines(province);
    let mut stream = vigil::sim::ReadingStream::new(province, seed, T0);
    lines.extend(stream.by_ref().take(n).map(|r| r.to_ndjson().into_bytes()));
    let after = stream.peek_time().expect("an endless stream");
    for case in vigil::sim::corrupt::catalogue(&case_context(province, after)) {
        lines.extend(case.setup.iter().map(|r| r.to_line()));
        lines.push(case.bad.to_line());
    }
    lines
}

/// Names of the metrics that `deploy/` queries: the Grafana dashboard and the alert rules.
pub fn deployed_metric_names() -> std::collections::BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("grafana/dashboards/vigil.json")).unwrap(),
    )
    .unwrap();
    let mut texts: Vec<String> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| {
            p["targets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["expr"].as_str().unwrap().to_owned())
        })
        .collect();
    texts.push(std::fs::read_to_string(root.join("prometheus/alerts.yml")).unwrap());
    let mut names = std::collections::BTreeSet::new();
    for text in &texts {
        for prefix in ["vigil_", "process_"] {
            for (at, _) in text.match_indices(prefix) {
                let name: String = text[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                names.insert(name);
            }
        }
    }
    names
}

/// Panics unless every metric `deploy/` queries is in `exposition`.
pub fn assert_deployed_metrics_exposed(exposition: &str) {
    let exposed: std::collections::BTreeSet<&str> = exposition
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .collect();
    let names = deployed_metric_names();
    assert!(names.len() >= 15, "{names:?}");
    let missing: Vec<&String> = names
        .iter()
        .filter(|n| !exposed.contains(n.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "queried by deploy/ but not exposed: {missing:?}"
    );
}

/// Panics unless `promtool check metrics` accepts the exposition.
pub fn assert_promtool_accepts(exposition: &str) {
    use std::process::{Command, Stdio};
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian package `prometheus`)");
    std::io::Write::write_all(promtool.stdin.as_mut().unwrap(), exposition.as_bytes()).unwrap();
    let checked = promtool.wait_with_output().unwrap();
    assert!(
        checked.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
}

/// The value of an unlabelled metric in a Prometheus text exposition.
pub fn metric_value(exposition: &str, name: &str) -> Option<f64> {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// Replays `inputs` with the rules of `rules` under `config`; the warning records written,
/// in order. `work` holds the output file.
pub fn replay_warnings(
    config: &Config,
    inputs: Vec<std::path::PathBuf>,
    rules: std::path::PathBuf,
    work: &Path,
) -> Vec<Value> {
    let out = work.join("warnings.ndjson");
    vigil::app::replay::run(
        config,
        &vigil::app::replay::ReplayOptions {
            inputs,
            rules: Some(rules),
            warnings_out: Some(out.clone()),
            ..Default::default()
        },
    )
    .expect("the replay runs");
    parse_ndjson(&std::fs::read(out).expect("warnings output"))
}

/// A rules directory under `work` holding copies of these shipped rule files (paths under
/// `queries/`).
pub fn shipped_rules(work: &Path, rules: &[&str]) -> std::path::PathBuf {
    let dir = work.join("rules");
    std::fs::create_dir_all(&dir).expect("a rules directory");
    let queries = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    for rule in rules {
        let name = Path::new(rule).file_name().expect("a file name");
        std::fs::copy(queries.join(rule), dir.join(name)).expect("the rule file copies");
    }
    dir
}

/// A fresh directory for one engine's checkpoints; it outlives the test's handles (a restart
/// in the same test finds it), and lives in the system's temp dir.
pub fn checkpoint_dir(name: &str) -> String {
    let dir = tempfile::Builder::new()
        .prefix(&format!("vigil-checkpoints-{name}-"))
        .tempdir()
        .expect("temp dir")
        .keep();
    dir.display().to_string()
}

/// Reads `topic` from the beginning until `expected` JSON records arrived (or a minute passed).
pub fn read_topic(brokers: &str, topic: &str, expected: usize) -> Vec<Value> {
    let consumer = reader(
        brokers,
        topic,
        &[
            ("auto.offset.reset", "earliest"),
            ("session.timeout.ms", "6000"),
        ],
    );
    rdkafka::consumer::Consumer::subscribe(&consumer, &[topic]).expect("subscribe");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut values = Vec::new();
    while values.len() < expected && std::time::Instant::now() < deadline {
        if let Some(Ok(message)) = consumer.poll(std::time::Duration::from_millis(200)) {
            values.push(
                serde_json::from_slice(
                    rdkafka::message::Message::payload(&message).unwrap_or_default(),
                )
                .expect("JSON"),
            );
        }
    }
    values
}

/// The offsets `group` committed, of the partitions in `ends`.
pub fn committed(
    brokers: &str,
    group: &str,
    ends: &std::collections::BTreeMap<(String, i32), i64>,
) -> std::collections::BTreeMap<(String, i32), i64> {
    let consumer: rdkafka::consumer::BaseConsumer = rdkafka::config::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .create()
        .expect("offset reader");
    let mut list = rdkafka::TopicPartitionList::new();
    for (topic, partition) in ends.keys() {
        list.add_partition(topic, *partition);
    }
    let list = rdkafka::consumer::Consumer::committed_offsets(
        &consumer,
        list,
        std::time::Duration::from_secs(10),
    )
    .expect("committed offsets");
    list.elements()
        .iter()
        .filter_map(|e| match e.offset() {
            rdkafka::Offset::Offset(o) => Some(((e.topic().to_owned(), e.partition()), o)),
            _ => None,
        })
        .collect()
}

/// Every record of partition 0 of `topic`, read from the beginning to its end.
pub fn read_to_end(brokers: &str, topic: &str) -> Vec<Value> {
    read_partition_to_end(brokers, topic, 0)
}

/// Every record of one partition of `topic`, read from the beginning to its end.
pub fn read_partition_to_end(brokers: &str, topic: &str, partition: i32) -> Vec<Value> {
    use rdkafka::consumer::Consumer;
    let consumer = reader(
        brokers,
        topic,
        &[
            ("enable.auto.commit", "false"),
            ("enable.partition.eof", "true"),
        ],
    );
    let mut list = rdkafka::TopicPartitionList::new();
    list.add_partition_offset(topic, partition, rdkafka::Offset::Beginning)
        .expect("a partition");
    consumer.assign(&list).expect("assign");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut values = Vec::new();
    while std::time::Instant::now() < deadline {
        match consumer.poll(std::time::Duration::from_millis(200)) {
            Some(Ok(message)) => values.push(
                serde_json::from_slice(
                    rdkafka::message::Message::payload(&message).unwrap_or_default(),
                )
                .expect("JSON"),
            ),
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(_))) => return values,
            _ => {}
        }
    }
    panic!("{topic} did not reach its end within a minute");
}

/// Produces `records` (keyed by enterprise), in order; the end offset of every partition written.
pub async fn produce(
    brokers: &str,
    records: &[vigil::sim::SimRecord],
) -> std::collections::BTreeMap<(String, i32), i64> {
    let producer: rdkafka::producer::FutureProducer = rdkafka::config::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .create()
        .unwrap();
    let mut ends = std::collections::BTreeMap::new();
    for chunk in records.chunks(2_000) {
        let payloads: Vec<String> = chunk.iter().map(|r| r.value.to_string()).collect();
        let sends = chunk.iter().zip(&payloads).map(|(r, payload)| {
            producer.send(
                rdkafka::producer::FutureRecord::to(r.topic)
                    .key(&r.key)
                    .payload(payload),
                std::time::Duration::from_secs(30),
            )
        });
        let deliveries = futures::future::join_all(sends).await;
        for (record, delivery) in chunk.iter().zip(deliveries) {
            let delivery = delivery.expect("delivered");
            let end = ends
                .entry((record.topic.to_owned(), delivery.partition))
                .or_insert(0i64);
            *end = (*end).max(delivery.offset + 1);
        }
    }
    ends
}

/// Creates `names` on the broker, `partitions` each (a real broker creates nothing itself).
pub async fn create_topics(brokers: &str, names: &[String], partitions: i32) {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    let admin: AdminClient<rdkafka::client::DefaultClientContext> =
        rdkafka::config::ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .create()
            .expect("admin client");
    let topics: Vec<NewTopic> = names
        .iter()
        .map(|t| NewTopic::new(t, partitions, TopicReplication::Fixed(1)))
        .collect();
    for result in admin
        .create_topics(&topics, &AdminOptions::new())
        .await
        .expect("create topics")
    {
        result.expect("topic created");
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A consumer of `topic` in a group of this test process, with `settings`.
fn reader(
    brokers: &str,
    topic: &str,
    settings: &[(&str, &str)],
) -> rdkafka::consumer::BaseConsumer {
    let mut config = rdkafka::config::ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("reader-{topic}-{}", std::process::id()));
    for (key, value) in settings {
        config.set(*key, *value);
    }
    config.create().expect("reader")
}
