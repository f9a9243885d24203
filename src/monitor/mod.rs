//! Learned multivariate process monitoring (issue 22). A model of a unit's normal operation
//! (`model`): standardisation, principal components, and control limits on Hotelling's T² and
//! the squared prediction error (SPE, Q), fitted from samples of normal operation (`fit`,
//! `limits`), scores each new sample with the indicators contributing most (`score`).
//! Samples are the unit's indicators' latest values at each sample boundary (`sample`), the
//! same alignment when learning from a recorded stream and when monitoring a live one.
//! Single indicators are measured against their own robust baselines (`baseline`).

pub mod baseline;
pub mod fit;
pub mod limits;
pub mod model;
pub mod sample;
pub mod score;

pub use baseline::IndicatorBaseline;
pub use fit::{fit, FitOptions};
pub use model::{Baseline, MonitorModel};
pub use sample::{Aligner, Sample};
pub use score::{score, Contribution, Score};

/// Why a model cannot be fitted or used.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MonitorError {
    #[error("{found} samples of normal operation; at least {needed} are needed")]
    TooFewSamples { found: usize, needed: usize },
    #[error("no indicator varies in the normal run")]
    NothingVaries,
    #[error("the covariance has no usable eigen decomposition")]
    Decomposition,
    #[error("invalid model: {0}")]
    Invalid(String),
    #[error("{0}")]
    Distribution(String),
}
