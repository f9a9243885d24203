//! Fitting a model of normal operation from a unit's samples: rows far outside the bulk
//! (a robust z beyond `trim_z` on any indicator) are trimmed, the rest are standardised by
//! their mean and σ, and the principal components of their covariance (a correlation matrix)
//! are kept until they explain `variance` of it. Indicators that do not vary are left out.

use nalgebra::{DMatrix, SymmetricEigen};

use super::baseline::MAD_TO_SIGMA;
use super::limits::{spe_limit, t2_limit};
use super::model::{Baseline, MonitorModel, MAX_INDICATORS};
use super::MonitorError;

#[derive(Clone, Debug)]
pub struct FitOptions {
    /// Confidence of the T² and SPE limits.
    pub confidence: f64,
    /// Share of the standardised variance the retained components explain.
    pub variance: f64,
    /// Rows with a robust z beyond this on any indicator are left out of the fit.
    pub trim_z: f64,
    /// Fewer samples than this (or than 3 per indicator) fit no model.
    pub min_samples: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            confidence: 0.99,
            variance: 0.9,
            trim_z: 5.0,
            min_samples: 50,
        }
    }
}

/// What a model is fitted for.
#[derive(Clone, Debug)]
pub struct Unit {
    pub enterprise_id: String,
    pub unit: String,
    /// The columns of the samples.
    pub indicators: Vec<String>,
    pub sample_period_s: u32,
}

/// A fitted model, and the indicators left out because they did not vary.
#[derive(Debug)]
pub struct Fitted {
    pub model: MonitorModel,
    pub constant: Vec<String>,
    /// Rows trimmed as outliers.
    pub trimmed: usize,
    /// The share of the variance the retained components explain.
    pub explained: f64,
}

/// Fits `unit`'s model from `rows` (one value per indicator each, finite).
pub fn fit(unit: &Unit, rows: &[Vec<f64>], options: &FitOptions) -> Result<Fitted, MonitorError> {
    let p = unit.indicators.len();
    if p > MAX_INDICATORS || rows.iter().any(|r| r.len() != p) {
        return Err(MonitorError::Invalid(format!(
            "samples must have one value per indicator (at most {MAX_INDICATORS})"
        )));
    }
    let baselines: Vec<Baseline> = (0..p).map(|j| baseline(rows, j)).collect();
    let kept = untrimmed(rows, &baselines, options.trim_z);
    let (mean, sigma) = moments(&kept, p);
    let varying: Vec<usize> = (0..p)
        .filter(|&j| sigma[j] > 1e-9 * mean[j].abs().max(1.0))
        .collect();
    if varying.len() < 2 {
        return Err(MonitorError::NothingVaries);
    }
    let needed = options.min_samples.max(3 * varying.len());
    if kept.len() < needed {
        return Err(MonitorError::TooFewSamples {
            found: kept.len(),
            needed,
        });
    }
    let z = standardised(&kept, &varying, &mean, &sigma);
    let covariance = z.transpose() * &z / (kept.len() as f64 - 1.0);
    let (eigenvalues, vectors) = decompose(covariance)?;
    let total: f64 = eigenvalues.iter().sum();
    let k = retained(&eigenvalues, options.variance);
    let explained = eigenvalues[..k].iter().sum::<f64>() / total;
    let mut model = MonitorModel {
        model_id: MonitorModel::id_of(&unit.enterprise_id, &unit.unit),
        enterprise_id: unit.enterprise_id.clone(),
        unit: unit.unit.clone(),
        version: String::new(),
        indicators: varying
            .iter()
            .map(|&j| unit.indicators[j].clone())
            .collect(),
        sample_period_s: unit.sample_period_s,
        center: varying.iter().map(|&j| mean[j]).collect(),
        scale: varying.iter().map(|&j| sigma[j]).collect(),
        loadings: vectors[..k].to_vec(),
        t2_limit: t2_limit(options.confidence, kept.len(), k)?,
        spe_limit: spe_limit(options.confidence, &eigenvalues[k..])?,
        eigenvalues,
        confidence: options.confidence,
        trained_samples: u32::try_from(kept.len()).unwrap_or(u32::MAX),
        baselines: varying.iter().map(|&j| baselines[j].clone()).collect(),
    };
    model.exact_in_json();
    model.version = model.digest();
    model.validate()?;
    Ok(Fitted {
        constant: (0..p)
            .filter(|j| !varying.contains(j))
            .map(|j| unit.indicators[j].clone())
            .collect(),
        trimmed: rows.len() - kept.len(),
        explained,
        model,
    })
}

