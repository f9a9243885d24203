//! `vigil run`: the production service against real brokers, with the HTTP API.

use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::error::IoError;

use super::Engine;

/// Runs until `shutdown` is cancelled.
pub async fn run(config: &Config, shutdown: CancellationToken) -> Result<(), IoError> {
    let engine = Engine::new(config);
    // Before the API answers: no silence is ever accepted without being kept.
    engine.keep_silences(config)?;
    let (_, server) = engine.spawn_api(&config.api.addr, shutdown.clone()).await?;
    let result = engine.consume(config, shutdown.clone()).await;
    shutdown.cancel();
    let _ = server.await;
    result
}
