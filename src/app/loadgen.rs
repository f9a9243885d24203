//! `vigil sim --brokers HOST:PORT --rate N --duration S`: the simulator as a load generator.
//! The province is sized so that its readings, at their real sampling periods, come to about
//! `N` events per second; they and the rest of the province's stream (business records, DCS
//! alarms, scenarios) are produced in real time (event time = wall time, so a consuming engine
//! sees a live stream), keyed by enterprise id, after the registry. Reports what was sent,
//! acknowledged and achieved.

use std::time::{Duration, Instant};

use futures::stream::{FuturesUnordered, StreamExt};
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::error::IoError;
use crate::model::EventTime;
use crate::sim::scenario::schedule;
use crate::sim::span::Span;
use crate::sim::{Province, ProvinceStream, Scenario, SimItem};

/// Indicators per kind in a load-generator province: 8 of each of the six kinds come to
/// about 3 readings per second per enterprise.
const POINTS_PER_KIND: usize = 8;
/// Deliveries awaited at once before sending waits for acknowledgements.
const MAX_IN_FLIGHT: usize = 200_000;

pub struct LoadOptions {
    pub brokers: String,
    pub rate: u64,
    pub duration: Duration,
    pub seed: u64,
    pub scenarios: Vec<Scenario>,
    /// Passed through to the producer (`linger.ms`, `compression.type`, ...).
    pub properties: Vec<(String, String)>,
}

/// What the run did.
#[derive(Debug, Serialize)]
pub struct LoadReport {
    pub enterprises: usize,
    pub registry: u64,
    /// Every record sent after the registry, and of those the readings (the rest are the
    /// business streams, the DCS alarms and the scenarios' records).
    pub sent: u64,
    pub readings: u64,
    pub acknowledged: u64,
    pub failed: u64,
    pub seconds: f64,
    /// Records acknowledged per second of the run.
    pub achieved_rate: f64,
}

/// Enterprises whose readings come to about `rate` per second.
pub fn enterprises_for(rate: u64) -> usize {
    let probe = Province::generate(0, 1, POINTS_PER_KIND);
    let per_enterprise: f64 = probe.enterprises[0]
        .indicators
        .iter()
        .map(|i| 1.0 / f64::from(i.expected_period_s.max(1)))
        .sum();
    ((rate as f64 / per_enterprise).ceil() as usize).max(1)
}

pub async fn run(
    options: &LoadOptions,
    shutdown: CancellationToken,
) -> Result<LoadReport, IoError> {
    let mut client = ClientConfig::new();
    client
        .set("bootstrap.servers", &options.brokers)
        .set("linger.ms", "20")
        .set("queue.buffering.max.messages", "1000000");
    for (key, value) in &options.properties {
        client.set(key, value);
    }
    let producer: FutureProducer = client.create()?;
    let enterprises = enterprises_for(options.rate);
    let province = Province::generate(options.seed, enterprises, POINTS_PER_KIND);
    let mut deliveries = Deliveries::default();
    let mut registry = 0;
    for record in province.registry_records() {
        let payload = record.value.to_string();
        deliveries
            .send(&producer, record.topic, &record.key, payload.as_bytes())
            .await;
        registry += 1;
    }
    let start_wall = Instant::now();
    let start = EventTime::from_millis(chrono::Utc::now().timestamp_millis());
    let duration_ms = i64::try_from(options.duration.as_millis()).unwrap_or(i64::MAX);
    let injections = schedule(
        &province,
        &options.scenarios,
        options.seed,
        start,
        duration_ms,
    );
    let span = Span {
        province: &province,
        seed: options.seed,
        start,
        end: EventTime::from_millis(start.millis().saturating_add(duration_ms)),
        injections: &injections,
    };
    let mut payload = Vec::with_capacity(256);
    let (mut sent, mut readings) = (0, 0);
    for item in ProvinceStream::new(span) {
        if shutdown.is_cancelled() {
            break;
        }
        let offset = (item.time().millis() - start.millis()).max(0);
        let due = start_wall + Duration::from_millis(offset as u64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            deliveries.settle_until(due, wait).await;
        }
        payload.clear();
        let (topic, key) = match &item {
            SimItem::Reading(reading) => {
                reading
                    .write_event(&mut payload)
                    .map_err(|source| IoError::Write {
                        what: "load generator record".into(),
                        source,
                    })?;
                readings += 1;
                ("sensor.reading", reading.enterprise_id)
            }
            SimItem::Record(_, record) => {
                payload.extend_from_slice(record.value.to_string().as_bytes());
                (record.topic, record.key.as_str())
            }
        };
        deliveries.send(&producer, topic, key, &payload).await;
        sent += 1;
    }
    deliveries.drain().await;
    let seconds = start_wall.elapsed().as_secs_f64();
    let acknowledged = deliveries.acknowledged.saturating_sub(registry);
    Ok(LoadReport {
        enterprises,
        registry,
        sent,
        readings,
        acknowledged,
        failed: deliveries.failed,
        seconds,
        achieved_rate: acknowledged as f64 / seconds.max(1e-9),
    })
}

/// Deliveries in flight, counted as they are acknowledged.
#[derive(Default)]
struct Deliveries {
    in_flight: FuturesUnordered<DeliveryFuture>,
    acknowledged: u64,
    failed: u64,
}

impl Deliveries {
    /// Queues one record; waits for acknowledgements while the local queue is full.
    async fn send(&mut self, producer: &FutureProducer, topic: &str, key: &str, payload: &[u8]) {
        loop {
            let record = FutureRecord::to(topic).key(key).payload(payload);
            match producer.send_result(record) {
                Ok(delivery) => {
                    self.in_flight.push(delivery);
                    break;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    self.settle_one().await;
                }
                Err((error, _)) => {
                    tracing::warn!(%error, topic, "load generator could not queue a record");
                    self.failed += 1;
                    break;
                }
            }
        }
        while self.in_flight.len() >= MAX_IN_FLIGHT {
            self.settle_one().await;
        }
    }

    async fn settle_one(&mut self) {
        match self.in_flight.next().await {
            Some(Ok(Ok(_))) => self.acknowledged += 1,
            Some(_) => self.failed += 1,
            None => tokio::time::sleep(Duration::from_millis(1)).await,
        }
    }

    /// Counts acknowledgements until `until` (at most `wait`).
    async fn settle_until(&mut self, until: Instant, wait: Duration) {
        let deadline = tokio::time::sleep(wait);
        tokio::pin!(deadline);
        while Instant::now() < until {
            tokio::select! {
                _ = &mut deadline => break,
                Some(result) = self.in_flight.next() => match result {
                    Ok(Ok(_)) => self.acknowledged += 1,
                    _ => self.failed += 1,
                },
                else => { (&mut deadline).await; break; }
            }
        }
    }

    async fn drain(&mut self) {
        while !self.in_flight.is_empty() {
            self.settle_one().await;
        }
    }
}
