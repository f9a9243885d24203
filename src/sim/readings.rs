//! The `sensor.reading` stream of a province: every indicator reports at its expected period
//! around its normal value, in event-time order, deterministically from a seed.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::model::{EventTime, IndicatorKind};

use super::scenario::Injection;
use super::{Province, SimRecord};

/// Readings of every indicator of a province from `start`, in event-time order.
pub struct ReadingStream<'p> {
    province: &'p Province,
    rng: ChaCha8Rng,
    /// (next due time, enterprise index, indicator index), earliest first.
    due: BinaryHeap<Reverse<(i64, u32, u32)>>,
    injections: Vec<Injection>,
}

/// The fixed parts of one indicator's NDJSON line, escaped once: the generator writes these,
/// the time and the value, instead of serialising every field of every reading.
pub struct LineTemplate {
    /// `{"topic":"sensor.reading","key":"<enterprise>","value":{"ts":"`
    head: String,
    /// `","enterprise_id":"<enterprise>","target_code":"<code>","value":`
    middle: String,
}

const TAIL: &str = ",\"quality\":\"good\"}}";

impl LineTemplate {
    pub fn new(enterprise_id: &str, target_code: &str) -> Self {
        let quoted = |s: &str| serde_json::to_string(s).expect("a string serialises");
        LineTemplate {
            head: format!(
                "{{\"topic\":\"sensor.reading\",\"key\":{},\"value\":{{\"ts\":\"",
                quoted(enterprise_id)
            ),
            middle: format!(
                "\",\"enterprise_id\":{},\"target_code\":{},\"value\":",
                quoted(enterprise_id),
                quoted(target_code)
            ),
        }
    }
}

/// RFC 3339 text of event times, with the part up to the second formatted once per second
/// (readings come in time order).
#[derive(Default)]
pub struct TimeText {
    second: i64,
    prefix: String,
}

impl TimeText {
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, as `EventTime::to_rfc3339` writes it.
    pub fn write(&mut self, ts: EventTime, out: &mut impl std::io::Write) -> std::io::Result<()> {
        let (second, millis) = (ts.millis().div_euclid(1000), ts.millis().rem_euclid(1000));
        if self.prefix.is_empty() || second != self.second {
            let full = EventTime::from_millis(second * 1000).to_rfc3339();
            // Everything before the milliseconds: "…:SS."
            self.prefix = full[..full.len() - 4].to_owned();
            self.second = second;
        }
        out.write_all(self.prefix.as_bytes())?;
        write!(out, "{millis:03}Z")
    }
}

impl<'p> ReadingStream<'p> {
    pub fn new(province: &'p Province, seed: u64, start: EventTime) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut due = BinaryHeap::new();
        for (e, ent) in province.enterprises.iter().enumerate() {
            for (i, indicator) in ent.indicators.iter().enumerate() {
                // Spread first reports over one period so the stream is smooth.
                let period_ms = i64::from(indicator.expected_period_s) * 1000;
                let first = start.millis() + rng.random_range(0..period_ms);
                due.push(Reverse((first, e as u32, i as u32)));
            }
        }
        ReadingStream {
            province,
            rng,
            due,
            injections: Vec::new(),
        }
    }

    /// The same stream with incidents injected (see `scenario`).
    pub fn with_injections(mut self, injections: Vec<Injection>) -> Self {
        self.injections = injections;
        self
    }

    /// Event time of the next reading.
    pub fn peek_time(&self) -> Option<EventTime> {
        self.due
            .peek()
            .map(|Reverse((t, _, _))| EventTime::from_millis(*t))
    }
}

/// How a point moves around its normal value over the day (plus noise): tanks fill and
/// empty twice a day (±8 % of span), temperatures follow the day (±2 °C, warmest mid-afternoon
/// local time), pressures follow their temperature (±12 kPa). Gas and O2 stay flat. Each point
/// has its own phase, so a province does not breathe in step. Amplitudes stay well inside the
/// level-1 limits: the normal stream must not warn.
fn daily_cycle(kind: IndicatorKind, ts: i64, point: u32) -> f64 {
    let day = 86_400_000.0;
    // Local solar-ish day: China Standard Time, warmest at 15:00.
    let local = (ts + 8 * 3_600_000) as f64;
    let phase = f64::from(point % 97) / 97.0 * std::f64::consts::TAU * 0.25;
    let angle = |period: f64, peak_ms: f64| {
        ((local - peak_ms) / period * std::f64::consts::TAU + phase).cos()
    };
    match kind {
        IndicatorKind::Level => 8.0 * angle(day / 2.0, 0.0),
        IndicatorKind::Temp => 2.0 * angle(day, 15.0 * 3_600_000.0),
        IndicatorKind::Press => 12.0 * angle(day, 15.0 * 3_600_000.0),
        _ => 0.0,
    }
}

