//! The rules engine: one SessionContext with the rule tables registered once, the compiled
//! rules, and the tick that refreshes the tables and re-executes every due rule's plan.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::execution::memory_pool::GreedyMemoryPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::physical_optimizer::optimizer::PhysicalOptimizer;
use datafusion::physical_plan::{collect, execution_plan::reset_plan_states};
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::config::RulesConfig;
use crate::metrics::Metrics;
use crate::model::EventTime;
use crate::state::{PartitionState, StateStore};

use super::compile::{compile, content_version, CompiledRule, RuleBounds};
use super::delta::{settle, Carried, Scope, Until};
use super::episodes::{ActiveWarning, Episodes};
use super::fixed_intervals::FixedIntervals;
use super::header::Mode;
use super::hit::{hits_of, RuleHit};
use super::loader::{read_all, RuleProblem};
use super::locality::Locality;
use super::tables::OpenWarning;
use super::tables::{RefreshStats, RuleTables, ShardKey, SmallBuildSide, World};
use super::RuleFileError;

/// One rule's evaluation in a tick.
#[derive(Clone, Debug)]
pub struct RuleRun {
    pub rule_id: String,
    pub hits: usize,
    pub elapsed: Duration,
    pub error: Option<RuleFailure>,
    /// The shards a local rule was evaluated over (`None`: everything).
    pub shards: Option<usize>,
}

/// Why an evaluation failed.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleFailure {
    /// `timeout`, `execution`, `contract` or `overflow` (the metrics' `kind` label).
    pub kind: &'static str,
    pub message: String,
}

/// What a tick did.
#[derive(Debug, Default)]
pub struct TickReport {
    pub now: EventTime,
    /// Hits of `alert` rules, sorted by rule, enterprise, subject.
    pub hits: Vec<RuleHit>,
    /// Hits of `shadow` rules: counted, never warned.
    pub shadow_hits: Vec<RuleHit>,
    pub runs: Vec<RuleRun>,
    /// Episodes this tick opened (a rule started hitting a subject).
    pub opened: Vec<ActiveWarning>,
    pub tables: RefreshStats,
    pub execute: Duration,
}

/// What a (re)load changed.
#[derive(Debug, Default)]
pub struct ReloadReport {
    pub loaded: Vec<String>,
    pub unchanged: usize,
    pub removed: Vec<String>,
    pub problems: Vec<RuleProblem>,
}

pub struct RuleEngine {
    ctx: SessionContext,
    tables: RuleTables,
    rules: BTreeMap<String, Arc<CompiledRule>>,
    /// The id each file defines, and that file's content version.
    files: BTreeMap<PathBuf, (String, String)>,
    next_due: HashMap<String, EventTime>,
    /// What each local rule found per shard at its last evaluation.
    carried: HashMap<String, Carried>,
    episodes: Episodes,
    /// The published warnings the warnings stage reported after the last tick.
    open_warnings: Vec<OpenWarning>,
    bounds: RuleBounds,
    config: RulesConfig,
    metrics: Arc<Metrics>,
}

