//! The rules engine in a running service: ticks as the ingest watermark advances, reloads
//! the rules directory when it changes, logs what starts and stops being hit.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::api::LiveStatus;
use crate::config::RulesConfig;
use crate::metrics::Metrics;
use crate::rules::watch::{watch, RuleWatch};
use crate::rules::{ReloadReport, RuleDriver, RuleEngine};
use crate::state::StateStore;
use crate::warnings::delivery::WarningSender;
use crate::warnings::{WarningBook, WarningRecord};

/// How often the watermark is looked at (wall time).
const POLL: Duration = Duration::from_millis(200);
/// Changes to rule files within this time are reloaded together.
const DEBOUNCE: Duration = Duration::from_millis(300);

pub async fn run(
    config: RulesConfig,
    store: Arc<StateStore>,
    metrics: Arc<Metrics>,
    status: Arc<LiveStatus>,
    warnings: Option<WarningSender>,
    shutdown: CancellationToken,
) {
    let mut engine = RuleEngine::new(config.clone(), Arc::clone(&metrics));
    log_reload(&engine.reload(&config.dir).await);
    let (_watch, mut changes) = start_watch(&config);
    let mut book = WarningBook::default();
    let mut driver = RuleDriver::new(engine, Arc::clone(&store), config.tick);
    let region_of = |e: &str| store.region_of(e);
    let mut poll = tokio::time::interval(POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = poll.tick() => {
                if let Some(now) = status.watermark() {
                    if let Some(tick) = driver.advance(now).await {
                        let records = book.apply(&tick, &driver.engine, &region_of);
                        publish(&records, &metrics, &book, warnings.as_ref()).await;
                    }
                }
            }
            Some(()) = changes.recv() => {
                tokio::time::sleep(DEBOUNCE).await;
                while changes.try_recv().is_ok() {}
                let versions: Vec<(String, String)> =
                    driver.engine.rules().map(|r| (r.header.id.clone(), r.version.clone())).collect();
                let report = driver.engine.reload(&config.dir).await;
                log_reload(&report);
                let now = driver.last_tick().unwrap_or_default();
                for (id, version) in versions.iter().filter(|(id, _)| report.removed.contains(id)) {
                    let records = book.remove_rule(id, version, now, &region_of);
                    publish(&records, &metrics, &book, warnings.as_ref()).await;
                }
            }
        }
    }
}

fn start_watch(config: &RulesConfig) -> (Option<RuleWatch>, mpsc::Receiver<()>) {
    let idle = || mpsc::channel(1).1;
    if !config.watch || !Path::new(&config.dir).is_dir() {
        return (None, idle());
    }
    match watch(&config.dir) {
        Ok((watch, rx)) => (Some(watch), rx),
        Err(e) => {
            tracing::warn!(dir = %config.dir.display(), error = %e, "cannot watch the rules directory; changes need a restart");
            (None, idle())
        }
    }
}

fn log_reload(report: &ReloadReport) {
    for id in &report.loaded {
        tracing::info!(rule = %id, "rule loaded");
    }
    for id in &report.removed {
        tracing::info!(rule = %id, reason = "rule_removed", "rule stopped; its open warnings resolve");
    }
    for problem in &report.problems {
        tracing::error!(problem = %problem, "rule file rejected; the previous version keeps running");
    }
}

/// Counts, logs and delivers warning records.
async fn publish(
    records: &[WarningRecord],
    metrics: &Metrics,
    book: &WarningBook,
    sender: Option<&WarningSender>,
) {
    for r in records {
        if let Some(sender) = sender {
            sender.send(r).await;
        }
        metrics
            .warnings
            .with_label_values(&[r.state.as_str(), r.color.as_str()])
            .inc();
        tracing::info!(
            id = %r.id,
            state = r.state.as_str(),
            rule = %r.rule_id,
            enterprise = %r.enterprise_id,
            subject = %r.subject,
            color = r.color.as_str(),
            message = %r.message,
            "warning"
        );
    }
    metrics.warnings_firing.set(book.firing() as i64);
}
