//! A unit's model of normal operation, as it travels: a registry record of entity
//! `monitor_model` on the compacted registry topic, written by `vigil learn`. Everything in it
//! is checked before use (`validate`): it comes from a topic anyone with write access fills.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{MonitorError, Score};

/// Columns a model may have: more is not a unit, and would make each sample's score slow.
pub const MAX_INDICATORS: usize = 256;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorModel {
    /// `<enterprise_id>/<unit>`: the registry id.
    pub model_id: String,
    pub enterprise_id: String,
    /// The monitored unit: `plant` (the whole enterprise) or an equipment group.
    pub unit: String,
    /// Names the model in warnings' provenance: `vigil learn` writes a digest of the rest, so
    /// the same training gives the same version. (Not checked against the content: JSON
    /// parsing may move a number by its last bit.)
    pub version: String,
    /// The columns, in order: indicator target codes.
    pub indicators: Vec<String>,
    /// Samples are each indicator's latest value at every multiple of this period.
    pub sample_period_s: u32,
    /// Standardisation: z = (x − center) / scale.
    pub center: Vec<f64>,
    pub scale: Vec<f64>,
    /// Every eigenvalue of the standardised covariance, largest first (the residual ones set
    /// the SPE limit).
    pub eigenvalues: Vec<f64>,
    /// The retained principal directions, one vector of `indicators.len()` each.
    pub loadings: Vec<Vec<f64>>,
    /// The confidence of the limits (0.99: one normal sample in a hundred above).
    pub confidence: f64,
    pub t2_limit: f64,
    pub spe_limit: f64,
    /// Samples the model was fitted on (after outliers were trimmed).
    pub trained_samples: u32,
    /// Per indicator: its robust level in normal operation.
    pub baselines: Vec<Baseline>,
}

/// An indicator's normal level: median and median absolute deviation of its samples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub median: f64,
    pub mad: f64,
}

/// The nearest number with at most 15 significant digits and no digit below 1e-22: one that
/// JSON carries exactly. serde_json (without its slower `float_roundtrip`) parses such a
/// number with a single correctly rounded operation, while a 17-digit one may come back a
/// bit off; a model must reach every instance, through the registry topic, unchanged.
pub fn exact_in_json(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let magnitude = x.abs().log10().floor() as i32;
    if magnitude > 22 {
        return x;
    }
    let exponent = (magnitude - 14).max(-22);
    // Powers of ten up to 1e22 are exact doubles.
    if exponent >= 0 {
        let scale = 10f64.powi(exponent);
        (x / scale).round() * scale
    } else {
        let scale = 10f64.powi(-exponent);
        (x * scale).round() / scale
    }
}

impl MonitorModel {
    /// Every number made one JSON carries exactly (`exact_in_json`).
    pub fn exact_in_json(&mut self) {
        let numbers = self
            .center
            .iter_mut()
            .chain(&mut self.scale)
            .chain(&mut self.eigenvalues)
            .chain(self.loadings.iter_mut().flatten())
            .chain(
                self.baselines
                    .iter_mut()
                    .flat_map(|b| [&mut b.median, &mut b.mad]),
            )
            .chain([
                &mut self.confidence,
                &mut self.t2_limit,
                &mut self.spe_limit,
            ]);
        for x in numbers {
            *x = exact_in_json(*x);
        }
    }

    /// The registry record that carries the model (`vigil learn`'s output lines).
    pub fn registry_line(&self) -> serde_json::Value {
        serde_json::json!({
            "topic": "registry",
            "key": self.enterprise_id,
            "value": {"entity": "monitor_model", "id": self.model_id, "data": self},
        })
    }

    /// The model id of `unit` of `enterprise_id`.
    pub fn id_of(enterprise_id: &str, unit: &str) -> String {
        format!("{enterprise_id}/{unit}")
    }

    /// The sample period in milliseconds.
    pub fn period_ms(&self) -> i64 {
        i64::from(self.sample_period_s) * 1000
    }

    /// Whether a sample's T² or SPE is over its limit.
    pub fn exceeded(&self, score: &Score) -> bool {
        score.t2 > self.t2_limit || score.spe > self.spe_limit
    }

    /// Retained components.
    pub fn components(&self) -> usize {
        self.loadings.len()
    }

    /// The digest of the model's content, `version` left out.
    pub fn digest(&self) -> String {
        let mut unversioned = self.clone();
        unversioned.version.clear();
        version_of(&unversioned)
    }

