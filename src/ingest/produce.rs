//! Sending one output record: retried while the failure can pass (broker away, queue full,
//! leader moving), given up at once when it cannot (the broker refuses the record itself:
//! too large, invalid, not authorised). A refused record is returned with the reason, for the
//! caller to dead-letter: an output that can never be delivered must not block ingest forever.

use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::logging::RateLimit;
use crate::metrics::Metrics;

/// Wait between two attempts to deliver one output record.
const RETRY_BACKOFF: Duration = Duration::from_millis(500);

/// The broker (or librdkafka) refused the record for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

/// Whether retrying `error` can never succeed.
pub fn is_permanent(error: &KafkaError) -> bool {
    use RDKafkaErrorCode as C;
    let Some(code) = error.rdkafka_error_code() else {
        return false;
    };
    matches!(
        code,
        C::MessageSizeTooLarge
            | C::InvalidMessageSize
            | C::InvalidMessage
            | C::InvalidRecord
            | C::InvalidTopic
            | C::TopicAuthorizationFailed
            | C::ClusterAuthorizationFailed
            | C::PolicyViolation
            | C::InvalidArgument
            // The topic is not there (deleted, never created): retrying stalled the shared
            // ordered queue, and with it warnings, checkpoints and commits (issue 19).
            | C::UnknownTopic
            | C::UnknownTopicOrPartition
            // The idempotent producer is unusable: every later attempt fails the same way.
            | C::Fatal
    )
}

/// Sends one record to `topic` until the broker acknowledges it, or refuses it for good.
/// Every failed attempt counts in `vigil_output_errors_total{output}`.
pub async fn deliver(
    producer: &FutureProducer,
    topic: &str,
    key: Option<&[u8]>,
    payload: &str,
    output: &str,
    metrics: &Metrics,
) -> Result<(), Refused> {
    let mut errors = RateLimit::per_second(1);
    loop {
        let mut record = FutureRecord::to(topic).payload(payload);
        if let Some(key) = key {
            record = record.key(key);
        }
        match producer.send(record, Duration::from_secs(30)).await {
            Ok(_) => return Ok(()),
            Err((error, _)) => {
                metrics.output_errors.with_label_values(&[output]).inc();
                if is_permanent(&error) {
                    tracing::error!(%error, topic, "the broker refused an output record; it is dead-lettered");
                    return Err(Refused(error.to_string()));
                }
                if errors.allow() {
                    tracing::warn!(%error, topic, "delivery failed; retrying");
                }
                tokio::time::sleep(RETRY_BACKOFF).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_record_is_permanent_a_lost_broker_is_not() {
        let refused = KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge);
        let away = KafkaError::MessageProduction(RDKafkaErrorCode::AllBrokersDown);
        let full = KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull);
        assert!(is_permanent(&refused));
        let deleted = KafkaError::MessageProduction(RDKafkaErrorCode::UnknownTopicOrPartition);
        let missing = KafkaError::MessageProduction(RDKafkaErrorCode::UnknownTopic);
        assert!(is_permanent(&deleted) && is_permanent(&missing));
        assert!(!is_permanent(&away));
        assert!(!is_permanent(&full));
    }
}