impl RuleEngine {
    pub fn new(config: RulesConfig, metrics: Arc<Metrics>) -> Self {
        // One partition per scan: rules run side by side, one per core, rather than each
        // spreading small tables over every core.
        let session = SessionConfig::new()
            .with_target_partitions(1)
            .with_information_schema(false);
        let ctx = SessionContext::new_with_state(session_state(session));
        let tables = RuleTables::new(config.table_shards);
        tables
            .register(&ctx)
            .expect("rule tables have distinct names");
        // One pool for all rules: the sum of their memory is what a pod has to hold.
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(GreedyMemoryPool::new(config.memory_limit)))
            .build_arc()
            .expect("a runtime with a memory pool builds");
        let bounds = RuleBounds {
            runtime,
            max_hits: config.max_hits_per_tick,
        };
        RuleEngine {
            bounds,
            ctx,
            tables,
            rules: BTreeMap::new(),
            files: BTreeMap::new(),
            next_due: HashMap::new(),
            carried: HashMap::new(),
            episodes: Episodes::default(),
            open_warnings: Vec::new(),
            config,
            metrics,
        }
    }

    pub fn rules(&self) -> impl Iterator<Item = &CompiledRule> {
        self.rules.values().map(|r| r.as_ref())
    }

    pub fn rule(&self, id: &str) -> Option<&CompiledRule> {
        self.rules.get(id).map(|r| r.as_ref())
    }

    /// Compiles one rule file's text (does not install it).
    pub async fn compile(&self, path: &Path, text: &str) -> Result<CompiledRule, RuleFileError> {
        let rule = compile(&self.ctx, path, text, &self.bounds).await;
        if rule.is_ok() {
            self.metrics.rules.plans_built.inc();
        }
        rule
    }

    /// Brings the running rules in line with the files in `dir`: new and changed files are
    /// compiled and swapped in; a file that fails keeps its previous version running;
    /// rules whose file is gone stop, and their open episodes close.
    pub async fn reload(&mut self, dir: &Path) -> ReloadReport {
        let mut report = ReloadReport::default();
        let files = match read_all(dir) {
            Ok(files) => files,
            Err(e) => {
                report.problems.push(RuleProblem {
                    path: dir.to_owned(),
                    error: RuleFileError {
                        line: 1,
                        message: format!("cannot list rules: {e}"),
                    },
                });
                self.metrics.rules.reload_failures.inc();
                return report;
            }
        };
        let present: Vec<PathBuf> = files.iter().map(|(p, _)| p.clone()).collect();
        for (path, text) in files {
            match text {
                Ok(text) => self.load_file(&path, &text, &mut report).await,
                Err(problem) => report.problems.push(problem),
            }
        }
        let gone: Vec<PathBuf> = self
            .files
            .keys()
            .filter(|p| !present.contains(p))
            .cloned()
            .collect();
        for path in gone {
            if let Some((id, _)) = self.files.remove(&path) {
                self.remove_rule(&id);
                report.removed.push(id);
            }
        }
        self.metrics
            .rules
            .reload_failures
            .inc_by(report.problems.len() as u64);
        self.metrics
            .rules
            .reloads
            .inc_by(report.loaded.len() as u64);
        self.metrics.rules.loaded.set(self.rules.len() as i64);
        report
    }

    async fn load_file(&mut self, path: &Path, text: &str, report: &mut ReloadReport) {
        let version = content_version(text);
        if self.files.get(path).is_some_and(|(_, v)| *v == version) {
            report.unchanged += 1;
            return;
        }
        let problem = |error| RuleProblem {
            path: path.to_owned(),
            error,
        };
        let rule = match self.compile(path, text).await {
            Ok(rule) => rule,
            Err(error) => return report.problems.push(problem(error)),
        };
        let id = rule.header.id.clone();
        if let Some(other) = self.rules.get(&id).filter(|r| r.path != path) {
            let message = format!("id `{id}` is already defined by {}", other.path.display());
            return report
                .problems
                .push(problem(RuleFileError { line: 1, message }));
        }
        // The file now defines another id: the old one stops.
        if let Some((old, _)) = self.files.get(path).filter(|(old, _)| *old != id).cloned() {
            self.remove_rule(&old);
            report.removed.push(old);
        }
        self.files.insert(path.to_owned(), (id.clone(), version));
        self.rules.insert(id.clone(), Arc::new(rule));
        self.next_due.remove(&id);
        report.loaded.push(id);
    }

    fn remove_rule(&mut self, id: &str) {
        self.rules.remove(id);
        self.carried.remove(id);
        self.next_due.remove(id);
        self.episodes.close_rule(id);
        self.forget_series(id);
    }

    /// Drops a removed rule's metric series, so renamed rules do not pile up label values.
    fn forget_series(&self, id: &str) {
        let m = &self.metrics.rules;
        for kind in ["timeout", "execution", "contract", "overflow"] {
            let _ = m.errors.remove_label_values(&[id, kind]);
        }
        let _ = m.evaluations.remove_label_values(&[id]);
        let _ = m.hits.remove_label_values(&[id]);
        let _ = m.eval_seconds.remove_label_values(&[id]);
    }

    /// Refreshes the tables to the state at event time `now` and runs every due rule.
    pub async fn tick(&mut self, store: &StateStore, now: EventTime) -> TickReport {
        let active = self.episodes.active();
        let world = World {
            store,
            now,
            utc_offset_minutes: self.config.utc_offset_minutes,
            active_warnings: &active,
            open_warnings: &self.open_warnings,
        };
        let due: Vec<Arc<CompiledRule>> = self
            .rules
            .values()
            .filter(|r| self.next_due.get(&r.header.id).is_none_or(|t| now >= *t))
            .cloned()
            .collect();
        // Only what the due rules read is built: the tables' cache notices what changed at
        // the next tick that reads the rest (none, when no rule is due).
        let reads: HashSet<&str> = due
            .iter()
            .flat_map(|r| r.reads.iter().map(String::as_str))
            .collect();
        let tables = if reads.is_empty() {
            RefreshStats::default()
        } else {
            self.tables.refresh(&world, |name| reads.contains(name))
        };
        let started = Instant::now();
        let scopes: Vec<Scope> = due.iter().map(|rule| self.scope(rule, now)).collect();
        let results = self.execute_all(&due, &scopes).await;
        let mut report = TickReport {
            now,
            tables,
            ..TickReport::default()
        };
        let partitions = store.partitions();
        for ((rule, scope), (elapsed, rows)) in due.iter().zip(scopes).zip(results) {
            let shards = scope.shards();
            let hits = rows.and_then(|rows| self.resolve(rule, scope, rows, &partitions, now));
            self.absorb(rule, now, (elapsed, hits), shards, &mut report);
        }
        report.execute = started.elapsed();
        self.observe(&report);
        report
    }

    /// How a due rule runs: whole, or (a local rule) over the shards whose rows changed
    /// or whose time came since it last ran.
    fn scope(&self, rule: &CompiledRule, now: EventTime) -> Scope {
        let Locality::Local(clock) = &rule.locality else {
            return Scope::Whole;
        };
        let stamps = self.tables.stamps(&rule.reads, &rule.reads_volatile);
        let period = clock.period(now, self.config.utc_offset_minutes);
        let carried = self.carried.get(&rule.header.id);
        match Carried::for_version(carried, &rule.version) {
            None => Scope::Fresh(stamps),
            Some(carried) => Scope::Delta {
                dirty: Arc::new(carried.dirty(&stamps, now, period, clock.values)),
                stamps,
            },
        }
    }

    /// Until when a local rule's evaluation at `now` of `shards` holds.
    fn until<'k>(
        &self,
        rule: &CompiledRule,
        shards: impl Iterator<Item = &'k ShardKey>,
        now: EventTime,
    ) -> Until {
        let Locality::Local(clock) = &rule.locality else {
            return Until::default();
        };
        Until {
            period: clock.period(now, self.config.utc_offset_minutes),
            due: self.tables.next_deadlines(shards, &clock.deadlines, now),
        }
    }

    /// Runs the rules side by side (each query is its own task), each within its timeout
    /// and over its scope; a local rule with no shard changed does not run.
    async fn execute_all(&self, rules: &[Arc<CompiledRule>], scopes: &[Scope]) -> Vec<Execution> {
        let (timeout, max_hits) = (self.config.rule_timeout, self.config.max_hits_per_tick);
        futures::future::join_all(rules.iter().zip(scopes).map(|(rule, scope)| {
            let only = scope.only();
            if let Some(filter) = &rule.only {
                filter.set(only.clone());
            }
            let idle = only.is_some_and(|dirty| dirty.is_empty());
            let rule = Arc::clone(rule);
            async move {
                match idle {
                    true => (Duration::ZERO, Ok(Vec::new())),
                    false => execute(rule, timeout, max_hits).await,
                }
            }
        }))
        .await
    }

    /// A rule's hits from the rows its evaluation returned: merged with the carried hits of
    /// the shards it did not read, bounded, one per subject.
    fn resolve(
        &mut self,
        rule: &CompiledRule,
        scope: Scope,
        rows: Vec<RuleHit>,
        partitions: &[Arc<PartitionState>],
        now: EventTime,
    ) -> Result<Vec<RuleHit>, (String, &'static str)> {
        let id = &rule.header.id;
        let carried = match scope {
            Scope::Whole => {
                self.check_bound(rows.len())?;
                return Ok(settle(rows));
            }
            Scope::Fresh(stamps) => {
                let rows = self.by_shard(rows, partitions, None)?;
                let until = self.until(rule, stamps.keys(), now);
                Carried::from_rows(&rule.version, stamps, rows, until)
            }
            Scope::Delta { dirty, stamps } => {
                let rows = self.by_shard(rows, partitions, Some(&dirty))?;
                let until = self.until(rule, dirty.iter(), now);
                let mut carried = self.carried.remove(id).expect("a delta has a carry");
                carried.update(stamps, &dirty, rows, until);
                carried
            }
        };
        let (rows, hits) = (carried.rows(), carried.hits());
        self.carried.insert(id.clone(), carried);
        self.check_bound(rows)?;
        Ok(hits)
    }

    /// Each row with the shard it came from; a row from outside the shards read means the
    /// rule was not local after all, which is a bug the evaluation reports.
    fn by_shard(
        &self,
        rows: Vec<RuleHit>,
        partitions: &[Arc<PartitionState>],
        read: Option<&HashSet<ShardKey>>,
    ) -> Result<Vec<(ShardKey, RuleHit)>, (String, &'static str)> {
        rows.into_iter()
            .map(
                |hit| match self.tables.locate(partitions, &hit.enterprise_id) {
                    Some(key) if read.is_none_or(|read| read.contains(&key)) => Ok((key, hit)),
                    _ => Err((
                        format!(
                            "a hit for {} outside the shards evaluated",
                            hit.enterprise_id
                        ),
                        "execution",
                    )),
                },
            )
            .collect()
    }

    fn check_bound(&self, rows: usize) -> Result<(), (String, &'static str)> {
        let max_hits = self.config.max_hits_per_tick;
        match rows > max_hits {
            true => Err(overflow(max_hits)),
            false => Ok(()),
        }
    }

    fn absorb(
        &mut self,
        rule: &CompiledRule,
        now: EventTime,
        (elapsed, result): Execution,
        shards: Option<usize>,
        report: &mut TickReport,
    ) {
        let id = &rule.header.id;
        if let Some(every) = rule.header.every {
            self.next_due
                .insert(id.clone(), now.saturating_add_ms(every.as_millis() as i64));
        }
        let m = &self.metrics.rules;
        m.evaluations.with_label_values(&[id]).inc();
        m.eval_seconds
            .with_label_values(&[id])
            .observe(elapsed.as_secs_f64());
        let (hits, error) = match result {
            Ok(hits) => (hits, None),
            Err((message, kind)) => {
                // What it carried may be behind the tables now: the next run is whole.
                self.carried.remove(id);
                m.errors.with_label_values(&[id, kind]).inc();
                m.failures.with_label_values(&[kind]).inc();
                tracing::warn!(rule = %id, kind, error = %message, "rule evaluation failed");
                (Vec::new(), Some(RuleFailure { kind, message }))
            }
        };
        m.hits.with_label_values(&[id]).inc_by(hits.len() as u64);
        // A failed evaluation says nothing about the condition: keep the episodes open.
        if error.is_none() {
            let changes = self.episodes.update(id, &hits, now);
            if rule.header.mode == Mode::Alert {
                report.opened.extend(changes.opened);
            }
        }
        report.runs.push(RuleRun {
            rule_id: id.clone(),
            hits: hits.len(),
            elapsed,
            error,
            shards,
        });
        match rule.header.mode {
            Mode::Alert => report.hits.extend(hits),
            Mode::Shadow => report.shadow_hits.extend(hits),
        }
    }

    fn observe(&self, report: &TickReport) {
        let m = &self.metrics.rules;
        m.ticks.inc();
        m.tick_seconds
            .with_label_values(&["tables"])
            .observe(report.tables.elapsed.as_secs_f64());
        m.tick_seconds
            .with_label_values(&["execute"])
            .observe(report.execute.as_secs_f64());
    }

    /// The warnings published and not yet resolved, which the next tick's `open_warnings`
    /// table shows (the warnings stage keeps them; the rules read them back).
    pub fn set_open_warnings(&mut self, open: Vec<OpenWarning>) {
        self.open_warnings = open;
    }

    /// The episodes open now, as `active_warnings` shows them.
    pub fn active_warnings(&self) -> Vec<ActiveWarning> {
        self.episodes.active()
    }

    /// The rules' open episodes, for checkpoints and rebalances (`Episodes::of`, `restore`,
    /// `forget`).
    pub fn episodes_mut(&mut self) -> &mut Episodes {
        &mut self.episodes
    }

    pub fn episodes(&self) -> &Episodes {
        &self.episodes
    }

    /// The current contents of a rule table (for tests and inspection).
    pub fn table(&self, name: &str) -> Option<Vec<datafusion::arrow::array::RecordBatch>> {
        self.tables.contents(name)
    }

    /// Runs one rule over the current tables and returns its physical plan annotated with
    /// what each operator did (rows, time): the rule's `EXPLAIN ANALYZE`.
    pub async fn explain_analyze(&self, id: &str) -> Option<String> {
        let rule = self.rules.get(id)?;
        if let Some(filter) = &rule.only {
            filter.set(None);
        }
        let plan = reset_plan_states(Arc::clone(&rule.plan)).ok()?;
        collect(Arc::clone(&plan), Arc::clone(&rule.task))
            .await
            .ok()?;
        let shown = datafusion::physical_plan::display::DisplayableExecutionPlan::with_metrics(
            plan.as_ref(),
        )
        .indent(true)
        .to_string();
        Some(shown)
    }

    /// Rebuilds every table from scratch at the next tick (benchmarks: the full cost).
    pub fn invalidate_tables(&mut self) {
        self.tables.invalidate();
        self.carried.clear();
    }
}

