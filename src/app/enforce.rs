//! `vigil enforce`: the inspection plan of one county for one day, from the running service's
//! snapshot (`--api`) or a snapshot file (`vigil replay --snapshot-out`), written as CSV,
//! Parquet or JSON.

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::config::Config;
use crate::enforce::output::{write_plan, PlanOutputError};
use crate::enforce::plan::{plan, PlanRules};
use crate::enforce::request::{checked, ParamError};
use crate::enforce::task::Plan;
use crate::risk::snapshot::Snapshot;

pub struct EnforceOptions {
    pub region: String,
    pub date: NaiveDate,
    pub capacity: u64,
    pub teams: u64,
    /// `None`: the keyed default (`enforce::request::default_seed`).
    pub seed: Option<u64>,
    pub source: SnapshotSource,
    pub out: Option<PathBuf>,
}

pub enum SnapshotSource {
    /// Base URL of a running vigil (`http://127.0.0.1:8080`).
    Api(String),
    File(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum EnforceError {
    #[error("reading the snapshot from {url}: {message}")]
    Api { url: String, message: String },
    #[error("reading {path}: {message}")]
    File { path: String, message: String },
    #[error(transparent)]
    Output(#[from] PlanOutputError),
    #[error("--{0}")]
    Param(#[from] ParamError),
}

pub async fn run(config: &Config, options: &EnforceOptions) -> Result<Plan, EnforceError> {
    let request = checked(
        &options.region,
        options.date,
        options.capacity,
        options.teams,
        options.seed,
        &config.enforce.seed_key(),
    )?;
    let snapshot = load(&options.source, &config.api.read_token).await?;
    let made = plan(&snapshot, &request, &rules(config));
    tracing::info!(
        region = %made.region_id,
        date = %made.date,
        seed = made.seed,
        tasks = made.tasks.len(),
        deficits = made.deficits.len(),
        "inspection plan made"
    );
    if let Some(out) = &options.out {
        write_plan(&made, out)?;
    }
    Ok(made)
}

/// The plan settings of a config.
pub fn rules(config: &Config) -> PlanRules<'_> {
    PlanRules {
        enforce: &config.enforce,
        quotas: &config.risk.region,
        utc_offset_minutes: config.rules.utc_offset_minutes,
    }
}

/// The snapshot, from a file or a running vigil (with `api.read_token` as the bearer token when
/// set: the same config locks the service and opens it to its own CLI).
async fn load(source: &SnapshotSource, token: &str) -> Result<Snapshot, EnforceError> {
    match source {
        SnapshotSource::Api(base) => {
            let url = format!("{}/api/enforcement/snapshot", base.trim_end_matches('/'));
            let failed = |e: reqwest::Error| EnforceError::Api {
                url: url.clone(),
                message: e.to_string(),
            };
            let mut request = reqwest::Client::new().get(&url);
            if !token.is_empty() {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.map_err(failed)?;
            let response = response.error_for_status().map_err(failed)?;
            response.json().await.map_err(failed)
        }
        SnapshotSource::File(path) => {
            let failed = |message: String| EnforceError::File {
                path: path.display().to_string(),
                message,
            };
            let text = std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
            serde_json::from_str(&text).map_err(|e| failed(e.to_string()))
        }
    }
}

/// One line per task and per deficit, for the terminal.
pub fn describe(plan: &Plan) -> String {
    let mut text = format!(
        "plan {} {} (seed {}): {} tasks for capacity {}{}\n",
        plan.region_id,
        plan.date,
        plan.seed,
        plan.tasks.len(),
        plan.capacity,
        if plan.over_capacity {
            " (mandatory set exceeds capacity)"
        } else {
            ""
        }
    );
    for t in &plan.tasks {
        text.push_str(&format!(
            "  {} {:<10} {:<6} {} {:<6} p={:<5} {:<8} {}\n",
            t.task_id,
            t.pool.as_str(),
            t.mode.as_str(),
            t.enterprise_id,
            t.color.as_str(),
            t.priority,
            t.selection.as_str(),
            t.reason_codes.join(",")
        ));
    }
    for l in &plan.ledger {
        text.push_str(&format!(
            "  quota {:<10} eligible {:<4} required {:<4} done {:<4} planned {:<4} deficit {}\n",
            l.pool.as_str(),
            l.eligible,
            l.required,
            l.done_before,
            l.planned,
            l.deficit
        ));
    }
    for d in &plan.deficits {
        text.push_str(&format!(
            "  quota_deficit {} short by {} ({}), raised to the city\n",
            d.pool.as_str(),
            d.shortfall,
            d.reason
        ));
    }
    text
}
