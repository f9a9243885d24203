//! Nothing accepted is lost (issue 13): `vigil run` against a real broker (Tansu), killed
//! with SIGKILL at 20 random points of a simulated stream and restarted each time, ends with
//! the warning ids and states, and the risk records, of a run that never crashed: no id
//! invented, none missing (a replay may repeat a record, with the same id).
//!
//! One partition per topic and readings only, so that two crash-free runs are the same run:
//! every tick then sees the same records (across partitions the interleaving of fetches is
//! the broker's, not vigil's).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use serde_json::Value;
use vigil::config::Config;
use vigil::model::EventTime;
use vigil::sim::Province;

const KILLS: usize = 20;
const STREAM_MINUTES: i64 = 30;
/// A level-2 leak at minutes 8–11 and a level-1 leak at minutes 20–22 (each fires, then
/// resolves).
const LEAKS: [(usize, std::ops::Range<i64>, f64); 2] = [(0, 8..11, 62.0), (1, 20..22, 31.0)];

struct Run {
    name: &'static str,
    dir: tempfile::TempDir,
    port: u16,
}

impl Run {
    fn new(name: &'static str, brokers: &str) -> Run {
        let dir = tempfile::tempdir().unwrap();
        let port = common::free_port();
        let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
        let config = format!(
            r#"
[kafka]
brokers = "{brokers}"
group_id = "{name}"
warnings_topic = "{name}.warnings"
risk_topic = "{name}.risk"
regions_topic = "{name}.regions"
dlq_topic = "{name}.dlq"
late_topic = "{name}.late"
[kafka.consumer_properties]
"session.timeout.ms" = "3000"
"heartbeat.interval.ms" = "1000"
[api]
addr = "127.0.0.1:{port}"
[checkpoint]
url = "{checkpoints}"
interval = "300ms"
[rules]
dir = "{rules}"
watch = false
"#,
            checkpoints = dir.path().join("checkpoints").display(),
            rules = rules.display(),
        );
        std::fs::write(dir.path().join("vigil.toml"), config).unwrap();
        Run { name, dir, port }
    }

    fn start(&self) -> common::process::Running {
        common::process::start(&mut common::process::vigil_run(
            &self.dir.path().join("vigil.toml"),
        ))
    }

    async fn status(&self) -> Option<Value> {
        let url = format!("http://127.0.0.1:{}/api/status", self.port);
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .ok()?;
        client.get(url).send().await.ok()?.json().await.ok()
    }

