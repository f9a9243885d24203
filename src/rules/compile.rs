//! Turning a rule file into a runnable rule: header, sandbox, logical and physical plan,
//! result contract. Done once per file version; ticks only re-execute the physical plan.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::execution::memory_pool::GreedyMemoryPool;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{SQLOptions, SessionContext};
use datafusion::sql::parser::Statement;
use sha2::{Digest, Sha256};

use super::header::{self, RuleHeader};
use super::hit::check_contract;
use super::{sandbox, RuleFileError};

/// A rule ready to run.
pub struct CompiledRule {
    pub header: RuleHeader,
    pub path: PathBuf,
    /// Content hash of the file: changes whenever the file does.
    pub version: String,
    pub plan: Arc<dyn ExecutionPlan>,
    /// Execution context with this rule's own memory pool.
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

/// Compiles one rule file's text against the tables registered in `ctx`.
pub async fn compile(
    ctx: &SessionContext,
    path: &Path,
    text: &str,
    memory_bytes: usize,
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
    let runtime = rule_runtime(memory_bytes).map_err(at_body)?;
    let task = Arc::new(TaskContext::from(&state).with_runtime(runtime));
    Ok(CompiledRule {
        header,
        path: path.to_owned(),
        version: content_version(text),
        plan,
        task,
    })
}

fn rule_runtime(memory_bytes: usize) -> Result<Arc<RuntimeEnv>, String> {
    RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(GreedyMemoryPool::new(memory_bytes)))
        .build_arc()
        .map_err(|e| e.to_string())
}

/// DataFusion errors can carry a backtrace or a long context; the first line says it.
fn first_line_of(message: &str) -> String {
    message.lines().next().unwrap_or(message).to_owned()
}
