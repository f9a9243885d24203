//! A unit's model of normal operation, as it travels: a registry record of entity
//! `monitor_model` on the compacted registry topic, written by `vigil learn`. Everything in it
//! is checked before use (`validate`): it comes from a topic anyone with write access fills.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::MonitorError;

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

impl MonitorModel {
    /// The model id of `unit` of `enterprise_id`.
    pub fn id_of(enterprise_id: &str, unit: &str) -> String {
        format!("{enterprise_id}/{unit}")
    }

    /// Retained components.
    pub fn components(&self) -> usize {
        self.loadings.len()
    }

    /// The digest of the model's content, `version` left out.
    pub fn digest(&self) -> String {
        let mut unversioned = self.clone();
        unversioned.version.clear();
        let bytes = serde_json::to_vec(&unversioned).expect("a model serialises");
        let hash = Sha256::digest(&bytes);
        hash[..6].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Checks every dimension, number and limit: a model that passes can score a sample
    /// without a panic, a division by zero or an unbounded loop.
    pub fn validate(&self) -> Result<(), MonitorError> {
        let invalid = |why: String| Err(MonitorError::Invalid(why));
        let p = self.indicators.len();
        if p == 0 || p > MAX_INDICATORS {
            return invalid(format!("{p} indicators (1..={MAX_INDICATORS})"));
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
        let token = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.';
        if self.version.is_empty() || self.version.len() > 64 || !self.version.chars().all(token) {
            return invalid(format!(
                "version {:?} (1..=64 of A-Za-z0-9-.)",
                self.version
            ));
        }
        Ok(())
    }
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
        let hostile: [(&str, Spoil); 9] = [
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
        ];
        for (what, spoil) in hostile {
            let mut m = model();
            spoil(&mut m);
            assert!(m.validate().is_err(), "{what} passed");
        }
    }
}
