//! The Tennessee Eastman process (Downs and Vogel, 1993; the Russell–Chiang–Braatz data in
//! `../shared/data/tep`) as one simulated enterprise: its reactor, separator, stripper and
//! feed measurements stream as `sensor.reading` events, one sample every 3 minutes (or
//! compressed). Alarm limits come from the plant's operating constraints where Downs and Vogel
//! give them (reactor pressure 2 895 / 3 000 kPa, reactor temperature 150 / 175 °C) and are
//! learned from the normal-operation training run elsewhere: mean ± 4σ (level 1) and ± 6σ
//! (level 2).

use std::path::Path;

use serde_json::json;

use crate::model::{EventTime, Indicator, IndicatorKind};

use super::SimRecord;

/// The enterprise that carries the plant.
pub const ENTERPRISE: &str = "33010299001";
const REGION: &str = "330102";
/// One sample every 3 minutes.
pub const SAMPLE_MS: i64 = 180_000;
/// The faulty runs introduce their fault after this many samples (8 hours).
pub const FAULT_AFTER_SAMPLES: i64 = 160;

/// (XMEAS column, code, kind, unit, fixed limits (l1_hi, l2_hi) from the plant constraints).
type Point = (
    usize,
    &'static str,
    IndicatorKind,
    &'static str,
    Option<(f64, f64)>,
);

const POINTS: [Point; 14] = [
    (1, "FI001", IndicatorKind::Flow, "kscmh", None),
    (2, "FI002", IndicatorKind::Flow, "kg/h", None),
    (3, "FI003", IndicatorKind::Flow, "kg/h", None),
    (4, "FI004", IndicatorKind::Flow, "kscmh", None),
    (6, "FI006", IndicatorKind::Flow, "kscmh", None),
    (
        7,
        "PT007",
        IndicatorKind::Press,
        "kPa",
        Some((2895.0, 3000.0)),
    ),
    (8, "LT008", IndicatorKind::Level, "%", None),
    (
        9,
        "TT009",
        IndicatorKind::Temp,
        "degC",
        Some((150.0, 175.0)),
    ),
    (11, "TT011", IndicatorKind::Temp, "degC", None),
    (12, "LT012", IndicatorKind::Level, "%", None),
    (13, "PT013", IndicatorKind::Press, "kPa", None),
    (15, "LT015", IndicatorKind::Level, "%", None),
    (16, "PT016", IndicatorKind::Press, "kPa", None),
    (18, "TT018", IndicatorKind::Temp, "degC", None),
];

#[derive(Debug, thiserror::Error)]
pub enum TepError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Format { path: String, message: String },
}

/// Samples × 52 variables; a transposed file (52 rows) is turned the right way.
pub fn load(path: &Path) -> Result<Vec<Vec<f64>>, TepError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| TepError::Read {
        path: name.clone(),
        source,
    })?;
    let rows: Vec<Vec<f64>> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(str::parse).collect())
        .collect::<Result<_, _>>()
        .map_err(|e| TepError::Format {
            path: name.clone(),
            message: format!("not a number: {e}"),
        })?;
    let width = rows.first().map_or(0, Vec::len);
    if rows.iter().any(|r| r.len() != width) || rows.is_empty() {
        return Err(TepError::Format {
            path: name,
            message: "rows of different lengths".into(),
        });
    }
    if rows.len() == 52 && width != 52 {
        return Ok((0..width)
            .map(|c| rows.iter().map(|r| r[c]).collect())
            .collect());
    }
    if width != 52 {
        return Err(TepError::Format {
            path: name,
            message: format!("{width} columns, expected 52 (XMEAS 1-41, XMV 1-11)"),
        });
    }
    Ok(rows)
}

/// The plant's indicators, limits learned from `training` (samples × 52) where the plant gives
/// none; `period_s` is the (compressed) sampling period.
pub fn indicators(training: &[Vec<f64>], period_s: u32) -> Vec<Indicator> {
    POINTS
        .iter()
        .map(|&(column, code, kind, unit, fixed)| {
            let values: Vec<f64> = training.iter().map(|s| s[column - 1]).collect();
            let (mean, sd) = mean_sd(&values);
            let (l1_hi, l2_hi) = fixed.unwrap_or((mean + 4.0 * sd, mean + 6.0 * sd));
            let learned_lo = fixed
                .is_none()
                .then_some((mean - 4.0 * sd, mean - 6.0 * sd));
            let span = (l2_hi - mean).abs().max(1.0) * 10.0;
            Indicator {
                target_code: format!("{ENTERPRISE}-{code}"),
                enterprise_id: ENTERPRISE.into(),
                equip_id: Some(format!("{ENTERPRISE}-{}", equipment(column))),
                kind,
                unit: unit.into(),
                range_lo: (mean - span).min(0.0),
                range_hi: mean + span,
                l1_hi: Some(l1_hi),
                l2_hi: Some(l2_hi),
                l1_lo: learned_lo.map(|l| l.0),
                l2_lo: learned_lo.map(|l| l.1),
                deadband: None,
                on_delay_s: 0,
                off_delay_s: 0,
                expected_period_s: period_s,
                console_id: Some(format!("{ENTERPRISE}-C1")),
                priority: None,
                hazard_id: None,
                area_id: None,
            }
        })
        .collect()
}

fn equipment(column: usize) -> &'static str {
    match column {
        1..=6 => "FEED",
        7..=10 | 21 => "R-01",
        11..=14 | 22 => "V-01",
        _ => "C-01",
    }
}

fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, var.sqrt())
}

/// The registry records of the plant's enterprise and indicators.
pub fn registry(indicators: &[Indicator]) -> Vec<SimRecord> {
    let mut out = vec![SimRecord {
        topic: "registry",
        key: ENTERPRISE.into(),
        value: json!({"entity": "enterprise", "id": ENTERPRISE, "data": {
            "enterprise_id": ENTERPRISE, "name": "Tennessee Eastman plant (TEP benchmark)",
            "region_id": REGION, "city_id": "330100", "province_id": "330000",
            "industry": "chemical", "is_hazchem_producer": true, "static_diag_score": 80.0,
            "lat": 30.27, "lon": 120.2}}),
    }];
    out.extend(indicators.iter().map(|i| SimRecord {
        topic: "registry",
        key: ENTERPRISE.into(),
        value: json!({"entity": "indicator", "id": i.target_code, "data": i}),
    }));
    out
}

/// The readings of a run (samples × 52), sample `n` at `start + n × sample_ms`.
pub fn readings(
    run: &[Vec<f64>],
    indicators: &[Indicator],
    start: EventTime,
    sample_ms: i64,
) -> Vec<SimRecord> {
    let mut out = Vec::with_capacity(run.len() * POINTS.len());
    for (n, sample) in run.iter().enumerate() {
        let ts = start.saturating_add_ms(n as i64 * sample_ms);
        for (&(column, ..), indicator) in POINTS.iter().zip(indicators) {
            out.push(SimRecord {
                topic: "sensor.reading",
                key: ENTERPRISE.into(),
                value: json!({"ts": ts, "enterprise_id": ENTERPRISE,
                    "target_code": indicator.target_code, "value": sample[column - 1],
                    "quality": "good", "source": "cloud"}),
            });
        }
    }
    out
}
