//! Why a hazard's parameters were rejected.

/// Why a hazard's parameters were rejected. Scenario validation turns it into a message that
/// points at the value in the file.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum HazardError {
    /// A parameter outside its range ([`Param::expected`]); NaN and ±∞ are always outside.
    #[error("{param}: expected {}, found {found}", param.expected())]
    OutOfRange { param: Param, found: f64 },
    /// `breaks[index]` is not greater than the break before it.
    #[error("breaks must be strictly increasing: found {found} after {after}")]
    NotIncreasing { index: usize, found: f64, after: f64 },
    /// A piecewise function needs one value more than it has breaks.
    #[error("expected {} values (one more than the {breaks} breaks), found {found}", breaks + 1)]
    WrongLength { breaks: usize, found: usize },
    /// The base of a relative hazard is itself relative.
    #[error("the base of a relative hazard must be absolute")]
    RelativeBase,
}

/// A hazard parameter, for [`HazardError::OutOfRange`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    Rate,
    Shape,
    Scale,
    Risk,
    Within,
    /// `breaks[k]` of a piecewise function.
    Break(usize),
    /// `values[k]` of a piecewise function (rates, or hazard ratios).
    Value(usize),
}

impl Param {
    /// What the parameter must be.
    pub fn expected(self) -> &'static str {
        match self {
            Param::Rate => "a rate ≥ 0",
            Param::Shape => "a shape > 0",
            Param::Scale => "a scale > 0",
            Param::Risk => "a risk in [0, 1)",
            Param::Within => "a time > 0",
            Param::Break(_) => "a positive time",
            Param::Value(_) => "a value ≥ 0",
        }
    }
}

impl std::fmt::Display for Param {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Param::Rate => f.write_str("rate"),
            Param::Shape => f.write_str("shape"),
            Param::Scale => f.write_str("scale"),
            Param::Risk => f.write_str("risk"),
            Param::Within => f.write_str("within"),
            Param::Break(k) => write!(f, "breaks[{k}]"),
            Param::Value(k) => write!(f, "values[{k}]"),
        }
    }
}

// The checks are written `!(x > 0.0 && x < ∞)` (rand_distr's idiom) or `!range.contains(&x)`:
// NaN fails every comparison, so it is rejected with the other bad values; so is ∞, never a
// valid parameter.

/// `x` must be finite and > 0.
pub(super) fn positive(x: f64, param: Param) -> Result<f64, HazardError> {
    if !(x > 0.0 && x < f64::INFINITY) {
        return Err(HazardError::OutOfRange { param, found: x });
    }
    Ok(x)
}

/// `x` must be finite and ≥ 0. Returns +0.0 for −0.0: −0.0 passes `≥ 0` but its reciprocal is
/// −∞ (a hazard ratio of −0.0 once made every event time −∞).
pub(super) fn non_negative(x: f64, param: Param) -> Result<f64, HazardError> {
    if !(0.0..f64::INFINITY).contains(&x) {
        return Err(HazardError::OutOfRange { param, found: x });
    }
    Ok(x + 0.0)
}
