//! An indicator's robust baseline of normal operation, and how far a value is from it: the
//! drift and rate-of-change columns of single indicators (`indicator_drift`). `vigil learn`
//! writes one per indicator it saw, as an `indicator_baseline` registry record, so it travels
//! and is checkpointed like the models.

use serde::{Deserialize, Serialize};

use super::model::{exact_in_json, version_of, Baseline};
use super::MonitorError;

/// 1.4826 · MAD estimates σ for normally distributed data.
pub const MAD_TO_SIGMA: f64 = 1.4826;

/// A robust σ is never taken below this share of the indicator's span: an indicator that did
/// not move while the model was learned must not make every later tremor an infinite drift.
pub const MIN_SCALE_OF_SPAN: f64 = 1e-3;

impl Baseline {
    /// The median and median absolute deviation of `values` (reordered).
    pub fn of(values: &mut [f64]) -> Baseline {
        let median = median_of(values);
        let mut deviations: Vec<f64> = values.iter().map(|v| (v - median).abs()).collect();
        Baseline {
            median,
            mad: median_of(&mut deviations),
        }
    }

    /// The robust σ (1.4826 · MAD), at least `MIN_SCALE_OF_SPAN` of `span`.
    pub fn scale(&self, span: f64) -> f64 {
        let floor = (span.abs() * MIN_SCALE_OF_SPAN).max(f64::MIN_POSITIVE);
        (self.mad * MAD_TO_SIGMA).max(floor)
    }
}

fn median_of(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// One indicator's baseline as it travels: registry entity `indicator_baseline`, id = the
/// indicator's target code, keyed by its enterprise.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorBaseline {
    pub enterprise_id: String,
    pub target_code: String,
    pub median: f64,
    pub mad: f64,
    /// Good readings it was learned from.
    pub samples: u32,
    /// A digest of the rest, as for models.
    pub version: String,
}

impl IndicatorBaseline {
    /// The baseline of `values` (reordered), its numbers exact in JSON, versioned.
    pub fn learn(enterprise_id: &str, target_code: &str, values: &mut [f64]) -> Self {
        let b = Baseline::of(values);
        let mut learned = IndicatorBaseline {
            enterprise_id: enterprise_id.to_owned(),
            target_code: target_code.to_owned(),
            median: exact_in_json(b.median),
            mad: exact_in_json(b.mad),
            samples: u32::try_from(values.len()).unwrap_or(u32::MAX),
            version: String::new(),
        };
        learned.version = version_of(&learned);
        learned
    }

    pub fn baseline(&self) -> Baseline {
        Baseline {
            median: self.median,
            mad: self.mad,
        }
    }

    /// The registry record that carries it (`vigil learn`'s output lines).
    pub fn registry_line(&self) -> serde_json::Value {
        serde_json::json!({
            "topic": "registry",
            "key": self.enterprise_id,
            "value": {"entity": "indicator_baseline", "id": self.target_code, "data": self},
        })
    }

    /// Finite numbers, a MAD not negative, at least one sample, a version token.
    pub fn validate(&self) -> Result<(), MonitorError> {
        let invalid = |why: String| Err(MonitorError::Invalid(why));
        if !self.median.is_finite() || !self.mad.is_finite() || self.mad < 0.0 {
            return invalid(format!(
                "median {} and mad {} must be finite, mad not negative",
                self.median, self.mad
            ));
        }
        if self.samples == 0 {
            return invalid("a baseline of no samples".into());
        }
        super::model::check_version(&self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_mad_of_a_small_sample() {
        // Median 3; deviations 2, 2, 0, 1, 97: MAD 2, whatever the outlier.
        let b = Baseline::of(&mut [5.0, 1.0, 3.0, 2.0, 100.0]);
        assert_eq!((b.median, b.mad), (3.0, 2.0));
        assert!((b.scale(100.0) - 2.9652).abs() < 1e-12);
        // A flat indicator is measured against a thousandth of its span.
        let flat = Baseline::of(&mut [7.0; 4]);
        assert_eq!(flat.scale(200.0), 0.2);
    }

    #[test]
    fn a_learned_baseline_validates_and_hostile_ones_do_not() {
        let good = IndicatorBaseline::learn("33010200001", "TT1", &mut [1.0, 2.0, 3.0]);
        good.validate().unwrap();
        let text = serde_json::to_string(&good).unwrap();
        assert_eq!(
            serde_json::from_str::<IndicatorBaseline>(&text).unwrap(),
            good
        );
        type Spoil = fn(&mut IndicatorBaseline);
        let hostile: [Spoil; 5] = [
            |b| b.median = f64::NAN,
            |b| b.mad = f64::INFINITY,
            |b| b.mad = -1.0,
            |b| b.samples = 0,
            |b| b.version = "a b".into(),
        ];
        for spoil in hostile {
            let mut b = good.clone();
            spoil(&mut b);
            assert!(b.validate().is_err(), "{b:?}");
        }
    }
}