/// Median and MAD of column `j`.
fn baseline(rows: &[Vec<f64>], j: usize) -> Baseline {
    let mut values: Vec<f64> = rows.iter().map(|r| r[j]).collect();
    Baseline::of(&mut values)
}

/// The rows within `trim_z` robust σ of the median on every indicator that has a spread;
/// all rows if that would leave fewer than half.
fn untrimmed<'r>(rows: &'r [Vec<f64>], baselines: &[Baseline], trim_z: f64) -> Vec<&'r [f64]> {
    let inlier = |row: &&Vec<f64>| {
        row.iter()
            .zip(baselines)
            .all(|(x, b)| b.mad <= 0.0 || ((x - b.median) / (MAD_TO_SIGMA * b.mad)).abs() <= trim_z)
    };
    let kept: Vec<&[f64]> = rows.iter().filter(inlier).map(Vec::as_slice).collect();
    if kept.len() * 2 < rows.len() {
        return rows.iter().map(Vec::as_slice).collect();
    }
    kept
}

/// Mean and sample standard deviation of every column.
fn moments(rows: &[&[f64]], p: usize) -> (Vec<f64>, Vec<f64>) {
    let n = rows.len().max(1) as f64;
    let mean: Vec<f64> = (0..p)
        .map(|j| rows.iter().map(|r| r[j]).sum::<f64>() / n)
        .collect();
    let sigma = (0..p)
        .map(|j| {
            let ss: f64 = rows.iter().map(|r| (r[j] - mean[j]).powi(2)).sum();
            (ss / (n - 1.0).max(1.0)).sqrt()
        })
        .collect();
    (mean, sigma)
}

fn standardised(rows: &[&[f64]], columns: &[usize], mean: &[f64], sigma: &[f64]) -> DMatrix<f64> {
    DMatrix::from_fn(rows.len(), columns.len(), |i, c| {
        let j = columns[c];
        (rows[i][j] - mean[j]) / sigma[j]
    })
}

