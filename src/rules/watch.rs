//! Watching the rules directory: any change to it sends a (coalesced) reload request.

use std::path::Path;

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

/// Keeps the watch alive; dropping it stops watching.
pub struct RuleWatch {
    _watcher: notify::RecommendedWatcher,
}

/// Watches `dir` recursively; each burst of changes becomes one message on the returned
/// channel (capacity 1: a reload already queued covers later changes).
pub fn watch(dir: &Path) -> notify::Result<(RuleWatch, mpsc::Receiver<()>)> {
    let (tx, rx) = mpsc::channel(1);
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let relevant = event.is_ok_and(|e| !e.kind.is_access());
        if relevant {
            let _ = tx.try_send(());
        }
    })?;
    watcher.watch(dir, RecursiveMode::Recursive)?;
    Ok((RuleWatch { _watcher: watcher }, rx))
}
