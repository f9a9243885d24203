//! Turning a rule file into a runnable rule: header, sandbox, logical and physical plan,
//! result contract. Done once per file version; ticks only re-execute the physical plan.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{LogicalPlan, TableScan};
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::limit::GlobalLimitExec;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};
use datafusion::prelude::{SQLOptions, SessionContext};
use datafusion::sql::parser::Statement;
use sha2::{Digest, Sha256};

use super::header::{self, RuleHeader};
use super::hit::check_contract;
use super::locality::{self, Locality};
use super::tables::{restrict, RuleTables, ShardFilter};
use super::{sandbox, RuleFileError};

/// A rule ready to run.
pub struct CompiledRule {
    pub header: RuleHeader,
    pub path: PathBuf,
    /// Content hash of the file: changes whenever the file does.
    pub version: String,
    pub plan: Arc<dyn ExecutionPlan>,
    /// The tables the rule reads (subqueries included): a tick builds only what its due
    /// rules read.
    pub reads: BTreeSet<String>,
    /// The tables of which it reads a volatile column (`tables::Volatile`): its hits can
    /// change when only those change.
    pub reads_volatile: BTreeSet<String>,
    /// Whether it can run over the changed shards only (`locality`).
    pub locality: Locality,
    /// The shards its scans read, for a local rule.
    pub only: Option<Arc<ShardFilter>>,
    /// Execution context, on the memory pool all rules share.
    pub task: Arc<TaskContext>,
}

impl std::fmt::Debug for CompiledRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledRule")
            .field("id", &self.header.id)
            .field("path", &self.path)
            .field("version", &self.version)
            .finish()
    }
}

pub fn content_version(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// What a rule runs with besides its tables.
pub struct RuleBounds {
    /// The memory pool every rule's execution draws on.
    pub runtime: Arc<RuntimeEnv>,
    /// Rows one evaluation may return; the plan stops after one more (an overflow).
    pub max_hits: usize,
}

/// Compiles one rule file's text against the tables registered in `ctx`.
pub async fn compile(
    ctx: &SessionContext,
    path: &Path,
    text: &str,
    bounds: &RuleBounds,
) -> Result<CompiledRule, RuleFileError> {
    let header = header::parse(text)?;
    let query = sandbox::check(text)?;
    let at_body = |message: String| RuleFileError {
        line: header.body_line,
        message,
    };
    let state = ctx.state();
    let logical = state
        .statement_to_plan(Statement::Statement(Box::new(query)))
        .await
        .map_err(|e| at_body(first_line_of(&e.to_string())))?;
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
        .verify_plan(&logical)
        .map_err(|e| at_body(e.to_string()))?;
    let plan = state
        .create_physical_plan(&logical)
        .await
        .map_err(|e| at_body(first_line_of(&e.to_string())))?;
    check_contract(&plan.schema()).map_err(at_body)?;
    let reads = tables_read(&logical).map_err(|e| at_body(e.to_string()))?;
    let optimised = state
        .optimize(&logical)
        .map_err(|e| at_body(first_line_of(&e.to_string())))?;
    let reads_volatile = volatile_reads(&optimised).map_err(|e| at_body(e.to_string()))?;
    let locality = locality::of(&optimised, &RuleTables::is_per_enterprise);
    let only = locality.is_local().then(Arc::<ShardFilter>::default);
    let plan = match &only {
        Some(filter) => restrict(plan, filter).map_err(|e| at_body(e.to_string()))?,
        None => plan,
    };
    let plan = limited(plan, bounds.max_hits);
    let task = Arc::new(TaskContext::from(&state).with_runtime(Arc::clone(&bounds.runtime)));
    Ok(CompiledRule {
        header,
        path: path.to_owned(),
        version: content_version(text),
        plan,
        reads,
        reads_volatile,
        locality,
        only,
        task,
    })
}

/// The tables of which an optimised plan (its scans projected to the columns it uses)
/// reads a volatile column.
fn volatile_reads(plan: &LogicalPlan) -> datafusion::common::Result<BTreeSet<String>> {
    scanned(plan, |scan| {
        let columns = scan
            .projected_schema
            .fields()
            .iter()
            .map(|f| f.name().as_str());
        RuleTables::reads_volatile(scan.table_name.table(), columns)
    })
}

/// The names of the tables a plan scans, in its subqueries too.
fn tables_read(plan: &LogicalPlan) -> datafusion::common::Result<BTreeSet<String>> {
    scanned(plan, |_| true)
}

/// The names of the tables whose scans `keep` selects, in subqueries too.
fn scanned(
    plan: &LogicalPlan,
    keep: impl Fn(&TableScan) -> bool,
) -> datafusion::common::Result<BTreeSet<String>> {
    let mut tables = BTreeSet::new();
    plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            if keep(scan) {
                tables.insert(scan.table_name.table().to_owned());
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(tables)
}

/// The plan, stopped after `max_hits + 1` rows: a rule matching everything (a cross join of
/// the largest tables) cannot fill memory with its result, which no pool accounts for.
fn limited(plan: Arc<dyn ExecutionPlan>, max_hits: usize) -> Arc<dyn ExecutionPlan> {
    let single: Arc<dyn ExecutionPlan> = if plan.output_partitioning().partition_count() > 1 {
        Arc::new(CoalescePartitionsExec::new(plan))
    } else {
        plan
    };
    Arc::new(GlobalLimitExec::new(
        single,
        0,
        Some(max_hits.saturating_add(1)),
    ))
}

/// DataFusion errors can carry a backtrace or a long context; the first line says it.
fn first_line_of(message: &str) -> String {
    message.lines().next().unwrap_or(message).to_owned()
}
