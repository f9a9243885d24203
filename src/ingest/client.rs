//! The librdkafka settings of every client vigil makes: shared ones, then the consumer's and
//! the producer's, then the user's pass-through properties over them.

use std::collections::BTreeMap;

use rdkafka::config::ClientConfig;

use crate::config::KafkaConfig;

/// The librdkafka settings shared by consumer and producer, then the user's pass-through.
pub(crate) fn client_config(kafka: &KafkaConfig) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", &kafka.brokers);
    overlay_map(&mut config, &kafka.properties);
    config
}

pub(crate) fn consumer_config(kafka: &KafkaConfig) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("group.id", &kafka.group_id)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        // Range assignment keeps partition N of every input topic on one member (see
        // `rebalance` for why not cooperative-sticky).
        .set("partition.assignment.strategy", "range")
        .set(
            "queued.max.messages.kbytes",
            kafka.queued_max_messages_kbytes.to_string(),
        )
        .set("fetch.queue.backoff.ms", "10")
        // A fresh partition waits for its registry's end (see `rebalance`).
        .set("enable.partition.eof", "true")
        // Consumer lag, and the low offsets `fetched` reads (the high ones come with every
        // fetch response).
        .set("statistics.interval.ms", "1000");
    overlay(&mut config, client_config(kafka));
    overlay_map(&mut config, &kafka.consumer_properties);
    config
}

pub(crate) fn producer_config(kafka: &KafkaConfig) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        // A producer may ask the broker to create a topic it writes to; an output topic that
        // was deleted would come back with the broker's defaults instead of being dead-lettered
        // (issue 19). Topics are created only where `kafka.create_topics` says so.
        .set("allow.auto.create.topics", kafka.create_topics.to_string());
    overlay(&mut config, client_config(kafka));
    overlay_map(&mut config, &kafka.producer_properties);
    config
}

fn overlay(config: &mut ClientConfig, other: ClientConfig) {
    for (key, value) in other.config_map() {
        config.set(key, value);
    }
}

fn overlay_map(config: &mut ClientConfig, properties: &BTreeMap<String, String>) {
    for (key, value) in properties {
        config.set(key, value);
    }
}
