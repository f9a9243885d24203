//! The dead-letter record (DESIGN.md §6), also used for late records on `vigil.late`.

use serde::Serialize;

use super::reason::{ReasonCode, Rejection};
use super::record::{Position, RecordRef};
use crate::model::EventTime;

/// How much of an oversized record's bytes its dead letter keeps.
const OVERSIZED_RAW_BYTES: usize = 64 * 1024;

/// Reason code of a record routed to the late output.
pub const LATE: &str = "late";

/// `{"topic", "partition", "offset" | "line", "reason_code", "reason", "raw"}`; late records
/// also carry the `watermark` they missed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeadLetter {
    pub topic: String,
    pub partition: i32,
    #[serde(flatten)]
    pub position: Position,
    pub reason_code: &'static str,
    pub reason: String,
    /// The original bytes, as lossy UTF-8.
    pub raw: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watermark: Option<EventTime>,
    /// The record's key, kept so the dead-letter topic is keyed like the input.
    #[serde(skip)]
    pub key: Option<Vec<u8>>,
}

impl DeadLetter {
    pub fn rejected(record: &RecordRef<'_>, rejection: Rejection) -> Self {
        let mut letter = Self::build(record, rejection.code.as_str(), rejection.detail, None);
        if rejection.code == ReasonCode::Oversized {
            letter.truncate_raw(OVERSIZED_RAW_BYTES);
        }
        letter
    }

    /// Keeps the first `limit` bytes of `raw` (on a character boundary), so a dead letter of
    /// an oversized record still fits on the dead-letter topic.
    fn truncate_raw(&mut self, limit: usize) {
        if self.raw.len() > limit {
            let cut = (0..=limit)
                .rev()
                .find(|i| self.raw.is_char_boundary(*i))
                .unwrap_or(0);
            self.raw.truncate(cut);
            self.raw.push_str("…[truncated]");
        }
    }

    pub fn late(record: &RecordRef<'_>, ts: EventTime, watermark: EventTime) -> Self {
        let reason = format!("event time {ts} is older than the watermark {watermark}");
        Self::build(record, LATE, reason, Some(watermark))
    }

    fn build(
        record: &RecordRef<'_>,
        reason_code: &'static str,
        reason: String,
        watermark: Option<EventTime>,
    ) -> Self {
        DeadLetter {
            topic: record.topic.to_owned(),
            partition: record.partition,
            position: record.position,
            reason_code,
            reason,
            raw: String::from_utf8_lossy(record.payload).into_owned(),
            watermark,
            key: record.key.map(<[u8]>::to_vec),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}