    /// Checks every dimension, number and limit: a model that passes can score a sample
    /// without a panic, a division by zero or an unbounded loop.
    pub fn validate(&self) -> Result<(), MonitorError> {
        let invalid = |why: String| Err(MonitorError::Invalid(why));
        let p = self.indicators.len();
        if p == 0 || p > MAX_INDICATORS {
            return invalid(format!("{p} indicators (1..={MAX_INDICATORS})"));
        }
        // Sorted and unique: a reading finds its column by binary search.
        if self.indicators.windows(2).any(|w| w[0] >= w[1]) {
            return invalid("indicators must be sorted and unique".into());
        }
        if self.model_id != Self::id_of(&self.enterprise_id, &self.unit) {
            return invalid(format!(
                "model_id {:?} is not enterprise/unit",
                self.model_id
            ));
        }
        if self.center.len() != p
            || self.scale.len() != p
            || self.eigenvalues.len() != p
            || self.baselines.len() != p
        {
            return invalid(
                "center, scale, eigenvalues and baselines need one per indicator".into(),
            );
        }
        let k = self.components();
        if k == 0 || k > p || self.loadings.iter().any(|v| v.len() != p) {
            return invalid(format!("{k} loadings of {p} values (1..={p} components)"));
        }
        let numbers = self
            .center
            .iter()
            .chain(&self.scale)
            .chain(&self.eigenvalues);
        let loadings = self.loadings.iter().flatten();
        let baselines = self.baselines.iter().flat_map(|b| [&b.median, &b.mad]);
        if !numbers
            .chain(loadings)
            .chain(baselines)
            .all(|x| x.is_finite())
        {
            return invalid("a number is not finite".into());
        }
        if self.scale.iter().any(|s| *s <= 0.0) {
            return invalid("a scale is not positive".into());
        }
        if self.eigenvalues[..k].iter().any(|l| *l <= 0.0) {
            return invalid("a retained eigenvalue is not positive".into());
        }
        if !(0.5..1.0).contains(&self.confidence) {
            return invalid(format!("confidence {} (0.5..1)", self.confidence));
        }
        let limits = [self.t2_limit, self.spe_limit];
        if limits.iter().any(|l| !l.is_finite() || *l <= 0.0) {
            return invalid("a control limit is not a positive number".into());
        }
        if self.sample_period_s == 0 {
            return invalid("sample_period_s is 0".into());
        }
        check_version(&self.version)
    }
}

/// The version of learned content (its `version` left empty): 12 hex digits of the SHA-256 of
/// its JSON, so the same training gives the same version.
pub(super) fn version_of(content: &impl Serialize) -> String {
    let bytes = serde_json::to_vec(content).expect("learned content serialises");
    let hash = Sha256::digest(&bytes);
    hash[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// A version names a model or baseline in provenance: 1..=64 of A-Za-z0-9-.
pub(super) fn check_version(version: &str) -> Result<(), MonitorError> {
    let token = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.';
    if version.is_empty() || version.len() > 64 || !version.chars().all(token) {
        return Err(MonitorError::Invalid(format!(
            "version {version:?} (1..=64 of A-Za-z0-9-.)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> MonitorModel {
        let mut m = MonitorModel {
            model_id: "33010200001/plant".into(),
            enterprise_id: "33010200001".into(),
            unit: "plant".into(),
            version: String::new(),
            indicators: vec!["A".into(), "B".into()],
            sample_period_s: 60,
            center: vec![1.0, 2.0],
            scale: vec![0.5, 0.25],
            eigenvalues: vec![1.6, 0.4],
            loadings: vec![vec![0.6, 0.8]],
            confidence: 0.99,
            t2_limit: 7.5,
            spe_limit: 2.6,
            trained_samples: 100,
            baselines: vec![
                Baseline {
                    median: 1.0,
                    mad: 0.3,
                },
                Baseline {
                    median: 2.0,
                    mad: 0.2,
                },
            ],
        };
        m.version = m.digest();
        m
    }

    #[test]
    fn a_model_survives_json_and_validates() {
        let m = model();
        let text = serde_json::to_string(&m).unwrap();
        let back: MonitorModel = serde_json::from_str(&text).unwrap();
        assert_eq!(back, m);
        back.validate().unwrap();
    }

    #[test]
    fn hostile_models_are_refused() {
        type Spoil = fn(&mut MonitorModel);
        let hostile: [(&str, Spoil); 10] = [
            ("a NaN", |m| m.center[0] = f64::NAN),
            ("a zero scale", |m| m.scale[1] = 0.0),
            ("a short loading", |m| {
                m.loadings[0].pop().map(drop).unwrap()
            }),
            ("no component", |m| m.loadings.clear()),
            ("a missing eigenvalue", |m| m.eigenvalues.truncate(1)),
            ("a negative limit", |m| m.spe_limit = -1.0),
            ("a certain confidence", |m| m.confidence = 1.0),
            ("another enterprise's id", |m| {
                m.model_id = "33010200002/plant".into()
            }),
            ("a version with a newline", |m| m.version.push('\n')),
            ("unsorted indicators", |m| m.indicators.swap(0, 1)),
        ];
        for (what, spoil) in hostile {
            let mut m = model();
            spoil(&mut m);
            assert!(m.validate().is_err(), "{what} passed");
        }
    }
}

#[cfg(test)]
mod json_tests {
    use proptest::prelude::*;

    use super::exact_in_json;

    proptest! {
        #[test]
        fn numbers_made_exact_in_json_come_back_unchanged(
            mantissa in -1.0f64..1.0,
            exponent in -30i32..16,
        ) {
            let x = mantissa * 10f64.powi(exponent);
            let q = exact_in_json(x);
            prop_assert!((q - x).abs() <= 1e-14 * x.abs() + 1e-22);
            let text = serde_json::to_string(&q).unwrap();
            let through_value: serde_json::Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(through_value.as_f64().unwrap().to_bits(), q.to_bits(), "{}", text);
        }
    }
}
