//! The per-rule report of a replay with rules: how often each rule hit, how many warnings
//! (episodes) it opened, when it first and last hit, and what it cost.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::warnings::{Transition, WarningRecord};

use super::engine::TickReport;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RuleStats {
    pub evaluations: u64,
    pub hits: u64,
    /// Warnings fired (after the rule's `for`, one per episode).
    pub warnings: u64,
    pub errors: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_hit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_hit: Option<String>,
    pub eval_ms: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Backtest {
    pub ticks: u64,
    pub tables_ms: f64,
    pub rules: BTreeMap<String, RuleStats>,
    /// Warnings fired, per colour at firing.
    pub warnings_by_color: BTreeMap<String, u64>,
}

impl Backtest {
    /// Folds in one tick.
    pub fn add(&mut self, tick: &TickReport) {
        self.ticks += 1;
        self.tables_ms += ms(tick.tables.elapsed);
        for run in &tick.runs {
            let stats = self.rules.entry(run.rule_id.clone()).or_default();
            stats.evaluations += 1;
            stats.hits += run.hits as u64;
            stats.errors += u64::from(run.error.is_some());
            stats.eval_ms += ms(run.elapsed);
            if run.hits > 0 {
                let at = tick.now.to_rfc3339();
                stats.first_hit.get_or_insert_with(|| at.clone());
                stats.last_hit = Some(at);
            }
        }
    }

    /// Counts the warnings that fired.
    pub fn add_warnings(&mut self, records: &[WarningRecord]) {
        for fired in records.iter().filter(|r| r.state == Transition::Firing) {
            self.rules
                .entry(fired.rule_id.clone())
                .or_default()
                .warnings += 1;
            *self
                .warnings_by_color
                .entry(fired.color.as_str().to_owned())
                .or_default() += 1;
        }
    }

    /// The table printed at the end of `vigil replay --rules`.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "rules: {} ticks, table building {:.0} ms\n{:<40} {:>8} {:>8} {:>6} {:>10}  {:<24} {:<24}\n",
            self.ticks, self.tables_ms, "rule", "hits", "warnings", "errors", "eval ms", "first hit", "last hit"
        );
        for (id, s) in &self.rules {
            text.push_str(&format!(
                "{:<40} {:>8} {:>8} {:>6} {:>10.1}  {:<24} {:<24}\n",
                id,
                s.hits,
                s.warnings,
                s.errors,
                s.eval_ms,
                s.first_hit.as_deref().unwrap_or("-"),
                s.last_hit.as_deref().unwrap_or("-"),
            ));
        }
        text
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