/// Eigenvalues, largest first (negative round-off clamped to 0), with their unit
/// eigenvectors, each signed so that its largest entry is positive (a deterministic model).
fn decompose(covariance: DMatrix<f64>) -> Result<(Vec<f64>, Vec<Vec<f64>>), MonitorError> {
    let p = covariance.nrows();
    let eigen =
        SymmetricEigen::try_new(covariance, 1e-12, 10_000).ok_or(MonitorError::Decomposition)?;
    let mut pairs: Vec<(f64, Vec<f64>)> = (0..p)
        .map(|i| {
            let mut v: Vec<f64> = eigen.eigenvectors.column(i).iter().copied().collect();
            let largest = v
                .iter()
                .copied()
                .fold(0.0, |m: f64, x| if x.abs() > m.abs() { x } else { m });
            if largest < 0.0 {
                v.iter_mut().for_each(|x| *x = -*x);
            }
            (eigen.eigenvalues[i].max(0.0), v)
        })
        .collect();
    if pairs
        .iter()
        .any(|(l, v)| !l.is_finite() || v.iter().any(|x| !x.is_finite()))
    {
        return Err(MonitorError::Decomposition);
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    Ok(pairs.into_iter().unzip())
}

/// Components until `variance` of the total is explained; always at least one, and always
/// one fewer than the indicators, so something is left for the SPE.
fn retained(eigenvalues: &[f64], variance: f64) -> usize {
    let total: f64 = eigenvalues.iter().sum();
    let mut explained = 0.0;
    for (i, l) in eigenvalues.iter().enumerate() {
        explained += l;
        if explained >= variance * total {
            return (i + 1).min(eigenvalues.len() - 1).max(1);
        }
    }
    eigenvalues.len() - 1
}

#[cfg(test)]
mod tests {
    use statrs::distribution::{ChiSquared, ContinuousCDF, StudentsT};

    use super::*;
    use crate::monitor::score;

    /// Two indicators, eight samples: both have mean 4.5 and σ √6, correlation ρ = 38/42.
    /// The standardised covariance [[1, ρ], [ρ, 1]] has eigenvalues 1 ± ρ along (1, 1)/√2
    /// and (1, −1)/√2, so one component keeps 95 % of the variance, and for a new sample
    /// T² = ((z1 + z2)/√2)² / (1 + ρ) and SPE = (z1 − z2)² / 2.
    fn worked_example() -> (Fitted, f64) {
        let x1 = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
        let x2 = [2.0, 1.0, 4.0, 3.0, 6.0, 5.0, 8.0, 7.0];
        let rows: Vec<Vec<f64>> = x1.iter().zip(&x2).map(|(a, b)| vec![*a, *b]).collect();
        let unit = Unit {
            enterprise_id: "33010200001".into(),
            unit: "plant".into(),
            indicators: vec!["A".into(), "B".into()],
            sample_period_s: 60,
        };
        let options = FitOptions {
            min_samples: 8,
            ..FitOptions::default()
        };
        (fit(&unit, &rows, &options).unwrap(), 38.0 / 42.0)
    }

    #[test]
    fn the_statistics_of_a_worked_example_match_their_closed_form() {
        let (fitted, rho) = worked_example();
        let model = &fitted.model;
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9 * b.abs().max(1.0);
        assert_eq!(model.components(), 1);
        assert!(close(model.center[0], 4.5) && close(model.scale[1], 6f64.sqrt()));
        assert!(close(model.eigenvalues[0], 1.0 + rho) && close(model.eigenvalues[1], 1.0 - rho));
        let s = score(model, &[7.0, 3.0]);
        let (z1, z2) = ((7.0 - 4.5) / 6f64.sqrt(), (3.0 - 4.5) / 6f64.sqrt());
        assert!(close(s.t2, ((z1 + z2) / 2f64.sqrt()).powi(2) / (1.0 + rho)));
        assert!(close(s.spe, (z1 - z2).powi(2) / 2.0));
        assert!(close(s.t2_contributions.iter().sum(), s.t2));
        assert!(close(s.spe_contributions.iter().sum(), s.spe));
        // Across the correlation both indicators share the SPE equally; along it there is
        // none.
        let shares: Vec<f64> = s.top(true, 2).iter().map(|c| c.share).collect();
        assert!(
            shares.iter().all(|share| (share - 0.5).abs() < 1e-9),
            "{shares:?}"
        );
        assert!(score(model, &[7.0, 7.0]).spe < 1e-12);
    }

    #[test]
    fn the_limits_of_a_worked_example_match_independent_quantiles() {
        let (fitted, rho) = worked_example();
        let model = &fitted.model;
        // k = 1, n = 8: T² limit = (n + 1)/n · F(1, n − 1), and F(1, m) = t(m)² two-sided.
        let t = StudentsT::new(0.0, 1.0, 7.0).unwrap().inverse_cdf(0.995);
        assert!((model.t2_limit - 9.0 / 8.0 * t * t).abs() < 1e-6 * model.t2_limit);
        // One residual direction: SPE / λ2 is χ²(1); Jackson–Mudholkar is within 1 % of it.
        let exact = (1.0 - rho) * ChiSquared::new(1.0).unwrap().inverse_cdf(0.99);
        assert!(
            (model.spe_limit / exact - 1.0).abs() < 0.01,
            "{} vs {exact}",
            model.spe_limit
        );
    }

    #[test]
    fn constant_indicators_are_left_out_and_outliers_trimmed() {
        let rows: Vec<Vec<f64>> = (0..60)
            .map(|i| {
                let a = (i as f64 * 0.7).sin();
                let b = a * 0.5 + (i as f64 * 1.3).cos();
                let c = (i as f64 * 2.9).sin();
                vec![a, 5.0, b, if i == 7 { 1e6 } else { c }]
            })
            .collect();
        let unit = Unit {
            enterprise_id: "33010200001".into(),
            unit: "plant".into(),
            indicators: vec!["A".into(), "K".into(), "B".into(), "C".into()],
            sample_period_s: 60,
        };
        let fitted = fit(&unit, &rows, &FitOptions::default()).unwrap();
        assert_eq!(fitted.constant, vec!["K".to_owned()]);
        assert_eq!(fitted.model.indicators, vec!["A", "B", "C"]);
        assert_eq!(fitted.trimmed, 1);
        assert!(
            fitted.model.center[2].abs() < 1.0,
            "the outlier is not in the mean"
        );
        let too_few = fit(&unit, &rows[..20], &FitOptions::default());
        assert!(matches!(too_few, Err(MonitorError::TooFewSamples { .. })));
    }
}
