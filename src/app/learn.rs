//! `vigil learn`: models of normal operation from recorded input (issue 22). The readings of
//! each enterprise are aligned into samples (`monitor::sample`), a model is fitted per unit
//! (`monitor::fit`) and written as a `monitor_model` registry record, each indicator's robust
//! baseline as an `indicator_baseline` record; `--check` scores a
//! held-out normal stream and reports how often it would have fired.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::Config;
use crate::error::IoError;
use crate::ingest::decode::decode;
use crate::ingest::lines::{BoundedLines, Line};
use crate::ingest::replay::{create_output, max_line_bytes, parse_envelope};
use crate::ingest::validate::check_fields;
use crate::model::{physical, Event, EventTime, Indicator, Quality, RegistryChange, Topic};
use crate::monitor::fit::{Fitted, Unit};
use crate::monitor::{
    fit, score, Aligner, FitOptions, IndicatorBaseline, MonitorError, MonitorModel, Sample,
};

/// A unit that is the whole enterprise (or, grouped, its indicators outside every group).
pub const PLANT: &str = "plant";

/// What a monitored unit is: the whole enterprise, or one group of its indicators by the
/// registry's `hazard_id` (a major hazard source) or `equip_id` (a piece of equipment).
/// Indicators without the grouping field form the unit `plant`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum UnitsBy {
    #[default]
    Plant,
    Hazard,
    Equipment,
}

impl UnitsBy {
    /// The unit an indicator belongs to.
    fn unit_of(self, indicator: &Indicator) -> &str {
        let group = match self {
            UnitsBy::Plant => None,
            UnitsBy::Hazard => indicator.hazard_id.as_deref(),
            UnitsBy::Equipment => indicator.equip_id.as_deref(),
        };
        group.filter(|g| !g.is_empty()).unwrap_or(PLANT)
    }
}

pub struct LearnOptions {
    pub inputs: Vec<PathBuf>,
    pub out: PathBuf,
    /// Longer input lines are skipped as invalid (`ingest.max_message_bytes` and the
    /// envelope).
    pub max_line_bytes: usize,
    /// What a monitored unit is.
    pub units_by: UnitsBy,
    /// Held-out normal streams to score with the new models.
    pub check: Vec<PathBuf>,
    /// The sample period; by default each enterprise's readings' median interval.
    pub sample_period: Option<Duration>,
    pub fit: FitOptions,
    /// The check's warning lifecycle, in samples: over a limit this many in a row fires...
    pub consecutive: usize,
    /// ...and under both this many in a row clears (a rule's `for` and `clear_after`).
    pub clear_after: usize,
}

/// The check's default lifecycle: a rule's `for` of 3 samples, `clear_after` of 10.
pub const DEFAULT_CONSECUTIVE: u32 = 3;
pub const DEFAULT_CLEAR_AFTER: u32 = 10;

impl LearnOptions {
    /// Learn from `inputs` into `out` with the defaults: no check, the inferred period,
    /// `FitOptions::default()`.
    pub fn new(inputs: Vec<PathBuf>, out: PathBuf) -> Self {
        LearnOptions {
            inputs,
            out,
            max_line_bytes: max_line_bytes(Config::default().ingest.max_message_bytes),
            units_by: UnitsBy::Plant,
            check: Vec::new(),
            sample_period: None,
            fit: FitOptions::default(),
            consecutive: DEFAULT_CONSECUTIVE as usize,
            clear_after: DEFAULT_CLEAR_AFTER as usize,
        }
    }
}

/// What was learned, and what the check found.
pub struct LearnReport {
    pub fitted: Vec<Fitted>,
    /// Every indicator's baseline (with at least `min_samples` good readings), models or not.
    pub baselines: Vec<IndicatorBaseline>,
    /// Units (`enterprise/unit`) with readings but no model, and why.
    pub skipped: Vec<(String, MonitorError)>,
    pub checks: Vec<CheckReport>,
    /// Input lines that do not decode or validate (other valid records are simply not used).
    pub invalid_lines: u64,
    /// Readings left out as physically impossible for their indicator.
    pub implausible_readings: u64,
}

