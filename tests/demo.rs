//! The README's first command: `vigil demo` starts the embedded broker, the simulated province
//! and the engine; ingest works (records applied, bad ones dead-lettered); the shipped rules
//! run, and a broken rule file dropped into its rules directory is rejected while the rest
//! keep running (issue 4); its metrics pass `promtool check metrics`; SIGTERM stops it cleanly.

mod common;

use std::process::{Command, Stdio};

use common::process::Running;
use std::time::{Duration, Instant};

use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_ingests_dead_letters_exposes_metrics_and_stops_on_sigterm() {
    let rules = shipped_rules_copy();
    let (addr, mut demo) = start_demo(
        Some(rules.path()),
        &["--speed", "50", "--enterprises", "20"],
        Stdio::piped(),
    );
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        let status: Option<Value> =
            match client.get(format!("http://{addr}/api/status")).send().await {
                Ok(response) => response.json().await.ok(),
                Err(_) => None,
            };
        if let Some(s) = status.filter(|s| {
            // Every enterprise registered (the registry comes first), readings flowing, and a
            // bad record dead-lettered.
            s["state"]["enterprises"] == 20
                && s["records_applied"].as_u64() > Some(500)
                && s["records_rejected"].as_u64() > Some(0)
        }) {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "the demo never showed ingest working"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(status["state"]["enterprises"], 20);

    let metric = |name: &'static str| {
        let client = client.clone();
        let url = format!("http://{addr}/metrics");
        async move {
            let text = client.get(url).send().await.ok()?.text().await.ok()?;
            common::metric_value(&text, name)
        }
    };
    let shipped = vigil::rules::loader::rule_files(rules.path())
        .unwrap()
        .len() as f64;
    assert_eq!(metric("vigil_rules_loaded").await, Some(shipped));
    std::fs::write(
        rules.path().join("gas/r02_broken.sql"),
        "-- id: r02_broken\n-- title: t\n-- severity: red\n-- basis: b\nSELECT FROM WHERE\n",
    )
    .unwrap();
    let ticks_before = metric("vigil_rules_ticks_total").await.unwrap_or(0.0);
    let deadline = Instant::now() + Duration::from_secs(20);
    while metric("vigil_rules_reload_failures_total").await != Some(1.0) {
        assert!(
            Instant::now() < deadline,
            "the broken rule was not rejected"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(metric("vigil_rules_loaded").await, Some(shipped));
    let deadline = Instant::now() + Duration::from_secs(20);
    while metric("vigil_rules_ticks_total").await.unwrap_or(0.0) <= ticks_before {
        assert!(Instant::now() < deadline, "rules stopped ticking");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let exposition = client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    common::assert_promtool_accepts(&exposition);

    let killed = Command::new("kill")
        .args(["-TERM", &demo.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(exit) = demo.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "the demo did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(exit.success(), "{exit:?}");
    let mut printed = String::new();
    std::io::Read::read_to_string(demo.stdout.as_mut().unwrap(), &mut printed).unwrap();
    assert!(
        printed.contains(&format!("http://{addr}/metrics")),
        "{printed}"
    );
}

/// `vigil demo` on a free loopback port with `args` (and the rules of `rules`, if given);
/// returns its address and process.
fn start_demo(rules: Option<&std::path::Path>, args: &[&str], stdout: Stdio) -> (String, Running) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut command = Command::new(env!("CARGO_BIN_EXE_vigil"));
    if let Some(rules) = rules {
        command.env("VIGIL__RULES__DIR", rules);
    }
    let demo = command
        .args(["demo", "--addr", &addr])
        .args(args)
        .stdout(stdout)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    (addr, Running(demo))
}

/// A copy of `queries/` the test may drop files into.
fn shipped_rules_copy() -> tempfile::TempDir {
    let queries = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    let copy = tempfile::tempdir().unwrap();
    for file in vigil::rules::loader::rule_files(&queries).unwrap() {
        let target = copy.path().join(file.strip_prefix(&queries).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&file, target).unwrap();
    }
    copy
}

/// The demo's duty officers acknowledge warnings within minutes, so R7 stays quiet for them;
/// the first scenario of the catalogue silences one enterprise's officers during a toxic leak,
/// and R7 escalates exactly the warnings nobody answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unanswered_warnings_escalate_and_answered_ones_do_not() {
    let (addr, mut demo) = start_demo(
        None,
        &[
            "--speed",
            "100",
            "--enterprises",
            "10",
            "--scenario-every",
            "2m",
        ],
        Stdio::null(),
    );
    let client = reqwest::Client::new();
    // The leak starts 2 minutes in; its orange warning is due in 30 (18 s of wall time).
    let deadline = Instant::now() + Duration::from_secs(120);
    let warnings = loop {
        let warnings: Vec<Value> = match client
            .get(format!("http://{addr}/api/warnings"))
            .send()
            .await
        {
            Ok(response) => response.json().await.unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        let is_leak = |id: &Value| {
            warnings
                .iter()
                .any(|w| w["id"] == *id && w["rule_id"] == "r02_gas_leak")
        };
        let escalated = warnings
            .iter()
            .any(|w| w["rule_id"] == "r07_warning_not_handled" && is_leak(&w["subject"]));
        let answered = warnings.iter().any(|w| w["handling"]["action"] == "ack");
        if escalated && answered {
            break warnings;
        }
        assert!(
            Instant::now() < deadline,
            "no escalation and answer seen: {warnings:#?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let _ = Command::new("kill")
        .args(["-TERM", &demo.id().to_string()])
        .status();
    let _ = demo.wait();
    let by_id = |id: &Value| warnings.iter().find(|w| w["id"] == *id);
    // R7 names the warning it escalates; one suppressed in a warning flood is not listed.
    let escalated: Vec<&Value> = warnings
        .iter()
        .filter(|w| w["rule_id"] == "r07_warning_not_handled")
        .filter_map(|r7| by_id(&r7["subject"]))
        .collect();
    assert!(
        escalated.iter().any(|w| w["rule_id"] == "r02_gas_leak"),
        "the silenced enterprise's leak escalates: {escalated:#?}"
    );
    for w in &escalated {
        assert_eq!(
            w["enterprise_id"], escalated[0]["enterprise_id"],
            "only the silenced enterprise's warnings escalate: {escalated:#?}"
        );
        assert!(
            w["handling"].is_null(),
            "an answered warning escalated: {w:#?}"
        );
    }
}
