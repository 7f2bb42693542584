//! The one place the sign convention is applied: **z < 0 favours the experimental arm**.
//!
//! One-sided (`sides = 1`): reject when z < −z_{1−α}. Two-sided (`sides = 2`, α the total
//! level): reject when |z| > z_{1−α/2}; a rejection with z < 0 counts as power, with z > 0 as
//! `reject_harm`. NaN never rejects.

use super::normal;

/// One- or two-sided testing (`analysis.sides`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sides {
    One,
    Two,
}

/// What a test concluded in one trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Significant in favour of the experimental arm.
    Benefit,
    /// Significant against the experimental arm (two-sided tests only).
    Harm,
    /// Not significant.
    None,
    /// The statistic could not be computed (NaN z).
    NotEstimable,
}

/// The critical value: z_{1−α} one-sided, z_{1−α/2} two-sided.
pub(crate) fn critical_value(alpha: f64, sides: Sides) -> f64 {
    match sides {
        Sides::One => normal::quantile(1.0 - alpha),
        Sides::Two => normal::quantile(1.0 - alpha / 2.0),
    }
}

/// The z statistic of a difference experimental − control with standard error `se`:
/// z = −diff/SE, so that z < 0 favours the experimental arm; NaN when SE is not positive.
pub(crate) fn benefit_z(diff: f64, se: f64) -> f64 {
    if se > 0.0 { -diff / se } else { f64::NAN }
}

/// The decision of a test that decides by its own rule (MaxCombo's bounds or p-value): `reject`
/// says whether it rejects, the sign of z which way.
pub(crate) fn decide_rejection(z: f64, reject: bool) -> Decision {
    if z.is_nan() {
        Decision::NotEstimable
    } else if !reject {
        Decision::None
    } else if z < 0.0 {
        Decision::Benefit
    } else {
        Decision::Harm
    }
}

/// Classifies z against the critical value `crit` (from [`critical_value`]).
pub(crate) fn decide(z: f64, crit: f64, sides: Sides) -> Decision {
    if z.is_nan() {
        Decision::NotEstimable
    } else if z < -crit {
        Decision::Benefit
    } else if sides == Sides::Two && z > crit {
        Decision::Harm
    } else {
        Decision::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_z_favours_experimental() {
        let c = critical_value(0.025, Sides::One);
        assert_eq!(decide(-2.5, c, Sides::One), Decision::Benefit);
        assert_eq!(decide(2.5, c, Sides::One), Decision::None);
        assert_eq!(decide(-1.9, c, Sides::One), Decision::None);
        assert_eq!(decide(f64::NAN, c, Sides::One), Decision::NotEstimable);
        let c2 = critical_value(0.05, Sides::Two);
        assert!((c - c2).abs() < 1e-15);
        assert_eq!(decide(2.5, c2, Sides::Two), Decision::Harm);
        assert_eq!(decide(-2.5, c2, Sides::Two), Decision::Benefit);
    }

    #[test]
    fn a_better_experimental_arm_gives_negative_z() {
        assert_eq!(benefit_z(0.1, 0.05), -2.0);
        assert!(benefit_z(0.1, 0.0).is_nan() && benefit_z(0.1, f64::NAN).is_nan());
        assert_eq!(decide_rejection(-3.0, true), Decision::Benefit);
        assert_eq!(decide_rejection(3.0, true), Decision::Harm);
        assert_eq!(decide_rejection(-3.0, false), Decision::None);
        assert_eq!(decide_rejection(f64::NAN, true), Decision::NotEstimable);
    }
}
