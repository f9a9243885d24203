//! How far each input stream goes, as the consumer last heard from the broker: librdkafka
//! keeps every partition's high offset from the newest fetch response (and the low offset
//! from the statistics), so asking costs no round trip. Fresher than the statistics (one a
//! second): a partition whose records arrive in the same fetch as another's is not taken for
//! read to its end while they are on their way.

use std::ffi::CString;

use rdkafka::bindings::{rd_kafka_get_watermark_offsets, rd_kafka_resp_err_t};
use rdkafka::client::{Client, ClientContext};

use crate::model::Topic;

/// An input topic, named for librdkafka.
pub struct InputTopic {
    pub topic: Topic,
    name: CString,
}

impl InputTopic {
    /// The input topics vigil knows by these names (others carry no stream of its own).
    pub fn all(names: &[String]) -> Vec<InputTopic> {
        names
            .iter()
            .filter_map(|name| {
                Some(InputTopic {
                    topic: Topic::from_name(name)?,
                    name: CString::new(name.as_str()).ok()?,
                })
            })
            .collect()
    }

    /// The (low, high) offsets of `partition` as last fetched; `None` before its first fetch
    /// response (the end is unknown, not zero).
    pub fn ends<C: ClientContext>(&self, client: &Client<C>, partition: i32) -> Option<(i64, i64)> {
        let (mut low, mut high) = (-1_i64, -1_i64);
        // SAFETY: `client` keeps its native handle alive for the call; `name` is a
        // NUL-terminated string that outlives it; librdkafka only writes the two out-params.
        let error = unsafe {
            rd_kafka_get_watermark_offsets(
                client.native_ptr(),
                self.name.as_ptr(),
                partition,
                &mut low,
                &mut high,
            )
        };
        let known = error == rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR && high >= 0;
        // The low offset comes with the statistics: unknown before them, count from 0.
        known.then_some((low.max(0), high))
    }
}
