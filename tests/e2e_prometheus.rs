//! Operators watch vigil through Prometheus: a live scrape passes `promtool check metrics`,
//! and a real Prometheus server on 127.0.0.1 scrapes a running vigil and answers queries about
//! series that exist and move. Needs Debian's `prometheus` package (`.ci/run` installs it).

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio_util::sync::CancellationToken;
use vigil::app::Engine;
use vigil::config::Config;
use vigil::ingest::{Position, RecordRef};
use vigil::sim::{Province, ReadingStream};

/// A Prometheus server scraping one target every second; killed on drop.
struct Prometheus {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    fn start(target: &str) -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: vigil\n    static_configs:\n      - targets: ['{target}']\n"),
        )
        .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the prometheus binary (Debian package `prometheus`)");
        Prometheus {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    /// The value of the first series of an instant query, if any.
    async fn query(&self, client: &reqwest::Client, query: &str) -> Option<f64> {
        let response = client
            .get(format!("{}/api/v1/query", self.url))
            .query(&[("query", query)])
            .send()
            .await
            .ok()?;
        let body: Value = response.json().await.ok()?;
        body["data"]["result"][0]["value"][1].as_str()?.parse().ok()
    }

    /// Waits until `query` answers with a value that satisfies `ok`.
    async fn wait_for(
        &self,
        client: &reqwest::Client,
        query: &str,
        ok: impl Fn(f64) -> bool,
    ) -> f64 {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(value) = self.query(client, query).await.filter(|v| ok(*v)) {
                return value;
            }
            assert!(
                Instant::now() < deadline,
                "Prometheus never answered {query} as expected"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Feeds `n` readings (after the registry on the first call) through the engine's pipeline.
struct Feeder {
    lines: Vec<(String, String, Vec<u8>)>,
    next: usize,
}

impl Feeder {
    fn new() -> Self {
        let province = Province::generate(5, 10, 1);
        let mut lines: Vec<_> = province
            .registry_records()
            .into_iter()
            .map(|r| (r.topic.to_owned(), r.key, r.value.to_string().into_bytes()))
            .collect();
        lines.extend(
            ReadingStream::new(&province, 5, common::T0)
                .take(5_000)
                .map(|r| (r.topic.to_owned(), r.key, r.value.to_string().into_bytes())),
        );
        Feeder { lines, next: 0 }
    }

    fn feed(&mut self, pipeline: &mut vigil::ingest::Pipeline, n: usize) {
        let mut out = Vec::new();
        for (topic, key, payload) in self.lines.iter().skip(self.next).take(n) {
            let record = RecordRef {
                topic,
                partition: 0,
                position: Position::Line(self.next as u64),
                key: Some(key.as_bytes()),
                payload,
            };
            pipeline.process(record, None, &mut out);
            self.next += 1;
        }
    }
}

async fn scrape(client: &reqwest::Client, addr: &str) -> String {
    client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scrapes_vigil_and_sees_series_move() {
    let config = Config::default();
    let engine = Engine::new(&config);
    let shutdown = CancellationToken::new();
    let (addr, server) = engine
        .spawn_api("127.0.0.1:0", shutdown.clone())
        .await
        .unwrap();
    let addr = addr.to_string();
    let mut pipeline = engine.pipeline(&config);
    let mut feeder = Feeder::new();
    feeder.feed(&mut pipeline, 1_000);
    let client = reqwest::Client::new();

    // The exposition is valid for Prometheus.
    let exposition = scrape(&client, &addr).await;
    common::assert_promtool_accepts(&exposition);

    // A real server scrapes it, and the series move as records flow.
    let prometheus = Prometheus::start(&addr);
    let query = r#"vigil_ingest_applied_total{topic="sensor.reading"}"#;
    let before = prometheus.wait_for(&client, query, |v| v > 0.0).await;
    feeder.feed(&mut pipeline, 2_000);
    let after = prometheus.wait_for(&client, query, |v| v > before).await;
    assert!(after >= before + 2_000.0, "{before} -> {after}");
    let indicators = prometheus
        .wait_for(&client, "vigil_state_indicators", |v| v > 0.0)
        .await;
    assert_eq!(indicators, 60.0);
    assert_eq!(
        prometheus
            .wait_for(&client, r#"up{job="vigil"}"#, |v| v > 0.0)
            .await,
        1.0
    );

    shutdown.cancel();
    server.await.unwrap().unwrap();
}