/// A model scored over a held-out stream.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckReport {
    pub model_id: String,
    pub samples: usize,
    pub t2_over: usize,
    pub spe_over: usize,
    pub either_over: usize,
    /// Warnings fired: `consecutive` samples in a row with a statistic over its limit, each
    /// cleared by `clear_after` samples in a row under both.
    pub firings: usize,
    /// When each fired.
    pub fired_at: Vec<EventTime>,
}

/// Readings per enterprise, and which indicators the registry gave it.
#[derive(Default)]
pub struct Recorded {
    /// Per enterprise, its indicators by target code (the newest registry record of each).
    indicators: BTreeMap<String, BTreeMap<String, Indicator>>,
    /// (event time ms, target code, value), in input order.
    readings: BTreeMap<String, Vec<(i64, String, f64)>>,
    invalid_lines: u64,
    /// Readings the state would refuse as physically impossible for their indicator.
    implausible: u64,
}

impl Recorded {
    /// The records of `paths`; a line longer than `max_line_bytes` is skipped as invalid.
    pub fn read(paths: &[PathBuf], max_line_bytes: usize) -> Result<Self, IoError> {
        let mut recorded = Recorded::default();
        for path in paths {
            let io = |source| IoError::File {
                path: path.clone(),
                source,
            };
            let file = File::open(path).map_err(io)?;
            let mut lines = BoundedLines::new(BufReader::new(file), max_line_bytes);
            while let Some((line, _)) = lines.next_line().map_err(io)? {
                let taken = match line {
                    Line::Complete(line) => recorded.take(line),
                    Line::Oversized { .. } => None,
                };
                if taken.is_none() {
                    recorded.invalid_lines += 1;
                }
            }
        }
        recorded.drop_implausible();
        Ok(recorded)
    }

    /// Leaves out the readings the state's physical check refuses (a negative level, an
    /// oxygen share over 100 %): the engine never scores them, so the model must not learn
    /// from them. Readings of indicators the registry does not name are not used anyway.
    fn drop_implausible(&mut self) {
        for (enterprise, readings) in &mut self.readings {
            let Some(indicators) = self.indicators.get(enterprise) else {
                continue;
            };
            let before = readings.len();
            readings.retain(|(_, code, value)| {
                indicators
                    .get(code)
                    .is_none_or(|i| physical::check_reading(i.kind, &i.unit, *value).is_ok())
            });
            self.implausible += (before - readings.len()) as u64;
        }
    }

    /// Keeps a registry indicator or a good reading; `None` for a line that does not decode
    /// or validate.
    fn take(&mut self, line: &[u8]) -> Option<()> {
        let line = line.trim_ascii();
        if line.is_empty() {
            return Some(());
        }
        let envelope = parse_envelope(line).ok()?;
        let topic = Topic::from_name(&envelope.topic)?;
        let event = decode(topic, envelope.value.get().as_bytes()).ok()?;
        check_fields(&event).ok()?;
        match event {
            Event::Registry(RegistryChange::Indicator(indicator)) => {
                self.indicators
                    .entry(indicator.enterprise_id.clone())
                    .or_default()
                    .insert(indicator.target_code.clone(), *indicator);
            }
            Event::SensorReading(r) if r.quality == Quality::Good && r.value.is_finite() => {
                self.readings
                    .entry(r.enterprise_id.into_owned())
                    .or_default()
                    .push((r.ts.millis(), r.target_code.into_owned(), r.value));
            }
            _ => {}
        }
        Some(())
    }

    /// The enterprise's samples over `columns` every `period_ms`.
    fn samples(&self, enterprise: &str, columns: &[String], period_ms: i64) -> Vec<Sample> {
        let mut readings: Vec<&(i64, String, f64)> = self
            .readings
            .get(enterprise)
            .map(|r| r.iter().collect())
            .unwrap_or_default();
        // Stable: readings at the same time keep their input order, as the pipeline does.
        readings.sort_by_key(|(t, _, _)| *t);
        let mut aligner = Aligner::new(columns.len(), period_ms);
        let mut out = Vec::new();
        for (t, code, value) in readings {
            if let Ok(column) = columns.binary_search(code) {
                aligner.push(column, EventTime::from_millis(*t), *value, &mut out);
            }
        }
        aligner.finish(&mut out);
        out
    }

