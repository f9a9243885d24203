//! File ingest for `vigil replay`: recorded input as NDJSON envelopes
//! (`{"topic", "key", "value"}`), read line by line into the same pipeline as Kafka, on
//! partition 0, with line numbers continuing across the input files in the order given.
//! Fully event-time, so the same input always gives the same output.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::lines::{BoundedLines, Line};
use crate::error::IoError;
use crate::model::EventTime;

use super::pipeline::{oversized, Disposition, Outcome, Pipeline};
use super::reason::{ReasonCode, Rejection};
use super::record::{Position, RecordRef};

/// Replay reads every file as partition 0.
pub const REPLAY_PARTITION: i32 = 0;

/// Bytes an envelope may add around its `value` before a line counts as oversized.
const ENVELOPE_SLACK: usize = 64 * 1024;

/// A recorded-input line: `{"topic", "key", "value"}`.
#[derive(Deserialize)]
pub(crate) struct Envelope<'a> {
    #[serde(borrow)]
    pub(crate) topic: Cow<'a, str>,
    #[serde(default, borrow)]
    pub(crate) key: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) value: &'a RawValue,
}

/// How fast to replay: as fast as possible, or paced at a multiple of event time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Speed {
    Max,
    Factor(f64),
}

impl std::str::FromStr for Speed {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "max" {
            return Ok(Speed::Max);
        }
        match s.parse::<f64>() {
            Ok(f) if f > 0.0 && f.is_finite() => Ok(Speed::Factor(f)),
            _ => Err(format!(
                "speed must be `max` or a positive factor, not {s:?}"
            )),
        }
    }
}

/// The end-of-run account: `read = applied + sum(dead) + late`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    pub read: u64,
    pub applied: u64,
    pub dead: BTreeMap<String, u64>,
    pub late: u64,
    pub warnings: BTreeMap<String, u64>,
}

impl Summary {
    pub fn dead_total(&self) -> u64 {
        self.dead.values().sum()
    }

    fn count(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Applied => self.applied += 1,
            Outcome::Held | Outcome::Deferred => {}
            Outcome::Dead(letter) => {
                *self.dead.entry(letter.reason_code.to_owned()).or_default() += 1
            }
            Outcome::Late(_) => self.late += 1,
        }
    }
}

/// Where replay writes what it did not apply.
#[derive(Default)]
pub struct ReplaySinks {
    pub dlq: Option<BufWriter<File>>,
    pub late: Option<BufWriter<File>>,
}

impl ReplaySinks {
    pub fn create(dlq: Option<&Path>, late: Option<&Path>) -> Result<Self, IoError> {
        Ok(ReplaySinks {
            dlq: dlq.map(create_output).transpose()?,
            late: late.map(create_output).transpose()?,
        })
    }

    fn write(&mut self, outcome: &Outcome) -> Result<(), IoError> {
        let (sink, letter, what) = match outcome {
            Outcome::Dead(letter) => (&mut self.dlq, letter, "dead letters"),
            Outcome::Late(letter) => (&mut self.late, letter, "late records"),
            Outcome::Applied | Outcome::Held | Outcome::Deferred => return Ok(()),
        };
        if let Some(sink) = sink {
            writeln!(sink, "{}", letter.to_json()).map_err(|source| IoError::Write {
                what: what.into(),
                source,
            })?;
        }
        Ok(())
    }

    pub fn flush(&mut self) -> Result<(), IoError> {
        for sink in [&mut self.dlq, &mut self.late].into_iter().flatten() {
            sink.flush().map_err(|source| IoError::Write {
                what: "replay outputs".into(),
                source,
            })?;
        }
        Ok(())
    }
}

/// Creates (truncates) an NDJSON output file of a replay.
pub fn create_output(path: &Path) -> Result<BufWriter<File>, IoError> {
    File::create(path)
        .map(BufWriter::new)
        .map_err(|source| IoError::File {
            path: path.to_owned(),
            source,
        })
}

/// The engine on a replay's clock: after every record, each tick due at the clock is
/// evaluated once the records up to it are applied; once more at the end of the input.
pub trait EventClock {
    /// The next tick to evaluate with the clock at `now`, if one is due; the next record
    /// waiting is at `next_record`.
    fn due(&self, now: EventTime, next_record: Option<EventTime>) -> Option<EventTime>;
    /// Evaluates the tick at `at`; every record up to it has been applied.
    fn tick(&mut self, at: EventTime) -> Result<(), IoError>;
    /// Where the first tick is (the pipeline's origin), told before the first `due`.
    fn start_at(&mut self, origin: EventTime);
    /// The input is over: everything up to `end` (the newest event time) is in.
    fn finish(&mut self, end: EventTime) -> Result<(), IoError>;
}

/// Replays `inputs` through `pipeline`. `on_bytes` is told how many bytes were consumed
/// (for a progress bar).
pub struct Replay<'p> {
    pipeline: &'p mut Pipeline,
    sinks: ReplaySinks,
    speed: Speed,
    summary: Summary,
    line: u64,
    max_line_bytes: usize,
    pacing: Option<(Instant, EventTime)>,
    out: Vec<Disposition>,
    clock: Option<&'p mut dyn EventClock>,
}

/// The longest recorded-input line that can carry a message of `max_message_bytes`.
pub fn max_line_bytes(max_message_bytes: usize) -> usize {
    max_message_bytes.saturating_add(ENVELOPE_SLACK)
}

