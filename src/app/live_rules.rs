//! The rules engine in a running service. The Kafka ingest loop has it evaluate every tick
//! the engine clock passes, after applying exactly the records up to it, as replay does: the
//! rules evaluate at the same event-time points on the same state whether the input is
//! replayed or arrives live, however fast it arrives. Between records the loop calls
//! `maintain` every few hundred milliseconds, so changed rule files are picked up on a quiet
//! stream too.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::checkpoint::Flushed;
use crate::config::RulesConfig;
use crate::engine::{Chain, ChainTick};
use crate::error::IoError;
use crate::ingest::kafka::ClockHook;
use crate::metrics::Metrics;
use crate::model::EventTime;
use crate::risk::book::RiskSnapshot;
use crate::risk::{RiskStage, RiskTick, RiskView};
use crate::rules::episodes::ActiveWarning;
use crate::rules::watch::{watch, RuleWatch};
use crate::rules::{ReloadReport, RuleDriver, RuleEngine};
use crate::state::StateStore;
use crate::warnings::book::BookSnapshot;
use crate::warnings::delivery::{KeyedSender, WarningSender};
use crate::warnings::view::WarningView;
use crate::warnings::{Transition, WarningBook, WarningRecord};

/// Changes to rule files within this time are reloaded together.
const DEBOUNCE: Duration = Duration::from_millis(300);

/// Where a live engine's warnings go: the book that tracks them, the API's view, and the
/// producer to `vigil.warnings` (none in tests that only look at the view).
pub struct WarningOutputs {
    pub book: WarningBook,
    pub view: Arc<WarningView>,
    pub sender: Option<WarningSender>,
}

/// Where a live engine's risk records go: the stage that computes them, the API's view, and
/// the producer to `vigil.risk` (key = enterprise id).
pub struct RiskOutputs {
    pub stage: RiskStage,
    pub view: Arc<RiskView>,
    pub sender: Option<KeyedSender>,
    /// To `vigil.regions`: county and city indices (key = region or city id).
    pub regions_sender: Option<KeyedSender>,
    /// To the board the instances of a group share counties on (`risk::region_share`).
    pub board_sender: Option<KeyedSender>,
}

/// Where the chain's warning records go besides the book.
struct WarningSinks {
    view: Arc<WarningView>,
    sender: Option<WarningSender>,
}

/// Where the chain's risk records go besides the stage.
struct RiskSinks {
    view: Arc<RiskView>,
    sender: Option<KeyedSender>,
    regions_sender: Option<KeyedSender>,
    board_sender: Option<KeyedSender>,
}

pub struct LiveRules {
    chain: Chain,
    warnings: WarningSinks,
    risk: Option<RiskSinks>,
    metrics: Arc<Metrics>,
    dir: std::path::PathBuf,
    _watch: Option<RuleWatch>,
    changes: mpsc::Receiver<()>,
    /// When a change was first noticed, while waiting out the debounce.
    change_seen: Option<Instant>,
}

impl LiveRules {
    /// Loads the rules (a file that cannot run is logged and counted; the rest run) and
    /// starts watching their directory. A directory that cannot be listed, or that holds no
    /// rule, is an error: rules must never be silently absent.
    pub async fn start(
        config: &RulesConfig,
        store: Arc<StateStore>,
        metrics: Arc<Metrics>,
        warnings: WarningOutputs,
    ) -> Result<Self, IoError> {
        let mut engine = RuleEngine::new(config.clone(), Arc::clone(&metrics));
        let report = engine.reload(&config.dir).await;
        log_reload(&report);
        if !config.dir.as_os_str().is_empty() && engine.rules().next().is_none() {
            let why = report
                .problems
                .first()
                .map_or_else(|| "holds no rule file".to_owned(), |p| p.to_string());
            return Err(IoError::Rules(format!(
                "no rule runs from {} ({why}); set rules.dir = \"\" to run none",
                config.dir.display()
            )));
        }
        let (watch, changes) = start_watch(config);
        let driver = RuleDriver::new(engine, Arc::clone(&store), config.tick, config.quiet_tick);
        let WarningOutputs { book, view, sender } = warnings;
        Ok(LiveRules {
            chain: Chain::new(driver, book, None, store),
            warnings: WarningSinks { view, sender },
            risk: None,
            metrics,
            dir: config.dir.clone(),
            _watch: watch,
            changes,
            change_seen: None,
        })
    }