/// One simulated reading, borrowed from the province: written straight to NDJSON without an
/// intermediate JSON tree (the generator's hot path).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reading<'p> {
    /// Indexes of the enterprise and the indicator in the province.
    pub enterprise: u32,
    pub indicator: u32,
    pub ts: EventTime,
    pub enterprise_id: &'p str,
    pub target_code: &'p str,
    pub value: f64,
}

#[derive(Serialize)]
struct Envelope<'a> {
    topic: &'static str,
    key: &'a str,
    value: Payload<'a>,
}

#[derive(Serialize)]
struct Payload<'a> {
    ts: EventTime,
    enterprise_id: &'a str,
    target_code: &'a str,
    value: f64,
    quality: &'static str,
}

impl Reading<'_> {
    fn envelope(&self) -> Envelope<'_> {
        Envelope {
            topic: "sensor.reading",
            key: self.enterprise_id,
            value: Payload {
                ts: self.ts,
                enterprise_id: self.enterprise_id,
                target_code: self.target_code,
                value: self.value,
                quality: "good",
            },
        }
    }

    /// The event alone, as it goes on the `sensor.reading` topic.
    pub fn write_event(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer(out, &self.envelope().value).map_err(std::io::Error::other)
    }

    /// One line of replay input, without the newline, through serde.
    pub fn write_ndjson(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer(out, &self.envelope()).map_err(std::io::Error::other)
    }

    /// The same bytes as `write_ndjson`, from the indicator's template (the generator's path).
    pub fn write_templated(
        &self,
        template: &LineTemplate,
        time: &mut TimeText,
        out: &mut impl std::io::Write,
    ) -> std::io::Result<()> {
        out.write_all(template.head.as_bytes())?;
        time.write(self.ts, out)?;
        out.write_all(template.middle.as_bytes())?;
        if self.value.is_finite() {
            out.write_all(ryu::Buffer::new().format_finite(self.value).as_bytes())?;
        } else {
            out.write_all(b"null")?;
        }
        out.write_all(TAIL.as_bytes())
    }

    pub fn to_record(&self) -> SimRecord {
        let envelope = self.envelope();
        SimRecord {
            topic: envelope.topic,
            key: self.enterprise_id.to_owned(),
            value: serde_json::to_value(&envelope.value).expect("a reading serialises"),
        }
    }
}

impl<'p> ReadingStream<'p> {
    /// The next reading in event-time order (scenarios applied; a silenced point skipped).
    pub fn next_reading(&mut self) -> Option<Reading<'p>> {
        loop {
            let Reverse((ts, e, i)) = self.due.pop()?;
            let province = self.province;
            let ent = &province.enterprises[e as usize];
            let indicator = &ent.indicators[i as usize];
            let (mean, noise) = ent.normals[i as usize];
            let cycle = daily_cycle(indicator.kind, ts, e.wrapping_mul(31).wrapping_add(i));
            let normal = mean + cycle + self.rng.random_range(-noise..=noise);
            self.due.push(Reverse((
                ts + i64::from(indicator.expected_period_s) * 1000,
                e,
                i,
            )));
            let injected = self.injections.iter().find(|j| {
                j.enterprise == e as usize && j.indicator == Some(i as usize) && j.covers(ts)
            });
            let value = match injected {
                None => normal,
                Some(j) => {
                    let l1 = indicator.l1_hi.unwrap_or(indicator.range_hi);
                    let l2 = indicator.l2_hi.unwrap_or(l1);
                    match j.value_at(ts, normal, mean, l1, l2) {
                        Some(v) => v,
                        None => continue,
                    }
                }
            };
            return Some(Reading {
                enterprise: e,
                indicator: i,
                ts: EventTime::from_millis(ts),
                enterprise_id: &ent.enterprise_id,
                target_code: &indicator.target_code,
                value: (value * 1000.0).round() / 1000.0,
            });
        }
    }
}

impl Iterator for ReadingStream<'_> {
    type Item = SimRecord;

    fn next(&mut self) -> Option<SimRecord> {
        self.next_reading().map(|r| r.to_record())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templated_lines_are_the_serde_lines() {
        let province = Province::generate(3, 4, 2);
        let start = EventTime::parse_rfc3339("2026-01-05T23:59:50Z").unwrap();
        let mut stream = ReadingStream::new(&province, 3, start);
        let mut time = TimeText::default();
        for _ in 0..2_000 {
            let mut r = stream.next_reading().unwrap();
            r.value = match r.indicator % 3 {
                0 => r.value,
                1 => -r.value.trunc(),
                _ => 1e-7 * r.value,
            };
            let ent = &province.enterprises[r.enterprise as usize];
            let template = LineTemplate::new(&ent.enterprise_id, r.target_code);
            let (mut fast, mut serde) = (Vec::new(), Vec::new());
            r.write_templated(&template, &mut time, &mut fast).unwrap();
            r.write_ndjson(&mut serde).unwrap();
            assert_eq!(
                String::from_utf8(fast).unwrap(),
                String::from_utf8(serde).unwrap()
            );
        }
    }
}