impl<'p> Replay<'p> {
    pub fn new(
        pipeline: &'p mut Pipeline,
        sinks: ReplaySinks,
        speed: Speed,
        max_message_bytes: usize,
    ) -> Self {
        Replay {
            pipeline,
            sinks,
            speed,
            summary: Summary::default(),
            line: 0,
            max_line_bytes: max_line_bytes(max_message_bytes),
            pacing: None,
            out: Vec::new(),
            clock: None,
        }
    }

    /// Tells `clock` how event time advances.
    pub fn with_clock(mut self, clock: &'p mut dyn EventClock) -> Self {
        self.pipeline.defer_to_ticks();
        self.clock = Some(clock);
        self
    }

    pub fn run(
        mut self,
        inputs: &[PathBuf],
        mut on_bytes: impl FnMut(u64),
    ) -> Result<Summary, IoError> {
        for path in inputs {
            let file = File::open(path).map_err(|source| IoError::File {
                path: path.clone(),
                source,
            })?;
            self.read_file(BufReader::with_capacity(1 << 20, file), path, &mut on_bytes)?;
        }
        if let Some(now) = self.pipeline.partition_watermark(REPLAY_PARTITION) {
            self.tick_until(now)?;
        }
        self.pipeline.finish(&mut self.out);
        self.drain_out()?;
        let end = self.pipeline.partition_max_event(REPLAY_PARTITION);
        if let (Some(clock), Some(end)) = (self.clock.as_mut(), end) {
            clock.finish(end)?;
        }
        self.sinks.flush()?;
        Ok(self.summary)
    }

    fn read_file(
        &mut self,
        reader: impl BufRead,
        path: &Path,
        on_bytes: &mut impl FnMut(u64),
    ) -> Result<(), IoError> {
        let mut lines = BoundedLines::new(reader, self.max_line_bytes);
        loop {
            let next = lines.next_line().map_err(|source| IoError::File {
                path: path.to_owned(),
                source,
            })?;
            let Some((line, bytes)) = next else {
                return Ok(());
            };
            on_bytes(bytes);
            self.line += 1;
            match line {
                Line::Complete(line) => self.process_line(line)?,
                Line::Oversized { head, len } => {
                    self.reject_line(head, oversized(len, self.max_line_bytes))?
                }
            }
        }
    }

    fn process_line(&mut self, line: &[u8]) -> Result<(), IoError> {
        let envelope = match parse_envelope(line) {
            Ok(envelope) => envelope,
            Err(rejection) => return self.reject_line(line, rejection),
        };
        let record = RecordRef {
            topic: &envelope.topic,
            partition: REPLAY_PARTITION,
            position: Position::Line(self.line),
            key: envelope.key.as_deref().map(str::as_bytes),
            payload: envelope.value.get().as_bytes(),
        };
        self.summary.read += 1;
        self.pipeline.process(record, None, &mut self.out);
        self.drain_out()?;
        if let Some(now) = self.pipeline.partition_watermark(REPLAY_PARTITION) {
            self.tick_until(now)?;
        }
        self.pace();
        Ok(())
    }

    /// Evaluates every tick due with the clock at `now`, each after the records up to it.
    fn tick_until(&mut self, now: EventTime) -> Result<(), IoError> {
        if let (Some(clock), Some(origin)) = (self.clock.as_mut(), self.pipeline.origin()) {
            clock.start_at(origin);
        }
        while let Some(at) = {
            let next_record = self.pipeline.next_deferred();
            self.clock.as_ref().and_then(|c| c.due(now, next_record))
        } {
            self.pipeline.release_until(at, &mut self.out);
            self.drain_out()?;
            if let Some(clock) = self.clock.as_mut() {
                clock.tick(at)?;
            }
        }
        Ok(())
    }

    /// A line that is not a usable envelope: read, and dead-lettered at once.
    fn reject_line(&mut self, line: &[u8], rejection: Rejection) -> Result<(), IoError> {
        self.summary.read += 1;
        let record = RecordRef {
            topic: "",
            partition: REPLAY_PARTITION,
            position: Position::Line(self.line),
            key: None,
            payload: line,
        };
        self.pipeline
            .reject_unreadable(&record, rejection, &mut self.out);
        self.drain_out()
    }

    fn drain_out(&mut self) -> Result<(), IoError> {
        for disposition in std::mem::take(&mut self.out) {
            self.summary.count(&disposition.outcome);
            self.sinks.write(&disposition.outcome)?;
        }
        Ok(())
    }

    /// Sleeps so that event time advances `factor` times faster than wall time.
    fn pace(&mut self) {
        let Speed::Factor(factor) = self.speed else {
            return;
        };
        let Some(now_event) = self.pipeline.partition_watermark(REPLAY_PARTITION) else {
            return;
        };
        let (start_wall, start_event) = *self.pacing.get_or_insert((Instant::now(), now_event));
        let event_elapsed_ms = (now_event.millis() - start_event.millis()).max(0) as f64;
        let due = start_wall + Duration::from_secs_f64(event_elapsed_ms / 1000.0 / factor);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
}

pub(crate) fn parse_envelope(line: &[u8]) -> Result<Envelope<'_>, Rejection> {
    serde_json::from_slice::<Envelope<'_>>(line).map_err(|e| {
        let rejection = super::decode::classify(&e, line);
        match rejection.code {
            ReasonCode::NotJson | ReasonCode::NotUtf8 | ReasonCode::NonFiniteNumber => rejection,
            _ if !line.trim_ascii_start().starts_with(b"{") => {
                Rejection::new(ReasonCode::NotObject, "the line is not a JSON object")
            }
            _ => Rejection::new(
                ReasonCode::BadEnvelope,
                format!("not a {{\"topic\", \"key\", \"value\"}} envelope: {e}"),
            ),
        }
    })
}
