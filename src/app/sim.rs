//! `vigil sim --out FILE`: the simulated province's stream (registry, then readings in event
//! time order, with the scenarios injected) as replay NDJSON, and the scenarios' ground truth
//! as `--truth-out`. Same seed, same bytes. (The load generator to a broker is issue 3.)

use std::io::Write;
use std::path::PathBuf;

use crate::error::IoError;
use crate::ingest::replay::create_output;
use crate::model::EventTime;
use crate::sim::readings::{LineTemplate, TimeText};
use crate::sim::scenario::schedule;
use crate::sim::span::Span;
use crate::sim::{tep, Province, ProvinceStream, Scenario, SimItem};

pub struct SimOptions {
    pub out: PathBuf,
    pub truth_out: Option<PathBuf>,
    pub seed: u64,
    pub enterprises: usize,
    /// Seconds of event time.
    pub duration_s: u64,
    pub start: EventTime,
    pub scenarios: Vec<Scenario>,
}

/// What was written.
#[derive(Debug, PartialEq)]
pub struct SimReport {
    pub records: u64,
    pub injected: usize,
}

pub fn run(options: &SimOptions) -> Result<SimReport, IoError> {
    let province = Province::generate(options.seed, options.enterprises.max(1), 1);
    let duration_ms = i64::try_from(options.duration_s.saturating_mul(1000)).unwrap_or(i64::MAX);
    let injections = schedule(
        &province,
        &options.scenarios,
        options.seed,
        options.start,
        duration_ms,
    );
    let write_error = |source| IoError::Write {
        what: "simulated stream".into(),
        source,
    };
    let mut out = create_output(&options.out)?;
    let mut records = 0;
    for record in province.registry_records() {
        writeln!(out, "{}", record.to_ndjson()).map_err(write_error)?;
        records += 1;
    }
    let span = Span {
        province: &province,
        seed: options.seed,
        start: options.start,
        end: EventTime::from_millis(options.start.millis().saturating_add(duration_ms)),
        injections: &injections,
    };
    let templates: Vec<Vec<LineTemplate>> = province
        .enterprises
        .iter()
        .map(|e| {
            e.indicators
                .iter()
                .map(|i| LineTemplate::new(&e.enterprise_id, &i.target_code))
                .collect()
        })
        .collect();
    let mut time = TimeText::default();
    for item in ProvinceStream::new(span) {
        match item {
            SimItem::Reading(reading) => {
                let template = &templates[reading.enterprise as usize][reading.indicator as usize];
                reading
                    .write_templated(template, &mut time, &mut out)
                    .map_err(write_error)?;
                out.write_all(b"\n").map_err(write_error)?;
            }
            SimItem::Record(_, record) => {
                writeln!(out, "{}", record.to_ndjson()).map_err(write_error)?;
            }
        }
        records += 1;
    }
    out.flush().map_err(write_error)?;
    if let Some(path) = &options.truth_out {
        let mut truth = create_output(path)?;
        for line in injections.iter().flat_map(|i| i.truths(&province)) {
            let line = serde_json::to_string(&line).expect("ground truth serialises");
            writeln!(truth, "{line}").map_err(write_error)?;
        }
        truth.flush().map_err(write_error)?;
    }
    Ok(SimReport {
        records,
        injected: injections.len(),
    })
}

/// `vigil sim --tep RUN --tep-train TRAIN --out FILE`: the TEP plant as one enterprise.
pub struct TepOptions {
    pub run: PathBuf,
    pub train: PathBuf,
    pub out: PathBuf,
    pub start: EventTime,
    /// 3-minute samples come this many times faster (1: real time).
    pub compress: u32,
}

/// Writes the plant's registry and the run's readings; the records written.
pub fn run_tep(options: &TepOptions) -> Result<u64, SimError> {
    let compress = i64::from(options.compress.max(1));
    let sample_ms = (tep::SAMPLE_MS / compress).max(1);
    let period_s = u32::try_from((sample_ms / 1000).max(1)).unwrap_or(u32::MAX);
    let indicators = tep::indicators(&tep::load(&options.train)?, period_s);
    let run = tep::load(&options.run)?;
    let write_error = |source| IoError::Write {
        what: "TEP stream".into(),
        source,
    };
    let mut out = create_output(&options.out)?;
    let mut records = 0;
    let lines = tep::registry(&indicators).into_iter().chain(tep::readings(
        &run,
        &indicators,
        options.start,
        sample_ms,
    ));
    for record in lines {
        writeln!(out, "{}", record.to_ndjson()).map_err(write_error)?;
        records += 1;
    }
    out.flush().map_err(write_error)?;
    Ok(records)
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Io(#[from] IoError),
    #[error(transparent)]
    Tep(#[from] tep::TepError),
}