/// DataFusion's defaults, with vigil's two rewrites: fixed intervals as durations, and hash
/// joins built from their smaller side (right after DataFusion picks the sides).
fn session_state(config: SessionConfig) -> SessionState {
    let mut physical = PhysicalOptimizer::new().rules;
    let after_join_selection = physical
        .iter()
        .position(|rule| rule.name() == "join_selection")
        .map_or(physical.len(), |i| i + 1);
    physical.insert(after_join_selection, Arc::new(SmallBuildSide));
    SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .with_optimizer_rule(Arc::new(FixedIntervals))
        .with_physical_optimizer_rules(physical)
        .build()
}

/// A rule hitting everything says more about the rule than about the enterprises: its
/// evaluation fails and keeps the episodes as they are, as any failed evaluation does.
fn overflow(max_hits: usize) -> (String, &'static str) {
    let message = format!("more than {max_hits} hits in one tick (rules.max_hits_per_tick)");
    (message, "overflow")
}

/// How long a rule ran, and its rows as hits (one per row, not yet settled).
type Execution = (Duration, Result<Vec<RuleHit>, (String, &'static str)>);

/// Runs one rule within `timeout`. The query runs as its own task: a query that does not
/// yield cannot hold the timer up, and on timeout the task is aborted (DataFusion's
/// operators yield cooperatively, so the abort takes effect within a batch).
async fn execute(rule: Arc<CompiledRule>, timeout: Duration, max_hits: usize) -> Execution {
    let started = Instant::now();
    let query = {
        let rule = Arc::clone(&rule);
        tokio::spawn(async move {
            let plan = reset_plan_states(Arc::clone(&rule.plan)).map_err(|e| e.to_string())?;
            collect(plan, Arc::clone(&rule.task))
                .await
                .map_err(|e| e.to_string())
        })
    };
    let abort = query.abort_handle();
    let batches = match tokio::time::timeout(timeout, query).await {
        Err(_) => {
            abort.abort();
            let message = format!("timed out after {timeout:?}");
            return (started.elapsed(), Err((message, "timeout")));
        }
        Ok(Err(join)) => {
            let message = format!("evaluation failed: {join}");
            return (started.elapsed(), Err((message, "execution")));
        }
        Ok(Ok(Err(message))) => return (started.elapsed(), Err((message, "execution"))),
        Ok(Ok(Ok(batches))) => batches,
    };
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    if rows > max_hits {
        return (started.elapsed(), Err(overflow(max_hits)));
    }
    let mut hits = Vec::new();
    for batch in &batches {
        let violations = hits_of(&rule.header.id, rule.header.severity, batch, &mut hits);
        if let Some(v) = violations.first() {
            let message = format!(
                "{} rows break the result contract; first: {v}",
                violations.len()
            );
            return (started.elapsed(), Err((message, "contract")));
        }
    }
    (started.elapsed(), Ok(hits))
}
