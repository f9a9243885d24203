//! `vigil run`: the production service against real brokers, with the HTTP API.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::api::{self, LiveStatus};
use crate::config::Config;
use crate::error::IoError;
use crate::ingest::kafka;

use super::Engine;

/// Runs until `shutdown` is cancelled.
pub async fn run(config: &Config, shutdown: CancellationToken) -> Result<(), IoError> {
    let engine = Engine::new(config);
    let status = Arc::new(LiveStatus::default());
    let listener = tokio::net::TcpListener::bind(&config.api.addr)
        .await
        .map_err(IoError::Http)?;
    tracing::info!(addr = %config.api.addr, "HTTP API listening");
    let router = api::router(
        Arc::clone(&engine.metrics),
        Arc::clone(&engine.store),
        Arc::clone(&status),
    );
    let server = tokio::spawn(api::serve(listener, router, shutdown.clone()));
    let pipeline = engine.pipeline(config);
    let result = kafka::run(
        config,
        pipeline,
        Arc::clone(&engine.metrics),
        status,
        shutdown.clone(),
    )
    .await;
    shutdown.cancel();
    let _ = server.await;
    result
}
