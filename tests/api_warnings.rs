//! The warnings API over HTTP on 127.0.0.1, fed by a live rules engine (the ingest loop's
//! hook) over the gas-leak fixture: `GET /api/warnings` with filters, `GET
//! /api/warnings/{id}` with evidence and provenance, the server-sent-event stream, the KPIs,
//! and `POST /api/silences` behind its bearer token.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde_json::{json, Value};
use vigil::app::live_rules::{LiveRules, WarningOutputs};
use vigil::app::Engine;
use vigil::config::Config;
use vigil::ingest::record::{Position, RecordRef};
use vigil::ingest::Pipeline;
use vigil::warnings::WarningBook;

const TOKEN: &str = "s3cret-token";

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn fixture(file: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(repo("tests/fixtures/rules").join(file)).unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Feeds records through the engine's pipeline, evaluating the live rules' ticks after every
/// record as the Kafka loop does after a batch.
struct Feeder {
    pipeline: Pipeline,
    offset: i64,
}

impl Feeder {
    async fn feed(&mut self, rules: &mut LiveRules, lines: &[Value]) {
        let mut out = Vec::new();
        for envelope in lines {
            let payload = envelope["value"].to_string();
            let record = RecordRef {
                topic: envelope["topic"].as_str().unwrap(),
                partition: 0,
                position: Position::Offset(self.offset),
                key: envelope["key"].as_str().map(str::as_bytes),
                payload: payload.as_bytes(),
            };
            self.offset += 1;
            self.pipeline.process(record, None, &mut out);
            // One totally ordered stream, as a replay reads it: its clock is its watermark.
            if let Some(now) = self.pipeline.partition_watermark(0) {
                let all = std::time::Duration::MAX;
                vigil::ingest::kafka::run_ticks(&mut self.pipeline, rules, now, &mut out, all)
                    .await;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_lists_explains_streams_and_silences_warnings() {
    let rules_dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo("queries/gas/r02_gas_leak.sql"),
        rules_dir.path().join("r02_gas_leak.sql"),
    )
    .unwrap();
    let mut config = Config::default();
    config.rules.dir = rules_dir.path().to_owned();
    config.rules.watch = false;
    config.warnings.api_token = TOKEN.into();
    let engine = Engine::new(&config);
    let shutdown = tokio_util::sync::CancellationToken::new();
    let (addr, server) = engine
        .spawn_api("127.0.0.1:0", shutdown.clone())
        .await
        .unwrap();
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();

    // Subscribe before anything fires; the stream's head may only come with its first event.
    let reader = {
        let url = format!("{base}/api/warnings/stream");
        tokio::spawn(async move { read_events(&url, 5).await })
    };
    while engine.warnings.subscribers() == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let outputs = WarningOutputs {
        book: WarningBook::new(&config.warnings, Arc::clone(&engine.silences)),
        view: Arc::clone(&engine.warnings),
        sender: None,
    };
    let mut rules = LiveRules::start(
        &config.rules,
        Arc::clone(&engine.store),
        Arc::clone(&engine.metrics),
        outputs,
    )
    .await
    .unwrap();
    let mut pipeline = engine.pipeline(&config);
    pipeline.defer_to_ticks();
    let mut feeder = Feeder {
        pipeline,
        offset: 0,
    };
    feeder.feed(&mut rules, &fixture("world.ndjson")).await;
    feeder
        .feed(&mut rules, &fixture("r02_gas_leak/fires.ndjson"))
        .await;

    // The stream carried every record: firing, escalated, resolved for AT001; AT002's two.
    let text = tokio::time::timeout(Duration::from_secs(20), reader)
        .await
        .expect("the stream stalled")
        .unwrap();
    assert_eq!(text.matches("event: warning").count(), 5, "{text}");
    assert!(text.contains("\"state\":\"escalated\""), "{text}");

    let get = |path: String| {
        let http = http.clone();
        async move { http.get(path).send().await.unwrap() }
    };
    let all: Vec<Value> = get(format!("{base}/api/warnings"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        all.len(),
        2,
        "one entry per warning, its latest record: {all:#?}"
    );
    assert!(all.iter().all(|w| w["state"] == "resolved"));
    let red: Vec<Value> = get(format!("{base}/api/warnings?color=red&region=330102"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(red.len(), 1);
    assert_eq!(red[0]["subject"], "33010200001-AT001");
    let none: Vec<Value> = get(format!("{base}/api/warnings?state=open"))
        .await
        .json()
        .await
        .unwrap();
    assert!(none.is_empty());
    let later: Vec<Value> = get(format!("{base}/api/warnings?from=2020-03-02T01:00:00Z"))
        .await
        .json()
        .await
        .unwrap();
    assert!(later.is_empty(), "both resolved before 01:00");
    let bad = get(format!("{base}/api/warnings?colour=red")).await;
    assert_eq!(bad.status(), 400, "unknown filters are refused");

    let id = red[0]["id"].as_str().unwrap();
    let history: Vec<Value> = get(format!("{base}/api/warnings/{id}"))
        .await
        .json()
        .await
        .unwrap();
    let states: Vec<&str> = history
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["firing", "escalated", "resolved"]);
    let readings = history[0]["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["topic"] == "sensor.reading")
        .unwrap();
    assert_eq!(readings["unit"], "offsets");
    assert!(history[0]["evidence"]["readings_1m"].as_i64().unwrap() > 0);
    assert_eq!(get(format!("{base}/api/warnings/nope")).await.status(), 404);

    let kpis: Vec<Value> = get(format!("{base}/api/warnings/kpis"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(kpis[0]["enterprise_id"], "33010200001");
    assert_eq!(kpis[0]["fired_24h"], 2);

    let silence = json!({"enterprise_id": "33010200001", "starts_at": "2020-03-02T00:00:00Z",
                         "ends_at": "2020-03-03T00:00:00Z", "created_by": "test"});
    let post = |token: Option<&str>, body: Value| {
        let mut request = http.post(format!("{base}/api/silences")).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    assert_eq!(post(None, silence.clone()).await.unwrap().status(), 401);
    assert_eq!(
        post(Some("wrong"), silence.clone()).await.unwrap().status(),
        401
    );
    let no_matcher =
        json!({"starts_at": "2020-03-02T00:00:00Z", "ends_at": "2020-03-03T00:00:00Z"});
    assert_eq!(post(Some(TOKEN), no_matcher).await.unwrap().status(), 422);
    let created = post(Some(TOKEN), silence.clone()).await.unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let listed: Vec<Value> = get(format!("{base}/api/silences"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], created["id"]);

    // The posted silence holds for what fires next: the leak again, an hour later.
    let later_leak = shifted("r02_gas_leak/fires.ndjson", 3600);
    feeder.feed(&mut rules, &later_leak).await;
    let open: Vec<Value> = get(format!("{base}/api/warnings?from=2020-03-02T01:00:00Z"))
        .await
        .json()
        .await
        .unwrap();
    assert!(!open.is_empty());
    assert!(
        open.iter()
            .all(|w| w["suppressed"]["by"] == "silence"
                && w["suppressed"]["source"] == created["id"]),
        "{open:#?}"
    );
    shutdown.cancel();
    server.await.unwrap().unwrap();
}

/// The server-sent events until `n` warnings have come.
async fn read_events(url: &str, n: usize) -> String {
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut events = response.bytes_stream();
    let mut text = String::new();
    while text.matches("event: warning").count() < n {
        let chunk = events.next().await.unwrap().unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    text
}

/// The fixture's lines, `seconds` later.
fn shifted(file: &str, seconds: i64) -> Vec<Value> {
    fixture(file)
        .into_iter()
        .map(|mut envelope| {
            let ts =
                vigil::model::EventTime::parse_rfc3339(envelope["value"]["ts"].as_str().unwrap())
                    .unwrap();
            envelope["value"]["ts"] = json!(ts.saturating_add_ms(seconds * 1000));
            envelope
        })
        .collect()
}
