//! Issue 19: faults an operator meets, against a real broker (Tansu). A partition whose
//! newest checkpoint was written by a newer vigil (a rollback) is not consumed, and says so,
//! instead of starting fresh; the other partitions go on. Output topics missing at start or
//! deleted mid-run, and the broker away for a minute at start and mid-run.

mod common;

use common::process::{start, vigil_run};

use std::process::Stdio;
use std::time::{Duration, Instant};

use vigil::checkpoint::{CheckpointConfig, CheckpointStore, SCHEMA_VERSION};
use vigil::config::Config;

const GROUP: &str = "faults";

fn config_file(dir: &std::path::Path, brokers: &str, port: u16) -> std::path::PathBuf {
    let rules = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    let text = format!(
        r#"
[kafka]
brokers = "{brokers}"
group_id = "{GROUP}"
[kafka.consumer_properties]
"session.timeout.ms" = "3000"
"heartbeat.interval.ms" = "1000"
"fetch.queue.backoff.ms" = "10"
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

async fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let response = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}{path}"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    Some((status, response.text().await.ok()?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpoint_of_a_newer_schema_leaves_its_partition_unconsumed_and_says_why() {
    let tansu = common::tansu::Tansu::start();
    let brokers = tansu.brokers.clone();
    let mut names = Config::default().kafka.all_topics();
    names.sort();
    names.dedup();
    common::create_topics(&brokers, &names, 2).await;
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(
        &CheckpointConfig {
            url: dir.path().join("checkpoints").display().to_string(),
            interval: Duration::from_secs(10),
            keep: 3,
            on_unreadable: Default::default(),
        },
        GROUP,
    )
    .unwrap();
    let mut newer = b"VIGILC".to_vec();
    newer.extend_from_slice(&(SCHEMA_VERSION + 1).to_le_bytes());
    newer.extend_from_slice(b"state of a newer vigil");
    store.write(0, 100, 1_000, newer).await.unwrap();

    let records = common::leak_stream(&common::province(), 5, &[]);
    let ends = common::produce(&brokers, &records).await;
    assert!(
        ends.keys().any(|(_, p)| *p == 0) && ends.keys().any(|(_, p)| *p == 1),
        "both partitions hold records: {ends:?}"
    );
    let port = common::free_port();
    let _vigil = start(&mut vigil_run(&config_file(dir.path(), &brokers, port)));
    // Partition 1 is consumed to its end and committed; partition 0 is not touched.
    let on_one: std::collections::BTreeMap<_, _> = ends
        .iter()
        .filter(|((_, p), _)| *p == 1)
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let committed = common::committed(&brokers, GROUP, &on_one);
        if on_one.iter().all(|(k, end)| committed.get(k) == Some(end)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "partition 1 not consumed: {committed:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let (status, why) = get(port, "/readyz").await.expect("/readyz answers");
    assert_eq!(status, 503, "{why}");
    assert!(
        why.contains("partition 0") && why.contains("schema"),
        "{why}"
    );
    let (_, metrics) = get(port, "/metrics").await.unwrap();
    let refused = metrics
        .lines()
        .find(|l| l.starts_with("vigil_checkpoint_restores_total") && l.contains("refused"))
        .unwrap_or_default()
        .to_owned();
    assert!(refused.ends_with(" 1"), "{refused}");
    let on_zero: std::collections::BTreeMap<_, _> = ends
        .iter()
        .filter(|((_, p), _)| *p == 0)
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    assert!(
        common::committed(&brokers, GROUP, &on_zero).is_empty(),
        "nothing of partition 0 is committed"
    );
    // The newer checkpoint is still there for the newer vigil.
    assert!(matches!(
        store.latest(0).await,
        Err(vigil::error::CheckpointError::Schema { .. })
    ));
}

/// An output topic missing at start stops `vigil run` with an error naming it; with
/// `kafka.create_topics` it is created instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_output_topic_is_named_at_start_or_created() {
    let tansu = common::tansu::Tansu::start();
    let brokers = tansu.brokers.clone();
    let defaults = Config::default().kafka;
    common::create_topics(&brokers, &defaults.topics, 1).await;
    let dir = tempfile::tempdir().unwrap();
    let file = config_file(dir.path(), &brokers, common::free_port());
    let output = vigil_run(&file)
        .stderr(Stdio::piped())
        .output()
        .expect("vigil run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("output topic(s) missing") && stderr.contains(&defaults.warnings_topic),
        "{stderr}"
    );

    let port = common::free_port();
    let file = config_file(dir.path(), &brokers, port);
    let _vigil = start(vigil_run(&file).env("VIGIL__KAFKA__CREATE_TOPICS", "true"));
    let metadata: rdkafka::consumer::BaseConsumer = rdkafka::config::ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .create()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let known =
            rdkafka::consumer::Consumer::fetch_metadata(&metadata, None, Duration::from_secs(5))
                .map(|m| {
                    m.topics()
                        .iter()
                        .filter(|t| !t.partitions().is_empty())
                        .map(|t| t.name().to_owned())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
        let outputs = [
            &defaults.warnings_topic,
            &defaults.risk_topic,
            &defaults.silences_topic,
            &defaults.region_parts_topic,
        ];
        if outputs.iter().all(|t| known.contains(t)) {
            break;
        }
        assert!(Instant::now() < deadline, "outputs not created: {known:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(get(port, "/healthz").await.is_some());
}

/// How long each outage lasts: a minute, beyond every client timeout (metadata, session,
/// message) that could turn an outage into a lost record.
const OUTAGE: Duration = Duration::from_secs(60);

async fn wait_committed(
    brokers: &str,
    group: &str,
    ends: &std::collections::BTreeMap<(String, i32), i64>,
) {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let committed = common::committed(brokers, group, ends);
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

/// The broker down when vigil starts, and again mid-run: once it answers, everything is
/// consumed and committed, and the gas leak of the stream is warned about as without outages
/// (fired, then resolved).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_outages_at_start_and_mid_run_lose_nothing() {
    let tansu = common::tansu::Tansu::start();
    let brokers = tansu.brokers.clone();
    common::create_topics(&brokers, &Config::default().kafka.all_topics(), 2).await;
    let province = common::province();
    let records = common::leak_stream(&province, 12, &[(0, 3..6, 62.0)]);
    let (first, second) = records.split_at(records.len() / 2);
    let mut ends = common::produce(&brokers, first).await;

    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let file = config_file(dir.path(), &brokers, port);
    tansu.pause();
    let _vigil = start(vigil_run(&file).env("RUST_LOG", "error"));
    tokio::time::sleep(OUTAGE).await;
    let (status, why) = get(port, "/readyz")
        .await
        .expect("the API answers during the outage");
    assert_eq!(status, 503, "not ready while the broker is away: {why}");
    tansu.resume();
    wait_committed(&brokers, GROUP, &ends).await;

    tansu.pause();
    tokio::time::sleep(OUTAGE).await;
    tansu.resume();
    for (k, end) in common::produce(&brokers, second).await {
        ends.insert(k, end);
    }
    wait_committed(&brokers, GROUP, &ends).await;
    // Not /readyz: Tansu's stale high watermarks keep the reported lag from settling.
    let warnings: Vec<serde_json::Value> = (0..2)
        .flat_map(|p| {
            common::read_partition_to_end(&brokers, &Config::default().kafka.warnings_topic, p)
        })
        .collect();
    let leak = &province.enterprises[0].enterprise_id;
    let states: std::collections::BTreeSet<&str> = warnings
        .iter()
        .filter(|w| w["rule_id"] == "r02_gas_leak" && w["enterprise_id"] == leak.as_str())
        .filter_map(|w| w["state"].as_str())
        .collect();
    assert!(
        states.contains("firing") && states.contains("resolved"),
        "the leak fired and resolved: {states:?} of {} warning records",
        warnings.len()
    );
}

/// The warnings topic deleted while vigil runs: the warnings that cannot be delivered are
/// dead-lettered `output_refused` and counted; ingest, checkpoints and commits go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_output_topic_deleted_mid_run_is_dead_lettered_and_ingest_goes_on() {
    use rdkafka::admin::{AdminClient, AdminOptions};
    let tansu = common::tansu::Tansu::start();
    let brokers = tansu.brokers.clone();
    let kafka = Config::default().kafka;
    common::create_topics(&brokers, &kafka.all_topics(), 1).await;
    let province = common::province();
    let records = common::leak_stream(&province, 12, &[(0, 3..6, 62.0)]);
    let (first, second) = records.split_at(records.len() * 2 / 5);
    let mut ends = common::produce(&brokers, first).await;
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let file = config_file(dir.path(), &brokers, port);
    // A deleted topic times records out rather than refusing them: short timeouts keep the
    // test short (the defaults are 300 s).
    let _vigil = start(
        vigil_run(&file)
            .env("RUST_LOG", "error")
            .env(
                "VIGIL__KAFKA__PRODUCER_PROPERTIES__MESSAGE.TIMEOUT.MS",
                "5000",
            )
            .env(
                "VIGIL__KAFKA__PRODUCER_PROPERTIES__TOPIC.METADATA.REFRESH.INTERVAL.MS",
                "1000",
            )
            .env(
                "VIGIL__KAFKA__PRODUCER_PROPERTIES__TOPIC.METADATA.PROPAGATION.MAX.MS",
                "1000",
            ),
    );
    wait_committed(&brokers, GROUP, &ends).await;

    let admin: AdminClient<rdkafka::client::DefaultClientContext> =
        rdkafka::config::ClientConfig::new()
            .set("bootstrap.servers", &brokers)
            .create()
            .unwrap();
    for result in admin
        .delete_topics(&[kafka.warnings_topic.as_str()], &AdminOptions::new())
        .await
        .expect("delete topics")
    {
        result.expect("the warnings topic deleted");
    }
    // Until the producer's metadata says the topic is gone, Tansu still takes records for it.
    tokio::time::sleep(Duration::from_secs(5)).await;
    for (k, end) in common::produce(&brokers, second).await {
        ends.insert(k, end);
    }
    wait_committed(&brokers, GROUP, &ends).await;
    let dead: Vec<serde_json::Value> = common::read_to_end(&brokers, &kafka.dlq_topic)
        .into_iter()
        .filter(|r| r["reason_code"] == "output_refused")
        .collect();
    let (_, metrics) = get(port, "/metrics").await.expect("metrics");
    let refused = metrics
        .lines()
        .find(|l| l.starts_with("vigil_output_refused_total{output=\"warnings\"}"))
        .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .unwrap_or(0.0);
    assert!(
        !dead.is_empty() && refused >= dead.len() as f64,
        "the leak's resolution, refused by the broker, is dead-lettered and counted: {dead:?}, {refused}"
    );
    assert!(
        dead.iter()
            .any(|d| d.to_string().contains(&kafka.warnings_topic)),
        "the dead letter names the topic: {dead:?}"
    );
}
