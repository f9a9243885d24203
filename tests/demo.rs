//! The README's first command: `vigil demo` starts the embedded broker, the simulated province
//! and the engine; ingest works (records applied, bad ones dead-lettered); its metrics pass
//! `promtool check metrics`; SIGTERM stops it cleanly.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_ingests_dead_letters_exposes_metrics_and_stops_on_sigterm() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut demo = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args([
            "demo",
            "--addr",
            &addr,
            "--speed",
            "50",
            "--enterprises",
            "20",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        let status: Option<Value> =
            match client.get(format!("http://{addr}/api/status")).send().await {
                Ok(response) => response.json().await.ok(),
                Err(_) => None,
            };
        if let Some(s) = status.filter(|s| {
            s["records_applied"].as_u64() > Some(200) && s["records_rejected"].as_u64() > Some(0)
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
