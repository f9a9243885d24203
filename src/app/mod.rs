//! The commands of the binary, as library functions: `demo`, `replay`, `run`. `main.rs` only
//! parses flags and calls these.

pub mod api_runtime;
pub mod demo;
pub mod enforce;
pub mod learn;
pub mod live_rules;
pub mod loadgen;
pub mod mock_cluster;
pub mod replay;
pub mod rules;
pub mod rules_clock;
pub mod run;
pub mod shutdown;
pub mod sim;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::api::{self, LiveStatus};
use crate::config::Config;
use crate::error::IoError;
use crate::ingest::table_topic;
use crate::ingest::{kafka, Pipeline};
use crate::metrics::Metrics;
use crate::risk::region_share::RegionBoard;
use crate::risk::{RiskStage, RiskView};
use crate::state::StateStore;
use crate::warnings::silence_topic::SilenceJournal;
use crate::warnings::view::WarningView;
use crate::warnings::{Silences, WarningBook};
use api_runtime::ApiRuntime;
use live_rules::{LiveRules, RiskOutputs, WarningOutputs};

/// How long start-up waits for a shared table's topic before consuming without it.
const TABLE_LOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The engine's shared parts.
pub struct Engine {
    pub store: Arc<StateStore>,
    pub metrics: Arc<Metrics>,
    pub status: Arc<LiveStatus>,
    pub warnings: Arc<WarningView>,
    pub silences: Arc<Silences>,
    pub risk: Arc<RiskView>,
    /// The counties shared with the other instances of the group.
    pub board: Arc<RegionBoard>,
    pub config: Arc<Config>,
    /// The write token (`api.write_token`, else `warnings.api_token`; empty: writes are off).
    api_token: String,
    /// Where the HTTP API runs, started with it.
    api_runtime: std::sync::OnceLock<ApiRuntime>,
}

impl Engine {
    pub fn new(config: &Config) -> Self {
        Engine {
            store: Arc::new(StateStore::new(config.state.clone())),
            metrics: Arc::new(Metrics::new()),
            status: Arc::new(LiveStatus::new(config.api.ready_max_lag)),
            warnings: Arc::new(WarningView::new(config.warnings.history)),
            silences: Arc::new(Silences::from_config(&config.warnings.silences)),
            risk: Arc::new(RiskView::default()),
            board: Arc::new(RegionBoard::default()),
            config: Arc::new(config.clone()),
            api_token: if config.api.write_token.is_empty() {
                config.warnings.api_token.clone()
            } else {
                config.api.write_token.clone()
            },
            api_runtime: std::sync::OnceLock::new(),
        }
    }

    /// Starts the HTTP API on `addr` until `shutdown`, on its own runtime
    /// (`api.worker_threads`); returns the bound address.
    pub async fn spawn_api(
        &self,
        addr: &str,
        shutdown: CancellationToken,
    ) -> Result<(SocketAddr, JoinHandle<Result<(), IoError>>), IoError> {
        let runtime = self.api_runtime()?.clone();
        let api_config = &self.config.api;
        let tls = if api_config.tls_cert.is_empty() {
            None
        } else {
            Some(api::tls::acceptor(
                std::path::Path::new(&api_config.tls_cert),
                std::path::Path::new(&api_config.tls_key),
            )?)
        };
        // Bound on the API's runtime, so the socket is driven by its threads.
        let addr = addr.to_owned();
        let listener = runtime
            .spawn(async move { tokio::net::TcpListener::bind(addr).await })
            .await
            .map_err(|e| IoError::Http(std::io::Error::other(e)))?
            .map_err(IoError::Http)?;
        let bound = listener.local_addr().map_err(IoError::Http)?;
        tracing::info!(addr = %bound, tls = tls.is_some(), "HTTP API listening");
        let boundaries = api::boundaries::Boundaries::load(&self.config.map.boundaries)?;
        let router = api::router(self.api_state(boundaries));
        let server = runtime.spawn(async move {
            match tls {
                Some(acceptor) => {
                    let listener = api::tls::TlsListener::new(listener, acceptor, shutdown.clone());
                    api::serve(listener, router, shutdown).await
                }
                None => api::serve(listener, router, shutdown).await,
            }
        });
        Ok((bound, server))
    }

    fn api_runtime(&self) -> Result<&tokio::runtime::Handle, IoError> {
        if self.api_runtime.get().is_none() {
            let started = ApiRuntime::start(self.config.api.worker_threads)?;
            // A second start in a race loses and is dropped; either serves.
            let _ = self.api_runtime.set(started);
        }
        Ok(self.api_runtime.get().expect("set above").handle())
    }

    fn api_state(&self, boundaries: api::boundaries::Boundaries) -> api::AppState {
        api::AppState {
            metrics: Arc::clone(&self.metrics),
            store: Arc::clone(&self.store),
            status: Arc::clone(&self.status),
            warnings: Arc::clone(&self.warnings),
            silences: Arc::clone(&self.silences),
            risk: Arc::clone(&self.risk),
            config: Arc::clone(&self.config),
            tokens: api::auth::Tokens {
                read: Arc::from(self.config.api.read_token.as_str()),
                write: Arc::from(self.api_token.as_str()),
                metrics_public: self.config.api.metrics_public,
            },
            seed_key: Arc::from(self.config.enforce.seed_key()),
            sse: Arc::new(api::SseSlots::new(self.config.api.max_sse_clients)),
            boundaries: Arc::new(boundaries),
        }
    }

