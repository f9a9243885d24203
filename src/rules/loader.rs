//! Finding and reading rule files: every `*.sql` under a directory, recursively, in path
//! order, with each file's problems reported as `file:line: reason`.
//!
//! Names starting with a dot are skipped: a Kubernetes ConfigMap mount holds each file twice
//! more, under `..data/` and `..<timestamp>/`, and loading those made every rule a duplicate.
//! Depth and file size are bounded (a symlink loop, a stray dump).

use std::path::{Path, PathBuf};

/// Why a rule file cannot run, and on which line (1-based) of the file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct RuleFileError {
    pub line: usize,
    pub message: String,
}

/// A rule file's problem, with its place.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}:{}: {}", path.display(), error.line, error.message)]
pub struct RuleProblem {
    pub path: PathBuf,
    pub error: RuleFileError,
}

/// Largest rule file read.
pub const MAX_RULE_FILE_BYTES: u64 = 64 * 1024;
/// Deepest folder searched below the rules directory.
const MAX_DEPTH: usize = 8;

/// Every `*.sql` file under `dir`, sorted. An empty path holds no rules (the explicit way to
/// run none); a directory that does not exist is an error.
pub fn rule_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    if dir.as_os_str().is_empty() {
        return Ok(files);
    }
    if !dir.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{} is not a directory", dir.display()),
        ));
    }
    collect(dir, 0, &mut files)?;
    files.sort();
    Ok(files)
}

fn collect(dir: &Path, depth: usize, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            if depth >= MAX_DEPTH {
                return Err(std::io::Error::other(format!(
                    "{} is more than {MAX_DEPTH} folders deep (a symlink loop?)",
                    path.display()
                )));
            }
            collect(&path, depth + 1, files)?;
        } else if path.extension().is_some_and(|e| e == "sql") {
            files.push(path);
        }
    }
    Ok(())
}

fn read_bounded(path: &Path) -> Result<String, String> {
    let size = std::fs::metadata(path)
        .map_err(|e| format!("cannot read: {e}"))?
        .len();
    if size > MAX_RULE_FILE_BYTES {
        return Err(format!(
            "the file is {size} bytes; a rule file may have at most {MAX_RULE_FILE_BYTES}"
        ));
    }
    std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))
}

/// A rule file and its text, or the problem reading it.
pub type RuleText = (PathBuf, Result<String, RuleProblem>);

/// The text of every rule file, or the problem reading it.
pub fn read_all(dir: &Path) -> Result<Vec<RuleText>, std::io::Error> {
    Ok(rule_files(dir)?
        .into_iter()
        .map(|path| {
            let text = read_bounded(&path).map_err(|message| RuleProblem {
                path: path.clone(),
                error: RuleFileError { line: 1, message },
            });
            (path, text)
        })
        .collect())
}