    /// Waits until the group's committed offsets reach the end of every input and the
    /// engine has evaluated the ticks up to `last` (records are committed once accepted;
    /// those beyond the engine's last tick wait for it, checkpointed).
    async fn wait_done(&self, brokers: &str, ends: &BTreeMap<(String, i32), i64>, last: EventTime) {
        let (name, brokers, ends) = (self.name, brokers.to_owned(), ends.clone());
        tokio::task::spawn_blocking(move || wait_committed(name, &brokers, &ends))
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(240);
        loop {
            let ticked = self
                .status()
                .await
                .and_then(|s| s["last_tick"].as_str().and_then(EventTime::parse_rfc3339));
            if ticked.is_some_and(|t| t >= last) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{}: the engine ticked to {ticked:?}, not {last:?}",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    fn topic(&self, output: &str) -> String {
        format!("{}.{output}", self.name)
    }
}

/// Waits until group `name`'s committed offsets reach the end of every input.
fn wait_committed(name: &str, brokers: &str, ends: &BTreeMap<(String, i32), i64>) {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let committed = common::committed(brokers, name, ends);
        if ends.iter().all(|(k, end)| committed.get(k) == Some(end)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{name}: committed {committed:?} of {ends:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn sigterm_and_wait(mut child: common::process::Running) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "vigil did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    }
}

async fn create_topics(brokers: &str, runs: &[&Run]) {
    let defaults = Config::default().kafka;
    let mut names = defaults.topics;
    names.extend([defaults.silences_topic, defaults.region_parts_topic]);
    for run in runs {
        for output in ["warnings", "risk", "regions", "dlq", "late"] {
            names.push(run.topic(output));
        }
    }
    common::create_topics(brokers, &names, 1).await;
}

/// (id, state) of every warning record, and the last risk record of every enterprise.
type Outputs = (BTreeSet<(String, String)>, BTreeMap<String, Value>);

fn outputs(brokers: &str, run: &Run) -> Outputs {
    let warnings = common::read_to_end(brokers, &run.topic("warnings"))
        .iter()
        .map(|w| {
            (
                w["id"].as_str().unwrap().to_owned(),
                w["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut risk = BTreeMap::new();
    for record in common::read_to_end(brokers, &run.topic("risk")) {
        risk.insert(record["enterprise_id"].as_str().unwrap().to_owned(), record);
    }
    (warnings, risk)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_twenty_times_it_ends_where_a_run_that_never_crashed_ends() {
    let tansu = common::tansu::Tansu::start();
    let brokers = tansu.brokers.clone();
    let reference = Run::new("reference", &brokers);
    let crashing = Run::new("crashing", &brokers);
    create_topics(&brokers, &[&reference, &crashing]).await;
    let province = Province::generate(17, 6, 1);
    let records = common::leak_stream(&province, STREAM_MINUTES, &LEAKS);
    let ends = common::produce(&brokers, &records).await;

    // The live clock stops short of the newest record (by the allowed lateness, from the
    // partition's robust newest time): a minute before it, both runs have evaluated alike.
    let last = records
        .iter()
        .filter_map(|r| r.value["ts"].as_str().and_then(EventTime::parse_rfc3339))
        .max()
        .unwrap()
        .saturating_sub_ms(60_000);

    let child = reference.start();
    reference.wait_done(&brokers, &ends, last).await;
    sigterm_and_wait(child);

    let mut rng = rand::rngs::StdRng::seed_from_u64(13);
    for kill in 0..KILLS {
        let mut child = crashing.start();
        let after = Duration::from_millis(rng.random_range(3_000..9_000));
        tokio::time::sleep(after).await;
        let read = crashing.status().await.map(|s| s["records_read"].clone());
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        eprintln!("kill {kill} after {after:?}: records read since the restart {read:?}");
    }
    let child = crashing.start();
    crashing.wait_done(&brokers, &ends, last).await;
    sigterm_and_wait(child);

    let (brokers_a, brokers_b) = (brokers.clone(), brokers.clone());
    let expected = tokio::task::spawn_blocking(move || outputs(&brokers_a, &reference))
        .await
        .unwrap();
    let got = tokio::task::spawn_blocking(move || outputs(&brokers_b, &crashing))
        .await
        .unwrap();
    let (expected_warnings, expected_risk) = expected;
    let (got_warnings, got_risk) = got;
    assert!(
        expected_warnings
            .iter()
            .filter(|(_, s)| s == "firing")
            .count()
            >= 2,
        "the stream fires warnings: {expected_warnings:?}"
    );
    assert!(expected_warnings.iter().any(|(_, s)| s == "resolved"));
    let invented: Vec<_> = got_warnings.difference(&expected_warnings).collect();
    let missing: Vec<_> = expected_warnings.difference(&got_warnings).collect();
    assert!(
        invented.is_empty() && missing.is_empty(),
        "invented {invented:?}, missing {missing:?}"
    );
    assert_eq!(
        got_risk.keys().collect::<Vec<_>>(),
        expected_risk.keys().collect::<Vec<_>>()
    );
    for (enterprise, record) in &expected_risk {
        let got = &got_risk[enterprise];
        for field in ["eri", "color", "band", "floor", "color_since", "terms"] {
            assert_eq!(got[field], record[field], "{enterprise} {field}");
        }
    }
}