    /// Computes the risk index after every tick's warnings.
    pub fn with_risk(mut self, risk: RiskOutputs) -> Self {
        let RiskOutputs {
            stage,
            view,
            sender,
            regions_sender,
            board_sender,
        } = risk;
        self.chain.risk = Some(stage);
        self.risk = Some(RiskSinks {
            view,
            sender,
            regions_sender,
            board_sender,
        });
        self
    }

    async fn reload_if_changed(&mut self) {
        while self.changes.try_recv().is_ok() {
            self.change_seen.get_or_insert_with(Instant::now);
        }
        if self.change_seen.is_none_or(|at| at.elapsed() < DEBOUNCE) {
            return;
        }
        self.change_seen = None;
        let versions: Vec<(String, String)> = self
            .chain
            .engine()
            .rules()
            .map(|r| (r.header.id.clone(), r.version.clone()))
            .collect();
        let report = self.chain.driver.engine.reload(&self.dir).await;
        log_reload(&report);
        let now = self.chain.last_tick().unwrap_or_default();
        for (id, version) in versions
            .iter()
            .filter(|(id, _)| report.removed.contains(id))
        {
            let records = self.chain.remove_rule(id, version, now);
            self.publish(&records, now).await;
        }
    }

    /// Counts, logs and delivers warning records, and shows them to the API.
    async fn publish(&mut self, records: &[WarningRecord], now: EventTime) {
        for r in records {
            if let Some(sender) = &self.warnings.sender {
                sender.send(r).await;
            }
            self.count(r);
            tracing::info!(
                id = %r.id,
                state = r.state.as_str(),
                rule = %r.rule_id,
                enterprise = %r.enterprise_id,
                subject = %r.subject,
                color = r.color.as_str(),
                suppressed = r.suppressed.as_ref().map(|s| s.by.as_str()),
                message = %r.message,
                "warning"
            );
        }
        let refused = self.chain.book.take_refused();
        self.metrics.warnings_refused.inc_by(refused);
        let book = &self.chain.book;
        self.metrics.warnings_tracked.set(book.tracked() as i64);
        self.warnings.view.publish(records);
        self.warnings.view.set_kpis(book.kpis(now));
        self.metrics.warnings_firing.set(book.firing() as i64);
        self.metrics
            .warnings_chattering
            .set(book.chattering() as i64);
        self.metrics.warning_floods.set(book.floods_active() as i64);
    }

    fn count(&self, r: &WarningRecord) {
        self.metrics
            .warnings
            .with_label_values(&[r.state.as_str(), r.color.as_str()])
            .inc();
        if let (Some(s), Transition::Firing) = (&r.suppressed, r.state) {
            self.metrics
                .warnings_suppressed
                .with_label_values(&[s.by.as_str()])
                .inc();
        }
    }
}

/// The engine's part of a partition checkpoint.
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct EngineSnapshot {
    warnings: BookSnapshot,
    #[serde(default)]
    risk: Option<RiskSnapshot>,
    /// The rules' last tick: a restored engine evaluates the boundaries after it, as the
    /// engine that wrote the checkpoint would have.
    #[serde(default)]
    last_tick: Option<EventTime>,
    /// The rules' open episodes (`active_warnings`, which R7 and R16 read).
    #[serde(default)]
    episodes: Vec<ActiveWarning>,
    /// The records `/api/warnings` shows of the open warnings.
    #[serde(default)]
    view: Vec<Vec<WarningRecord>>,
}

#[async_trait]
impl ClockHook for LiveRules {
    fn snapshot(&self, enterprises: &BTreeSet<String>) -> Vec<u8> {
        let snapshot = EngineSnapshot {
            warnings: self.chain.book.snapshot(enterprises),
            risk: self
                .chain
                .risk
                .as_ref()
                .map(|stage| stage.book.checkpoint(enterprises)),
            last_tick: self.chain.last_tick(),
            episodes: self.chain.engine().episodes().of(enterprises),
            view: self.warnings.view.open_of(enterprises),
        };
        rmp_serde::to_vec_named(&snapshot).unwrap_or_else(|error| {
            tracing::error!(%error, "the engine's checkpoint part cannot be encoded");
            Vec::new()
        })
    }

    fn restore(&mut self, engine: &[u8]) {
        if engine.is_empty() {
            return;
        }
        match rmp_serde::from_slice::<EngineSnapshot>(engine) {
            Ok(snapshot) => {
                self.chain.book.restore(snapshot.warnings);
                let driver = &mut self.chain.driver;
                driver.engine.episodes_mut().restore(snapshot.episodes);
                self.warnings.view.restore(snapshot.view);
                if let Some(tick) = snapshot.last_tick {
                    driver.resume_after(tick);
                }
                if let (Some(stage), Some(restored)) = (self.chain.risk.as_mut(), snapshot.risk) {
                    stage.book.restore(restored);
                }
            }
            Err(error) => {
                tracing::error!(%error, "the engine's checkpoint part cannot be read; its warnings start over")
            }
        }
    }

