//! The next time the clock reaches a deadline (`locality::Deadline`) of a shard's rows: when a
//! local rule that compares those rows with `now` must look at the shard again.

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::TimestampMillisecondType;

use crate::model::EventTime;

/// The earliest instant after `now` at which `column + offset_ms` of some row of `batch` can
/// turn a comparison with the clock. A comparison at exactly its deadline may still turn just
/// after it, so a deadline equal to `now` is due a millisecond later. A column that is not a
/// timestamp is due at once: it cannot be read, so nothing can be carried.
pub fn earliest(
    batch: &RecordBatch,
    column: &str,
    offset_ms: i64,
    now: EventTime,
) -> Option<EventTime> {
    let soonest = now.millis().saturating_add(1);
    let Some(values) = batch.column_by_name(column) else {
        return Some(EventTime::from_millis(soonest));
    };
    let Some(values) = values.as_primitive_opt::<TimestampMillisecondType>() else {
        return Some(EventTime::from_millis(soonest));
    };
    let earliest = values
        .iter()
        .flatten()
        .map(|v| v.saturating_add(offset_ms))
        .filter(|at| *at >= now.millis())
        .min()?;
    Some(EventTime::from_millis(earliest.max(soonest)))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::TimestampMillisecondArray;
    use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};

    use super::*;

    fn batch(values: Vec<Option<i64>>) -> RecordBatch {
        let array = TimestampMillisecondArray::from(values).with_timezone("UTC");
        let field = Field::new(
            "offline_at",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            true,
        );
        RecordBatch::try_new(Arc::new(Schema::new(vec![field])), vec![Arc::new(array)]).unwrap()
    }

    fn at(ms: i64) -> EventTime {
        EventTime::from_millis(ms)
    }

    #[test]
    fn the_next_deadline_is_the_earliest_still_ahead() {
        let rows = batch(vec![Some(1_000), None, Some(5_000), Some(9_000)]);
        assert_eq!(earliest(&rows, "offline_at", 0, at(2_000)), Some(at(5_000)));
        assert_eq!(
            earliest(&rows, "offline_at", 60_000, at(62_000)),
            Some(at(65_000))
        );
        assert_eq!(earliest(&rows, "offline_at", 0, at(9_001)), None);
    }

    #[test]
    fn a_deadline_reached_exactly_is_due_just_after() {
        let rows = batch(vec![Some(5_000)]);
        assert_eq!(earliest(&rows, "offline_at", 0, at(5_000)), Some(at(5_001)));
    }

    #[test]
    fn an_unreadable_column_is_due_at_once() {
        let rows = batch(vec![Some(5_000)]);
        assert_eq!(earliest(&rows, "nope", 0, at(1)), Some(at(2)));
    }
}
