//! Silences posted through the API live in a compacted topic (`kafka.silences_topic`, key =
//! silence id, value = the silence as JSON), so they outlive a restart and reach every
//! instance of the group: a post is answered only once the broker has it, and every instance
//! reads the topic from its beginning before it consumes any input, then follows it.
//!
//! The topic is read as a table (`ingest::table_topic`): a record that is not a silence is
//! counted and dead-lettered with the reason; an empty value (a tombstone) lifts the silence
//! of its key.

use std::time::Duration;

use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::config::KafkaConfig;
use crate::error::IoError;
use crate::ingest::kafka::producer_config;
use crate::ingest::table_topic::{Refusal, Table};
use crate::ingest::ReasonCode;

use super::silence::{Silence, SilenceSpec, Silences};

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

    /// Returns once the broker has acknowledged the silence.
    pub async fn append(&self, silence: &Silence) -> Result<(), NotRecorded> {
        let payload = serde_json::to_string(&silence.spec).expect("a silence serialises");
        let record = FutureRecord::to(&self.topic)
            .key(&silence.id)
            .payload(&payload);
        match self.producer.send(record, APPEND_TIMEOUT).await {
            Ok(_) => Ok(()),
            Err((error, _)) => Err(NotRecorded {
                topic: self.topic.clone(),
                reason: error.to_string(),
            }),
        }
    }
}

/// The silences topic's records: a silence, or a tombstone lifting one.
impl Table for Silences {
    fn apply(&self, key: Option<&[u8]>, payload: Option<&[u8]>) -> Result<(), Refusal> {
        let Some(payload) = payload.filter(|p| !p.is_empty()) else {
            let key = key.ok_or((
                ReasonCode::MissingKey,
                "a tombstone without a key".to_owned(),
            ))?;
            self.remove(&String::from_utf8_lossy(key));
            return Ok(());
        };
        let spec: SilenceSpec = serde_json::from_slice(payload)
            .map_err(|e| (ReasonCode::WrongType, format!("not a silence: {e}")))?;
        self.add(spec)
            .map(|_| ())
            .map_err(|e| (ReasonCode::InconsistentFields, e.to_string()))
    }
}
