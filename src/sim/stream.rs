//! The whole simulated stream of a province over a span, in event-time order: the business
//! records, the alarms scenarios script, the readings, and the alarms the enterprises' DCS
//! raise from those readings. What `vigil sim --out`, the demo and the load generator send.

use std::iter::Peekable;
use std::vec;

use crate::model::EventTime;

use super::business;
use super::dcs::{self, Dcs};
use super::readings::Reading;
use super::span::Span;
use super::{ReadingStream, SimRecord};

/// One item of the stream: a reading, kept borrowed for the generator's fast path, or any
/// other record with its event time.
pub enum SimItem<'p> {
    Reading(Reading<'p>),
    Record(EventTime, SimRecord),
}

impl SimItem<'_> {
    pub fn time(&self) -> EventTime {
        match self {
            SimItem::Reading(reading) => reading.ts,
            SimItem::Record(at, _) => *at,
        }
    }

    pub fn into_record(self) -> SimRecord {
        match self {
            SimItem::Reading(reading) => reading.to_record(),
            SimItem::Record(_, record) => record,
        }
    }
}

pub struct ProvinceStream<'p> {
    readings: ReadingStream<'p>,
    dcs: Dcs<'p>,
    records: Peekable<vec::IntoIter<(EventTime, SimRecord)>>,
    /// The alarm the last reading raised, sent right after it.
    alarm: Option<(EventTime, SimRecord)>,
    end: EventTime,
}

impl<'p> ProvinceStream<'p> {
    pub fn new(span: Span<'p>) -> Self {
        let mut records = business::stream(&span);
        records.extend(dcs::scripted(&span));
        records.sort_by_key(|(at, _)| *at);
        ProvinceStream {
            readings: ReadingStream::new(span.province, span.seed, span.start)
                .with_injections(span.injections.to_vec()),
            dcs: Dcs::new(span.province, span.injections),
            records: records.into_iter().peekable(),
            alarm: None,
            end: span.end,
        }
    }

    /// Event time of the next item.
    pub fn peek_time(&mut self) -> Option<EventTime> {
        let reading = self.readings.peek_time().filter(|t| *t < self.end);
        let record = self.records.peek().map(|(at, _)| *at);
        let alarm = self.alarm.as_ref().map(|(at, _)| *at);
        [alarm, record, reading].into_iter().flatten().min()
    }
}

impl<'p> Iterator for ProvinceStream<'p> {
    type Item = SimItem<'p>;

    fn next(&mut self) -> Option<SimItem<'p>> {
        if let Some((at, alarm)) = self.alarm.take() {
            return Some(SimItem::Record(at, alarm));
        }
        let reading_at = self.readings.peek_time().filter(|t| *t < self.end);
        let record_first = match (self.records.peek(), reading_at) {
            (Some((at, _)), Some(reading)) => *at <= reading,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if record_first {
            return self.records.next().map(|(at, r)| SimItem::Record(at, r));
        }
        reading_at?;
        let reading = self.readings.next_reading()?;
        self.alarm = self.dcs.observe(&reading).map(|alarm| (reading.ts, alarm));
        Some(SimItem::Reading(reading))
    }
}
