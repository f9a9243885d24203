//! Scoring one sample against a model: Hotelling's T² in the retained components, the SPE
//! (Q) of what they leave, and how much each indicator contributes to each. T² contributions
//! are the complete decomposition z_j · (P Λ⁻¹ Pᵀ z)_j, which sums to T² (a term may be
//! negative); SPE contributions are the squared residuals, which sum to the SPE.

use super::MonitorModel;

#[derive(Clone, Debug, PartialEq)]
pub struct Score {
    pub t2: f64,
    pub spe: f64,
    pub t2_contributions: Vec<f64>,
    pub spe_contributions: Vec<f64>,
}

/// An indicator's part of a statistic.
#[derive(Clone, Debug, PartialEq)]
pub struct Contribution {
    /// The column (the model's `indicators` index).
    pub column: usize,
    /// Its share of the statistic.
    pub share: f64,
}

/// Scores `values` (one per model indicator, in its order) against a validated model.
pub fn score(model: &MonitorModel, values: &[f64]) -> Score {
    let z: Vec<f64> = values
        .iter()
        .zip(model.center.iter().zip(&model.scale))
        .map(|(x, (c, s))| (x - c) / s)
        .collect();
    let t: Vec<f64> = model.loadings.iter().map(|v| dot(v, &z)).collect();
    let mut weighted = vec![0.0; z.len()];
    let mut projected = vec![0.0; z.len()];
    for ((v, ti), l) in model.loadings.iter().zip(&t).zip(&model.eigenvalues) {
        for j in 0..z.len() {
            weighted[j] += v[j] * ti / l;
            projected[j] += v[j] * ti;
        }
    }
    let t2_contributions: Vec<f64> = z.iter().zip(&weighted).map(|(a, b)| a * b).collect();
    let spe_contributions: Vec<f64> = z
        .iter()
        .zip(&projected)
        .map(|(a, b)| (a - b).powi(2))
        .collect();
    Score {
        t2: t2_contributions.iter().sum(),
        spe: spe_contributions.iter().sum(),
        t2_contributions,
        spe_contributions,
    }
}

impl Score {
    /// The `n` columns contributing most to T² (`spe = false`) or the SPE, largest first.
    pub fn top(&self, spe: bool, n: usize) -> Vec<Contribution> {
        let (parts, total) = if spe {
            (&self.spe_contributions, self.spe)
        } else {
            (&self.t2_contributions, self.t2)
        };
        let mut columns: Vec<usize> = (0..parts.len()).collect();
        columns.sort_by(|a, b| parts[*b].total_cmp(&parts[*a]).then(a.cmp(b)));
        columns
            .into_iter()
            .take(n)
            .map(|column| Contribution {
                column,
                share: if total > 0.0 {
                    parts[column] / total
                } else {
                    0.0
                },
            })
            .collect()
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