    /// The median interval between an enterprise's successive readings of one indicator,
    /// over its indicators, in whole seconds.
    fn median_period_ms(&self, enterprise: &str) -> Option<i64> {
        let mut times: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
        for (t, code, _) in self.readings.get(enterprise)? {
            times.entry(code).or_default().push(*t);
        }
        let mut intervals: Vec<i64> = times
            .into_values()
            .flat_map(|mut ts| {
                ts.sort_unstable();
                ts.dedup();
                ts.windows(2).map(|w| w[1] - w[0]).collect::<Vec<_>>()
            })
            .collect();
        if intervals.is_empty() {
            return None;
        }
        intervals.sort_unstable();
        let median = intervals[intervals.len() / 2];
        Some(((median + 500) / 1000).max(1) * 1000)
    }

    /// The robust baseline of each of the enterprise's indicators with at least `min` good
    /// readings.
    fn baselines(&self, enterprise: &str, min: usize) -> Vec<IndicatorBaseline> {
        let mut values: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        for (_, code, value) in self.readings.get(enterprise).into_iter().flatten() {
            values.entry(code).or_default().push(*value);
        }
        let registered = self.indicators.get(enterprise);
        values
            .into_iter()
            .filter(|(code, v)| v.len() >= min && registered.is_some_and(|r| r.contains_key(*code)))
            .map(|(code, mut v)| IndicatorBaseline::learn(enterprise, code, &mut v))
            .collect()
    }

    /// The enterprise's units: their names and (sorted) indicators.
    fn units(&self, enterprise: &str, by: UnitsBy) -> BTreeMap<&str, Vec<String>> {
        let mut units: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (code, indicator) in self.indicators.get(enterprise).into_iter().flatten() {
            units
                .entry(by.unit_of(indicator))
                .or_default()
                .push(code.clone());
        }
        units
    }
}

pub fn run(options: &LearnOptions) -> Result<LearnReport, IoError> {
    let recorded = Recorded::read(&options.inputs, options.max_line_bytes)?;
    let mut fitted = Vec::new();
    let mut skipped = Vec::new();
    let mut baselines = Vec::new();
    for enterprise in recorded.indicators.keys() {
        if !recorded.readings.contains_key(enterprise) {
            continue;
        }
        baselines.extend(recorded.baselines(enterprise, options.fit.min_samples));
        for (unit, columns) in recorded.units(enterprise, options.units_by) {
            match learn_unit(&recorded, enterprise, unit, &columns, options) {
                Ok(model) => fitted.push(model),
                Err(why) => skipped.push((MonitorModel::id_of(enterprise, unit), why)),
            }
        }
    }
    if fitted.is_empty() {
        let why = skipped.first().map_or_else(
            || "no enterprise has both registry indicators and readings".to_owned(),
            |(unit, why)| format!("{unit}: {why}"),
        );
        return Err(IoError::Learn(format!("no model fitted ({why})")));
    }
    write_models(&options.out, &fitted, &baselines)?;
    let checks = if options.check.is_empty() {
        Vec::new()
    } else {
        let held_out = Recorded::read(&options.check, options.max_line_bytes)?;
        fitted
            .iter()
            .map(|f| {
                check(
                    &held_out,
                    &f.model,
                    options.consecutive,
                    options.clear_after,
                )
            })
            .collect()
    };
    Ok(LearnReport {
        fitted,
        baselines,
        skipped,
        checks,
        invalid_lines: recorded.invalid_lines,
        implausible_readings: recorded.implausible,
    })
}

fn learn_unit(
    recorded: &Recorded,
    enterprise: &str,
    unit: &str,
    columns: &[String],
    options: &LearnOptions,
) -> Result<Fitted, MonitorError> {
    let period_ms = match options.sample_period {
        Some(period) => i64::try_from(period.as_millis()).unwrap_or(i64::MAX),
        None => recorded.median_period_ms(enterprise).unwrap_or(60_000),
    };
    let samples = recorded.samples(enterprise, columns, period_ms);
    let rows: Vec<Vec<f64>> = samples.into_iter().map(|s| s.values).collect();
    let unit = Unit {
        enterprise_id: enterprise.to_owned(),
        unit: unit.to_owned(),
        indicators: columns.to_vec(),
        sample_period_s: u32::try_from((period_ms / 1000).max(1)).unwrap_or(u32::MAX),
    };
    fit(&unit, &rows, &options.fit)
}

