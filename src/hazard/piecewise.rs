//! Piecewise-constant functions of time on right-closed periods: the piecewise hazard, and the
//! hazard ratio of a relative hazard.

use super::error::{HazardError, Param, non_negative, positive};
use crate::time::Time;

/// A piecewise-constant function: `values[k]` on (breaks[k−1], breaks[k]], with breaks strictly
/// increasing, positive and finite, values finite and ≥ 0, and `values.len() == breaks.len() + 1`.
#[derive(Debug, Clone, PartialEq)]
pub struct Piecewise {
    breaks: Vec<Time>,
    values: Vec<f64>,
    /// ∫₀^{breaks[k]} of the function, so that inversion is a search, not a re-integration.
    integral_at_breaks: Vec<f64>,
    /// 1/values[k] (+∞ for 0): inversion multiplies instead of dividing (hot loop).
    reciprocals: Vec<f64>,
    /// Where piece k starts, and the integral there: (0, breaks…) and (0, integral_at_breaks…),
    /// so that inversion looks them up without a branch on k = 0.
    starts: Vec<Time>,
    before: Vec<f64>,
}

impl Piecewise {
    /// Checks, in this order, each break (positive and finite, then greater than the one
    /// before), each value (finite and ≥ 0), and the number of values; the first failure is
    /// the error.
    pub fn new(breaks: Vec<Time>, mut values: Vec<f64>) -> Result<Self, HazardError> {
        for (k, &b) in breaks.iter().enumerate() {
            positive(b, Param::Break(k))?;
            if let Some(&after) = k.checked_sub(1).and_then(|j| breaks.get(j))
                && b <= after
            // both finite (checked above), so no NaN here
            {
                return Err(HazardError::NotIncreasing { index: k, found: b, after });
            }
        }
        for (k, v) in values.iter_mut().enumerate() {
            *v = non_negative(*v, Param::Value(k))?;
        }
        if values.len() != breaks.len() + 1 {
            return Err(HazardError::WrongLength { breaks: breaks.len(), found: values.len() });
        }
        Ok(Piecewise::from_checked(breaks, values))
    }

    /// Builds a function whose invariants hold by construction (values derived from checked
    /// ones); no check, so it cannot fail where the checked parts were accepted.
    pub(super) fn from_checked(breaks: Vec<Time>, values: Vec<f64>) -> Self {
        assert_eq!(values.len(), breaks.len() + 1, "one value per piece");
        let mut acc = 0.0;
        let mut start = 0.0;
        let integral_at_breaks: Vec<f64> = breaks
            .iter()
            .zip(&values)
            .map(|(&b, &v)| {
                acc += v * (b - start);
                start = b;
                acc
            })
            .collect();
        let reciprocals = values.iter().map(|v| 1.0 / v).collect();
        let starts = std::iter::once(0.0).chain(breaks.iter().copied()).collect();
        let before = std::iter::once(0.0).chain(integral_at_breaks.iter().copied()).collect();
        Piecewise { breaks, values, integral_at_breaks, reciprocals, starts, before }
    }

    /// The breaks, strictly increasing.
    pub fn breaks(&self) -> &[Time] {
        &self.breaks
    }

    /// The values, one more than the breaks.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// ∫₀ᵗ of the function (t ≥ 0).
    pub(super) fn integral(&self, t: Time) -> f64 {
        let k = self.breaks.partition_point(|&b| b < t);
        let (before, start) =
            if k == 0 { (0.0, 0.0) } else { (self.integral_at_breaks[k - 1], self.breaks[k - 1]) };
        before + self.values[k] * (t - start)
    }

    /// The smallest t with ∫₀ᵗ ≥ e > 0 (+∞ if never).
    pub(super) fn inverse_integral(&self, e: f64) -> Time {
        // The piece where the integral reaches e: the number of breaks where it is still below
        // e. A count, not a search, for the few breaks a hazard has: no branch to mispredict.
        let below = &self.integral_at_breaks;
        let k = if below.len() <= 8 {
            below.iter().map(|&c| usize::from(c < e)).sum()
        } else {
            below.partition_point(|&c| c < e)
        };
        // Before the last piece, piece k is where the integral reaches e, so its value is > 0;
        // in a last piece of value 0, e − before > 0 times the reciprocal +∞ is +∞ (never).
        self.starts[k] + (e - self.before[k]) * self.reciprocals[k]
    }

    /// The value at t (right-closed pieces: t = breaks[k] belongs to piece k).
    pub fn at(&self, t: Time) -> f64 {
        let k = self.breaks.partition_point(|&b| b < t);
        self.values[k]
    }

    /// Start and end of piece k.
    pub(super) fn piece(&self, k: usize) -> (Time, Time) {
        let start = if k == 0 { 0.0 } else { self.breaks[k - 1] };
        let end = self.breaks.get(k).copied().unwrap_or(f64::INFINITY);
        (start, end)
    }

    pub(super) fn pieces(&self) -> impl Iterator<Item = (Time, Time, f64)> + '_ {
        (0..self.values.len()).map(move |k| {
            let (a, b) = self.piece(k);
            (a, b, self.values[k])
        })
    }
}
