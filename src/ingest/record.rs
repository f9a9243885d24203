//! A record as a source hands it to the pipeline, and where it came from.

use serde::{Deserialize, Serialize};

use crate::model::Topic;

/// Where a record sits in its source: a Kafka offset, or a line number of a replay file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    Offset(i64),
    Line(u64),
}

/// A record borrowed from the source's buffer.
#[derive(Clone, Copy, Debug)]
pub struct RecordRef<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub position: Position,
    pub key: Option<&'a [u8]>,
    pub payload: &'a [u8],
}

/// An owned copy, for records that must wait (pending registry entries).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OwnedRecord {
    pub topic: String,
    pub partition: i32,
    pub position: Position,
    #[serde(with = "serde_bytes")]
    pub key: Option<Vec<u8>>,
    #[serde(with = "serde_bytes")]
    pub payload: Vec<u8>,
}

impl RecordRef<'_> {
    pub fn to_owned(&self) -> OwnedRecord {
        OwnedRecord {
            topic: self.topic.to_owned(),
            partition: self.partition,
            position: self.position,
            key: self.key.map(<[u8]>::to_vec),
            payload: self.payload.to_vec(),
        }
    }
}

impl OwnedRecord {
    pub fn as_ref(&self) -> RecordRef<'_> {
        RecordRef {
            topic: &self.topic,
            partition: self.partition,
            position: self.position,
            key: self.key.as_deref(),
            payload: &self.payload,
        }
    }
}

/// The source position of a record, small enough to pass around for every record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin {
    /// `None` when the topic is not one vigil knows.
    pub topic: Option<Topic>,
    pub partition: i32,
    pub position: Position,
}
