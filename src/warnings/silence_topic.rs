//! Silences posted through the API live in a compacted topic (`kafka.silences_topic`, key =
//! silence id, value = the silence as JSON), so they outlive a restart and reach every
//! instance of the group: a post is answered only once the broker has it, and every instance
//! reads the topic from its beginning before it consumes any input, then follows it.
//!
//! This is the writing end; `Silences` reads the topic as a table (`ingest::table_topic`).

use std::time::Duration;

use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::config::KafkaConfig;
use crate::error::IoError;
use crate::ingest::client::producer_config;

/// How long a post waits for the broker before it is answered 503.
const APPEND_TIMEOUT: Duration = Duration::from_secs(10);

/// The writing end: `POST /api/silences` appends here before the silence takes effect.
pub struct SilenceJournal {
    producer: FutureProducer,
    topic: String,
}

#[derive(Debug, thiserror::Error)]
#[error("the silence was not recorded on {topic}: {reason}")]
pub struct NotRecorded {
    topic: String,
    reason: String,
}

impl std::fmt::Debug for SilenceJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SilenceJournal")
            .field("topic", &self.topic)
            .finish()
    }
}

impl SilenceJournal {
    pub fn new(kafka: &KafkaConfig) -> Result<Self, IoError> {
        Ok(SilenceJournal {
            producer: producer_config(kafka).create()?,
            topic: kafka.silences_topic.clone(),
        })
    }

    /// Returns once the broker has acknowledged the silence `spec` under its `id`.
    pub async fn append(&self, id: &str, spec: &impl serde::Serialize) -> Result<(), NotRecorded> {
        let payload = serde_json::to_string(spec).expect("a silence serialises");
        let record = FutureRecord::to(&self.topic).key(id).payload(&payload);
        match self.producer.send(record, APPEND_TIMEOUT).await {
            Ok(_) => Ok(()),
            Err((error, _)) => Err(NotRecorded {
                topic: self.topic.clone(),
                reason: error.to_string(),
            }),
        }
    }
}
