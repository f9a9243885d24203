//! The commands of the binary, as library functions: `demo`, `replay`, `run`. `main.rs` only
//! parses flags and calls these.

pub mod demo;
pub mod enforce;
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
    /// The bearer token of `POST /api/silences` (empty: the endpoint is off).
    api_token: String,
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
            api_token: config.warnings.api_token.clone(),
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
        let router = api::router(api::AppState {
            metrics: Arc::clone(&self.metrics),
            store: Arc::clone(&self.store),
            status: Arc::clone(&self.status),
            warnings: Arc::clone(&self.warnings),
            silences: Arc::clone(&self.silences),
            risk: Arc::clone(&self.risk),
            config: Arc::clone(&self.config),
            api_token: Arc::from(self.api_token.as_str()),
        });
        Ok((bound, tokio::spawn(api::serve(listener, router, shutdown))))
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
        .await
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
        self.load_tables(config, shutdown.clone()).await?;
        let (rules, delivery) = self.live_rules(config).await?;
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

    /// Reads the tables every instance shares before any input is consumed, then follows
    /// them: the silences (`kafka.silences_topic`; posted ones are kept there, so a warning
    /// firing under one stays silenced across a restart and on every instance) and the
    /// counties' board (`kafka.region_parts_topic`, see `risk::region_share`).
    async fn load_tables(
        &self,
        config: &Config,
        shutdown: CancellationToken,
    ) -> Result<(), IoError> {
        self.silences.keep_in(SilenceJournal::new(&config.kafka)?);
        self.board
            .set_partitions(input_partitions(&config.kafka).await);
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
            if tokio::time::timeout(TABLE_LOAD_TIMEOUT, read)
                .await
                .is_err()
            {
                tracing::warn!(%topic, "a shared table was not read to its end in time; consuming anyway");
            }
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

/// How many partitions the input topics have (the first one's; they are co-partitioned), or 0
/// when the cluster does not say: the region indices are then computed from this instance's
/// enterprises alone.
async fn input_partitions(kafka: &crate::config::KafkaConfig) -> i32 {
    let kafka = kafka.clone();
    let counted = tokio::task::spawn_blocking(move || {
        let topic = kafka.topics.first()?;
        let consumer = table_topic::reader(&kafka, "metadata").ok()?;
        table_topic::partitions_of(&consumer, topic).ok()
    })
    .await;
    match counted {
        Ok(Some(partitions)) => partitions.len() as i32,
        _ => {
            tracing::warn!("the input topics' partition count is unknown; region indices cover this instance's enterprises only");
            0
        }
    }
}
