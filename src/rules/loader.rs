//! Finding and reading rule files: every `*.sql` under a directory, recursively, in path
//! order, with each file's problems reported as `file:line: reason`.

use std::path::{Path, PathBuf};

use super::RuleFileError;

/// A rule file's problem, with its place.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}:{}: {}", path.display(), error.line, error.message)]
pub struct RuleProblem {
    pub path: PathBuf,
    pub error: RuleFileError,
}

/// Every `*.sql` file under `dir`, sorted. A missing directory holds no rules.
pub fn rule_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    if dir.as_os_str().is_empty() || !dir.exists() {
        return Ok(files);
    }
    collect(dir, &mut files)?;
    files.sort();
    Ok(files)
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, files)?;
        } else if path.extension().is_some_and(|e| e == "sql") {
            files.push(path);
        }
    }
    Ok(())
}

/// A rule file and its text, or the problem reading it.
pub type RuleText = (PathBuf, Result<String, RuleProblem>);

/// The text of every rule file, or the problem reading it.
pub fn read_all(dir: &Path) -> Result<Vec<RuleText>, std::io::Error> {
    Ok(rule_files(dir)?
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).map_err(|e| RuleProblem {
                path: path.clone(),
                error: RuleFileError {
                    line: 1,
                    message: format!("cannot read: {e}"),
                },
            });
            (path, text)
        })
        .collect())
}
