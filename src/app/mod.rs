//! The commands of the binary, as library functions: `demo`, `replay`, `run`. `main.rs` only
//! parses flags and calls these.

pub mod demo;
pub mod live_rules;
pub mod mock_cluster;
pub mod replay;
pub mod rules;
pub mod rules_clock;
pub mod run;
pub mod shutdown;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::api::{self, LiveStatus};
use crate::config::Config;
use crate::error::IoError;
use crate::ingest::{kafka, Pipeline};
use crate::metrics::Metrics;
use crate::state::StateStore;

/// The engine's shared parts.
pub struct Engine {
    pub store: Arc<StateStore>,
    pub metrics: Arc<Metrics>,
    pub status: Arc<LiveStatus>,
}

impl Engine {
    pub fn new(config: &Config) -> Self {
        Engine {
            store: Arc::new(StateStore::new(config.state.clone())),
            metrics: Arc::new(Metrics::new()),
            status: Arc::new(LiveStatus::new(config.api.ready_max_lag)),
        }
    }

    /// Starts the HTTP API on `addr` until `shutdown`; returns the bound address.
    pub async fn spawn_api(
        &self,
        addr: &str,
        shutdown: CancellationToken,
    ) -> Result<(SocketAddr, JoinHandle<Result<(), IoError>>), IoError> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(IoError::Http)?;
        let bound = listener.local_addr().map_err(IoError::Http)?;
        tracing::info!(addr = %bound, "HTTP API listening");
        let router = api::router(
            Arc::clone(&self.metrics),
            Arc::clone(&self.store),
            Arc::clone(&self.status),
        );
        Ok((bound, tokio::spawn(api::serve(listener, router, shutdown))))
    }

    /// Runs the rules on the ingest watermark until `shutdown` (see `live_rules`), their
    /// warnings delivered to `kafka.warnings_topic`. The task ends after the last warning is
    /// delivered.
    pub fn spawn_rules(
        &self,
        config: &Config,
        shutdown: CancellationToken,
    ) -> Result<JoinHandle<()>, IoError> {
        let (sender, delivery) = crate::warnings::delivery::spawn(
            &config.kafka,
            config.ingest.channel_capacity,
            Arc::clone(&self.metrics),
        )?;
        let rules = live_rules::run(
            config.rules.clone(),
            Arc::clone(&self.store),
            Arc::clone(&self.metrics),
            Arc::clone(&self.status),
            Some(sender),
            shutdown,
        );
        Ok(tokio::spawn(async move {
            rules.await;
            let _ = delivery.await;
        }))
    }

    /// Consumes from Kafka until `shutdown` (see `ingest::kafka::run`).
    pub async fn consume(
        &self,
        config: &Config,
        shutdown: CancellationToken,
    ) -> Result<(), IoError> {
        let pipeline = self.pipeline(config);
        let metrics = Arc::clone(&self.metrics);
        kafka::run(
            config,
            pipeline,
            metrics,
            Arc::clone(&self.status),
            shutdown,
        )
        .await
    }

    pub fn pipeline(&self, config: &Config) -> Pipeline {
        Pipeline::new(
            Arc::clone(&self.store),
            config.ingest.clone(),
            Arc::clone(&self.metrics),
        )
    }
}
