//! The output topics, checked at start: a topic vigil writes to that does not exist is a clear
//! error naming it (or created, with `kafka.create_topics = true`), not records retried
//! forever or dead-lettered one by one (issue 19).

use std::collections::BTreeSet;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::Consumer;
use rdkafka::error::KafkaError;
use tokio_util::sync::CancellationToken;

use crate::config::KafkaConfig;
use crate::error::IoError;

use super::client::client_config;
use super::table_topic;

const METADATA_TIMEOUT: Duration = Duration::from_secs(10);

/// The topics the cluster knows, asked until it answers (`None` on shutdown).
async fn existing(kafka: &KafkaConfig, shutdown: &CancellationToken) -> Option<BTreeSet<String>> {
    let kafka = kafka.clone();
    let names = move || {
        let consumer = table_topic::reader(&kafka, "metadata")?;
        let metadata = consumer.fetch_metadata(None, METADATA_TIMEOUT)?;
        Ok::<_, KafkaError>(
            metadata
                .topics()
                .iter()
                .filter(|t| t.error().is_none() && !t.partitions().is_empty())
                .map(|t| t.name().to_owned())
                .collect(),
        )
    };
    table_topic::retrying(shutdown, "cluster metadata", names, |_| {}).await
}

/// Checks that every output topic exists; creates the missing ones when `kafka.create_topics`.
pub async fn ensure_outputs(
    kafka: &KafkaConfig,
    shutdown: &CancellationToken,
) -> Result<(), IoError> {
    let Some(existing) = existing(kafka, shutdown).await else {
        return Ok(());
    };
    let missing: Vec<(&str, bool)> = kafka
        .output_topics()
        .into_iter()
        .filter(|(name, _)| !existing.contains(*name))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = missing.iter().map(|(n, _)| *n).collect();
    if !kafka.create_topics {
        return Err(IoError::MissingTopics(names.join(", ")));
    }
    create(kafka, &missing).await?;
    tracing::info!(topics = ?names, "output topics created (kafka.create_topics)");
    Ok(())
}

async fn create(kafka: &KafkaConfig, topics: &[(&str, bool)]) -> Result<(), IoError> {
    let admin: AdminClient<DefaultClientContext> = client_config(kafka).create()?;
    let partitions = kafka.create_partitions.max(1);
    let new: Vec<NewTopic> = topics
        .iter()
        .map(|(name, compacted)| {
            let topic = NewTopic::new(name, partitions, TopicReplication::Fixed(-1));
            if *compacted {
                topic.set("cleanup.policy", "compact")
            } else {
                topic
            }
        })
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    for result in admin.create_topics(&new, &options).await? {
        match result {
            Ok(_) => {}
            Err((_, rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => {
                return Err(IoError::MissingTopics(format!(
                    "{name} (creating it: {code})"
                )))
            }
        }
    }
    Ok(())
}
