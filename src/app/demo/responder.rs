//! The simulated enterprises' duty officers. They read vigil's warnings as the platform
//! delivers them (the warnings topic) and acknowledge each new one a few minutes of event time
//! after it fired (`warning.feedback`, ACK), well inside R7's shortest deadline (red: 15
//! minutes), so R7 stays quiet — except at an enterprise under the `unanswered_warnings`
//! scenario, whose officers answer nothing while it lasts: there R7 escalates. An answer goes
//! out once the simulated stream has reached its time: stamped by the wall clock instead, it
//! would run ahead of a stream that lags at high speed and make the readings look late.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::FutureProducer;
use rdkafka::Message;
use serde::Deserialize;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::model::EventTime;
use crate::sim::Scenario;

use super::{send, DemoWorld};

/// Officers answer between 2 and 8 minutes after a warning fires.
const FIRST_ANSWER_MS: i64 = 2 * 60_000;
const ANSWER_SPREAD_MIN: u64 = 7;

/// The demo's event time: it starts at the wall clock's now and runs `speed` times faster.
pub struct EventClock {
    start_wall: Instant,
    start_event: EventTime,
    speed: f64,
}

impl EventClock {
    pub fn starting_now(speed: f64) -> Self {
        EventClock {
            start_wall: Instant::now(),
            start_event: EventTime::from_millis(chrono::Utc::now().timestamp_millis()),
            speed,
        }
    }

    pub fn start(&self) -> EventTime {
        self.start_event
    }

    /// The wall-clock instant event time `at` is reached (the start, for earlier times).
    pub fn wall_at(&self, at: EventTime) -> Instant {
        let event_ms = (at.millis() - self.start_event.millis()).max(0) as f64;
        self.start_wall + Duration::from_secs_f64(event_ms / 1000.0 / self.speed)
    }
}

/// How far the simulated stream has been sent: the event time of its last record.
#[derive(Default)]
pub struct StreamProgress(AtomicI64);

impl StreamProgress {
    pub fn reached(&self, at: EventTime) {
        self.0.fetch_max(at.millis(), Ordering::Relaxed);
    }

    fn now(&self) -> EventTime {
        EventTime::from_millis(self.0.load(Ordering::Relaxed))
    }
}

/// How often the officers look whether an answer is due.
const LOOK_EVERY: Duration = Duration::from_millis(100);

/// What the officers read of a published warning.
#[derive(Deserialize)]
struct Published {
    id: String,
    enterprise_id: String,
    state: String,
    fired_at: EventTime,
}

/// An answer due at an event time.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Answer {
    due: EventTime,
    warning_id: String,
    enterprise_id: String,
}

pub async fn respond(
    brokers: String,
    warnings_topic: String,
    world: Arc<DemoWorld>,
    shutdown: CancellationToken,
) {
    let clients = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("group.id", "vigil-demo-duty-officers")
        .set("auto.offset.reset", "earliest")
        .clone();
    let (consumer, producer): (StreamConsumer, FutureProducer) =
        match (clients.create(), clients.create()) {
            (Ok(c), Ok(p)) => (c, p),
            (Err(error), _) | (_, Err(error)) => {
                return tracing::error!(%error, "demo duty officers")
            }
        };
    if let Err(error) = consumer.subscribe(&[&warnings_topic]) {
        return tracing::error!(%error, "demo duty officers");
    }
    let mut seen = HashSet::new();
    let mut due: BinaryHeap<Reverse<Answer>> = BinaryHeap::new();
    let mut look = tokio::time::interval(LOOK_EVERY);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            message = consumer.recv() => {
                let Ok(message) = message else { continue };
                let published = message
                    .payload()
                    .and_then(|p| serde_json::from_slice::<Published>(p).ok());
                if let Some(answer) = published.and_then(|w| answer_for(&world, &mut seen, w)) {
                    due.push(Reverse(answer));
                }
            }
            _ = look.tick() => {
                let now = world.progress.now();
                while due.peek().is_some_and(|Reverse(a)| a.due <= now) {
                    if let Some(Reverse(answer)) = due.pop() {
                        acknowledge(&producer, &answer).await;
                    }
                }
            }
        }
    }
}

/// When the officers answer a newly fired warning; `None`: already answered, not firing, or
/// the enterprise is not answering.
fn answer_for(world: &DemoWorld, seen: &mut HashSet<String>, w: Published) -> Option<Answer> {
    if w.state != "firing" || !seen.insert(w.id.clone()) {
        return None;
    }
    let silent = world.injections.iter().any(|j| {
        j.scenario == Scenario::UnansweredWarnings
            && world.province.enterprises[j.enterprise].enterprise_id == w.enterprise_id
            && j.covers(w.fired_at.millis())
    });
    if silent {
        return None;
    }
    let mut hasher = rustc_hash::FxHasher::default();
    w.id.hash(&mut hasher);
    let minutes = (hasher.finish() % ANSWER_SPREAD_MIN) as i64;
    Some(Answer {
        due: w
            .fired_at
            .saturating_add_ms(FIRST_ANSWER_MS + minutes * 60_000),
        warning_id: w.id,
        enterprise_id: w.enterprise_id,
    })
}

async fn acknowledge(producer: &FutureProducer, answer: &Answer) {
    let feedback = json!({
        "ts": answer.due, "enterprise_id": answer.enterprise_id,
        "warning_id": answer.warning_id, "actor_org": answer.enterprise_id,
        "action": "ack", "measure": "duty officer checking on site",
    });
    send(
        producer,
        "warning.feedback",
        Some(&answer.enterprise_id),
        feedback.to_string().as_bytes(),
    )
    .await;
}
