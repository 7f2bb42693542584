//! Continuous outcomes measured at assessments, and hierarchical composite endpoints that rank
//! them after time-to-event layers (docs/composite.md).
//!
//! A patient's outcomes are multivariate normal: outcome o at assessment a has mean μ_{arm,o,a}
//! and SD σ_{arm,o,a}, and the standardised values have correlation R_{o,o'} · C_{a,a'} — R
//! between outcomes at one assessment (`[assessments] correlations`), C exchangeable between
//! assessments of one outcome (`over_time`). A patient is measured at assessment a only when
//! entered at least a before the cut, not lost to follow-up before a, and free of every cause of
//! `not_measured_after` up to a; otherwise the value is missing (the hierarchy decides such a
//! patient on a layer above, or the pair ties on this one).

use crate::time::Time;

/// `[outcomes.NAME]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub name: String,
    pub label: String,
    pub unit: String,
    /// Whether a higher value is better (`better = "higher"`).
    pub higher_is_better: bool,
}

/// `[assessments]`: when outcomes are measured and how they correlate.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessments {
    /// Times from randomisation, increasing.
    pub at: Vec<Time>,
    /// Correlation of one outcome between two assessments, in [0, 1).
    pub over_time: f64,
    /// Between outcomes at one assessment, `o * outcomes + o'` (positive definite).
    pub correlation: Vec<f64>,
    /// The Cholesky factors (row-major, lower) of `correlation` and of the exchangeable
    /// correlation between assessments: what each patient's draws are mixed with.
    pub chol_outcomes: Vec<f64>,
    pub chol_times: Vec<f64>,
    /// Causes (indices into `Scenario::causes`) after which a patient is not measured.
    pub not_measured_after: Vec<usize>,
}

/// One arm's distribution of an outcome: mean and SD at each assessment.
#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeModel {
    pub mean: Vec<f64>,
    pub sd: Vec<f64>,
}

/// `[endpoints.NAME] layers = [...]`: a hierarchy compared pair by pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Composite {
    pub name: String,
    pub label: String,
    pub layers: Vec<CompositeLayer>,
}

/// One layer of a composite.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CompositeLayer {
    /// Time to the first cause of a time-to-event endpoint (index into `Scenario::endpoints`),
    /// compared over the pair's common follow-up up to `until` (none: the whole follow-up).
    Event { endpoint: usize, until: Option<Time> },
    /// Outcome `outcome` at assessment `at` (indices into `Scenario::outcomes` and
    /// `Assessments::at`); a difference beyond `margin` decides.
    Outcome { outcome: usize, at: usize, margin: f64 },
}

/// Cholesky factor L (row-major, lower) of a symmetric k×k matrix, or `None` when it is not
/// positive definite.
pub fn cholesky(a: &[f64], k: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..=i {
            let s: f64 = (0..j).map(|m| l[i * k + m] * l[j * k + m]).sum();
            if i == j {
                let d = a[i * k + i] - s;
                if d.is_nan() || d <= 1e-12 {
                    return None;
                }
                l[i * k + i] = d.sqrt();
            } else {
                l[i * k + j] = (a[i * k + j] - s) / l[j * k + j];
            }
        }
    }
    Some(l)
}

/// The exchangeable correlation of `m` assessments with off-diagonal `rho`.
pub fn exchangeable(m: usize, rho: f64) -> Vec<f64> {
    (0..m * m).map(|x| if x / m == x % m { 1.0 } else { rho }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_reproduces_the_matrix_and_refuses_indefinite_ones() {
        let a = [1.0, 0.5, 0.2, 0.5, 1.0, -0.3, 0.2, -0.3, 1.0];
        let l = cholesky(&a, 3).expect("positive definite");
        for i in 0..3 {
            for j in 0..3 {
                let x: f64 = (0..3).map(|m| l[i * 3 + m] * l[j * 3 + m]).sum();
                assert!((x - a[i * 3 + j]).abs() < 1e-15);
            }
        }
        assert!(cholesky(&[1.0, 0.9, 0.9, 0.9, 1.0, -0.9, 0.9, -0.9, 1.0], 3).is_none());
    }
}
