//! The commands of the binary, as library functions: `demo`, `replay`, `run`. `main.rs` only
//! parses flags and calls these.

pub mod demo;
pub mod mock_cluster;
pub mod replay;
pub mod run;
pub mod shutdown;

use std::sync::Arc;

use crate::config::Config;
use crate::ingest::Pipeline;
use crate::metrics::Metrics;
use crate::state::StateStore;

/// The engine's shared parts.
pub struct Engine {
    pub store: Arc<StateStore>,
    pub metrics: Arc<Metrics>,
}

impl Engine {
    pub fn new(config: &Config) -> Self {
        Engine {
            store: Arc::new(StateStore::new(config.state.clone())),
            metrics: Arc::new(Metrics::new()),
        }
    }

    pub fn pipeline(&self, config: &Config) -> Pipeline {
        Pipeline::new(
            Arc::clone(&self.store),
            config.ingest.clone(),
            Arc::clone(&self.metrics),
        )
    }
}
