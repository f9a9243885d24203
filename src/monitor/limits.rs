//! Control limits at a confidence: Hotelling's T² of a new sample against a model fitted on
//! `n` samples with `k` components, and the SPE (Q) by Jackson and Mudholkar (1979), falling
//! back to Box's (1954) scaled χ² when their approximation does not apply.

use statrs::distribution::{ChiSquared, ContinuousCDF, FisherSnedecor, Normal};

use super::MonitorError;

/// T²_α = k (n − 1)(n + 1) / (n (n − k)) · F_α(k, n − k).
pub fn t2_limit(confidence: f64, n: usize, k: usize) -> Result<f64, MonitorError> {
    if k == 0 || n <= k + 1 {
        return Err(MonitorError::TooFewSamples {
            found: n,
            needed: k + 2,
        });
    }
    let (n, k) = (n as f64, k as f64);
    let f = FisherSnedecor::new(k, n - k).map_err(distribution)?;
    Ok(k * (n - 1.0) * (n + 1.0) / (n * (n - k)) * f.inverse_cdf(confidence))
}

/// The SPE limit from the eigenvalues left out of the model.
pub fn spe_limit(confidence: f64, residual: &[f64]) -> Result<f64, MonitorError> {
    let theta = |i: i32| residual.iter().map(|l| l.max(0.0).powi(i)).sum::<f64>();
    let (t1, t2, t3) = (theta(1), theta(2), theta(3));
    if t1 <= f64::EPSILON {
        return Err(MonitorError::Invalid(
            "no variance is left outside the components".into(),
        ));
    }
    let h0 = 1.0 - 2.0 * t1 * t3 / (3.0 * t2 * t2);
    if h0 > 0.0 {
        let c = Normal::standard().inverse_cdf(confidence);
        let inner = c * (2.0 * t2 * h0 * h0).sqrt() / t1 + 1.0 + t2 * h0 * (h0 - 1.0) / (t1 * t1);
        if inner > 0.0 {
            return Ok(t1 * inner.powf(1.0 / h0));
        }
    }
    // Box: SPE ≈ g χ²_h with g = θ2 / θ1 and h = θ1² / θ2.
    let chi = ChiSquared::new(t1 * t1 / t2).map_err(distribution)?;
    Ok(t2 / t1 * chi.inverse_cdf(confidence))
}

fn distribution(e: impl std::fmt::Display) -> MonitorError {
    MonitorError::Distribution(e.to_string())
}
