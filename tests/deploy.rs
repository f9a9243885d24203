//! `deploy/` cannot run here (no Docker engine), so it is checked statically: Prometheus
//! config and alert rules pass promtool, every YAML file parses, the dashboard is JSON whose
//! queries name metrics (that those metrics are live is checked in `tests/e2e_kafka.rs`),
//! and the default config that the image ships loads.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

fn files_with(ext: &[&str], dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_with(ext, &path, found);
        } else if path
            .extension()
            .is_some_and(|e| ext.iter().any(|x| e == *x))
        {
            found.push(path);
        }
    }
}

fn promtool(args: &[&str]) {
    let output = Command::new("promtool")
        .args(args)
        .output()
        .expect("promtool (Debian package `prometheus`)");
    assert!(
        output.status.success(),
        "promtool {args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn prometheus_config_and_alert_rules_pass_promtool() {
    let dir = deploy().join("prometheus");
    promtool(&[
        "check",
        "config",
        dir.join("prometheus.yml").to_str().unwrap(),
    ]);
    promtool(&["check", "rules", dir.join("alerts.yml").to_str().unwrap()]);
}

#[test]
fn every_yaml_file_parses() {
    let mut files = Vec::new();
    files_with(&["yaml", "yml"], &deploy(), &mut files);
    assert!(files.len() >= 9, "{files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let docs = yaml_rust2::YamlLoader::load_from_str(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(!docs.is_empty(), "{} is empty", file.display());
    }
}

#[test]
fn kubernetes_manifests_name_the_kinds_a_consumer_group_deployment_needs() {
    let mut files = Vec::new();
    files_with(&["yaml"], &deploy().join("k8s"), &mut files);
    let mut kinds = Vec::new();
    for file in files {
        for doc in
            yaml_rust2::YamlLoader::load_from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
        {
            kinds.push(doc["kind"].as_str().unwrap().to_owned());
        }
    }
    for kind in [
        "Deployment",
        "Service",
        "ConfigMap",
        "PodDisruptionBudget",
        "ServiceMonitor",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "no {kind} in {kinds:?}");
    }
}

#[test]
fn the_dashboard_queries_vigil_metrics() {
    let names = common::deployed_metric_names();
    assert!(
        names.iter().any(|n| n == "vigil_ingest_rejected_total"),
        "{names:?}"
    );
}

#[test]
fn the_shipped_config_loads() {
    let text = std::fs::read_to_string(deploy().join("vigil.toml")).unwrap();
    vigil::config::Config::from_toml(&text).unwrap();
}