    /// The rules engine for the ingest loop, its warnings delivered to
    /// `kafka.warnings_topic` and its risk records to `kafka.risk_topic`; the handle ends once
    /// the last of them is delivered (after the loop is done with the rules).
    pub async fn live_rules(
        &self,
        config: &Config,
    ) -> Result<(LiveRules, JoinHandle<()>), IoError> {
        let (senders, delivery) = crate::warnings::delivery::spawn_engine_outputs(
            &config.kafka,
            config.ingest.channel_capacity,
            Arc::clone(&self.metrics),
        )?;
        let outputs = WarningOutputs {
            book: WarningBook::new(&config.warnings, Arc::clone(&self.silences)),
            view: Arc::clone(&self.warnings),
            sender: Some(senders.warnings),
        };
        let risk = RiskOutputs {
            stage: RiskStage::new(&config.risk, config.rules.utc_offset_minutes)
                .share_regions(Arc::clone(&self.board)),
            view: Arc::clone(&self.risk),
            sender: Some(senders.risk),
            regions_sender: Some(senders.regions),
            board_sender: Some(senders.board),
        };
        let rules = LiveRules::start(
            &config.rules,
            Arc::clone(&self.store),
            Arc::clone(&self.metrics),
            outputs,
        )
        .await?
        .with_risk(risk);
        Ok((rules, delivery))
    }

    /// Consumes from Kafka until `shutdown` (see `ingest::kafka::run`), with the rules and
    /// their warnings on the ingest clock.
    pub async fn consume(
        &self,
        config: &Config,
        shutdown: CancellationToken,
    ) -> Result<(), IoError> {
        // First, before any await: a silence posted from here on is kept on the topic.
        self.keep_silences(config)?;
        let (rules, delivery) = self.live_rules(config).await?;
        crate::ingest::topics::ensure_outputs(&config.kafka, &shutdown).await?;
        self.load_tables(config, shutdown.clone()).await?;
        let pipeline = self.pipeline(config);
        let metrics = Arc::clone(&self.metrics);
        let result = kafka::run(
            config,
            pipeline,
            metrics,
            Arc::clone(&self.status),
            Some(Box::new(rules)),
            shutdown,
        )
        .await;
        let _ = delivery.await;
        result
    }

    /// Posted silences are kept on `kafka.silences_topic` (answered once the broker has them),
    /// so they outlive a restart and reach every instance. Idempotent.
    pub fn keep_silences(&self, config: &Config) -> Result<(), IoError> {
        if self.silences.journal().is_none() {
            self.silences.keep_in(SilenceJournal::new(&config.kafka)?);
        }
        Ok(())
    }

    /// Reads the tables every instance shares before any input is consumed, then follows
    /// them: the silences (`kafka.silences_topic`; posted ones are kept there, so a warning
    /// firing under one stays silenced across a restart and on every instance) and the
    /// counties' board (`kafka.region_parts_topic`, see `risk::region_share`).
    async fn load_tables(
        &self,
        config: &Config,
        shutdown: CancellationToken,
    ) -> Result<(), IoError> {
        self.status.set_tables_pending(true);
        match input_partitions(&config.kafka, &shutdown).await {
            Some(0) => tracing::warn!("the input topics' partition count is unknown; region indices cover this instance's enterprises only"),
            Some(partitions) => self.board.set_partitions(partitions),
            None => return Ok(()),
        }
        let tables: [(&String, Arc<dyn table_topic::Table>); 2] = [
            (
                &config.kafka.silences_topic,
                Arc::clone(&self.silences) as _,
            ),
            (
                &config.kafka.region_parts_topic,
                Arc::clone(&self.board) as _,
            ),
        ];
        let mut reads = Vec::new();
        for (topic, table) in tables {
            let (caught_up, read) = tokio::sync::oneshot::channel();
            tokio::spawn(table_topic::follow(
                config.kafka.clone(),
                topic.clone(),
                table,
                Arc::clone(&self.metrics),
                caught_up,
                shutdown.clone(),
            ));
            reads.push((topic.clone(), read));
        }
        let all_read = async move {
            for (topic, read) in reads {
                let _ = read.await;
                tracing::info!(%topic, "shared table read");
            }
        };
        let status = Arc::clone(&self.status);
        let ready = tokio::spawn(async move {
            all_read.await;
            status.set_tables_pending(false);
        });
        // Input waits a while for the tables (a silence must hold from the first record);
        // /readyz says not ready until they are read, however long the broker takes.
        if tokio::time::timeout(TABLE_LOAD_TIMEOUT, ready)
            .await
            .is_err()
        {
            tracing::warn!(
                "the shared tables were not read to their end in time; consuming, not ready"
            );
        }
        Ok(())
    }

    pub fn pipeline(&self, config: &Config) -> Pipeline {
        Pipeline::new(
            Arc::clone(&self.store),
            config.ingest.clone(),
            Arc::clone(&self.metrics),
        )
    }
}

/// How many partitions the input topics have (the first one's; they are co-partitioned),
/// asked until the cluster answers (`None` only on shutdown): region indices computed before
/// it would cover this instance's enterprises only.
async fn input_partitions(
    kafka: &crate::config::KafkaConfig,
    shutdown: &CancellationToken,
) -> Option<i32> {
    let topic = kafka.topics.first()?.clone();
    let kafka = kafka.clone();
    let count = move || {
        let consumer = table_topic::reader(&kafka, "metadata")?;
        match table_topic::partitions_of(&consumer, &topic) {
            Ok(partitions) => Ok(partitions.len() as i32),
            // An answer: the topic is not there (yet), so no partition count to share.
            Err(e) if table_topic::is_unknown_topic(&e) => Ok(0),
            Err(e) => Err(e),
        }
    };
    table_topic::retrying(shutdown, "input partition count", count, |_| {}).await
}