/// Scores every sample of `held_out` for the model's enterprise, and counts the warnings a
/// rule firing after `consecutive` samples over a limit and clearing after `clear_after`
/// samples under both would raise.
pub fn check(
    held_out: &Recorded,
    model: &MonitorModel,
    consecutive: usize,
    clear_after: usize,
) -> CheckReport {
    let samples = held_out.samples(&model.enterprise_id, &model.indicators, model.period_ms());
    let mut report = CheckReport {
        model_id: model.model_id.clone(),
        samples: samples.len(),
        t2_over: 0,
        spe_over: 0,
        either_over: 0,
        firings: 0,
        fired_at: Vec::new(),
    };
    let (mut over_run, mut under_run, mut firing) = (0, 0, false);
    for sample in &samples {
        let s = score(model, &sample.values);
        let over = model.exceeded(&s);
        report.t2_over += usize::from(s.t2 > model.t2_limit);
        report.spe_over += usize::from(s.spe > model.spe_limit);
        report.either_over += usize::from(over);
        if over {
            (over_run, under_run) = (over_run + 1, 0);
        } else {
            (over_run, under_run) = (0, under_run + 1);
        }
        if !firing && over_run >= consecutive.max(1) {
            firing = true;
            report.firings += 1;
            report.fired_at.push(sample.at);
        } else if firing && under_run >= clear_after.max(1) {
            firing = false;
        }
    }
    report
}

/// One registry record per model and per baseline: `{"topic": "registry", "key", "value":
/// {"entity": "monitor_model" | "indicator_baseline", "id", "data"}}`.
fn write_models(
    path: &Path,
    fitted: &[Fitted],
    baselines: &[IndicatorBaseline],
) -> Result<(), IoError> {
    let mut out = create_output(path)?;
    let write = |source| IoError::Write {
        what: path.display().to_string(),
        source,
    };
    for f in fitted {
        writeln!(out, "{}", f.model.registry_line()).map_err(write)?;
    }
    for b in baselines {
        writeln!(out, "{}", b.registry_line()).map_err(write)?;
    }
    out.flush().map_err(write)
}

impl LearnReport {
    /// What a person reads after `vigil learn`.
    pub fn describe(&self) -> String {
        let mut text = String::new();
        for f in &self.fitted {
            let m = &f.model;
            text += &format!(
                "{}: {} indicators{}, {} samples every {} s ({} trimmed), {} components explaining {:.1} %, T² limit {:.2}, SPE limit {:.2} at {} %, version {}\n",
                m.model_id,
                m.indicators.len(),
                if f.constant.is_empty() { String::new() } else { format!(" ({} constant left out: {})", f.constant.len(), f.constant.join(", ")) },
                m.trained_samples,
                m.sample_period_s,
                f.trimmed,
                m.components(),
                f.explained * 100.0,
                m.t2_limit,
                m.spe_limit,
                m.confidence * 100.0,
                m.version,
            );
        }
        if !self.baselines.is_empty() {
            text += &format!("{} indicator baseline(s)\n", self.baselines.len());
        }
        for (unit, why) in &self.skipped {
            text += &format!("{unit}: no model ({why})\n");
        }
        for c in &self.checks {
            let share = |n: usize| 100.0 * n as f64 / c.samples.max(1) as f64;
            text += &format!(
                "check {}: {} samples, T² over its limit {:.1} %, SPE {:.1} %, either {:.1} %; {} warning(s) would fire\n",
                c.model_id,
                c.samples,
                share(c.t2_over),
                share(c.spe_over),
                share(c.either_over),
                c.firings,
            );
        }
        if self.implausible_readings > 0 {
            text += &format!(
                "{} reading(s) physically impossible for their indicator, left out\n",
                self.implausible_readings
            );
        }
        if self.invalid_lines > 0 {
            text += &format!(
                "{} input line(s) did not decode or validate, and were left out\n",
                self.invalid_lines
            );
        }
        text
    }
}
