//! The weights of a weighted log-rank statistic as a function of the pooled survival just before
//! each event time: Fleming–Harrington's Ŝ^ρ(1 − Ŝ)^γ, or the modestly weighted test's
//! 1/max(Ŝ, s*) (see `modestly_weighted`). One type for the statistic, its monitored
//! information and its expected null variance under the model.

use super::logrank::fh_weight;
use crate::time::Time;

/// Where MW weights stop growing: at a pooled survival s* in (0, 1], or at the pooled survival's
/// value at a time t* > 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cap {
    Survival(f64),
    Time(Time),
}

/// A weighted log-rank statistic's weight function.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Weighting {
    /// FH(ρ, γ): Ŝ(t−)^ρ (1 − Ŝ(t−))^γ.
    Fh { rho: f64, gamma: f64 },
    /// MW: 1 / max(Ŝ(t−), s*), s* given or Ŝ(t*).
    Mw(Cap),
}

impl Weighting {
    /// The weight at pooled survival `s` once MW's cap is the survival `floor` (0 before a time
    /// cap is reached; FH ignores it).
    #[inline]
    pub(crate) fn at_floor(self, s: f64, floor: f64) -> f64 {
        match self {
            Weighting::Fh { rho, gamma } => fh_weight(s, rho, gamma),
            Weighting::Mw(_) => 1.0 / s.max(floor),
        }
    }

    /// MW's cap as a survival, known before any time (0 for a time cap, and for FH).
    pub(crate) fn initial_floor(self) -> f64 {
        match self {
            Weighting::Mw(Cap::Survival(s)) => s,
            Weighting::Mw(Cap::Time(_)) | Weighting::Fh { .. } => 0.0,
        }
    }

    /// MW's cap time t*, if it has one.
    pub(crate) fn cap_time(self) -> Option<Time> {
        match self {
            Weighting::Mw(Cap::Time(t)) => Some(t),
            Weighting::Mw(Cap::Survival(_)) | Weighting::Fh { .. } => None,
        }
    }

    /// The weight along increasing event times (a time cap is frozen once passed).
    pub(crate) fn running(self) -> RunningWeight {
        RunningWeight { weighting: self, floor: self.initial_floor(), frozen: self.cap_time().is_none() }
    }
}

/// A [`Weighting`] evaluated at increasing times: the cap of a time t* is Ŝ(t−) at the first
/// time after t*, which is Ŝ(t*) (no event lies between).
pub(crate) struct RunningWeight {
    weighting: Weighting,
    floor: f64,
    /// Whether the floor is final (no time cap, or its time passed).
    frozen: bool,
}

impl RunningWeight {
    /// w at time `t` (not before the previous call's) with pooled survival Ŝ(t−) = `s`.
    #[inline]
    pub(crate) fn at(&mut self, t: Time, s: f64) -> f64 {
        if !self.frozen && self.weighting.cap_time().is_some_and(|t_star| t > t_star) {
            self.floor = s;
            self.frozen = true;
        }
        self.weighting.at_floor(s, self.floor)
    }
}
