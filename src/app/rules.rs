//! `vigil rules check`: every rule file loaded, planned and validated, with a line per file.

use std::path::Path;
use std::sync::Arc;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::rules::locality::Locality;
use crate::rules::RuleEngine;

pub struct CheckReport {
    pub ok: bool,
    pub problems: usize,
    pub text: String,
}

pub async fn check(config: &Config, dir: &Path) -> CheckReport {
    let mut engine = RuleEngine::new(config.rules.clone(), Arc::new(Metrics::new()));
    let report = engine.reload(dir).await;
    let mut text = String::new();
    for rule in engine.rules() {
        // Rule authors see whether a tick can run the rule over what changed only.
        let evaluated = match &rule.locality {
            Locality::Local(clock) if clock == &Default::default() => "local".to_owned(),
            Locality::Local(clock) => format!("local, due again at {clock}"),
            Locality::Whole(why) => format!("whole: {why}"),
        };
        text.push_str(&format!(
            "ok   {}  {} ({}, version {}, {evaluated})\n",
            rule.path.display(),
            rule.header.id,
            rule.header.severity.as_str(),
            rule.version
        ));
    }
    for problem in &report.problems {
        text.push_str(&format!("FAIL {problem}\n"));
    }
    if report.loaded.is_empty() && report.problems.is_empty() {
        text.push_str(&format!("no rule files under {}\n", dir.display()));
    }
    text.push_str(&format!(
        "{} rules ok, {} problems\n",
        report.loaded.len(),
        report.problems.len()
    ));
    CheckReport {
        ok: report.problems.is_empty() && !report.loaded.is_empty(),
        problems: report.problems.len(),
        text,
    }
}