    fn owned(&mut self, partitions: &BTreeSet<i32>) {
        if let Some(stage) = self.chain.risk.as_mut() {
            stage.set_owned(partitions);
        }
    }

    fn forget(&mut self, enterprises: &BTreeSet<String>) {
        self.chain.book.forget(enterprises);
        self.chain.driver.engine.episodes_mut().forget(enterprises);
        self.warnings.view.forget(enterprises);
        if let Some(stage) = self.chain.risk.as_mut() {
            stage.book.forget(enterprises);
        }
    }

    async fn flush(&mut self) -> Vec<Flushed> {
        let mut flushed = Vec::new();
        if let Some(sender) = &self.warnings.sender {
            flushed.push(sender.flush().await);
        }
        if let Some(risk) = &self.risk {
            let senders = [&risk.sender, &risk.regions_sender, &risk.board_sender];
            for sender in senders.into_iter().flatten() {
                flushed.push(sender.flush().await);
            }
        }
        flushed
    }

    async fn maintain(&mut self) {
        self.reload_if_changed().await;
    }

    fn due(&self, now: EventTime, next_record: Option<EventTime>) -> Option<EventTime> {
        self.chain.due(now, next_record)
    }

    fn last_tick(&self) -> Option<EventTime> {
        self.chain.last_tick()
    }

    fn start_at(&mut self, origin: EventTime) {
        self.chain.start_at(origin);
    }

    async fn tick(&mut self, at: EventTime) {
        let ChainTick {
            report,
            warnings,
            risk,
        } = self.chain.tick(at).await;
        self.publish(&warnings, report.now).await;
        if let Some(tick) = risk {
            self.publish_risk(&tick).await;
        }
    }
}

impl LiveRules {
    async fn publish_risk(&self, tick: &RiskTick) {
        let (Some(risk), Some(stage)) = (&self.risk, &self.chain.risk) else {
            return;
        };
        if let Some(sender) = &risk.sender {
            for record in &tick.records {
                let payload = serde_json::to_string(record).expect("a risk record serialises");
                sender.send(record.enterprise_id.clone(), payload).await;
            }
        }
        publish_regions(risk, tick).await;
        self.metrics.risk_records.inc_by(tick.records.len() as u64);
        risk.view.publish(stage, tick);
        if tick.records.is_empty() && tick.regions.is_none() {
            return;
        }
        for (color, n) in risk.view.color_counts_all() {
            self.metrics
                .enterprises_by_color
                .with_label_values(&[color])
                .set(n as i64);
        }
        if let Some((counties, _)) = &tick.regions {
            for color in crate::rules::Color::ALL {
                let n = counties.iter().filter(|c| c.color == color).count();
                self.metrics
                    .regions_by_color
                    .with_label_values(&[color.as_str()])
                    .set(n as i64);
            }
        }
    }
}

/// The county and city indices this instance answers for, to `vigil.regions`; shared with a
/// group, its parts and owned counties to the board too.
async fn publish_regions(risk: &RiskSinks, tick: &RiskTick) {
    let (counties, cities) = match (&tick.shared, &tick.regions) {
        (Some(shared), _) => (&shared.counties, &shared.cities),
        (None, Some((counties, cities))) => (counties, cities),
        (None, None) => return,
    };
    if let Some(sender) = &risk.regions_sender {
        for county in counties {
            let payload = serde_json::to_string(county).expect("an index serialises");
            sender.send(county.region_id.clone(), payload).await;
        }
        for city in cities {
            let payload = serde_json::to_string(city).expect("an index serialises");
            sender.send(city.city_id.clone(), payload).await;
        }
    }
    if let (Some(sender), Some(shared)) = (&risk.board_sender, &tick.shared) {
        for record in &shared.board {
            let payload = serde_json::to_string(record).expect("a board record serialises");
            sender.send(record.key(), payload).await;
        }
        for key in &shared.retired {
            sender.send(key.clone(), String::new()).await;
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
        tracing::info!(rule = %id, reason = "rule_removed", "rule stopped; its warnings resolve");
    }
    for problem in &report.problems {
        tracing::error!(problem = %problem, "rule file rejected; the previous version keeps running");
    }
}
